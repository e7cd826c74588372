//! Debug builds check `Store::write_unseen`'s contract on every such write: it
//! may add rows to the tables a session check reads, and change or delete rows
//! it added itself, but never change or delete rows that existed before —
//! those could be in a cached session-check answer, which would go stale.
//! SQLite's update hook reports every row change with its table and rowid.

use rusqlite::hooks::Action;
use rusqlite::Connection;
use std::collections::HashSet;
use std::sync::{Arc, Mutex};

/// The tables whose rows a session check reads (`store/whoami.rs`).
const SEEN: &[&str] = &[
    "sessions",
    "session_devices",
    "identities",
    "identity_verifiable_addresses",
    "identity_recovery_addresses",
];

#[derive(Default)]
pub struct Watch {
    inserted: HashSet<(String, i64)>,
    violations: Vec<String>,
}

/// Starts recording row changes on `conn`.
pub fn watch(conn: &Connection) -> Arc<Mutex<Watch>> {
    let watch = Arc::new(Mutex::new(Watch::default()));
    let log = watch.clone();
    let _ = conn.update_hook(Some(
        move |action: Action, _db: &str, table: &str, rowid: i64| {
            if !SEEN.contains(&table) {
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
                    .violations
                    .push(format!("{other:?} on {table} rowid {rowid}")),
            }
        },
    ));
    watch
}

/// Stops recording; panics if a committed write changed an existing row a
/// session check reads (a rolled-back one changed nothing).
pub fn finish(conn: &Connection, watch: &Mutex<Watch>, committed: bool) {
    let _ = conn.update_hook(None::<fn(Action, &str, &str, i64)>);
    let w = watch
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    assert!(
        !committed || w.violations.is_empty(),
        "write_unseen changed rows a session check may have cached; use write: {:?}",
        w.violations
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    fn db() -> Connection {
        let c = Connection::open_in_memory().unwrap();
        c.execute_batch(
            "CREATE TABLE sessions (id TEXT PRIMARY KEY, active INTEGER);
             CREATE TABLE selfservice_flows (id TEXT PRIMARY KEY, state TEXT);
             INSERT INTO sessions VALUES ('old', 1);
             INSERT INTO selfservice_flows VALUES ('f', 'a');",
        )
        .unwrap();
        c
    }

    #[test]
    fn new_rows_and_unseen_tables_pass() {
        let c = db();
        let w = watch(&c);
        c.execute_batch(
            "INSERT INTO sessions VALUES ('new', 1);
             UPDATE sessions SET active = 0 WHERE id = 'new';
             UPDATE selfservice_flows SET state = 'b';",
        )
        .unwrap();
        finish(&c, &w, true);
    }

    #[test]
    #[should_panic(expected = "write_unseen changed rows")]
    fn changing_an_existing_session_is_caught() {
        let c = db();
        let w = watch(&c);
        c.execute_batch("UPDATE sessions SET active = 0 WHERE id = 'old'")
            .unwrap();
        finish(&c, &w, true);
    }

    #[test]
    fn a_rolled_back_write_is_not_blamed_and_the_hook_is_removed() {
        let c = db();
        let w = watch(&c);
        c.execute_batch("DELETE FROM sessions WHERE id = 'old'")
            .unwrap();
        finish(&c, &w, false);
        c.execute_batch("DELETE FROM sessions").unwrap();
        assert!(
            w.lock().unwrap().violations.len() == 1,
            "no hook after finish"
        );
    }
}
