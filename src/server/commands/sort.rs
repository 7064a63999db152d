//! SORT and SORT_RO, as Redis 7.0's sort.c: the SQL-like options parsed in
//! order, BY/GET patterns (`*` substitution, `->field` hash dereference, `#`
//! for the element itself), the native order kept by `BY nosort` for lists and
//! sorted sets, LIMIT, ALPHA, ASC/DESC and STORE into a list.
use super::*;
use crate::server::client::Client;
use crate::server::resp::errors;
use crate::server::state::Server;
use crate::server::types::{List, Value, WRONGTYPE};
use crate::server::util::parse_i64;
use std::cmp::Ordering;

pub static COMMANDS: &[Command] = &[
    Command::new("sort", sort)
        .arity(-2)
        .group("generic")
        .flags(WRITE | DENYOOM)
        .keys(1, 1, 1)
        .get_keys(sort_keys),
    Command::new("sort_ro", sort_ro)
        .arity(-2)
        .group("generic")
        .flags(READONLY)
        .keys(1, 1, 1),
];

/// COMMAND GETKEYS for SORT: the sorted key, plus the STORE destination
/// (the last STORE given), skipping the arguments of the other options as
/// Redis's sortGetKeys does.
pub fn sort_keys(argv: &[Vec<u8>]) -> Vec<usize> {
    let mut keys = vec![1];
    let mut store = None;
    let mut i = 2;
    while i < argv.len() {
        let a = argv[i].to_ascii_lowercase();
        let skip = match &a[..] {
            b"limit" => 2,
            b"get" | b"by" => 1,
            b"store" => {
                if i + 1 < argv.len() {
                    store = Some(i + 1);
                }
                1
            }
            _ => 0,
        };
        i += skip + 1;
    }
    keys.extend(store);
    keys
}

/// SORT key [BY pattern] [LIMIT offset count] [GET pattern ...] [ASC|DESC]
/// [ALPHA] [STORE destination]: the elements of a list, set or sorted set,
/// sorted numerically (or lexicographically with ALPHA), by themselves or by
/// the values the BY pattern names; replies with them (or the GET values), or
/// stores them as a list in destination and replies with its length (an empty
/// result deletes destination).
fn sort(srv: &mut Server, c: &mut Client, argv: &[Vec<u8>]) {
    sort_generic(srv, c, argv, false)
}

/// SORT_RO key ...: SORT without STORE, a read-only command (allowed on
/// read-only replicas).
fn sort_ro(srv: &mut Server, c: &mut Client, argv: &[Vec<u8>]) {
    sort_generic(srv, c, argv, true)
}

/// One element to sort with what it sorts by.
struct Item {
    obj: Vec<u8>,
    score: f64,
    cmp: Option<Vec<u8>>,
}

/// Parses a number as C's strtod does for SORT: leading blanks allowed, the
/// whole rest must be consumed, an empty string is 0; None for an error (NaN
/// or trailing garbage).
fn strtod(s: &[u8]) -> Option<f64> {
    let t = std::str::from_utf8(s).ok()?;
    let t = t.trim_start_matches([' ', '\t', '\n', '\r', '\x0b', '\x0c']);
    if s.is_empty() {
        return Some(0.0);
    }
    let v: f64 = t.parse().ok()?;
    if v.is_nan() {
        return None;
    }
    Some(v)
}

/// Redis's lookupKeyByPattern: `#` is the element itself; otherwise the first
/// `*` is replaced by the element and the key read (a string), or with
/// `->field` after the `*` the field of the hash at that key. None when the
/// pattern has no `*` or the key/field is missing or of another type.
fn lookup_by_pattern(
    srv: &mut Server,
    c: &Client,
    pattern: &[u8],
    subst: &[u8],
) -> Option<Vec<u8>> {
    if pattern == b"#" {
        return Some(subst.to_vec());
    }
    let star = pattern.iter().position(|&b| b == b'*')?;
    let after = &pattern[star + 1..];
    let (postfix, field) = match after.windows(2).position(|w| w == b"->") {
        Some(p) if p + 2 < after.len() => (&after[..p], Some(&after[p + 2..])),
        _ => (after, None),
    };
    let mut key = Vec::with_capacity(star + subst.len() + postfix.len());
    key.extend_from_slice(&pattern[..star]);
    key.extend_from_slice(subst);
    key.extend_from_slice(postfix);
    let e = srv.lookup_read(c, &key)?;
    match (&e.value, field) {
        (Value::Hash(h), Some(f)) => h.get(f).map(|v| v.to_vec()),
        (Value::Str(s), None) => Some(s.clone()),
        _ => None,
    }
}

fn sort_generic(srv: &mut Server, c: &mut Client, argv: &[Vec<u8>], readonly: bool) {
    let mut desc = false;
    let mut alpha = false;
    let mut limit_start: i64 = 0;
    let mut limit_count: i64 = -1;
    let mut sortby: Option<&[u8]> = None;
    let mut dontsort = false;
    let mut gets: Vec<&[u8]> = Vec::new();
    let mut store: Option<&[u8]> = None;
    let mut j = 2;
    while j < argv.len() {
        let left = argv.len() - j - 1;
        let a = argv[j].to_ascii_lowercase();
        match &a[..] {
            b"asc" => desc = false,
            b"desc" => desc = true,
            b"alpha" => alpha = true,
            b"limit" if left >= 2 => {
                let (Some(s), Some(n)) = (parse_i64(&argv[j + 1]), parse_i64(&argv[j + 2])) else {
                    c.reply.error(errors::NOT_INTEGER);
                    return;
                };
                limit_start = s;
                limit_count = n;
                j += 2;
            }
            b"store" if left >= 1 && !readonly => {
                store = Some(&argv[j + 1]);
                j += 1;
            }
            b"by" if left >= 1 => {
                sortby = Some(&argv[j + 1]);
                // No '*': every element sorts by the same (missing) value.
                if !argv[j + 1].contains(&b'*') {
                    dontsort = true;
                } else if !crate::server::acl::unrestricted_key_read(srv, c, argv) {
                    c.reply
                        .error("ERR BY option of SORT denied due to insufficient ACL permissions.");
                    return;
                }
                j += 1;
            }
            b"get" if left >= 1 => {
                if !crate::server::acl::unrestricted_key_read(srv, c, argv) {
                    c.reply.error(
                        "ERR GET option of SORT denied due to insufficient ACL permissions.",
                    );
                    return;
                }
                gets.push(&argv[j + 1]);
                j += 1;
            }
            _ => {
                c.reply.error(errors::SYNTAX);
                return;
            }
        }
        j += 1;
    }

    // The elements, in their native order, and the kind of value.
    #[derive(PartialEq)]
    enum Kind {
        List,
        Set,
        ZSet,
    }
    let (kind, elems): (Kind, Vec<Vec<u8>>) = match srv.lookup_read(c, &argv[1]) {
        None => (Kind::List, Vec::new()),
        Some(e) => match &e.value {
            Value::List(l) => (Kind::List, l.iter().map(|x| x.to_vec()).collect()),
            Value::Set(s) => (Kind::Set, s.members()),
            Value::ZSet(z) => (
                Kind::ZSet,
                z.iter_all().into_iter().map(|(m, _)| m).collect(),
            ),
            _ => {
                c.reply.error(WRONGTYPE);
                return;
            }
        },
    };
    // A set has no order of its own: when the result is stored (and so
    // replicated) or goes to a script (whose effects are replicated) it is sorted
    // alphabetically so every replica agrees.
    if dontsort && kind == Kind::Set && (store.is_some() || c.is_script()) {
        dontsort = false;
        alpha = true;
        sortby = None;
    }

    let len = elems.len() as i64;
    let mut start = limit_start.max(0);
    let mut end = if limit_count < 0 {
        len - 1
    } else {
        start.saturating_add(limit_count) - 1
    };
    if start >= len {
        start = len - 1;
        end = len - 2;
    }
    if end >= len {
        end = len - 1;
    }

    let mut items: Vec<Item>;
    if dontsort && kind != Kind::Set {
        // Native order (reversed by DESC), LIMIT applied right away.
        items = Vec::new();
        if end >= start {
            let range: Box<dyn Iterator<Item = &Vec<u8>>> = if desc {
                Box::new(elems.iter().rev())
            } else {
                Box::new(elems.iter())
            };
            items = range
                .skip(start as usize)
                .take((end - start + 1) as usize)
                .map(|o| Item {
                    obj: o.clone(),
                    score: 0.0,
                    cmp: None,
                })
                .collect();
            end -= start;
            start = 0;
        }
    } else {
        items = elems
            .into_iter()
            .map(|o| Item {
                obj: o,
                score: 0.0,
                cmp: None,
            })
            .collect();
    }

    let mut conversion_error = false;
    if !dontsort {
        for it in items.iter_mut() {
            let byval = match sortby {
                Some(p) => match lookup_by_pattern(srv, c, p, &it.obj) {
                    Some(v) => v,
                    None => continue,
                },
                None => it.obj.clone(),
            };
            if alpha {
                if sortby.is_some() {
                    it.cmp = Some(byval);
                }
            } else {
                match strtod(&byval) {
                    Some(v) => it.score = v,
                    None => conversion_error = true,
                }
            }
        }
        let by_pattern = sortby.is_some();
        items.sort_by(|a, b| {
            let ord = if !alpha {
                a.score
                    .partial_cmp(&b.score)
                    .unwrap_or(Ordering::Equal)
                    .then_with(|| a.obj.cmp(&b.obj))
            } else if by_pattern {
                match (&a.cmp, &b.cmp) {
                    (None, None) => Ordering::Equal,
                    (None, Some(_)) => Ordering::Less,
                    (Some(_), None) => Ordering::Greater,
                    (Some(x), Some(y)) => x.cmp(y),
                }
            } else {
                a.obj.cmp(&b.obj)
            };
            if desc {
                ord.reverse()
            } else {
                ord
            }
        });
    }

    let selected: &[Item] = if end >= start && start >= 0 {
        &items[start as usize..=end as usize]
    } else {
        &[]
    };
    let per = if gets.is_empty() { 1 } else { gets.len() };
    let outputlen = selected.len() * per;
    if conversion_error {
        c.reply
            .error("ERR One or more scores can't be converted into double");
        return;
    }
    let Some(dst) = store else {
        c.reply.array(outputlen);
        for it in selected {
            if gets.is_empty() {
                c.reply.bulk(&it.obj);
            }
            for g in &gets {
                match lookup_by_pattern(srv, c, g, &it.obj) {
                    Some(v) => c.reply.bulk(&v),
                    None => c.reply.null(),
                }
            }
        }
        return;
    };
    let mut out = List::new();
    for it in selected {
        if gets.is_empty() {
            out.push_back(it.obj.clone());
        }
        for g in &gets {
            out.push_back(lookup_by_pattern(srv, c, g, &it.obj).unwrap_or_default());
        }
    }
    let db = c.db;
    if outputlen > 0 {
        srv.set_key(db, dst, Value::List(out), false);
        crate::server::notify::notify(srv, crate::server::notify::LIST, "sortstore", dst, db);
        srv.add_dirty(outputlen as u64);
    } else if srv.delete_key(db, dst) {
        crate::server::notify::notify(srv, crate::server::notify::GENERIC, "del", dst, db);
        srv.add_dirty(1);
    }
    c.reply.int(outputlen as i64);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(args: &[&str]) -> Vec<Vec<u8>> {
        args.iter().map(|a| a.as_bytes().to_vec()).collect()
    }

    #[test]
    fn getkeys_finds_the_store_destination() {
        assert_eq!(sort_keys(&v(&["sort", "k"])), vec![1]);
        assert_eq!(
            sort_keys(&v(&["sort", "k", "limit", "0", "1", "store", "d"])),
            vec![1, 6]
        );
        assert_eq!(
            sort_keys(&v(&["sort", "k", "get", "store", "by", "x"])),
            vec![1]
        );
    }

    #[test]
    fn strtod_is_c_like() {
        assert_eq!(strtod(b""), Some(0.0));
        assert_eq!(strtod(b"  1.5"), Some(1.5));
        assert_eq!(strtod(b"1.5x"), None);
        assert_eq!(strtod(b"nan"), None);
    }
}
