//! One-time codes for recovery and verification: six random digits, stored as a
//! digest bound to their flow, single use, expiring after `--code-lifespan`, and
//! at most five wrong guesses per flow before a new code must be requested.

use super::Flow;
use crate::crypto;
use crate::store::codes::{self, StoredCode};
use crate::store::StoreError;
use rand::Rng;
use serde_json::json;
use time::OffsetDateTime;
use uuid::Uuid;

pub const MAX_ATTEMPTS: u64 = 5;

/// A freshly generated code: the plaintext goes into the message, only the
/// digest into the database.
pub struct NewCode {
    pub plaintext: String,
    pub stored: StoredCode,
}

impl std::fmt::Debug for NewCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("NewCode(<redacted>)")
    }
}

fn digest(flow_id: Uuid, code: &str) -> String {
    crypto::digest_hex(format!("{flow_id}:{code}").as_bytes())
}

pub struct CodeTarget<'a> {
    pub flow_id: Uuid,
    pub kind: &'a str,
    pub identity_id: Option<Uuid>,
    pub address: &'a str,
    pub issued_by_admin: bool,
}

pub fn generate(target: CodeTarget<'_>, now: OffsetDateTime, lifespan: time::Duration) -> NewCode {
    let plaintext = format!("{:06}", rand::rng().random_range(0..1_000_000u32));
    NewCode {
        stored: StoredCode {
            id: Uuid::now_v7(),
            flow_id: target.flow_id,
            kind: target.kind.to_owned(),
            code_digest: digest(target.flow_id, &plaintext),
            identity_id: target.identity_id,
            address: target.address.to_owned(),
            via: "email".into(),
            issued_by_admin: target.issued_by_admin,
            used_at: None,
            expires_at: now + lifespan,
            created_at: now,
        },
        plaintext,
    }
}

/// The outcome of checking a submitted code.
#[derive(Debug)]
pub enum CodeCheck {
    Valid(StoredCode),
    Invalid,
    TooManyAttempts,
}

/// Checks a code inside the caller's write transaction: counts the attempt on the
/// flow (the caller saves the flow), and uses the code up if it matches, so two
/// concurrent submissions of one code cannot both succeed.
pub fn check(
    conn: &rusqlite::Connection,
    flow: &mut Flow,
    kind: &str,
    submitted: &str,
    now: OffsetDateTime,
) -> Result<CodeCheck, StoreError> {
    let attempts = flow
        .internal
        .get("attempts")
        .and_then(|a| a.as_u64())
        .unwrap_or(0)
        + 1;
    flow.set_internal("attempts", json!(attempts));
    if attempts > MAX_ATTEMPTS {
        codes::invalidate_for_flow(conn, flow.id, now)?;
        return Ok(CodeCheck::TooManyAttempts);
    }
    let wanted = digest(flow.id, submitted.trim());
    let matching = codes::usable(conn, flow.id, kind, now)?
        .into_iter()
        .find(|c| crypto::constant_time_eq(c.code_digest.as_bytes(), wanted.as_bytes()));
    match matching {
        Some(code) if codes::mark_used(conn, code.id, now)? => Ok(CodeCheck::Valid(code)),
        _ => Ok(CodeCheck::Invalid),
    }
}

/// A new code resets the attempt counter.
pub fn reset_attempts(flow: &mut Flow) {
    flow.set_internal("attempts", json!(0));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_six_digits_and_stored_only_as_a_digest() {
        let flow = Uuid::now_v7();
        let now = time::OffsetDateTime::UNIX_EPOCH;
        let c = generate(
            CodeTarget {
                flow_id: flow,
                kind: "recovery",
                identity_id: None,
                address: "a@b.c",
                issued_by_admin: false,
            },
            now,
            time::Duration::hours(1),
        );
        assert_eq!(c.plaintext.len(), 6);
        assert!(c.plaintext.chars().all(|ch| ch.is_ascii_digit()));
        assert!(!c.stored.code_digest.contains(&c.plaintext));
        assert_eq!(c.stored.code_digest, digest(flow, &c.plaintext));
        assert_ne!(
            c.stored.code_digest,
            digest(Uuid::now_v7(), &c.plaintext),
            "bound to its flow"
        );
        assert!(!format!("{c:?}").contains(&c.plaintext));
    }
}
