//! A small time-bounded map the use cases keep in memory (users by name, API keys by digest), so
//! that authenticating a request does not cost a database round trip every time.

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

/// Entries trusted for the TTL; a zero TTL keeps nothing. Beyond [`TtlCache::CAPACITY`] entries
/// the cache is emptied.
pub(crate) struct TtlCache<K, V> {
    ttl: Duration,
    entries: Mutex<HashMap<K, (V, Instant)>>,
}

impl<K: Eq + Hash, V: Clone> TtlCache<K, V> {
    /// Beyond this many entries the cache is emptied.
    const CAPACITY: usize = 10_000;

    pub(crate) fn new(ttl: Duration) -> Self {
        Self { ttl, entries: Mutex::new(HashMap::new()) }
    }

    pub(crate) fn get(&self, key: &K) -> Option<V> {
        if self.ttl.is_zero() {
            return None;
        }
        self.entries().get(key).filter(|(_, stored_at)| stored_at.elapsed() < self.ttl).map(|(value, _)| value.clone())
    }

    pub(crate) fn put(&self, key: K, value: V) {
        if self.ttl.is_zero() {
            return;
        }
        let mut entries = self.entries();
        if entries.len() >= Self::CAPACITY {
            entries.clear();
        }
        entries.insert(key, (value, Instant::now()));
    }

    pub(crate) fn evict(&self, key: &K) {
        self.entries().remove(key);
    }

    /// Drops every entry whose value `gone` picks.
    pub(crate) fn evict_where(&self, gone: impl Fn(&V) -> bool) {
        self.entries().retain(|_, (value, _)| !gone(value));
    }

    fn entries(&self) -> MutexGuard<'_, HashMap<K, (V, Instant)>> {
        self.entries.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}
