//! XINFO STREAM [FULL [COUNT n]], XINFO GROUPS, XINFO CONSUMERS and XINFO HELP.
use super::*;
use crate::server::types::stream::INVALID_ENTRIES_READ;

/// The stream at argv[2] for XINFO: None after replying (no such key, wrong type).
fn xinfo_stream_ref<'a>(
    srv: &'a mut Server,
    c: &mut Client,
    argv: &[Vec<u8>],
) -> Option<&'a mut Stream> {
    match stream_read(srv, c, &argv[2]) {
        Err(()) => None,
        Ok(None) => {
            c.reply.error(crate::server::resp::errors::NO_SUCH_KEY);
            None
        }
        Ok(Some(s)) => Some(s),
    }
}

fn reply_entries_read(c: &mut Client, v: i64) {
    if v != INVALID_ENTRIES_READ {
        c.reply.int(v);
    } else {
        c.reply.null();
    }
}

fn reply_lag(c: &mut Client, lag: Option<i64>) {
    match lag {
        Some(l) => c.reply.int(l),
        None => c.reply.null(),
    }
}

/// XINFO CONSUMERS key group: name, pending count and idle ms per consumer.
pub(super) fn xinfo_consumers(srv: &mut Server, c: &mut Client, argv: &[Vec<u8>]) {
    let Some(s) = xinfo_stream_ref(srv, c, argv) else {
        return;
    };
    let Some(g) = s.groups.get(&argv[3][..]) else {
        c.reply.error(&format!(
            "NOGROUP No such consumer group '{}' for key name '{}'",
            String::from_utf8_lossy(&argv[3]),
            String::from_utf8_lossy(&argv[2])
        ));
        return;
    };
    let now = now();
    c.reply.array(g.consumers.len());
    for (name, cons) in &g.consumers {
        c.reply.map(3);
        c.reply.bulk(b"name");
        c.reply.bulk(name);
        c.reply.bulk(b"pending");
        c.reply.int(cons.pel.len() as i64);
        c.reply.bulk(b"idle");
        c.reply.int((now - cons.seen_time).max(0));
    }
}

/// XINFO GROUPS key: name, consumers, pending, last-delivered-id,
/// entries-read and lag per group.
pub(super) fn xinfo_groups(srv: &mut Server, c: &mut Client, argv: &[Vec<u8>]) {
    let Some(s) = xinfo_stream_ref(srv, c, argv) else {
        return;
    };
    c.reply.array(s.groups.len());
    for (name, g) in &s.groups {
        c.reply.map(6);
        c.reply.bulk(b"name");
        c.reply.bulk(name);
        c.reply.bulk(b"consumers");
        c.reply.int(g.consumers.len() as i64);
        c.reply.bulk(b"pending");
        c.reply.int(g.pel.len() as i64);
        c.reply.bulk(b"last-delivered-id");
        reply_id(c, g.last_id);
        c.reply.bulk(b"entries-read");
        reply_entries_read(c, g.entries_read);
        c.reply.bulk(b"lag");
        reply_lag(c, s.lag(g));
    }
}

/// Replies with the first (or last) entry, or null.
fn reply_edge_entry(c: &mut Client, s: &Stream, last: bool) {
    let mut found = false;
    s.for_range(StreamId::MIN, StreamId::MAX, last, |id, f| {
        reply_entry(c, id, &f);
        found = true;
        false
    });
    if !found {
        c.reply.null();
    }
}

/// XINFO STREAM key [FULL [COUNT count]]: the stream's counters and first and
/// last entries, or with FULL its entries, groups, PELs and consumers.
pub(super) fn xinfo_stream(srv: &mut Server, c: &mut Client, argv: &[Vec<u8>]) {
    let optc = argv.len() - 3;
    let mut full = false;
    let mut count: i64 = 10;
    if optc > 0 {
        if optc != 1 && optc != 3 {
            subcommand_syntax_error(c, argv);
            return;
        }
        if !eq_ignore_case(&argv[3], b"full") {
            subcommand_syntax_error(c, argv);
            return;
        }
        if optc == 3 {
            if !eq_ignore_case(&argv[4], b"count") {
                subcommand_syntax_error(c, argv);
                return;
            }
            let Some(v) = parse_ll(c, &argv[5], None) else {
                return;
            };
            count = if v < 0 { 10 } else { v };
        }
        full = true;
    }
    let Some(s) = xinfo_stream_ref(srv, c, argv) else {
        return;
    };
    c.reply.map(if full { 9 } else { 10 });
    c.reply.bulk(b"length");
    c.reply.int(s.length as i64);
    c.reply.bulk(b"radix-tree-keys");
    c.reply.int(s.nodes.len() as i64);
    c.reply.bulk(b"radix-tree-nodes");
    c.reply.int(radix_nodes_estimate(s.nodes.len()));
    c.reply.bulk(b"last-generated-id");
    reply_id(c, s.last_id);
    c.reply.bulk(b"max-deleted-entry-id");
    reply_id(c, s.max_deleted);
    c.reply.bulk(b"entries-added");
    c.reply.int(s.entries_added as i64);
    c.reply.bulk(b"recorded-first-entry-id");
    reply_id(c, s.first_id);
    if !full {
        c.reply.bulk(b"groups");
        c.reply.int(s.groups.len() as i64);
        c.reply.bulk(b"first-entry");
        reply_edge_entry(c, s, false);
        c.reply.bulk(b"last-entry");
        reply_edge_entry(c, s, true);
        return;
    }
    let limit = if count == 0 {
        usize::MAX
    } else {
        count as usize
    };
    c.reply.bulk(b"entries");
    deferred_array(c, |c| {
        let mut n = 0;
        s.for_range(StreamId::MIN, StreamId::MAX, false, |id, f| {
            reply_entry(c, id, &f);
            n += 1;
            n < limit
        });
        n
    });
    c.reply.bulk(b"groups");
    c.reply.array(s.groups.len());
    for (name, g) in &s.groups {
        c.reply.map(7);
        c.reply.bulk(b"name");
        c.reply.bulk(name);
        c.reply.bulk(b"last-delivered-id");
        reply_id(c, g.last_id);
        c.reply.bulk(b"entries-read");
        reply_entries_read(c, g.entries_read);
        c.reply.bulk(b"lag");
        reply_lag(c, s.lag(g));
        c.reply.bulk(b"pel-count");
        c.reply.int(g.pel.len() as i64);
        c.reply.bulk(b"pending");
        let pel: Vec<_> = g.pel.iter().take(limit).collect();
        c.reply.array(pel.len());
        for (id, n) in pel {
            c.reply.array(4);
            reply_id(c, *id);
            c.reply.bulk(&n.consumer);
            c.reply.int(n.delivery_time);
            c.reply.int(n.delivery_count as i64);
        }
        c.reply.bulk(b"consumers");
        c.reply.array(g.consumers.len());
        for (cname, cons) in &g.consumers {
            c.reply.map(4);
            c.reply.bulk(b"name");
            c.reply.bulk(cname);
            c.reply.bulk(b"seen-time");
            c.reply.int(cons.seen_time);
            c.reply.bulk(b"pel-count");
            c.reply.int(cons.pel.len() as i64);
            c.reply.bulk(b"pending");
            let ids: Vec<_> = cons.pel.iter().take(limit).collect();
            c.reply.array(ids.len());
            for id in ids {
                c.reply.array(3);
                reply_id(c, *id);
                let n = g.pel.get(id);
                c.reply.int(n.map(|n| n.delivery_time).unwrap_or(0));
                c.reply.int(n.map(|n| n.delivery_count as i64).unwrap_or(0));
            }
        }
    }
}

/// Redis reports its radix tree's node count; with 16-byte big-endian keys
/// that is about one node per key plus shared prefixes. An ordered map has no
/// such nodes: this is an estimate of the same order.
fn radix_nodes_estimate(keys: usize) -> i64 {
    if keys == 0 {
        1
    } else {
        (keys * 2) as i64
    }
}

/// XINFO HELP: the subcommands, as Redis lists them.
pub(super) fn xinfo_help(_: &mut Server, c: &mut Client, _: &[Vec<u8>]) {
    reply_help(
        c,
        "XINFO",
        &[
            "CONSUMERS <key> <groupname>",
            "    Show consumers of <groupname>.",
            "GROUPS <key>",
            "    Show the stream consumer groups.",
            "STREAM <key> [FULL [COUNT <count>]",
            "    Show information about the stream.",
        ],
    );
}
