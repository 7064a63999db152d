//! XACK, XPENDING, XCLAIM and XAUTOCLAIM: the pending entries lists.
use super::read::{setid_effect, xclaim_effect};
use super::*;
use crate::server::resp::errors;
use crate::server::types::stream::id::parse_interval;
use crate::server::types::stream::{Consumer, Group};

fn nogroup(c: &mut Client, key: &[u8], g: &[u8]) {
    c.reply.error(&format!(
        "NOGROUP No such key '{}' or consumer group '{}'",
        String::from_utf8_lossy(key),
        String::from_utf8_lossy(g)
    ));
}

/// XACK key group id [id ...]: removes ids from the group's PEL; replies with
/// how many were pending (0 for a missing key or group).
pub(super) fn xack(srv: &mut Server, c: &mut Client, argv: &[Vec<u8>]) {
    let g = match stream_read(srv, c, &argv[1]) {
        Err(()) => return,
        Ok(s) => s.and_then(|s| s.groups.get_mut(&argv[2][..])),
    };
    let Some(g) = g else {
        c.reply.int(0);
        return;
    };
    let mut ids = Vec::with_capacity(argv.len() - 3);
    for a in &argv[3..] {
        match crate::server::types::stream::id::parse_strict(a, 0) {
            Ok(id) => ids.push(id),
            Err(e) => {
                c.reply.error(e);
                return;
            }
        }
    }
    let mut n = 0;
    for id in ids {
        if g.ack(id) {
            n += 1;
        }
    }
    srv.add_dirty(n as u64);
    c.reply.int(n);
}

/// XPENDING key group [[IDLE min-idle] start end count [consumer]]: the
/// summary form (count, smallest and largest id, per-consumer counts) or the
/// extended form (id, owner, idle ms, deliveries per entry).
pub(super) fn xpending(srv: &mut Server, c: &mut Client, argv: &[Vec<u8>]) {
    let argc = argv.len();
    let just_info = argc == 3;
    if argc != 3 && !(6..=9).contains(&argc) {
        c.reply.error(errors::SYNTAX);
        return;
    }
    let mut start = StreamId::MIN;
    let mut end = StreamId::MAX;
    let mut count: i64 = 0;
    let mut minidle: i64 = 0;
    let mut consumer: Option<&[u8]> = None;
    if argc >= 6 {
        let mut si = 3;
        if eq_ignore_case(&argv[3], b"idle") {
            let Some(v) = parse_ll(c, &argv[4], None) else {
                return;
            };
            minidle = v;
            if argc < 8 {
                c.reply.error(errors::SYNTAX);
                return;
            }
            si += 2;
        }
        let Some(v) = parse_ll(c, &argv[si + 2], None) else {
            return;
        };
        count = v.max(0);
        match parse_interval(&argv[si], 0) {
            Ok((id, ex)) => {
                start = id;
                if ex {
                    match id.incr() {
                        Some(i) => start = i,
                        None => {
                            c.reply.error("ERR invalid start ID for the interval");
                            return;
                        }
                    }
                }
            }
            Err(e) => {
                c.reply.error(e);
                return;
            }
        }
        match parse_interval(&argv[si + 1], u64::MAX) {
            Ok((id, ex)) => {
                end = id;
                if ex {
                    match id.decr() {
                        Some(i) => end = i,
                        None => {
                            c.reply.error("ERR invalid end ID for the interval");
                            return;
                        }
                    }
                }
            }
            Err(e) => {
                c.reply.error(e);
                return;
            }
        }
        if si + 3 < argc {
            consumer = Some(&argv[si + 3]);
        }
    }
    let g = match stream_read(srv, c, &argv[1]) {
        Err(()) => return,
        Ok(s) => s.and_then(|s| s.groups.get(&argv[2][..])),
    };
    let Some(g) = g else {
        nogroup(c, &argv[1], &argv[2]);
        return;
    };
    if just_info {
        c.reply.array(4);
        c.reply.int(g.pel.len() as i64);
        let (Some((first, _)), Some((last, _))) = (g.pel.iter().next(), g.pel.iter().next_back())
        else {
            c.reply.null();
            c.reply.null();
            c.reply.null_array();
            return;
        };
        reply_id(c, *first);
        reply_id(c, *last);
        deferred_array(c, |c| {
            let mut n = 0;
            for (name, cons) in &g.consumers {
                if cons.pel.is_empty() {
                    continue;
                }
                c.reply.array(2);
                c.reply.bulk(name);
                c.reply.bulk(cons.pel.len().to_string().as_bytes());
                n += 1;
            }
            n
        });
        return;
    }
    let now = now();
    let ids: Vec<StreamId> = match consumer {
        Some(name) => match g.consumers.get(name) {
            None => {
                c.reply.array(0);
                return;
            }
            Some(cons) => cons.pel.range(start..).copied().collect(),
        },
        None => g.pel.range(start..).map(|(k, _)| *k).collect(),
    };
    deferred_array(c, |c| {
        let mut n = 0;
        let mut left = count;
        for id in ids {
            if left == 0 || id > end {
                break;
            }
            let Some(nack) = g.pel.get(&id) else { continue };
            if minidle > 0 && now - nack.delivery_time < minidle {
                continue;
            }
            n += 1;
            left -= 1;
            c.reply.array(4);
            reply_id(c, id);
            c.reply.bulk(&nack.consumer);
            c.reply.int((now - nack.delivery_time).max(0));
            c.reply.int(nack.delivery_count as i64);
        }
        n
    });
}

/// Looks up (refreshing its seen time) or creates consumer `name`; true when
/// it was created.
fn touch_consumer(g: &mut Group, name: &[u8], now: i64) -> bool {
    if let Some(c) = g.consumers.get_mut(name) {
        c.seen_time = now;
        return false;
    }
    g.consumers.insert(
        name.to_vec(),
        Consumer {
            seen_time: now,
            ..Default::default()
        },
    );
    true
}

/// XCLAIM key group consumer min-idle-time id [id ...] [IDLE ms] [TIME
/// ms-unix-time] [RETRYCOUNT count] [FORCE] [JUSTID] [LASTID id]: moves
/// pending entries idle at least min-idle-time to `consumer`. Propagated as
/// one idempotent XCLAIM per claimed id (and XGROUP SETID when only LASTID
/// moved the group).
pub(super) fn xclaim(srv: &mut Server, c: &mut Client, argv: &[Vec<u8>]) {
    let db = c.db;
    let key = &argv[1];
    let gname = &argv[2][..];
    match stream_read(srv, c, key) {
        Err(()) => return,
        Ok(s) => {
            if s.is_none_or(|s| !s.groups.contains_key(gname)) {
                nogroup(c, key, gname);
                return;
            }
        }
    }
    let Some(minidle) = parse_ll(
        c,
        &argv[4],
        Some("ERR Invalid min-idle-time argument for XCLAIM"),
    ) else {
        return;
    };
    let minidle = minidle.max(0);
    let mut j = 5;
    let mut ids = Vec::new();
    while j < argv.len() {
        match crate::server::types::stream::id::parse_strict(&argv[j], 0) {
            Ok(id) => ids.push(id),
            Err(_) => break,
        }
        j += 1;
    }
    let now = now();
    let mut force = false;
    let mut justid = false;
    let mut deliverytime: i64 = -1;
    let mut retrycount: i64 = -1;
    let mut last_id = StreamId::MIN;
    while j < argv.len() {
        let more = argv.len() - 1 - j;
        let opt = &argv[j][..];
        if eq_ignore_case(opt, b"force") {
            force = true;
        } else if eq_ignore_case(opt, b"justid") {
            justid = true;
        } else if eq_ignore_case(opt, b"idle") && more > 0 {
            j += 1;
            let Some(v) = parse_ll(
                c,
                &argv[j],
                Some("ERR Invalid IDLE option argument for XCLAIM"),
            ) else {
                return;
            };
            deliverytime = now - v;
        } else if eq_ignore_case(opt, b"time") && more > 0 {
            j += 1;
            let Some(v) = parse_ll(
                c,
                &argv[j],
                Some("ERR Invalid TIME option argument for XCLAIM"),
            ) else {
                return;
            };
            deliverytime = v;
        } else if eq_ignore_case(opt, b"retrycount") && more > 0 {
            j += 1;
            let Some(v) = parse_ll(
                c,
                &argv[j],
                Some("ERR Invalid RETRYCOUNT option argument for XCLAIM"),
            ) else {
                return;
            };
            retrycount = v;
        } else if eq_ignore_case(opt, b"lastid") && more > 0 {
            j += 1;
            let Some(v) = parse_id_or_reply(c, &argv[j], 0, true) else {
                return;
            };
            last_id = v;
        } else {
            c.reply.error(&format!(
                "ERR Unrecognized XCLAIM option '{}'",
                String::from_utf8_lossy(opt)
            ));
            return;
        }
        j += 1;
    }
    if deliverytime != -1 {
        if deliverytime < 0 || deliverytime > now {
            deliverytime = now;
        }
    } else {
        deliverytime = now;
    }
    srv.propagate_instead(db, vec![]);
    let Some(Value::Stream(s)) = srv.dbs[db].get_mut(key).map(|e| &mut e.value) else {
        return;
    };
    let Some(mut g) = s.groups.remove(gname) else {
        return;
    };
    let mut propagate_last_id = false;
    if last_id > g.last_id {
        g.last_id = last_id;
        propagate_last_id = true;
    }
    let name = &argv[3][..];
    let mut effects = Vec::new();
    let mut dirty = 0u64;
    let mut have_consumer = false;
    let mut created_consumer = false;
    deferred_array(c, |c| {
        let mut n = 0;
        for id in ids {
            let exists = s.exists(id);
            if !exists {
                if g.pel.contains_key(&id) {
                    if let Some(e) = xclaim_effect(key, gname, &g, id) {
                        effects.push(e);
                    }
                    propagate_last_id = false;
                    dirty += 1;
                    g.ack(id);
                }
                continue;
            }
            let had = g.pel.get(&id).map(|n| n.consumer.clone());
            if !force && had.is_none() {
                continue;
            }
            // A record FORCE creates has no owner yet and ignores min-idle.
            if had.is_some() && minidle > 0 && now - g.pel[&id].delivery_time < minidle {
                continue;
            }
            if !have_consumer {
                created_consumer = touch_consumer(&mut g, name, now);
                have_consumer = true;
            }
            let nack = g.assign(id, name, now);
            nack.delivery_time = deliverytime;
            if retrycount >= 0 {
                nack.delivery_count = retrycount as u64;
            } else if !justid {
                nack.delivery_count += 1;
            }
            if justid {
                reply_id(c, id);
            } else if let Some(f) = s.get(id) {
                let refs: Vec<(&[u8], &[u8])> = f.iter().map(|(a, b)| (&a[..], &b[..])).collect();
                reply_entry(c, id, &refs);
            }
            n += 1;
            if let Some(e) = xclaim_effect(key, gname, &g, id) {
                effects.push(e);
            }
            propagate_last_id = false;
            dirty += 1;
        }
        n
    });
    if propagate_last_id {
        effects.push(setid_effect(key, gname, &g));
        dirty += 1;
    }
    s.groups.insert(gname.to_vec(), g);
    if created_consumer {
        crate::server::notify::notify(
            srv,
            crate::server::notify::STREAM,
            "xgroup-createconsumer",
            key,
            db,
        );
    }
    for e in effects {
        srv.also_propagate(db, e);
    }
    srv.add_dirty(dirty);
}

/// XAUTOCLAIM key group consumer min-idle-time start [COUNT count] [JUSTID]:
/// claims up to COUNT pending entries idle at least min-idle-time, scanning
/// the PEL from `start`; replies [next start, claimed, deleted ids].
/// Propagated as one XCLAIM per claimed or dropped id.
pub(super) fn xautoclaim(srv: &mut Server, c: &mut Client, argv: &[Vec<u8>]) {
    let db = c.db;
    let key = &argv[1];
    let gname = &argv[2][..];
    let Some(minidle) = parse_ll(
        c,
        &argv[4],
        Some("ERR Invalid min-idle-time argument for XAUTOCLAIM"),
    ) else {
        return;
    };
    let minidle = minidle.max(0);
    let (mut start, ex) = match parse_interval(&argv[5], 0) {
        Ok(v) => v,
        Err(e) => {
            c.reply.error(e);
            return;
        }
    };
    if ex {
        match start.incr() {
            Some(s) => start = s,
            None => {
                c.reply.error("ERR invalid start ID for the interval");
                return;
            }
        }
    }
    let mut count: i64 = 100;
    let mut justid = false;
    let mut j = 6;
    let max_count = i64::MAX / 16;
    while j < argv.len() {
        let more = argv.len() - 1 - j;
        if eq_ignore_case(&argv[j], b"count") && more > 0 {
            match crate::server::util::parse_i64(&argv[j + 1]) {
                Some(v) if (1..=max_count).contains(&v) => count = v,
                _ => {
                    c.reply.error("ERR COUNT must be > 0");
                    return;
                }
            }
            j += 1;
        } else if eq_ignore_case(&argv[j], b"justid") {
            justid = true;
        } else {
            c.reply.error(errors::SYNTAX);
            return;
        }
        j += 1;
    }
    match stream_read(srv, c, key) {
        Err(()) => return,
        Ok(s) => {
            if s.is_none_or(|s| !s.groups.contains_key(gname)) {
                nogroup(c, key, gname);
                return;
            }
        }
    }
    srv.propagate_instead(db, vec![]);
    let Some(Value::Stream(s)) = srv.dbs[db].get_mut(key).map(|e| &mut e.value) else {
        return;
    };
    let Some(mut g) = s.groups.remove(gname) else {
        return;
    };
    let now = now();
    let name = &argv[3][..];
    let mut attempts = count.saturating_mul(10);
    let mut effects = Vec::new();
    let mut deleted = Vec::new();
    let mut dirty = 0u64;
    let mut have_consumer = false;
    let mut created_consumer = false;
    let mut cursor = start;
    let next: Option<StreamId>;
    let claimed_buf = {
        let saved = std::mem::take(&mut c.reply.buf);
        let mut n = 0usize;
        loop {
            let Some((&id, nack)) = g.pel.range(cursor..).next() else {
                next = None;
                break;
            };
            if attempts == 0 || count == 0 {
                next = Some(id);
                break;
            }
            attempts -= 1;
            cursor = id;
            if !s.exists(id) {
                if let Some(e) = xclaim_effect(key, gname, &g, id) {
                    effects.push(e);
                }
                dirty += 1;
                g.ack(id);
                deleted.push(id);
                count -= 1;
                continue;
            }
            let idle = now - nack.delivery_time;
            let step = id.incr();
            if minidle > 0 && idle < minidle {
                match step {
                    Some(s) => cursor = s,
                    None => {
                        next = None;
                        break;
                    }
                }
                continue;
            }
            if !have_consumer {
                created_consumer = touch_consumer(&mut g, name, now);
                have_consumer = true;
            }
            let nack = g.assign(id, name, now);
            nack.delivery_time = now;
            if !justid {
                nack.delivery_count += 1;
            }
            if justid {
                reply_id(c, id);
            } else if let Some(f) = s.get(id) {
                let refs: Vec<(&[u8], &[u8])> = f.iter().map(|(a, b)| (&a[..], &b[..])).collect();
                reply_entry(c, id, &refs);
            }
            n += 1;
            count -= 1;
            if let Some(e) = xclaim_effect(key, gname, &g, id) {
                effects.push(e);
            }
            dirty += 1;
            match step {
                Some(s) => cursor = s,
                None => {
                    next = None;
                    break;
                }
            }
        }
        let body = std::mem::replace(&mut c.reply.buf, saved);
        (n, body)
    };
    c.reply.array(3);
    reply_id(c, next.unwrap_or(StreamId::MIN));
    c.reply.array(claimed_buf.0);
    c.reply.raw(&claimed_buf.1);
    c.reply.array(deleted.len());
    for id in &deleted {
        reply_id(c, *id);
    }
    s.groups.insert(gname.to_vec(), g);
    if created_consumer {
        crate::server::notify::notify(
            srv,
            crate::server::notify::STREAM,
            "xgroup-createconsumer",
            key,
            db,
        );
    }
    for e in effects {
        srv.also_propagate(db, e);
    }
    srv.add_dirty(dirty);
}
