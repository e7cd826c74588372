//! Message templates (minijinja): built in, each file overridable from
//! `--courier-templates <DIR>` with the same relative path, e.g.
//! `<DIR>/recovery_code/valid/email.body.html`. HTML bodies are auto-escaped.

use minijinja::Environment;
use serde_json::Value;
use std::path::Path;

/// Kratos's template types that Postern sends.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TemplateType {
    RecoveryCodeValid,
    RecoveryCodeInvalid,
    VerificationCodeValid,
    VerificationCodeInvalid,
}

impl TemplateType {
    pub const ALL: [TemplateType; 4] = [
        TemplateType::RecoveryCodeValid,
        TemplateType::RecoveryCodeInvalid,
        TemplateType::VerificationCodeValid,
        TemplateType::VerificationCodeInvalid,
    ];

    /// The `template_type` of the spec's `message` schema.
    pub fn as_str(self) -> &'static str {
        match self {
            TemplateType::RecoveryCodeValid => "recovery_code_valid",
            TemplateType::RecoveryCodeInvalid => "recovery_code_invalid",
            TemplateType::VerificationCodeValid => "verification_code_valid",
            TemplateType::VerificationCodeInvalid => "verification_code_invalid",
        }
    }

    fn dir(self) -> &'static str {
        match self {
            TemplateType::RecoveryCodeValid => "recovery_code/valid",
            TemplateType::RecoveryCodeInvalid => "recovery_code/invalid",
            TemplateType::VerificationCodeValid => "verification_code/valid",
            TemplateType::VerificationCodeInvalid => "verification_code/invalid",
        }
    }
}

const PARTS: [&str; 3] = ["email.subject.txt", "email.body.txt", "email.body.html"];

fn builtin(path: &str) -> Option<&'static str> {
    Some(match path {
        "recovery_code/valid/email.subject.txt" => {
            include_str!("templates/recovery_code/valid/email.subject.txt")
        }
        "recovery_code/valid/email.body.txt" => {
            include_str!("templates/recovery_code/valid/email.body.txt")
        }
        "recovery_code/valid/email.body.html" => {
            include_str!("templates/recovery_code/valid/email.body.html")
        }
        "recovery_code/invalid/email.subject.txt" => {
            include_str!("templates/recovery_code/invalid/email.subject.txt")
        }
        "recovery_code/invalid/email.body.txt" => {
            include_str!("templates/recovery_code/invalid/email.body.txt")
        }
        "recovery_code/invalid/email.body.html" => {
            include_str!("templates/recovery_code/invalid/email.body.html")
        }
        "verification_code/valid/email.subject.txt" => {
            include_str!("templates/verification_code/valid/email.subject.txt")
        }
        "verification_code/valid/email.body.txt" => {
            include_str!("templates/verification_code/valid/email.body.txt")
        }
        "verification_code/valid/email.body.html" => {
            include_str!("templates/verification_code/valid/email.body.html")
        }
        "verification_code/invalid/email.subject.txt" => {
            include_str!("templates/verification_code/invalid/email.subject.txt")
        }
        "verification_code/invalid/email.body.txt" => {
            include_str!("templates/verification_code/invalid/email.body.txt")
        }
        "verification_code/invalid/email.body.html" => {
            include_str!("templates/verification_code/invalid/email.body.html")
        }
        _ => return None,
    })
}

/// A rendered message.
#[derive(Clone, Debug)]
pub struct Rendered {
    pub subject: String,
    pub body: String,
    pub html_body: String,
}

pub struct Templates {
    env: Environment<'static>,
}

impl std::fmt::Debug for Templates {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Templates")
    }
}

impl Templates {
    /// The built-in templates, each replaced by `<dir>/<path>` when that file
    /// exists. A template that does not parse is a start-up error naming it.
    pub fn load(dir: Option<&Path>) -> anyhow::Result<Templates> {
        let mut env = Environment::new();
        for t in TemplateType::ALL {
            for part in PARTS {
                let name = format!("{}/{part}", t.dir());
                let source = match dir.map(|d| d.join(&name)).filter(|p| p.is_file()) {
                    Some(path) => std::fs::read_to_string(&path).map_err(|e| {
                        anyhow::anyhow!("--courier-templates: cannot read {}: {e}", path.display())
                    })?,
                    None => builtin(&name)
                        .ok_or_else(|| anyhow::anyhow!("missing built-in template {name}"))?
                        .to_owned(),
                };
                env.add_template_owned(name.clone(), source).map_err(|e| {
                    anyhow::anyhow!("--courier-templates: template {name} does not parse: {e}")
                })?;
            }
        }
        Ok(Templates { env })
    }

    pub fn render(&self, t: TemplateType, data: &Value) -> Result<Rendered, minijinja::Error> {
        let part = |p: &str| -> Result<String, minijinja::Error> {
            self.env
                .get_template(&format!("{}/{p}", t.dir()))?
                .render(data)
        };
        Ok(Rendered {
            subject: part("email.subject.txt")?.trim().to_owned(),
            body: part("email.body.txt")?,
            html_body: part("email.body.html")?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn builtins_render_with_their_data_and_html_is_escaped() {
        let t = Templates::load(None).unwrap();
        let r = t
            .render(
                TemplateType::VerificationCodeValid,
                &json!({"code": "123456", "verification_url": "http://x/?a=1&b=<2>", "expires_in_minutes": 60}),
            )
            .unwrap();
        assert!(r.body.contains("123456") && r.body.contains("http://x/?a=1&b=<2>"));
        assert!(r.html_body.contains("&amp;b=&lt;2&gt;"), "{}", r.html_body);
        assert_eq!(r.subject, "Please verify your email address");
    }

    #[test]
    fn a_directory_overrides_single_files_and_bad_templates_fail_loudly() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("recovery_code/valid");
        std::fs::create_dir_all(&p).unwrap();
        std::fs::write(p.join("email.subject.txt"), "Your code: {{ code }}").unwrap();
        let t = Templates::load(Some(dir.path())).unwrap();
        let r = t
            .render(
                TemplateType::RecoveryCodeValid,
                &json!({"code": "42", "expires_in_minutes": 5}),
            )
            .unwrap();
        assert_eq!(r.subject, "Your code: 42");
        assert!(r.body.contains("42"), "other parts stay built in");

        std::fs::write(p.join("email.body.txt"), "{% if %}").unwrap();
        let e = Templates::load(Some(dir.path())).unwrap_err().to_string();
        assert!(e.contains("recovery_code/valid/email.body.txt"), "{e}");
    }
}
