//! The bundled Redis-compatible server.
pub mod startup;
