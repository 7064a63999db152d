//! MEMORY USAGE, STATS, DOCTOR, MALLOC-STATS, PURGE and HELP, as Redis 7.0's
//! object.c. Sizes are estimated the way Redis does (the value's structures
//! with allocator size classes, the key and its dictionary entry; collections
//! measured on a sample of their elements and extrapolated).
use super::*;
use crate::server::client::Client;
use crate::server::memory;
use crate::server::resp::errors;
use crate::server::state::Server;
use crate::server::types::{Hash, List, Value};
use crate::server::util::parse_i64;

pub static COMMANDS: &[Command] = &[Command::container("memory", MEMORY_SUBCOMMANDS)
    .arity(-2)
    .group("server")];

static MEMORY_SUBCOMMANDS: &[Command] = &[
    Command::new("memory|doctor", memory_doctor)
        .arity(2)
        .group("server"),
    Command::new("memory|help", memory_help)
        .arity(2)
        .group("server")
        .flags(LOADING | STALE),
    Command::new("memory|malloc-stats", memory_malloc_stats)
        .arity(2)
        .group("server"),
    Command::new("memory|purge", memory_purge)
        .arity(2)
        .group("server"),
    Command::new("memory|stats", memory_stats)
        .arity(2)
        .group("server"),
    Command::new("memory|usage", memory_usage)
        .arity(-3)
        .group("server")
        .flags(READONLY)
        .keys(2, 2, 1),
];

/// Rounds an allocation up to jemalloc's size class, as Redis's
/// zmalloc_size reports it.
pub fn alloc_size(n: usize) -> usize {
    if n <= 8 {
        return 8;
    }
    if n <= 16 {
        return 16;
    }
    if n <= 128 {
        return n.div_ceil(16) * 16;
    }
    // Four classes per doubling above 128.
    let pow = usize::BITS - (n - 1).leading_zeros();
    let group = 1usize << (pow - 1);
    let step = group / 4;
    n.div_ceil(step) * step
}

/// Bytes of an sds string of `len` bytes: header, data and terminator.
fn sds_size(len: usize) -> usize {
    let hdr = match len {
        0..32 => 1,
        32..256 => 3,
        256..65536 => 5,
        _ => 9,
    };
    alloc_size(hdr + len + 1)
}

/// Bytes one element takes in a listpack: integers in their smallest
/// encoding, strings with their length header, plus the back-length.
fn lp_entry_size(v: &[u8]) -> usize {
    let enc = match crate::server::util::parse_i64(v) {
        Some(i) if v.len() <= 20 => match i {
            0..=127 => 1,
            -4096..=4095 => 2,
            -32768..=32767 => 3,
            -8_388_608..=8_388_607 => 4,
            -2_147_483_648..=2_147_483_647 => 5,
            _ => 9,
        },
        _ if v.len() < 64 => 1 + v.len(),
        _ if v.len() < 4096 => 2 + v.len(),
        _ => 5 + v.len(),
    };
    enc + match enc {
        0..=127 => 1,
        128..=16383 => 2,
        _ => 3,
    }
}

const ROBJ: usize = 16;
const DICT_ENTRY: usize = 24;

/// Redis's objectComputeSize: the value's estimated size, sampling `samples`
/// elements of a collection and extrapolating.
pub fn value_size(v: &Value, samples: usize) -> usize {
    let avg = |sizes: &mut dyn Iterator<Item = usize>, total: usize| -> usize {
        let mut n = 0;
        let mut sum = 0;
        for s in sizes.take(samples) {
            sum += s;
            n += 1;
        }
        (sum * total).checked_div(n).unwrap_or(0)
    };
    match v {
        Value::Str(s) => {
            if s.len() <= 20 && crate::server::util::parse_i64(s).is_some() {
                ROBJ
            } else if s.len() <= 44 {
                alloc_size(ROBJ + 3 + s.len() + 1)
            } else {
                ROBJ + sds_size(s.len())
            }
        }
        Value::Stream(_) => {
            // Listpack nodes hold about what the RDB form holds; add the radix
            // tree and group bookkeeping as a fifth.
            let mut buf = Vec::new();
            let _ = crate::server::rdb::writer::write_object(v, &mut buf, false);
            ROBJ + buf.len() + buf.len() / 5
        }
        Value::List(l) => {
            // A quicklist (48) of 8 KB listpack nodes (32 each).
            let bytes = match l {
                List::Small(_) => l.iter().map(lp_entry_size).sum::<usize>(),
                _ => avg(&mut l.iter().map(lp_entry_size), l.len()),
            } + 7;
            let nodes = bytes / 8192 + 1;
            ROBJ + 48 + nodes * 32 + alloc_size(bytes.min(8192)) * nodes
        }
        Value::Set(s) => {
            if let Some(ints) = s.ints() {
                let width = match ints.iter().map(|v| v.unsigned_abs()).max().unwrap_or(0) {
                    0..0x8000 => 2,
                    0x8000..0x8000_0000 => 4,
                    _ => 8,
                };
                ROBJ + alloc_size(8 + ints.len() * width)
            } else {
                let m = s.members();
                ROBJ + 96
                    + avg(
                        &mut m.iter().map(|x| sds_size(x.len()) + DICT_ENTRY + 8),
                        m.len(),
                    )
            }
        }
        Value::Hash(h) => match h {
            Hash::Small(_) => {
                ROBJ + alloc_size(
                    7 + h
                        .iter()
                        .map(|(f, v)| lp_entry_size(f) + lp_entry_size(v))
                        .sum::<usize>(),
                )
            }
            _ => {
                ROBJ + 96
                    + avg(
                        &mut h
                            .iter()
                            .map(|(f, v)| sds_size(f.len()) + sds_size(v.len()) + DICT_ENTRY + 8),
                        h.len(),
                    )
            }
        },
        Value::ZSet(z) => {
            let all = z.iter_all();
            if z.is_small() {
                ROBJ + alloc_size(
                    7 + all
                        .iter()
                        .map(|(m, sc)| {
                            let score = crate::server::util::format_f64(*sc);
                            lp_entry_size(m) + lp_entry_size(score.as_bytes())
                        })
                        .sum::<usize>(),
                )
            } else {
                ROBJ + 96
                    + avg(
                        &mut all
                            .iter()
                            .map(|(m, _)| sds_size(m.len()) + DICT_ENTRY + 8 + 48),
                        all.len(),
                    )
            }
        }
    }
}

/// MEMORY USAGE key [SAMPLES count]: the estimated bytes the key and its value
/// take (count 0 samples every element; 5 by default); nil for a missing key.
fn memory_usage(srv: &mut Server, c: &mut Client, argv: &[Vec<u8>]) {
    let mut samples: usize = 5;
    let mut j = 3;
    while j < argv.len() {
        if argv[j].eq_ignore_ascii_case(b"samples") && j + 1 < argv.len() {
            let Some(n) = parse_i64(&argv[j + 1]) else {
                c.reply.error(errors::NOT_INTEGER);
                return;
            };
            if n < 0 {
                c.reply.error(errors::SYNTAX);
                return;
            }
            samples = if n == 0 { usize::MAX } else { n as usize };
            j += 2;
        } else {
            c.reply.error(errors::SYNTAX);
            return;
        }
    }
    match srv.lookup_quiet(c, &argv[2]) {
        None => c.reply.null(),
        Some(e) => {
            let size = value_size(&e.value, samples) + sds_size(argv[2].len()) + DICT_ENTRY;
            c.reply.int(size as i64);
        }
    }
}

fn int(c: &mut Client, k: &str, v: i64) {
    c.reply.bulk(k.as_bytes());
    c.reply.int(v);
}

fn dbl(c: &mut Client, k: &str, v: f64) {
    c.reply.bulk(k.as_bytes());
    c.reply.double(v);
}

/// MEMORY STATS: Redis's map of memory figures (peak, total, startup, clients,
/// per-database overhead, dataset share, fragmentation...).
fn memory_stats(srv: &mut Server, c: &mut Client, _: &[Vec<u8>]) {
    let used = memory::used() as i64;
    let peak = memory::peak() as i64;
    let rss = memory::rss() as i64;
    let keys: usize = srv.dbs.iter().map(|d| d.len()).sum();
    let expires: usize = srv.dbs.iter().map(|d| d.expires.len()).sum();
    let clients = srv.clients.len() as i64;
    let client_bytes = clients * 1024;
    let repl_backlog = srv.config.repl_backlog_size as i64;
    let dbs: Vec<(usize, usize, usize)> = srv
        .dbs
        .iter()
        .enumerate()
        .filter(|(_, d)| !d.is_empty())
        .map(|(i, d)| (i, d.len(), d.expires.len()))
        .collect();
    let startup = 860_000i64.min(used);
    let overhead = startup
        + client_bytes
        + dbs
            .iter()
            .map(|(_, k, e)| ((k + e) * DICT_ENTRY) as i64)
            .sum::<i64>();
    let dataset = (used - overhead).max(0);
    let net = (used - startup).max(1);
    c.reply.map(27 + dbs.len());
    int(c, "peak.allocated", peak);
    int(c, "total.allocated", used);
    int(c, "startup.allocated", startup);
    int(c, "replication.backlog", repl_backlog.min(used));
    int(c, "clients.slaves", 0);
    int(c, "clients.normal", client_bytes);
    int(c, "cluster.links", 0);
    int(c, "aof.buffer", 0);
    int(c, "lua.caches", 0);
    int(c, "functions.caches", 184);
    for (i, k, e) in &dbs {
        c.reply.bulk(format!("db.{i}").as_bytes());
        c.reply.map(2);
        c.reply.bulk(b"overhead.hashtable.main");
        c.reply.int((k * DICT_ENTRY) as i64);
        c.reply.bulk(b"overhead.hashtable.expires");
        c.reply.int((e * DICT_ENTRY) as i64);
    }
    int(c, "overhead.total", overhead);
    int(c, "keys.count", keys as i64);
    int(
        c,
        "keys.bytes-per-key",
        if keys > 0 { net / keys as i64 } else { 0 },
    );
    int(c, "dataset.bytes", dataset);
    dbl(c, "dataset.percentage", dataset as f64 * 100.0 / net as f64);
    dbl(
        c,
        "peak.percentage",
        used as f64 * 100.0 / peak.max(1) as f64,
    );
    int(c, "allocator.allocated", used);
    int(c, "allocator.active", used);
    int(c, "allocator.resident", rss);
    dbl(c, "allocator-fragmentation.ratio", 1.0);
    int(c, "allocator-fragmentation.bytes", 0);
    dbl(c, "allocator.rss-ratio", rss as f64 / used.max(1) as f64);
    int(c, "allocator.rss-bytes", rss - used);
    dbl(c, "rss-overhead.ratio", 1.0);
    int(c, "rss-overhead.bytes", 0);
    dbl(c, "fragmentation", rss as f64 / used.max(1) as f64);
    int(c, "fragmentation.bytes", rss - used);
    let _ = expires;
}

/// MEMORY DOCTOR: Redis's advice on memory use; with nothing notable (or
/// under 5 MB in use) the "Hi Sam, ..." all-clear texts.
fn memory_doctor(_: &mut Server, c: &mut Client, _: &[Vec<u8>]) {
    let used = memory::used();
    let text = if used < 5 * 1024 * 1024 {
        "Hi Sam, this instance is empty or is using very little memory, my issues detector can't be used in these conditions. Please, leave for your mission on Earth and fill it with some data. The new Sam and I will be back to our programming as soon as I finished rebooting.\n"
    } else {
        "Hi Sam, I can't find any memory issue in your instance. I can only account for what occurs on this base.\n"
    };
    c.reply.verbatim(text.as_bytes());
}

/// MEMORY MALLOC-STATS: the allocator's own statistics; tripod's allocator
/// keeps none beyond INFO memory, so (as Redis built with libc malloc) this
/// says so.
fn memory_malloc_stats(_: &mut Server, c: &mut Client, _: &[Vec<u8>]) {
    c.reply
        .verbatim(b"Stats not supported for the current allocator");
}

/// MEMORY PURGE: asks the allocator to return unused memory; OK.
fn memory_purge(_: &mut Server, c: &mut Client, _: &[Vec<u8>]) {
    c.reply.ok();
}

/// MEMORY HELP: the subcommand list, as Redis prints it.
fn memory_help(_: &mut Server, c: &mut Client, _: &[Vec<u8>]) {
    let lines = [
        "MEMORY <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
        "DOCTOR",
        "    Return memory problems reports.",
        "MALLOC-STATS",
        "    Return internal statistics report from the memory allocator.",
        "PURGE",
        "    Attempt to purge dirty pages for reclamation by the allocator.",
        "STATS",
        "    Return information about the memory usage of the server.",
        "USAGE <key> [SAMPLES <count>]",
        "    Return memory in bytes used by <key> and its value. Nested values are",
        "    sampled up to <count> times (default: 5, 0 means sample all).",
        "HELP",
        "    Prints this help.",
    ];
    c.reply.array(lines.len());
    for l in lines {
        c.reply.simple(l);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn size_classes_are_jemallocs() {
        assert_eq!(alloc_size(1), 8);
        assert_eq!(alloc_size(17), 32);
        assert_eq!(alloc_size(129), 160);
        assert_eq!(alloc_size(33002), 40960);
    }
}
