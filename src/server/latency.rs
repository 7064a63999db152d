//! The latency monitor (Redis's latency.c): per event ("command",
//! "fast-command", "expire-cycle", "fork"...) the last 160 samples at or above
//! `latency-monitor-threshold` (one per second, the highest), the time and
//! value of the latest and the all-time maximum; and the per-command latency
//! histograms LATENCY HISTOGRAM reports (powers of two from 1024 ns, as
//! Redis's HDR histogram iterated logarithmically).
use std::collections::BTreeMap;

/// Samples kept per event (LATENCY_TS_LEN).
pub const SAMPLES: usize = 160;

/// One sample: Unix time in seconds and latency in milliseconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sample {
    pub time: i64,
    pub latency: u64,
}

/// The samples of one event, oldest first, with the all-time maximum.
#[derive(Debug, Default, Clone)]
pub struct Series {
    pub samples: Vec<Sample>,
    pub max: u64,
}

/// Every event's series, by event name.
#[derive(Debug, Default)]
pub struct Monitor {
    pub events: BTreeMap<String, Series>,
}

impl Monitor {
    /// Records `ms` for `event` at Unix second `now` when the monitor is on
    /// (`threshold` > 0) and `ms` reaches it (Redis's latencyAddSampleIfNeeded).
    /// A second sample in the same second keeps the higher value.
    pub fn add_if_needed(&mut self, threshold: i64, event: &str, ms: u64, now: i64) {
        if threshold <= 0 || (ms as i64) < threshold {
            return;
        }
        let s = self.events.entry(event.to_string()).or_default();
        s.max = s.max.max(ms);
        if let Some(last) = s.samples.last_mut() {
            if last.time == now {
                last.latency = last.latency.max(ms);
                return;
            }
        }
        if s.samples.len() == SAMPLES {
            s.samples.remove(0);
        }
        s.samples.push(Sample {
            time: now,
            latency: ms,
        });
    }

    /// Forgets the named events (all of them when `names` is empty); returns how
    /// many existed.
    pub fn reset(&mut self, names: &[String]) -> usize {
        if names.is_empty() {
            let n = self.events.len();
            self.events.clear();
            return n;
        }
        names
            .iter()
            .filter(|n| self.events.remove(n.as_str()).is_some())
            .count()
    }
}

/// A per-command latency histogram: counts by bucket k, the durations below
/// 1024 << k nanoseconds.
#[derive(Debug, Default, Clone)]
pub struct Histogram {
    pub counts: Vec<u64>,
    pub total: u64,
}

impl Histogram {
    /// Records a command that took `usec` microseconds.
    pub fn record(&mut self, usec: u64) {
        let ns = usec.saturating_mul(1000);
        let mut k = 0;
        while k < 40 && ns >= (1024u64 << k) {
            k += 1;
        }
        if self.counts.len() <= k {
            self.counts.resize(k + 1, 0);
        }
        self.counts[k] += 1;
        self.total += 1;
    }

    /// The (microseconds, cumulative count) pairs LATENCY HISTOGRAM replies:
    /// each bucket's upper bound and the count up to it, non-empty buckets only.
    pub fn cdf(&self) -> Vec<(u64, u64)> {
        let mut cum = 0;
        let mut out = Vec::new();
        for (k, n) in self.counts.iter().enumerate() {
            if *n > 0 {
                cum += n;
                out.push((((1024u64 << k) - 1) / 1000, cum));
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn samples_merge_per_second_and_respect_the_threshold() {
        let mut m = Monitor::default();
        m.add_if_needed(0, "command", 500, 1);
        assert!(m.events.is_empty());
        m.add_if_needed(100, "command", 50, 1);
        assert!(m.events.is_empty());
        m.add_if_needed(100, "command", 300, 1);
        m.add_if_needed(100, "command", 400, 1);
        m.add_if_needed(100, "command", 200, 2);
        let s = &m.events["command"];
        assert_eq!(s.samples.len(), 2);
        assert_eq!(s.samples[0].latency, 400);
        assert_eq!(s.max, 400);
        assert_eq!(m.reset(&["nope".into()]), 0);
        assert_eq!(m.reset(&[]), 1);
    }

    #[test]
    fn histogram_buckets_are_powers_of_two() {
        let mut h = Histogram::default();
        h.record(0);
        h.record(1);
        h.record(3);
        assert_eq!(h.cdf(), vec![(1, 2), (4, 3)]);
        assert_eq!(h.total, 3);
    }
}
