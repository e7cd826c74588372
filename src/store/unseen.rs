//! Debug builds check, before every write commits, that it declared what it
//! may have made stale in the session-check cache (`Touched`, `fresh.rs`):
//!
//! - `Nothing` (`write_unseen`, `write_relaxed`): it may add rows to the
//!   tables a session check reads, and change or delete rows it added
//!   itself, but never change or delete rows that existed before — those
//!   could be in a cached answer, which would go stale.
//! - `Identity(id)` (`write_touching`): every existing row it changed in those
//!   tables belongs to `id`, and it deleted none (a deleted row's owner can no
//!   longer be read).
//!
//! SQLite's update hook reports every row change with its table and rowid.

use super::Touched;
use rusqlite::hooks::Action;
use rusqlite::{Connection, OptionalExtension};
use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use uuid::Uuid;

/// The tables whose rows a session check reads (`store/whoami.rs`), with the
/// query that names a row's identity.
const SEEN: &[(&str, &str)] = &[
    (
        "sessions",
        "SELECT identity_id FROM sessions WHERE rowid = ?1",
    ),
    (
        "session_devices",
        "SELECT s.identity_id FROM session_devices d JOIN sessions s ON s.id = d.session_id
         WHERE d.rowid = ?1",
    ),
    ("identities", "SELECT id FROM identities WHERE rowid = ?1"),
    (
        "identity_verifiable_addresses",
        "SELECT identity_id FROM identity_verifiable_addresses WHERE rowid = ?1",
    ),
    (
        "identity_recovery_addresses",
        "SELECT identity_id FROM identity_recovery_addresses WHERE rowid = ?1",
    ),
];

#[derive(Default)]
pub struct Watch {
    inserted: HashSet<(String, i64)>,
    /// Changes to rows that existed before the write: (table, rowid, deleted).
    changed: Vec<(String, i64, bool)>,
}

/// Starts recording row changes on `conn`.
pub fn watch(conn: &Connection) -> Arc<Mutex<Watch>> {
    let watch = Arc::new(Mutex::new(Watch::default()));
    let log = watch.clone();
    let _ = conn.update_hook(Some(
        move |action: Action, _db: &str, table: &str, rowid: i64| {
            if !SEEN.iter().any(|(t, _)| *t == table) {
                return;
            }
            let mut w = log
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            let key = (table.to_owned(), rowid);
            match action {
                Action::SQLITE_INSERT => {
                    w.inserted.insert(key);
                }
                _ if w.inserted.contains(&key) => {}
                other => w
                    .changed
                    .push((key.0, rowid, other == Action::SQLITE_DELETE)),
            }
        },
    ));
    watch
}

/// Panics if the write, about to commit on `conn`, changed rows that its
/// declaration does not cover.
pub fn check_before_commit(conn: &Connection, watch: &Mutex<Watch>, touched: Touched) {
    let w = watch
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    match touched {
        Touched::Everything => {}
        Touched::Nothing => assert!(
            w.changed.is_empty(),
            "write_unseen changed rows a session check may have cached; use write: {:?}",
            w.changed
        ),
        Touched::Identity(id) => {
            let others: Vec<_> = w
                .changed
                .iter()
                .filter(|(table, rowid, deleted)| {
                    *deleted || owner(conn, table, *rowid) != Some(id)
                })
                .collect();
            assert!(
                others.is_empty(),
                "write_touching changed rows of another identity than {id}, or deleted rows: {others:?}"
            );
        }
    }
}

fn owner(conn: &Connection, table: &str, rowid: i64) -> Option<Uuid> {
    let (_, sql) = SEEN.iter().find(|(t, _)| *t == table)?;
    let id: Option<String> = conn
        .query_row(sql, [rowid], |r| r.get(0))
        .optional()
        .ok()
        .flatten();
    id.and_then(|s| Uuid::parse_str(&s).ok())
}

/// Stops recording.
pub fn finish(conn: &Connection) {
    let _ = conn.update_hook(None::<fn(Action, &str, &str, i64)>);
}

#[cfg(test)]
mod tests {
    use super::*;

    const A: &str = "00000000-0000-4000-8000-00000000000a";
    const B: &str = "00000000-0000-4000-8000-00000000000b";

    fn db() -> Connection {
        let c = Connection::open_in_memory().unwrap();
        c.execute_batch(&format!(
            "CREATE TABLE sessions (id TEXT PRIMARY KEY, identity_id TEXT, active INTEGER);
             CREATE TABLE selfservice_flows (id TEXT PRIMARY KEY, state TEXT);
             INSERT INTO sessions VALUES ('old', '{A}', 1);
             INSERT INTO sessions VALUES ('b1', '{B}', 1);
             INSERT INTO selfservice_flows VALUES ('f', 'a');"
        ))
        .unwrap();
        c
    }

    fn a() -> Touched {
        Touched::Identity(Uuid::parse_str(A).unwrap())
    }

    #[test]
    fn new_rows_and_unseen_tables_pass() {
        let c = db();
        let w = watch(&c);
        c.execute_batch(
            "INSERT INTO sessions VALUES ('new', NULL, 1);
             UPDATE sessions SET active = 0 WHERE id = 'new';
             UPDATE selfservice_flows SET state = 'b';",
        )
        .unwrap();
        check_before_commit(&c, &w, Touched::Nothing);
        finish(&c);
    }

    #[test]
    #[should_panic(expected = "write_unseen changed rows")]
    fn changing_an_existing_session_is_caught() {
        let c = db();
        let w = watch(&c);
        c.execute_batch("UPDATE sessions SET active = 0 WHERE id = 'old'")
            .unwrap();
        check_before_commit(&c, &w, Touched::Nothing);
    }

    #[test]
    fn a_change_to_the_declared_identity_passes() {
        let c = db();
        let w = watch(&c);
        c.execute_batch(&format!(
            "UPDATE sessions SET active = 0 WHERE identity_id = '{A}'"
        ))
        .unwrap();
        check_before_commit(&c, &w, a());
        check_before_commit(&c, &w, Touched::Everything);
    }

    #[test]
    #[should_panic(expected = "write_touching changed rows of another identity")]
    fn a_change_to_another_identity_is_caught() {
        let c = db();
        let w = watch(&c);
        c.execute_batch("UPDATE sessions SET active = 0").unwrap();
        check_before_commit(&c, &w, a());
    }

    #[test]
    #[should_panic(expected = "or deleted rows")]
    fn deleting_even_the_declared_identity_s_rows_is_caught() {
        let c = db();
        let w = watch(&c);
        c.execute_batch("DELETE FROM sessions WHERE id = 'old'")
            .unwrap();
        check_before_commit(&c, &w, a());
    }

    #[test]
    fn finish_removes_the_hook() {
        let c = db();
        let w = watch(&c);
        finish(&c);
        c.execute_batch("DELETE FROM sessions").unwrap();
        assert!(w.lock().unwrap().changed.is_empty(), "no hook after finish");
    }
}
