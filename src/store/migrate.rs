//! Schema migrations keyed by `PRAGMA user_version`. A fresh file gets `schema.sql`
//! whole; an older file gets each missing step in order, each in its own
//! transaction, so an interrupted upgrade leaves the file at a consistent version.

use super::StoreError;
use rusqlite::{Connection, TransactionBehavior};

/// The complete current schema, for a fresh database file.
pub const SCHEMA: &str = include_str!("../../schema.sql");

/// Steps from version N to N+1; `STEPS[0]` takes version 1 to 2. Version 1 is the
/// first released schema (see `tests/fixtures/v1.sql`).
const STEPS: &[&str] = &[
    include_str!("migrations/v2_flows_sessions.sql"),
    include_str!("migrations/v3_courier_codes.sql"),
];

/// The version a database has once fully migrated.
pub const LATEST: i64 = 1 + STEPS.len() as i64;

/// Brings the database to `LATEST`; returns the version it started at.
pub fn run(conn: &mut Connection) -> Result<i64, StoreError> {
    let found: i64 = conn.pragma_query_value(None, "user_version", |r| r.get(0))?;
    if found > LATEST {
        return Err(StoreError::TooNew {
            found,
            supported: LATEST,
        });
    }
    if found == 0 {
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let tables: i64 = tx.query_row(
            "SELECT count(*) FROM sqlite_master WHERE type = 'table'",
            [],
            |r| r.get(0),
        )?;
        if tables > 0 {
            return Err(StoreError::Corrupt(
                "the file has tables but no Postern schema version; is it a Postern database?"
                    .into(),
            ));
        }
        tx.execute_batch(SCHEMA)?;
        tx.pragma_update(None, "user_version", LATEST)?;
        tx.commit()?;
        return Ok(0);
    }
    for version in found..LATEST {
        let step = usize::try_from(version - 1)
            .ok()
            .and_then(|i| STEPS.get(i))
            .ok_or_else(|| StoreError::Corrupt(format!("no migration from version {version}")))?;
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        tx.execute_batch(step)?;
        tx.pragma_update(None, "user_version", version + 1)?;
        tx.commit()?;
        tracing::info!(from = version, to = version + 1, "migrated database schema");
    }
    Ok(found)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn master(conn: &Connection) -> Vec<(String, String, String)> {
        let mut stmt = conn
            .prepare("SELECT type, name, coalesce(sql, '') FROM sqlite_master ORDER BY type, name")
            .unwrap();
        stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
            .unwrap()
            .map(Result::unwrap)
            .map(|(t, n, s): (String, String, String)| (t, n, normalize(&s)))
            .collect()
    }

    /// `ALTER TABLE … ADD COLUMN` records SQL text differently from `CREATE TABLE`;
    /// compare the shape, not the whitespace.
    fn normalize(sql: &str) -> String {
        sql.split_whitespace().collect::<Vec<_>>().join(" ")
    }

    #[test]
    fn fresh_schema_and_migrated_v1_fixture_end_identical() {
        let mut fresh = Connection::open_in_memory().unwrap();
        assert_eq!(run(&mut fresh).unwrap(), 0);

        let mut old = Connection::open_in_memory().unwrap();
        old.execute_batch(include_str!("../../tests/fixtures/v1.sql"))
            .unwrap();
        assert_eq!(run(&mut old).unwrap(), 1);

        assert_eq!(master(&fresh), master(&old));
        let v: i64 = old
            .pragma_query_value(None, "user_version", |r| r.get(0))
            .unwrap();
        assert_eq!(v, LATEST);
    }

    #[test]
    fn refuses_a_database_from_a_newer_binary() {
        let mut conn = Connection::open_in_memory().unwrap();
        conn.pragma_update(None, "user_version", LATEST + 1)
            .unwrap();
        assert!(matches!(run(&mut conn), Err(StoreError::TooNew { .. })));
    }

    #[test]
    fn every_statement_of_the_schema_prepares() {
        let mut conn = Connection::open_in_memory().unwrap();
        run(&mut conn).unwrap();
        for sql in crate::store::all_statements() {
            conn.prepare(sql).unwrap_or_else(|e| panic!("{sql}: {e}"));
        }
    }
}
