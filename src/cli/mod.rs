//! The tripod CLI (placeholder until the CLI lands).
pub fn main() -> i32 {
    eprintln!("tripod: not implemented yet");
    2
}
