//! tripod's library crate: the bundled Redis-compatible server.
//!
//! The CLI lives in the `tripod` binary (src/main.rs, src/cli/) and does not link
//! through here, so `tripod-server` stays free of OpenSSL and libssh2.
pub mod server;

#[global_allocator]
static ALLOC: server::memory::CountingAlloc = server::memory::CountingAlloc;
