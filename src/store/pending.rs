//! New flows wait here, in memory, to be written with the next write.
//!
//! Opening a login or registration page creates a flow, and writing it used to
//! be a transaction of its own: a hand-off to the write thread and back, a
//! commit, and four pages appended to the WAL, for a row that the submit
//! moments later rewrites anyway. New flows now go into this set and are
//! written at the start of the next write transaction, whatever it is: the
//! submit's own, another request's, or the flush that follows a new flow by
//! `FLUSH_AFTER` when nothing else writes. Every write begins by inserting
//! them, so the database sees them in the order of events: a settings flow is
//! written before its identity could be deleted, and a submit's update finds
//! its row. Flows have always been allowed to be lost in a power cut (the user
//! starts again); now a crash can also lose those created in the last
//! `FLUSH_AFTER`. A graceful stop writes them.
//!
//! A flow leaves the set only after the transaction that wrote it has
//! committed, so a lookup that misses here finds it in the database.

use super::{flows, Store, StoreError};
use crate::flow::Flow;
use rusqlite::Transaction;
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use uuid::Uuid;

/// How long a new flow may wait for another write before it gets its own.
pub const FLUSH_AFTER: Duration = Duration::from_millis(100);

/// More waiting flows than this are written at once (a flood of page views).
const AT_MOST: usize = 256;

#[derive(Default)]
pub struct Pending {
    /// Shared, so that a write can take them without copying each flow's
    /// UI tree (a few KB) while holding the lock.
    flows: Mutex<HashMap<Uuid, Arc<Flow>>>,
    /// A flush is scheduled (set by the flow that found none, cleared by the
    /// flush itself, before it writes).
    scheduled: AtomicBool,
    /// An immediate flush is on its way (more than `AT_MOST` wait), so the
    /// flows that follow it in a flood do not each spawn another.
    urgent: AtomicBool,
    /// Calls of `flush_flows`, written or not.
    #[cfg(test)]
    flush_calls: std::sync::atomic::AtomicUsize,
}

impl Pending {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<Uuid, Arc<Flow>>> {
        // The map is consistent after every operation; a panic cannot tear it.
        self.flows
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Inserts every waiting flow in `tx`; returns their ids, for `written`
    /// once `tx` has committed. If an insert fails, the waiting flows are
    /// dropped (as a crash would) and only this write fails: a flow that
    /// cannot be written must not fail every write after it.
    pub(super) fn write_into(&self, tx: &Transaction<'_>) -> Result<Vec<Uuid>, StoreError> {
        let waiting: Vec<Arc<Flow>> = {
            let flows = self.lock();
            if flows.is_empty() {
                return Ok(Vec::new());
            }
            flows.values().cloned().collect()
        };
        let ids: Vec<Uuid> = waiting.iter().map(|f| f.id).collect();
        if let Err(e) = waiting.iter().try_for_each(|f| flows::insert(tx, f)) {
            tracing::error!(error = %e, flows = ids.len(), "cannot write new flows; dropping them");
            self.written(&ids);
            return Err(e);
        }
        Ok(ids)
    }

    /// Forgets flows whose insert has committed.
    pub(super) fn written(&self, ids: &[Uuid]) {
        if ids.is_empty() {
            return;
        }
        let mut flows = self.lock();
        for id in ids {
            flows.remove(id);
        }
    }
}

impl Store {
    /// Stores a new flow with the next write, at most `FLUSH_AFTER` from now
    /// (see the module documentation). `find_flow` sees it at once.
    pub fn insert_flow_soon(&self, flow: Flow) {
        let waiting = {
            let mut flows = self.pending.lock();
            flows.insert(flow.id, Arc::new(flow));
            flows.len()
        };
        let delay = if waiting > AT_MOST {
            if self.pending.urgent.swap(true, Ordering::SeqCst) {
                return;
            }
            Duration::ZERO
        } else if !self.pending.scheduled.swap(true, Ordering::SeqCst) {
            FLUSH_AFTER
        } else {
            return;
        };
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            // No runtime (offline commands): the next write, or `flush_flows`.
            return;
        };
        let store = self.clone();
        runtime.spawn(async move {
            tokio::time::sleep(delay).await;
            if let Err(e) = store.flush_flows().await {
                tracing::warn!(error = %e, "cannot write new flows yet; the next write will");
            }
        });
    }

    /// Writes every waiting flow now (a write with nothing else in it).
    pub async fn flush_flows(&self) -> Result<(), StoreError> {
        #[cfg(test)]
        self.pending.flush_calls.fetch_add(1, Ordering::SeqCst);
        self.pending.scheduled.store(false, Ordering::SeqCst);
        self.pending.urgent.store(false, Ordering::SeqCst);
        if self.pending.lock().is_empty() {
            return Ok(());
        }
        self.write_relaxed(|_| Ok::<_, StoreError>(())).await
    }

    /// A flow by id, waiting or stored (the database read is a `read_here`).
    pub fn find_flow(&self, id: Uuid) -> Result<Option<Flow>, StoreError> {
        if let Some(flow) = self.pending.lock().get(&id) {
            return Ok(Some(Flow::clone(flow)));
        }
        self.read_here(super::Pages::Fresh, |c| flows::find(c, id))
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::open;
    use super::super::{Store, StoreError};
    use super::flows;
    use crate::flow::ui::UiContainer;
    use crate::flow::{Flow, FlowKind, FlowType};
    use std::time::{Duration, Instant};
    use uuid::Uuid;

    fn flow() -> Flow {
        let now = crate::clock::Clock::system().now();
        Flow {
            id: Uuid::now_v7(),
            kind: FlowKind::Login,
            flow_type: FlowType::Api,
            state: "choose_method".into(),
            request_url: "http://localhost/".into(),
            return_to: None,
            active: None,
            ui: UiContainer::new("http://localhost/self-service/login".into()),
            csrf_digest: None,
            identity_id: None,
            refresh: false,
            requested_aal: "aal1".into(),
            internal: serde_json::json!({}),
            issued_at: now,
            expires_at: now + time::Duration::hours(1),
            created_at: now,
            updated_at: now,
        }
    }

    /// What the database itself holds (not the waiting set).
    async fn stored_state(store: &Store, id: Uuid) -> Option<String> {
        store
            .read(move |c| Ok(flows::find(c, id)?.map(|f| f.state)))
            .await
            .unwrap()
    }

    #[tokio::test]
    async fn a_new_flow_is_found_at_once_and_written_with_the_next_write() {
        let (_dir, store) = open();
        let f = flow();
        store.insert_flow_soon(f.clone());
        assert_eq!(
            store.find_flow(f.id).unwrap().unwrap().state,
            "choose_method"
        );
        assert_eq!(stored_state(&store, f.id).await, None);

        // A write that refers to the flow finds its row: the flow went first.
        let mut changed = f.clone();
        changed.state = "passed_challenge".into();
        store
            .write(move |tx| flows::update(tx, &changed))
            .await
            .unwrap();
        assert_eq!(
            stored_state(&store, f.id).await.as_deref(),
            Some("passed_challenge")
        );
        // Written and forgotten: the lookup now reads the database.
        assert_eq!(
            store.find_flow(f.id).unwrap().unwrap().state,
            "passed_challenge"
        );
    }

    #[tokio::test]
    async fn with_nothing_else_writing_a_new_flow_is_written_by_itself() {
        let (_dir, store) = open();
        let f = flow();
        store.insert_flow_soon(f.clone());
        let deadline = Instant::now() + Duration::from_secs(10);
        while stored_state(&store, f.id).await.is_none() {
            assert!(Instant::now() < deadline, "the flow was never written");
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    #[tokio::test]
    async fn a_flood_of_new_flows_is_written_at_once_by_one_flush() {
        let (_dir, store) = open();
        let n = super::AT_MOST + 100;
        // No await in between: every flow arrives before any flush runs.
        for _ in 0..n {
            store.insert_flow_soon(flow());
        }
        let count = || {
            store.read(|c| {
                Ok::<i64, StoreError>(c.query_row(
                    "SELECT count(*) FROM selfservice_flows",
                    [],
                    |r| r.get(0),
                )?)
            })
        };
        let deadline = Instant::now() + Duration::from_secs(10);
        while count().await.unwrap() < i64::try_from(n).unwrap() {
            assert!(Instant::now() < deadline, "the flood was never written");
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        // One immediate flush for the flood; the scheduled one may follow.
        let calls = store
            .pending
            .flush_calls
            .load(std::sync::atomic::Ordering::SeqCst);
        assert!((1..=2).contains(&calls), "{calls} flushes");
    }

    #[tokio::test]
    async fn a_rolled_back_write_keeps_new_flows_for_the_next() {
        let (_dir, store) = open();
        let f = flow();
        store.insert_flow_soon(f.clone());
        let refused = store
            .write(|_| Err::<(), _>(StoreError::Corrupt("refused".into())))
            .await;
        assert!(refused.is_err());
        assert!(store.find_flow(f.id).unwrap().is_some());
        store.flush_flows().await.unwrap();
        assert!(stored_state(&store, f.id).await.is_some());
    }

    #[tokio::test]
    async fn a_flow_that_cannot_be_written_fails_one_write_not_every_write() {
        let (_dir, store) = open();
        let f = flow();
        // The row exists already, so inserting the waiting flow must fail.
        let copy = f.clone();
        store
            .write(move |tx| flows::insert(tx, &copy))
            .await
            .unwrap();
        store.insert_flow_soon(f.clone());
        assert!(store.write(|_| Ok::<_, StoreError>(())).await.is_err());
        store.write(|_| Ok::<_, StoreError>(())).await.unwrap();
    }
}
