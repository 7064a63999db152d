//! `oom-score-adj`: how likely the kernel's OOM killer is to pick this process,
//! per role, as Redis does: masters, replicas and background children each get
//! their own value from `oom-score-adj-values`, relative to the score the process
//! had when the setting was turned on (or absolute), and the original score comes
//! back when it is turned off.

use crate::server::log;
use crate::server::state::Server;

/// Which value of `oom-score-adj-values` applies.
#[derive(Debug, Clone, Copy)]
pub enum ProcessClass {
    Master = 0,
    Replica = 1,
    BackgroundChild = 2,
}

/// The score the process had before tripod-server changed it, once it has.
#[derive(Debug, Default)]
pub struct OomState {
    base: Option<i64>,
}

const PROC_FILE: &str = "/proc/self/oom_score_adj";

fn read_score() -> Option<i64> {
    std::fs::read_to_string(PROC_FILE).ok()?.trim().parse().ok()
}

fn write_score(v: i64) -> Result<(), String> {
    std::fs::write(PROC_FILE, format!("{}\n", v))
        .map_err(|e| format!("Unable to write oom_score_adj: {}", e))
}

/// The class of this process as it runs now (a master or a replica).
pub fn current_class(srv: &Server) -> ProcessClass {
    if srv.is_replica() {
        ProcessClass::Replica
    } else {
        ProcessClass::Master
    }
}

/// Applies the configured score for `class` (or restores the original score
/// when `oom-score-adj` is `no`). The error says what failed; it is logged too.
pub fn apply(srv: &mut Server, class: ProcessClass) -> Result<(), String> {
    let mode = srv.config.value("oom-score-adj").to_string();
    if mode == "no" {
        if let Some(base) = srv.oom.base.take() {
            write_score(base).inspect_err(|e| log::warning(e))?;
        }
        return Ok(());
    }
    if srv.oom.base.is_none() {
        srv.oom.base = Some(read_score().ok_or_else(|| {
            let e = "Unable to read oom_score_adj".to_string();
            log::warning(&e);
            e
        })?);
    }
    let values: Vec<i64> = srv
        .config
        .value("oom-score-adj-values")
        .split_whitespace()
        .filter_map(|v| v.parse().ok())
        .collect();
    let mut v = values.get(class as usize).copied().unwrap_or(0);
    if mode != "absolute" {
        v += srv.oom.base.unwrap_or(0);
    }
    write_score(v.clamp(-1000, 1000)).inspect_err(|e| log::warning(e))
}
