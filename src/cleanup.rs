//! The cleanup task (and `postern cleanup`): removes flows, codes, sessions,
//! stored errors and delivered mail that ended longer than `--cleanup-retention`
//! ago, batch by batch, yielding between batches so requests never wait long.

use crate::state::AppState;
use crate::store::cleanup::{self, Target, BATCH};
use crate::store::{StoreError, Touched};
use tokio::sync::watch;

/// Runs one full pass; returns how many rows each target lost.
pub async fn run_once(state: &AppState) -> Result<Vec<(Target, usize)>, StoreError> {
    let now = state.clock.now();
    let before = now - state.config.cleanup_retention;
    let mut report = Vec::new();
    for target in Target::ALL {
        let mut total = 0;
        loop {
            // Of these, session checks read only sessions, and cleanup deletes
            // only sessions that ended (revoked, or expired) long ago, whose
            // answers no check uses: the session-check cache stays warm.
            let touched = match target {
                Target::Sessions => Touched::EndedSessions(now),
                _ => Touched::Nothing,
            };
            let n = state
                .store
                .write_touching(move |tx| {
                    Ok::<_, StoreError>((cleanup::delete_batch(tx, target, before)?, touched))
                })
                .await?;
            total += n;
            if (n as i64) < BATCH {
                break;
            }
            tokio::task::yield_now().await;
        }
        report.push((target, total));
    }
    Ok(report)
}

/// Runs `run_once` every `--cleanup-interval` until `stop` fires.
pub fn spawn(state: AppState, mut stop: watch::Receiver<bool>) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        loop {
            tokio::select! {
                _ = stop.changed() => break,
                () = tokio::time::sleep(state.config.cleanup_interval) => {}
            }
            match run_once(&state).await {
                Ok(report) => {
                    let removed: usize = report.iter().map(|(_, n)| n).sum();
                    if removed > 0 {
                        tracing::info!(?report, "cleanup removed old rows");
                    }
                }
                Err(e) => tracing::error!(error = %e, "cleanup failed"),
            }
        }
    })
}
