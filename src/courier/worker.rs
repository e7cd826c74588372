//! The delivery loop: claims due messages, sends them over SMTP, and records each
//! attempt. Failures are retried with exponential backoff (10 s, 20 s, 40 s, …)
//! until `--courier-max-attempts`, then the message is `abandoned` and the reason
//! logged. Messages caught mid-delivery by a crash are queued again at start-up.

use crate::state::AppState;
use crate::store::courier as outbox;
use tokio::sync::watch;
use tokio::task::JoinHandle;

const BATCH: u32 = 16;
const BACKOFF_BASE_SECS: i64 = 10;

/// Starts the worker when SMTP is configured; `stop` ends it after the current batch.
pub fn spawn(state: AppState, mut stop: watch::Receiver<bool>) -> Option<JoinHandle<()>> {
    let smtp = state.courier.smtp.clone()?;
    Some(tokio::spawn(async move {
        let now = state.clock.now();
        match state
            .store
            .write_unseen(move |tx| outbox::requeue_processing(tx, now))
            .await
        {
            Ok(n) if n > 0 => {
                tracing::warn!(count = n, "re-queued messages interrupted mid-delivery")
            }
            Ok(_) => {}
            Err(e) => tracing::error!(error = %e, "courier: cannot re-queue interrupted messages"),
        }
        let wake = state.courier.wake_handle();
        loop {
            if let Err(e) = deliver_due(&state, &smtp).await {
                tracing::error!(error = %e, "courier: delivery round failed");
            }
            tokio::select! {
                _ = stop.changed() => break,
                () = wake.notified() => {}
                () = tokio::time::sleep(state.courier.poll_interval) => {}
            }
        }
        tracing::debug!("courier worker stopped");
    }))
}

async fn deliver_due(
    state: &AppState,
    smtp: &crate::courier::smtp::SmtpSettings,
) -> Result<(), crate::store::StoreError> {
    loop {
        let now = state.clock.now();
        let batch = state
            .store
            .write_unseen(move |tx| outbox::claim_due(tx, now, BATCH))
            .await?;
        if batch.is_empty() {
            return Ok(());
        }
        for m in batch {
            let result = match state.courier.open(&m) {
                Some(o) => {
                    smtp.send(&m.recipient, &m.subject, &o.body, &o.html_body)
                        .await
                }
                None => Err(
                    "the message cannot be decrypted: the key file was replaced or lost".to_owned(),
                ),
            };
            let now = state.clock.now();
            let id = m.id;
            match result {
                Ok(()) => {
                    state
                        .store
                        .write_unseen(move |tx| outbox::mark_sent(tx, id, now))
                        .await?;
                    tracing::info!(message_id = %id, recipient = %m.recipient, "message sent");
                }
                Err(reason) => {
                    let attempts = m.send_count + 1;
                    let next = (attempts < i64::from(state.courier.max_attempts)).then(|| {
                        now + time::Duration::seconds(
                            BACKOFF_BASE_SECS << (attempts - 1).clamp(0, 12),
                        )
                    });
                    match next {
                        Some(at) => {
                            tracing::warn!(message_id = %id, attempts, retry_at = %crate::timefmt::rfc3339(at), %reason, "message delivery failed; will retry")
                        }
                        None => {
                            tracing::error!(message_id = %id, attempts, %reason, "message abandoned after its last delivery attempt")
                        }
                    }
                    state
                        .store
                        .write_unseen(move |tx| outbox::mark_failed(tx, id, &reason, next, now))
                        .await?;
                }
            }
        }
    }
}
