//! Data first: which node holds which writes, so no step makes a node master (or keeps it
//! master) while another node holds acknowledged writes it lacks.
//!
//! A node's data is described by where it is in a replication history, as Redis's PSYNC2 does:
//! the history id (`master_replid`, or the RDB file's `repl-id`), the offset reached in it, and the
//! previous history it continued (`master_replid2`, up to `second_repl_offset - 1`), plus its key
//! count. Two nodes are comparable when they share a history; where nothing links them, only key
//! counts are left, and the check is cautious.
use super::ops::RemoteState;
use super::probe::Probe;

/// What a node holds now, or will hold when started: its place in a replication history.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DataMark {
    /// Where the facts come from, for messages: "the running server", "dump.rdb", "nothing".
    pub source: String,
    pub replid: Option<String>,
    pub offset: Option<i64>,
    /// The history this one continued, and the first offset of the current one (-1: none).
    pub replid2: Option<String>,
    pub second_offset: i64,
    /// Keys held (a lower bound when read from the head of an RDB file); None when unknown.
    pub keys: Option<u64>,
}

impl DataMark {
    /// A running node, from its probe; None when it did not answer.
    pub fn live(p: &Probe) -> Option<DataMark> {
        let i = p.info.as_ref()?;
        let zero_id = |id: &Option<String>| {
            id.clone()
                .filter(|s| !s.is_empty() && s.bytes().any(|b| b != b'0'))
        };
        Some(DataMark {
            source: "the running server".into(),
            replid: zero_id(&i.master_replid),
            offset: Some(i.offset()),
            replid2: zero_id(&i.master_replid2),
            second_offset: i.second_repl_offset,
            keys: p.keys,
        })
    }

    /// A stopped node: what it would load at start (`install_dir/dump.rdb`), or nothing.
    pub fn on_disk(st: &RemoteState) -> DataMark {
        match &st.rdb {
            None => DataMark {
                source: "nothing (no dump.rdb)".into(),
                keys: Some(0),
                second_offset: -1,
                ..DataMark::default()
            },
            Some(h) => DataMark {
                source: "its dump.rdb".into(),
                replid: h.repl_id.clone(),
                offset: h.repl_offset,
                replid2: None,
                second_offset: -1,
                keys: h.keys,
            },
        }
    }

    fn has_data(&self) -> bool {
        self.keys != Some(0)
    }
}

/// Some(explanation) when `other` holds writes that `cand` does not, so that making `cand` the
/// master (its replicas resync from it) would discard them.
///
/// - `cand` empty, `other` not: everything `other` holds.
/// - same history, `other` further along: the bytes in between.
/// - `other` continued `cand`'s history after a promotion (its `replid2` is `cand`'s id) and took
///   writes since, or `cand` continued `other`'s history from a point `other` had passed.
/// - nothing links them: `other` holds more keys.
pub fn missing_from(cand: &DataMark, other: &DataMark) -> Option<String> {
    if !other.has_data() {
        return None;
    }
    if cand.keys == Some(0) {
        return Some(format!(
            "it would hold no keys, and {} holds {}",
            other.source,
            other
                .keys
                .map_or_else(|| "data".to_string(), |k| format!("{k} key(s)"))
        ));
    }
    let (Some(co), Some(oo)) = (cand.offset, other.offset) else {
        return by_keys(cand, other);
    };
    if cand.replid.is_some() && cand.replid == other.replid {
        return (oo > co).then(|| {
            format!(
                "{} is further along the same history (offset {oo} against {co})",
                other.source
            )
        });
    }
    if other.replid2.is_some() && other.replid2 == cand.replid {
        // `other` was promoted out of `cand`'s history at second_offset and went on from there.
        let fork = other.second_offset - 1;
        if oo > fork {
            return Some(format!(
                "{} was promoted at offset {fork} and took {} byte(s) of writes since",
                other.source,
                oo - fork
            ));
        }
        return None;
    }
    if cand.replid2.is_some() && cand.replid2 == other.replid {
        // `cand` was promoted out of `other`'s history; `other` went on past the fork.
        let fork = cand.second_offset - 1;
        if oo > fork {
            return Some(format!(
                "{} went on {} byte(s) past the point (offset {fork}) where this node took over",
                other.source,
                oo - fork
            ));
        }
        return None;
    }
    by_keys(cand, other)
}

fn by_keys(cand: &DataMark, other: &DataMark) -> Option<String> {
    match (cand.keys, other.keys) {
        (Some(c), Some(o)) if o > c => Some(format!(
            "{} holds {o} key(s) against {c}, and no shared replication history says which is newer",
            other.source
        )),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mark(replid: &str, offset: i64, keys: u64) -> DataMark {
        DataMark {
            source: "x".into(),
            replid: Some(replid.into()),
            offset: Some(offset),
            replid2: None,
            second_offset: -1,
            keys: Some(keys),
        }
    }

    #[test]
    fn same_history_compares_offsets() {
        assert!(missing_from(&mark("a", 100, 5), &mark("a", 90, 5)).is_none());
        assert!(missing_from(&mark("a", 100, 5), &mark("a", 100, 5)).is_none());
        assert!(missing_from(&mark("a", 90, 5), &mark("a", 100, 5)).is_some());
    }

    #[test]
    fn empty_candidates_and_empty_others() {
        let empty = DataMark {
            keys: Some(0),
            ..DataMark::default()
        };
        assert!(missing_from(&empty, &mark("a", 100, 5)).is_some());
        assert!(missing_from(&mark("a", 100, 5), &empty).is_none());
        assert!(missing_from(&empty, &empty).is_none());
    }

    #[test]
    fn promotions_fork_histories() {
        // b was promoted out of a's history at offset 100 (second_repl_offset 101).
        let mut b = mark("b", 100, 5);
        b.replid2 = Some("a".into());
        b.second_offset = 101;
        // no writes since on b: a at 100 loses nothing
        assert!(missing_from(&mark("a", 100, 5), &b).is_none());
        b.offset = Some(150);
        assert!(missing_from(&mark("a", 100, 5), &b).is_some());
        // the other way: b as the candidate, a went on past the fork
        b.offset = Some(100);
        assert!(missing_from(&b, &mark("a", 100, 5)).is_none());
        assert!(missing_from(&b, &mark("a", 120, 5)).is_some());
    }

    #[test]
    fn unrelated_histories_compare_keys() {
        assert!(missing_from(&mark("a", 1, 10), &mark("b", 1, 5)).is_none());
        assert!(missing_from(&mark("a", 1, 5), &mark("b", 1, 10)).is_some());
    }
}
