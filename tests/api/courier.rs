use crate::helpers::assert::assert_kratos_error;
use crate::helpers::courier::six_digits;
use crate::helpers::smtp::SmtpSink;
use crate::helpers::{spawn_app, spawn_app_with, TestApp};
use serde_json::Value;

/// Polls the admin API until `pred` holds for the newest message to `to` (the
/// worker runs in the background); bounded, so a broken worker fails the test.
async fn wait_for_message(app: &TestApp, to: &str, pred: impl Fn(&Value) -> bool) -> Value {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let m = app.last_message_to(to).await;
        if pred(&m) {
            return m;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "message never reached the state: {m}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn without_smtp_messages_stay_queued_and_are_readable_through_the_admin_api() {
    let app = spawn_app().await;
    app.registered_token("a@example.com", "correct horse battery")
        .await;
    app.registered_token("b@example.com", "correct horse battery")
        .await;

    let (status, all) = app
        .get_json(&app.admin_url("/admin/courier/messages"))
        .await;
    assert_eq!(status, 200);
    let all = all.as_array().unwrap();
    assert_eq!(all.len(), 2);
    assert_eq!(all[0]["recipient"], "b@example.com", "newest first");
    for m in all {
        assert_eq!(m["status"], "queued");
        assert_eq!(m["type"], "email");
        assert_eq!(m["send_count"], 0);
        let _: ory_kratos_client::models::Message = serde_json::from_value(m.clone()).unwrap();
    }
    let (_, queued) = app
        .get_json(&app.admin_url("/admin/courier/messages?status=queued&page_size=1"))
        .await;
    assert_eq!(queued.as_array().unwrap().len(), 1);
    let (_, sent) = app
        .get_json(&app.admin_url("/admin/courier/messages?status=sent"))
        .await;
    assert!(sent.as_array().unwrap().is_empty());
    let resp = app
        .http
        .get(app.admin_url("/admin/courier/messages?status=bogus"))
        .send()
        .await
        .unwrap();
    assert_kratos_error(resp, 400, None).await;

    let id = all[0]["id"].as_str().unwrap();
    let (status, one) = app
        .get_json(&app.admin_url(&format!("/admin/courier/messages/{id}")))
        .await;
    assert_eq!(status, 200);
    assert_eq!(one["id"], id);
    let resp = app
        .http
        .get(app.admin_url("/admin/courier/messages/00000000-0000-4000-8000-000000000000"))
        .send()
        .await
        .unwrap();
    assert_kratos_error(resp, 404, None).await;

    // Paging through with Link.
    let resp = app
        .http
        .get(app.admin_url("/admin/courier/messages?page_size=1"))
        .send()
        .await
        .unwrap();
    let link = resp.headers()["link"].to_str().unwrap().to_owned();
    let next = link
        .split(',')
        .find(|l| l.contains("rel=\"next\""))
        .unwrap()
        .trim()
        .trim_start_matches('<')
        .split('>')
        .next()
        .unwrap()
        .to_owned();
    let (_, page2) = app.get_json(&next).await;
    assert_eq!(page2[0]["recipient"], "a@example.com");
}

#[tokio::test]
async fn codes_are_neither_in_the_database_file_nor_in_the_flow() {
    let app = spawn_app().await;
    app.registered_token("secret@example.com", "correct horse battery")
        .await;
    let code = app.code_sent_to("secret@example.com").await;
    let bytes = [
        std::fs::read(&app.db_path).unwrap(),
        std::fs::read(app.db_path.with_extension("sqlite-wal")).unwrap_or_default(),
    ];
    for b in &bytes {
        let needle = format!("code:\n\n{code}");
        assert!(
            !b.windows(needle.len()).any(|w| w == needle.as_bytes()),
            "a mail body is stored in clear"
        );
        assert!(
            !b.windows(8).any(|w| w == format!("code={code}").as_bytes()),
            "a link is stored in clear"
        );
    }
}

#[tokio::test]
async fn with_smtp_mail_is_delivered_and_marked_sent() {
    let sink = SmtpSink::start().await;
    let url = format!(
        "--smtp-url=smtp://127.0.0.1:{}/?disable_starttls=true",
        sink.port
    );
    let app = spawn_app_with(|a| {
        a.push(url);
        a.push("--smtp-from=Acme Auth <auth@acme.test>".into());
        a.push("--courier-poll-interval=50ms".into());
    })
    .await;
    app.registered_token("real@example.com", "correct horse battery")
        .await;
    let got = sink.wait_for(1).await;
    assert_eq!(got[0].to, vec!["<real@example.com>".to_owned()]);
    assert_eq!(got[0].from, "<auth@acme.test>");
    assert!(got[0]
        .data
        .contains("Subject: Please verify your email address"));
    let m = wait_for_message(&app, "real@example.com", |m| m["status"] == "sent").await;
    let code = six_digits(m["body"].as_str().unwrap()).unwrap();
    assert!(
        got[0].data.contains(&code),
        "the delivered mail carries the code"
    );
    assert_eq!(m["send_count"], 1);
    assert_eq!(m["dispatches"][0]["status"], "success");
}

#[tokio::test]
async fn an_unreachable_smtp_server_leads_to_retries_and_then_abandoned() {
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = closed.local_addr().unwrap().port();
    drop(closed);
    let app = spawn_app_with(|a| {
        a.push(format!("--smtp-url=smtp://127.0.0.1:{port}"));
        a.push("--courier-max-attempts=3".into());
        a.push("--courier-poll-interval=20ms".into());
    })
    .await;
    app.registered_token("void@example.com", "correct horse battery")
        .await;
    let m = wait_for_message(&app, "void@example.com", |m| m["send_count"] == 1).await;
    assert_eq!(m["status"], "queued", "retried later, not lost");
    // Backoff is on the injected clock: 10 s, then 20 s.
    app.clock.advance(time::Duration::seconds(10));
    wait_for_message(&app, "void@example.com", |m| m["send_count"] == 2).await;
    app.clock.advance(time::Duration::seconds(20));
    let m = wait_for_message(&app, "void@example.com", |m| m["status"] == "abandoned").await;
    assert_eq!(m["send_count"], 3);
    let dispatches = m["dispatches"].as_array().unwrap();
    assert_eq!(dispatches.len(), 3);
    assert!(dispatches.iter().all(|d| d["status"] == "failed"));
    let reason = dispatches[2]["error"]["reason"].as_str().unwrap();
    assert!(reason.contains(&format!("127.0.0.1:{port}")), "{reason}");
}

#[tokio::test]
async fn templates_can_be_overridden_from_a_directory() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("verification_code/valid");
    std::fs::create_dir_all(&path).unwrap();
    std::fs::write(path.join("email.subject.txt"), "Welcome to Acme").unwrap();
    std::fs::write(path.join("email.body.txt"), "Your Acme code is {{ code }}.").unwrap();
    let arg = format!("--courier-templates={}", dir.path().display());
    let app = spawn_app_with(|a| a.push(arg)).await;
    app.registered_token("tpl@example.com", "correct horse battery")
        .await;
    let m = app.last_message_to("tpl@example.com").await;
    assert_eq!(m["subject"], "Welcome to Acme");
    assert!(m["body"]
        .as_str()
        .unwrap()
        .starts_with("Your Acme code is "));
}
