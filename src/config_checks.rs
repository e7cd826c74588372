//! Start-up checks for configurations that break browsers in ways that cost
//! Kratos users days: insecure cookies, cookie domains that do not match, SPAs
//! on another site, SameSite=None without https. Each warning names the flag
//! that fixes it.

use crate::config::{Config, SameSite};
use url::Url;

/// "Site" as browsers use it for SameSite: the host's last two labels (or the
/// host itself for IP addresses and single-label names like `localhost`).
fn site(url: &Url) -> Option<String> {
    let host = url.host_str()?.to_ascii_lowercase();
    if url
        .host()
        .is_some_and(|h| !matches!(h, url::Host::Domain(_)))
    {
        return Some(host);
    }
    let labels: Vec<&str> = host.split('.').collect();
    Some(match labels.as_slice() {
        [.., a, b] => format!("{a}.{b}"),
        _ => host,
    })
}

fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(url::Host::Domain(d)) => d == "localhost" || d.ends_with(".localhost"),
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    }
}

pub fn browser_warnings(config: &Config) -> Vec<String> {
    let base = config.public_base_url();
    let https = base.scheme() == "https";
    let mut out = Vec::new();
    if !https && !is_loopback(base) {
        out.push(format!(
            "the public base URL {base} is plain http on a non-loopback host: session and CSRF cookies cannot be Secure. Serve Postern over https (e.g. behind a TLS proxy) and set --public-base-url https://…"
        ));
    }
    if config.cookie_same_site == SameSite::None && !https {
        out.push("--cookie-same-site none needs https: browsers drop SameSite=None cookies that are not Secure. Use an https --public-base-url or --cookie-same-site lax".into());
    }
    if let (Some(domain), Some(host)) = (&config.cookie_domain, base.host_str()) {
        let d = domain.trim_start_matches('.').to_ascii_lowercase();
        let h = host.to_ascii_lowercase();
        if h != d && !h.ends_with(&format!(".{d}")) {
            out.push(format!(
                "--cookie-domain {domain} does not cover the public base URL's host {host}: browsers will reject the session and CSRF cookies. Set --cookie-domain to {host} or a parent domain of it"
            ));
        }
    }
    let base_site = site(base);
    for origin in config.cors_allowed_origins.iter().filter(|o| *o != "*") {
        let Ok(url) = Url::parse(origin) else {
            continue;
        };
        if site(&url) != base_site && config.cookie_same_site != SameSite::None {
            out.push(format!(
                "the SPA origin {origin} is on another site than the public base URL {base}: browsers will not send the SameSite=Lax session cookie with its requests. Serve both under one site (e.g. app.example.com and auth.example.com, or both on localhost), or use https with --cookie-same-site none"
            ));
        }
    }
    let cors_sites: Vec<Option<String>> = config
        .cors_allowed_origins
        .iter()
        .filter_map(|o| Url::parse(o).ok())
        .map(|u| site(&u))
        .collect();
    for url in config.allowed_return_urls() {
        if site(url) != base_site && !cors_sites.contains(&site(url)) {
            out.push(format!(
                "the return URL {url} is on another site and no --cors-allowed-origin covers it: if the app there calls Postern from the browser, add --cors-allowed-origin {}",
                url.origin().ascii_serialization()
            ));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    fn warnings(args: &[&str]) -> Vec<String> {
        let mut all = vec!["postern"];
        all.extend_from_slice(args);
        let config =
            Config::try_from(crate::config::ServeArgs::try_parse_from(all).unwrap()).unwrap();
        browser_warnings(&config)
    }

    #[test]
    fn the_defaults_and_a_proper_production_setup_warn_nothing() {
        assert!(warnings(&[]).is_empty());
        let ok = warnings(&[
            "--public-base-url=https://auth.example.com",
            "--cookie-domain=example.com",
            "--cors-allowed-origin=https://app.example.com",
            "--allowed-return-url=https://app.example.com/",
        ]);
        assert!(ok.is_empty(), "{ok:?}");
    }

    #[test]
    fn each_pitfall_is_named_with_its_flag() {
        let w = warnings(&["--public-base-url=http://auth.example.com"]);
        assert!(w.iter().any(|m| m.contains("--public-base-url")), "{w:?}");
        let w = warnings(&[
            "--public-base-url=https://auth.example.com",
            "--cookie-domain=other.org",
        ]);
        assert!(w.iter().any(|m| m.contains("--cookie-domain")), "{w:?}");
        // The classic: UI on localhost, Postern on 127.0.0.1.
        let w = warnings(&["--cors-allowed-origin=http://localhost:3000"]);
        assert!(w.iter().any(|m| m.contains("another site")), "{w:?}");
        let w = warnings(&["--cookie-same-site=none"]);
        assert!(w.iter().any(|m| m.contains("--cookie-same-site")), "{w:?}");
        let w = warnings(&["--allowed-return-url=https://shop.example.net/"]);
        assert!(
            w.iter()
                .any(|m| m.contains("--cors-allowed-origin https://shop.example.net")),
            "{w:?}"
        );
    }
}
