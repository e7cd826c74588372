//! Debug builds check, before every write commits, that it declared what it
//! may have made stale in the session-check cache (`Touched`, `fresh.rs`):
//!
//! - `Nothing` (`write_unseen`, `write_relaxed`): it may add rows to the
//!   tables a session check reads, and change or delete rows it added
//!   itself, but never change or delete rows that existed before — those
//!   could be in a cached answer, which would go stale — nor add an address
//!   to an identity, or a device to a session, that existed before (that
//!   changes their answers too).
//! - `Identity(id)` (`write_touching`): every existing row it changed or
//!   deleted in those tables belonged to `id` before, and a changed row still
//!   does; what it added to existing identities or sessions is `id`'s.
//! - `EndedSessions(at)` (cleanup): it only deleted sessions, and devices of
//!   sessions, that were revoked or had expired by `at`, and added nothing.
//!
//! SQLite's update hook reports every row change with its table and rowid.
//! Whose a row was before is read on a second connection, which sees the
//! database as the last commit left it (WAL readers never see a write in
//! progress); whose it is now, in the write's own transaction.

use super::codec::{time_int, uuid_text};
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
/// declaration does not cover. `before` is another connection to the same
/// database (it sees the last commit).
pub fn check_before_commit(
    conn: &Connection,
    before: &Connection,
    watch: &Mutex<Watch>,
    touched: Touched,
) {
    let w = watch
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let changed = &w.changed;
    match touched {
        Touched::Everything => {}
        Touched::EndedSessions(at) => {
            let live: Vec<_> = changed
                .iter()
                .filter(|(table, rowid, deleted)| !*deleted || !ended(before, table, *rowid, at))
                .collect();
            let added = additions_to_existing(conn, before, &w);
            assert!(
                live.is_empty() && added.is_empty(),
                "a write declared to delete only ended sessions changed others: {live:?} {added:?}"
            );
        }
        Touched::Nothing => {
            let added = additions_to_existing(conn, before, &w);
            assert!(
                changed.is_empty() && added.is_empty(),
                "write_unseen changed rows a session check may have cached; use write: {changed:?} {added:?}"
            );
        }
        Touched::Identity(id) => {
            let added = additions_to_existing(conn, before, &w);
            let elsewhere: Vec<_> = added.iter().filter(|(_, _, owner)| *owner != id).collect();
            assert!(
                elsewhere.is_empty(),
                "write_touching added to another identity than {id}: {elsewhere:?}"
            );
            let others: Vec<_> = changed
                .iter()
                .filter(|(table, rowid, deleted)| {
                    owner(before, table, *rowid) != Some(id)
                        || (!*deleted && owner(conn, table, *rowid) != Some(id))
                })
                .collect();
            assert!(
                others.is_empty(),
                "write_touching changed rows of another identity than {id}: {others:?}"
            );
        }
    }
}

/// The first column of the first row, if any (and if the query works).
fn one<T: rusqlite::types::FromSql>(
    conn: &Connection,
    sql: &str,
    params: impl rusqlite::Params,
) -> Option<T> {
    conn.query_row(sql, params, |r| r.get(0))
        .optional()
        .ok()
        .flatten()
}

/// Rows the write added to an identity or a session that existed before it
/// (an address, a device): (table, rowid, the identity whose answer changes).
fn additions_to_existing(
    conn: &Connection,
    before: &Connection,
    w: &Watch,
) -> Vec<(String, i64, Uuid)> {
    let mut added = Vec::new();
    for (table, rowid) in &w.inserted {
        let existing_owner = match table.as_str() {
            "identity_verifiable_addresses" | "identity_recovery_addresses" => {
                owner(conn, table, *rowid).filter(|id| {
                    let sql = "SELECT 1 FROM identities WHERE id = ?1";
                    one::<i64>(before, sql, [uuid_text(*id)]).is_some()
                })
            }
            "session_devices" => {
                let sql = "SELECT session_id FROM session_devices WHERE rowid = ?1";
                one::<String>(conn, sql, [rowid])
                    .and_then(|session| {
                        let sql = "SELECT identity_id FROM sessions WHERE id = ?1";
                        one::<String>(before, sql, [session])
                    })
                    .and_then(|id| Uuid::parse_str(&id).ok())
            }
            _ => None,
        };
        if let Some(id) = existing_owner {
            added.push((table.clone(), *rowid, id));
        }
    }
    added
}

/// Whether a deleted row was a session (or a session's device) that had
/// ended by `at` in the last commit: revoked, or expired.
fn ended(before: &Connection, table: &str, rowid: i64, at: time::OffsetDateTime) -> bool {
    let sql = match table {
        "sessions" => "SELECT active = 0 OR expires_at <= ?2 FROM sessions WHERE rowid = ?1",
        "session_devices" => {
            "SELECT s.active = 0 OR s.expires_at <= ?2 FROM session_devices d
             JOIN sessions s ON s.id = d.session_id WHERE d.rowid = ?1"
        }
        _ => return false,
    };
    one(before, sql, rusqlite::params![rowid, time_int(at)]).unwrap_or(false)
}

/// The identity a row of a seen table belongs to, as `conn` sees it.
fn owner(conn: &Connection, table: &str, rowid: i64) -> Option<Uuid> {
    let (_, sql) = SEEN.iter().find(|(t, _)| *t == table)?;
    one::<String>(conn, sql, [rowid]).and_then(|s| Uuid::parse_str(&s).ok())
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

    /// A database file and a second connection that sees its last commit.
    fn db_with_before() -> (tempfile::TempDir, Connection, Connection) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("u.sqlite");
        let c = Connection::open(&path).unwrap();
        c.pragma_update(None, "journal_mode", "WAL").unwrap();
        fill(&c);
        let before = Connection::open(&path).unwrap();
        (dir, c, before)
    }

    fn db() -> Connection {
        let c = Connection::open_in_memory().unwrap();
        fill(&c);
        c
    }

    fn fill(c: &Connection) {
        c.execute_batch(&format!(
            "CREATE TABLE sessions (id TEXT PRIMARY KEY, identity_id TEXT, active INTEGER, expires_at INTEGER);
             CREATE TABLE selfservice_flows (id TEXT PRIMARY KEY, state TEXT);
             CREATE TABLE identities (id TEXT PRIMARY KEY);
             CREATE TABLE identity_verifiable_addresses (id TEXT PRIMARY KEY, identity_id TEXT);
             CREATE TABLE session_devices (id TEXT PRIMARY KEY, session_id TEXT);
             INSERT INTO identities VALUES ('{A}'), ('{B}');
             INSERT INTO sessions VALUES ('old', '{A}', 1, 9000000000000000);
             INSERT INTO sessions VALUES ('b1', '{B}', 1, 9000000000000000);
             INSERT INTO sessions VALUES ('revoked', '{B}', 0, 9000000000000000);
             INSERT INTO sessions VALUES ('expired', '{B}', 1, 1000);
             INSERT INTO session_devices VALUES ('dev', 'expired');
             INSERT INTO selfservice_flows VALUES ('f', 'a');"
        ))
        .unwrap();
    }

    fn a() -> Touched {
        Touched::Identity(Uuid::parse_str(A).unwrap())
    }

    #[test]
    fn new_rows_and_unseen_tables_pass() {
        let c = db();
        let w = watch(&c);
        c.execute_batch(
            "INSERT INTO sessions VALUES ('new', NULL, 1, 0);
             UPDATE sessions SET active = 0 WHERE id = 'new';
             UPDATE selfservice_flows SET state = 'b';",
        )
        .unwrap();
        check_before_commit(&c, &c, &w, Touched::Nothing);
        finish(&c);
    }

    #[test]
    #[should_panic(expected = "write_unseen changed rows")]
    fn changing_an_existing_session_is_caught() {
        let c = db();
        let w = watch(&c);
        c.execute_batch("UPDATE sessions SET active = 0 WHERE id = 'old'")
            .unwrap();
        check_before_commit(&c, &c, &w, Touched::Nothing);
    }

    /// Runs `sql` in a transaction on a watched connection and checks it
    /// against `touched` before the commit, as the store does.
    fn check(sql: &str, touched: Touched) {
        let (_dir, mut c, before) = db_with_before();
        let w = watch(&c);
        let tx = c.transaction().unwrap();
        tx.execute_batch(sql).unwrap();
        check_before_commit(&tx, &before, &w, touched);
    }

    #[test]
    fn changing_or_deleting_the_declared_identity_s_rows_passes() {
        check(
            &format!("UPDATE sessions SET active = 0 WHERE identity_id = '{A}'"),
            a(),
        );
        check(
            &format!("DELETE FROM sessions WHERE identity_id = '{A}'"),
            a(),
        );
        check("UPDATE sessions SET active = 0", Touched::Everything);
    }

    #[test]
    fn adding_to_new_identities_and_sessions_leaves_answers_alone() {
        check(
            "INSERT INTO identities VALUES ('00000000-0000-4000-8000-00000000000c');
             INSERT INTO identity_verifiable_addresses
                 VALUES ('v', '00000000-0000-4000-8000-00000000000c');
             INSERT INTO sessions VALUES ('new', '00000000-0000-4000-8000-00000000000c', 1, 0);
             INSERT INTO session_devices VALUES ('d', 'new');",
            Touched::Nothing,
        );
        check(
            &format!("INSERT INTO identity_verifiable_addresses VALUES ('v', '{A}')"),
            a(),
        );
    }

    /// Ended by this time (micros since the epoch): the 'expired' session.
    fn ended_by() -> Touched {
        Touched::EndedSessions(time::OffsetDateTime::UNIX_EPOCH + time::Duration::seconds(1))
    }

    #[test]
    fn deleting_ended_sessions_and_their_devices_passes() {
        check(
            "DELETE FROM session_devices WHERE session_id = 'expired';
             DELETE FROM sessions WHERE id IN ('revoked', 'expired');",
            ended_by(),
        );
    }

    #[test]
    #[should_panic(expected = "declared to delete only ended sessions")]
    fn deleting_a_live_session_as_ended_is_caught() {
        check("DELETE FROM sessions WHERE id = 'b1'", ended_by());
    }

    #[test]
    #[should_panic(expected = "declared to delete only ended sessions")]
    fn changing_an_ended_session_as_ended_is_caught() {
        check(
            "UPDATE sessions SET active = 1 WHERE id = 'revoked'",
            ended_by(),
        );
    }

    #[test]
    #[should_panic(expected = "write_unseen changed rows")]
    fn an_address_for_an_existing_identity_is_caught() {
        check(
            &format!("INSERT INTO identity_verifiable_addresses VALUES ('v', '{A}')"),
            Touched::Nothing,
        );
    }

    #[test]
    #[should_panic(expected = "write_unseen changed rows")]
    fn a_device_for_an_existing_session_is_caught() {
        check(
            "INSERT INTO session_devices VALUES ('d', 'old')",
            Touched::Nothing,
        );
    }

    #[test]
    #[should_panic(expected = "write_touching added to another identity")]
    fn an_address_for_another_identity_is_caught() {
        check(
            &format!("INSERT INTO identity_verifiable_addresses VALUES ('v', '{B}')"),
            a(),
        );
    }

    #[test]
    #[should_panic(expected = "write_touching changed rows of another identity")]
    fn a_change_to_another_identity_is_caught() {
        check("UPDATE sessions SET active = 0", a());
    }

    #[test]
    #[should_panic(expected = "write_touching changed rows of another identity")]
    fn deleting_another_identity_s_row_is_caught() {
        check("DELETE FROM sessions WHERE id = 'b1'", a());
    }

    #[test]
    #[should_panic(expected = "write_touching changed rows of another identity")]
    fn handing_a_row_to_another_identity_is_caught() {
        check(
            &format!("UPDATE sessions SET identity_id = '{B}' WHERE id = 'old'"),
            a(),
        );
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
