//! The reply writer: encodes replies into a client's output buffer in RESP2 or RESP3.
//!
//! Handlers never write protocol bytes by hand; they call these methods, which pick
//! the right encoding for the client's protocol (RESP3 maps, sets, doubles, nulls and
//! booleans degrade to their RESP2 forms as Redis does).

/// A reply buffer plus the protocol version of the client it belongs to.
#[derive(Debug, Default)]
pub struct Reply {
    pub buf: Vec<u8>,
    pub resp3: bool,
    /// Number of error replies written since the last `take_error_count`: the command
    /// dispatcher uses it to count failed calls and to flag queued-command errors.
    pub errors: u64,
    /// The code of the last error reply written (`ERR`, `WRONGTYPE`...), for
    /// INFO errorstats.
    pub last_error_code: String,
    /// `errors` up to which the error statistics have counted (a command inside
    /// EXEC counts its own; EXEC must not count them again).
    pub accounted: u64,
    /// Of `errors`, those already counted in the error statistics elsewhere (a
    /// script's error that came from a command it ran): they make the command
    /// fail without counting twice in INFO errorstats.
    pub uncounted_errors: u64,
    /// Byte ranges written as pushes during the current command (kept when
    /// CLIENT REPLY OFF/SKIP drops the command's reply).
    pushes: Vec<(usize, usize)>,
}

impl Reply {
    /// An empty RESP2 buffer with 1 KB reserved.
    pub fn new() -> Self {
        Reply {
            buf: Vec::with_capacity(1024),
            resp3: false,
            errors: 0,
            last_error_code: String::new(),
            accounted: 0,
            uncounted_errors: 0,
            pushes: Vec::new(),
        }
    }

    fn int_line(&mut self, prefix: u8, n: i64) {
        self.buf.push(prefix);
        let mut b = itoa::Buffer::new();
        self.buf.extend_from_slice(b.format(n).as_bytes());
        self.buf.extend_from_slice(b"\r\n");
    }

    /// Appends already-encoded protocol bytes unchanged; the caller is responsible
    /// for them being valid RESP for this client's protocol.
    pub fn raw(&mut self, bytes: &[u8]) {
        self.buf.extend_from_slice(bytes);
    }
    /// The `+OK` status reply.
    pub fn ok(&mut self) {
        self.buf.extend_from_slice(b"+OK\r\n");
    }
    /// A status reply (`+s`). `s` must not contain CR or LF: unlike `error`, nothing
    /// is escaped here.
    pub fn simple(&mut self, s: &str) {
        self.buf.push(b'+');
        self.buf.extend_from_slice(s.as_bytes());
        self.buf.extend_from_slice(b"\r\n");
    }
    /// An error reply. `msg` includes the code (`ERR ...`, `WRONGTYPE ...`); a message
    /// with no code gets `ERR ` prepended like Redis's addReplyError. Newlines are
    /// replaced by spaces so a reply can never break the protocol.
    pub fn error(&mut self, msg: &str) {
        self.errors += 1;
        self.buf.push(b'-');
        let first = msg.split(' ').next().unwrap_or("");
        let has_code = !first.is_empty() && first.bytes().all(|c| c.is_ascii_uppercase());
        self.last_error_code.clear();
        if has_code {
            self.last_error_code.push_str(first);
        } else {
            self.last_error_code.push_str("ERR");
            self.buf.extend_from_slice(b"ERR ");
        }
        for c in msg.bytes() {
            self.buf
                .push(if c == b'\r' || c == b'\n' { b' ' } else { c });
        }
        self.buf.extend_from_slice(b"\r\n");
    }
    /// An error reply written as given (`-` then `msg`), with no `ERR` added: what a
    /// script's `{err=...}` table becomes. Newlines become spaces.
    pub fn error_verbatim(&mut self, msg: &str) {
        self.errors += 1;
        self.buf.push(b'-');
        self.last_error_code.clear();
        self.last_error_code
            .push_str(msg.split(' ').next().unwrap_or(""));
        for c in msg.bytes() {
            self.buf
                .push(if c == b'\r' || c == b'\n' { b' ' } else { c });
        }
        self.buf.extend_from_slice(b"\r\n");
    }
    /// `error_verbatim` for an error the statistics already counted (Redis's
    /// ERR_REPLY_FLAG_NO_STATS_UPDATE).
    pub fn error_verbatim_uncounted(&mut self, msg: &str) {
        self.error_verbatim(msg);
        self.uncounted_errors += 1;
    }
    /// An integer reply (`:n`).
    pub fn int(&mut self, n: i64) {
        self.int_line(b':', n);
    }
    /// A bulk string reply (`$len` then the bytes); binary safe.
    pub fn bulk(&mut self, b: &[u8]) {
        self.int_line(b'$', b.len() as i64);
        crate::server::util::extend_bytes(&mut self.buf, b);
        self.buf.extend_from_slice(b"\r\n");
    }
    /// The null bulk string (`$-1` in RESP2, `_` in RESP3).
    pub fn null(&mut self) {
        if self.resp3 {
            self.buf.extend_from_slice(b"_\r\n");
        } else {
            self.buf.extend_from_slice(b"$-1\r\n");
        }
    }
    /// The null array (`*-1` in RESP2, `_` in RESP3).
    pub fn null_array(&mut self) {
        if self.resp3 {
            self.buf.extend_from_slice(b"_\r\n");
        } else {
            self.buf.extend_from_slice(b"*-1\r\n");
        }
    }
    /// An array header (`*n`, the same in both protocols); the caller then writes
    /// exactly `len` elements.
    pub fn array(&mut self, len: usize) {
        self.int_line(b'*', len as i64);
    }
    /// A map header: `%n` in RESP3, an array of 2n in RESP2.
    pub fn map(&mut self, pairs: usize) {
        if self.resp3 {
            self.int_line(b'%', pairs as i64);
        } else {
            self.int_line(b'*', 2 * pairs as i64);
        }
    }
    /// A set header: `~n` in RESP3, an array in RESP2.
    pub fn set(&mut self, len: usize) {
        if self.resp3 {
            self.int_line(b'~', len as i64);
        } else {
            self.int_line(b'*', len as i64);
        }
    }
    /// A push header (pub/sub messages): `>n` in RESP3, an array in RESP2.
    pub fn push(&mut self, len: usize) {
        if self.resp3 {
            self.int_line(b'>', len as i64);
        } else {
            self.int_line(b'*', len as i64);
        }
    }
    /// A double: `,x` in RESP3, a bulk string in RESP2 (formatted like Redis's %.17g).
    pub fn double(&mut self, v: f64) {
        let s = crate::server::util::format_f64(v);
        if self.resp3 {
            self.buf.push(b',');
            self.buf.extend_from_slice(s.as_bytes());
            self.buf.extend_from_slice(b"\r\n");
        } else {
            self.bulk(s.as_bytes());
        }
    }
    /// Verbatim text (INFO, CLIENT LIST...): `=` with a `txt:` prefix in RESP3, bulk in RESP2.
    pub fn verbatim(&mut self, text: &[u8]) {
        if self.resp3 {
            self.int_line(b'=', text.len() as i64 + 4);
            self.buf.extend_from_slice(b"txt:");
            self.buf.extend_from_slice(text);
            self.buf.extend_from_slice(b"\r\n");
        } else {
            self.bulk(text);
        }
    }
    /// Bytes currently buffered (not yet sent).
    pub fn len(&self) -> usize {
        self.buf.len()
    }
    /// True when nothing is buffered.
    pub fn is_empty(&self) -> bool {
        self.buf.is_empty()
    }
    /// Marks what was written since byte `from` as a push: it survives
    /// [`Reply::drop_since`] (Redis's CLIENT_PUSHING).
    pub fn mark_push(&mut self, from: usize) {
        if from < self.buf.len() {
            self.pushes.push((from, self.buf.len()));
        }
    }

    /// Forgets the push marks (the command's reply is kept whole).
    pub fn forget_pushes(&mut self) {
        self.pushes.clear();
    }

    /// Drops what was written after byte `start` except the ranges marked as
    /// pushes, then forgets the marks.
    pub fn drop_since(&mut self, start: usize) {
        let marks = std::mem::take(&mut self.pushes);
        let start = start.min(self.buf.len());
        let mut kept = Vec::new();
        for (a, b) in marks {
            let (a, b) = (a.max(start), b.min(self.buf.len()));
            if a < b {
                kept.extend_from_slice(&self.buf[a..b]);
            }
        }
        self.buf.truncate(start);
        self.buf.extend_from_slice(&kept);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodes_resp2_and_resp3() {
        let mut r = Reply::new();
        r.ok();
        r.int(-5);
        r.bulk(b"hi");
        r.null();
        r.map(1);
        r.double(1.5);
        r.error("WRONGTYPE Operation against a key holding the wrong kind of value");
        r.error("unknown thing");
        assert_eq!(
            r.buf,
            b"+OK\r\n:-5\r\n$2\r\nhi\r\n$-1\r\n*2\r\n$3\r\n1.5\r\n-WRONGTYPE Operation against a key holding the wrong kind of value\r\n-ERR unknown thing\r\n"
        );
        let mut r = Reply {
            resp3: true,
            ..Reply::new()
        };
        r.null();
        r.map(1);
        r.double(1.5);
        assert_eq!(r.buf, b"_\r\n%1\r\n,1.5\r\n");
    }
}
