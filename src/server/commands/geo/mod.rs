//! GEO commands as Redis 7.0 runs them: points live in a sorted set whose
//! scores are 52-bit interleaved geohashes (`geohash`), GEOADD is a ZADD of
//! those scores (and is propagated as one), searches scan the nine geohash
//! boxes covering the area and filter by exact distance (`search`).
mod geohash;
mod pqsort;
mod search;

use super::*;
use crate::server::client::Client;
use crate::server::resp::errors;
use crate::server::state::Server;
use crate::server::types::{Value, WRONGTYPE};
use crate::server::util::parse_f64;
use geohash::*;
use pqsort::pqsort;
use search::*;

pub static COMMANDS: &[Command] = &[
    Command::new("geoadd", geoadd)
        .arity(-5)
        .group("geo")
        .flags(WRITE | DENYOOM)
        .keys(1, 1, 1),
    Command::new("geodist", geodist)
        .arity(-4)
        .group("geo")
        .flags(READONLY)
        .keys(1, 1, 1),
    Command::new("geohash", geohash_cmd)
        .arity(-2)
        .group("geo")
        .flags(READONLY)
        .keys(1, 1, 1),
    Command::new("geopos", geopos)
        .arity(-2)
        .group("geo")
        .flags(READONLY)
        .keys(1, 1, 1),
    Command::new("georadius", georadius)
        .arity(-6)
        .group("geo")
        .flags(WRITE | DENYOOM)
        .keys(1, 1, 1)
        .get_keys(radius_keys),
    Command::new("georadius_ro", georadius_ro)
        .arity(-6)
        .group("geo")
        .flags(READONLY)
        .keys(1, 1, 1),
    Command::new("georadiusbymember", georadiusbymember)
        .arity(-5)
        .group("geo")
        .flags(WRITE | DENYOOM)
        .keys(1, 1, 1)
        .get_keys(radius_member_keys),
    Command::new("georadiusbymember_ro", georadiusbymember_ro)
        .arity(-5)
        .group("geo")
        .flags(READONLY)
        .keys(1, 1, 1),
    Command::new("geosearch", geosearch)
        .arity(-7)
        .group("geo")
        .flags(READONLY)
        .keys(1, 1, 1),
    Command::new("geosearchstore", geosearchstore)
        .arity(-8)
        .group("geo")
        .flags(WRITE | DENYOOM)
        .keys(1, 2, 1),
];

/// GEORADIUS's keys as Redis 7.0's key specs find them: the source, then the
/// key after the first STORE, then after the first STOREDIST, searched from
/// argument `from` (6 for GEORADIUS, 5 for GEORADIUSBYMEMBER) to the one
/// before last.
fn store_keys(argv: &[Vec<u8>], from: usize) -> Vec<usize> {
    let mut keys = vec![1];
    for word in [&b"store"[..], b"storedist"] {
        let end = argv.len().saturating_sub(1);
        if let Some(i) = (from..end).find(|&i| argv[i].eq_ignore_ascii_case(word)) {
            keys.push(i + 1);
        }
    }
    keys
}

/// GEORADIUS's key positions.
fn radius_keys(argv: &[Vec<u8>]) -> Vec<usize> {
    store_keys(argv, 6)
}

/// GEORADIUSBYMEMBER's key positions.
fn radius_member_keys(argv: &[Vec<u8>]) -> Vec<usize> {
    store_keys(argv, 5)
}

/// Parses a longitude/latitude pair at argv[i], argv[i+1] (Redis's
/// extractLongLatOrReply): floats, within -180..180 and ±85.05112878.
fn long_lat(c: &mut Client, argv: &[Vec<u8>], i: usize) -> Option<[f64; 2]> {
    let mut xy = [0.0; 2];
    for (k, v) in xy.iter_mut().enumerate() {
        match parse_f64(&argv[i + k]) {
            Some(f) => *v = f,
            None => {
                c.reply.error(errors::NOT_FLOAT);
                return None;
            }
        }
    }
    if !(LONG_MIN..=LONG_MAX).contains(&xy[0]) || !(LAT_MIN..=LAT_MAX).contains(&xy[1]) {
        c.reply.error(&format!(
            "ERR invalid longitude,latitude pair {:.6},{:.6}",
            xy[0], xy[1]
        ));
        return None;
    }
    Some(xy)
}

/// The metres in one unit (m, km, ft, mi), or Redis's error.
fn unit(c: &mut Client, u: &[u8]) -> Option<f64> {
    let f = match u.to_ascii_lowercase().as_slice() {
        b"m" => 1.0,
        b"km" => 1000.0,
        b"ft" => 0.3048,
        b"mi" => 1609.34,
        _ => {
            c.reply
                .error("ERR unsupported unit provided. please use M, KM, FT, MI");
            return None;
        }
    };
    Some(f)
}

/// A distance as Redis prints one: rounded (half to even) to 4 decimals.
fn format_distance(d: f64) -> String {
    if d == 0.0 {
        return "0.0000".into();
    }
    let v = (d * 10000.0).round_ties_even();
    let neg = v < 0.0;
    let a = v.abs() as u64;
    format!(
        "{}{}.{:04}",
        if neg && a != 0 { "-" } else { "" },
        a / 10000,
        a % 10000
    )
}

/// A coordinate as Redis's addReplyHumanLongDouble prints it: `%.17Lf` of the
/// double, trailing zeros and a bare point removed, "-0" as "0".
fn format_coord(v: f64) -> String {
    let s = format!("{:.17}", v);
    let s = s.trim_end_matches('0').trim_end_matches('.');
    if s == "-0" {
        "0".into()
    } else {
        s.to_string()
    }
}

/// Writes a coordinate: bulk in RESP2, a double in RESP3.
fn reply_coord(c: &mut Client, v: f64) {
    let s = format_coord(v);
    if c.reply.resp3 {
        c.reply.raw(format!(",{}\r\n", s).as_bytes());
    } else {
        c.reply.bulk(s.as_bytes());
    }
}

/// Looks up a geo sorted set for reading: Ok(None) when missing, Err after WRONGTYPE.
fn read_zset(srv: &mut Server, c: &mut Client, key: &[u8]) -> Result<Option<()>, ()> {
    match srv.lookup_read(c, key).map(|e| &e.value) {
        None => Ok(None),
        Some(Value::ZSet(_)) => Ok(Some(())),
        Some(_) => {
            c.reply.error(WRONGTYPE);
            Err(())
        }
    }
}

/// The score of `member` in the sorted set at `key` (known to exist).
fn member_score(srv: &Server, db: usize, key: &[u8], member: &[u8]) -> Option<f64> {
    match srv.dbs[db].get(key).map(|e| &e.value) {
        Some(Value::ZSet(z)) => z.score(member),
        _ => None,
    }
}

/// GEOADD key [NX|XX] [CH] longitude latitude member [...]: validates every
/// triple, then runs ZADD with the 52-bit geohash scores (NX/XX/CH as ZADD's)
/// and propagates that ZADD, as Redis does.
fn geoadd(srv: &mut Server, c: &mut Client, argv: &[Vec<u8>]) {
    let (mut nx, mut xx) = (false, false);
    let mut longidx = 2;
    while longidx < argv.len() {
        let o = &argv[longidx];
        if o.eq_ignore_ascii_case(b"nx") {
            nx = true;
        } else if o.eq_ignore_ascii_case(b"xx") {
            xx = true;
        } else if !o.eq_ignore_ascii_case(b"ch") {
            break;
        }
        longidx += 1;
    }
    if !(argv.len() - longidx).is_multiple_of(3) || (xx && nx) {
        c.reply.error(errors::SYNTAX);
        return;
    }
    let mut zargv: Vec<Vec<u8>> = Vec::with_capacity(longidx + (argv.len() - longidx) / 3 * 2);
    zargv.push(b"zadd".to_vec());
    zargv.extend(argv[1..longidx].iter().cloned());
    for t in argv[longidx..].chunks(3) {
        let Some(xy) = long_lat(c, t, 0) else {
            return;
        };
        let bits = align52(encode_wgs84(xy[0], xy[1], STEP_MAX));
        zargv.push(bits.to_string().into_bytes());
        zargv.push(t[2].clone());
    }
    let dirty = srv.dirty;
    zsets::zadd(srv, c, &zargv);
    if srv.dirty > dirty {
        srv.propagate_instead(c.db, vec![zargv]);
    }
}

/// GEODIST key member1 member2 [M|KM|FT|MI]: the distance with 4 decimals, nil
/// when the key or either member is missing.
fn geodist(srv: &mut Server, c: &mut Client, argv: &[Vec<u8>]) {
    let mut to_meter = 1.0;
    if argv.len() == 5 {
        match unit(c, &argv[4]) {
            Some(u) => to_meter = u,
            None => return,
        }
    } else if argv.len() > 5 {
        c.reply.error(errors::SYNTAX);
        return;
    }
    match read_zset(srv, c, &argv[1]) {
        Err(()) => return,
        Ok(None) => {
            c.reply.null();
            return;
        }
        Ok(Some(())) => {}
    }
    let db = c.db;
    let (Some(s1), Some(s2)) = (
        member_score(srv, db, &argv[1], &argv[2]),
        member_score(srv, db, &argv[1], &argv[3]),
    ) else {
        c.reply.null();
        return;
    };
    let a = decode_score(s1);
    let b = decode_score(s2);
    let d = distance(a[0], a[1], b[0], b[1]) / to_meter;
    c.reply.bulk(format_distance(d).as_bytes());
}

/// GEOHASH key [member ...]: the standard 11-character geohash of each member,
/// nil for missing ones.
fn geohash_cmd(srv: &mut Server, c: &mut Client, argv: &[Vec<u8>]) {
    let Ok(exists) = read_zset(srv, c, &argv[1]) else {
        return;
    };
    let db = c.db;
    c.reply.array(argv.len() - 2);
    for m in &argv[2..] {
        match exists.and_then(|_| member_score(srv, db, &argv[1], m)) {
            Some(s) => c.reply.bulk(&geohash_string(s)),
            None => c.reply.null(),
        }
    }
}

/// GEOPOS key [member ...]: [longitude, latitude] of each member, a null
/// array for missing ones.
fn geopos(srv: &mut Server, c: &mut Client, argv: &[Vec<u8>]) {
    let Ok(exists) = read_zset(srv, c, &argv[1]) else {
        return;
    };
    let db = c.db;
    c.reply.array(argv.len() - 2);
    for m in &argv[2..] {
        match exists.and_then(|_| member_score(srv, db, &argv[1], m)) {
            Some(s) => {
                let xy = decode_score(s);
                c.reply.array(2);
                reply_coord(c, xy[0]);
                reply_coord(c, xy[1]);
            }
            None => c.reply.null_array(),
        }
    }
}

/// GEORADIUS key longitude latitude radius unit [options] (STORE/STOREDIST allowed).
fn georadius(srv: &mut Server, c: &mut Client, argv: &[Vec<u8>]) {
    radius_generic(srv, c, argv, 1, Kind::Coords, true)
}

/// GEORADIUS_RO: GEORADIUS without STORE/STOREDIST.
fn georadius_ro(srv: &mut Server, c: &mut Client, argv: &[Vec<u8>]) {
    radius_generic(srv, c, argv, 1, Kind::Coords, false)
}

/// GEORADIUSBYMEMBER key member radius unit [options].
fn georadiusbymember(srv: &mut Server, c: &mut Client, argv: &[Vec<u8>]) {
    radius_generic(srv, c, argv, 1, Kind::Member, true)
}

/// GEORADIUSBYMEMBER_RO: GEORADIUSBYMEMBER without STORE/STOREDIST.
fn georadiusbymember_ro(srv: &mut Server, c: &mut Client, argv: &[Vec<u8>]) {
    radius_generic(srv, c, argv, 1, Kind::Member, false)
}

/// GEOSEARCH key FROMMEMBER m|FROMLONLAT lon lat BYRADIUS r unit|BYBOX w h unit [options].
fn geosearch(srv: &mut Server, c: &mut Client, argv: &[Vec<u8>]) {
    radius_generic(srv, c, argv, 1, Kind::Search, false)
}

/// GEOSEARCHSTORE dest src ... [STOREDIST]: GEOSEARCH stored as a sorted set.
fn geosearchstore(srv: &mut Server, c: &mut Client, argv: &[Vec<u8>]) {
    radius_generic(srv, c, argv, 2, Kind::SearchStore, false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn distances_and_coords_format_as_redis() {
        assert_eq!(format_distance(0.0), "0.0000");
        assert_eq!(format_distance(166274.15156960033), "166274.1516");
        assert_eq!(format_coord(0.999_999_940_395_355_2), "0.99999994039535522");
        assert_eq!(format_coord(-0.0), "0");
        assert_eq!(format_coord(13.0), "13");
    }
}
