//! The dataset as commands (Redis's rewriteAppendOnlyFileRio), for a base
//! file written with `aof-use-rdb-preamble no`: FUNCTION LOAD for every
//! library, then per non-empty database a SELECT and, per key, the commands
//! that rebuild it (SET, RPUSH, SADD, ZADD, HMSET with at most 64 items
//! each; XADD, XSETID, XGROUP and XCLAIM for streams), then PEXPIREAT when
//! the key has a time to live.

use crate::server::keyspace::db::NO_EXPIRE;
use crate::server::keyspace::Db;
use crate::server::types::{Stream, Value};
use std::io::{self, Write};

/// Redis's AOF_REWRITE_ITEMS_PER_CMD.
const ITEMS_PER_CMD: usize = 64;

/// Writes `*n\r\n` (or `$n\r\n`).
fn count(w: &mut dyn Write, prefix: u8, n: usize) -> io::Result<()> {
    let mut b = itoa::Buffer::new();
    w.write_all(&[prefix])?;
    w.write_all(b.format(n).as_bytes())?;
    w.write_all(b"\r\n")
}

/// Writes one bulk string.
fn bulk(w: &mut dyn Write, s: &[u8]) -> io::Result<()> {
    count(w, b'$', s.len())?;
    w.write_all(s)?;
    w.write_all(b"\r\n")
}

/// Writes one whole command.
fn command(w: &mut dyn Write, args: &[&[u8]]) -> io::Result<()> {
    count(w, b'*', args.len())?;
    args.iter().try_for_each(|a| bulk(w, a))
}

/// Writes `items` (each `per` bulk strings long) as commands `name key ...`
/// of at most 64 items.
fn variadic(
    w: &mut dyn Write,
    name: &[u8],
    key: &[u8],
    per: usize,
    items: &[Vec<Vec<u8>>],
) -> io::Result<()> {
    for chunk in items.chunks(ITEMS_PER_CMD) {
        count(w, b'*', 2 + chunk.len() * per)?;
        bulk(w, name)?;
        bulk(w, key)?;
        for item in chunk {
            item.iter().try_for_each(|a| bulk(w, a))?;
        }
    }
    Ok(())
}

/// A stream id as its `<ms>-<seq>` text.
fn id_text(id: crate::server::types::stream::id::StreamId) -> Vec<u8> {
    format!("{}-{}", id.ms, id.seq).into_bytes()
}

/// The commands that rebuild a stream (rewriteStreamObject).
fn stream(w: &mut dyn Write, key: &[u8], s: &Stream) -> io::Result<()> {
    use crate::server::types::stream::id::StreamId;
    if s.length > 0 {
        let mut err: io::Result<()> = Ok(());
        s.for_range(StreamId::MIN, StreamId::MAX, false, |id, fields| {
            let idt = id_text(id);
            err = (|| {
                count(w, b'*', 3 + fields.len() * 2)?;
                bulk(w, b"XADD")?;
                bulk(w, key)?;
                bulk(w, &idt)?;
                for (f, v) in &fields {
                    bulk(w, f)?;
                    bulk(w, v)?;
                }
                Ok(())
            })();
            err.is_ok()
        });
        err?;
    } else {
        command(w, &[b"XADD", key, b"MAXLEN", b"0", b"0-1", b"x", b"y"])?;
    }
    let added = s.entries_added.to_string();
    command(
        w,
        &[
            b"XSETID",
            key,
            &id_text(s.last_id),
            b"ENTRIESADDED",
            added.as_bytes(),
            b"MAXDELETEDID",
            &id_text(s.max_deleted),
        ],
    )?;
    for (gname, g) in &s.groups {
        let read = g.entries_read.to_string();
        command(
            w,
            &[
                b"XGROUP",
                b"CREATE",
                key,
                gname,
                &id_text(g.last_id),
                b"ENTRIESREAD",
                read.as_bytes(),
            ],
        )?;
        for (cname, c) in &g.consumers {
            if c.pel.is_empty() {
                command(w, &[b"XGROUP", b"CREATECONSUMER", key, gname, cname])?;
                continue;
            }
            for id in &c.pel {
                let Some(nack) = g.pel.get(id) else { continue };
                let time = nack.delivery_time.to_string();
                let retries = nack.delivery_count.to_string();
                command(
                    w,
                    &[
                        b"XCLAIM",
                        key,
                        gname,
                        cname,
                        b"0",
                        &id_text(*id),
                        b"TIME",
                        time.as_bytes(),
                        b"RETRYCOUNT",
                        retries.as_bytes(),
                        b"JUSTID",
                        b"FORCE",
                    ],
                )?;
            }
        }
    }
    Ok(())
}

/// Writes the whole dataset (and the function libraries) as commands.
pub fn write(dbs: &[Db], functions: &[Vec<u8>], w: &mut dyn Write) -> io::Result<()> {
    for code in functions {
        command(w, &[b"FUNCTION", b"LOAD", code])?;
    }
    for (i, db) in dbs.iter().enumerate() {
        if db.is_empty() {
            continue;
        }
        command(w, &[b"SELECT", i.to_string().as_bytes()])?;
        for (key, e) in db.keys.iter() {
            match &e.value {
                Value::Str(s) => command(w, &[b"SET", key, s])?,
                Value::List(l) => {
                    let items: Vec<Vec<Vec<u8>>> = l.iter().map(|v| vec![v.to_vec()]).collect();
                    variadic(w, b"RPUSH", key, 1, &items)?;
                }
                Value::Set(s) => {
                    let mut items = Vec::with_capacity(s.len());
                    s.for_each(|m| items.push(vec![m.to_vec()]));
                    variadic(w, b"SADD", key, 1, &items)?;
                }
                Value::ZSet(z) => {
                    let items: Vec<Vec<Vec<u8>>> = z
                        .iter_all()
                        .into_iter()
                        .map(|(m, s)| vec![crate::server::util::format_f64(s).into_bytes(), m])
                        .collect();
                    variadic(w, b"ZADD", key, 2, &items)?;
                }
                Value::Hash(h) => {
                    let items: Vec<Vec<Vec<u8>>> = h
                        .iter()
                        .map(|(f, v)| vec![f.to_vec(), v.to_vec()])
                        .collect();
                    variadic(w, b"HMSET", key, 2, &items)?;
                }
                Value::Stream(s) => stream(w, key, s)?,
            }
            if e.expire != NO_EXPIRE {
                command(w, &[b"PEXPIREAT", key, e.expire.to_string().as_bytes()])?;
            }
            crate::server::rdb::delay::after_key_saved();
        }
    }
    Ok(())
}
