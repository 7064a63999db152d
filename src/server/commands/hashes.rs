//! hashes commands (to be written).
use super::Command;

pub static COMMANDS: &[Command] = &[];
