//! Pub/sub commands (to be written); `reset` is used by RESET.
use super::Command;
use crate::server::client::Client;
use crate::server::state::Server;

pub static COMMANDS: &[Command] = &[];

/// Drops every subscription of a client (RESET, disconnect).
pub fn reset(srv: &mut Server, c: &mut Client) {
    for ch in c.channels.drain() {
        if let Some(v) = srv.channels.get_mut(&ch) {
            v.retain(|&x| x != c.id);
            if v.is_empty() {
                srv.channels.remove(&ch);
            }
        }
    }
    for p in c.patterns.drain() {
        if let Some(v) = srv.patterns.get_mut(&p) {
            v.retain(|&x| x != c.id);
            if v.is_empty() {
                srv.patterns.remove(&p);
            }
        }
    }
}
