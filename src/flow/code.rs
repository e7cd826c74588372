//! One-time codes for recovery and verification: six random digits, stored as a
//! keyed digest bound to their flow, single use, expiring after
//! `--code-lifespan`, and at most five wrong guesses per flow before a new code
//! must be requested.
//!
//! The digest is an HMAC under a key derived from the key file, not a plain
//! hash: a code has only a million values, so a plain SHA-256 of it in a copy
//! of the database gave the code away in a million hashes (milliseconds), and
//! with it the account, for as long as the code lived.

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

/// The key code digests are made with, derived from the key file's key so
/// that it is never the key that seals mail bodies.
#[derive(Clone)]
pub struct CodeKey([u8; 32]);

impl CodeKey {
    pub fn derive(master: &[u8; 32]) -> CodeKey {
        CodeKey(crypto::keyed_digest(
            master,
            b"postern one-time code digests v1",
        ))
    }
}

impl std::fmt::Debug for CodeKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("CodeKey(<key>)")
    }
}

/// Marks keyed digests; a stored digest without it is a plain SHA-256 written
/// before keyed digests existed (see `matches`).
const KEYED: &str = "hmac-sha256:";

fn digest(key: &CodeKey, flow_id: Uuid, code: &str) -> String {
    let mac = crypto::keyed_digest(&key.0, format!("{flow_id}:{code}").as_bytes());
    format!("{KEYED}{}", crypto::hex_lower(&mac))
}

/// Whether `submitted` is the code behind `stored`, in constant time. Codes
/// issued by an older Postern (plain SHA-256) still work until they expire,
/// so that an upgrade does not void the codes in users' inboxes.
fn matches(key: &CodeKey, stored: &str, flow_id: Uuid, submitted: &str) -> bool {
    let wanted = if stored.starts_with(KEYED) {
        digest(key, flow_id, submitted)
    } else {
        crypto::digest_hex(format!("{flow_id}:{submitted}").as_bytes())
    };
    crypto::constant_time_eq(stored.as_bytes(), wanted.as_bytes())
}

pub struct CodeTarget<'a> {
    pub flow_id: Uuid,
    pub kind: &'a str,
    pub identity_id: Option<Uuid>,
    pub address: &'a str,
    pub issued_by_admin: bool,
}

pub fn generate(
    key: &CodeKey,
    target: CodeTarget<'_>,
    now: OffsetDateTime,
    lifespan: time::Duration,
) -> NewCode {
    let plaintext = format!("{:06}", rand::rng().random_range(0..1_000_000u32));
    NewCode {
        stored: StoredCode {
            id: Uuid::now_v7(),
            flow_id: target.flow_id,
            kind: target.kind.to_owned(),
            code_digest: digest(key, target.flow_id, &plaintext),
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
    key: &CodeKey,
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
    let submitted = submitted.trim();
    let matching = codes::usable(conn, flow.id, kind, now)?
        .into_iter()
        .find(|c| matches(key, &c.code_digest, flow.id, submitted));
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

    fn target(flow_id: Uuid) -> CodeTarget<'static> {
        CodeTarget {
            flow_id,
            kind: "recovery",
            identity_id: None,
            address: "a@b.c",
            issued_by_admin: false,
        }
    }

    #[test]
    fn codes_are_six_digits_and_stored_only_as_a_keyed_digest() {
        let key = CodeKey::derive(&[7u8; 32]);
        let flow = Uuid::now_v7();
        let now = time::OffsetDateTime::UNIX_EPOCH;
        let c = generate(&key, target(flow), now, time::Duration::hours(1));
        assert_eq!(c.plaintext.len(), 6);
        assert!(c.plaintext.chars().all(|ch| ch.is_ascii_digit()));
        assert!(!c.stored.code_digest.contains(&c.plaintext));
        assert!(matches(&key, &c.stored.code_digest, flow, &c.plaintext));
        let wrong = format!(
            "{:06}",
            (c.plaintext.parse::<u32>().unwrap() + 1) % 1_000_000
        );
        assert!(!matches(&key, &c.stored.code_digest, flow, &wrong));
        assert!(
            !matches(&key, &c.stored.code_digest, Uuid::now_v7(), &c.plaintext),
            "bound to its flow"
        );
        assert!(!format!("{c:?}").contains(&c.plaintext));
    }

    #[test]
    fn a_copy_of_the_database_without_the_key_file_cannot_test_codes() {
        let key = CodeKey::derive(&[7u8; 32]);
        let flow = Uuid::now_v7();
        let c = generate(
            &key,
            target(flow),
            time::OffsetDateTime::UNIX_EPOCH,
            time::Duration::hours(1),
        );
        // Not the plain digest an attacker could compute for each of the
        // million codes, and not reproducible under another key.
        let plain = crypto::digest_hex(format!("{flow}:{}", c.plaintext).as_bytes());
        assert!(!c.stored.code_digest.contains(&plain));
        let other = CodeKey::derive(&[8u8; 32]);
        assert!(!matches(&other, &c.stored.code_digest, flow, &c.plaintext));
    }

    #[test]
    fn codes_stored_before_keyed_digests_still_match_until_they_expire() {
        let key = CodeKey::derive(&[7u8; 32]);
        let flow = Uuid::now_v7();
        let legacy = crypto::digest_hex(format!("{flow}:123456").as_bytes());
        assert!(matches(&key, &legacy, flow, "123456"));
        assert!(!matches(&key, &legacy, flow, "123457"));
    }
}
