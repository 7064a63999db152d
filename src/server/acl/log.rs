//! The ACL LOG (Redis 7.0): recent denied commands, keys, channels and failed
//! AUTHs, newest first; a repeat of the same event within 60 s updates its
//! entry instead of adding one.

/// One entry.
#[derive(Debug, Clone)]
pub struct Entry {
    pub count: u64,
    /// "command", "key", "channel" or "auth".
    pub reason: &'static str,
    /// "toplevel", "multi" or "lua".
    pub context: &'static str,
    pub object: Vec<u8>,
    pub username: Vec<u8>,
    /// When it last happened (ms).
    pub ctime_ms: i64,
    /// CLIENT LIST line of the client, without the newline.
    pub client_info: String,
}

/// Events within this many ms are grouped (Redis's ACL_LOG_GROUPING_MAX_TIME_DELTA).
const GROUPING_MS: i64 = 60_000;

/// The log.
#[derive(Debug, Default)]
pub struct AclLog {
    pub entries: std::collections::VecDeque<Entry>,
}

impl AclLog {
    /// Records an event (ACL LOG entry), grouping with a similar recent one,
    /// and trims to `max_len` entries.
    pub fn add(&mut self, mut e: Entry, max_len: usize) {
        let pos = self.entries.iter().position(|o| {
            o.reason == e.reason
                && o.context == e.context
                && o.object == e.object
                && o.username == e.username
                && e.ctime_ms - o.ctime_ms <= GROUPING_MS
        });
        if let Some(p) = pos {
            let old = self.entries.remove(p).expect("entry at position");
            e.count = old.count + 1;
        }
        self.entries.push_front(e);
        while self.entries.len() > max_len {
            self.entries.pop_back();
        }
    }
}
