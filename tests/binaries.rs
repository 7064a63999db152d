//! The two binaries as they are shipped: `tripod-server` is a static executable that runs from
//! an empty root, `tripod` needs nothing beyond the C library (no system OpenSSL), and the
//! README's quickstart asks for nothing but Rust and a C compiler.
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn server_bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_tripod-server"))
}

/// ELF facts read from the file itself (no `file` or `readelf` needed): the type (2 = a fixed
/// address executable, 3 = shared object or PIE) and whether a program header asks for a
/// dynamic loader (PT_INTERP).
fn elf_type_and_interp(path: &Path) -> (u16, bool) {
    let b = std::fs::read(path).unwrap();
    assert_eq!(&b[..4], b"\x7fELF", "{} is not ELF", path.display());
    assert_eq!(b[4], 2, "64-bit");
    let u16_at = |o: usize| u16::from_le_bytes([b[o], b[o + 1]]);
    let u64_at = |o: usize| u64::from_le_bytes(b[o..o + 8].try_into().unwrap());
    let e_type = u16_at(16);
    let phoff = u64_at(32) as usize;
    let phentsize = u16_at(54) as usize;
    let phnum = u16_at(56) as usize;
    let interp = (0..phnum).any(|i| {
        let o = phoff + i * phentsize;
        u32::from_le_bytes(b[o..o + 4].try_into().unwrap()) == 3
    });
    (e_type, interp)
}

#[test]
fn server_binary_is_a_static_executable() {
    let (e_type, interp) = elf_type_and_interp(&server_bin());
    assert_eq!(
        e_type, 2,
        "tripod-server must be a static (non-PIE) executable"
    );
    assert!(!interp, "tripod-server must not ask for a dynamic loader");
    let out = Command::new("ldd").arg(server_bin()).output().unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        text.contains("not a dynamic executable"),
        "ldd says: {text}"
    );
}

#[test]
fn cli_binary_needs_only_the_c_library() {
    let bin = PathBuf::from(env!("CARGO_BIN_EXE_tripod"));
    let out = Command::new("ldd").arg(&bin).output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    for line in text.lines() {
        let lib = line.split_whitespace().next().unwrap_or("");
        let ok = [
            "linux-vdso",
            "/lib64/ld-linux",
            "libc.so",
            "libm.so",
            "libgcc_s.so",
        ]
        .iter()
        .any(|p| lib.starts_with(p));
        assert!(
            ok,
            "tripod must need nothing but the C library; found {line}"
        );
    }
}

struct Kill(std::process::Child);
impl Drop for Kill {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// The server in a root that holds nothing but itself: no /etc, no /lib, no /dev. It must
/// start and answer PING (a dynamic binary fails at exec: there is no loader).
#[test]
fn server_runs_from_an_empty_root() {
    if unsafe_geteuid() != 0 {
        panic!("this test needs root for chroot (tests/run.sh runs as root)");
    }
    let root = tempfile::tempdir().unwrap();
    std::fs::copy(server_bin(), root.path().join("tripod-server")).unwrap();
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let child = Command::new("chroot")
        .arg(root.path())
        .args(["/tripod-server", "--port", &port.to_string()])
        .args(["--bind", "127.0.0.1", "--save", "", "--dir", "/"])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let _guard = Kill(child);
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut s = loop {
        match std::net::TcpStream::connect(("127.0.0.1", port)) {
            Ok(s) => break s,
            Err(e) if Instant::now() > deadline => {
                panic!("no answer from the chrooted server: {e}")
            }
            Err(_) => std::thread::sleep(Duration::from_millis(20)),
        }
    };
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    s.write_all(b"PING\r\n").unwrap();
    let mut buf = [0u8; 7];
    s.read_exact(&mut buf).unwrap();
    assert_eq!(&buf, b"+PONG\r\n");
}

fn unsafe_geteuid() -> u32 {
    // SAFETY: geteuid has no preconditions and cannot fail.
    unsafe { libc::geteuid() }
}

/// The README's quickstart is one command for a fresh machine: no `sudo` (a container's root
/// has none), no system OpenSSL headers to install (ssh2 builds its own).
#[test]
fn readme_quickstart_needs_no_sudo_and_no_system_openssl() {
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    let start = readme.find("```sh\n").expect("a sh block") + 6;
    let first = readme[start..].lines().next().unwrap();
    assert!(first.starts_with("cargo build --release"), "{first}");
    assert!(
        !first.contains("sudo") && !first.contains("libssl"),
        "{first}"
    );
}
