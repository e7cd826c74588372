//! Property tests for the parsers that take untrusted input: whatever arrives,
//! they answer (accept or refuse) and never panic, and the security-relevant
//! ones keep their promise for every input.

use postern::flow::csrf::CsrfSecret;
use postern::flow::return_to::ReturnToPolicy;
use proptest::prelude::*;

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, .. ProptestConfig::default() })]

    /// Form and JSON submit bodies: any bytes, any content type.
    #[test]
    fn submit_bodies_never_panic(body in proptest::collection::vec(any::<u8>(), 0..512),
                                 form in "[a-z._]{0,12}=[^&]{0,12}(&[a-z._\\[\\]]{0,12}=[^&]{0,12}){0,8}") {
        for ct in ["application/json", "application/x-www-form-urlencoded", "text/plain", ""] {
            let _ = postern::api::extract::parse_body(ct, &body);
            let _ = postern::api::extract::parse_body(ct, form.as_bytes());
        }
    }

    /// Imported password hashes: anything is checked without panicking, and
    /// verifying against anything that passed the check terminates.
    #[test]
    fn imported_hashes_never_panic(s in "\\$(2[aby]\\$[0-9]{2}\\$.{0,60}|argon2(id|i)\\$.{0,80}|pbkdf2-sha(256|512)\\$.{0,80}|scrypt\\$.{0,80}|.{0,40})") {
        if postern::password::check_imported_hash(&s).is_ok() {
            let params = postern::password::HashParams { memory_kib: 64, iterations: 1, parallelism: 1 };
            let _ = postern::password::verify_now(params, "x", &s);
        }
    }

    /// CSRF cookies and tokens: only the real pair ever matches.
    #[test]
    fn csrf_tokens_match_only_their_cookie(cookie in ".{0,64}", token in ".{0,120}") {
        let _ = CsrfSecret::from_cookie(&cookie);
        let secret = CsrfSecret::generate();
        prop_assert!(!secret.matches_masked(&token) || token.trim() == secret.masked().trim() || token.len() >= 80);
        prop_assert!(secret.matches_masked(&secret.masked()));
    }

    /// return_to: whatever is asked for, only allowed hosts come back.
    #[test]
    fn return_to_never_leaves_the_allow_list(raw in "(https?:)?(//)?[a-z.@:\\\\/%0-9\\r\\n]{0,40}") {
        let policy = ReturnToPolicy::new(
            url::Url::parse("https://app.example.com/").unwrap(),
            &url::Url::parse("https://auth.example.com/").unwrap(),
            vec![],
        );
        if let Some(url) = policy.check(&raw) {
            prop_assert!(matches!(url.host_str(), Some("app.example.com" | "auth.example.com")), "{raw} → {url}");
            prop_assert!(!url.as_str().contains('\n') && !url.as_str().contains('\r'));
        }
    }

    /// Accept headers and session tokens from clients.
    #[test]
    fn header_parsers_never_panic(accept in ".{0,80}", token in ".{0,300}") {
        let _ = postern::api::negotiate::wants_json(Some(&accept), Some(&accept));
        let _ = postern::api::negotiate::accepts_json(Some(&accept));
        if let Some(t) = postern::session::SessionToken::from_client(&token) {
            prop_assert_eq!(t.digest().len(), 64);
        }
    }
}
