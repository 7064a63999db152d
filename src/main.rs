//! `tripod`: deploy and operate a Redis master/replica group over SSH.
mod cli;

fn main() {
    std::process::exit(cli::main());
}
