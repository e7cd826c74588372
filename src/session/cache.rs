//! A bounded in-process cache of answered session checks, keyed by the token's
//! SHA-256 digest. An entry is used only while no write that could change it
//! has committed since it was read (the caller asks the store: each entry
//! carries the generation it was read at and its identity) and the session
//! has not expired, so revocation, logout, expiry and identity changes take
//! effect at once.
//!
//! Sharded to keep lock hold times short when several workers check sessions.
//! Each shard evicts by CLOCK (second chance): a hit marks its entry, and when
//! the shard is full the hand clears marks until it finds an unmarked entry to
//! replace. Recently checked sessions stay, the cache stays full, and every
//! operation is O(1) amortised: an approximate LRU without a linked list.

use actix_web::http::header::HeaderValue;
use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::Mutex;
use time::OffsetDateTime;

/// A token digest: the key, already uniformly random.
pub type Digest = [u8; 32];

const SHARDS: usize = 16;

#[derive(Clone)]
pub struct Cached {
    /// The store's generation taken before the read (`Store::is_fresh`).
    pub generation: u64,
    /// Whose session it is: a write that touched this identity since
    /// `generation` makes the entry stale.
    pub identity: uuid::Uuid,
    pub expires_at: OffsetDateTime,
    /// The `X-Kratos-Authenticated-Identity-Id` header, ready to send.
    pub identity_id: HeaderValue,
    /// The serialized session JSON.
    pub body: bytes::Bytes,
}

/// SHA-256 output needs no further hashing: its first eight bytes are as good
/// a hash as SipHash of all 32, and cost nothing. Entries exist only for
/// tokens that matched a live session, so no one can choose colliding keys.
#[derive(Default)]
pub struct DigestHasher(u64);

impl Hasher for DigestHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for (i, b) in bytes.iter().take(8).enumerate() {
            self.0 |= u64::from(*b) << (8 * i);
        }
    }
}

struct Slot {
    digest: Digest,
    referenced: bool,
}

#[derive(Default)]
struct Shard {
    /// Entry and its slot's position.
    map: HashMap<Digest, (Cached, usize), BuildHasherDefault<DigestHasher>>,
    slots: Vec<Slot>,
    hand: usize,
}

pub struct WhoamiCache {
    /// Entries per shard; 0 disables the cache.
    per_shard: usize,
    shards: Vec<Mutex<Shard>>,
}

impl std::fmt::Debug for WhoamiCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WhoamiCache")
            .field("capacity", &(self.per_shard * SHARDS))
            .finish()
    }
}

fn shard_of(digest: &Digest) -> usize {
    // The hasher uses the first bytes; pick the shard from the last one.
    usize::from(digest[31]) % SHARDS
}

impl WhoamiCache {
    /// A cache of at most `capacity` entries (rounded up to a whole number per
    /// shard).
    pub fn new(capacity: usize) -> WhoamiCache {
        WhoamiCache {
            per_shard: capacity.div_ceil(SHARDS),
            shards: (0..SHARDS).map(|_| Mutex::default()).collect(),
        }
    }

    fn shard(&self, digest: &Digest) -> Option<std::sync::MutexGuard<'_, Shard>> {
        let shard = self.shards.get(shard_of(digest))?;
        Some(
            shard
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner),
        )
    }

    /// The entry for `digest`, if its session has not expired at `now` and
    /// no write `store` has committed since it was read changed it: the
    /// session check's own test.
    pub fn get_fresh(
        &self,
        digest: &Digest,
        now: OffsetDateTime,
        store: &crate::store::Store,
    ) -> Option<Cached> {
        self.get(digest, now, |e| store.is_fresh(e.generation, e.identity))
    }

    /// The entry for `digest`, if its session has not expired at `now` and
    /// `fresh` says nothing has changed it since it was read.
    pub fn get(
        &self,
        digest: &Digest,
        now: OffsetDateTime,
        fresh: impl FnOnce(&Cached) -> bool,
    ) -> Option<Cached> {
        if self.per_shard == 0 {
            return None;
        }
        let mut shard = self.shard(digest)?;
        let (hit, slot) = shard.map.get(digest)?;
        if hit.expires_at <= now || !fresh(hit) {
            return None;
        }
        let (hit, slot) = (hit.clone(), *slot);
        shard.mark(slot);
        Some(hit)
    }

    pub fn put(&self, digest: Digest, entry: Cached) {
        if self.per_shard == 0 {
            return;
        }
        if let Some(mut shard) = self.shard(&digest) {
            shard.insert(digest, entry, self.per_shard);
        }
    }

    /// Entries held now.
    pub fn len(&self) -> usize {
        self.shards
            .iter()
            .map(|s| {
                s.lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner)
                    .map
                    .len()
            })
            .sum()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl Shard {
    fn mark(&mut self, slot: usize) {
        if let Some(s) = self.slots.get_mut(slot) {
            s.referenced = true;
        }
    }

    fn insert(&mut self, digest: Digest, entry: Cached, capacity: usize) {
        if let Some((old, slot)) = self.map.get_mut(&digest) {
            *old = entry;
            let slot = *slot;
            self.mark(slot);
            return;
        }
        if self.slots.len() < capacity {
            self.map.insert(digest, (entry, self.slots.len()));
            self.slots.push(Slot {
                digest,
                referenced: false,
            });
            return;
        }
        // Second chance: at most one full turn clears every mark.
        loop {
            if self.hand >= self.slots.len() {
                self.hand = 0;
            }
            let at = self.hand;
            self.hand += 1;
            let Some(slot) = self.slots.get_mut(at) else {
                return;
            };
            if slot.referenced {
                slot.referenced = false;
                continue;
            }
            let victim = std::mem::replace(&mut slot.digest, digest);
            self.map.remove(&victim);
            self.map.insert(digest, (entry, at));
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(generation: u64, expires_at: OffsetDateTime) -> Cached {
        Cached {
            generation,
            identity: uuid::Uuid::nil(),
            expires_at,
            identity_id: HeaderValue::from_static("id"),
            body: bytes::Bytes::from_static(b"{}"),
        }
    }

    fn key(n: u32) -> Digest {
        let mut d = [0u8; 32];
        d[..4].copy_from_slice(&n.to_le_bytes());
        d[31] = (n % 7) as u8;
        d
    }

    #[test]
    fn stale_generations_and_expired_sessions_miss() {
        let t0 = OffsetDateTime::UNIX_EPOCH;
        let later = t0 + time::Duration::hours(1);
        let c = WhoamiCache::new(100);
        c.put(key(1), entry(1, later));
        assert!(c.get(&key(1), t0, |e| e.generation == 1).is_some());
        assert!(c.get(&key(1), t0, |_| false).is_none(), "changed since");
        assert!(
            c.get(&key(1), later, |e| e.generation == 1).is_none(),
            "expired"
        );
        assert!(
            c.get(&key(2), t0, |e| e.generation == 1).is_none(),
            "never stored"
        );
        assert!(WhoamiCache::new(0)
            .get(&key(1), t0, |e| e.generation == 1)
            .is_none());
        WhoamiCache::new(0).put(key(1), entry(1, later));
    }

    #[test]
    fn size_is_bounded_and_recently_used_entries_survive() {
        let t0 = OffsetDateTime::UNIX_EPOCH;
        let later = t0 + time::Duration::hours(1);
        let capacity = SHARDS * 10;
        let c = WhoamiCache::new(capacity);
        c.put(key(0), entry(1, later));
        for n in 1..10_000 {
            c.put(key(n), entry(1, later));
            // Key 0 is checked all the time, so it must never be evicted.
            assert!(
                c.get(&key(0), t0, |e| e.generation == 1).is_some(),
                "hot entry lost at {n}"
            );
            assert!(c.len() <= capacity, "{} entries", c.len());
        }
        // Most cold entries are gone; the newest are still there.
        assert!(c.get(&key(5), t0, |e| e.generation == 1).is_none());
        assert!(c.get(&key(9_999), t0, |e| e.generation == 1).is_some());
    }
}
