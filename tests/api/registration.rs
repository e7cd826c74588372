use crate::helpers::browser::{
    csrf_token, flow_id_from_location, location, message_ids, node_message_ids, node_value, Browser,
};
use crate::helpers::{spawn_app, spawn_app_with};
use serde_json::{json, Value};

#[tokio::test]
async fn native_registration_returns_identity_session_and_token() {
    let app = spawn_app().await;
    let flow = app.create_native_registration_flow().await;
    assert_eq!(flow["type"], "api");
    assert_eq!(flow["state"], "choose_method");
    let names: Vec<&str> = flow["ui"]["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["attributes"]["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        [
            "csrf_token",
            "traits.email",
            "password",
            "traits.name.first",
            "traits.name.last",
            "method"
        ]
    );
    assert_eq!(node_value(&flow, "csrf_token"), Some(json!("")));

    let (status, body) = app
        .register_native("new@example.com", "correct horse battery")
        .await;
    assert_eq!(status, 200, "{body}");
    let token = body["session_token"].as_str().unwrap();
    assert!(token.starts_with("ory_st_"));
    assert_eq!(body["identity"]["traits"]["email"], "new@example.com");
    assert!(
        body["identity"].get("credentials").is_none(),
        "public view only"
    );
    assert_eq!(body["session"]["identity"]["id"], body["identity"]["id"]);
    assert_eq!(body["continue_with"][0]["action"], "set_ory_session_token");
    assert_eq!(body["continue_with"][0]["ory_session_token"], token);
    assert_eq!(app.whoami_status(token).await, 200);
}

#[tokio::test]
async fn validation_errors_come_back_on_their_nodes_with_kratos_ids() {
    let app = spawn_app().await;
    let cases = [
        (
            json!({"method": "password", "traits": {}, "password": "correct horse battery"}),
            "traits.email",
            4000002,
        ),
        (
            json!({"method": "password", "traits": {"email": "nope"}, "password": "correct horse battery"}),
            "traits.email",
            4000040,
        ),
        (
            json!({"method": "password", "traits": {"email": "a@b.co"}}),
            "password",
            4000002,
        ),
        (
            json!({"method": "password", "traits": {"email": "a@b.co"}, "password": "short"}),
            "password",
            4000032,
        ),
        (
            json!({"method": "password", "traits": {"email": "a@b.co"}, "password": "password123"}),
            "password",
            4000034,
        ),
        (
            json!({"method": "password", "traits": {"email": "jane.doe@example.com"}, "password": "jane.doe@example"}),
            "password",
            4000031,
        ),
    ];
    for (body, node, id) in cases {
        let flow = app.create_native_registration_flow().await;
        let url = app.public_url(&format!(
            "/self-service/registration?flow={}",
            flow["id"].as_str().unwrap()
        ));
        let (status, flow) = app.post_json(&url, &body).await;
        assert_eq!(status, 400, "{body} → {flow}");
        assert_eq!(node_message_ids(&flow, node), vec![id], "{body} → {flow}");
        assert!(
            node_value(&flow, "password").is_none(),
            "password is never echoed"
        );
    }
    let flow = app.create_native_registration_flow().await;
    let url = app.public_url(&format!(
        "/self-service/registration?flow={}",
        flow["id"].as_str().unwrap()
    ));
    let (status, flow) = app
        .post_json(&url, &json!({"method": "carrier-pigeon"}))
        .await;
    assert_eq!(status, 400);
    assert_eq!(message_ids(&flow), vec![4010003]);
    assert_eq!(app.count_rows("identities"), 0);
}

#[tokio::test]
async fn a_duplicate_email_is_4000007_and_concurrent_duplicates_yield_one_identity() {
    let app = spawn_app().await;
    app.registered_token("taken@example.com", "correct horse battery")
        .await;
    let (status, body) = app
        .register_native("TAKEN@example.com", "another good passphrase")
        .await;
    assert_eq!(status, 400);
    assert_eq!(message_ids(&body), vec![4000007]);
    assert_eq!(
        node_value(&body, "traits.email"),
        Some(json!("TAKEN@example.com"))
    );

    let attempts = (0..8).map(|i| {
        let app = &app;
        async move {
            app.register_native("race@example.com", &format!("race passphrase {i}"))
                .await
        }
    });
    let results = futures_util::future::join_all(attempts).await;
    let ok = results.iter().filter(|(s, _)| *s == 200).count();
    assert_eq!(ok, 1, "{results:?}");
    assert!(results
        .iter()
        .filter(|(s, _)| *s != 200)
        .all(|(_, b)| message_ids(b) == vec![4000007]));
    let conn = rusqlite::Connection::open(&app.db_path).unwrap();
    let n: i64 = conn
        .query_row("SELECT count(*) FROM identity_credential_identifiers WHERE identifier = 'race@example.com'", [], |r| r.get(0))
        .unwrap();
    assert_eq!(n, 1);
}

#[tokio::test]
async fn browser_registration_with_a_form_redirects_and_sets_the_session_cookie() {
    let app = spawn_app().await;
    let browser = Browser::new();
    // Arrange: start the flow as a plain browser (no JSON Accept) → 303 to the UI.
    let resp = browser
        .http
        .get(app.public_url("/self-service/registration/browser"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 303);
    let loc = location(&resp);
    assert!(
        loc.starts_with(&format!("{}/ui/registration?flow=", app.public)),
        "{loc}"
    );
    let id = flow_id_from_location(&loc);
    let flow: Value = browser
        .http
        .get(app.public_url(&format!("/self-service/registration/flows?id={id}")))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let csrf = csrf_token(&flow);
    assert_eq!(csrf.len(), 88);

    // Act: a bad submit goes back to the form with the values kept…
    let action = flow["ui"]["action"].as_str().unwrap();
    let resp = browser
        .http
        .post(action)
        .form(&[
            ("csrf_token", csrf.as_str()),
            ("traits.email", "form@example.com"),
            ("password", "short"),
            ("method", "password"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 303);
    assert_eq!(flow_id_from_location(&location(&resp)), id);
    let flow: Value = browser
        .http
        .get(app.public_url(&format!("/self-service/registration/flows?id={id}")))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        node_value(&flow, "traits.email"),
        Some(json!("form@example.com"))
    );
    assert_eq!(node_message_ids(&flow, "password"), vec![4000032]);

    // …and a good one registers, sets the cookie and sends the browser on to verify its email.
    let resp = browser
        .http
        .post(action)
        .form(&[
            ("csrf_token", csrf_token(&flow).as_str()),
            ("traits.email", "form@example.com"),
            ("traits.name.first", "Form"),
            ("password", "correct horse battery"),
            ("method", "password"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 303);
    assert!(location(&resp).starts_with(&format!("{}/ui/verification?flow=", app.public)));
    let set_cookie: Vec<String> = resp
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .collect();
    let session_cookie = set_cookie
        .iter()
        .find(|c| c.starts_with("ory_kratos_session="))
        .unwrap();
    for attr in ["HttpOnly", "SameSite=Lax", "Path=/", "Max-Age=86400"] {
        assert!(session_cookie.contains(attr), "{attr} in {session_cookie}");
    }
    assert!(!session_cookie.contains("Secure"), "plain http base URL");

    let me: Value = browser
        .http
        .get(app.public_url("/sessions/whoami"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(me["identity"]["traits"]["email"], "form@example.com");
    assert_eq!(me["identity"]["traits"]["name"]["first"], "Form");
}

#[tokio::test]
async fn spa_registration_gets_json_and_continue_with_redirect() {
    let app =
        spawn_app_with(|a| a.push("--allowed-return-url=http://localhost:3000/".into())).await;
    let browser = Browser::new();
    let resp =
        browser
            .http
            .get(app.public_url(
                "/self-service/registration/browser?return_to=http://localhost:3000/after",
            ))
            .header("Accept", "application/json")
            .send()
            .await
            .unwrap();
    assert_eq!(resp.status(), 200);
    let flow: Value = resp.json().await.unwrap();
    assert_eq!(flow["type"], "browser");
    assert_eq!(flow["return_to"], "http://localhost:3000/after");
    let resp = browser
        .http
        .post(flow["ui"]["action"].as_str().unwrap())
        .header("Accept", "application/json")
        .json(
            &json!({"method": "password", "csrf_token": csrf_token(&flow),
                      "traits": {"email": "spa@example.com"}, "password": "correct horse battery"}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let body: Value = resp.json().await.unwrap();
    assert!(
        body.get("session_token").is_none(),
        "browsers get a cookie, not a token"
    );
    let items = body["continue_with"].as_array().unwrap();
    assert_eq!(items[0]["action"], "show_verification_ui");
    let redirect = items
        .iter()
        .find(|c| c["action"] == "redirect_browser_to")
        .unwrap();
    assert_eq!(
        redirect["redirect_browser_to"],
        "http://localhost:3000/after"
    );

    assert!(browser.cookie(&app.public, "ory_kratos_session").is_some());

    // A registration flow while logged in is refused.
    let resp = browser
        .http
        .get(app.public_url("/self-service/registration/browser"))
        .header("Accept", "application/json")
        .send()
        .await
        .unwrap();
    crate::helpers::assert::assert_kratos_error(resp, 400, Some("session_already_available")).await;
}

#[tokio::test]
async fn without_the_session_hook_registration_does_not_log_in() {
    let app = spawn_app_with(|a| a.push("--no-session-after-registration".into())).await;
    let (status, body) = app
        .register_native("nosession@example.com", "correct horse battery")
        .await;
    assert_eq!(status, 200, "{body}");
    assert!(
        body.get("session_token").is_none() && body.get("session").is_none(),
        "{body}"
    );
    assert_eq!(app.count_rows("sessions"), 0);
    assert_eq!(app.count_rows("identities"), 1);
}

#[tokio::test]
async fn profile_first_registration_takes_traits_then_the_password() {
    let app = spawn_app_with(|a| a.push("--registration-style=profile_first".into())).await;
    let flow = app.create_native_registration_flow().await;
    assert_eq!(node_value(&flow, "method"), Some(json!("profile")));
    let url = app.public_url(&format!(
        "/self-service/registration?flow={}",
        flow["id"].as_str().unwrap()
    ));

    let (status, step2) = app
        .post_json(
            &url,
            &json!({"method": "profile", "traits": {"email": "two@example.com"}}),
        )
        .await;
    assert_eq!(status, 400, "Kratos answers the profile step with the flow");
    assert_eq!(message_ids(&step2), vec![1040009]);
    let email = step2["ui"]["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|n| n["attributes"]["name"] == "traits.email")
        .unwrap();
    assert_eq!(email["attributes"]["type"], "hidden");
    assert_eq!(email["attributes"]["value"], "two@example.com");
    assert_eq!(node_value(&step2, "screen"), Some(json!("previous")));

    let (status, back) = app
        .post_json(&url, &json!({"method": "profile", "screen": "previous", "traits": {"email": "two@example.com"}}))
        .await;
    assert_eq!(status, 400);
    assert_eq!(node_value(&back, "method"), Some(json!("profile")));

    let (status, done) = app
        .post_json(&url, &json!({"method": "password", "traits": {"email": "two@example.com"}, "password": "correct horse battery"}))
        .await;
    assert_eq!(status, 200, "{done}");
    assert!(done["session_token"].is_string());
}
