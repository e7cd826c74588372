//! The courier: messages are rendered and written to the outbox in the same
//! transaction as the change that causes them (so a crash never loses or
//! duplicates a code), then delivered by a background worker over SMTP. Without
//! `--smtp-url` they stay queued — visibly not delivered — and are read through
//! the admin API (`GET /admin/courier/messages`).

pub mod smtp;
pub mod templates;
pub mod worker;

use crate::secret_box::SecretBox;
use crate::store::{courier as outbox, StoreError};
use serde_json::Value;
use smtp::SmtpSettings;
use std::sync::Arc;
use std::time::Duration;
use templates::{Rendered, TemplateType, Templates};
use time::OffsetDateTime;
use tokio::sync::Notify;
use uuid::Uuid;

pub struct Courier {
    pub templates: Templates,
    /// Seals mail bodies (they carry codes) before they are stored.
    pub secrets: SecretBox,
    pub smtp: Option<SmtpSettings>,
    /// Delivery attempts before a message is `abandoned`.
    pub max_attempts: u32,
    pub poll_interval: Duration,
    wake: Arc<Notify>,
}

impl std::fmt::Debug for Courier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Courier").field("smtp", &self.smtp).finish()
    }
}

/// A message written to the outbox, for logging after the commit.
#[derive(Clone, Debug)]
pub struct Queued {
    pub id: Uuid,
    pub recipient: String,
    pub template: TemplateType,
}

/// A message ready to be written inside the caller's transaction; its bodies are
/// already sealed.
#[derive(Clone, Debug)]
pub struct Outgoing {
    pub id: Uuid,
    pub recipient: String,
    pub template: TemplateType,
    pub rendered: Rendered,
}

/// A stored message with its bodies opened.
pub struct Opened {
    pub body: String,
    pub html_body: String,
}

impl Outgoing {
    /// Writes the message to the outbox (call inside the caller's write closure).
    pub fn write(
        &self,
        conn: &rusqlite::Connection,
        now: OffsetDateTime,
    ) -> Result<Queued, StoreError> {
        outbox::insert(
            conn,
            &outbox::NewMessage {
                id: self.id,
                recipient: &self.recipient,
                subject: &self.rendered.subject,
                body: &self.rendered.body,
                html_body: &self.rendered.html_body,
                template_type: self.template.as_str(),
            },
            now,
        )?;
        Ok(Queued {
            id: self.id,
            recipient: self.recipient.clone(),
            template: self.template,
        })
    }
}

impl Courier {
    pub fn new(
        templates: Templates,
        secrets: SecretBox,
        smtp: Option<SmtpSettings>,
        max_attempts: u32,
        poll_interval: Duration,
    ) -> Self {
        Courier {
            templates,
            secrets,
            smtp,
            max_attempts: max_attempts.max(1),
            poll_interval,
            wake: Arc::new(Notify::new()),
        }
    }

    /// Renders a template; a failing template (a bad override) is an internal error.
    pub fn compose(
        &self,
        template: TemplateType,
        recipient: &str,
        data: &Value,
    ) -> anyhow::Result<Outgoing> {
        let mut rendered = self
            .templates
            .render(template, data)
            .map_err(|e| anyhow::anyhow!("template {} failed to render: {e}", template.as_str()))?;
        rendered.body = self.secrets.seal(&rendered.body);
        rendered.html_body = self.secrets.seal(&rendered.html_body);
        Ok(Outgoing {
            id: Uuid::now_v7(),
            recipient: recipient.to_owned(),
            template,
            rendered,
        })
    }

    /// After the transaction that queued `messages` committed: log each one (never
    /// its content, which carries codes) and wake the delivery worker.
    pub fn queued(&self, messages: &[Queued]) {
        for m in messages {
            if self.smtp.is_some() {
                tracing::info!(message_id = %m.id, recipient = %m.recipient, template = m.template.as_str(), "message queued for delivery");
            } else {
                tracing::info!(
                    message_id = %m.id,
                    recipient = %m.recipient,
                    template = m.template.as_str(),
                    "message queued, not delivered: no --smtp-url is set; read it with GET /admin/courier/messages"
                );
            }
        }
        if !messages.is_empty() {
            self.wake.notify_one();
        }
    }

    /// Opens a stored message's bodies; a body sealed under another key (a lost
    /// key file) reads as `None`.
    pub fn open(&self, m: &outbox::StoredMessage) -> Option<Opened> {
        Some(Opened {
            body: self.secrets.open(&m.body)?,
            html_body: self.secrets.open(&m.html_body)?,
        })
    }

    pub(crate) fn wake_handle(&self) -> Arc<Notify> {
        self.wake.clone()
    }
}
