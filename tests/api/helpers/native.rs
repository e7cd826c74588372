//! Native-app helpers: API flows over plain JSON, sessions by token.

use super::TestApp;
use serde_json::{json, Value};

impl TestApp {
    pub async fn get_json(&self, url: &str) -> (u16, Value) {
        let resp = self.http.get(url).send().await.unwrap();
        let status = resp.status().as_u16();
        (status, resp.json().await.unwrap_or(Value::Null))
    }

    pub async fn post_json(&self, url: &str, body: &Value) -> (u16, Value) {
        let resp = self.http.post(url).json(body).send().await.unwrap();
        let status = resp.status().as_u16();
        (status, resp.json().await.unwrap_or(Value::Null))
    }

    /// `createNativeRegistrationFlow`.
    pub async fn create_native_registration_flow(&self) -> Value {
        let (status, flow) = self
            .get_json(&self.public_url("/self-service/registration/api"))
            .await;
        assert_eq!(status, 200, "{flow}");
        flow
    }

    /// `createNativeLoginFlow`.
    pub async fn create_native_login_flow(&self) -> Value {
        let (status, flow) = self
            .get_json(&self.public_url("/self-service/login/api"))
            .await;
        assert_eq!(status, 200, "{flow}");
        flow
    }

    /// Registers through a native flow; returns (status, body).
    pub async fn register_native(&self, email: &str, password: &str) -> (u16, Value) {
        let flow = self.create_native_registration_flow().await;
        let url = self.public_url(&format!(
            "/self-service/registration?flow={}",
            flow["id"].as_str().unwrap()
        ));
        self.post_json(
            &url,
            &json!({"method": "password", "traits": {"email": email}, "password": password}),
        )
        .await
    }

    /// Logs in through a native flow; returns (status, body).
    pub async fn login_native(&self, identifier: &str, password: &str) -> (u16, Value) {
        let flow = self.create_native_login_flow().await;
        let url = self.public_url(&format!(
            "/self-service/login?flow={}",
            flow["id"].as_str().unwrap()
        ));
        self.post_json(
            &url,
            &json!({"method": "password", "identifier": identifier, "password": password}),
        )
        .await
    }

    /// Registers and returns the session token.
    pub async fn registered_token(&self, email: &str, password: &str) -> String {
        let (status, body) = self.register_native(email, password).await;
        assert_eq!(status, 200, "{body}");
        body["session_token"].as_str().unwrap().to_owned()
    }

    /// Registers and returns the session token and the identity's id.
    pub async fn registered(&self, email: &str, password: &str) -> (String, String) {
        let (status, body) = self.register_native(email, password).await;
        assert_eq!(status, 200, "{body}");
        let token = body["session_token"].as_str().unwrap().to_owned();
        (token, body["identity"]["id"].as_str().unwrap().to_owned())
    }

    /// A native recovery by code for `email`, through to the passed challenge:
    /// (the flow's action URL, the final answer).
    pub async fn recover_native(&self, email: &str) -> (String, Value) {
        let (_, flow) = self
            .get_json(&self.public_url("/self-service/recovery/api"))
            .await;
        let action = flow["ui"]["action"].as_str().unwrap().to_owned();
        self.post_json(&action, &json!({"method": "code", "email": email}))
            .await;
        let code = self.code_sent_to(email).await;
        let (status, done) = self
            .post_json(&action, &json!({"method": "code", "code": code}))
            .await;
        assert_eq!(status, 200, "{done}");
        (action, done)
    }

    /// `toSession` with a token: status.
    pub async fn whoami_status(&self, token: &str) -> u16 {
        self.whoami(token).await.0
    }

    /// Whether a check of `token` would be answered from the session-check
    /// cache now (the whoami handler's own test, `get_fresh`).
    pub fn whoami_cached(&self, token: &str) -> bool {
        let digest = postern::crypto::digest(token.as_bytes());
        self.state
            .whoami_cache
            .get_fresh(&digest, self.clock.now(), &self.state.store)
            .is_some()
    }

    /// `DELETE /self-service/logout/api` with the token; the status.
    pub async fn logout_native(&self, token: &str) -> u16 {
        self.http
            .delete(self.public_url("/self-service/logout/api"))
            .json(&serde_json::json!({ "session_token": token }))
            .send()
            .await
            .unwrap()
            .status()
            .as_u16()
    }

    /// `GET /sessions/whoami` by token: status and body (`null` if none).
    pub async fn whoami(&self, token: &str) -> (u16, Value) {
        let resp = self
            .http
            .get(self.public_url("/sessions/whoami"))
            .header("X-Session-Token", token)
            .send()
            .await
            .unwrap();
        let status = resp.status().as_u16();
        (status, resp.json().await.unwrap_or(Value::Null))
    }
}
