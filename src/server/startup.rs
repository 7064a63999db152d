//! Command line, configuration, daemonizing and the main loop (placeholder).
pub fn main() -> i32 {
    0
}
