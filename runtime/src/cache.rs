//! A small bounded cache of compiled programs, keyed by content hash.
//!
//! The hundredth run of the same program pays no compilation. Bounded so a
//! stream of distinct submissions cannot grow memory without limit; eviction
//! is first-in-first-out, which only affects speed, never results.

use std::collections::{HashMap, VecDeque};
use std::hash::Hash;
use std::sync::Mutex;

pub(crate) struct BoundedCache<K, V> {
    inner: Mutex<(HashMap<K, V>, VecDeque<K>)>,
    capacity: usize,
}

impl<K: Hash + Eq + Clone, V: Clone> BoundedCache<K, V> {
    pub(crate) fn new(capacity: usize) -> Self {
        BoundedCache { inner: Mutex::new((HashMap::new(), VecDeque::new())), capacity }
    }

    pub(crate) fn get(&self, key: &K) -> Option<V> {
        let guard = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        guard.0.get(key).cloned()
    }

    pub(crate) fn insert(&self, key: K, value: V) {
        let mut guard = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        let (map, order) = &mut *guard;
        if map.insert(key.clone(), value).is_none() {
            order.push_back(key);
            while order.len() > self.capacity {
                if let Some(old) = order.pop_front() {
                    map.remove(&old);
                }
            }
        }
    }
}
