//! SSH with ssh2 (libssh2): key from identity_file or the ssh-agent, host keys checked against
//! known_hosts (`strict`, `accept-new`, `off`; a changed key is always refused).
use std::io::{Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::sync::Mutex;

use ssh2::{CheckResult, HashType, HostKeyType, KnownHostFileKind, Session};

use super::{sh_quote, temp_name, Output, Transport};
use crate::cli::error::{Error, Result};
use crate::cli::inventory::{Host, HostKeyChecking};

/// Serializes appends to known_hosts when several hosts are new at once.
static KNOWN_HOSTS_LOCK: Mutex<()> = Mutex::new(());

/// Whether `accept-new` writes new host keys to known_hosts (off for `deploy --dry-run`,
/// which changes nothing: the key is accepted for this run only).
static RECORD_NEW_KEYS: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(true);

/// Whether `accept-new` writes a new host key to known_hosts (false for `--dry-run`, which
/// accepts it for the run only).
pub fn set_record_new_host_keys(on: bool) {
    RECORD_NEW_KEYS.store(on, std::sync::atomic::Ordering::Relaxed);
}

pub struct Ssh {
    session: Session,
    name: String,
}

impl Ssh {
    /// Connects, checks the host key against known_hosts as the inventory says, and
    /// authenticates (identity file or agent); errors name the host and what to do.
    pub fn connect(host: &Host) -> Result<Ssh> {
        let s = &host.ssh;
        let name = host.name.clone();
        let target = format!("{}:{}", host.address, s.port);
        let fail = |what: String| Error::failed(format!("host {name} ({target}): {what}"));
        let addrs: Vec<_> = (host.address.as_str(), s.port)
            .to_socket_addrs()
            .map_err(|e| fail(format!("cannot resolve the address: {e}")))?
            .collect();
        let mut last = None;
        let mut tcp = None;
        for a in addrs {
            match TcpStream::connect_timeout(&a, s.connect_timeout) {
                Ok(t) => {
                    tcp = Some(t);
                    break;
                }
                Err(e) => last = Some(e),
            }
        }
        let tcp = tcp.ok_or_else(|| {
            fail(format!(
                "cannot connect over SSH: {} (is sshd running and the port right? timeout {:?})",
                last.map(|e| e.to_string())
                    .unwrap_or_else(|| "no address".into()),
                s.connect_timeout
            ))
        })?;
        let _ = tcp.set_nodelay(true);
        let mut session = Session::new().map_err(|e| fail(format!("libssh2: {e}")))?;
        session.set_timeout(s.connect_timeout.as_millis().max(1000) as u32);
        session.set_tcp_stream(tcp);
        // Ask for the host key types known_hosts already holds for this host, so a host with
        // several keys is checked against the one on record (as OpenSSH does).
        let known = known_key_types(&s.known_hosts, &known_hosts_name(&host.address, s.port));
        if !known.is_empty() {
            let _ = session.method_pref(ssh2::MethodType::HostKey, &known.join(","));
        }
        session
            .handshake()
            .map_err(|e| fail(format!("SSH handshake failed: {e}")))?;
        check_host_key(&session, host).map_err(&fail)?;
        let auth = match &s.identity_file {
            Some(key) => session.userauth_pubkey_file(&s.user, None, key, None).map_err(|e| {
                format!(
                    "the server refused the key {} for user {}: {e} (is its public key in ~{}/.ssh/authorized_keys there? a passphrase-protected key needs the ssh-agent)",
                    key.display(),
                    s.user,
                    s.user
                )
            }),
            None => session.userauth_agent(&s.user).map_err(|e| {
                format!(
                    "authentication as {} with the ssh-agent failed: {e} (set ssh.identity_file, or start ssh-agent and ssh-add a key)",
                    s.user
                )
            }),
        };
        auth.map_err(&fail)?;
        if !session.authenticated() {
            return Err(fail(format!("authentication as {} failed", s.user)));
        }
        // Operations (uploads, waits) get more time than the connect.
        session.set_timeout(120_000);
        Ok(Ssh { session, name })
    }

    fn exec(&mut self, cmd: &str, stdin: Option<&[u8]>) -> Result<Output> {
        let name = self.name.clone();
        let fail = |e: ssh2::Error| Error::failed(format!("host {name}: SSH: {e}"));
        let io = |e: std::io::Error| Error::failed(format!("host {}: SSH: {e}", self.name));
        let mut ch = self.session.channel_session().map_err(fail)?;
        ch.exec(cmd).map_err(fail)?;
        if let Some(data) = stdin {
            ch.write_all(data).map_err(io)?;
        }
        ch.send_eof().map_err(fail)?;
        let mut stdout = Vec::new();
        ch.read_to_end(&mut stdout).map_err(io)?;
        let mut stderr = Vec::new();
        ch.stderr().read_to_end(&mut stderr).map_err(io)?;
        ch.wait_close().map_err(fail)?;
        let status = ch.exit_status().map_err(fail)?;
        Ok(Output {
            status,
            stdout: String::from_utf8_lossy(&stdout).into_owned(),
            stderr: String::from_utf8_lossy(&stderr).into_owned(),
        })
    }
}

impl Transport for Ssh {
    fn run(&mut self, cmd: &str) -> Result<Output> {
        self.exec(cmd, None)
    }

    fn upload(&mut self, data: &[u8], path: &str, mode: u32) -> Result<()> {
        let tmp = sh_quote(&temp_name(path));
        let cmd = format!(
            "if [ -d {dst} ]; then echo {dst}: is a directory >&2; exit 1; fi; \
             umask 077 && cat > {tmp} && chmod {mode:o} {tmp} && mv -f {tmp} {dst} || {{ rm -f {tmp}; exit 1; }}",
            dst = sh_quote(path)
        );
        let out = self.exec(&cmd, Some(data))?;
        if out.ok() {
            Ok(())
        } else {
            Err(Error::failed(format!(
                "host {}: uploading {path} failed: {}",
                self.name,
                out.diagnostic()
            )))
        }
    }
}

fn key_type_name(t: HostKeyType) -> &'static str {
    match t {
        HostKeyType::Rsa => "ssh-rsa",
        HostKeyType::Dss => "ssh-dss",
        HostKeyType::Ecdsa256 => "ecdsa-sha2-nistp256",
        HostKeyType::Ecdsa384 => "ecdsa-sha2-nistp384",
        HostKeyType::Ecdsa521 => "ecdsa-sha2-nistp521",
        HostKeyType::Ed25519 => "ssh-ed25519",
        HostKeyType::Unknown => "unknown",
    }
}

/// The host pattern OpenSSH writes: `addr`, or `[addr]:port` when the port is not 22.
fn known_hosts_name(address: &str, port: u16) -> String {
    if port == 22 {
        address.to_string()
    } else {
        format!("[{address}]:{port}")
    }
}

/// Host key algorithms for the key types recorded (unhashed) for `pattern` in known_hosts.
fn known_key_types(path: &std::path::Path, pattern: &str) -> Vec<&'static str> {
    let Ok(text) = std::fs::read_to_string(path) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for line in text.lines() {
        let mut f = line.split_whitespace();
        let (Some(hosts), Some(kind)) = (f.next(), f.next()) else {
            continue;
        };
        if hosts.starts_with('#') || !hosts.split(',').any(|h| host_matches(h, pattern)) {
            continue;
        }
        let algs: &[&'static str] = match kind {
            "ssh-ed25519" => &["ssh-ed25519"],
            "ecdsa-sha2-nistp256" => &["ecdsa-sha2-nistp256"],
            "ecdsa-sha2-nistp384" => &["ecdsa-sha2-nistp384"],
            "ecdsa-sha2-nistp521" => &["ecdsa-sha2-nistp521"],
            "ssh-rsa" => &["rsa-sha2-512", "rsa-sha2-256", "ssh-rsa"],
            _ => &[],
        };
        for a in algs {
            if !out.contains(a) {
                out.push(*a);
            }
        }
    }
    out
}

fn check_host_key(session: &Session, host: &Host) -> std::result::Result<(), String> {
    let s = &host.ssh;
    let (key, ktype) = session
        .host_key()
        .ok_or_else(|| "the server sent no host key".to_string())?;
    let fingerprint = session
        .host_key_hash(HashType::Sha256)
        .map(|h| format!("SHA256:{}", base64(h).trim_end_matches('=')))
        .unwrap_or_else(|| "SHA256:?".into());
    let tname = key_type_name(ktype);
    let path = &s.known_hosts;
    let mut kh = session
        .known_hosts()
        .map_err(|e| format!("libssh2 known hosts: {e}"))?;
    if path.exists() {
        kh.read_file(path, KnownHostFileKind::OpenSSH)
            .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    }
    let pattern = known_hosts_name(&host.address, s.port);
    match kh.check_port(&host.address, s.port, key) {
        CheckResult::Match => Ok(()),
        CheckResult::Mismatch => Err(format!(
            "\n@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@\n\
             @    WARNING: REMOTE HOST IDENTIFICATION HAS CHANGED!     @\n\
             @@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@\n\
             IT IS POSSIBLE THAT SOMEONE IS DOING SOMETHING NASTY!\n\
             Someone could be eavesdropping on you right now (man-in-the-middle attack)!\n\
             It is also possible that a host key has just been changed.\n\
             The fingerprint for the {tname} key sent by the remote host {pattern} is\n{fingerprint}.\n\
             It does not match the key recorded in {}.\n\
             tripod refuses to connect (whatever host_key_checking says). If the change is expected, remove the old key with:\n  \
             ssh-keygen -f \"{}\" -R \"{pattern}\"",
            path.display(),
            path.display()
        )),
        CheckResult::NotFound => match s.host_key_checking {
            HostKeyChecking::Strict => Err(format!(
                "host key verification failed: {pattern} is not in {} and host_key_checking is strict. \
                 The {tname} key fingerprint is {fingerprint}; if that is right, add it (for example with \
                 `ssh-keyscan -p {} {} >> {}`) or use host_key_checking: accept-new",
                path.display(),
                s.port,
                host.address,
                path.display()
            )),
            HostKeyChecking::AcceptNew if !RECORD_NEW_KEYS.load(std::sync::atomic::Ordering::Relaxed) => {
                eprintln!(
                    "tripod: host {}: new host key {pattern} ({tname} {fingerprint}) accepted for this dry run, not recorded",
                    host.name
                );
                Ok(())
            }
            HostKeyChecking::AcceptNew => {
                let line = format!("{pattern} {tname} {}\n", base64(key));
                append_known_host(path, &line)
                    .map_err(|e| format!("cannot record the new host key in {}: {e}", path.display()))?;
                eprintln!(
                    "tripod: host {}: permanently added {pattern} ({tname} {fingerprint}) to {}",
                    host.name,
                    path.display()
                );
                Ok(())
            }
            HostKeyChecking::Off => Ok(()),
        },
        CheckResult::Failure => Err(format!(
            "checking the host key against {} failed",
            path.display()
        )),
    }
}

fn append_known_host(path: &std::path::Path, line: &str) -> std::io::Result<()> {
    use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
    let _guard = KNOWN_HOSTS_LOCK.lock().unwrap_or_else(|p| p.into_inner());
    if let Some(dir) = path.parent() {
        if !dir.as_os_str().is_empty() && !dir.exists() {
            std::fs::DirBuilder::new()
                .recursive(true)
                .mode(0o700)
                .create(dir)?;
        }
    }
    let mut f = std::fs::OpenOptions::new()
        .append(true)
        .create(true)
        .mode(0o600)
        .open(path)?;
    // Keep the file line-oriented when its last line lacks a newline.
    let len = f.metadata()?.len();
    if len > 0 {
        let mut last = [0u8; 1];
        let mut r = std::fs::File::open(path)?;
        use std::io::Seek;
        r.seek(std::io::SeekFrom::Start(len - 1))?;
        r.read_exact(&mut last)?;
        if last[0] != b'\n' {
            f.write_all(b"\n")?;
        }
    }
    f.write_all(line.as_bytes())
}

/// A known_hosts host field entry: plain, or hashed (`|1|salt|HMAC-SHA1(salt, name)`).
fn host_matches(entry: &str, pattern: &str) -> bool {
    if let Some(rest) = entry.strip_prefix("|1|") {
        let Some((salt, hash)) = rest.split_once('|') else {
            return false;
        };
        match (base64_decode(salt), base64_decode(hash)) {
            (Some(salt), Some(hash)) => hmac_sha1(&salt, pattern.as_bytes()).as_slice() == hash,
            _ => false,
        }
    } else {
        entry == pattern
    }
}

fn hmac_sha1(key: &[u8], msg: &[u8]) -> [u8; 20] {
    let mut k = [0u8; 64];
    if key.len() > 64 {
        k[..20].copy_from_slice(&sha1_smol::Sha1::from(key).digest().bytes());
    } else {
        k[..key.len()].copy_from_slice(key);
    }
    let mut inner = sha1_smol::Sha1::new();
    inner.update(&k.map(|b| b ^ 0x36));
    inner.update(msg);
    let mut outer = sha1_smol::Sha1::new();
    outer.update(&k.map(|b| b ^ 0x5c));
    outer.update(&inner.digest().bytes());
    outer.digest().bytes()
}

fn base64_decode(s: &str) -> Option<Vec<u8>> {
    let val = |c: u8| -> Option<u32> {
        Some(match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => return None,
        } as u32)
    };
    let bytes: Vec<u8> = s.bytes().filter(|&c| c != b'=').collect();
    let mut out = Vec::with_capacity(bytes.len() * 3 / 4);
    for chunk in bytes.chunks(4) {
        let mut n = 0u32;
        for (i, &c) in chunk.iter().enumerate() {
            n |= val(c)? << (18 - 6 * i);
        }
        let take = match chunk.len() {
            4 => 3,
            3 => 2,
            2 => 1,
            _ => return None,
        };
        out.extend_from_slice(&n.to_be_bytes()[1..1 + take]);
    }
    Some(out)
}

/// Standard base64 with padding (for known_hosts lines and fingerprints).
pub fn base64(data: &[u8]) -> String {
    const T: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(data.len().div_ceil(3) * 4);
    for chunk in data.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        out.push(T[(n >> 18) as usize & 63] as char);
        out.push(T[(n >> 12) as usize & 63] as char);
        out.push(if chunk.len() > 1 {
            T[(n >> 6) as usize & 63] as char
        } else {
            '='
        });
        out.push(if chunk.len() > 2 {
            T[n as usize & 63] as char
        } else {
            '='
        });
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn base64_matches_rfc4648() {
        assert_eq!(super::base64(b""), "");
        assert_eq!(super::base64(b"f"), "Zg==");
        assert_eq!(super::base64(b"fo"), "Zm8=");
        assert_eq!(super::base64(b"foobar"), "Zm9vYmFy");
        assert_eq!(super::base64_decode("Zm9vYg==").unwrap(), b"foob");
        assert_eq!(super::base64_decode("Zm9vYmFy").unwrap(), b"foobar");
    }

    #[test]
    fn hmac_sha1_matches_rfc2202() {
        let mac = super::hmac_sha1(b"key", b"The quick brown fox jumps over the lazy dog");
        let hex: String = mac.iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(hex, "de7c9b85b8b78aa6bc8a7a36f70a90701c9db4d9");
    }
}
