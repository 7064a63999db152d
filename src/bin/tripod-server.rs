//! `tripod-server [CONFIG_FILE] [--directive value ...]`: the bundled server.
fn main() {
    std::process::exit(tripod::server::startup::main());
}
