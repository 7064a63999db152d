//! The CLI's flows with `connection: local` (no SSH), on free ports.
mod cli_common;
use cli_common::*;

#[test]
fn local_group_full_flow() {
    let dir = tempfile::Builder::new()
        .prefix("tripod-local-")
        .tempdir()
        .unwrap();
    let inv = dir.path().join("local.yaml");
    let ports = [free_port(), free_port(), free_port()];
    write_inventory(
        &inv,
        "local",
        "",
        ["127.0.0.1", "127.0.0.1", "127.0.0.1"],
        ports,
        dir.path(),
        "s3cret-pw",
    );
    struct Cleanup(std::path::PathBuf);
    impl Drop for Cleanup {
        fn drop(&mut self) {
            kill_servers_under(&self.0);
        }
    }
    let _cleanup = Cleanup(dir.path().to_path_buf());
    full_flow(&inv, dir.path());
}

#[test]
fn shipped_local_inventory_is_valid() {
    let o = tripod(&["render", "inventories/local.yaml"]);
    assert_eq!(code(&o), 0);
    assert!(stdout(&o).contains("requirepass ********"));
    assert!(!stdout(&o).contains("123456"));
}
