//! The naive panel's memory: render state kept in one worker process (the design that breaks
//! when the click lands on another worker).

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use tessera_server::Principal;

use crate::stock::TransferPayload;

/// How many renders one worker remembers (oldest forgotten first), so memory stays bounded.
const CAPACITY: usize = 10_000;

/// Render state kept in this process's memory: the naive design.
#[derive(Debug)]
pub(crate) struct NaiveStore {
    next: AtomicU64,
    pub(crate) ttl: Duration,
    entries: Mutex<Entries>,
}

#[derive(Debug, Default)]
struct Entries {
    by_id: HashMap<String, Entry>,
    order: VecDeque<String>,
}

#[derive(Clone, Debug)]
pub(crate) struct Entry {
    pub(crate) user: Option<Principal>,
    pub(crate) payload: TransferPayload,
    created: Instant,
}

impl NaiveStore {
    pub(crate) fn new(ttl: Duration) -> NaiveStore {
        NaiveStore {
            next: AtomicU64::new(1),
            ttl,
            entries: Mutex::new(Entries::default()),
        }
    }

    /// Remembers `payload` for `user` and returns its render id.
    pub(crate) fn remember(
        &self,
        worker: &str,
        user: Option<Principal>,
        payload: TransferPayload,
    ) -> String {
        let n = self.next.fetch_add(1, Ordering::Relaxed);
        // The id names the rendering worker so the failure can say where the data lives.
        let id = format!("naive:{worker}:{n}");
        let mut entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        if entries.order.len() >= CAPACITY
            && let Some(oldest) = entries.order.pop_front()
        {
            entries.by_id.remove(&oldest);
        }
        entries.order.push_back(id.clone());
        entries.by_id.insert(
            id.clone(),
            Entry {
                user,
                payload,
                created: Instant::now(),
            },
        );
        id
    }

    pub(crate) fn recall(&self, id: &str) -> Option<Entry> {
        let entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        entries
            .by_id
            .get(id)
            .filter(|e| e.created.elapsed() < self.ttl)
            .cloned()
    }
}
