//! The keyspace: numbered databases of keys, each with a value and an optional
//! expiry time, and the hash table they live in.
pub mod db;
pub mod dict;

pub use db::{Db, Entry};
pub use dict::Dict;
