//! Streams in RDB files: RDB_TYPE_STREAM_LISTPACKS (15, Redis 5/6),
//! RDB_TYPE_STREAM_LISTPACKS_2 (19, what Redis 7.0 writes) and
//! RDB_TYPE_STREAM_LISTPACKS_3 (21, Redis 7.2: consumers gain an active time).
//!
//! A node is written as its 16-byte master id and a listpack laid out as Redis
//! does: the master entry (count, deleted, field count, fields, 0), then per
//! entry flags, ms delta, seq delta, [field count, fields and values | values],
//! and lp-count.
use super::format::*;
use super::listpack::{self, Item};
use super::reader::Input;
use super::RdbError;
use crate::server::types::stream::node::{FLAG_DELETED, FLAG_SAMEFIELDS};
use crate::server::types::stream::{Consumer, Group, Nack, Node, Stream, StreamId};

/// A node as the listpack Redis keeps in its radix tree.
pub fn node_to_listpack(master: StreamId, node: &Node) -> Vec<u8> {
    let mut lp = listpack::Writer::new();
    lp.push_int(node.live as i64);
    lp.push_int(node.deleted as i64);
    let mf = node.master_fields();
    lp.push_int(mf.len() as i64);
    for f in mf {
        lp.push(f);
    }
    lp.push_int(0);
    for e in node.entries(master) {
        let fields = node.fields(&e);
        lp.push_int(e.flags as i64);
        lp.push_int(e.id.ms.wrapping_sub(master.ms) as i64);
        lp.push_int(e.id.seq.wrapping_sub(master.seq) as i64);
        let n = fields.len() as i64;
        if e.flags & FLAG_SAMEFIELDS != 0 {
            for (_, v) in &fields {
                lp.push(v);
            }
            lp.push_int(n + 3);
        } else {
            lp.push_int(n);
            for (f, v) in &fields {
                lp.push(f);
                lp.push(v);
            }
            lp.push_int(2 * n + 4);
        }
    }
    lp.finish()
}

fn bad(key: &[u8], what: &str) -> RdbError {
    RdbError(format!(
        "bad stream in key '{}': {}",
        String::from_utf8_lossy(key),
        what
    ))
}

fn int(it: &mut std::vec::IntoIter<Item>, key: &[u8]) -> Result<i64, RdbError> {
    match it.next() {
        Some(Item::Int(i)) => Ok(i),
        Some(Item::Str(s)) => {
            crate::server::util::parse_i64(&s).ok_or_else(|| bad(key, "integer expected"))
        }
        None => Err(bad(key, "listpack ends early")),
    }
}

fn string(it: &mut std::vec::IntoIter<Item>, key: &[u8]) -> Result<Vec<u8>, RdbError> {
    it.next()
        .map(Item::into_bytes)
        .ok_or_else(|| bad(key, "listpack ends early"))
}

/// Decodes one node listpack into `s` (entries must come after `s.last_id`-ordered
/// ones already loaded). Returns the number of live entries.
fn load_node(s: &mut Stream, master: StreamId, blob: &[u8], key: &[u8]) -> Result<u64, RdbError> {
    let items = listpack::decode(blob).map_err(|e| bad(key, &e))?;
    if items.is_empty() {
        return Err(bad(key, "empty listpack inside stream"));
    }
    let mut it = items.into_iter();
    let _count = int(&mut it, key)?;
    let _deleted = int(&mut it, key)?;
    let nmaster = int(&mut it, key)?;
    if nmaster < 0 {
        return Err(bad(key, "negative field count"));
    }
    let mut mfields = Vec::new();
    for _ in 0..nmaster {
        mfields.push(string(&mut it, key)?);
    }
    if int(&mut it, key)? != 0 {
        return Err(bad(key, "master entry not terminated"));
    }
    let pairs: Vec<(&[u8], &[u8])> = mfields.iter().map(|f| (&f[..], &b""[..])).collect();
    let mut node = Node::new(&pairs);
    let mut prev: Option<StreamId> = s.nodes.iter().next_back().map(|(_, n)| n.last);
    let mut deleted_ids = Vec::new();
    while it.len() > 0 {
        let flags = int(&mut it, key)?;
        let ms = master.ms.wrapping_add(int(&mut it, key)? as u64);
        let seq = master.seq.wrapping_add(int(&mut it, key)? as u64);
        let id = StreamId::new(ms, seq);
        if prev.is_some_and(|p| id <= p) || id < master {
            return Err(bad(key, "entry ids out of order"));
        }
        prev = Some(id);
        let mut fv: Vec<(Vec<u8>, Vec<u8>)> = Vec::new();
        if flags as u8 & FLAG_SAMEFIELDS != 0 {
            for f in &mfields {
                fv.push((f.clone(), string(&mut it, key)?));
            }
        } else {
            let n = int(&mut it, key)?;
            if n < 0 {
                return Err(bad(key, "negative field count"));
            }
            for _ in 0..n {
                let f = string(&mut it, key)?;
                let v = string(&mut it, key)?;
                fv.push((f, v));
            }
        }
        int(&mut it, key)?; // lp-count
        let refs: Vec<(&[u8], &[u8])> = fv.iter().map(|(f, v)| (&f[..], &v[..])).collect();
        node.append(master, id, &refs);
        if flags as u8 & FLAG_DELETED != 0 {
            deleted_ids.push(id);
        }
    }
    for e in node.entries(master) {
        if deleted_ids.contains(&e.id) {
            node.mark_deleted(&e);
        }
    }
    let live = node.live as u64;
    if live > 0 {
        s.nodes.insert(master, node);
    }
    Ok(live)
}

/// Reads a stream of RDB type `t` (15, 19 or 21).
pub(super) fn read_stream(inp: &mut Input, t: u8, key: &[u8]) -> Result<Stream, RdbError> {
    let mut s = Stream::new();
    let nodes = inp.len()?;
    let mut live = 0u64;
    for _ in 0..nodes {
        let k = inp.string()?;
        let master = StreamId::decode(&k).ok_or_else(|| bad(key, "node key is not 16 bytes"))?;
        let blob = inp.string()?;
        live += load_node(&mut s, master, &blob, key)?;
    }
    s.length = inp.len()?;
    if s.length != live {
        return Err(bad(key, "length does not match its entries"));
    }
    s.last_id = StreamId::new(inp.len()?, inp.len()?);
    if t >= TYPE_STREAM_LISTPACKS_2 {
        s.first_id = StreamId::new(inp.len()?, inp.len()?);
        s.max_deleted = StreamId::new(inp.len()?, inp.len()?);
        s.entries_added = inp.len()?;
    } else {
        s.first_id = s.edge_id(false);
        s.max_deleted = StreamId::MIN;
        s.entries_added = s.length;
    }
    let ngroups = inp.len()?;
    for _ in 0..ngroups {
        let name = inp.string()?;
        let last = StreamId::new(inp.len()?, inp.len()?);
        let entries_read = if t >= TYPE_STREAM_LISTPACKS_2 {
            inp.len()? as i64
        } else {
            s.estimate_distance(last)
        };
        let mut g = Group::new(last, entries_read);
        let npel = inp.len()?;
        for _ in 0..npel {
            let raw: [u8; 16] = inp.fixed()?;
            let id = StreamId::decode(&raw).unwrap_or_default();
            let delivery_time = i64::from_le_bytes(inp.fixed()?);
            let delivery_count = inp.len()?;
            g.pel.insert(
                id,
                Nack {
                    delivery_time,
                    delivery_count,
                    consumer: Box::from(&b""[..]),
                },
            );
        }
        let nconsumers = inp.len()?;
        for _ in 0..nconsumers {
            let cname = inp.string()?;
            let seen_time = i64::from_le_bytes(inp.fixed()?);
            if t >= TYPE_STREAM_LISTPACKS_3 {
                let _active_time: [u8; 8] = inp.fixed()?;
            }
            let mut c = Consumer {
                seen_time,
                ..Default::default()
            };
            let n = inp.len()?;
            for _ in 0..n {
                let raw: [u8; 16] = inp.fixed()?;
                let id = StreamId::decode(&raw).unwrap_or_default();
                let Some(nack) = g.pel.get_mut(&id) else {
                    return Err(bad(key, "consumer PEL entry missing from the group PEL"));
                };
                nack.consumer = Box::from(&cname[..]);
                c.pel.insert(id);
            }
            if g.consumers.insert(cname, c).is_some() {
                return Err(bad(key, "duplicate consumer"));
            }
        }
        if g.pel
            .values()
            .any(|n| n.consumer.is_empty() && !g.consumers.contains_key(&b""[..]))
        {
            return Err(bad(key, "group PEL entry without a consumer"));
        }
        if s.groups.insert(name, g).is_some() {
            return Err(bad(key, "duplicate consumer group"));
        }
    }
    Ok(s)
}
