//! The seed: identities through `postern identities import`, sessions straight
//! into the database.

use std::io::Write as _;

pub fn seed_import_file(n: u64, hash: &str, path: &std::path::Path) {
    let mut f = std::io::BufWriter::new(std::fs::File::create(path).unwrap());
    write!(f, "[").unwrap();
    for i in 0..n {
        if i > 0 {
            write!(f, ",").unwrap();
        }
        write!(
            f,
            r#"{{"schema_id":"default","traits":{{"email":"user{i}@bench.example","name":{{"first":"User","last":"{i}"}}}},"credentials":{{"password":{{"config":{{"hashed_password":"{hash}"}}}}}}}}"#
        )
        .unwrap();
    }
    write!(f, "]").unwrap();
}

/// 100,000 live sessions, straight into the database (tokens kept for the load),
/// with time-ordered UUIDv7 ids like the ones the server issues.
pub fn seed_sessions(db: &std::path::Path) -> Vec<String> {
    let mut conn = rusqlite::Connection::open(db).unwrap();
    let ids: Vec<String> = conn
        .prepare("SELECT id FROM identities")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    let now = std::time::SystemTime::UNIX_EPOCH
        .elapsed()
        .unwrap()
        .as_micros() as i64;
    let tx = conn.transaction().unwrap();
    let mut tokens = Vec::with_capacity(ids.len());
    {
        let mut s = tx.prepare("INSERT INTO sessions (id, token_digest, identity_id, active, aal, authentication_methods, issued_at, authenticated_at, expires_at, created_at, updated_at) VALUES (?1, ?2, ?3, 1, 'aal1', '[{\"method\":\"password\",\"aal\":\"aal1\",\"completed_at\":\"2026-01-01T00:00:00Z\"}]', ?4, ?4, ?5, ?4, ?4)").unwrap();
        let mut d = tx.prepare("INSERT INTO session_devices (id, session_id, ip_address, user_agent, location, created_at, updated_at) VALUES (?1, ?2, '127.0.0.1', 'bench', '', ?3, ?3)").unwrap();
        for id in &ids {
            let token = format!("ory_st_{}", postern::crypto::random_alphanumeric(32));
            let sid = uuid::Uuid::now_v7().to_string();
            s.execute(rusqlite::params![
                sid,
                postern::crypto::digest_hex(token.as_bytes()),
                id,
                now,
                now + 86_400_000_000
            ])
            .unwrap();
            d.execute(rusqlite::params![
                uuid::Uuid::now_v7().to_string(),
                sid,
                now
            ])
            .unwrap();
            tokens.push(token);
        }
    }
    tx.commit().unwrap();
    tokens
}
