//! The Lua debugger (Redis 7.0's LDB): `SCRIPT DEBUG YES|SYNC|NO` and the
//! debugging session of the client's next EVAL.
//!
//! A session talks to its client directly on the client's socket, in blocking
//! mode, from inside the Lua line hook: the script stops at a line, the log
//! gathered so far goes out as an array of status replies, and debugger commands
//! are read and answered there until one resumes the script. With YES the
//! server forks first and the child serves the session (the parent closes its
//! copy of the connection and goes on; the child's writes die with it); with
//! SYNC the whole server waits for the session and what the script wrote stays.
//! Either way the connection is closed once the EVAL's reply went out.
//!
//! The state is one per server, as Redis's `ldb` global: only one session can
//! run at a time in a process. The Lua side (locals, protected calls) is in
//! `prelude.lua`'s `ldb` table.

use crate::server::client::Client;
use crate::server::state::Server;
use mlua::{Function, Lua, Table, Value, VmState};
use std::cell::RefCell;

/// Breakpoints a session can hold (Redis's LDB_BREAKPOINTS_MAX).
const BREAKPOINTS_MAX: usize = 64;
/// Default trimming of logged replies and values (LDB_MAX_LEN_DEFAULT).
const MAX_LEN_DEFAULT: usize = 256;
/// Table nesting `print` and `eval` show (LDB_MAX_VALUES_DEPTH: LUA_MINSTACK/2).
const MAX_VALUES_DEPTH: usize = 10;
/// Unparsed debugger input past which the session fails.
const MAX_CBUF: usize = 1 << 20;
/// A debugger command's arguments and each argument's length are capped.
const MAX_ARGS: i32 = 1024;
/// How long a blocked write to the debugging client may wait (ms).
const SEND_TIMEOUT_MS: i64 = 5000;

/// What SCRIPT DEBUG asked of a client's next EVAL.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Mode {
    #[default]
    Off,
    /// YES: a forked child serves the session.
    Fork,
    /// SYNC: the server itself serves it, blocking.
    Sync,
}

/// The debugger's state (Redis's `struct ldbState`).
struct State {
    /// The debugging client's socket.
    fd: i32,
    /// A session is running in this process.
    active: bool,
    /// This process is a forked session's child.
    forked: bool,
    /// Lines to send at the next stop or command reply.
    logs: Vec<Vec<u8>>,
    /// Forked sessions still running (parent side).
    children: Vec<i32>,
    bp: Vec<i32>,
    /// Stop at the next line whatever the breakpoints.
    step: bool,
    /// Stop at the next line because redis.breakpoint() was called.
    luabp: bool,
    /// The script's source, split into lines.
    src: Vec<Vec<u8>>,
    currentline: i32,
    /// Debugger input read but not yet parsed.
    cbuf: Vec<u8>,
    /// Trimming of logged replies and values (0: none).
    maxlen: usize,
    maxlen_hint_sent: bool,
}

thread_local! {
    static LDB: RefCell<State> = const {
        RefCell::new(State {
            fd: -1,
            active: false,
            forked: false,
            logs: Vec::new(),
            children: Vec::new(),
            bp: Vec::new(),
            step: false,
            luabp: false,
            src: Vec::new(),
            currentline: 0,
            cbuf: Vec::new(),
            maxlen: MAX_LEN_DEFAULT,
            maxlen_hint_sent: false,
        })
    };
}

/// Runs `f` on the debugger state. `f` must not call back into Lua (what runs
/// there may log, which borrows the state again).
fn with<R>(f: impl FnOnce(&mut State) -> R) -> R {
    LDB.with(|l| f(&mut l.borrow_mut()))
}

// ---------------------------------------------------------------------------
// Enabling, sessions, forked children.
// ---------------------------------------------------------------------------

/// SCRIPT DEBUG YES / SYNC: the client's next EVAL starts a session, stopping at
/// its first line, with no breakpoints and the default trimming.
pub fn enable(c: &mut Client, mode: Mode) {
    c.lua_debug = mode;
    with(|s| {
        s.logs.clear();
        s.fd = c.fd;
        s.step = true;
        s.bp.clear();
        s.luabp = false;
        s.cbuf.clear();
        s.maxlen = MAX_LEN_DEFAULT;
        s.maxlen_hint_sent = false;
    });
}

/// SCRIPT DEBUG NO (and a session that could not start): EVAL runs as usual.
pub fn disable(c: &mut Client) {
    c.lua_debug = Mode::Off;
}

/// True while a session runs in this process (scripts then get the debugger's
/// hook instead of the busy-script one).
pub fn active() -> bool {
    LDB.with(|l| l.try_borrow().map(|s| s.active).unwrap_or(false))
}

/// True when commands and errors of the script are logged: a session runs and
/// the script is stepping (Redis's ldbIsEnabled).
pub fn logging() -> bool {
    LDB.with(|l| l.try_borrow().map(|s| s.active && s.step).unwrap_or(false))
}

/// Starts the session of EVAL `script` for `c` (Redis's ldbStartSession).
/// Returns true when the caller must run the EVAL and then call [`end_session`]:
/// in the child of a forked session, or in a SYNC one. False for the parent of
/// a forked session (the client is closed here) or when fork failed (the error
/// is the client's reply).
pub fn start_session(srv: &mut Server, c: &mut Client, script: &[u8]) -> bool {
    let forked = c.lua_debug != Mode::Sync;
    if forked {
        let fork_start = std::time::Instant::now();
        // SAFETY: the server is single-threaded; the child serves the session
        // from here and leaves with _exit in `end_session`, never returning to
        // the event loop.
        let pid = unsafe { libc::fork() };
        if pid < 0 {
            c.reply.error(&format!(
                "ERR Fork() failed: can't run EVAL in debugging mode: {}",
                crate::server::aof::strerror(&std::io::Error::last_os_error())
            ));
            return false;
        }
        if pid > 0 {
            srv.stats.total_forks += 1;
            srv.stats.latest_fork_usec = fork_start.elapsed().as_micros() as u64;
            with(|s| s.children.push(pid));
            // The child owns the conversation now: close our side without a word.
            c.close_asap = true;
            c.reply.buf.clear();
            return false;
        }
        // SAFETY: plain signal disposition changes in the child: a SIGTERM or
        // SIGINT meant for the server must not reach the handlers it shares
        // with the parent.
        unsafe {
            libc::signal(libc::SIGTERM, libc::SIG_IGN);
            libc::signal(libc::SIGINT, libc::SIG_IGN);
        }
        crate::server::rdb::in_child(srv, &[]);
        crate::server::log::warning("Redis forked for debugging eval");
    } else {
        crate::server::log::warning("Redis synchronous debugging eval session started");
    }
    // The session writes straight to the socket; replies still pending (EVAL
    // inside EXEC) follow it with the EVAL's own, as in Redis.
    let fd = c.fd;
    set_blocking(fd, true);
    // The source as lines, without the trailing newlines.
    let mut body = script;
    while let Some((&last, rest)) = body.split_last() {
        if last == b'\n' || last == b'\r' {
            body = rest;
        } else {
            break;
        }
    }
    let src = split_lines(body);
    with(|s| {
        s.fd = fd;
        s.forked = forked;
        s.active = true;
        s.src = src;
    });
    true
}

/// Ends the session after the EVAL ran (Redis's ldbEndSession): the remaining
/// log and `<endsession>` go out. A forked child then writes the EVAL's reply
/// and exits; in a SYNC session the client is closed once the reply is written.
pub fn end_session(c: &mut Client) {
    log(b"<endsession>".to_vec());
    send_logs();
    let (fd, forked) = with(|s| (s.fd, s.forked));
    if forked {
        let reply = std::mem::take(&mut c.reply.buf);
        write_all(fd, &reply);
        crate::server::log::warning("Lua debugging session child exiting");
        // SAFETY: ends the child without running the parent's destructors.
        unsafe { libc::_exit(0) };
    }
    crate::server::log::warning("Redis synchronous debugging eval session ended");
    set_blocking(fd, false);
    c.close_after_reply = true;
    with(|s| {
        s.src.clear();
        s.active = false;
    });
}

/// True in the child process of a forked session.
pub fn in_forked_child() -> bool {
    with(|s| s.active && s.forked)
}

/// Reaps the forked sessions that ended (the server cron).
pub fn reap_children() {
    with(|s| {
        s.children.retain(|&pid| {
            let mut status = 0;
            // SAFETY: waitpid on our own child's pid, without blocking.
            let r = unsafe { libc::waitpid(pid, &mut status, libc::WNOHANG) };
            r == 0
        })
    });
}

/// Kills every forked session (shutdown, as Redis's ldbKillForkedSessions).
pub fn kill_forked_sessions() {
    let pids = with(|s| std::mem::take(&mut s.children));
    for pid in pids {
        crate::server::log::warning(&format!("Killing debugging session {}", pid));
        // SAFETY: signalling and reaping our own child.
        unsafe {
            libc::kill(pid, libc::SIGKILL);
            libc::waitpid(pid, std::ptr::null_mut(), 0);
        }
    }
}

/// Splits `body` at every newline (an empty body has no line).
fn split_lines(body: &[u8]) -> Vec<Vec<u8>> {
    if body.is_empty() {
        return Vec::new();
    }
    body.split(|&b| b == b'\n').map(|l| l.to_vec()).collect()
}

/// Puts the socket in blocking mode with a send timeout for the session, or
/// back to non-blocking without one.
fn set_blocking(fd: i32, blocking: bool) {
    let timeout = libc::timeval {
        tv_sec: if blocking {
            (SEND_TIMEOUT_MS / 1000) as libc::time_t
        } else {
            0
        },
        tv_usec: 0,
    };
    // SAFETY: fcntl and setsockopt on the client's own descriptor, with a
    // timeval that lives across the call.
    unsafe {
        let flags = libc::fcntl(fd, libc::F_GETFL);
        if flags >= 0 {
            let flags = if blocking {
                flags & !libc::O_NONBLOCK
            } else {
                flags | libc::O_NONBLOCK
            };
            libc::fcntl(fd, libc::F_SETFL, flags);
        }
        libc::setsockopt(
            fd,
            libc::SOL_SOCKET,
            libc::SO_SNDTIMEO,
            &timeout as *const libc::timeval as *const libc::c_void,
            std::mem::size_of::<libc::timeval>() as libc::socklen_t,
        );
    }
}

/// Writes all of `buf` to the socket, giving up on the first error (the next
/// read notices a dead client).
fn write_all(fd: i32, mut buf: &[u8]) {
    while !buf.is_empty() {
        // SAFETY: sending from a live buffer on the client's own socket.
        let n = unsafe {
            libc::send(
                fd,
                buf.as_ptr() as *const libc::c_void,
                buf.len(),
                libc::MSG_NOSIGNAL,
            )
        };
        if n < 0 && std::io::Error::last_os_error().kind() == std::io::ErrorKind::Interrupted {
            continue;
        }
        if n <= 0 {
            return;
        }
        buf = &buf[n as usize..];
    }
}

/// Reads what the client sent, up to 1024 bytes, waiting for it. None when the
/// client is gone.
fn read_some(fd: i32) -> Option<Vec<u8>> {
    let mut buf = [0u8; 1024];
    loop {
        // SAFETY: reading into a local buffer from the client's own socket.
        let n = unsafe { libc::read(fd, buf.as_mut_ptr() as *mut libc::c_void, buf.len()) };
        if n < 0 && std::io::Error::last_os_error().kind() == std::io::ErrorKind::Interrupted {
            continue;
        }
        if n <= 0 {
            return None;
        }
        return Some(buf[..n as usize].to_vec());
    }
}

// ---------------------------------------------------------------------------
// The log.
// ---------------------------------------------------------------------------

/// Adds a line to the log.
fn log(entry: Vec<u8>) {
    with(|s| s.logs.push(entry));
}

/// Adds a line to the log, trimmed to `maxlen` with a hint the first time
/// (Redis's ldbLogWithMaxLen).
fn log_with_maxlen(mut entry: Vec<u8>) {
    with(|s| {
        let mut trimmed = false;
        if s.maxlen > 0 && entry.len() > s.maxlen {
            entry.truncate(s.maxlen);
            entry.extend_from_slice(b" ...");
            trimmed = true;
        }
        s.logs.push(entry);
        if trimmed && !s.maxlen_hint_sent {
            s.maxlen_hint_sent = true;
            s.logs.push(
                b"<hint> The above reply was trimmed. Use 'maxlen 0' to disable trimming.".to_vec(),
            );
        }
    });
}

/// Sends the log as an array of status replies (newlines become spaces) and
/// empties it.
fn send_logs() {
    let (fd, logs) = with(|s| (s.fd, std::mem::take(&mut s.logs)));
    let mut proto = format!("*{}\r\n", logs.len()).into_bytes();
    for mut line in logs {
        for b in line.iter_mut() {
            if *b == b'\r' || *b == b'\n' {
                *b = b' ';
            }
        }
        proto.push(b'+');
        proto.extend_from_slice(&line);
        proto.extend_from_slice(b"\r\n");
    }
    write_all(fd, &proto);
}

/// Logs an error the script got (from a command, or raised by the `redis`
/// library), when stepping.
pub fn log_error(msg: &[u8]) {
    if logging() {
        let mut l = b"<error> ".to_vec();
        l.extend_from_slice(msg);
        log(l);
    }
}

/// Logs a command the script runs, when stepping: its first ten arguments.
pub fn log_command(argv: &[Vec<u8>]) {
    if !logging() {
        return;
    }
    let mut l = b"<redis>".to_vec();
    for (j, a) in argv.iter().enumerate() {
        if j == 10 {
            // (Redis's count, one short.)
            l.extend_from_slice(format!(" ... ({} more)", argv.len() - j - 1).as_bytes());
            break;
        }
        l.push(b' ');
        l.extend_from_slice(a);
    }
    log(l);
}

/// Logs a command's reply in readable form, when stepping.
pub fn log_reply(reply: &[u8]) {
    if !logging() {
        return;
    }
    let mut l = b"<reply> ".to_vec();
    let mut pos = 0;
    reply_to_human(&mut l, reply, &mut pos);
    log_with_maxlen(l);
}

// ---------------------------------------------------------------------------
// redis.breakpoint() and redis.debug().
// ---------------------------------------------------------------------------

/// redis.breakpoint(): in a session, stops at the next line; returns whether a
/// session runs.
pub fn breakpoint() -> bool {
    with(|s| {
        if s.active {
            s.luabp = true;
        }
        s.active
    })
}

/// redis.debug(...): in a session, logs its arguments with the current line.
pub fn debug(args: &[Value]) {
    let Some(line) = with(|s| s.active.then_some(s.currentline)) else {
        return;
    };
    let mut l = format!("<debug> line {}: ", line).into_bytes();
    for (i, v) in args.iter().enumerate() {
        if i > 0 {
            l.extend_from_slice(b", ");
        }
        repr(&mut l, v, 0);
    }
    log(l);
}

// ---------------------------------------------------------------------------
// Showing values and replies.
// ---------------------------------------------------------------------------

/// Appends a readable form of a Lua value (Redis's ldbCatStackValueRec):
/// strings quoted, numbers as %g, tables as `{1; 2}` when they are arrays and
/// `{["k"]=v}` otherwise, functions and the like by address.
fn repr(out: &mut Vec<u8>, v: &Value, level: usize) {
    if level == MAX_VALUES_DEPTH {
        out.extend_from_slice(b"<max recursion level reached! Nested table?>");
        return;
    }
    let level = level + 1;
    match v {
        Value::String(s) => quote(out, &s.as_bytes()),
        Value::Boolean(b) => out.extend_from_slice(if *b { b"true" } else { b"false" }),
        Value::Integer(i) => {
            out.extend_from_slice(super::convert::format_g(*i as f64, 6).as_bytes())
        }
        Value::Number(n) => out.extend_from_slice(super::convert::format_g(*n, 6).as_bytes()),
        Value::Nil => out.extend_from_slice(b"nil"),
        Value::Table(t) => {
            let mut expected = 1.0;
            let mut is_array = true;
            let mut as_array = Vec::new();
            let mut as_map = Vec::new();
            for pair in t.clone().pairs::<Value, Value>() {
                let Ok((k, val)) = pair else {
                    break;
                };
                let key_num = match &k {
                    Value::Integer(i) => Some(*i as f64),
                    Value::Number(n) => Some(*n),
                    _ => None,
                };
                if is_array && key_num != Some(expected) {
                    is_array = false;
                }
                repr(&mut as_array, &val, level);
                as_array.extend_from_slice(b"; ");
                as_map.push(b'[');
                repr(&mut as_map, &k, level);
                as_map.extend_from_slice(b"]=");
                repr(&mut as_map, &val, level);
                as_map.extend_from_slice(b"; ");
                expected += 1.0;
            }
            let body = if is_array { &mut as_array } else { &mut as_map };
            body.truncate(body.len().saturating_sub(2));
            out.push(b'{');
            out.extend_from_slice(body);
            out.push(b'}');
        }
        Value::Function(_)
        | Value::UserData(_)
        | Value::Thread(_)
        | Value::LightUserData(_)
        | Value::Error(_) => {
            let name = match v {
                Value::Function(_) => "function",
                Value::Thread(_) => "thread",
                Value::LightUserData(_) => "light-userdata",
                _ => "userdata",
            };
            out.extend_from_slice(format!("\"{}@{:p}\"", name, v.to_pointer()).as_bytes());
        }
        _ => out.extend_from_slice(b"\"<unknown-lua-type>\""),
    }
}

/// Appends `s` quoted and escaped as Redis's sdscatrepr.
fn quote(out: &mut Vec<u8>, s: &[u8]) {
    out.push(b'"');
    for &b in s {
        match b {
            b'\\' | b'"' => {
                out.push(b'\\');
                out.push(b);
            }
            b'\n' => out.extend_from_slice(b"\\n"),
            b'\r' => out.extend_from_slice(b"\\r"),
            b'\t' => out.extend_from_slice(b"\\t"),
            7 => out.extend_from_slice(b"\\a"),
            8 => out.extend_from_slice(b"\\b"),
            0x20..=0x7e => out.push(b),
            _ => out.extend_from_slice(format!("\\x{:02x}", b).as_bytes()),
        }
    }
    out.push(b'"');
}

/// One line of a reply at `*pos` (without its CRLF), moving past it.
fn reply_line<'a>(buf: &'a [u8], pos: &mut usize) -> &'a [u8] {
    let start = (*pos).min(buf.len());
    let end = buf[start..]
        .iter()
        .position(|&b| b == b'\r')
        .map(|p| start + p)
        .unwrap_or(buf.len());
    *pos = (end + 2).min(buf.len());
    &buf[start..end]
}

/// The number in a reply's header line (0 when it is not one).
fn reply_int(b: &[u8]) -> i64 {
    std::str::from_utf8(b)
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0)
}

/// Appends a readable form of the reply at `*pos` (Redis's
/// ldbRedisProtocolToHuman): `"bulk"`, `[a,b]`, `{k => v}`, `~(a)`... A type it
/// does not know adds nothing and is not skipped, as in Redis.
fn reply_to_human(out: &mut Vec<u8>, buf: &[u8], pos: &mut usize) {
    let Some(&kind) = buf.get(*pos) else {
        return;
    };
    match kind {
        b':' => {
            *pos += 1;
            out.extend_from_slice(reply_line(buf, pos));
        }
        b'$' => {
            *pos += 1;
            let n = reply_int(reply_line(buf, pos));
            if n < 0 {
                out.extend_from_slice(b"NULL");
                return;
            }
            let start = (*pos).min(buf.len());
            let end = start.saturating_add(n as usize).min(buf.len());
            quote(out, &buf[start..end]);
            *pos = end.saturating_add(2).min(buf.len());
        }
        b'+' | b'-' => {
            let l = reply_line(buf, pos);
            quote(out, l);
        }
        b'*' | b'~' => {
            *pos += 1;
            let n = reply_int(reply_line(buf, pos));
            if kind == b'*' && n < 0 {
                out.extend_from_slice(b"NULL");
                return;
            }
            out.extend_from_slice(if kind == b'*' { b"[" } else { b"~(" });
            // (A count past the bytes there are cannot be honoured: stop at the end.)
            for j in 0..n.min(buf.len() as i64) {
                reply_to_human(out, buf, pos);
                if j != n - 1 {
                    out.push(b',');
                }
            }
            out.push(if kind == b'*' { b']' } else { b')' });
        }
        b'%' => {
            *pos += 1;
            let n = reply_int(reply_line(buf, pos));
            out.push(b'{');
            for j in 0..n.min(buf.len() as i64) {
                reply_to_human(out, buf, pos);
                out.extend_from_slice(b" => ");
                reply_to_human(out, buf, pos);
                if j != n - 1 {
                    out.push(b',');
                }
            }
            out.push(b'}');
        }
        b'_' => {
            reply_line(buf, pos);
            out.extend_from_slice(b"(null)");
        }
        b'#' => {
            let l = reply_line(buf, pos);
            out.extend_from_slice(if l.get(1) == Some(&b't') {
                b"#true"
            } else {
                b"#false"
            });
        }
        b',' => {
            *pos += 1;
            out.extend_from_slice(b"(double) ");
            out.extend_from_slice(reply_line(buf, pos));
        }
        _ => {}
    }
}

// ---------------------------------------------------------------------------
// The source listing and breakpoints.
// ---------------------------------------------------------------------------

/// Line `line` (from 1) of the source, or Redis's placeholder.
fn source_line(s: &State, line: i32) -> Vec<u8> {
    if line >= 1 && (line as usize) <= s.src.len() {
        s.src[line as usize - 1].clone()
    } else {
        b"<out of range source code line>".to_vec()
    }
}

/// Logs source line `lnum`, marked `->` when current and `#` with a breakpoint.
fn log_source_line(s: &mut State, lnum: i32) {
    let bp = s.bp.contains(&lnum);
    let current = s.currentline == lnum;
    let prefix = match (current, bp) {
        (true, true) => "->#",
        (true, false) => "-> ",
        (false, true) => "  #",
        (false, false) => "   ",
    };
    let mut l = format!("{}{:<3} ", prefix, lnum).into_bytes();
    l.extend_from_slice(&source_line(s, lnum));
    s.logs.push(l);
}

/// Logs the lines within `context` of `around`, or all of them when `around` is 0.
fn list(s: &mut State, around: i32, context: i32) {
    for j in 1..=s.src.len() as i32 {
        if around != 0 && (around as i64 - j as i64).abs() > context as i64 {
            continue;
        }
        log_source_line(s, j);
    }
}

/// `break` [line|-line|0 ...]: lists, adds or removes breakpoints.
fn cmd_break(s: &mut State, argv: &[Vec<u8>]) {
    if argv.len() == 1 {
        if s.bp.is_empty() {
            s.logs
                .push(b"No breakpoints set. Use 'b <line>' to add one.".to_vec());
        } else {
            s.logs
                .push(format!("{} breakpoints set:", s.bp.len()).into_bytes());
            for line in s.bp.clone() {
                log_source_line(s, line);
            }
        }
        return;
    }
    for arg in &argv[1..] {
        let Some(line) = crate::server::util::parse_i64(arg).filter(|_| strict_long(arg)) else {
            let mut l = b"Invalid argument:'".to_vec();
            l.extend_from_slice(arg);
            l.push(b'\'');
            s.logs.push(l);
            continue;
        };
        if line == 0 {
            s.bp.clear();
            s.logs.push(b"All breakpoints removed.".to_vec());
        } else if line > 0 {
            if s.bp.len() == BREAKPOINTS_MAX {
                s.logs.push(b"Too many breakpoints set.".to_vec());
            } else if line <= s.src.len() as i64 && !s.bp.contains(&(line as i32)) {
                s.bp.push(line as i32);
                list(s, line as i32, 1);
            } else {
                s.logs.push(b"Wrong line number.".to_vec());
            }
        } else {
            let line = line.unsigned_abs();
            match s.bp.iter().position(|&b| b as u64 == line) {
                Some(i) => {
                    s.bp.remove(i);
                    s.logs.push(b"Breakpoint removed.".to_vec());
                }
                None => s
                    .logs
                    .push(b"No breakpoint in the specified line.".to_vec()),
            }
        }
    }
}

/// Whether `arg` is written as Redis's string2l accepts a number: an optional
/// minus, no leading zeros, no plus or spaces.
fn strict_long(arg: &[u8]) -> bool {
    if arg == b"0" {
        return true;
    }
    let digits = arg.strip_prefix(b"-").unwrap_or(arg);
    matches!(digits.first(), Some(b'1'..=b'9')) && digits.iter().all(u8::is_ascii_digit)
}

/// C's atoi: leading blanks, a sign and the digits that follow; 0 when there
/// are none. Out of range values wrap as glibc's (int)strtol does.
fn atoi(b: &[u8]) -> i32 {
    let mut i = 0;
    while i < b.len() && matches!(b[i], b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r') {
        i += 1;
    }
    let neg = match b.get(i) {
        Some(b'-') => {
            i += 1;
            true
        }
        Some(b'+') => {
            i += 1;
            false
        }
        _ => false,
    };
    let mut v: i64 = 0;
    while i < b.len() && b[i].is_ascii_digit() {
        v = v.saturating_mul(10).saturating_add((b[i] - b'0') as i64);
        i += 1;
    }
    let v = if neg { v.saturating_neg() } else { v };
    v as i32
}

/// `maxlen` [len]: shows or sets the trimming (at least 60 unless 0).
fn cmd_maxlen(s: &mut State, argv: &[Vec<u8>]) {
    if argv.len() == 2 {
        let mut v = atoi(&argv[1]);
        s.maxlen_hint_sent = true;
        if v != 0 && v <= 60 {
            v = 60;
        }
        s.maxlen = v as usize;
    }
    if s.maxlen > 0 {
        s.logs.push(
            format!(
                "<value> replies are truncated at {} bytes.",
                s.maxlen as i32
            )
            .into_bytes(),
        );
    } else {
        s.logs.push(b"<value> replies are unlimited.".to_vec());
    }
}

/// What `help` shows, line by line.
const HELP: &[&str] = &[
    "Redis Lua debugger help:",
    "[h]elp               Show this help.",
    "[s]tep               Run current line and stop again.",
    "[n]ext               Alias for step.",
    "[c]ontinue           Run till next breakpoint.",
    "[l]ist               List source code around current line.",
    "[l]ist [line]        List source code around [line].",
    "                     line = 0 means: current position.",
    "[l]ist [line] [ctx]  In this form [ctx] specifies how many lines",
    "                     to show before/after [line].",
    "[w]hole              List all source code. Alias for 'list 1 1000000'.",
    "[p]rint              Show all the local variables.",
    "[p]rint <var>        Show the value of the specified variable.",
    "                     Can also show global vars KEYS and ARGV.",
    "[b]reak              Show all breakpoints.",
    "[b]reak <line>       Add a breakpoint to the specified line.",
    "[b]reak -<line>      Remove breakpoint from the specified line.",
    "[b]reak 0            Remove all breakpoints.",
    "[t]race              Show a backtrace.",
    "[e]val <code>        Execute some Lua code (in a different callframe).",
    "[r]edis <cmd>        Execute a Redis command.",
    "[m]axlen [len]       Trim logged Redis replies and Lua var dumps to len.",
    "                     Specifying zero as <len> means unlimited.",
    "[a]bort              Stop the execution of the script. In sync",
    "                     mode dataset changes will be retained.",
    "",
    "Debugger functions you can call from Lua scripts:",
    "redis.debug()        Produce logs in the debugger console.",
    "redis.breakpoint()   Stop execution like if there was a breakpoint in the",
    "                     next line of code.",
];

// ---------------------------------------------------------------------------
// Reading debugger commands.
// ---------------------------------------------------------------------------

/// Why reading a command failed.
#[derive(Debug, PartialEq, Eq)]
enum Parse {
    /// More bytes are needed.
    Incomplete,
    /// The bytes are not a command (the session fails).
    ProtocolError,
}

/// The first byte at or after `from` that C string functions stop at: a NUL or
/// the end (Redis parses a C-string copy of the buffer).
fn cstr_end(buf: &[u8], from: usize) -> usize {
    buf[from.min(buf.len())..]
        .iter()
        .position(|&b| b == 0)
        .map_or(buf.len(), |p| from + p)
}

/// strstr(buf + from, "\r\n") on the C string at `from`.
fn find_crlf(buf: &[u8], from: usize) -> Option<usize> {
    let end = cstr_end(buf, from);
    buf[from.min(end)..end]
        .windows(2)
        .position(|w| w == b"\r\n")
        .map(|p| from + p)
}

/// Parses one multibulk command from the debugger input, as forgivingly as
/// Redis's ldbReplParseCommand: anything before the first `*` is skipped, at
/// most 1024 arguments of 1 to 1024 bytes each.
fn parse_command(buf: &[u8]) -> Result<Vec<Vec<u8>>, Parse> {
    if buf.is_empty() {
        return Err(Parse::Incomplete);
    }
    let end = cstr_end(buf, 0);
    let star = buf[..end]
        .iter()
        .position(|&b| b == b'*')
        .ok_or(Parse::ProtocolError)?;
    let crlf = find_crlf(buf, star).ok_or(Parse::Incomplete)?;
    let argc = atoi(&buf[star + 1..crlf]);
    if argc <= 0 || argc > MAX_ARGS {
        return Err(Parse::ProtocolError);
    }
    let mut p = crlf + 2;
    let mut argv = Vec::with_capacity(argc as usize);
    while argv.len() < argc as usize {
        match buf.get(p) {
            None | Some(0) => return Err(Parse::Incomplete),
            Some(b'$') => {}
            Some(_) => return Err(Parse::ProtocolError),
        }
        let crlf = find_crlf(buf, p).ok_or(Parse::Incomplete)?;
        let len = atoi(&buf[p + 1..crlf]);
        if len <= 0 || len > MAX_ARGS {
            return Err(Parse::ProtocolError);
        }
        let start = crlf + 2;
        let stop = start + len as usize;
        if stop + 2 > buf.len() {
            return Err(Parse::Incomplete);
        }
        argv.push(buf[start..stop].to_vec());
        if &buf[stop..stop + 2] != b"\r\n" {
            return Err(Parse::ProtocolError);
        }
        p = stop + 2;
    }
    Ok(argv)
}

/// How a stop's conversation with the client ended.
enum Repl {
    /// A command resumed the script.
    Resume,
    /// The client is gone: the script runs on without stopping.
    Gone,
}

/// The Lua side of a session: the script's environment and the prelude's
/// `ldb` helpers.
#[derive(Clone)]
pub struct Helpers {
    pub env: Table,
    pub ldb: Table,
}

/// Reads and runs debugger commands until one resumes the script (Redis's
/// ldbRepl). Err is the error the script must fail with (protocol error,
/// oversized input, abort).
fn repl(lua: &Lua, h: &Helpers) -> Result<Repl, String> {
    loop {
        let argv = loop {
            let parsed = with(|s| parse_command(&s.cbuf));
            match parsed {
                Ok(argv) => break argv,
                Err(Parse::ProtocolError) => return Err("protocol error".into()),
                Err(Parse::Incomplete) => {}
            }
            let fd = with(|s| s.fd);
            let Some(data) = read_some(fd) else {
                with(|s| {
                    s.step = false;
                    s.bp.clear();
                });
                return Ok(Repl::Gone);
            };
            let over = with(|s| {
                s.cbuf.extend_from_slice(&data);
                if s.cbuf.len() > MAX_CBUF {
                    s.cbuf.clear();
                    true
                } else {
                    false
                }
            });
            if over {
                return Err("max client buffer reached".into());
            }
        };
        // Whatever followed the command in the buffer is dropped, as in Redis.
        with(|s| s.cbuf.clear());
        let name = argv[0].to_ascii_lowercase();
        match name.as_slice() {
            b"h" | b"help" => with(|s| {
                for l in HELP {
                    s.logs.push(l.as_bytes().to_vec());
                }
            }),
            b"s" | b"step" | b"n" | b"next" => {
                with(|s| s.step = true);
                return Ok(Repl::Resume);
            }
            b"c" | b"continue" => return Ok(Repl::Resume),
            b"t" | b"trace" => trace(lua),
            b"m" | b"maxlen" => with(|s| cmd_maxlen(s, &argv)),
            b"b" | b"break" => with(|s| cmd_break(s, &argv)),
            b"e" | b"eval" => eval(lua, h, &argv),
            b"a" | b"abort" => return Err("script aborted for user request".into()),
            b"r" | b"redis" if argv.len() > 1 => redis(lua, h, &argv),
            b"p" | b"print" => {
                if argv.len() == 2 {
                    print_var(lua, h, &argv[1]);
                } else {
                    print_all(h);
                }
            }
            b"l" | b"list" => with(|s| {
                let mut around = s.currentline;
                let mut ctx = 5;
                if argv.len() > 1 {
                    let num = atoi(&argv[1]);
                    if num > 0 {
                        around = num;
                    }
                }
                if argv.len() > 2 {
                    ctx = atoi(&argv[2]);
                }
                list(s, around, ctx);
            }),
            b"w" | b"whole" => with(|s| list(s, 1, 1_000_000)),
            _ => log(
                b"<error> Unknown Redis Lua debugger command or wrong number of arguments."
                    .to_vec(),
            ),
        }
        send_logs();
    }
}

/// `trace`: the script's frames from the stopped one outwards.
fn trace(lua: &Lua) {
    let mut level = 0;
    while let Some(d) = lua.inspect_stack(level) {
        let src = d
            .source()
            .short_src
            .map(|s| s.into_owned())
            .unwrap_or_default();
        if src.contains("user_script") {
            let name = d
                .names()
                .name
                .map(|n| n.into_owned())
                .unwrap_or_else(|| "top level".into());
            let line = d.curr_line();
            log(format!("{} {}:", if level == 0 { "In" } else { "From" }, name).into_bytes());
            with(|s| log_source_line(s, line));
        }
        level += 1;
    }
    if level == 0 {
        log(b"<error> Can't retrieve Lua stack.".to_vec());
    }
}

/// Logs `value` after `prefix`, trimmed to maxlen.
fn log_value(prefix: &[u8], value: &Value) {
    let mut l = prefix.to_vec();
    repr(&mut l, value, 0);
    log_with_maxlen(l);
}

/// `print <var>`: the innermost local of that name from the stopped frame
/// outwards, else the globals KEYS and ARGV.
fn print_var(lua: &Lua, h: &Helpers, name: &[u8]) {
    let found = h
        .ldb
        .get::<Function>("find")
        .and_then(|f| f.call::<(bool, Value)>(lua.create_string(name)?));
    match found {
        Ok((true, v)) => log_value(b"<value> ", &v),
        _ if name == b"ARGV" || name == b"KEYS" => {
            let v = lua
                .globals()
                .raw_get::<Value>(String::from_utf8_lossy(name).as_ref())
                .unwrap_or(Value::Nil);
            log_value(b"<value> ", &v);
        }
        _ => log(b"No such variable.".to_vec()),
    }
}

/// `print`: every local of the stopped frame.
fn print_all(h: &Helpers) {
    let locals = h
        .ldb
        .get::<Function>("locals")
        .and_then(|f| f.call::<(Table, Table, i64)>(()));
    let mut vars = 0;
    if let Ok((names, values, n)) = locals {
        for i in 1..=n {
            let name: mlua::String = match names.raw_get(i) {
                Ok(s) => s,
                Err(_) => continue,
            };
            let v: Value = values.raw_get(i).unwrap_or(Value::Nil);
            let mut prefix = b"<value> ".to_vec();
            prefix.extend_from_slice(&name.as_bytes());
            prefix.extend_from_slice(b" = ");
            log_value(&prefix, &v);
            vars += 1;
        }
    }
    if vars == 0 {
        log(b"No local variables in the current context.".to_vec());
    }
}

/// The message of an error value as lua_tostring gives it.
fn error_text(v: &Value) -> Vec<u8> {
    match v {
        Value::Table(t) => match t.raw_get::<Value>("err") {
            Ok(e @ Value::String(_)) => error_text(&e),
            _ => b"(null)".to_vec(),
        },
        Value::Error(e) => super::redis_lib::error_message(e).into_bytes(),
        other => super::redis_lib::lua_tostring(other).unwrap_or_else(|| b"(null)".to_vec()),
    }
}

/// `eval <code>`: runs the arguments joined by spaces, as an expression if
/// they compile as one, and logs the value or the error.
fn eval(lua: &Lua, h: &Helpers, argv: &[Vec<u8>]) {
    let code = argv[1..].join(&b' ');
    let mut expr = b"return ".to_vec();
    expr.extend_from_slice(&code);
    let compiled = compile(lua, h, &expr).or_else(|_| compile(lua, h, &code));
    let f = match compiled {
        Ok(f) => f,
        Err(e) => {
            let mut l = b"<error> ".to_vec();
            l.extend_from_slice(e.as_bytes());
            log(l);
            return;
        }
    };
    match protected_call(h, f, Vec::new()) {
        Ok(v) => log_value(b"<retval> ", &v),
        Err(e) => {
            let mut l = b"<error> ".to_vec();
            l.extend_from_slice(&error_text(&e));
            log(l);
        }
    }
}

/// Compiles debugger code as `@ldb_eval` in the scripts' environment.
fn compile(lua: &Lua, h: &Helpers, code: &[u8]) -> Result<Function, String> {
    let f = lua
        .load(code)
        .set_name("@ldb_eval")
        .set_mode(mlua::ChunkMode::Text)
        .into_function()
        .map_err(|e| match e {
            mlua::Error::SyntaxError { message, .. } => message,
            other => other.to_string(),
        })?;
    f.set_environment(h.env.clone())
        .map_err(|e| e.to_string())?;
    Ok(f)
}

/// Calls `f` through Lua's pcall: its first result, or the raw error value.
fn protected_call(h: &Helpers, f: Function, args: Vec<Value>) -> Result<Value, Value> {
    let pcall: Function = h.ldb.get("pcall").map_err(|_| Value::Nil)?;
    let mut call_args = vec![Value::Function(f)];
    call_args.extend(args);
    match pcall.call::<mlua::MultiValue>(mlua::MultiValue::from_vec(call_args)) {
        Ok(mut out) => {
            let ok = matches!(out.pop_front(), Some(Value::Boolean(true)));
            let v = out.pop_front().unwrap_or(Value::Nil);
            if ok {
                Ok(v)
            } else {
                Err(v)
            }
        }
        Err(e) => Err(Value::Error(Box::new(e))),
    }
}

/// `redis <cmd> [args]`: runs the command through redis.call, logging it and
/// its reply as when stepping.
fn redis(lua: &Lua, h: &Helpers, argv: &[Vec<u8>]) {
    let call = lua
        .globals()
        .get::<Table>("redis")
        .and_then(|r| r.get::<Function>("call"));
    let Ok(call) = call else {
        return;
    };
    let mut args = Vec::with_capacity(argv.len() - 1);
    for a in &argv[1..] {
        match lua.create_string(a) {
            Ok(s) => args.push(Value::String(s)),
            Err(_) => return,
        }
    }
    with(|s| s.step = true);
    let _ = protected_call(h, call, args);
    with(|s| s.step = false);
}

// ---------------------------------------------------------------------------
// The line hook.
// ---------------------------------------------------------------------------

/// The hook of a debugged script, called at every line and every 100000
/// instructions (Redis's luaLdbLineHook): stops at breakpoints, after `step`,
/// after redis.breakpoint(), and when the script ran past busy-reply-threshold
/// without stopping; then holds the conversation with the client.
pub fn hook(lua: &Lua, h: &Helpers, debug: &mlua::Debug) -> mlua::Result<VmState> {
    let source = debug.source();
    // The sandbox's own Lua code is not the user's.
    if source.source.as_deref() == Some("@__redis__") {
        return Ok(VmState::Continue);
    }
    let line = debug.curr_line();
    let is_count = matches!(debug.event(), mlua::DebugEvent::Count);
    let (bp, step) = with(|s| {
        s.currentline = line;
        (s.bp.contains(&line) || s.luabp, s.step)
    });
    let user = source
        .short_src
        .as_deref()
        .is_some_and(|s| s.contains("user_script"));
    if !user {
        return Ok(VmState::Continue);
    }
    let mut timeout = false;
    if is_count && !step && !bp {
        let elapsed =
            super::redis_lib::with_ctx(|c| c.start.elapsed().as_millis() as i64).unwrap_or(0);
        let limit = super::redis_lib::with_ctx(|c| {
            // SAFETY: see redis_lib: the EVAL handler's borrows are unused while
            // the script runs.
            let srv: &Server = unsafe { &*c.srv };
            super::busy::threshold_ms(srv)
        })
        .unwrap_or(5000);
        let limit = if limit > 0 { limit } else { 5000 };
        if elapsed < limit {
            return Ok(VmState::Continue);
        }
        timeout = true;
        with(|s| s.step = true);
    }
    if !(step || bp || timeout) {
        return Ok(VmState::Continue);
    }
    with(|s| {
        let reason = if bp {
            if s.luabp {
                "redis.breakpoint() called"
            } else {
                "break point"
            }
        } else if timeout {
            "timeout reached, infinite loop?"
        } else {
            "step over"
        };
        s.step = false;
        s.luabp = false;
        s.logs
            .push(format!("* Stopped at {}, stop reason = {}", s.currentline, reason).into_bytes());
        let current = s.currentline;
        log_source_line(s, current);
    });
    send_logs();
    match repl(lua, h) {
        Err(e) => return Err(mlua::Error::runtime(e)),
        Ok(Repl::Gone) if timeout => {
            return Err(mlua::Error::runtime(
                "timeout during Lua debugging with client closing connection",
            ))
        }
        Ok(_) => {}
    }
    // The time spent stopped does not count.
    super::redis_lib::with_ctx(|c| c.start = std::time::Instant::now());
    crate::server::util::freeze_expiry_time(crate::server::util::now_ms());
    Ok(VmState::Continue)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(v: &[&str]) -> Vec<Vec<u8>> {
        v.iter().map(|s| s.as_bytes().to_vec()).collect()
    }

    #[test]
    fn commands_parse_as_redis_parses_them() {
        assert_eq!(parse_command(b"*1\r\n$1\r\ns\r\n"), Ok(args(&["s"])));
        assert_eq!(parse_command(b"xx*1\r\n$1\r\nh\r\n"), Ok(args(&["h"])));
        assert_eq!(parse_command(b""), Err(Parse::Incomplete));
        assert_eq!(parse_command(b"*2\r\n$1\r\nh\r\n"), Err(Parse::Incomplete));
        assert_eq!(parse_command(b"*1\r\n$3\r\nab"), Err(Parse::Incomplete));
        assert_eq!(parse_command(b"s\r\n"), Err(Parse::ProtocolError));
        assert_eq!(parse_command(b"*0\r\n"), Err(Parse::ProtocolError));
        assert_eq!(parse_command(b"*1025\r\n"), Err(Parse::ProtocolError));
        assert_eq!(
            parse_command(b"*1\r\n$0\r\n\r\n"),
            Err(Parse::ProtocolError)
        );
        assert_eq!(
            parse_command(b"*1\r\n$1\r\nsX\r\n"),
            Err(Parse::ProtocolError)
        );
        assert_eq!(parse_command(b"*1\r\n+x\r\n"), Err(Parse::ProtocolError));
        assert_eq!(
            parse_command(b"*1\r\n$11\r\nhello\0world\r\n"),
            Ok(vec![b"hello\0world".to_vec()])
        );
        // A NUL where an argument should start waits for more, as in Redis.
        assert_eq!(parse_command(b"*1\r\n\0"), Err(Parse::Incomplete));
    }

    #[test]
    fn replies_read_as_redis_shows_them() {
        let human = |r: &[u8]| {
            let mut out = Vec::new();
            reply_to_human(&mut out, r, &mut 0);
            String::from_utf8(out).unwrap()
        };
        assert_eq!(human(b"+OK\r\n"), "\"+OK\"");
        assert_eq!(human(b"-ERR x\r\n"), "\"-ERR x\"");
        assert_eq!(human(b":12\r\n"), "12");
        assert_eq!(human(b"$-1\r\n"), "NULL");
        assert_eq!(human(b"$3\r\na\nb\r\n"), "\"a\\nb\"");
        assert_eq!(human(b"*2\r\n$1\r\na\r\n:1\r\n"), "[\"a\",1]");
        assert_eq!(human(b"*0\r\n"), "[]");
        assert_eq!(human(b"%1\r\n+a\r\n#t\r\n"), "{\"+a\" => #true}");
        assert_eq!(human(b"~1\r\n,1.5\r\n"), "~((double) 1.5)");
        assert_eq!(human(b"_\r\n"), "(null)");
        assert_eq!(human(b"*2\r\n"), "[,]");
    }

    #[test]
    fn numbers_parse_as_c_does() {
        assert_eq!(atoi(b"12abc"), 12);
        assert_eq!(atoi(b"  -7"), -7);
        assert_eq!(atoi(b"x"), 0);
        assert!(strict_long(b"0") && strict_long(b"-3") && strict_long(b"12"));
        assert!(!strict_long(b"-0") && !strict_long(b"+1") && !strict_long(b"01"));
        assert!(!strict_long(b"x") && !strict_long(b""));
    }

    #[test]
    fn strings_quote_as_sdscatrepr() {
        let mut out = Vec::new();
        quote(&mut out, b"a\0\x01\n\"b\t\\");
        assert_eq!(out, b"\"a\\x00\\x01\\n\\\"b\\t\\\\\"".to_vec());
    }
}
