//! One module per subcommand.
pub mod deploy;
pub mod promote;
pub mod render;
pub mod status;
pub mod stop;
pub mod write_test;
