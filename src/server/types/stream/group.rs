//! Consumer groups: the group's last delivered id and entries-read counter, its
//! pending entries list (PEL: id → delivery record), and its consumers, each
//! with its own PEL (the ids it owns), as Redis's streamCG / streamConsumer.

use super::id::StreamId;
use std::collections::{BTreeMap, BTreeSet};

/// entries_read when it is unknown (Redis's SCG_INVALID_ENTRIES_READ).
pub const INVALID_ENTRIES_READ: i64 = -1;

/// A delivered, not yet acknowledged entry.
#[derive(Debug, Clone)]
pub struct Nack {
    /// Last delivery, ms since the epoch.
    pub delivery_time: i64,
    pub delivery_count: u64,
    /// The consumer that owns it.
    pub consumer: Box<[u8]>,
}

/// A consumer of a group.
#[derive(Debug, Clone, Default)]
pub struct Consumer {
    /// Last time it was seen (read or claimed), ms since the epoch.
    pub seen_time: i64,
    /// The ids it owns in the group's PEL.
    pub pel: BTreeSet<StreamId>,
}

/// A consumer group.
#[derive(Debug, Clone, Default)]
pub struct Group {
    pub last_id: StreamId,
    pub entries_read: i64,
    pub pel: BTreeMap<StreamId, Nack>,
    pub consumers: BTreeMap<Vec<u8>, Consumer>,
}

impl Group {
    /// A group with no consumers that has delivered up to `last_id`.
    pub fn new(last_id: StreamId, entries_read: i64) -> Group {
        Group {
            last_id,
            entries_read,
            pel: BTreeMap::new(),
            consumers: BTreeMap::new(),
        }
    }

    /// Removes an id from the PEL (and its owner's); true if it was pending.
    pub fn ack(&mut self, id: StreamId) -> bool {
        match self.pel.remove(&id) {
            Some(n) => {
                if let Some(c) = self.consumers.get_mut(&n.consumer[..]) {
                    c.pel.remove(&id);
                }
                true
            }
            None => false,
        }
    }

    /// Makes `consumer` the owner of pending `id` (creating the record with
    /// `now` and count 1 when missing). The consumer must exist.
    pub fn assign(&mut self, id: StreamId, consumer: &[u8], now: i64) -> &mut Nack {
        let prev = self.pel.get(&id).map(|n| n.consumer.clone());
        if let Some(prev) = prev {
            if &prev[..] != consumer {
                if let Some(c) = self.consumers.get_mut(&prev[..]) {
                    c.pel.remove(&id);
                }
            }
        }
        if let Some(c) = self.consumers.get_mut(consumer) {
            c.pel.insert(id);
        }
        let n = self.pel.entry(id).or_insert_with(|| Nack {
            delivery_time: now,
            delivery_count: 1,
            consumer: Box::from(consumer),
        });
        n.consumer = Box::from(consumer);
        n
    }

    /// Deletes a consumer and its pending entries; returns how many it had.
    pub fn delete_consumer(&mut self, name: &[u8]) -> Option<usize> {
        let c = self.consumers.remove(name)?;
        for id in &c.pel {
            self.pel.remove(id);
        }
        Some(c.pel.len())
    }
}
