//! Content negotiation as Kratos does it (Go `gddo/httputil.NegotiateContentType`):
//! an exact media type beats `type/*`, which beats `*/*`; then q-values; ties go to
//! the first offer; no Accept header means the default offer.

/// The offer `accept` prefers among `offers` (`offers[0]` is the default).
pub fn negotiate<'a>(accept: Option<&str>, offers: &[&'a str]) -> Option<&'a str> {
    let default = offers.first().copied();
    let Some(accept) = accept.filter(|a| !a.trim().is_empty()) else {
        return default;
    };
    let specs: Vec<(String, f32)> = accept.split(',').filter_map(parse_spec).collect();
    let mut best = default;
    let mut best_q = -1.0f32;
    let mut best_wild = 3u8;
    for offer in offers {
        for (value, q) in &specs {
            if *q == 0.0 || *q < best_q {
                continue;
            }
            let wild = if value == "*/*" {
                2
            } else if let Some(prefix) = value.strip_suffix('*') {
                if !offer.starts_with(prefix) {
                    continue;
                }
                1
            } else if value == offer {
                0
            } else {
                continue;
            };
            if *q > best_q || best_wild > wild {
                best_q = *q;
                best_wild = wild;
                best = Some(*offer);
            }
        }
    }
    best
}

fn parse_spec(part: &str) -> Option<(String, f32)> {
    let mut pieces = part.split(';');
    let value = pieces.next()?.trim().to_ascii_lowercase();
    if value.is_empty() {
        return None;
    }
    let mut q = 1.0;
    for param in pieces {
        if let Some(v) = param.trim().strip_prefix("q=") {
            q = v.trim().parse().unwrap_or(0.0);
        }
    }
    Some((value, q))
}

/// Kratos's "wants JSON" (`x/isjsonrequest.go`): used to render errors and results.
pub fn wants_json(accept: Option<&str>, content_type: Option<&str>) -> bool {
    content_type == Some("application/json")
        || negotiate(accept, &["text/html", "text/*", "*/*", "application/json"])
            == Some("application/json")
}

/// Kratos's "accepts JSON": used by browser-flow init and success redirects.
pub fn accepts_json(accept: Option<&str>) -> bool {
    negotiate(accept, &["text/html", "application/json"]) == Some("application/json")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn browsers_get_html_and_apps_get_json() {
        let browser = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8";
        assert!(!accepts_json(Some(browser)));
        assert!(!wants_json(Some(browser), None));
        assert!(!accepts_json(None));
        assert!(!accepts_json(Some("*/*")));
        assert!(accepts_json(Some("application/json")));
        // axios' default
        assert!(accepts_json(Some("application/json, text/plain, */*")));
        assert!(wants_json(Some("application/json, text/plain, */*"), None));
        assert!(wants_json(None, Some("application/json")));
        assert!(!wants_json(None, Some("application/json; charset=utf-8")));
        assert!(!accepts_json(Some("application/json;q=0, text/html")));
    }
}
