//! XADD, XTRIM, XDEL, XSETID, XLEN, XRANGE and XREVRANGE.
use super::*;
use crate::server::client::ClientKind;
use crate::server::resp::errors;
use crate::server::types::stream::id::{parse_id, parse_interval, ParsedId};
use crate::server::types::stream::{AppendError, Trim};

/// What XADD and XTRIM parsed (streamAddTrimArgs).
struct TrimArgs {
    trim: Option<Trim>,
    approx: bool,
    limit: u64,
    /// Index of the MAXLEN/MINID value argument.
    trim_arg: usize,
    id: Option<ParsedId>,
    id_pos: usize,
    no_mkstream: bool,
}

/// Parses the options of XADD (`xadd`) or XTRIM (streamParseAddOrTrimArgsOrReply).
fn parse_trim_args(srv: &Server, c: &mut Client, argv: &[Vec<u8>], xadd: bool) -> Option<TrimArgs> {
    let mut a = TrimArgs {
        trim: None,
        approx: false,
        limit: 0,
        trim_arg: 0,
        id: None,
        id_pos: 0,
        no_mkstream: false,
    };
    let mut limit_given = false;
    let mut i = 2;
    while i < argv.len() {
        let more = argv.len() - 1 - i;
        let opt = &argv[i][..];
        if xadd && opt == b"*" {
            break;
        } else if (eq_ignore_case(opt, b"maxlen") || eq_ignore_case(opt, b"minid")) && more > 0 {
            let maxlen = eq_ignore_case(opt, b"maxlen");
            if a.trim.is_some() {
                c.reply.error("ERR syntax error, MAXLEN and MINID options at the same time are not compatible");
                return None;
            }
            a.approx = false;
            let next = &argv[i + 1][..];
            if more >= 2 && next == b"~" {
                a.approx = true;
                i += 1;
            } else if more >= 2 && next == b"=" {
                i += 1;
            }
            if maxlen {
                let v = parse_ll(c, &argv[i + 1], None)?;
                if v < 0 {
                    c.reply.error("ERR The MAXLEN argument must be >= 0.");
                    return None;
                }
                a.trim = Some(Trim::MaxLen(v as u64));
            } else {
                let id = parse_id_or_reply(c, &argv[i + 1], 0, true)?;
                a.trim = Some(Trim::MinId(id));
            }
            i += 1;
            a.trim_arg = i;
        } else if eq_ignore_case(opt, b"limit") && more > 0 {
            let v = parse_ll(c, &argv[i + 1], None)?;
            if v < 0 {
                c.reply.error("ERR The LIMIT argument must be >= 0.");
                return None;
            }
            a.limit = v as u64;
            limit_given = true;
            i += 1;
        } else if xadd && eq_ignore_case(opt, b"nomkstream") {
            a.no_mkstream = true;
        } else if xadd {
            match parse_id(opt, 0, true, true) {
                Ok(p) => a.id = Some(p),
                Err(e) => {
                    c.reply.error(e);
                    return None;
                }
            }
            break;
        } else {
            c.reply.error(errors::SYNTAX);
            return None;
        }
        i += 1;
    }
    a.id_pos = i;
    if a.limit > 0 && a.trim.is_none() {
        c.reply
            .error("ERR syntax error, LIMIT cannot be used without specifying a trimming strategy");
        return None;
    }
    if !xadd && a.trim.is_none() {
        c.reply
            .error("ERR syntax error, XTRIM must be called with a trimming strategy");
        return None;
    }
    if c.kind == ClientKind::Master {
        a.limit = 0;
    } else if limit_given {
        if !a.approx {
            c.reply
                .error("ERR syntax error, LIMIT cannot be used without the special ~ option");
            return None;
        }
    } else if a.approx {
        let l = 100i64.saturating_mul(srv.config.stream_node_max_entries as i64);
        a.limit = if l <= 0 {
            10000
        } else {
            l.min(1_000_000) as u64
        };
    } else {
        a.limit = 0;
    }
    Some(a)
}

/// The trim argument propagated for an approximate trim: MAXLEN's resulting
/// length or MINID's resulting first id (streamRewriteTrimArgument).
fn exact_trim_arg(s: &Stream, trim: Trim) -> Vec<u8> {
    match trim {
        Trim::MaxLen(_) => s.length.to_string().into_bytes(),
        Trim::MinId(_) => s.edge_id(false).to_bytes(),
    }
}

/// XADD key [NOMKSTREAM] [MAXLEN|MINID [=|~] threshold [LIMIT count]] *|id
/// field value [field value ...]: appends an entry and replies with its id
/// (a null reply with NOMKSTREAM on a missing key). Propagated with the id it
/// generated and, for `~` trimming, the exact outcome (`=` and the resulting
/// length or first id). Wakes blocked XREAD/XREADGROUP clients.
pub(super) fn xadd(srv: &mut Server, c: &mut Client, argv: &[Vec<u8>]) {
    let Some(a) = parse_trim_args(srv, c, argv, true) else {
        return;
    };
    let field_pos = a.id_pos + 1;
    if argv.len() < field_pos + 2 || (argv.len() - field_pos) % 2 == 1 {
        c.reply
            .error("ERR wrong number of arguments for 'xadd' command");
        return;
    }
    if let Some(p) = a.id {
        if p.seq_given && p.id.is_zero() {
            c.reply
                .error("ERR The ID specified in XADD must be greater than 0-0");
            return;
        }
    }
    let db = c.db;
    let key = &argv[1];
    match stream_write(srv, c, key) {
        Err(()) => return,
        Ok(Some(_)) => {}
        Ok(None) => {
            if a.no_mkstream {
                c.reply.null();
                return;
            }
            srv.dbs[db].set(key, Value::Stream(Box::default()), false);
            crate::server::notify::new_key(srv, key, db);
        }
    }
    let max_bytes = srv.config.stream_node_max_bytes as usize;
    let max_entries = srv.config.stream_node_max_entries as usize;
    // The propagated form (the generated id, the exact trim) is a copy of
    // the arguments: built only when the stream has a reader.
    let wanted = srv.propagation_wanted();
    let Some(Value::Stream(s)) = srv.dbs[db].get_mut(key).map(|e| &mut e.value) else {
        return;
    };
    if s.last_id == StreamId::MAX {
        c.reply
            .error("ERR The stream has exhausted the last possible ID, unable to add more items");
        return;
    }
    let pairs: Vec<(&[u8], &[u8])> = argv[field_pos..]
        .chunks(2)
        .map(|p| (&p[0][..], &p[1][..]))
        .collect();
    let now_ms = crate::server::util::now_ms().max(0) as u64;
    let id = match s.append(
        &pairs,
        a.id.map(|p| (p.id, p.seq_given)),
        now_ms,
        max_bytes,
        max_entries,
    ) {
        Ok(id) => id,
        Err(AppendError::NotGreater) => {
            c.reply.error(
                "ERR The ID specified in XADD is equal or smaller than the target stream top item",
            );
            return;
        }
        Err(AppendError::TooLarge) => {
            c.reply.error("ERR Elements are too large to be stored");
            return;
        }
    };
    reply_id(c, id);
    let mut rewritten: Option<Vec<Vec<u8>>> = None;
    let mut trimmed = 0;
    if let Some(t) = a.trim {
        trimmed = s.trim(t, a.approx, a.limit);
        if a.approx && wanted {
            let mut v = argv.to_vec();
            v[a.trim_arg - 1] = b"=".to_vec();
            v[a.trim_arg] = exact_trim_arg(s, t);
            rewritten = Some(v);
        }
    }
    if wanted && a.id.is_none_or(|p| !p.seq_given) {
        let mut v = rewritten.unwrap_or_else(|| argv.to_vec());
        v[a.id_pos] = id.to_bytes();
        rewritten = Some(v);
    }
    srv.signal_modified(db, key);
    crate::server::notify::notify(srv, crate::server::notify::STREAM, "xadd", key, db);
    if trimmed > 0 {
        crate::server::notify::notify(srv, crate::server::notify::STREAM, "xtrim", key, db);
    }
    srv.add_dirty(1);
    if let Some(v) = rewritten {
        srv.propagate_instead(db, vec![v]);
    }
    srv.signal_key_ready(db, key);
}

/// XTRIM key MAXLEN|MINID [=|~] threshold [LIMIT count]: trims the stream and
/// replies with the number of entries removed; `~` trimming is propagated
/// with its exact outcome.
pub(super) fn xtrim(srv: &mut Server, c: &mut Client, argv: &[Vec<u8>]) {
    let Some(a) = parse_trim_args(srv, c, argv, false) else {
        return;
    };
    let db = c.db;
    let s = match stream_write(srv, c, &argv[1]) {
        Err(()) => return,
        Ok(None) => {
            c.reply.int(0);
            return;
        }
        Ok(Some(s)) => s,
    };
    let Some(t) = a.trim else { return };
    let deleted = s.trim(t, a.approx, a.limit);
    if deleted > 0 {
        if a.approx {
            let mut v = argv.to_vec();
            v[a.trim_arg - 1] = b"=".to_vec();
            v[a.trim_arg] = exact_trim_arg(s, t);
            srv.propagate_instead(db, vec![v]);
        }
        srv.signal_modified(db, &argv[1]);
        crate::server::notify::notify(srv, crate::server::notify::STREAM, "xtrim", &argv[1], db);
        srv.add_dirty(deleted);
    }
    c.reply.int(deleted as i64);
}

/// XDEL key id [id ...]: deletes entries, replies with how many existed.
/// Updates the first id and max deleted id as Redis does.
pub(super) fn xdel(srv: &mut Server, c: &mut Client, argv: &[Vec<u8>]) {
    let db = c.db;
    let s = match stream_write(srv, c, &argv[1]) {
        Err(()) => return,
        Ok(None) => {
            c.reply.int(0);
            return;
        }
        Ok(Some(s)) => s,
    };
    let mut ids = Vec::with_capacity(argv.len() - 2);
    for a in &argv[2..] {
        match crate::server::types::stream::id::parse_strict(a, 0) {
            Ok(id) => ids.push(id),
            Err(e) => {
                c.reply.error(e);
                return;
            }
        }
    }
    let mut deleted = 0u64;
    let mut first_entry = false;
    for id in ids {
        if s.delete(id) {
            if id == s.first_id {
                first_entry = true;
            }
            if id > s.max_deleted {
                s.max_deleted = id;
            }
            deleted += 1;
        }
    }
    if deleted > 0 {
        if s.length == 0 {
            s.first_id = StreamId::MIN;
        } else if first_entry {
            s.first_id = s.edge_id(false);
        }
        srv.signal_modified(db, &argv[1]);
        crate::server::notify::notify(srv, crate::server::notify::STREAM, "xdel", &argv[1], db);
        srv.add_dirty(deleted);
    }
    c.reply.int(deleted as i64);
}

/// XSETID key last-id [ENTRIESADDED entries-added] [MAXDELETEDID max-deleted-id]:
/// sets the stream's last id and counters.
pub(super) fn xsetid(srv: &mut Server, c: &mut Client, argv: &[Vec<u8>]) {
    let Some(id) = parse_id_or_reply(c, &argv[2], 0, true) else {
        return;
    };
    let mut entries_added: i64 = -1;
    let mut max_xdel = StreamId::MIN;
    let mut i = 3;
    while i < argv.len() {
        let more = argv.len() - 1 - i;
        let opt = &argv[i][..];
        if eq_ignore_case(opt, b"entriesadded") && more > 0 {
            let Some(v) = parse_ll(c, &argv[i + 1], None) else {
                return;
            };
            if v < 0 {
                c.reply.error("ERR entries_added must be positive");
                return;
            }
            entries_added = v;
            i += 2;
        } else if eq_ignore_case(opt, b"maxdeletedid") && more > 0 {
            let Some(v) = parse_id_or_reply(c, &argv[i + 1], 0, true) else {
                return;
            };
            if id < v {
                c.reply.error("ERR The ID specified in XSETID is smaller than the provided max_deleted_entry_id");
                return;
            }
            max_xdel = v;
            i += 2;
        } else {
            c.reply.error(errors::SYNTAX);
            return;
        }
    }
    let db = c.db;
    let s = match stream_write(srv, c, &argv[1]) {
        Err(()) => return,
        Ok(None) => {
            c.reply.error(errors::NO_SUCH_KEY);
            return;
        }
        Ok(Some(s)) => s,
    };
    if s.length > 0 {
        // The newest entry still there, not last_id: after XDEL of the top
        // entries the id may go back down to it (streamLastValidID).
        let maxid = s.edge_id(true);
        if id < maxid {
            c.reply
                .error("ERR The ID specified in XSETID is smaller than the target stream top item");
            return;
        }
        if entries_added != -1 && s.length > entries_added as u64 {
            c.reply.error("ERR The entries_added specified in XSETID is smaller than the target stream length");
            return;
        }
    }
    s.last_id = id;
    if entries_added != -1 {
        s.entries_added = entries_added as u64;
    }
    if !max_xdel.is_zero() {
        s.max_deleted = max_xdel;
    }
    c.reply.ok();
    srv.signal_modified(db, &argv[1]);
    crate::server::notify::notify(srv, crate::server::notify::STREAM, "xsetid", &argv[1], db);
    srv.add_dirty(1);
}

/// XLEN key: the number of entries (0 for a missing key).
pub(super) fn xlen(srv: &mut Server, c: &mut Client, argv: &[Vec<u8>]) {
    match stream_read(srv, c, &argv[1]) {
        Err(()) => {}
        Ok(None) => c.reply.int(0),
        Ok(Some(s)) => c.reply.int(s.length as i64),
    }
}

/// Shared body of XRANGE and XREVRANGE (xrangeGenericCommand): `(` makes a
/// bound exclusive; COUNT 0 replies with a null array.
fn range_generic(srv: &mut Server, c: &mut Client, argv: &[Vec<u8>], rev: bool) {
    let (sa, ea) = if rev {
        (&argv[3], &argv[2])
    } else {
        (&argv[2], &argv[3])
    };
    let (mut start, sx) = match parse_interval(sa, 0) {
        Ok(v) => v,
        Err(e) => {
            c.reply.error(e);
            return;
        }
    };
    if sx {
        match start.incr() {
            Some(s) => start = s,
            None => {
                c.reply.error("ERR invalid start ID for the interval");
                return;
            }
        }
    }
    let (mut end, ex) = match parse_interval(ea, u64::MAX) {
        Ok(v) => v,
        Err(e) => {
            c.reply.error(e);
            return;
        }
    };
    if ex {
        match end.decr() {
            Some(e) => end = e,
            None => {
                c.reply.error("ERR invalid end ID for the interval");
                return;
            }
        }
    }
    let mut count: i64 = -1;
    let mut j = 4;
    while j < argv.len() {
        if eq_ignore_case(&argv[j], b"count") && j + 1 < argv.len() {
            let Some(v) = parse_ll(c, &argv[j + 1], None) else {
                return;
            };
            count = v.max(0);
            j += 2;
        } else {
            c.reply.error(errors::SYNTAX);
            return;
        }
    }
    let s = match stream_read(srv, c, &argv[1]) {
        Err(()) => return,
        Ok(None) => {
            c.reply.array(0);
            return;
        }
        Ok(Some(s)) => s,
    };
    if count == 0 {
        c.reply.null_array();
        return;
    }
    let limit = if count < 0 {
        usize::MAX
    } else {
        count as usize
    };
    deferred_array(c, |c| {
        let mut n = 0usize;
        s.for_range(start, end, rev, |id, fields| {
            reply_entry(c, id, &fields);
            n += 1;
            n < limit
        });
        n
    });
}

/// XRANGE key start end [COUNT count]: entries from start to end.
pub(super) fn xrange(srv: &mut Server, c: &mut Client, argv: &[Vec<u8>]) {
    range_generic(srv, c, argv, false)
}

/// XREVRANGE key end start [COUNT count]: entries from end down to start.
pub(super) fn xrevrange(srv: &mut Server, c: &mut Client, argv: &[Vec<u8>]) {
    range_generic(srv, c, argv, true)
}
