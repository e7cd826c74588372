//! Importing many identities at once: `postern identities import` (all or
//! nothing) and `PATCH /admin/identities` (Kratos's batch create: each record
//! succeeds or fails on its own). Records are validated before anything is
//! written; hashes are checked, never recomputed, so 100,000 records take
//! seconds. All valid records are written in one transaction.

use super::body::CreateIdentityBody;
use super::manage::{self, IdentityError, PasswordInput};
use super::Identity;
use crate::password::check_imported_hash;
use crate::state::AppState;
use crate::store::{identities, StoreError};
use serde_json::Value;

/// The outcome of one record.
#[derive(Debug)]
pub enum Outcome {
    Created(Box<Identity>),
    Rejected(String),
}

/// Validates every record; plaintext passwords are hashed (argon2id).
async fn prepare(state: &AppState, records: Vec<Value>) -> Vec<Result<Identity, String>> {
    let mut out = Vec::with_capacity(records.len());
    for record in records {
        let prepared = async {
            let body: CreateIdentityBody = serde_json::from_value(record)
                .map_err(|e| format!("not a createIdentityBody: {e}"))?;
            let mut input = body.into_input()?;
            let hash = match input.password.take() {
                None => None,
                Some(PasswordInput::Hashed(h)) => {
                    check_imported_hash(&h)?;
                    Some(h)
                }
                Some(PasswordInput::Plain(p)) => {
                    Some(state.hasher.hash(&p).await.map_err(|e| e.to_string())?)
                }
            };
            manage::build_new(state, input, hash).map_err(|e| describe(&e))
        }
        .await;
        out.push(prepared);
    }
    out
}

fn describe(e: &IdentityError) -> String {
    match e {
        IdentityError::Invalid(v) => v
            .iter()
            .map(|v| {
                if v.field.is_empty() {
                    v.message.clone()
                } else {
                    format!("{}: {}", v.field, v.message)
                }
            })
            .collect::<Vec<_>>()
            .join("; "),
        other => other.to_string(),
    }
}

/// Writes the prepared identities in one transaction, each under a savepoint so
/// a conflict rejects only its record.
fn write_all(
    conn: &rusqlite::Connection,
    prepared: Vec<Result<Identity, String>>,
) -> Result<Vec<Outcome>, StoreError> {
    let mut outcomes = Vec::with_capacity(prepared.len());
    for p in prepared {
        match p {
            Err(reason) => outcomes.push(Outcome::Rejected(reason)),
            Ok(identity) => {
                conn.execute_batch("SAVEPOINT import_record")?;
                match identities::insert(conn, &identity) {
                    Ok(()) => {
                        conn.execute_batch("RELEASE import_record")?;
                        outcomes.push(Outcome::Created(Box::new(identity)));
                    }
                    Err(StoreError::Conflict { what }) => {
                        conn.execute_batch("ROLLBACK TO import_record; RELEASE import_record")?;
                        outcomes.push(Outcome::Rejected(format!(
                            "an identity with the same {what} exists already"
                        )));
                    }
                    Err(e) => return Err(e),
                }
            }
        }
    }
    Ok(outcomes)
}

/// Kratos's batch create: valid records are created, invalid ones reported.
pub async fn import_each(
    state: &AppState,
    records: Vec<Value>,
) -> Result<Vec<Outcome>, StoreError> {
    let prepared = prepare(state, records).await;
    state.store.write(move |tx| write_all(tx, prepared)).await
}

/// The CLI import: everything or nothing. On any rejection nothing is written and
/// the report names each rejected record (by index) and why.
pub async fn import_all(
    state: &AppState,
    records: Vec<Value>,
) -> Result<Result<usize, Vec<(usize, String)>>, StoreError> {
    let prepared = prepare(state, records).await;
    state
        .store
        .write(move |tx| {
            let outcomes = write_all(tx, prepared)?;
            let rejected: Vec<(usize, String)> = outcomes
                .iter()
                .enumerate()
                .filter_map(|(i, o)| match o {
                    Outcome::Rejected(r) => Some((i, r.clone())),
                    Outcome::Created(_) => None,
                })
                .collect();
            if rejected.is_empty() {
                Ok(Ok(outcomes.len()))
            } else {
                // Returning an error rolls the transaction back.
                Err(ImportError::Aborted(rejected))
            }
        })
        .await
        .or_else(|e: ImportError| match e {
            ImportError::Aborted(r) => Ok(Err(r)),
            ImportError::Store(s) => Err(s),
        })
}

enum ImportError {
    Aborted(Vec<(usize, String)>),
    Store(StoreError),
}

impl From<StoreError> for ImportError {
    fn from(e: StoreError) -> Self {
        ImportError::Store(e)
    }
}
