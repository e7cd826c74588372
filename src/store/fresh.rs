//! Which answers read from the database are still fresh: the store's side of
//! the session-check cache.
//!
//! Every write that changes what a session check reads takes the next
//! generation. An answer remembers the generation it was read at, and stays
//! fresh until a write that could change it commits. Most such writes concern
//! one identity — a logout, a revoked session, a refreshed login, a verified
//! address, a settings change, an admin edit, a completed recovery — and
//! mark only that identity; cleanup, which deletes only sessions that ended
//! long ago, marks nothing; batch imports and patches mark everything.
//! Before, every one of them marked everything: one logout sent every user's
//! next check back to the database.
//!
//! Marks are kept per identity until there are `MAX_MARKED` of them; then they
//! are folded into one mark for everything, which is always safe.

use std::collections::HashMap;
use uuid::Uuid;

/// Identities marked one by one before the marks are folded into one.
const MAX_MARKED: usize = 4096;

/// What changed since when. One lock guards both fields, so a check never
/// sees `changed` cleared by a fold without the fold's `everything`.
#[derive(Debug, Default)]
pub struct Freshness {
    /// The generation of the last write that marked everything.
    everything: u64,
    /// The generation of each identity's last change since then.
    changed: HashMap<Uuid, u64>,
}

/// Which cached answers a committed write may have made stale.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Touched {
    /// None: it only added rows no answer was read from, or touched tables a
    /// session check does not read.
    Nothing,
    /// Those of one identity: its sessions, its identity row, its addresses.
    Identity(Uuid),
    /// None, though it deleted sessions (and their devices): only sessions
    /// that had ended by this time — revoked, or expired — whose answers no
    /// check uses any more (an expired answer is refused by its expiry, a
    /// revoked one was marked stale by the revocation). Cleanup.
    EndedSessions(time::OffsetDateTime),
    /// Any.
    Everything,
}

impl Touched {
    /// Whether the write makes any cached answer stale.
    pub fn marks(&self) -> bool {
        !matches!(self, Touched::Nothing | Touched::EndedSessions(_))
    }
}

impl Freshness {
    /// Records a write committed at `generation`.
    pub fn mark(&mut self, touched: Touched, generation: u64) {
        match touched {
            Touched::Nothing | Touched::EndedSessions(_) => {}
            Touched::Identity(id) if self.changed.len() < MAX_MARKED => {
                self.changed.insert(id, generation);
            }
            Touched::Identity(_) | Touched::Everything => {
                self.everything = generation;
                self.changed.clear();
            }
        }
    }

    /// Whether an answer about `identity`, read at generation `read_at`
    /// (taken before the read), is still fresh.
    pub fn is_fresh(&self, read_at: u64, identity: Uuid) -> bool {
        read_at >= self.everything && self.changed.get(&identity).is_none_or(|&g| read_at >= g)
    }
}

#[cfg(test)]
mod tests {
    use super::{Freshness, Touched, MAX_MARKED};
    use uuid::Uuid;

    #[test]
    fn a_change_to_one_identity_leaves_the_others_fresh() {
        let (a, b) = (Uuid::new_v4(), Uuid::new_v4());
        let mut f = Freshness::default();
        assert!(f.is_fresh(0, a) && f.is_fresh(0, b));
        f.mark(Touched::Identity(a), 1);
        assert!(!f.is_fresh(0, a), "read before a's change");
        assert!(f.is_fresh(1, a), "read after it");
        assert!(f.is_fresh(0, b), "b did not change");
        f.mark(Touched::Nothing, 2);
        assert!(f.is_fresh(0, b) && f.is_fresh(1, a));
        f.mark(Touched::Everything, 3);
        assert!(!f.is_fresh(2, b) && !f.is_fresh(2, a));
        assert!(f.is_fresh(3, b) && f.is_fresh(3, a));
    }

    #[test]
    fn too_many_marks_fold_into_one_that_covers_everything() {
        let old = Uuid::new_v4();
        let mut f = Freshness::default();
        for g in 1..=MAX_MARKED as u64 {
            f.mark(Touched::Identity(Uuid::new_v4()), g);
        }
        assert!(f.is_fresh(0, old), "marks so far name other identities");
        let last = MAX_MARKED as u64 + 1;
        f.mark(Touched::Identity(Uuid::new_v4()), last);
        assert!(!f.is_fresh(last - 1, old), "the fold covers everything");
        assert!(f.is_fresh(last, old));
        assert!(f.changed.is_empty());
    }
}
