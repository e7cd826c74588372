//! SMTP delivery with lettre. `--smtp-url`: `smtp://user:pass@host:port` uses
//! STARTTLS when the server offers it (`?disable_starttls=true` never does),
//! `smtps://` is implicit TLS, `?skip_ssl_verify=true` accepts self-signed
//! certificates (development only).

use lettre::message::{Mailbox, MultiPart};
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Tls, TlsParameters};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use std::time::Duration;
use url::Url;

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Security {
    /// STARTTLS when offered.
    Opportunistic,
    /// Plain text only.
    None,
    /// TLS from the first byte (`smtps://`).
    Implicit,
}

/// Parsed `--smtp-url` and `--smtp-from`.
#[derive(Clone)]
pub struct SmtpSettings {
    pub host: String,
    pub port: u16,
    pub security: Security,
    pub skip_verify: bool,
    credentials: Option<(String, String)>,
    pub from: Mailbox,
}

impl std::fmt::Debug for SmtpSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SmtpSettings")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("security", &self.security)
            .field(
                "credentials",
                &self.credentials.as_ref().map(|_| "<redacted>"),
            )
            .finish()
    }
}

impl SmtpSettings {
    pub fn parse(url: &Url, from: &str) -> Result<SmtpSettings, String> {
        let (security, default_port) = match url.scheme() {
            "smtp" => (Security::Opportunistic, 25),
            "smtps" => (Security::Implicit, 465),
            other => {
                return Err(format!(
                    "--smtp-url: scheme must be smtp or smtps, not `{other}`"
                ))
            }
        };
        let host = url
            .host_str()
            .filter(|h| !h.is_empty())
            .ok_or("--smtp-url: a host is required")?
            .to_owned();
        let flag = |name: &str| url.query_pairs().any(|(k, v)| k == name && v == "true");
        let security = if security == Security::Opportunistic && flag("disable_starttls") {
            Security::None
        } else {
            security
        };
        let decode = |s: &str| {
            percent_decode(s).map_err(|_| {
                "--smtp-url: the user or password is not valid percent-encoding".to_owned()
            })
        };
        let credentials = if url.username().is_empty() {
            None
        } else {
            Some((
                decode(url.username())?,
                decode(url.password().unwrap_or_default())?,
            ))
        };
        let from: Mailbox = from.parse().map_err(|e| {
            format!("--smtp-from: `{from}` is not an address like `Name <a@b.c>`: {e}")
        })?;
        Ok(SmtpSettings {
            host,
            port: url.port().unwrap_or(default_port),
            security,
            skip_verify: flag("skip_ssl_verify"),
            credentials,
            from,
        })
    }

    fn transport(&self) -> Result<AsyncSmtpTransport<Tokio1Executor>, String> {
        let params = || {
            TlsParameters::builder(self.host.clone())
                .dangerous_accept_invalid_certs(self.skip_verify)
                .dangerous_accept_invalid_hostnames(self.skip_verify)
                .build_rustls()
                .map_err(|e| format!("TLS setup failed: {e}"))
        };
        let tls = match self.security {
            Security::None => Tls::None,
            Security::Opportunistic => Tls::Opportunistic(params()?),
            Security::Implicit => Tls::Wrapper(params()?),
        };
        let mut builder =
            AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(self.host.clone())
                .port(self.port)
                .tls(tls)
                .timeout(Some(Duration::from_secs(15)));
        if let Some((user, pass)) = &self.credentials {
            builder = builder.credentials(Credentials::new(user.clone(), pass.clone()));
        }
        Ok(builder.build())
    }

    /// Delivers one message; the error text is recorded on the message.
    pub async fn send(
        &self,
        to: &str,
        subject: &str,
        text: &str,
        html: &str,
    ) -> Result<(), String> {
        let to: Mailbox = to.parse().map_err(|e| format!("invalid recipient: {e}"))?;
        let email = Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(subject)
            .multipart(MultiPart::alternative_plain_html(
                text.to_owned(),
                html.to_owned(),
            ))
            .map_err(|e| format!("cannot build the message: {e}"))?;
        self.transport()?
            .send(email)
            .await
            .map(|_| ())
            .map_err(|e| format!("SMTP delivery to {}:{} failed: {e}", self.host, self.port))
    }
}

fn percent_decode(s: &str) -> Result<String, std::string::FromUtf8Error> {
    let mut out = Vec::with_capacity(s.len());
    let bytes = s.as_bytes();
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        let hex = bytes
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok());
        match (b, hex.and_then(|h| u8::from_str_radix(h, 16).ok())) {
            (b'%', Some(v)) => {
                out.push(v);
                i += 3;
            }
            _ => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(url: &str) -> Result<SmtpSettings, String> {
        SmtpSettings::parse(&Url::parse(url).unwrap(), "Postern <no-reply@example.com>")
    }

    #[test]
    fn urls_select_security_port_and_credentials() {
        let s = parse("smtp://user%40x:p%3Ass@mail.example.com:587").unwrap();
        assert_eq!(
            (s.host.as_str(), s.port, s.security.clone()),
            ("mail.example.com", 587, Security::Opportunistic)
        );
        assert_eq!(s.credentials, Some(("user@x".into(), "p:ss".into())));
        assert!(!format!("{s:?}").contains("p:ss"));
        let s = parse("smtps://mail.example.com/?skip_ssl_verify=true").unwrap();
        assert_eq!(
            (s.port, s.security.clone(), s.skip_verify),
            (465, Security::Implicit, true)
        );
        let s = parse("smtp://localhost:1025/?disable_starttls=true").unwrap();
        assert_eq!(s.security, Security::None);
        assert!(parse("http://mail.example.com").is_err());
        assert!(SmtpSettings::parse(&Url::parse("smtp://h").unwrap(), "not an address").is_err());
    }
}
