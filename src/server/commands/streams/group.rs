//! XGROUP CREATE, SETID, DESTROY, CREATECONSUMER, DELCONSUMER and HELP
//! (xgroupCommand: the shared option parsing and key/group checks first).
use super::*;
use crate::server::types::stream::{Consumer, Group, INVALID_ENTRIES_READ};

/// What the shared part of XGROUP found.
struct Prep {
    mkstream: bool,
    entries_read: i64,
    exists: bool,
    has_group: bool,
}

/// Parses options and checks the key and group as xgroupCommand does before
/// dispatching; None after replying an error.
fn prepare(srv: &mut Server, c: &mut Client, argv: &[Vec<u8>]) -> Option<Prep> {
    let sub = &argv[1];
    let create = eq_ignore_case(sub, b"create");
    let setid = eq_ignore_case(sub, b"setid");
    let mut p = Prep {
        mkstream: false,
        entries_read: INVALID_ENTRIES_READ,
        exists: false,
        has_group: false,
    };
    let mut i = 5;
    while i < argv.len() {
        if create && eq_ignore_case(&argv[i], b"mkstream") {
            p.mkstream = true;
            i += 1;
        } else if (create || setid)
            && eq_ignore_case(&argv[i], b"entriesread")
            && i + 1 < argv.len()
        {
            let v = parse_ll(c, &argv[i + 1], None)?;
            if v < 0 && v != INVALID_ENTRIES_READ {
                c.reply
                    .error("ERR value for ENTRIESREAD must be positive or -1");
                return None;
            }
            p.entries_read = v;
            i += 2;
        } else {
            subcommand_syntax_error(c, argv);
            return None;
        }
    }
    let key = &argv[2];
    let gname = &argv[3][..];
    match stream_write(srv, c, key) {
        Err(()) => return None,
        Ok(None) => {}
        Ok(Some(s)) => {
            p.exists = true;
            p.has_group = s.groups.contains_key(gname);
        }
    }
    if !p.mkstream {
        if !p.exists {
            c.reply.error("ERR The XGROUP subcommand requires the key to exist. Note that for CREATE you may want to use the MKSTREAM option to create an empty stream automatically.");
            return None;
        }
        let needs_group =
            setid || eq_ignore_case(sub, b"createconsumer") || eq_ignore_case(sub, b"delconsumer");
        if !p.has_group && needs_group {
            c.reply.error(&format!(
                "NOGROUP No such consumer group '{}' for key name '{}'",
                String::from_utf8_lossy(gname),
                String::from_utf8_lossy(key)
            ));
            return None;
        }
    }
    Some(p)
}

fn stream_at<'a>(srv: &'a mut Server, db: usize, key: &[u8]) -> Option<&'a mut Stream> {
    match srv.dbs[db].get_mut(key).map(|e| &mut e.value) {
        Some(Value::Stream(s)) => Some(s),
        _ => None,
    }
}

/// XGROUP CREATE key group id|$ [MKSTREAM] [ENTRIESREAD n]: creates a group
/// (and with MKSTREAM an empty stream); BUSYGROUP if it exists.
pub(super) fn xgroup_create(srv: &mut Server, c: &mut Client, argv: &[Vec<u8>]) {
    let Some(p) = prepare(srv, c, argv) else {
        return;
    };
    if argv.len() > 8 {
        subcommand_syntax_error(c, argv);
        return;
    }
    let db = c.db;
    let key = &argv[2];
    let id = if argv[4] == b"$" {
        stream_at(srv, db, key)
            .map(|s| s.last_id)
            .unwrap_or_default()
    } else {
        match parse_id_or_reply(c, &argv[4], 0, true) {
            Some(id) => id,
            None => return,
        }
    };
    if !p.exists {
        srv.dbs[db].set(key, Value::Stream(Box::default()), false);
        crate::server::notify::new_key(srv, key, db);
        srv.signal_modified(db, key);
    }
    let Some(s) = stream_at(srv, db, key) else {
        return;
    };
    if s.groups.contains_key(&argv[3][..]) {
        c.reply
            .error("BUSYGROUP Consumer Group name already exists");
        return;
    }
    s.groups
        .insert(argv[3].clone(), Group::new(id, p.entries_read));
    c.reply.ok();
    srv.add_dirty(1);
    crate::server::notify::notify(srv, crate::server::notify::STREAM, "xgroup-create", key, db);
}

/// XGROUP SETID key group id|$ [ENTRIESREAD n]: moves the group's last
/// delivered id.
pub(super) fn xgroup_setid(srv: &mut Server, c: &mut Client, argv: &[Vec<u8>]) {
    let Some(p) = prepare(srv, c, argv) else {
        return;
    };
    if argv.len() != 5 && argv.len() != 7 {
        subcommand_syntax_error(c, argv);
        return;
    }
    let db = c.db;
    let Some(s) = stream_at(srv, db, &argv[2]) else {
        return;
    };
    let id = if argv[4] == b"$" {
        s.last_id
    } else {
        match crate::server::types::stream::id::parse_loose(&argv[4], 0) {
            Ok(id) => id,
            Err(e) => {
                c.reply.error(e);
                return;
            }
        }
    };
    let Some(g) = s.groups.get_mut(&argv[3][..]) else {
        return;
    };
    g.last_id = id;
    g.entries_read = p.entries_read;
    c.reply.ok();
    srv.add_dirty(1);
    crate::server::notify::notify(
        srv,
        crate::server::notify::STREAM,
        "xgroup-setid",
        &argv[2],
        db,
    );
}

/// XGROUP DESTROY key group: deletes the group (1), or replies 0. Clients
/// blocked on it in XREADGROUP get a NOGROUP error.
pub(super) fn xgroup_destroy(srv: &mut Server, c: &mut Client, argv: &[Vec<u8>]) {
    if prepare(srv, c, argv).is_none() {
        return;
    }
    let db = c.db;
    let Some(s) = stream_at(srv, db, &argv[2]) else {
        return;
    };
    if s.groups.remove(&argv[3][..]).is_some() {
        c.reply.int(1);
        srv.add_dirty(1);
        crate::server::notify::notify(
            srv,
            crate::server::notify::STREAM,
            "xgroup-destroy",
            &argv[2],
            db,
        );
        srv.signal_key_ready(db, &argv[2]);
    } else {
        c.reply.int(0);
    }
}

/// XGROUP CREATECONSUMER key group consumer: 1 if created, 0 if it existed.
pub(super) fn xgroup_createconsumer(srv: &mut Server, c: &mut Client, argv: &[Vec<u8>]) {
    if prepare(srv, c, argv).is_none() {
        return;
    }
    let db = c.db;
    let now = now();
    let Some(g) = stream_at(srv, db, &argv[2]).and_then(|s| s.groups.get_mut(&argv[3][..])) else {
        return;
    };
    if g.consumers.contains_key(&argv[4][..]) {
        c.reply.int(0);
        return;
    }
    g.consumers.insert(
        argv[4].clone(),
        Consumer {
            seen_time: now,
            ..Default::default()
        },
    );
    c.reply.int(1);
    srv.add_dirty(1);
    crate::server::notify::notify(
        srv,
        crate::server::notify::STREAM,
        "xgroup-createconsumer",
        &argv[2],
        db,
    );
}

/// XGROUP DELCONSUMER key group consumer: deletes the consumer and its
/// pending entries; replies with how many it had.
pub(super) fn xgroup_delconsumer(srv: &mut Server, c: &mut Client, argv: &[Vec<u8>]) {
    if prepare(srv, c, argv).is_none() {
        return;
    }
    let db = c.db;
    let Some(g) = stream_at(srv, db, &argv[2]).and_then(|s| s.groups.get_mut(&argv[3][..])) else {
        return;
    };
    match g.delete_consumer(&argv[4]) {
        Some(n) => {
            c.reply.int(n as i64);
            srv.add_dirty(1);
            crate::server::notify::notify(
                srv,
                crate::server::notify::STREAM,
                "xgroup-delconsumer",
                &argv[2],
                db,
            );
        }
        None => c.reply.int(0),
    }
}

/// XGROUP HELP: the subcommands, as Redis lists them.
pub(super) fn xgroup_help(_: &mut Server, c: &mut Client, _: &[Vec<u8>]) {
    reply_help(
        c,
        "XGROUP",
        &[
            "CREATE <key> <groupname> <id|$> [option]",
            "    Create a new consumer group. Options are:",
            "    * MKSTREAM",
            "      Create the empty stream if it does not exist.",
            "    * ENTRIESREAD entries_read",
            "      Set the group's entries_read counter (internal use).",
            "CREATECONSUMER <key> <groupname> <consumer>",
            "    Create a new consumer in the specified group.",
            "DELCONSUMER <key> <groupname> <consumer>",
            "    Remove the specified consumer.",
            "DESTROY <key> <groupname>",
            "    Remove the specified group.",
            "SETID <key> <groupname> <id|$> [ENTRIESREAD entries_read]",
            "    Set the current group ID and entries_read counter.",
        ],
    );
}
