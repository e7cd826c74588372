//! `return_to` checks (Kratos `x/redir/secure_redirect.go`): a redirect target must
//! match an allowed URL by scheme, host (or `*.domain` suffix), port and path
//! prefix. Relative targets resolve against the default return URL.

use url::Url;

#[derive(Clone, Debug)]
pub struct ReturnToPolicy {
    default: Url,
    allowed: Vec<Url>,
}

impl ReturnToPolicy {
    /// `allowed` is the configured list; the default return URL and the public
    /// base URL are always allowed too.
    pub fn new(default: Url, public_base: &Url, mut allowed: Vec<Url>) -> Self {
        allowed.push(default.clone());
        allowed.push(public_base.clone());
        ReturnToPolicy { default, allowed }
    }

    pub fn default_url(&self) -> &Url {
        &self.default
    }

    /// The resolved URL when `raw` is allowed.
    pub fn check(&self, raw: &str) -> Option<Url> {
        if raw.chars().any(char::is_control) {
            return None;
        }
        let candidate = self.default.join(raw).ok()?;
        if !matches!(candidate.scheme(), "http" | "https") {
            return None;
        }
        self.allowed
            .iter()
            .any(|a| matches(a, &candidate))
            .then_some(candidate)
    }
}

fn matches(allowed: &Url, candidate: &Url) -> bool {
    if !allowed.scheme().eq_ignore_ascii_case(candidate.scheme()) {
        return false;
    }
    let (Some(ah), Some(ch)) = (allowed.host_str(), candidate.host_str()) else {
        return false;
    };
    let host_ok = match ah.strip_prefix("*.") {
        Some(domain) => ch.len() > domain.len() && ch.ends_with(&format!(".{domain}")),
        None => ah.eq_ignore_ascii_case(ch),
    };
    if !host_ok || allowed.port_or_known_default() != candidate.port_or_known_default() {
        return false;
    }
    let prefix = allowed.path();
    let path = if candidate.path().is_empty() {
        "/"
    } else {
        candidate.path()
    };
    path.starts_with(prefix) || (prefix.ends_with('/') && format!("{path}/") == prefix)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy() -> ReturnToPolicy {
        ReturnToPolicy::new(
            Url::parse("https://app.example.com/home").unwrap(),
            &Url::parse("https://auth.example.com/").unwrap(),
            vec![
                Url::parse("https://app.example.com/").unwrap(),
                Url::parse("https://*.tenants.example.com/cb").unwrap(),
            ],
        )
    }

    #[test]
    fn allows_listed_targets_and_relative_paths() {
        let p = policy();
        assert_eq!(
            p.check("/dashboard").unwrap().as_str(),
            "https://app.example.com/dashboard"
        );
        assert!(p.check("https://app.example.com/x?y=1").is_some());
        assert!(p.check("https://a.tenants.example.com/cb/done").is_some());
        assert!(p
            .check("https://auth.example.com/self-service/login/browser")
            .is_some());
    }

    #[test]
    fn refuses_other_sites_schemes_ports_and_tricks() {
        let p = policy();
        for bad in [
            "https://evil.example.net/",
            "//evil.example.net/",
            "http://app.example.com/",
            "https://app.example.com:8443/",
            "https://app.example.com.evil.net/",
            "https://tenants.example.com/cb",
            "https://a.tenants.example.com/other",
            "javascript:alert(1)",
            "https://app.example.com/\r\nSet-Cookie: x=y",
        ] {
            assert!(p.check(bad).is_none(), "{bad}");
        }
    }
}
