//! `tripod write-test INVENTORY [--keys N] [--json] [--keep]`: write N keys on the master
//! (pipelined), WAIT for the replicas, read every key back on every replica, measure the
//! propagation latency, check that replicas refuse writes, delete the keys.
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use redis::aio::MultiplexedConnection;
use serde::Serialize;

use crate::cli::error::{Error, Result};
use crate::cli::group::Snapshot;
use crate::cli::inventory::{Host, Inventory};
use crate::cli::probe;
use crate::cli::report;
use crate::cli::sentinel::ask;

const T: Duration = Duration::from_secs(10);
const BATCH: usize = 100;

#[derive(Debug, Serialize, Default, Clone)]
pub struct Latency {
    pub samples: usize,
    pub p50_ms: f64,
    pub p99_ms: f64,
    pub max_ms: f64,
}

#[derive(Debug, Serialize, Default)]
pub struct ReplicaResult {
    pub name: String,
    pub reachable: bool,
    pub missing: usize,
    pub mismatched: usize,
    /// Time from the master's acknowledgement of a batch until the replica returned its last key.
    pub latency: Latency,
    /// "refused" (READONLY) or "accepted".
    pub write_on_replica: Option<String>,
    pub write_on_replica_expected: String,
    pub ok: bool,
    pub error: Option<String>,
}

#[derive(Debug, Serialize, Default)]
pub struct WriteTest {
    pub ok: bool,
    pub master: String,
    pub prefix: String,
    pub keys: usize,
    pub write_seconds: f64,
    /// The replicas WAIT counted as having acknowledged every write.
    pub wait_acked: i64,
    pub replicas: Vec<ReplicaResult>,
    pub deleted: bool,
    pub error: Option<String>,
}

fn key(prefix: &str, i: usize) -> String {
    format!("{prefix}{i:07}")
}

fn value(run: &str, i: usize) -> String {
    format!("{run}:{i}:tripod-write-test-value")
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let idx = ((p * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len()) - 1;
    sorted[idx]
}

/// Runs the write test and prints its report (table or JSON); exit 1 on any missing or
/// mismatched key, an unreachable replica, or an unexpected answer to a write on a replica.
pub async fn run(inv: Inventory, keys: usize, json: bool, keep: bool) -> Result<i32> {
    if keys == 0 {
        return Err(Error::usage("--keys must be at least 1"));
    }
    let mut wt = WriteTest {
        keys,
        ..Default::default()
    };
    let r = execute(&inv, keys, keep, &mut wt).await;
    if let Err(e) = r {
        wt.ok = false;
        wt.error = Some(e.message);
    }
    if json {
        out!(
            "{}",
            serde_json::to_string(&wt).unwrap_or_else(|_| "{\"ok\":false}".into())
        );
    } else {
        print_text(&wt);
    }
    Ok(if wt.ok { 0 } else { 1 })
}

fn print_text(wt: &WriteTest) {
    if !wt.master.is_empty() {
        out!(
            "wrote {} keys with prefix {} on {} in {:.3}s; WAIT: {} replica(s) acknowledged",
            wt.keys,
            wt.prefix,
            wt.master,
            wt.write_seconds,
            wt.wait_acked
        );
    }
    let rows: Vec<Vec<String>> = wt
        .replicas
        .iter()
        .map(|r| {
            vec![
                r.name.clone(),
                if r.reachable {
                    "yes".into()
                } else {
                    "NO".into()
                },
                r.missing.to_string(),
                r.mismatched.to_string(),
                format!("{:.2}", r.latency.p50_ms),
                format!("{:.2}", r.latency.p99_ms),
                format!("{:.2}", r.latency.max_ms),
                format!(
                    "{} (expected {})",
                    r.write_on_replica.as_deref().unwrap_or("-"),
                    r.write_on_replica_expected
                ),
                if r.ok { "ok".into() } else { "FAIL".into() },
            ]
        })
        .collect();
    if !rows.is_empty() {
        out_nonl!(
            "{}",
            report::table(
                &[
                    "REPLICA",
                    "REACHABLE",
                    "MISSING",
                    "MISMATCHED",
                    "P50(ms)",
                    "P99(ms)",
                    "MAX(ms)",
                    "WRITE ON REPLICA",
                    "RESULT"
                ],
                &rows
            )
        );
    }
    for r in &wt.replicas {
        if let Some(e) = &r.error {
            out!("  {}: {e}", r.name);
        }
    }
    if let Some(e) = &wt.error {
        out!("error: {e}");
    }
    if wt.deleted {
        out!("test keys deleted");
    } else if !wt.prefix.is_empty() {
        out!("test keys kept (prefix {})", wt.prefix);
    }
    out!("write-test: {}", if wt.ok { "passed" } else { "FAILED" });
}

async fn execute(inv: &Inventory, n: usize, keep: bool, wt: &mut WriteTest) -> Result<()> {
    // The live master: with Sentinels running, the one they agree on (when it is a live
    // master); else the inventory's, if it is one; otherwise the only reachable master.
    let (snap, views) = tokio::join!(Snapshot::take(&inv.hosts), ask::view_all(inv));
    let probes = &snap.probes;
    let masters = snap.masters();
    let is_master = |i: usize| masters.contains(&i);
    let by_sentinel = match ask::agreed_master(inv, &views) {
        ask::Agreement::Host(name) => snap.index(&name).filter(|&i| is_master(i)),
        _ => None,
    };
    let inv_master = by_sentinel.unwrap_or_else(|| {
        inv.hosts
            .iter()
            .position(|h| h.name == inv.master().name)
            .expect("master")
    });
    let mi = if is_master(inv_master) {
        inv_master
    } else {
        if masters.len() != 1 {
            return Err(Error::failed(format!(
                "no master to write to: the inventory's master {} is {} (run `tripod status`)",
                inv.hosts[inv_master].name,
                probes[inv_master]
                    .error
                    .clone()
                    .unwrap_or_else(|| "not a master".into())
            )));
        }
        masters[0]
    };
    let master = inv.hosts[mi].clone();
    wt.master = master.name.clone();
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    let run = format!("{:x}{:x}", nanos, std::process::id());
    wt.prefix = format!("tripod:write-test:{run}:");

    let mut mcon = probe::connect(&master, T).await?;
    let replicas: Vec<Host> = inv
        .hosts
        .iter()
        .enumerate()
        .filter(|(i, _)| *i != mi)
        .map(|(_, h)| h.clone())
        .collect();
    let mut rcons = connect_replicas(&replicas, wt).await;

    // Write in pipelined batches; after each batch, time until each replica has its last key.
    let mut samples: Vec<Vec<f64>> = vec![Vec::new(); replicas.len()];
    let started = Instant::now();
    let mut written = 0;
    let result: Result<()> = async {
        for start in (0..n).step_by(BATCH) {
            let end = (start + BATCH).min(n);
            let mut pipe = redis::pipe();
            for i in start..end {
                pipe.cmd("SET")
                    .arg(key(&wt.prefix, i))
                    .arg(value(&run, i))
                    .ignore();
            }
            match tokio::time::timeout(T, pipe.query_async::<()>(&mut mcon)).await {
                Ok(Ok(())) => {}
                Ok(Err(e)) => return Err(probe::explain(&master, &e).into()),
                Err(_) => return Err(Error::failed(format!("{}: write timed out", master.name))),
            }
            written = end;
            let acked = Instant::now();
            let last = key(&wt.prefix, end - 1);
            let want = value(&run, end - 1);
            let mut polls = Vec::new();
            for (ri, c) in rcons.iter().enumerate() {
                let Some(mut c) = c.clone() else { continue };
                let (last, want) = (last.clone(), want.clone());
                polls.push(tokio::spawn(async move {
                    let deadline = acked + Duration::from_secs(2);
                    loop {
                        let got: Option<String> = redis::cmd("GET")
                            .arg(&last)
                            .query_async(&mut c)
                            .await
                            .ok()
                            .flatten();
                        if got.as_deref() == Some(want.as_str()) {
                            return Some((ri, acked.elapsed().as_secs_f64() * 1000.0));
                        }
                        if Instant::now() >= deadline {
                            return None;
                        }
                        tokio::time::sleep(Duration::from_micros(200)).await;
                    }
                }));
            }
            for p in polls {
                if let Ok(Some((ri, ms))) = p.await {
                    samples[ri].push(ms);
                }
            }
        }
        Ok(())
    }
    .await;
    wt.write_seconds = started.elapsed().as_secs_f64();

    if result.is_ok() {
        let acked: std::result::Result<i64, _> = probe::cmd(
            &master,
            &mut mcon,
            redis::cmd("WAIT").arg(replicas.len()).arg(5000),
            Duration::from_secs(8),
        )
        .await;
        wt.wait_acked = acked.unwrap_or(0);

        // Read every key back on every replica.
        for (ri, r) in replicas.iter().enumerate() {
            let Some(c) = rcons[ri].as_mut() else {
                continue;
            };
            let res = &mut wt.replicas[ri];
            check_replica(r, c, &wt.prefix, &run, n, &samples[ri], res).await;
        }
    }

    // Clean up unless --keep (also after a failure, for whatever was written).
    if !keep && written > 0 {
        wt.deleted = delete_keys(&master, &mut mcon, &wt.prefix, written).await;
    }
    result?;

    for r in wt.replicas.iter_mut() {
        r.ok = r.reachable
            && r.error.is_none()
            && r.missing == 0
            && r.mismatched == 0
            && r.write_on_replica.as_deref() == Some(r.write_on_replica_expected.as_str());
    }
    wt.ok = !wt.replicas.is_empty() && wt.replicas.iter().all(|r| r.ok);
    Ok(())
}

/// Connects to every replica, recording in `wt` which could be reached and what a write on
/// each is expected to get.
async fn connect_replicas(
    replicas: &[Host],
    wt: &mut WriteTest,
) -> Vec<Option<MultiplexedConnection>> {
    let mut rcons = Vec::new();
    for r in replicas {
        let mut res = ReplicaResult {
            name: r.name.clone(),
            write_on_replica_expected: if r.redis.replica_read_only() {
                "refused".into()
            } else {
                "accepted".into()
            },
            ..Default::default()
        };
        match probe::connect(r, probe::PROBE_TIMEOUT).await {
            Ok(c) => {
                res.reachable = true;
                rcons.push(Some(c));
            }
            Err(e) => {
                res.error = Some(e.message);
                rcons.push(None);
            }
        }
        wt.replicas.push(res);
    }
    rcons
}

/// Deletes the first `written` test keys on the master; whether every DEL went through.
async fn delete_keys(
    master: &Host,
    mcon: &mut MultiplexedConnection,
    prefix: &str,
    written: usize,
) -> bool {
    let mut ok = true;
    for start in (0..written).step_by(1000) {
        let end = (start + 1000).min(written);
        let ks: Vec<String> = (start..end).map(|i| key(prefix, i)).collect();
        let r: std::result::Result<i64, _> =
            probe::cmd(master, mcon, redis::cmd("DEL").arg(&ks), T).await;
        ok &= r.is_ok();
    }
    ok
}

/// Reads every key back on one replica, summarises its latency samples, and checks that a
/// write on it is refused (READONLY), or accepted with `replica-read-only no`.
async fn check_replica(
    r: &Host,
    c: &mut MultiplexedConnection,
    prefix: &str,
    run: &str,
    n: usize,
    samples: &[f64],
    res: &mut ReplicaResult,
) {
    for start in (0..n).step_by(500) {
        let end = (start + 500).min(n);
        let ks: Vec<String> = (start..end).map(|i| key(prefix, i)).collect();
        let got: std::result::Result<Vec<Option<String>>, _> =
            probe::cmd(r, c, redis::cmd("MGET").arg(&ks), T).await;
        match got {
            Ok(vals) => {
                for (i, v) in (start..end).zip(vals) {
                    match v {
                        None => res.missing += 1,
                        Some(v) if v != value(run, i) => res.mismatched += 1,
                        Some(_) => {}
                    }
                }
            }
            Err(e) => {
                res.error = Some(e.message);
                res.missing += end - start;
            }
        }
    }
    let mut s = samples.to_vec();
    s.sort_by(|a, b| a.total_cmp(b));
    res.latency = Latency {
        samples: s.len(),
        p50_ms: percentile(&s, 0.50),
        p99_ms: percentile(&s, 0.99),
        max_ms: s.last().copied().unwrap_or(0.0),
    };
    // A write on the replica: READONLY unless replica-read-only is no.
    let probe_key = format!("{prefix}readonly-probe");
    let w: redis::RedisResult<()> = redis::cmd("SET")
        .arg(&probe_key)
        .arg("x")
        .query_async(c)
        .await;
    res.write_on_replica = Some(match &w {
        Ok(()) => {
            let _: redis::RedisResult<()> = redis::cmd("DEL").arg(&probe_key).query_async(c).await;
            "accepted".into()
        }
        Err(e) if e.code() == Some("READONLY") => "refused".into(),
        Err(e) => format!("error: {e}"),
    });
}
