//! A bounded in-process cache of answered session checks, keyed by the token's
//! digest. An entry is used only while no write has committed since it was
//! read (the store's generation) and the session has not expired, so
//! revocation, logout, expiry and identity changes take effect at once. When
//! full, it starts over (simple, and bounded: `--session-cache-size` entries).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use time::OffsetDateTime;

#[derive(Clone)]
pub struct Cached {
    pub generation: u64,
    pub expires_at: OffsetDateTime,
    pub identity_id: Arc<str>,
    /// The serialized session JSON.
    pub body: bytes::Bytes,
}

pub struct WhoamiCache {
    capacity: usize,
    entries: Mutex<HashMap<String, Cached>>,
}

impl std::fmt::Debug for WhoamiCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WhoamiCache")
            .field("capacity", &self.capacity)
            .finish()
    }
}

impl WhoamiCache {
    pub fn new(capacity: usize) -> WhoamiCache {
        WhoamiCache {
            capacity,
            entries: Mutex::new(HashMap::new()),
        }
    }

    pub fn get(&self, digest: &str, generation: u64, now: OffsetDateTime) -> Option<Cached> {
        if self.capacity == 0 {
            return None;
        }
        let entries = self
            .entries
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        entries
            .get(digest)
            .filter(|c| c.generation == generation && c.expires_at > now)
            .cloned()
    }

    pub fn put(&self, digest: String, entry: Cached) {
        if self.capacity == 0 {
            return;
        }
        let mut entries = self
            .entries
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if entries.len() >= self.capacity {
            entries.clear();
        }
        entries.insert(digest, entry);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(generation: u64, expires_at: OffsetDateTime) -> Cached {
        Cached {
            generation,
            expires_at,
            identity_id: Arc::from("id"),
            body: bytes::Bytes::from_static(b"{}"),
        }
    }

    #[test]
    fn stale_generations_and_expired_sessions_miss_and_capacity_is_bounded() {
        let t0 = OffsetDateTime::UNIX_EPOCH;
        let later = t0 + time::Duration::hours(1);
        let c = WhoamiCache::new(2);
        c.put("a".into(), entry(1, later));
        assert!(c.get("a", 1, t0).is_some());
        assert!(c.get("a", 2, t0).is_none(), "a write happened since");
        assert!(c.get("a", 1, later).is_none(), "expired");
        c.put("b".into(), entry(1, later));
        c.put("c".into(), entry(1, later));
        assert!(c.entries.lock().unwrap().len() <= 2);
        assert!(WhoamiCache::new(0).get("a", 1, t0).is_none());
    }
}
