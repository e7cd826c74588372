use crate::helpers::browser::{csrf_token, message_ids, node_value, Browser};
use crate::helpers::{spawn_app, TestApp};
use serde_json::{json, Value};

async fn address(app: &TestApp, identity_id: &str) -> Value {
    let (_, identity) = app
        .get_json(&app.admin_url(&format!("/admin/identities/{identity_id}")))
        .await;
    identity["verifiable_addresses"][0].clone()
}

#[tokio::test]
async fn registration_sends_a_code_and_the_code_verifies_the_address() {
    let app = spawn_app().await;
    // Arrange: registering queues a verification mail and points at its flow.
    let (status, body) = app
        .register_native("verify@example.com", "correct horse battery")
        .await;
    assert_eq!(status, 200);
    let identity_id = body["identity"]["id"].as_str().unwrap();
    let next = body["continue_with"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["action"] == "show_verification_ui")
        .unwrap();
    assert_eq!(next["flow"]["verifiable_address"], "verify@example.com");
    let flow_id = next["flow"]["id"].as_str().unwrap();
    let message = app.last_message_to("verify@example.com").await;
    assert_eq!(message["template_type"], "verification_code_valid");
    assert_eq!(
        message["status"], "queued",
        "no SMTP configured: queued, never `sent`"
    );
    assert_eq!(address(&app, identity_id).await["status"], "sent");
    let code = app.code_sent_to("verify@example.com").await;
    assert!(message["body"].as_str().unwrap().contains(&format!(
        "/self-service/verification?flow={flow_id}&code={code}"
    )));

    // Act: a wrong code, then the right one.
    let url = app.public_url(&format!("/self-service/verification?flow={flow_id}"));
    let wrong = if code == "000000" { "111111" } else { "000000" };
    let (status, flow) = app
        .post_json(&url, &json!({"method": "code", "code": wrong}))
        .await;
    assert_eq!(status, 200);
    assert_eq!(message_ids(&flow), vec![4070006]);
    let (status, flow) = app
        .post_json(&url, &json!({"method": "code", "code": code}))
        .await;

    // Assert
    assert_eq!(status, 200);
    assert_eq!(flow["state"], "passed_challenge");
    assert_eq!(message_ids(&flow), vec![1080002]);
    assert_eq!(flow["ui"]["method"], "GET");
    assert_eq!(flow["ui"]["nodes"][0]["attributes"]["node_type"], "a");
    let addr = address(&app, identity_id).await;
    assert_eq!(addr["verified"], true);
    assert_eq!(addr["status"], "completed");
    assert!(addr["verified_at"].is_string());
    // The code is single use.
    let (_, again) = app
        .post_json(&url, &json!({"method": "code", "code": code}))
        .await;
    assert_eq!(message_ids(&again), vec![4070002]);
}

#[tokio::test]
async fn unknown_addresses_get_the_same_answer_but_a_different_mail() {
    let app = spawn_app().await;
    app.registered_token("known@example.com", "correct horse battery")
        .await;
    let mut answers = Vec::new();
    for email in ["known@example.com", "nobody@example.com"] {
        let (_, flow) = app
            .get_json(&app.public_url("/self-service/verification/api"))
            .await;
        let url = flow["ui"]["action"].as_str().unwrap().to_owned();
        let (status, sent) = app
            .post_json(&url, &json!({"method": "code", "email": email}))
            .await;
        assert_eq!(status, 200);
        assert_eq!(sent["state"], "sent_email");
        assert_eq!(message_ids(&sent), vec![1080003]);
        let mut shape = sent.clone();
        for k in ["id", "request_url", "issued_at", "expires_at"] {
            shape[k] = json!(null);
        }
        shape["ui"]["action"] = json!(null);
        let nodes = shape["ui"]["nodes"].as_array_mut().unwrap();
        nodes.retain(|n| n["attributes"]["name"] != "email");
        answers.push(shape);
    }
    assert_eq!(answers[0], answers[1]);
    assert_eq!(
        app.last_message_to("known@example.com").await["template_type"],
        "verification_code_valid"
    );
    assert_eq!(
        app.last_message_to("nobody@example.com").await["template_type"],
        "verification_code_invalid"
    );
}

#[tokio::test]
async fn wrong_codes_are_bounded_per_flow() {
    let app = spawn_app().await;
    let (_, body) = app
        .register_native("bound@example.com", "correct horse battery")
        .await;
    let flow_id = body["continue_with"][1]["flow"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let code = app.code_sent_to("bound@example.com").await;
    let url = app.public_url(&format!("/self-service/verification?flow={flow_id}"));
    let wrong = if code == "000000" { "111111" } else { "000000" };
    for _ in 0..5 {
        let (_, flow) = app.post_json(&url, &json!({"code": wrong})).await;
        assert_eq!(message_ids(&flow), vec![4070006]);
    }
    let (_, flow) = app.post_json(&url, &json!({"code": code})).await;
    assert_eq!(
        message_ids(&flow),
        vec![4000001],
        "sixth attempt refused even with the right code"
    );
    // A new code (resend) works.
    let (_, flow) = app
        .post_json(
            &url,
            &json!({"method": "code", "email": "bound@example.com"}),
        )
        .await;
    assert_eq!(flow["state"], "sent_email");
    let fresh = app.code_sent_to("bound@example.com").await;
    let (_, flow) = app.post_json(&url, &json!({"code": fresh})).await;
    assert_eq!(flow["state"], "passed_challenge");
}

#[tokio::test]
async fn codes_expire_with_the_clock() {
    let app = spawn_app().await;
    let (_, body) = app
        .register_native("late@example.com", "correct horse battery")
        .await;
    let flow_id = body["continue_with"][1]["flow"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let code = app.code_sent_to("late@example.com").await;
    app.clock.advance(time::Duration::minutes(61));
    let url = app.public_url(&format!("/self-service/verification?flow={flow_id}"));
    let resp = app
        .http
        .post(&url)
        .json(&json!({"code": code}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 410, "the flow expired with its code");
    let body: Value = resp.json().await.unwrap();
    let replacement = body["use_flow_id"].as_str().unwrap();
    let (_, flow) = app
        .get_json(&app.public_url(&format!(
            "/self-service/verification/flows?id={replacement}"
        )))
        .await;
    assert_eq!(message_ids(&flow), vec![4070005]);
}

#[tokio::test]
async fn a_browser_verifies_through_the_link_and_the_form() {
    let app = spawn_app().await;
    let browser = Browser::new();
    let flow: Value = browser
        .http
        .get(app.public_url("/self-service/registration/browser"))
        .header("Accept", "application/json")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    // A plain form post: registered, then sent on to the verification page.
    let resp = browser
        .http
        .post(flow["ui"]["action"].as_str().unwrap())
        .form(&[
            ("csrf_token", csrf_token(&flow).as_str()),
            ("traits.email", "link@example.com"),
            ("password", "correct horse battery"),
            ("method", "password"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 303);
    let loc = resp.headers()["location"].to_str().unwrap().to_owned();
    assert!(
        loc.starts_with(&format!("{}/ui/verification?flow=", app.public)),
        "{loc}"
    );

    // The mail's link opens the form with the code in the URL; nothing is verified yet.
    let body = app.last_message_to("link@example.com").await["body"]
        .as_str()
        .unwrap()
        .to_owned();
    let link = body
        .lines()
        .find(|l| l.contains("/self-service/verification?flow="))
        .unwrap()
        .trim()
        .to_owned();
    let resp = browser.http.get(&link).send().await.unwrap();
    assert_eq!(resp.status(), 303);
    let ui = resp.headers()["location"].to_str().unwrap().to_owned();
    let code = reqwest::Url::parse(&ui)
        .unwrap()
        .query_pairs()
        .find(|(k, _)| k == "code")
        .map(|(_, v)| v.into_owned())
        .unwrap();
    assert_eq!(code.len(), 6);

    let flow_id = crate::helpers::browser::flow_id_from_location(&ui);
    let flow: Value = browser
        .http
        .get(app.public_url(&format!("/self-service/verification/flows?id={flow_id}")))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(flow["state"], "sent_email");
    assert!(
        node_value(&flow, "code").is_none(),
        "the code is not stored in the flow"
    );

    let resp = browser
        .http
        .post(flow["ui"]["action"].as_str().unwrap())
        .form(&[("code", code.as_str()), ("method", "code")])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 303);
    let flow: Value = browser
        .http
        .get(app.public_url(&format!("/self-service/verification/flows?id={flow_id}")))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(flow["state"], "passed_challenge");
}
