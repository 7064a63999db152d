//! The CLI's error type: a message for the user plus the exit status it maps to.
use std::fmt;

/// Exit status for a failed operation or an unhealthy group.
pub const EXIT_FAILED: i32 = 1;
/// Exit status for bad usage or a bad inventory.
pub const EXIT_USAGE: i32 = 2;

#[derive(Debug)]
pub struct Error {
    pub code: i32,
    pub message: String,
}

impl Error {
    /// An operation failed (exit status 1).
    pub fn failed(message: impl Into<String>) -> Self {
        Error {
            code: EXIT_FAILED,
            message: message.into(),
        }
    }
    /// Bad usage or a bad inventory (exit status 2).
    pub fn usage(message: impl Into<String>) -> Self {
        Error {
            code: EXIT_USAGE,
            message: message.into(),
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Error {}

pub type Result<T> = std::result::Result<T, Error>;

/// Adds a "what was being done" prefix to any displayable error.
pub trait Context<T> {
    fn context(self, what: impl FnOnce() -> String) -> Result<T>;
}

impl<T, E: fmt::Display> Context<T> for std::result::Result<T, E> {
    fn context(self, what: impl FnOnce() -> String) -> Result<T> {
        self.map_err(|e| Error::failed(format!("{}: {e}", what())))
    }
}
