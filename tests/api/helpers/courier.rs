//! Reading mail the way CI does: through `GET /admin/courier/messages`.

use super::TestApp;
use serde_json::Value;

impl TestApp {
    /// Messages to `recipient`, newest first.
    pub async fn messages_to(&self, recipient: &str) -> Vec<Value> {
        let url = self.admin_url("/admin/courier/messages");
        let resp = self
            .http
            .get(url)
            .query(&[("recipient", recipient)])
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 200);
        resp.json().await.unwrap()
    }

    /// The newest message to `recipient`, which must exist.
    pub async fn last_message_to(&self, recipient: &str) -> Value {
        self.messages_to(recipient)
            .await
            .into_iter()
            .next()
            .unwrap_or_else(|| panic!("no message to {recipient}"))
    }

    /// The six-digit code in the newest message to `recipient`.
    pub async fn code_sent_to(&self, recipient: &str) -> String {
        let m = self.last_message_to(recipient).await;
        six_digits(m["body"].as_str().unwrap()).unwrap_or_else(|| panic!("no code in {m}"))
    }
}

/// The first run of exactly six digits in `text`.
pub fn six_digits(text: &str) -> Option<String> {
    let chars: Vec<char> = text.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        if chars[i].is_ascii_digit() {
            let start = i;
            while i < chars.len() && chars[i].is_ascii_digit() {
                i += 1;
            }
            if i - start == 6 {
                return Some(chars[start..i].iter().collect());
            }
        } else {
            i += 1;
        }
    }
    None
}
