//! The keyspace: numbered databases of keys, each with a value and an optional
//! expiry time, kept in `dict::Dict` tables.
pub mod db;

pub use db::{Db, Entry};
