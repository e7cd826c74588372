//! CSRF protection for browser flows, as Kratos (nosurf) does it: a random 32-byte
//! secret lives in an HttpOnly cookie; each response carries a freshly masked copy
//! (`pad || secret XOR pad`) in the `csrf_token` node; a submit must send back a
//! masked token that unmasks to the cookie's secret. Flows store only the SHA-256
//! of the secret they were created with.

use crate::crypto;

/// The cookie secret (32 random bytes).
#[derive(Clone, PartialEq, Eq)]
pub struct CsrfSecret([u8; 32]);

impl std::fmt::Debug for CsrfSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("CsrfSecret(<redacted>)")
    }
}

impl CsrfSecret {
    pub fn generate() -> CsrfSecret {
        CsrfSecret(crypto::random_bytes::<32>())
    }

    /// Reads a cookie value; `None` when it is not a well-formed secret.
    pub fn from_cookie(value: &str) -> Option<CsrfSecret> {
        let bytes = crypto::b64_std_decode(value)?;
        let arr: [u8; 32] = bytes.try_into().ok()?;
        Some(CsrfSecret(arr))
    }

    pub fn cookie_value(&self) -> String {
        crypto::b64_std(&self.0)
    }

    /// What a flow stores to recognise the browser that created it.
    pub fn digest(&self) -> String {
        crypto::digest_hex(&self.0)
    }

    /// A fresh masked token for the `csrf_token` node (88 base64 characters).
    pub fn masked(&self) -> String {
        let pad = crypto::random_bytes::<32>();
        let mut out = [0u8; 64];
        mask_into(&pad, &self.0, &mut out);
        crypto::b64_std(&out)
    }

    /// Whether a submitted masked token carries this secret (constant time).
    pub fn matches_masked(&self, masked: &str) -> bool {
        let Some(bytes) = crypto::b64_std_decode(masked.trim()) else {
            return false;
        };
        let Some((pad, hidden)) = bytes.split_at_checked(32) else {
            return false;
        };
        if hidden.len() != 32 {
            return false;
        }
        let unmasked: Vec<u8> = pad.iter().zip(hidden).map(|(p, h)| p ^ h).collect();
        crypto::constant_time_eq(&unmasked, &self.0)
    }

    /// Whether this secret is the one a flow was created with (constant time).
    pub fn matches_digest(&self, digest: &str) -> bool {
        crypto::constant_time_eq(self.digest().as_bytes(), digest.as_bytes())
    }
}

fn mask_into(pad: &[u8; 32], secret: &[u8; 32], out: &mut [u8; 64]) {
    let (head, tail) = out.split_at_mut(32);
    head.copy_from_slice(pad);
    for ((t, p), s) in tail.iter_mut().zip(pad).zip(secret) {
        *t = p ^ s;
    }
}

/// `csrf_token_<sha256 hex of the public base URL>`, so two Postern instances on
/// one domain do not overwrite each other's cookie.
pub fn cookie_name(public_base_url: &str) -> String {
    format!(
        "csrf_token_{}",
        crypto::digest_hex(public_base_url.as_bytes())
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masked_tokens_differ_each_time_but_all_verify() {
        let s = CsrfSecret::generate();
        let (a, b) = (s.masked(), s.masked());
        assert_ne!(a, b);
        assert_eq!(a.len(), 88);
        assert!(s.matches_masked(&a) && s.matches_masked(&b));
        assert!(!CsrfSecret::generate().matches_masked(&a));
        assert!(!s.matches_masked("garbage"));
        assert!(!s.matches_masked(""));
    }

    #[test]
    fn cookie_round_trip_and_digest() {
        let s = CsrfSecret::generate();
        let back = CsrfSecret::from_cookie(&s.cookie_value()).unwrap();
        assert!(back.matches_digest(&s.digest()));
        assert!(CsrfSecret::from_cookie("short").is_none());
    }
}
