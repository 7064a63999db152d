//! The slowlog: the last `slowlog-max-len` commands that ran longer than
//! `slowlog-log-slower-than` microseconds (SLOWLOG GET/LEN/RESET).

use crate::server::util::now_ms;
use std::collections::VecDeque;

/// One SLOWLOG entry.
#[derive(Debug, Clone)]
pub struct SlowlogEntry {
    pub id: u64,
    pub time: i64,
    pub usec: u64,
    pub argv: Vec<Vec<u8>>,
    pub addr: String,
    pub name: Vec<u8>,
}

/// The entries, newest first, and the id the next one gets.
#[derive(Debug, Default)]
pub struct Slowlog {
    pub entries: VecDeque<SlowlogEntry>,
    pub next_id: u64,
}

impl Slowlog {
    /// Records a slow command of the client at `addr` named `name`, keeping at
    /// most `max_len` entries (arguments capped like Redis: 32 arguments, 128
    /// bytes each).
    pub fn push(&mut self, argv: &[Vec<u8>], usec: u64, addr: &str, name: &[u8], max_len: usize) {
        let mut args: Vec<Vec<u8>> = Vec::new();
        for (i, a) in argv.iter().enumerate() {
            if i == 31 && argv.len() > 32 {
                args.push(format!("... ({} more arguments)", argv.len() - 31).into_bytes());
                break;
            }
            if a.len() > 128 {
                let mut v = a[..128].to_vec();
                v.extend_from_slice(format!("... ({} more bytes)", a.len() - 128).as_bytes());
                args.push(v);
            } else {
                args.push(a.clone());
            }
        }
        let e = SlowlogEntry {
            id: self.next_id,
            time: now_ms() / 1000,
            usec,
            argv: args,
            addr: addr.to_string(),
            name: name.to_vec(),
        };
        self.next_id += 1;
        self.entries.push_front(e);
        while self.entries.len() > max_len {
            self.entries.pop_back();
        }
    }
}
