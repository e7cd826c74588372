//! The built-in self-service pages (`/ui/*`): server-rendered, no JavaScript,
//! generic over any identity schema. Templates are compiled into the binary and
//! HTML-escaped everywhere; a strict Content-Security-Policy allows nothing but
//! our own stylesheet and form posts.

pub mod catalogue;
pub mod handlers;
pub mod view;

use minijinja::Environment;
use serde::Serialize;

pub const STYLE: &str = include_str!("style.css");

pub struct Pages {
    env: Environment<'static>,
}

impl std::fmt::Debug for Pages {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Pages")
    }
}

impl Pages {
    pub fn new() -> Result<Pages, minijinja::Error> {
        let mut env = Environment::new();
        for (name, source) in [
            ("base.html", include_str!("templates/base.html")),
            ("macros.html", include_str!("templates/macros.html")),
            ("flow.html", include_str!("templates/flow.html")),
            ("welcome.html", include_str!("templates/welcome.html")),
            ("error.html", include_str!("templates/error.html")),
            ("outbox.html", include_str!("templates/outbox.html")),
        ] {
            env.add_template(name, source)?;
        }
        Ok(Pages { env })
    }

    pub fn render(&self, name: &str, ctx: impl Serialize) -> Result<String, minijinja::Error> {
        self.env.get_template(name)?.render(ctx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn every_template_parses_and_escapes_html() {
        let pages = Pages::new().unwrap();
        let html = pages
            .render(
                "error.html",
                json!({"title": "t", "brand": "b", "css_url": "/s.css", "heading": "<script>x</script>",
                       "reason": "a & b", "login_url": "/l", "home_url": "/h"}),
            )
            .unwrap();
        assert!(
            html.contains("&lt;script&gt;x&lt;&#x2f;script&gt;"),
            "{html}"
        );
        assert!(html.contains("a &amp; b"));
        assert!(!html.contains("<script>"));
    }
}
