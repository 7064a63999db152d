//! The one search behind GEORADIUS, GEORADIUSBYMEMBER (and their _RO forms),
//! GEOSEARCH and GEOSEARCHSTORE (Redis's georadiusGeneric): argument parsing
//! in Redis's order with its errors, the nine-box scan of the sorted set, the
//! sort by distance (a full stable sort, or Redis's pqsort with COUNT), the reply or the stored sorted set.
use super::*;
use crate::server::types::ZSet;
use crate::server::util::parse_i64;
use std::cmp::Ordering;

/// Which command form runs the search.
#[derive(Clone, Copy, PartialEq)]
pub enum Kind {
    /// GEORADIUS[_RO]: centre given as longitude latitude.
    Coords,
    /// GEORADIUSBYMEMBER[_RO]: centre given as a member.
    Member,
    /// GEOSEARCH.
    Search,
    /// GEOSEARCHSTORE.
    SearchStore,
}

/// One point found.
struct Point {
    member: Vec<u8>,
    score: f64,
    xy: [f64; 2],
    dist: f64,
}

#[derive(Clone, Copy, PartialEq)]
enum Sort {
    None,
    Asc,
    Desc,
}

/// Runs a geo search; `src` is the index of the source key, `store_ok` says
/// whether STORE/STOREDIST are accepted (GEORADIUS and GEORADIUSBYMEMBER).
pub fn radius_generic(
    srv: &mut Server,
    c: &mut Client,
    argv: &[Vec<u8>],
    src: usize,
    kind: Kind,
    store_ok: bool,
) {
    let db = c.db;
    let Ok(found) = read_zset(srv, c, &argv[src]) else {
        return;
    };
    let exists = found.is_some();
    let mut xy = [0.0f64; 2];
    let mut conversion = 1.0;
    let mut shape = Shape::Circle { radius: 0.0 };
    let mut store: Option<&Vec<u8>> = None;
    let mut storedist = false;
    let search = matches!(kind, Kind::Search | Kind::SearchStore);
    let base = match kind {
        Kind::Coords => {
            let Some(p) = long_lat(c, argv, 2) else {
                return;
            };
            xy = p;
            let Some((conv, r)) = distance_arg(c, &argv[4..6]) else {
                return;
            };
            conversion = conv;
            shape = Shape::Circle { radius: r };
            6
        }
        Kind::Member if !exists => 5,
        Kind::Member => {
            let Some(s) = member_score(srv, db, &argv[src], &argv[2]) else {
                c.reply.error("ERR could not decode requested zset member");
                return;
            };
            xy = decode_score(s);
            let Some((conv, r)) = distance_arg(c, &argv[3..5]) else {
                return;
            };
            conversion = conv;
            shape = Shape::Circle { radius: r };
            5
        }
        Kind::Search => 2,
        Kind::SearchStore => {
            store = Some(&argv[1]);
            3
        }
    };
    let (mut withdist, mut withhash, mut withcoords, mut any) = (false, false, false, false);
    let (mut frommember, mut fromloc, mut byradius, mut bybox) = (false, false, false, false);
    let mut sort = Sort::None;
    let mut count: i64 = 0;
    let rest = &argv[base.min(argv.len())..];
    let remaining = rest.len();
    let mut i = 0;
    while i < remaining {
        let a = rest[i].to_ascii_lowercase();
        let a = a.as_slice();
        if a == b"withdist" {
            withdist = true;
        } else if a == b"withhash" {
            withhash = true;
        } else if a == b"withcoord" {
            withcoords = true;
        } else if a == b"any" {
            any = true;
        } else if a == b"asc" {
            sort = Sort::Asc;
        } else if a == b"desc" {
            sort = Sort::Desc;
        } else if a == b"count" && i + 1 < remaining {
            let Some(n) = parse_i64(&rest[i + 1]) else {
                c.reply.error(errors::NOT_INTEGER);
                return;
            };
            if n <= 0 {
                c.reply.error("ERR COUNT must be > 0");
                return;
            }
            count = n;
            i += 1;
        } else if (a == b"store" || a == b"storedist") && i + 1 < remaining && store_ok {
            store = Some(&rest[i + 1]);
            storedist = a == b"storedist";
            i += 1;
        } else if a == b"storedist" && kind == Kind::SearchStore {
            storedist = true;
        } else if a == b"frommember" && i + 1 < remaining && search && !fromloc {
            if exists {
                let Some(s) = member_score(srv, db, &argv[src], &rest[i + 1]) else {
                    c.reply.error("ERR could not decode requested zset member");
                    return;
                };
                xy = decode_score(s);
            }
            frommember = true;
            i += 1;
        } else if a == b"fromlonlat" && i + 2 < remaining && search && !frommember {
            let Some(p) = long_lat(c, rest, i + 1) else {
                return;
            };
            xy = p;
            fromloc = true;
            i += 2;
        } else if a == b"byradius" && i + 2 < remaining && search && !bybox {
            let Some((conv, r)) = distance_arg(c, &rest[i + 1..i + 3]) else {
                return;
            };
            conversion = conv;
            shape = Shape::Circle { radius: r };
            byradius = true;
            i += 2;
        } else if a == b"bybox" && i + 3 < remaining && search && !byradius {
            let Some((conv, w, h)) = box_arg(c, &rest[i + 1..i + 4]) else {
                return;
            };
            conversion = conv;
            shape = Shape::Box {
                width: w,
                height: h,
            };
            bybox = true;
            i += 3;
        } else {
            c.reply.error(errors::SYNTAX);
            return;
        }
        i += 1;
    }
    if store.is_some() && (withdist || withhash || withcoords) {
        c.reply.error(&format!(
            "ERR {} is not compatible with WITHDIST, WITHHASH and WITHCOORD options",
            if kind == Kind::SearchStore {
                "GEOSEARCHSTORE"
            } else {
                "STORE option in GEORADIUS"
            }
        ));
        return;
    }
    let name = String::from_utf8_lossy(&argv[0]).into_owned();
    if search && !(frommember || fromloc) {
        c.reply.error(&format!(
            "ERR exactly one of FROMMEMBER or FROMLONLAT can be specified for {}",
            name
        ));
        return;
    }
    if search && !(byradius || bybox) {
        c.reply.error(&format!(
            "ERR exactly one of BYRADIUS and BYBOX can be specified for {}",
            name
        ));
        return;
    }
    if any && count == 0 {
        c.reply
            .error("ERR the ANY argument requires COUNT argument");
        return;
    }
    if !exists {
        match store {
            Some(dest) => {
                if srv.delete_key(db, dest) {
                    crate::server::notify::notify(
                        srv,
                        crate::server::notify::GENERIC,
                        "del",
                        dest,
                        db,
                    );
                    srv.add_dirty(1);
                }
                c.reply.int(0);
            }
            None => c.reply.array(0),
        }
        return;
    }
    if count != 0 && sort == Sort::None && !any {
        sort = Sort::Asc;
    }
    let area = Search {
        xy,
        conversion,
        shape,
    };
    let limit = if any { count as usize } else { 0 };
    let mut points = match srv.dbs[db].get(&argv[src]).map(|e| &e.value) {
        Some(Value::ZSet(z)) => scan(z, &area, limit),
        _ => Vec::new(),
    };
    if points.is_empty() && store.is_none() {
        c.reply.array(0);
        return;
    }
    let returned = if count == 0 {
        points.len()
    } else {
        points.len().min(count as usize)
    };
    if sort != Sort::None {
        // Redis's comparator: greater, equal, else less (so NaN sorts as less).
        let asc = |a: &Point, b: &Point| {
            if a.dist > b.dist {
                Ordering::Greater
            } else if a.dist == b.dist {
                Ordering::Equal
            } else {
                Ordering::Less
            }
        };
        let cmp = |a: &Point, b: &Point| match sort {
            Sort::Desc => asc(a, b).reverse(),
            _ => asc(a, b),
        };
        if returned == points.len() {
            // glibc's qsort (a merge sort) keeps ties in scan order, as this does.
            points.sort_by(cmp);
        } else {
            pqsort(&mut points, &cmp, 0, returned - 1);
        }
    }
    points.truncate(returned);
    for p in &mut points {
        p.dist /= conversion;
    }
    let Some(dest) = store else {
        let options = usize::from(withdist) + usize::from(withcoords) + usize::from(withhash);
        c.reply.array(returned);
        for p in &points {
            if options > 0 {
                c.reply.array(options + 1);
            }
            c.reply.bulk(&p.member);
            if withdist {
                c.reply.bulk(format_distance(p.dist).as_bytes());
            }
            if withhash {
                c.reply.int(p.score as i64);
            }
            if withcoords {
                c.reply.array(2);
                reply_coord(c, p.xy[0]);
                reply_coord(c, p.xy[1]);
            }
        }
        return;
    };
    if returned > 0 {
        let (me, mv) = (
            srv.config.zset_max_listpack_entries,
            srv.config.zset_max_listpack_value,
        );
        let mut z = ZSet::new();
        for p in &points {
            let score = if storedist { p.dist } else { p.score };
            z.insert_with(&p.member, score, me, mv);
        }
        srv.set_key(db, dest, Value::ZSet(z), false);
        let event = if search {
            "geosearchstore"
        } else {
            "georadiusstore"
        };
        crate::server::notify::notify(srv, crate::server::notify::ZSET, event, dest, db);
        srv.add_dirty(returned as u64);
    } else if srv.delete_key(db, dest) {
        crate::server::notify::notify(srv, crate::server::notify::GENERIC, "del", dest, db);
        srv.add_dirty(1);
    }
    c.reply.int(returned as i64);
}

/// Parses `radius unit`: Some((metres per unit, radius)) or None after Redis's error.
fn distance_arg(c: &mut Client, a: &[Vec<u8>]) -> Option<(f64, f64)> {
    let Some(d) = parse_f64(&a[0]) else {
        c.reply.error("ERR need numeric radius");
        return None;
    };
    if d < 0.0 {
        c.reply.error("ERR radius cannot be negative");
        return None;
    }
    Some((unit(c, &a[1])?, d))
}

/// Parses `width height unit`: Some((metres per unit, width, height)).
fn box_arg(c: &mut Client, a: &[Vec<u8>]) -> Option<(f64, f64, f64)> {
    let Some(w) = parse_f64(&a[0]) else {
        c.reply.error("ERR need numeric width");
        return None;
    };
    let Some(h) = parse_f64(&a[1]) else {
        c.reply.error("ERR need numeric height");
        return None;
    };
    if h < 0.0 || w < 0.0 {
        c.reply.error("ERR height or width cannot be negative");
        return None;
    }
    Some((unit(c, &a[2])?, w, h))
}

/// Scans the nine boxes in Redis's order, skipping zeroed ones and a box equal
/// to the last neighbour scanned; within each, the members with min <= score < max
/// that the shape contains, in sorted-set order. `limit` (ANY) stops early.
fn scan(z: &ZSet, area: &Search, limit: usize) -> Vec<Point> {
    let mut out = Vec::new();
    let boxes = area.boxes();
    // Redis compares with the last box scanned only once a neighbour (not
    // the centre, index 0) was scanned.
    let mut last = 0usize;
    for (i, b) in boxes.iter().enumerate() {
        if is_skipped(b) {
            continue;
        }
        if last != 0 && boxes[last] == *b {
            continue;
        }
        if limit > 0 && out.len() >= limit {
            break;
        }
        let min = align52(*b) as f64;
        let max = align52(Hash {
            bits: b.bits + 1,
            step: b.step,
        }) as f64;
        let mut k = z.count_score(min, false);
        while let Some((m, s)) = z.get_by_rank(k) {
            if s >= max {
                break;
            }
            let xy = decode_score(s);
            if let Some(dist) = area.contains(xy) {
                out.push(Point {
                    member: m.to_vec(),
                    score: s,
                    xy,
                    dist,
                });
            }
            if limit > 0 && out.len() >= limit {
                break;
            }
            k += 1;
        }
        last = i;
    }
    out
}
