//! `GET /metrics/prometheus` (admin listener).

use crate::error::ApiError;
use crate::state::AppState;
use crate::store::{courier, sessions};
use actix_web::{web, HttpResponse};

pub async fn prometheus(state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let now = state.clock.now();
    let (active, queue) = state
        .store
        .read(move |c| {
            Ok((
                sessions::count_active(c, now)?,
                courier::count_by_status(c)?,
            ))
        })
        .await?;
    let m = &state.metrics;
    m.active_sessions
        .set(i64::try_from(active).unwrap_or(i64::MAX));
    for (status, n) in queue {
        m.courier_messages.with_label_values(&[&status]).set(n);
    }
    m.hashes_in_flight.set(state.hasher.in_flight());
    m.sync_wal_syncs(state.store.wal_syncs());
    let (open, idle) = state.store.pool_state();
    m.db_connections
        .with_label_values(&["idle"])
        .set(i64::from(idle));
    m.db_connections
        .with_label_values(&["in_use"])
        .set(i64::from(open.saturating_sub(idle)));
    Ok(HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4; charset=utf-8")
        .body(m.render()))
}
