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
/// 1024 << k nanoseconds (LATENCY HISTOGRAM), and the same durations at two
/// significant digits (INFO latencystats' percentiles).
#[derive(Debug, Default, Clone)]
pub struct Histogram {
    pub counts: Vec<u64>,
    pub total: u64,
    /// Counts by HdrHistogram index (see [`hdr_index`]), grown on demand.
    fine: Vec<u64>,
}

/// Redis tracks command latencies from 1 ns to 1 s.
const HDR_MAX_NS: u64 = 1_000_000_000;

/// The index of `ns` in an HdrHistogram of two significant digits starting at
/// 1 (Redis's latency histograms): values below 256 have their own slot, each
/// power of two above is cut into 128 slots of equal width. Reporting a slot's
/// highest value gives the figures Redis prints for the same durations.
fn hdr_index(ns: u64) -> usize {
    let bucket = 63 - (ns | 255).leading_zeros() as usize - 7;
    128 * bucket + (ns >> bucket) as usize
}

/// The highest value that falls in slot `idx`.
fn hdr_highest(idx: usize) -> u64 {
    let (bucket, sub) = if idx < 256 {
        (0, idx as u64)
    } else {
        let b = idx / 128 - 1;
        (b, (idx % 128 + 128) as u64)
    };
    ((sub + 1) << bucket) - 1
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
        let i = hdr_index(ns.clamp(1, HDR_MAX_NS));
        if self.fine.len() <= i {
            self.fine.resize(i + 1, 0);
        }
        self.fine[i] += 1;
    }

    /// The duration (ns) at percentile `p` (0 to 100), as HdrHistogram's
    /// value_at_percentile reports it; 0 when nothing was recorded.
    pub fn percentile_ns(&self, p: f64) -> u64 {
        let p = p.clamp(0.0, 100.0);
        let wanted = ((p / 100.0 * self.total as f64 + 0.5) as u64).max(1);
        let mut seen = 0;
        for (i, n) in self.fine.iter().enumerate() {
            seen += n;
            if seen >= wanted {
                if p == 0.0 {
                    // The lowest equivalent value.
                    let width = if i < 256 { 1 } else { 1u64 << (i / 128 - 1) };
                    return hdr_highest(i) + 1 - width;
                }
                return hdr_highest(i);
            }
        }
        0
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
    fn percentiles_are_hdr_histograms_two_digits() {
        // Redis prints p50=10.047 for a command that took 10 us: 10000 ns
        // falls in [9984, 10048).
        let mut h = Histogram::default();
        h.record(10);
        assert_eq!(h.percentile_ns(50.0), 10_047);
        assert_eq!(h.percentile_ns(0.0), 9_984);
        assert_eq!(h.percentile_ns(100.0), 10_047);
        // Exact below 256 ns, and the slot bounds line up across powers of two.
        assert_eq!(hdr_highest(hdr_index(200)), 200);
        let mut fine = vec![0; 201];
        fine[200] = 1;
        let low = Histogram {
            fine,
            total: 1,
            ..Default::default()
        };
        assert_eq!(low.percentile_ns(0.0), 200);
        assert_eq!(hdr_highest(hdr_index(256)), 257);
        assert_eq!(hdr_highest(hdr_index(1_000_000)), 1_003_519);
        for ns in [1u64, 255, 256, 257, 511, 512, 65_535, 999_999_999] {
            let i = hdr_index(ns);
            assert!(hdr_highest(i) >= ns, "{ns}");
            assert!(i == 0 || hdr_highest(i - 1) < ns, "{ns}");
        }
        // 99 fast calls and one slow one.
        let mut h = Histogram::default();
        for _ in 0..99 {
            h.record(1);
        }
        h.record(50_000);
        assert_eq!(h.percentile_ns(50.0), 1_003);
        assert_eq!(h.percentile_ns(99.0), 1_003);
        assert!(h.percentile_ns(99.9) >= 50_000_000);
    }

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
