//! Imported hashes Postern can verify but never writes: PBKDF2 and scrypt in
//! Kratos's import formats. A correct password is rehashed to argon2id on login.
//!
//! - `$pbkdf2-sha256$i=<iterations>,l=<key length>$<salt>$<hash>` (and `-sha512`)
//! - `$scrypt$ln=<N>,r=<r>,p=<p>$<salt>$<hash>` — as in Kratos, `ln` is the cost
//!   N itself (a power of two), not its logarithm.
//!
//! Salt and hash are base64 (standard alphabet, padded or not).

use crate::crypto;
use base64::Engine;

/// Kratos's import bounds (`hash/hash_limits.go`).
const MAX_PBKDF2_ITERATIONS: u32 = 10_000_000;
const MAX_SCRYPT_N: u64 = 1 << 17;
const MAX_SCRYPT_R: u32 = 8;
const MAX_SCRYPT_P: u32 = 10;

pub fn is_legacy(stored: &str) -> bool {
    stored.starts_with("$pbkdf2-sha256$")
        || stored.starts_with("$pbkdf2-sha512$")
        || stored.starts_with("$scrypt$")
}

enum Legacy {
    Pbkdf2 {
        sha512: bool,
        iterations: u32,
        salt: Vec<u8>,
        hash: Vec<u8>,
    },
    Scrypt {
        log_n: u8,
        r: u32,
        p: u32,
        salt: Vec<u8>,
        hash: Vec<u8>,
    },
}

fn b64(s: &str) -> Result<Vec<u8>, String> {
    let e = base64::engine::general_purpose::STANDARD;
    let raw = base64::engine::general_purpose::STANDARD_NO_PAD;
    e.decode(s)
        .or_else(|_| raw.decode(s.trim_end_matches('=')))
        .map_err(|_| "the salt or hash is not base64".to_owned())
}

fn params<'a>(text: &'a str, names: &[&str]) -> Result<Vec<&'a str>, String> {
    let pairs: Vec<(&str, &str)> = text
        .split(',')
        .filter_map(|kv| kv.split_once('='))
        .collect();
    names
        .iter()
        .map(|n| {
            pairs
                .iter()
                .find(|(k, _)| k == n)
                .map(|(_, v)| *v)
                .ok_or_else(|| format!("missing parameter `{n}`"))
        })
        .collect()
}

fn parse(stored: &str) -> Result<Legacy, String> {
    let parts: Vec<&str> = stored.split('$').collect();
    let [_, algo, p, salt, hash] = parts.as_slice() else {
        return Err("the hash does not have the form $algorithm$parameters$salt$hash".into());
    };
    let (salt, hash) = (b64(salt)?, b64(hash)?);
    if hash.is_empty() || hash.len() > 512 || salt.len() > 512 {
        return Err("the salt or hash has an impossible length".into());
    }
    match *algo {
        "pbkdf2-sha256" | "pbkdf2-sha512" => {
            let v = params(p, &["i"])?;
            let iterations: u32 = v
                .first()
                .and_then(|i| i.parse().ok())
                .ok_or("`i` must be a number")?;
            if iterations == 0 || iterations > MAX_PBKDF2_ITERATIONS {
                return Err(format!(
                    "pbkdf2 iterations must be 1..={MAX_PBKDF2_ITERATIONS}"
                ));
            }
            Ok(Legacy::Pbkdf2 {
                sha512: *algo == "pbkdf2-sha512",
                iterations,
                salt,
                hash,
            })
        }
        "scrypt" => {
            let v = params(p, &["ln", "r", "p"])?;
            let num = |i: usize| {
                v.get(i)
                    .and_then(|x| x.parse::<u64>().ok())
                    .ok_or("scrypt parameters must be numbers")
            };
            let (n, r, pp) = (num(0)?, num(1)?, num(2)?);
            if !n.is_power_of_two()
                || !(2..=MAX_SCRYPT_N).contains(&n)
                || !(1..=u64::from(MAX_SCRYPT_R)).contains(&r)
                || !(1..=u64::from(MAX_SCRYPT_P)).contains(&pp)
            {
                return Err(format!("scrypt needs N a power of two ≤ {MAX_SCRYPT_N}, r 1..={MAX_SCRYPT_R}, p 1..={MAX_SCRYPT_P}"));
            }
            Ok(Legacy::Scrypt {
                log_n: n.trailing_zeros() as u8,
                r: r as u32,
                p: pp as u32,
                salt,
                hash,
            })
        }
        other => Err(format!("the hash algorithm `{other}` is not supported")),
    }
}

/// Checks the format and bounds of an imported hash.
pub fn check(stored: &str) -> Result<(), String> {
    parse(stored).map(|_| ())
}

/// Whether `password` matches `stored` (constant-time comparison).
pub fn verify(password: &str, stored: &str) -> Result<bool, String> {
    match parse(stored)? {
        Legacy::Pbkdf2 {
            sha512,
            iterations,
            salt,
            hash,
        } => {
            let mut out = vec![0u8; hash.len()];
            if sha512 {
                pbkdf2::pbkdf2_hmac::<sha2::Sha512>(
                    password.as_bytes(),
                    &salt,
                    iterations,
                    &mut out,
                );
            } else {
                pbkdf2::pbkdf2_hmac::<sha2::Sha256>(
                    password.as_bytes(),
                    &salt,
                    iterations,
                    &mut out,
                );
            }
            Ok(crypto::constant_time_eq(&out, &hash))
        }
        Legacy::Scrypt {
            log_n,
            r,
            p,
            salt,
            hash,
        } => {
            let params = scrypt::Params::new(log_n, r, p)
                .map_err(|e| format!("invalid scrypt parameters: {e}"))?;
            let mut out = vec![0u8; hash.len()];
            scrypt::scrypt(password.as_bytes(), &salt, &params, &mut out)
                .map_err(|e| e.to_string())?;
            Ok(crypto::constant_time_eq(&out, &hash))
        }
    }
}

#[cfg(test)]
pub mod tests {
    use super::*;

    /// Makes hashes the way other systems export them (also used by the import tests).
    pub fn pbkdf2_sha256(password: &str, salt: &[u8], iterations: u32) -> String {
        let mut out = [0u8; 32];
        pbkdf2::pbkdf2_hmac::<sha2::Sha256>(password.as_bytes(), salt, iterations, &mut out);
        format!(
            "$pbkdf2-sha256$i={iterations},l=32${}${}",
            crypto::b64_std(salt),
            crypto::b64_std(&out)
        )
    }

    #[test]
    fn pbkdf2_and_scrypt_verify() {
        let h = pbkdf2_sha256("pw one", b"saltsalt", 1000);
        check(&h).unwrap();
        assert!(verify("pw one", &h).unwrap());
        assert!(!verify("pw two", &h).unwrap());

        let mut out = [0u8; 32];
        pbkdf2::pbkdf2_hmac::<sha2::Sha512>(b"pw", b"salt", 10, &mut out);
        let h = "$pbkdf2-sha512$i=10,l=32$c2FsdA$".to_owned()
            + &base64::engine::general_purpose::STANDARD_NO_PAD.encode(out);
        assert!(verify("pw", &h).unwrap());

        let params = scrypt::Params::new(10, 8, 1).unwrap();
        let mut out = [0u8; 32];
        scrypt::scrypt(b"scrypt pw", b"NaCl", &params, &mut out).unwrap();
        let h = format!(
            "$scrypt$ln=1024,r=8,p=1${}${}",
            crypto::b64_std(b"NaCl"),
            crypto::b64_std(&out)
        );
        assert!(verify("scrypt pw", &h).unwrap());
        assert!(!verify("nope", &h).unwrap());
    }

    #[test]
    fn bounds_and_formats_are_enforced() {
        assert!(check("$pbkdf2-sha256$i=99999999,l=32$c2FsdA$aGFzaA").is_err());
        assert!(
            check("$scrypt$ln=1000,r=8,p=1$c2FsdA$aGFzaA").is_err(),
            "N not a power of two"
        );
        assert!(
            check("$scrypt$ln=1048576,r=8,p=1$c2FsdA$aGFzaA").is_err(),
            "N too large"
        );
        assert!(check("$scrypt$ln=1024,r=8$c2FsdA$aGFzaA").is_err());
        assert!(check("$pbkdf2-sha256$i=10$!!!$aGFzaA").is_err());
        assert!(check("$pbkdf2-md5$i=10$c2FsdA$aGFzaA").is_err());
    }
}
