//! INFO: Redis 7.0's sections, field names and field order, so that tools that
//! parse INFO (redis-cli, exporters, tripod's own status command) work unchanged.
use crate::server::client::ClientKind;
use crate::server::memory;
use crate::server::state::Server;
use crate::server::util::{now_ms, now_us};
use std::fmt::Write;

const DEFAULT: &[&str] = &[
    "server",
    "clients",
    "memory",
    "persistence",
    "stats",
    "replication",
    "cpu",
    "module_list",
    "errorstats",
    "cluster",
    "keyspace",
];
const ALL_EXTRA: &[&str] = &["commandstats", "latencystats"];

/// Builds the INFO text for the requested sections (none = default).
pub fn build(srv: &mut Server, sections: &[String]) -> String {
    let mut wanted: Vec<&str> = Vec::new();
    if sections.is_empty() {
        wanted.extend(DEFAULT);
    }
    for s in sections {
        match s.as_str() {
            "default" => wanted.extend(DEFAULT),
            "all" => {
                wanted.extend(DEFAULT);
                wanted.extend(ALL_EXTRA);
            }
            "everything" => {
                wanted.extend(DEFAULT);
                wanted.extend(ALL_EXTRA);
                wanted.push("modules");
            }
            other => wanted.push(match other {
                "modules" => "module_list",
                o => o,
            }),
        }
    }
    let order = [
        "server",
        "clients",
        "memory",
        "persistence",
        "stats",
        "replication",
        "cpu",
        "module_list",
        "commandstats",
        "errorstats",
        "latencystats",
        "cluster",
        "keyspace",
    ];
    let mut out = String::new();
    for name in order {
        if !wanted.contains(&name) {
            continue;
        }
        if !out.is_empty() {
            out.push_str("\r\n");
        }
        match name {
            "server" => server(srv, &mut out),
            "clients" => clients(srv, &mut out),
            "memory" => memory_section(srv, &mut out),
            "persistence" => persistence(srv, &mut out),
            "stats" => stats(srv, &mut out),
            "replication" => crate::server::replication::info_section(srv, &mut out),
            "cpu" => cpu(&mut out),
            "module_list" => out.push_str("# Modules\r\n"),
            "commandstats" => commandstats(srv, &mut out),
            "errorstats" => errorstats(srv, &mut out),
            "latencystats" => latencystats(srv, &mut out),
            "cluster" => out.push_str("# Cluster\r\ncluster_enabled:0\r\n"),
            "keyspace" => keyspace(srv, &mut out),
            _ => {}
        }
    }
    out
}

fn server(srv: &Server, o: &mut String) {
    let uts = {
        // SAFETY: uname fills the struct.
        let mut u: libc::utsname = unsafe { std::mem::zeroed() };
        unsafe { libc::uname(&mut u) };
        let f = |a: &[libc::c_char]| {
            unsafe { std::ffi::CStr::from_ptr(a.as_ptr()) }
                .to_string_lossy()
                .into_owned()
        };
        format!("{} {} {}", f(&u.sysname), f(&u.release), f(&u.machine))
    };
    let up = (now_ms() - srv.start_ms) / 1000;
    let _ = write!(
        o,
        "# Server\r\nredis_version:{}\r\nredis_git_sha1:00000000\r\nredis_git_dirty:0\r\nredis_build_id:0\r\nredis_mode:standalone\r\nos:{}\r\narch_bits:64\r\nmonotonic_clock:POSIX clock_gettime\r\nmultiplexing_api:epoll\r\natomicvar_api:c11-builtin\r\ngcc_version:0.0.0\r\nprocess_id:{}\r\nprocess_supervised:no\r\nrun_id:{}\r\ntcp_port:{}\r\nserver_time_usec:{}\r\nuptime_in_seconds:{}\r\nuptime_in_days:{}\r\nhz:{}\r\nconfigured_hz:{}\r\nlru_clock:{}\r\nexecutable:{}\r\nconfig_file:{}\r\nio_threads_active:0\r\ntripod_version:{}\r\n",
        crate::server::REDIS_VERSION,
        uts,
        std::process::id(),
        srv.run_id,
        srv.tcp_port,
        now_us(),
        up,
        up / 86400,
        srv.config.hz,
        srv.config.hz,
        crate::server::keyspace::db::lru_clock() & 0xFFFFFF,
        srv.executable,
        srv.config.config_file.as_ref().map(|p| std::fs::canonicalize(p).unwrap_or(p.clone()).display().to_string()).unwrap_or_default(),
        crate::server::TRIPOD_VERSION,
    );
}

fn clients(srv: &Server, o: &mut String) {
    let connected = srv.clients.count_kind(|k| k != ClientKind::Replica);
    let _ = write!(
        o,
        "# Clients\r\nconnected_clients:{}\r\ncluster_connections:0\r\nmaxclients:{}\r\nclient_recent_max_input_buffer:{}\r\nclient_recent_max_output_buffer:{}\r\nblocked_clients:{}\r\ntracking_clients:{}\r\nclients_in_timeout_table:{}\r\n",
        connected,
        srv.config.maxclients,
        srv.client_recent_max_input_buffer,
        srv.client_recent_max_output_buffer,
        srv.blocked_clients(),
        srv.tracking.clients.len(),
        srv.clients.values().filter(|x| x.block_deadline().is_some()).count(),
    );
}

fn memory_section(srv: &Server, o: &mut String) {
    let used = memory::used() as u64;
    let peak = memory::peak() as u64;
    let rss = memory::rss() as u64;
    let total = memory::total_system();
    let backlog = srv.repl.backlog.as_ref().map(|b| b.size()).unwrap_or(0) as u64;
    let lua_mem = srv.scripting.engine.used_memory();
    let lua_human = memory::human(lua_mem as u64);
    let scripts_mem = srv.scripting.scripts_mem;
    let nscripts = srv.scripting.scripts.len();
    let nfuncs = srv.scripting.functions.function_count();
    let nlibs = srv.scripting.functions.libs.len();
    let frag = if used > 0 {
        rss as f64 / used as f64
    } else {
        0.0
    };
    let _ = write!(
        o,
        "# Memory\r\nused_memory:{used}\r\nused_memory_human:{}\r\nused_memory_rss:{rss}\r\nused_memory_rss_human:{}\r\nused_memory_peak:{peak}\r\nused_memory_peak_human:{}\r\nused_memory_peak_perc:{:.2}%\r\nused_memory_overhead:{}\r\nused_memory_startup:0\r\nused_memory_dataset:{}\r\nused_memory_dataset_perc:{:.2}%\r\nallocator_allocated:{used}\r\nallocator_active:{used}\r\nallocator_resident:{rss}\r\ntotal_system_memory:{total}\r\ntotal_system_memory_human:{}\r\nused_memory_lua:{lua_mem}\r\nused_memory_vm_eval:{lua_mem}\r\nused_memory_lua_human:{lua_human}\r\nused_memory_scripts_eval:{scripts_mem}\r\nnumber_of_cached_scripts:{nscripts}\r\nnumber_of_functions:{nfuncs}\r\nnumber_of_libraries:{nlibs}\r\nused_memory_vm_functions:0\r\nused_memory_vm_total:0\r\nused_memory_vm_total_human:0B\r\nused_memory_functions:0\r\nused_memory_scripts:0\r\nused_memory_scripts_human:0B\r\nmaxmemory:{}\r\nmaxmemory_human:{}\r\nmaxmemory_policy:{}\r\nallocator_frag_ratio:1.00\r\nallocator_frag_bytes:0\r\nallocator_rss_ratio:{:.2}\r\nallocator_rss_bytes:{}\r\nrss_overhead_ratio:1.00\r\nrss_overhead_bytes:0\r\nmem_fragmentation_ratio:{:.2}\r\nmem_fragmentation_bytes:{}\r\nmem_not_counted_for_evict:0\r\nmem_replication_backlog:{backlog}\r\nmem_total_replication_buffers:{backlog}\r\nmem_clients_slaves:0\r\nmem_clients_normal:0\r\nmem_cluster_links:0\r\nmem_aof_buffer:0\r\nmem_allocator:mimalloc\r\nactive_defrag_running:0\r\nlazyfree_pending_objects:0\r\nlazyfreed_objects:0\r\n",
        memory::human(used),
        memory::human(rss),
        memory::human(peak),
        if peak > 0 { used as f64 * 100.0 / peak as f64 } else { 0.0 },
        backlog,
        used.saturating_sub(backlog),
        if used > 0 { used.saturating_sub(backlog) as f64 * 100.0 / used as f64 } else { 0.0 },
        memory::human(total),
        srv.config.maxmemory,
        memory::human(srv.config.maxmemory),
        srv.config.maxmemory_policy,
        frag,
        rss as i64 - used as i64,
        frag,
        rss as i64 - used as i64,
    );
}

fn persistence(srv: &Server, o: &mut String) {
    crate::server::rdb::info_section(srv, o);
}

fn stats(srv: &Server, o: &mut String) {
    let st = &srv.stats;
    let _ = write!(
        o,
        "# Stats\r\ntotal_connections_received:{}\r\ntotal_commands_processed:{}\r\ninstantaneous_ops_per_sec:{}\r\ntotal_net_input_bytes:{}\r\ntotal_net_output_bytes:{}\r\ntotal_net_repl_input_bytes:{}\r\ntotal_net_repl_output_bytes:{}\r\ninstantaneous_input_kbps:{:.2}\r\ninstantaneous_output_kbps:{:.2}\r\ninstantaneous_input_repl_kbps:0.00\r\ninstantaneous_output_repl_kbps:0.00\r\nrejected_connections:{}\r\nsync_full:{}\r\nsync_partial_ok:{}\r\nsync_partial_err:{}\r\nexpired_keys:{}\r\nexpired_stale_perc:{:.2}\r\nexpired_time_cap_reached_count:{}\r\nexpire_cycle_cpu_milliseconds:{}\r\nevicted_keys:{}\r\nevicted_clients:0\r\ntotal_eviction_exceeded_time:0\r\ncurrent_eviction_exceeded_time:0\r\nkeyspace_hits:{}\r\nkeyspace_misses:{}\r\npubsub_channels:{}\r\npubsub_patterns:{}\r\npubsubshard_channels:{}\r\nlatest_fork_usec:{}\r\ntotal_forks:{}\r\nmigrate_cached_sockets:{}\r\nslave_expires_tracked_keys:0\r\nactive_defrag_hits:0\r\nactive_defrag_misses:0\r\nactive_defrag_key_hits:0\r\nactive_defrag_key_misses:0\r\ntotal_active_defrag_time:0\r\ncurrent_active_defrag_time:0\r\ntracking_total_keys:{}\r\ntracking_total_items:{}\r\ntracking_total_prefixes:{}\r\nunexpected_error_replies:{}\r\ntotal_error_replies:{}\r\ndump_payload_sanitizations:0\r\ntotal_reads_processed:{}\r\ntotal_writes_processed:{}\r\nio_threaded_reads_processed:0\r\nio_threaded_writes_processed:0\r\nreply_buffer_shrinks:0\r\nreply_buffer_expands:0\r\n",
        st.total_connections_received,
        st.total_commands_processed,
        rate(&st.ops_samples) as u64,
        st.total_net_input_bytes,
        st.total_net_output_bytes,
        st.total_net_repl_input_bytes,
        st.total_net_repl_output_bytes,
        rate(&st.net_in_samples) / 1024.0,
        rate(&st.net_out_samples) / 1024.0,
        st.rejected_connections,
        st.sync_full,
        st.sync_partial_ok,
        st.sync_partial_err,
        st.expired_keys,
        st.expired_stale_perc,
        st.expired_time_cap_reached_count,
        st.expire_cycle_cpu_milliseconds,
        st.evicted_keys,
        st.keyspace_hits,
        st.keyspace_misses,
        srv.channels.len(),
        srv.patterns.len(),
        srv.shard_channels.len(),
        st.latest_fork_usec,
        st.total_forks,
        srv.migrate_sockets.len(),
        srv.tracking.total_keys(),
        srv.tracking.total_items(),
        srv.tracking.total_prefixes(),
        st.unexpected_error_replies,
        st.total_error_replies,
        st.total_reads_processed,
        st.total_writes_processed,
    );
}

fn cpu(o: &mut String) {
    let (su, ss) = rusage(libc::RUSAGE_SELF);
    let (cu, cs) = rusage(libc::RUSAGE_CHILDREN);
    let (tu, ts) = rusage(libc::RUSAGE_THREAD);
    let _ = write!(
        o,
        "# CPU\r\nused_cpu_sys:{ss:.6}\r\nused_cpu_user:{su:.6}\r\nused_cpu_sys_children:{cs:.6}\r\nused_cpu_user_children:{cu:.6}\r\nused_cpu_sys_main_thread:{ts:.6}\r\nused_cpu_user_main_thread:{tu:.6}\r\n"
    );
}

fn rusage(who: i32) -> (f64, f64) {
    // SAFETY: getrusage fills the struct.
    let mut r: libc::rusage = unsafe { std::mem::zeroed() };
    unsafe { libc::getrusage(who, &mut r) };
    let t = |tv: libc::timeval| tv.tv_sec as f64 + tv.tv_usec as f64 / 1e6;
    (t(r.ru_utime), t(r.ru_stime))
}

fn commandstats(srv: &Server, o: &mut String) {
    o.push_str("# Commandstats\r\n");
    let mut all: Vec<(&&str, &crate::server::state::CmdStat)> = srv.cmd_stats.iter().collect();
    all.sort_by_key(|(n, _)| **n);
    for (n, s) in all {
        let per = if s.calls > 0 {
            s.usec as f64 / s.calls as f64
        } else {
            0.0
        };
        let _ = write!(
            o,
            "cmdstat_{}:calls={},usec={},usec_per_call={:.2},rejected_calls={},failed_calls={}\r\n",
            n, s.calls, s.usec, per, s.rejected_calls, s.failed_calls
        );
    }
}

/// `latency_percentiles_usec_<command>:p50=...,p99=...` for every command with
/// a recorded latency, at the percentiles of latency-tracking-info-percentiles.
fn latencystats(srv: &Server, o: &mut String) {
    o.push_str("# Latencystats\r\n");
    let percentiles: Vec<String> = srv
        .config
        .get("latency-tracking-info-percentiles")
        .unwrap_or_default()
        .split_whitespace()
        .map(str::to_string)
        .collect();
    let mut all: Vec<(&&str, &crate::server::state::CmdStat)> = srv
        .cmd_stats
        .iter()
        .filter(|(_, s)| s.hist.total > 0)
        .collect();
    all.sort_by_key(|(n, _)| **n);
    for (n, s) in all {
        let _ = write!(o, "latency_percentiles_usec_{n}:");
        for (i, p) in percentiles.iter().enumerate() {
            let ns = s.hist.percentile_ns(p.parse().unwrap_or(0.0));
            let sep = if i + 1 < percentiles.len() { "," } else { "" };
            let _ = write!(o, "p{p}={:.3}{sep}", ns as f64 / 1000.0);
        }
        o.push_str("\r\n");
    }
}

fn errorstats(srv: &Server, o: &mut String) {
    o.push_str("# Errorstats\r\n");
    for (code, n) in &srv.err_stats {
        let _ = write!(o, "errorstat_{}:count={}\r\n", code, n);
    }
}

fn keyspace(srv: &Server, o: &mut String) {
    o.push_str("# Keyspace\r\n");
    for (i, db) in srv.dbs.iter().enumerate() {
        if db.is_empty() {
            continue;
        }
        let _ = write!(
            o,
            "db{}:keys={},expires={},avg_ttl=0\r\n",
            i,
            db.len(),
            db.expires.len()
        );
    }
}

/// Rate per second over the samples (INFO instantaneous_*).
fn rate(q: &std::collections::VecDeque<(i64, u64)>) -> f64 {
    match (q.front(), q.back()) {
        (Some((t0, v0)), Some((t1, v1))) if t1 > t0 => (v1 - v0) as f64 * 1000.0 / (t1 - t0) as f64,
        _ => 0.0,
    }
}
