//! Loading an AOF made of commands (incremental files, a `.base.aof`): each
//! command is run through the one `call()` by a fake client, as Redis's
//! `loadSingleAppendOnlyFile`. MULTI ... EXEC blocks run as a whole; an
//! unfinished block at the end is dropped with what follows.

use crate::server::client::Client;
use crate::server::state::Server;

/// How reading a file of commands ended.
#[derive(Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Read to its end.
    Complete,
    /// The file ends in the middle of a command (or of a MULTI block): what
    /// precedes `valid_up_to` was applied.
    Truncated { valid_up_to: usize },
    /// Bytes that are not a command at `offset`.
    Corrupt { offset: usize },
}

/// Parses one `*N\r\n$len\r\n...` command at `pos`: Ok(Some((argv, next)))
/// when complete, Ok(None) when the data ends first, Err(()) when malformed.
#[allow(clippy::type_complexity)]
fn parse_at(data: &[u8], pos: usize) -> Result<Option<(Vec<Vec<u8>>, usize)>, ()> {
    fn line(data: &[u8], pos: usize) -> Option<(&[u8], usize)> {
        let rest = data.get(pos..)?;
        let nl = rest.iter().position(|&b| b == b'\n')?;
        let l = &rest[..nl];
        Some((l.strip_suffix(b"\r").unwrap_or(l), pos + nl + 1))
    }
    fn num(l: &[u8]) -> Result<usize, ()> {
        std::str::from_utf8(l)
            .ok()
            .and_then(|s| s.parse::<usize>().ok())
            .ok_or(())
    }
    let Some((l, mut p)) = line(data, pos) else {
        return Ok(None);
    };
    if l.first() != Some(&b'*') {
        return Err(());
    }
    let n = num(&l[1..])?;
    if n == 0 {
        return Err(());
    }
    let mut argv = Vec::with_capacity(n.min(1024));
    for _ in 0..n {
        let Some((l, q)) = line(data, p) else {
            return Ok(None);
        };
        if l.first() != Some(&b'$') {
            return Err(());
        }
        let len = num(&l[1..])?;
        let end = q.checked_add(len).ok_or(())?;
        if data.len() < end + 2 {
            return Ok(None);
        }
        if &data[end..end + 2] != b"\r\n" {
            return Err(());
        }
        argv.push(data[q..end].to_vec());
        p = end + 2;
    }
    Ok(Some((argv, p)))
}

/// Runs one command from the AOF through `call()`.
fn run(srv: &mut Server, c: &mut Client, argv: &[Vec<u8>]) {
    match crate::server::commands::resolve(argv) {
        Ok(cmd) => {
            crate::server::util::tick();
            crate::server::commands::call(srv, c, cmd, argv);
            c.reply.buf.clear();
        }
        Err(e) => crate::server::log::warning(&format!(
            "Unknown command '{}' reading the append only file ({})",
            String::from_utf8_lossy(&argv[0]),
            e
        )),
    }
}

/// Applies the commands of `data` (starting at `start`, after an RDB
/// preamble for example) to the dataset.
pub fn apply(srv: &mut Server, data: &[u8], start: usize) -> Outcome {
    let mut c = Client::new(u64::MAX - 1, "aof".into(), String::new(), -1, true);
    let mut pos = start;
    // The commands of an open MULTI block, and where it started.
    let mut block: Option<(usize, Vec<Vec<Vec<u8>>>)> = None;
    loop {
        if pos >= data.len() {
            return match block {
                Some((at, _)) => Outcome::Truncated { valid_up_to: at },
                None => Outcome::Complete,
            };
        }
        match parse_at(data, pos) {
            Err(()) => return Outcome::Corrupt { offset: pos },
            Ok(None) => {
                let valid_up_to = block.map_or(pos, |(at, _)| at);
                return Outcome::Truncated { valid_up_to };
            }
            Ok(Some((argv, next))) => {
                let name = argv[0].to_ascii_lowercase();
                if name == b"multi" {
                    block = Some((pos, Vec::new()));
                } else if name == b"exec" {
                    if let Some((_, cmds)) = block.take() {
                        for cmd in &cmds {
                            run(srv, &mut c, cmd);
                        }
                    }
                } else if let Some((_, cmds)) = block.as_mut() {
                    cmds.push(argv);
                } else {
                    run(srv, &mut c, &argv);
                }
                pos = next;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_complete_truncated_and_corrupt_commands() {
        let d = b"*2\r\n$3\r\nGET\r\n$1\r\na\r\n";
        let (argv, next) = parse_at(d, 0).unwrap().unwrap();
        assert_eq!(argv, vec![b"GET".to_vec(), b"a".to_vec()]);
        assert_eq!(next, d.len());
        assert_eq!(parse_at(&d[..d.len() - 1], 0), Ok(None));
        assert_eq!(parse_at(b"xx\r\n", 0), Err(()));
    }
}
