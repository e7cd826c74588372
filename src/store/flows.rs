//! Self-service flows.

use super::codec::{get_json, get_time, get_uuid, json_text, time_int, uuid_text};
use super::StoreError;
use crate::flow::{Flow, FlowKind, FlowType};
use rusqlite::{named_params, Connection, OptionalExtension, Row};
use uuid::Uuid;

const INSERT_FLOW: &str = "INSERT INTO selfservice_flows
    (id, kind, type, state, request_url, return_to, active, ui, csrf_digest, identity_id,
     refresh, requested_aal, internal, issued_at, expires_at, created_at, updated_at)
    VALUES (:id, :kind, :type, :state, :request_url, :return_to, :active, :ui, :csrf_digest,
     :identity_id, :refresh, :requested_aal, :internal, :issued_at, :expires_at, :created_at,
     :updated_at)";
const UPDATE_FLOW: &str = "UPDATE selfservice_flows SET state = :state, active = :active,
    ui = :ui, internal = :internal, updated_at = :updated_at WHERE id = :id";
const SELECT_FLOW: &str = "SELECT id, kind, type, state, request_url, return_to, active, ui,
    csrf_digest, identity_id, refresh, requested_aal, internal, issued_at, expires_at,
    created_at, updated_at FROM selfservice_flows WHERE id = :id";

pub const STATEMENTS: &[&str] = &[INSERT_FLOW, UPDATE_FLOW, SELECT_FLOW];

pub fn insert(conn: &Connection, f: &Flow) -> Result<(), StoreError> {
    let ui = ui_text(f)?;
    conn.prepare_cached(INSERT_FLOW)?.execute(named_params! {
        ":id": uuid_text(f.id),
        ":kind": f.kind.as_str(),
        ":type": f.flow_type.as_str(),
        ":state": f.state,
        ":request_url": f.request_url,
        ":return_to": f.return_to,
        ":active": f.active,
        ":ui": ui,
        ":csrf_digest": f.csrf_digest,
        ":identity_id": f.identity_id.map(uuid_text),
        ":refresh": f.refresh,
        ":requested_aal": f.requested_aal,
        ":internal": json_text(&f.internal),
        ":issued_at": time_int(f.issued_at),
        ":expires_at": time_int(f.expires_at),
        ":created_at": time_int(f.created_at),
        ":updated_at": time_int(f.updated_at),
    })?;
    Ok(())
}

/// Saves what a submit changes: state, active method, UI and internal state.
pub fn update(conn: &Connection, f: &Flow) -> Result<(), StoreError> {
    let ui = ui_text(f)?;
    conn.prepare_cached(UPDATE_FLOW)?.execute(named_params! {
        ":id": uuid_text(f.id),
        ":state": f.state,
        ":active": f.active,
        ":ui": ui,
        ":internal": json_text(&f.internal),
        ":updated_at": time_int(f.updated_at),
    })?;
    Ok(())
}

/// The UI as JSON text, written in one pass (not through a `Value` first: the
/// UI is most of a flow's bytes, and flows are written on every page view).
fn ui_text(f: &Flow) -> Result<String, StoreError> {
    serde_json::to_string(&f.ui).map_err(|e| StoreError::Corrupt(e.to_string()))
}

pub fn find(conn: &Connection, id: Uuid) -> Result<Option<Flow>, StoreError> {
    Ok(conn
        .prepare_cached(SELECT_FLOW)?
        .query_row(named_params! { ":id": uuid_text(id) }, flow_from_row)
        .optional()?)
}

fn flow_from_row(row: &Row<'_>) -> rusqlite::Result<Flow> {
    let kind: String = row.get("kind")?;
    let flow_type: String = row.get("type")?;
    let bad = |what: &str| {
        rusqlite::Error::FromSqlConversionFailure(
            0,
            rusqlite::types::Type::Text,
            format!("unknown flow {what}").into(),
        )
    };
    let identity_id: Option<String> = row.get("identity_id")?;
    Ok(Flow {
        id: get_uuid(row, "id")?,
        kind: FlowKind::parse(&kind).ok_or_else(|| bad("kind"))?,
        flow_type: FlowType::parse(&flow_type).ok_or_else(|| bad("type"))?,
        state: row.get("state")?,
        request_url: row.get("request_url")?,
        return_to: row.get("return_to")?,
        active: row.get("active")?,
        ui: serde_json::from_str(row.get_ref("ui")?.as_str()?).map_err(|_| bad("ui"))?,
        csrf_digest: row.get("csrf_digest")?,
        identity_id: identity_id.and_then(|s| Uuid::parse_str(&s).ok()),
        refresh: row.get("refresh")?,
        requested_aal: row.get("requested_aal")?,
        internal: get_json(row, "internal")?,
        issued_at: get_time(row, "issued_at")?,
        expires_at: get_time(row, "expires_at")?,
        created_at: get_time(row, "created_at")?,
        updated_at: get_time(row, "updated_at")?,
    })
}
