//! The password policy applied at registration and settings (Kratos's
//! `password/validator.go`, offline): length bounds, not too similar to the
//! account's identifiers, and not one of the passwords most common in breaches
//! (zxcvbn's list of ~30,000 leaked passwords, shipped inside the binary — no
//! network call, unlike Kratos's HaveIBeenPwned lookup).

use zxcvbn::matching::patterns::{DictionaryPattern, MatchPattern};

pub const MIN_CHARS: usize = 8;
/// The longest entry of the leaked-passwords list in zxcvbn 3.1.1 (checked in
/// its source: three entries of 20 characters, none longer). A test fails when
/// Cargo.lock moves to another zxcvbn, so that this is checked again.
const LONGEST_LISTED: usize = 20;
/// Every character a listed password can be spelled with in zxcvbn 3.1.1: the
/// characters of the list's entries (a-z, 0-9 and `!$%'(*-.;?@[\]_`, checked
/// in its source) and the l33t substitutions zxcvbn undoes (`{<|+` besides).
const LISTED_CHARS: &str = "abcdefghijklmnopqrstuvwxyz0123456789!$%'(*-.;?@[\\]_{<|+";
pub const MAX_CHARS: usize = 4096;

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PolicyViolation {
    TooShort { min: usize, actual: usize },
    TooLong { max: usize, actual: usize },
    TooSimilar,
    Breached,
}

/// Checks a new password against the policy; `identifiers` are the account's
/// login identifiers (normalized).
pub fn check(password: &str, identifiers: &[String]) -> Result<(), PolicyViolation> {
    let chars = password.chars().count();
    if chars < MIN_CHARS {
        return Err(PolicyViolation::TooShort {
            min: MIN_CHARS,
            actual: chars,
        });
    }
    if chars > MAX_CHARS {
        return Err(PolicyViolation::TooLong {
            max: MAX_CHARS,
            actual: chars,
        });
    }
    if identifiers.iter().any(|id| too_similar(password, id)) {
        return Err(PolicyViolation::TooSimilar);
    }
    if is_common_breached(password) {
        return Err(PolicyViolation::Breached);
    }
    Ok(())
}

/// Kratos's rule: compared lower-cased (only when both are ≤ 256 bytes), a
/// password is too similar when its edit distance to the identifier is below 5 or
/// their longest common substring is more than half of the password.
fn too_similar(password: &str, identifier: &str) -> bool {
    if password.len() > 256 || identifier.len() > 256 || identifier.is_empty() {
        return false;
    }
    let (p, i) = (password.to_lowercase(), identifier.to_lowercase());
    if strsim::levenshtein(&p, &i) < 5 {
        return true;
    }
    let lcs = longest_common_substring(&p, &i);
    lcs * 2 > p.chars().count()
}

fn longest_common_substring(a: &str, b: &str) -> usize {
    let (a, b): (Vec<char>, Vec<char>) = (a.chars().collect(), b.chars().collect());
    let mut prev = vec![0usize; b.len() + 1];
    let mut best = 0;
    for ca in &a {
        let mut cur = vec![0usize; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            if ca == cb {
                let v = prev.get(j).copied().unwrap_or(0) + 1;
                if let Some(slot) = cur.get_mut(j + 1) {
                    *slot = v;
                }
                best = best.max(v);
            }
        }
        prev = cur;
    }
    best
}

/// Whether the whole password (case-insensitively, l33t or reversed spellings
/// included) is one entry of zxcvbn's leaked-passwords dictionary.
fn is_common_breached(password: &str) -> bool {
    // A whole-password match is as long as its list entry (l33t and reversed
    // spellings map one character to one), and zxcvbn's analysis grows with
    // the square of the length, on the HTTP thread: 0.3-0.8 ms at 20-28
    // characters, 4 ms at 64. Longer passwords than the longest entry skip it.
    // Nor can a password match that has a character no entry is spelled with
    // (a space, most punctuation, letters outside a-z): passphrases skip it.
    if password.chars().count() > LONGEST_LISTED
        || !password
            .to_lowercase()
            .chars()
            .all(|c| LISTED_CHARS.contains(c))
    {
        return false;
    }
    zxcvbn_lists(password)
}

/// zxcvbn's own answer: its best reading of the password is one dictionary
/// match, on the leaked-passwords list, spanning the whole password.
fn zxcvbn_lists(password: &str) -> bool {
    // zxcvbn does not export its dictionary type; the pattern's default names the
    // leaked-passwords list.
    let passwords = DictionaryPattern::default().dictionary_name;
    let entropy = zxcvbn::zxcvbn(password, &[]);
    let len = password.chars().count();
    entropy.sequence().iter().any(|m| {
        m.i == 0
            && m.j + 1 == len
            && matches!(&m.pattern, MatchPattern::Dictionary(d) if d.dictionary_name == passwords)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids() -> Vec<String> {
        vec!["ada.lovelace@example.com".into()]
    }

    #[test]
    fn length_bounds() {
        assert_eq!(
            check("short", &ids()),
            Err(PolicyViolation::TooShort { min: 8, actual: 5 })
        );
        let long = "x".repeat(4097);
        assert_eq!(
            check(&long, &ids()),
            Err(PolicyViolation::TooLong {
                max: 4096,
                actual: 4097
            })
        );
    }

    #[test]
    fn common_breached_passwords_are_refused_in_any_case() {
        for p in [
            "password",
            "Password1",
            "qwertyuiop",
            "iloveyou",
            "P@ssw0rd",
            "12345678",
        ] {
            assert_eq!(check(p, &[]), Err(PolicyViolation::Breached), "{p}");
        }
        for p in [
            "correct horse battery staple",
            "tangerine-velvet-83-lighthouse",
        ] {
            assert_eq!(check(p, &[]), Ok(()), "{p}");
        }
    }

    #[test]
    fn the_longest_listed_passwords_are_still_refused() {
        // Two of the three 20-character entries, one spelled backwards.
        for p in [
            "q1w2e3r4t5y6u7i8o9p0",
            "12345678900987654321",
            "0p9o8i7u6y5t4r3e2w1q",
        ] {
            assert_eq!(p.chars().count(), LONGEST_LISTED);
            assert_eq!(check(p, &[]), Err(PolicyViolation::Breached), "{p}");
        }
    }

    #[test]
    fn skipping_zxcvbn_never_changes_the_answer() {
        // Listed passwords, their l33t, reversed and upper-case spellings, and
        // near misses with a character outside the list's alphabet.
        let mut samples = vec![
            "password".to_owned(),
            "p@$$w0rd".into(),
            "drowssap".into(),
            "PASSWORD".into(),
            "pass word".into(),
            "password#".into(),
            "pässword".into(),
            "ｐａｓｓｗｏｒｄ".into(),
            "q1w2e3r4t5y6u7i8o9p0".into(),
            "q1w2e3r4t5y6u7i8o9p0x".into(),
            "{ool+ime".into(),
        ];
        // And random strings over the list's alphabet plus a few others.
        let alphabet: Vec<char> = "abcdeilostx0134578@$!|+{ #&é".chars().collect();
        for _ in 0..300 {
            let len = rand::random_range(8..=22);
            samples.push(
                (0..len)
                    .map(|_| alphabet[rand::random_range(0..alphabet.len())])
                    .collect(),
            );
        }
        for p in &samples {
            assert_eq!(is_common_breached(p), zxcvbn_lists(p), "{p}");
        }
        assert!(zxcvbn_lists("p@$$w0rd") && zxcvbn_lists("drowssap"));
    }

    #[test]
    fn the_longest_entry_bound_was_checked_for_this_zxcvbn() {
        let lock = include_str!("../../Cargo.lock");
        let version = lock
            .split("[[package]]")
            .find(|p| p.contains("name = \"zxcvbn\""))
            .and_then(|p| p.lines().find(|l| l.starts_with("version = ")));
        assert_eq!(
            version,
            Some("version = \"3.1.1\""),
            "zxcvbn changed: check LONGEST_LISTED and LISTED_CHARS against its leaked-passwords list"
        );
    }

    #[test]
    fn passwords_like_the_identifier_are_refused() {
        assert_eq!(
            check("ada.lovelace@example.co", &ids()),
            Err(PolicyViolation::TooSimilar)
        );
        assert_eq!(
            check("ADA.LOVELACE1", &ids()),
            Err(PolicyViolation::TooSimilar)
        );
        assert_eq!(check("violet tram 9 quietly", &ids()), Ok(()));
    }
}
