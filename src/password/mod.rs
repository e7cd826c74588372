//! Password hashing: argon2id for every new password, verification of argon2id,
//! argon2i and bcrypt hashes (so imported users can log in), and the bounds an
//! imported hash must respect. Hashing runs on `--hash-concurrency` dedicated
//! threads, so hash memory × concurrency bounds what hashing can take.

mod argon2_memory;
pub mod legacy;
pub mod policy;

use argon2::password_hash::phc::PasswordHash;
use argon2::{Algorithm, Argon2, Params, Version};
use std::fmt;
use std::sync::Arc;

/// A plaintext password; its `Debug` never shows it.
#[derive(Clone)]
pub struct Password(String);

impl Password {
    pub fn new(s: impl Into<String>) -> Self {
        Password(s.into())
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Password(<redacted>)")
    }
}

/// argon2id cost parameters.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HashParams {
    pub memory_kib: u32,
    pub iterations: u32,
    pub parallelism: u32,
}

impl HashParams {
    /// OWASP's argon2id recommendation and Postern's default: m=19 MiB, t=2, p=1.
    pub const DEFAULT: HashParams = HashParams {
        memory_kib: 19456,
        iterations: 2,
        parallelism: 1,
    };
    /// `--dev`: as cheap as argon2 allows, for tests and laptops only.
    pub const DEV: HashParams = HashParams {
        memory_kib: 64,
        iterations: 1,
        parallelism: 1,
    };

    pub fn argon2(&self) -> Result<Argon2<'static>, String> {
        let params = Params::new(self.memory_kib, self.iterations, self.parallelism, None)
            .map_err(|e| format!("invalid argon2 parameters: {e}"))?;
        Ok(Argon2::new(Algorithm::Argon2id, Version::V0x13, params))
    }
}

#[derive(Debug, thiserror::Error)]
pub enum HashError {
    #[error("the stored hash is not in a supported format: {0}")]
    UnsupportedHash(String),
    #[error("hashing failed: {0}")]
    Failed(String),
    #[error("the hashing task was cancelled")]
    Cancelled,
}

/// The outcome of checking a password against a stored hash.
#[derive(Debug, PartialEq, Eq)]
pub enum Verified {
    No,
    Yes,
    /// Correct, and the stored hash should be replaced by a current argon2id hash
    /// (bcrypt, argon2i, or argon2id with other parameters).
    YesRehash,
}

#[derive(Clone)]
pub struct Hasher {
    params: HashParams,
    pool: crate::workers::Workers,
    /// A hash of a random password, verified against when an identifier is
    /// unknown so that both answers cost the same argon2 work.
    dummy: Arc<tokio::sync::OnceCell<String>>,
    /// Hash operations running or waiting for a permit (a metric).
    in_flight: Arc<std::sync::atomic::AtomicI64>,
}

impl Hasher {
    pub fn new(params: HashParams, concurrency: usize) -> Result<Self, String> {
        params.argon2()?;
        Ok(Hasher {
            params,
            pool: crate::workers::Workers::new("hash", concurrency.max(1))
                .map_err(|e| format!("cannot start the hashing threads: {e}"))?,
            dummy: Arc::new(tokio::sync::OnceCell::new()),
            in_flight: Arc::new(std::sync::atomic::AtomicI64::new(0)),
        })
    }

    pub fn params(&self) -> HashParams {
        self.params
    }

    /// Hashes a new password with argon2id and the configured parameters.
    pub async fn hash(&self, password: &Password) -> Result<String, HashError> {
        let params = self.params;
        let password = password.clone();
        self.run(move || hash_now(params, password.expose())).await
    }

    /// Checks a password against a stored PHC or bcrypt string.
    pub async fn verify(&self, password: &Password, stored: &str) -> Result<Verified, HashError> {
        let params = self.params;
        let password = password.clone();
        let stored = stored.to_owned();
        self.run(move || verify_now(params, password.expose(), &stored))
            .await
    }

    /// Spends the same work as `verify` on a login identifier that does not
    /// exist, so that its answer and timing match a wrong password's.
    pub async fn verify_dummy(&self, password: &Password) -> Result<(), HashError> {
        let dummy = self
            .dummy
            .get_or_try_init(|| async {
                let random = Password::new(crate::crypto::random_alphanumeric(32));
                self.hash(&random).await
            })
            .await?
            .clone();
        self.verify(password, &dummy).await.map(|_| ())
    }

    async fn run<T: Send + 'static>(
        &self,
        f: impl FnOnce() -> Result<T, HashError> + Send + 'static,
    ) -> Result<T, HashError> {
        use std::sync::atomic::Ordering;
        self.in_flight.fetch_add(1, Ordering::Relaxed);
        let in_flight = self.in_flight.clone();
        // Decrements however this future ends (done or dropped mid-wait).
        let _count = scopeguard(move || {
            in_flight.fetch_sub(1, Ordering::Relaxed);
        });
        self.pool.run(f).await.ok_or(HashError::Cancelled)?
    }
}

/// Hashes synchronously (the `hash-password` command, and the blocking pool).
pub fn hash_now(params: HashParams, password: &str) -> Result<String, HashError> {
    let argon2 = params.argon2().map_err(HashError::Failed)?;
    argon2_memory::hash(&argon2, password.as_bytes()).map_err(HashError::Failed)
}

pub fn verify_now(
    current: HashParams,
    password: &str,
    stored: &str,
) -> Result<Verified, HashError> {
    if legacy::is_legacy(stored) {
        return match legacy::verify(password, stored) {
            Ok(true) => Ok(Verified::YesRehash),
            Ok(false) => Ok(Verified::No),
            Err(e) => Err(HashError::UnsupportedHash(e)),
        };
    }
    if is_bcrypt(stored) {
        return match bcrypt::verify(password, stored) {
            Ok(true) => Ok(Verified::YesRehash),
            Ok(false) => Ok(Verified::No),
            Err(e) => Err(HashError::UnsupportedHash(e.to_string())),
        };
    }
    let parsed =
        PasswordHash::new(stored).map_err(|e| HashError::UnsupportedHash(e.to_string()))?;
    let algorithm = parsed.algorithm.as_str();
    if algorithm != "argon2id" && algorithm != "argon2i" {
        return Err(HashError::UnsupportedHash(format!("algorithm {algorithm}")));
    }
    // The hash carries its own parameters; the instance's are not used to verify.
    match argon2_memory::verify(password.as_bytes(), &parsed) {
        Ok(true) => {
            let same = algorithm == "argon2id"
                && Params::try_from(&parsed).ok().is_some_and(|p| {
                    p.m_cost() == current.memory_kib
                        && p.t_cost() == current.iterations
                        && p.p_cost() == current.parallelism
                });
            Ok(if same {
                Verified::Yes
            } else {
                Verified::YesRehash
            })
        }
        Ok(false) => Ok(Verified::No),
        Err(e) => Err(HashError::UnsupportedHash(e)),
    }
}

fn is_bcrypt(s: &str) -> bool {
    ["$2a$", "$2b$", "$2y$"].iter().any(|p| s.starts_with(p))
}

/// Checks that an imported hash is one Postern can verify, within sane cost bounds
/// (Kratos's `hash_limits.go`): argon2 m ≤ 1 GiB, t ≤ 10, p ≤ 16; bcrypt cost ≤ 15.
pub fn check_imported_hash(stored: &str) -> Result<(), String> {
    if legacy::is_legacy(stored) {
        return legacy::check(stored);
    }

    if is_bcrypt(stored) {
        let cost: u32 = stored
            .get(4..6)
            .and_then(|c| c.parse().ok())
            .ok_or("the bcrypt hash has no readable cost")?;
        if stored.len() != 60 || !(4..=15).contains(&cost) {
            return Err("the bcrypt hash is malformed or its cost is outside 4..=15".into());
        }
        return Ok(());
    }
    let parsed = PasswordHash::new(stored)
        .map_err(|_| "the hashed password does not match any known hash format".to_owned())?;
    match parsed.algorithm.as_str() {
        "argon2id" | "argon2i" => {}
        other => return Err(format!("the hash algorithm `{other}` is not supported")),
    }
    let p = Params::try_from(&parsed).map_err(|e| format!("invalid argon2 parameters: {e}"))?;
    if p.m_cost() > 1_048_576 || p.t_cost() > 10 || p.p_cost() > 16 {
        return Err("the argon2 parameters exceed m=1048576, t=10, p=16".into());
    }
    if parsed.salt.is_none() || parsed.hash.is_none() {
        return Err("the argon2 hash lacks its salt or output".into());
    }
    Ok(())
}

/// Runs `f` when dropped.
fn scopeguard<F: FnOnce()>(f: F) -> impl Drop {
    struct Guard<F: FnOnce()>(Option<F>);
    impl<F: FnOnce()> Drop for Guard<F> {
        fn drop(&mut self) {
            if let Some(f) = self.0.take() {
                f();
            }
        }
    }
    Guard(Some(f))
}

impl Hasher {
    /// Hash operations running or waiting right now.
    pub fn in_flight(&self) -> i64 {
        self.in_flight.load(std::sync::atomic::Ordering::Relaxed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn new_hashes_are_argon2id_with_configured_params_and_verify() {
        let h = hash_now(HashParams::DEV, "correct horse").unwrap();
        assert!(h.starts_with("$argon2id$v=19$m=64,t=1,p=1$"), "{h}");
        assert_eq!(
            verify_now(HashParams::DEV, "correct horse", &h).unwrap(),
            Verified::Yes
        );
        assert_eq!(
            verify_now(HashParams::DEV, "wrong", &h).unwrap(),
            Verified::No
        );
        let other = HashParams {
            memory_kib: 128,
            ..HashParams::DEV
        };
        assert_eq!(
            verify_now(other, "correct horse", &h).unwrap(),
            Verified::YesRehash
        );
    }

    #[test]
    fn bcrypt_hashes_verify_and_ask_for_rehash() {
        let h = bcrypt::hash("s3cret-pass", 4).unwrap();
        check_imported_hash(&h).unwrap();
        assert_eq!(
            verify_now(HashParams::DEV, "s3cret-pass", &h).unwrap(),
            Verified::YesRehash
        );
        assert_eq!(
            verify_now(HashParams::DEV, "nope", &h).unwrap(),
            Verified::No
        );
    }

    #[test]
    fn imported_hash_checks() {
        let good = hash_now(HashParams::DEV, "x").unwrap();
        check_imported_hash(&good).unwrap();
        assert!(check_imported_hash("plaintext").is_err());
        assert!(check_imported_hash("$md5$abc").is_err());
        assert!(
            check_imported_hash("$argon2id$v=19$m=99999999,t=1,p=1$c2FsdHNhbHQ$aGFzaA").is_err()
        );
        assert!(check_imported_hash("$2b$31$abc").is_err());
    }

    #[test]
    fn password_debug_is_redacted() {
        assert!(!format!("{:?}", Password::new("hunter2")).contains("hunter2"));
    }
}
