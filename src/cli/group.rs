//! The group as a whole, for every command: run a step on every host at once with progress,
//! probe every node, decide who the live master is, judge the group's health, and wait until
//! it is healthy. One place decides these, so deploy, promote, status, stop and write-test
//! agree on them.
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::error::{Error, Result};
use super::inventory::{Host, Role};
use super::probe::{self, LiveRole, Probe};
use super::report::Progress;

/// Runs `work` for every host at once, each on a blocking thread with its own progress line
/// (`work` reports steps on it); the line ends with `done(result)`'s text. Results come back in
/// the hosts' order; a task that panicked is an error naming its host.
pub async fn fan_out<T, W, D>(hosts: &[Host], work: W, done: D) -> Vec<Result<T>>
where
    T: Send + 'static,
    W: Fn(&Host, &Progress) -> Result<T> + Send + Sync + 'static,
    D: Fn(&T) -> String + Send + Sync + 'static,
{
    let names: Vec<String> = hosts.iter().map(|h| h.name.clone()).collect();
    let progress = Arc::new(Progress::new(&names));
    let work = Arc::new(work);
    let done = Arc::new(done);
    let mut tasks = Vec::new();
    for h in hosts.iter().cloned() {
        let (pr, work, done) = (progress.clone(), work.clone(), done.clone());
        tasks.push(tokio::task::spawn_blocking(move || {
            let r = work(&h, &pr);
            match &r {
                Ok(v) => pr.finish(&h.name, true, &done(v)),
                Err(e) => pr.finish(&h.name, false, &e.message),
            }
            r
        }));
    }
    let mut out = Vec::new();
    for (t, h) in tasks.into_iter().zip(hosts) {
        out.push(
            t.await.unwrap_or_else(|e| {
                Err(Error::failed(format!("host {}: task failed: {e}", h.name)))
            }),
        );
    }
    out
}

/// Every node of the group as probed at one moment.
#[derive(Debug, Clone)]
pub struct Snapshot {
    pub hosts: Vec<Host>,
    pub probes: Vec<Probe>,
}

impl Snapshot {
    /// Probes every host at once.
    pub async fn take(hosts: &[Host]) -> Snapshot {
        Snapshot {
            hosts: hosts.to_vec(),
            probes: probe::probe_all(hosts, probe::PROBE_TIMEOUT).await,
        }
    }

    /// The position of host `name` in the snapshot.
    pub fn index(&self, name: &str) -> Option<usize> {
        self.hosts.iter().position(|h| h.name == name)
    }

    /// What the probe of host `name` found.
    pub fn probe_of(&self, name: &str) -> Option<&Probe> {
        self.index(name).map(|i| &self.probes[i])
    }

    /// The live master: a reachable node with role:master, the one with the most connected
    /// replicas, and among equals the inventory's master.
    pub fn live_master(&self) -> Option<usize> {
        self.masters().into_iter().max_by_key(|&i| {
            let connected = self.probes[i]
                .info
                .as_ref()
                .map_or(0, |x| x.connected_slaves);
            (connected, self.hosts[i].role == Role::Master)
        })
    }

    /// Every node that answers with role:master.
    pub fn masters(&self) -> Vec<usize> {
        (0..self.hosts.len())
            .filter(|&i| {
                self.probes[i]
                    .info
                    .as_ref()
                    .is_some_and(|x| x.role == LiveRole::Master)
            })
            .collect()
    }

    /// One line: every node's role and offset, or that it is unreachable.
    pub fn offsets_line(&self) -> String {
        self.hosts
            .iter()
            .zip(&self.probes)
            .map(|(h, p)| match &p.info {
                Some(i) => format!("{} ({}) {}", h.name, i.role.as_str(), i.offset()),
                None => format!("{} unreachable", h.name),
            })
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// The verification deploy and promote end with: `master` reports role:master with every
/// replica online, and each replica reports role:slave with its link up. Returns the problems.
pub fn problems(master: &Host, replicas: &[&Host], snap: &Snapshot) -> Vec<String> {
    let mut problems = Vec::new();
    let find = |h: &Host| snap.probe_of(&h.name);
    match find(master).and_then(|p| p.info.as_ref()) {
        None => problems.push(format!(
            "master {} does not answer: {}",
            master.name,
            find(master)
                .and_then(|p| p.error.clone())
                .unwrap_or_default()
        )),
        Some(mi) => {
            if mi.role != LiveRole::Master {
                problems.push(format!(
                    "{} reports role:{} instead of master",
                    master.name,
                    mi.role.as_str()
                ));
            }
            if mi.connected_slaves != replicas.len() {
                problems.push(format!(
                    "master {} reports connected_slaves:{} instead of {}",
                    master.name,
                    mi.connected_slaves,
                    replicas.len()
                ));
            }
            for s in &mi.slaves {
                if s.state != "online" {
                    problems.push(format!(
                        "master {}: replica {}:{} is state={}",
                        master.name, s.ip, s.port, s.state
                    ));
                }
            }
        }
    }
    for r in replicas {
        match find(r).and_then(|p| p.info.as_ref()) {
            None => problems.push(format!(
                "replica {} does not answer: {}",
                r.name,
                find(r).and_then(|p| p.error.clone()).unwrap_or_default()
            )),
            Some(ri) => {
                if ri.role != LiveRole::Replica {
                    problems.push(format!(
                        "{} reports role:{} instead of slave",
                        r.name,
                        ri.role.as_str()
                    ));
                } else if !ri.link_up() {
                    problems.push(format!(
                        "replica {}: master_link_status:{}",
                        r.name,
                        ri.master_link_status.as_deref().unwrap_or("?")
                    ));
                } else if !ri.follows(master) {
                    problems.push(format!(
                        "replica {} follows {}:{} instead of {}",
                        r.name,
                        ri.master_host.as_deref().unwrap_or("?"),
                        ri.master_port.unwrap_or(0),
                        master.name
                    ));
                }
            }
        }
    }
    problems
}

/// Polls until `master` and `replicas` check out as [`problems`] has it, or `limit` passes;
/// returns the problems left.
pub async fn wait_healthy(
    hosts: &[Host],
    master: &Host,
    replicas: &[&Host],
    limit: Duration,
) -> Vec<String> {
    let deadline = Instant::now() + limit;
    loop {
        let snap = Snapshot::take(hosts).await;
        let found = problems(master, replicas, &snap);
        if found.is_empty() || Instant::now() >= deadline {
            return found;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// Waits until `replica` is an online replica of `master` whose offset has reached the offset
/// `master` had when the wait began (so everything written before is on it), or `limit` passes.
pub async fn wait_caught_up(master: &Host, replica: &Host, limit: Duration) -> Result<()> {
    let deadline = Instant::now() + limit;
    let mut target: Option<i64> = None;
    let mut last: String;
    loop {
        let r = async {
            let mut mc = probe::connect(master, probe::PROBE_TIMEOUT).await?;
            let m = probe::info_replication(master, &mut mc, probe::PROBE_TIMEOUT).await?;
            Ok::<_, probe::ProbeError>(m)
        }
        .await;
        match r {
            Ok(m) => {
                let goal = *target.get_or_insert(m.master_repl_offset);
                match m.slave_line(replica) {
                    Some(l) if l.state == "online" && l.offset >= goal => return Ok(()),
                    Some(l) => last = format!("state={}, offset {} of {goal}", l.state, l.offset),
                    None => last = format!("{} does not list it yet", master.name),
                }
            }
            Err(e) => last = e.message,
        }
        if Instant::now() >= deadline {
            return Err(Error::failed(format!(
                "host {}: not an online, caught-up replica of {} after {limit:?} ({last})",
                replica.name, master.name
            )));
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
