//! The bundled Redis-compatible server.
pub mod config;
pub mod resp;
pub mod startup;
pub mod util;
