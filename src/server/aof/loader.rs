//! Loading one AOF file (Redis's loadSingleAppendOnlyFile): an optional RDB
//! part (a `.base.rdb`, or the preamble of an old single-file AOF), then
//! commands run one by one through the one `call()` by a client that obeys
//! like a master's link (it never blocks, never expires keys, and what it
//! runs is not sent to replicas). `#` annotation lines are skipped. A MULTI
//! left open at the end is reverted like a truncated tail.

use crate::server::client::{Client, ClientKind};
use crate::server::log;
use crate::server::state::Server;
use crate::server::util::now_ms;

/// How loading a file ended (Redis's AOF_OK / AOF_EMPTY / AOF_TRUNCATED).
#[derive(Debug, PartialEq, Eq)]
pub enum Loaded {
    Ok,
    /// The file is empty.
    Empty,
    /// The tail was cut at the last complete command (aof-load-truncated).
    Truncated,
}

/// One parsed line-oriented step of the file.
#[derive(Debug, PartialEq, Eq)]
enum Step {
    /// A complete command and where the next one starts.
    Command(Vec<Vec<u8>>, usize),
    /// An annotation line (`#...`), skipped.
    Skip(usize),
    /// The data ends inside a command.
    Eof,
    /// Bytes that are not a command.
    Bad,
}

/// The longest line Redis reads at once (AOF_ANNOTATION_LINE_MAX_LEN).
const LINE_MAX: usize = 1024;

/// Reads the line at `pos` as Redis's fgets with a 1 KB buffer: up to and
/// including `\n`, or 1023 bytes; None at the end of the data.
fn line(data: &[u8], pos: usize) -> Option<(&[u8], usize)> {
    let rest = data.get(pos..).filter(|r| !r.is_empty())?;
    let limit = rest.len().min(LINE_MAX - 1);
    let end = rest[..limit]
        .iter()
        .position(|&b| b == b'\n')
        .map_or(limit, |i| i + 1);
    Some((&rest[..end], pos + end))
}

/// The number after the type byte of a `*N` or `$N` line (atoi/strtol:
/// leading digits, anything after ignored).
fn number(l: &[u8]) -> i64 {
    let digits = l[1..]
        .iter()
        .position(|b| !b.is_ascii_digit())
        .map_or(&l[1..], |i| &l[1..1 + i]);
    std::str::from_utf8(digits)
        .ok()
        .and_then(|s| s.parse::<i64>().ok())
        .unwrap_or(if digits.is_empty() { 0 } else { i64::MAX })
}

/// Parses the step at `pos` as Redis's loader reads it.
fn step(data: &[u8], pos: usize) -> Step {
    let Some((l, mut p)) = line(data, pos) else {
        return Step::Eof;
    };
    if l[0] == b'#' {
        return Step::Skip(p);
    }
    if l[0] != b'*' {
        return Step::Bad;
    }
    if l.len() == 1 {
        return Step::Eof;
    }
    let argc = number(l);
    if argc < 1 {
        return Step::Bad;
    }
    let mut argv = Vec::with_capacity((argc as usize).min(1024));
    for _ in 0..argc {
        let Some((l, q)) = line(data, p) else {
            return Step::Eof;
        };
        if l[0] != b'$' {
            return Step::Bad;
        }
        let len = number(l).max(0) as usize;
        let Some(end) = q.checked_add(len).filter(|&e| e <= data.len()) else {
            return Step::Eof;
        };
        // Redis discards the two bytes after the argument without looking.
        if data.len() < end + 2 {
            return Step::Eof;
        }
        argv.push(data[q..end].to_vec());
        p = end + 2;
    }
    Step::Command(argv, p)
}

/// Loads the file `name` (at `path`, contents `data`) into the dataset.
/// `last`: no file follows it (only the last may be cut when truncated).
/// Errors are logged with Redis's lines; Err means the start must stop.
pub fn load_file(
    srv: &mut Server,
    name: &str,
    path: &std::path::Path,
    data: &[u8],
    last: bool,
) -> Result<Loaded, ()> {
    if data.is_empty() {
        return Ok(Loaded::Empty);
    }
    let mut pos = 0;
    if data.starts_with(b"REDIS") {
        let old_style = name == srv.config.get("appendfilename").unwrap_or_default();
        log::notice(if old_style {
            "Reading RDB preamble from AOF file..."
        } else {
            "Reading RDB base file on AOF loading..."
        });
        let mut r: &[u8] = data;
        let drop_before = srv.config.replicaof.is_none().then(now_ms);
        match crate::server::rdb::reader::read(&mut r, srv.config.databases, drop_before) {
            Ok(loaded) => {
                // A base holds no replication history: keep ours.
                let repl = srv.persistence.loaded_repl.take();
                crate::server::rdb::install(srv, loaded);
                srv.persistence.loaded_repl = repl;
                pos = data.len() - r.len();
                if old_style {
                    log::notice("Reading the remaining AOF tail...");
                }
            }
            Err(e) => {
                log::warning(&format!("{}", e));
                log::warning(&if old_style {
                    format!(
                        "Error reading the RDB preamble of the AOF file {}, AOF loading aborted",
                        name
                    )
                } else {
                    format!(
                        "Error reading the RDB base file {}, AOF loading aborted",
                        name
                    )
                });
                return Err(());
            }
        }
    }
    let mut c = Client::new(u64::MAX - 1, String::new(), String::new(), -1, true);
    c.kind = ClientKind::Master;
    let mut valid_up_to = pos;
    let mut valid_before_multi = pos;
    let truncated_at = loop {
        match step(data, pos) {
            Step::Skip(next) => pos = next,
            Step::Eof if pos >= data.len() => {
                if c.multi.is_some() {
                    log::warning(&format!(
                        "Revert incomplete MULTI/EXEC transaction in AOF file {}",
                        name
                    ));
                    break Some(valid_before_multi);
                }
                break None;
            }
            Step::Eof => break Some(valid_up_to),
            Step::Bad => {
                log::warning(&format!("Bad file format reading the append only file {}: make a backup of your AOF file, then use ./redis-check-aof --fix <filename.manifest>", name));
                log::warning(&format!(
                    "The AOF file {} is not valid from offset {} on: nothing was loaded past it and no file was changed",
                    name, pos
                ));
                return Err(());
            }
            Step::Command(argv, next) => {
                let cmd = match crate::server::commands::resolve(&argv) {
                    Ok(cmd) => cmd,
                    Err(_) => {
                        log::warning(&format!(
                            "Unknown command '{}' reading the append only file {}",
                            String::from_utf8_lossy(&argv[0]),
                            name
                        ));
                        return Err(());
                    }
                };
                if cmd.name == "multi" {
                    valid_before_multi = valid_up_to;
                }
                crate::server::util::tick();
                match c.multi.as_mut() {
                    Some(queue) if cmd.name != "exec" && cmd.name != "multi" => queue.push(argv),
                    _ => crate::server::commands::call(srv, &mut c, cmd, &argv),
                }
                c.reply.buf.clear();
                pos = next;
                valid_up_to = pos;
                crate::server::rdb::delay::after_key_loaded();
            }
        }
    };
    let Some(valid_up_to) = truncated_at else {
        return Ok(Loaded::Ok);
    };
    let allowed = srv.config.get("aof-load-truncated").as_deref() == Some("yes");
    if allowed && last {
        log::warning(&format!(
            "!!! Warning: short read while loading the AOF file {}!!!",
            name
        ));
        log::warning(&format!(
            "!!! Truncating the AOF {} at offset {} !!!",
            name, valid_up_to
        ));
        let cut = std::fs::OpenOptions::new()
            .write(true)
            .open(path)
            .and_then(|f| f.set_len(valid_up_to as u64));
        match cut {
            Ok(()) => {
                log::warning(&format!(
                    "AOF {} loaded anyway because aof-load-truncated is enabled",
                    name
                ));
                return Ok(Loaded::Truncated);
            }
            Err(e) => log::warning(&format!("Error truncating the AOF file {}: {}", name, e)),
        }
    } else if allowed {
        // Redis cuts the file, then refuses it because others follow; the
        // file is left as it is here, so nothing is lost.
        log::warning("Fatal error: the truncated file is not the last file");
        return Err(());
    }
    log::warning(&format!("Unexpected end of file reading the append only file {}. You can: 1) Make a backup of your AOF file, then use ./redis-check-aof --fix <filename.manifest>. 2) Alternatively you can set the 'aof-load-truncated' configuration option to yes and restart the server.", name));
    Err(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_commands_annotations_truncation_and_garbage() {
        let d = b"*2\r\n$3\r\nGET\r\n$1\r\na\r\n";
        assert_eq!(
            step(d, 0),
            Step::Command(vec![b"GET".to_vec(), b"a".to_vec()], d.len())
        );
        assert_eq!(step(&d[..d.len() - 1], 0), Step::Eof);
        assert_eq!(step(&d[..6], 0), Step::Eof);
        assert_eq!(step(b"xx\r\n", 0), Step::Bad);
        assert_eq!(step(b"*0\r\n", 0), Step::Bad);
        assert_eq!(step(b"*1\r\nfoo\r\n", 0), Step::Bad);
        assert_eq!(step(b"#TS:1\r\n*1", 0), Step::Skip(7));
        assert_eq!(step(b"*", 0), Step::Eof);
    }
}
