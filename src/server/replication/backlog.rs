//! The replication backlog: the last `repl-backlog-size` bytes of the replication
//! stream, so a replica that reconnects can continue from its offset (+CONTINUE)
//! instead of a full resync.

#[derive(Debug)]
pub struct Backlog {
    buf: Vec<u8>,
    /// Index in `buf` where the next byte goes.
    idx: usize,
    /// Valid bytes held (<= buf.len()).
    histlen: usize,
    /// Replication offset of the first byte held.
    pub first_offset: i64,
}

impl Backlog {
    /// A backlog for a stream whose next byte has offset `next_offset`.
    pub(super) fn new(size: usize, next_offset: i64) -> Self {
        Backlog {
            buf: vec![0; size.max(16 * 1024)],
            idx: 0,
            histlen: 0,
            first_offset: next_offset,
        }
    }

    /// Capacity in bytes (repl_backlog_size; at least 16 KB).
    pub fn size(&self) -> usize {
        self.buf.len()
    }

    /// Bytes of stream actually held (repl_backlog_histlen), at most `size`.
    pub fn histlen(&self) -> usize {
        self.histlen
    }

    /// Appends stream bytes.
    pub fn feed(&mut self, mut data: &[u8]) {
        let size = self.buf.len();
        if data.len() >= size {
            let skip = data.len() - size;
            self.first_offset += (self.histlen + skip) as i64;
            self.histlen = 0;
            data = &data[skip..];
            self.buf.copy_from_slice(data);
            self.idx = 0;
            self.histlen = size;
            return;
        }
        let dropped = (self.histlen + data.len()).saturating_sub(size);
        self.first_offset += dropped as i64;
        let first = (size - self.idx).min(data.len());
        self.buf[self.idx..self.idx + first].copy_from_slice(&data[..first]);
        let rest = data.len() - first;
        self.buf[..rest].copy_from_slice(&data[first..]);
        self.idx = (self.idx + data.len()) % size;
        self.histlen = (self.histlen + data.len()).min(size);
    }

    /// The bytes from replication offset `from` to the end, if we still hold them.
    pub fn since(&self, from: i64) -> Option<Vec<u8>> {
        let end = self.first_offset + self.histlen as i64;
        if from < self.first_offset || from > end {
            return None;
        }
        let skip = (from - self.first_offset) as usize;
        let len = self.histlen - skip;
        let size = self.buf.len();
        let start = (self.idx + size - self.histlen + skip) % size;
        let mut out = Vec::with_capacity(len);
        let first = (size - start).min(len);
        out.extend_from_slice(&self.buf[start..start + first]);
        out.extend_from_slice(&self.buf[..len - first]);
        Some(out)
    }

    /// Changes the size, keeping the newest bytes.
    pub fn resize(&mut self, size: usize) {
        let end = self.first_offset + self.histlen as i64;
        let data = self.since(self.first_offset).unwrap_or_default();
        let mut nb = Backlog::new(size, end - data.len() as i64);
        nb.feed(&data);
        *self = nb;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wraps_and_serves_ranges() {
        let mut b = Backlog::new(16 * 1024, 1);
        let data: Vec<u8> = (0..40_000u32).map(|i| (i % 251) as u8).collect();
        b.feed(&data[..10_000]);
        assert_eq!(b.since(1).unwrap(), &data[..10_000]);
        b.feed(&data[10_000..]);
        assert_eq!(b.histlen(), 16 * 1024);
        assert_eq!(b.first_offset, 1 + 40_000 - 16 * 1024);
        assert!(b.since(1).is_none());
        let from = 1 + 30_000;
        assert_eq!(b.since(from).unwrap(), &data[30_000..]);
        assert_eq!(b.since(40_001).unwrap(), Vec::<u8>::new());
        assert!(b.since(40_002).is_none());
    }
}
