//! LATENCY LATEST, HISTORY, RESET, GRAPH, DOCTOR, HISTOGRAM and HELP, as
//! Redis 7.0's latency.c, over the events of `server::latency`.
use super::*;
use crate::server::client::Client;
use crate::server::latency::Series;
use crate::server::state::Server;
use crate::server::util::now_ms;

pub static COMMANDS: &[Command] = &[Command::container("latency", LATENCY_SUBCOMMANDS)
    .arity(-2)
    .group("server")];

const ADMIN_FLAGS: u64 = ADMIN | NOSCRIPT | LOADING | STALE;

static LATENCY_SUBCOMMANDS: &[Command] = &[
    Command::new("latency|doctor", latency_doctor)
        .arity(2)
        .group("server")
        .flags(ADMIN_FLAGS),
    Command::new("latency|graph", latency_graph)
        .arity(3)
        .group("server")
        .flags(ADMIN_FLAGS),
    Command::new("latency|help", latency_help)
        .arity(2)
        .group("server")
        .flags(LOADING | STALE),
    Command::new("latency|histogram", latency_histogram)
        .arity(-2)
        .group("server")
        .flags(ADMIN_FLAGS),
    Command::new("latency|history", latency_history)
        .arity(3)
        .group("server")
        .flags(ADMIN_FLAGS),
    Command::new("latency|latest", latency_latest)
        .arity(2)
        .group("server")
        .flags(ADMIN_FLAGS),
    Command::new("latency|reset", latency_reset)
        .arity(-2)
        .group("server")
        .flags(ADMIN_FLAGS),
];

/// LATENCY LATEST: per event, its name, the time and latency (ms) of its
/// latest sample and its all-time maximum.
fn latency_latest(srv: &mut Server, c: &mut Client, _: &[Vec<u8>]) {
    c.reply.array(srv.latency.events.len());
    for (name, s) in &srv.latency.events {
        let last = s
            .samples
            .last()
            .copied()
            .unwrap_or(crate::server::latency::Sample {
                time: 0,
                latency: 0,
            });
        c.reply.array(4);
        c.reply.bulk(name.as_bytes());
        c.reply.int(last.time);
        c.reply.int(last.latency as i64);
        c.reply.int(s.max as i64);
    }
}

/// LATENCY HISTORY event: the event's samples, oldest first, as [time, ms];
/// empty for an unknown event.
fn latency_history(srv: &mut Server, c: &mut Client, argv: &[Vec<u8>]) {
    let name = String::from_utf8_lossy(&argv[2]);
    match srv.latency.events.get(name.as_ref()) {
        None => c.reply.array(0),
        Some(s) => {
            c.reply.array(s.samples.len());
            for x in &s.samples {
                c.reply.array(2);
                c.reply.int(x.time);
                c.reply.int(x.latency as i64);
            }
        }
    }
}

/// LATENCY RESET [event ...]: forgets the named events (all without names);
/// replies how many were reset.
fn latency_reset(srv: &mut Server, c: &mut Client, argv: &[Vec<u8>]) {
    let names: Vec<String> = argv[2..]
        .iter()
        .map(|a| String::from_utf8_lossy(a).into_owned())
        .collect();
    let n = srv.latency.reset(&names);
    c.reply.int(n as i64);
}

/// LATENCY GRAPH event: Redis's ASCII sparkline of the event's samples, each
/// labelled with how long ago it happened; an error for an event with none.
fn latency_graph(srv: &mut Server, c: &mut Client, argv: &[Vec<u8>]) {
    let name = String::from_utf8_lossy(&argv[2]).into_owned();
    match srv.latency.events.get(&name) {
        None => c
            .reply
            .error(&format!("ERR No samples available for event '{name}'")),
        Some(s) => {
            let g = graph(&name, s, now_ms() / 1000);
            c.reply.verbatim(g.as_bytes());
        }
    }
}

/// The graph LATENCY GRAPH draws (latencyCommandGenSparkeline): a header,
/// 80 dashes, then 4 rows of "_o#|" bars and the vertical labels, 80 samples
/// per block.
fn graph(event: &str, s: &Series, now: i64) -> String {
    let min = s.samples.iter().map(|x| x.latency).min().unwrap_or(0);
    let max = s.samples.iter().map(|x| x.latency).max().unwrap_or(0);
    let mut out = format!(
        "{event} - high {max} ms, low {min} ms (all time high {} ms)\n",
        s.max
    );
    out.push_str(&"-".repeat(80));
    out.push('\n');
    let labels: Vec<String> = s
        .samples
        .iter()
        .map(|x| {
            let e = now - x.time;
            if e < 60 {
                format!("{e}s")
            } else if e < 3600 {
                format!("{}m", e / 60)
            } else if e < 86400 {
                format!("{}h", e / 3600)
            } else {
                format!("{}d", e / 86400)
            }
        })
        .collect();
    let values: Vec<f64> = s.samples.iter().map(|x| x.latency as f64).collect();
    let (vmin, vmax) = (min as f64, max as f64);
    let mut j = 0;
    while j < values.len() {
        let len = (values.len() - j).min(80);
        if j != 0 {
            out.push('\n');
        }
        render_range(
            &mut out,
            &values[j..j + len],
            &labels[j..j + len],
            vmin,
            vmax,
        );
        j += 80;
    }
    out
}

/// Redis's sparklineRenderRange with SPARKLINE_FILL and 4 rows.
fn render_range(out: &mut String, values: &[f64], labels: &[String], min: f64, max: f64) {
    const FILL: &[u8] = b"_o#";
    const ROWS: usize = 4;
    let steps = (FILL.len() * ROWS) as i64;
    let mut relmax = max - min;
    if relmax == 0.0 {
        relmax = 1.0;
    }
    let mut row = 0;
    loop {
        let mut keep = false;
        let mut chars = vec![b' '; values.len()];
        for (j, v) in values.iter().enumerate() {
            let relval = v - min;
            let step = (((relval * steps as f64) / relmax) as i64).clamp(0, steps - 1);
            if row < ROWS {
                let idx = step - ((ROWS - row - 1) * FILL.len()) as i64;
                keep = true;
                if idx >= 0 && (idx as usize) < FILL.len() {
                    chars[j] = FILL[idx as usize];
                } else if idx >= FILL.len() as i64 {
                    chars[j] = b'|';
                }
            } else {
                // One blank row between the bars and the labels.
                if row - ROWS < 1 {
                    keep = true;
                    break;
                }
                let label = labels[j].as_bytes();
                let k = row - ROWS - 1;
                if label.len() > k {
                    keep = true;
                    chars[j] = label[k];
                }
            }
        }
        if !keep {
            break;
        }
        row += 1;
        out.push_str(&String::from_utf8_lossy(&chars));
        out.push('\n');
    }
}

/// LATENCY DOCTOR: a human report on the recorded events, as Redis's
/// createLatencyReport (the all-clear and monitor-disabled texts verbatim).
fn latency_doctor(srv: &mut Server, c: &mut Client, _: &[Vec<u8>]) {
    let mut r = String::new();
    if srv.latency.events.is_empty() {
        if srv.config.latency_monitor_threshold == 0 {
            r.push_str("I'm sorry, Dave, I can't do that. Latency monitoring is disabled in this Redis instance. You may use \"CONFIG SET latency-monitor-threshold <milliseconds>.\" in order to enable it. If we weren't in a deep space mission I'd suggest to take a look at https://redis.io/topics/latency-monitor.\n");
        } else {
            r.push_str("Dave, no latency spike was observed during the lifetime of this Redis instance, not in the slightest bit. I honestly think you ought to sleep tonight.\n");
        }
        c.reply.verbatim(r.as_bytes());
        return;
    }
    r.push_str("Dave, I have observed latency spikes in this Redis instance. You don't mind talking about it, do you Dave?\n\n");
    let now = now_ms() / 1000;
    for (i, (name, s)) in srv.latency.events.iter().enumerate() {
        let n = s.samples.len().max(1) as u64;
        let avg = s.samples.iter().map(|x| x.latency).sum::<u64>() / n;
        let mad = s
            .samples
            .iter()
            .map(|x| x.latency.abs_diff(avg))
            .sum::<u64>()
            / n;
        let first = s.samples.first().map(|x| x.time).unwrap_or(now);
        let period = (now - first).max(1) as f64;
        r.push_str(&format!(
            "{}. {}: {} latency spikes (average {}ms, mean deviation {}ms, period {:.2} sec). Worst all time event {}ms.\n",
            i + 1,
            name,
            s.samples.len(),
            avg,
            mad,
            period / n as f64,
            s.max
        ));
    }
    r.push_str("\nI have a few advices for you:\n\n");
    if srv
        .latency
        .events
        .keys()
        .any(|k| k == "command" || k == "fast-command")
    {
        r.push_str("- Check your Slow Log to understand what are the commands you are running which are too slow to execute. Please check https://redis.io/commands/slowlog for more information.\n");
    }
    if srv.latency.events.contains_key("expire-cycle") {
        r.push_str("- Deleting, expiring or evicting (because of maxmemory policy) large objects is a blocking operation. If you have very large objects that are often deleted, expired, or evicted, try to fragment those objects into multiple smaller objects.\n");
    }
    r.push_str("- The system is slow to execute Redis code paths not containing system calls. This usually means the system does not provide Redis CPU time to run for long periods. You should try to:\n  1) Lower the system load.\n  2) Use a computer / VM just for Redis if you are running other software in the same system.\n  3) Check if you have a \"noisy neighbour\" problem.\n  4) Check with 'redis-cli --intrinsic-latency 100' what is the intrinsic latency in your system.\n  5) Check if the problem is allocator-related by recompiling Redis with MALLOC=libc, if you are using Jemalloc. However this may create fragmentation problems.\n");
    c.reply.verbatim(r.as_bytes());
}

/// LATENCY HISTOGRAM [command ...]: for each named command (a container's
/// name means all its subcommands; every command when none is named) that
/// ran at least once, its calls and the cumulative distribution of its run
/// times in microseconds. Unknown names are skipped.
fn latency_histogram(srv: &mut Server, c: &mut Client, argv: &[Vec<u8>]) {
    let mut names: Vec<&'static str> = Vec::new();
    if argv.len() == 2 {
        for cmd in table().values() {
            if cmd.subcommands.is_empty() {
                names.push(cmd.name);
            } else {
                names.extend(cmd.subcommands.iter().map(|s| s.name));
            }
        }
        names.sort_unstable();
    } else {
        for a in &argv[2..] {
            let n = String::from_utf8_lossy(a).to_ascii_lowercase();
            let (parent, sub) = match n.split_once('|') {
                Some((p, s)) => (p.to_string(), Some(s.to_string())),
                None => (n.clone(), None),
            };
            let Some(cmd) = table().get(parent.as_str()) else {
                continue;
            };
            match sub {
                Some(s) => {
                    if let Some(x) = cmd
                        .subcommands
                        .iter()
                        .find(|x| x.name.split('|').nth(1) == Some(s.as_str()))
                    {
                        names.push(x.name);
                    }
                }
                None if cmd.subcommands.is_empty() => names.push(cmd.name),
                None => names.extend(cmd.subcommands.iter().map(|s| s.name)),
            }
        }
    }
    let mut seen = std::collections::HashSet::new();
    type Row<'a> = (&'a str, u64, Vec<(u64, u64)>);
    let rows: Vec<Row> = names
        .into_iter()
        .filter(|n| seen.insert(*n))
        .filter_map(|n| {
            let st = srv.cmd_stats.get(n)?;
            (st.hist.total > 0).then(|| (n, st.hist.total, st.hist.cdf()))
        })
        .collect();
    c.reply.map(rows.len());
    for (name, calls, cdf) in rows {
        c.reply.bulk(name.as_bytes());
        c.reply.map(2);
        c.reply.bulk(b"calls");
        c.reply.int(calls as i64);
        c.reply.bulk(b"histogram_usec");
        c.reply.map(cdf.len());
        for (us, n) in cdf {
            c.reply.int(us as i64);
            c.reply.int(n as i64);
        }
    }
}

/// LATENCY HELP: the subcommand list, as Redis prints it.
fn latency_help(_: &mut Server, c: &mut Client, _: &[Vec<u8>]) {
    let lines = [
        "LATENCY <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
        "DOCTOR",
        "    Return a human readable latency analysis report.",
        "GRAPH <event>",
        "    Return an ASCII latency graph for the <event> class.",
        "HISTORY <event>",
        "    Return time-latency samples for the <event> class.",
        "LATEST",
        "    Return the latest latency samples for all events.",
        "RESET [<event> ...]",
        "    Reset latency data of one or more <event> classes.",
        "    (default: reset all data for all event classes)",
        "HISTOGRAM [COMMAND ...]",
        "    Return a cumulative distribution of latencies in the format of a histogram for the specified command names.",
        "    If no commands are specified then all histograms are replied.",
        "HELP",
        "    Prints this help.",
    ];
    c.reply.array(lines.len());
    for l in lines {
        c.reply.simple(l);
    }
}
