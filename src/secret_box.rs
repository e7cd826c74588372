//! Encryption at rest for the few secrets Postern must be able to read back:
//! outbox mail bodies carry recovery and verification codes until they are
//! delivered. They are sealed with XChaCha20-Poly1305 under a random key kept in
//! a file beside the database (`<db>.key`, mode 0600), so a copy of the database
//! alone reveals no code. (The same key, through a derived one, keys the stored
//! digests of codes: see `flow::code`.) Back the key file up with the database.

use crate::crypto;
use anyhow::Context;
use chacha20poly1305::aead::{Aead, KeyInit};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use std::io::Write;
use std::path::Path;

const PREFIX: &str = "sealed:v1:";

#[derive(Clone)]
pub struct SecretBox {
    cipher: XChaCha20Poly1305,
}

impl std::fmt::Debug for SecretBox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SecretBox(<key>)")
    }
}

/// Reads the key file, creating it with a fresh random key on first start. The
/// key seals mail bodies (`SecretBox`) and keys the digests of one-time codes
/// (`flow::code::CodeKey`).
pub fn load_or_create_key(path: &Path) -> anyhow::Result<[u8; 32]> {
    if let Ok(text) = std::fs::read_to_string(path) {
        return crypto::b64_std_decode(text.trim())
            .and_then(|b| b.try_into().ok())
            .with_context(|| format!("the key file {} is not a Postern key", path.display()));
    }
    let key = crypto::random_bytes::<32>();
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options
        .open(path)
        .with_context(|| format!("cannot create the key file {}", path.display()))?;
    file.write_all(crypto::b64_std(&key).as_bytes())?;
    file.sync_all()?;
    Ok(key)
}

impl SecretBox {
    pub fn from_key(key: &[u8; 32]) -> SecretBox {
        SecretBox {
            cipher: XChaCha20Poly1305::new(key.into()),
        }
    }

    pub fn seal(&self, plaintext: &str) -> String {
        let nonce = crypto::random_bytes::<24>();
        match self
            .cipher
            .encrypt(XNonce::from_slice(&nonce), plaintext.as_bytes())
        {
            Ok(ct) => format!(
                "{PREFIX}{}{}",
                crypto::b64_std(&nonce),
                crypto::b64_std(&ct)
            ),
            // Encryption with a valid key and nonce cannot fail; never store plaintext.
            Err(_) => String::new(),
        }
    }

    /// The plaintext of a sealed value; `None` when it was sealed under another
    /// key or damaged.
    pub fn open(&self, sealed: &str) -> Option<String> {
        let rest = sealed.strip_prefix(PREFIX)?;
        // 24 nonce bytes are 32 base64 characters.
        let (nonce, ct) = (rest.get(..32)?, rest.get(32..)?);
        let nonce = crypto::b64_std_decode(nonce)?;
        let ct = crypto::b64_std_decode(ct)?;
        let pt = self
            .cipher
            .decrypt(XNonce::from_slice(&nonce), ct.as_ref())
            .ok()?;
        String::from_utf8(pt).ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seal_and_open_round_trip_and_hide_the_plaintext() {
        let b = SecretBox::from_key(&[7u8; 32]);
        let sealed = b.seal("code 123456");
        assert!(!sealed.contains("123456"));
        assert_ne!(sealed, b.seal("code 123456"), "fresh nonce each time");
        assert_eq!(b.open(&sealed).as_deref(), Some("code 123456"));
        assert_eq!(SecretBox::from_key(&[8u8; 32]).open(&sealed), None);
        assert_eq!(b.open("plain text"), None);
    }

    #[test]
    fn key_file_is_created_once_and_reused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("db.key");
        let a = SecretBox::from_key(&load_or_create_key(&path).unwrap());
        let b = SecretBox::from_key(&load_or_create_key(&path).unwrap());
        assert_eq!(b.open(&a.seal("x")).as_deref(), Some("x"));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(
                std::fs::metadata(&path).unwrap().permissions().mode() & 0o777,
                0o600
            );
        }
        std::fs::write(&path, "garbage").unwrap();
        assert!(load_or_create_key(&path).is_err());
    }
}
