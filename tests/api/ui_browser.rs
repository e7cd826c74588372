//! The built-in pages in a real browser: Debian's headless Chromium driven over
//! WebDriver (chromedriver). `.ci/run` installs both and sets
//! REQUIRE_BROWSER_TESTS=1, so in CI a missing browser fails the test; on a
//! machine without Chromium the test says so and does nothing else.
//! Screenshots of every page land in target/ui-screenshots/.

use crate::helpers::{spawn_app, TestApp};
use fantoccini::{Client, ClientBuilder, Locator};
use std::process::{Child, Command, Stdio};

const CHROMIUM: &str = "/usr/bin/chromium";
const CHROMEDRIVER: &str = "/usr/bin/chromedriver";

struct Browser {
    client: Client,
    driver: Child,
    _profile: tempfile::TempDir,
    shots: std::path::PathBuf,
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

async fn browser() -> Option<Browser> {
    if !std::path::Path::new(CHROMEDRIVER).exists() || !std::path::Path::new(CHROMIUM).exists() {
        assert!(
            std::env::var("REQUIRE_BROWSER_TESTS").is_err(),
            "REQUIRE_BROWSER_TESTS is set but {CHROMIUM} or {CHROMEDRIVER} is missing (apt-get install chromium chromium-driver)"
        );
        eprintln!("browser tests not run: install chromium and chromium-driver to run them");
        return None;
    }
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let driver = Command::new(CHROMEDRIVER)
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let profile = tempfile::tempdir().unwrap();
    let mut caps = serde_json::Map::new();
    caps.insert(
        "goog:chromeOptions".into(),
        serde_json::json!({
            "binary": CHROMIUM,
            "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                     "--disable-background-networking", "--disable-component-update", "--disable-sync",
                     "--disable-dev-shm-usage", "--window-size=900,1000",
                     format!("--user-data-dir={}", profile.path().display())]
        }),
    );
    // chromedriver needs a moment to listen: retry the session for a bounded time.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    let client = loop {
        let connector = hyper_util::client::legacy::connect::HttpConnector::new();
        match ClientBuilder::new(connector)
            .capabilities(caps.clone())
            .connect(&format!("http://127.0.0.1:{port}"))
            .await
        {
            Ok(c) => break c,
            Err(e) if std::time::Instant::now() < deadline => {
                let _ = e;
                tokio::time::sleep(std::time::Duration::from_millis(100)).await;
            }
            Err(e) => panic!("cannot start a browser session: {e}"),
        }
    };
    let shots = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("target/ui-screenshots");
    std::fs::create_dir_all(&shots).unwrap();
    Some(Browser {
        client,
        driver,
        _profile: profile,
        shots,
    })
}

impl Browser {
    async fn shot(&self, name: &str) {
        let png = self.client.screenshot().await.unwrap();
        std::fs::write(self.shots.join(format!("{name}.png")), png).unwrap();
    }

    async fn fill(&self, name: &str, value: &str) {
        let field = self
            .client
            .find(Locator::Css(&format!("input[name='{name}']")))
            .await
            .unwrap();
        field.clear().await.unwrap();
        field.send_keys(value).await.unwrap();
    }

    async fn press(&self, css: &str) {
        self.client
            .find(Locator::Css(css))
            .await
            .unwrap()
            .click()
            .await
            .unwrap();
    }

    async fn path(&self) -> String {
        self.client.current_url().await.unwrap().path().to_owned()
    }

    /// Waits (bounded) until the browser shows `path`: a click's navigation
    /// finishes on the browser's own schedule.
    async fn wait_path(&self, path: &str) {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(15);
        while self.path().await != path {
            assert!(
                std::time::Instant::now() < deadline,
                "still on {} instead of {path}",
                self.path().await
            );
            tokio::time::sleep(std::time::Duration::from_millis(25)).await;
        }
    }

    /// Waits (bounded) until the page says `needle`.
    async fn wait_text(&self, needle: &str) {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(15);
        loop {
            let text = self.text().await;
            if text.contains(needle) {
                return;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "`{needle}` never appeared: {text}"
            );
            tokio::time::sleep(std::time::Duration::from_millis(25)).await;
        }
    }

    async fn text(&self) -> String {
        match self.client.find(Locator::Css("main")).await {
            Ok(main) => main.text().await.unwrap_or_default(),
            Err(_) => String::new(),
        }
    }
}

async fn code_for(app: &TestApp, email: &str) -> String {
    app.code_sent_to(email).await
}

/// A new user signs up, verifies the email with the mailed code, signs out, gets
/// the password wrong, signs in, edits the profile, then recovers the account by
/// code and sets a new password — all through the built-in pages.
#[tokio::test]
async fn a_new_user_goes_through_every_page_in_a_real_browser() {
    let Some(b) = browser().await else { return };
    let app = spawn_app().await;
    let email = "browser@example.com";

    // Registration → verification.
    b.client
        .goto(&app.public_url("/ui/registration"))
        .await
        .unwrap();
    b.wait_path("/ui/registration").await;
    b.wait_text("Create your account").await;
    b.shot("registration").await;
    b.fill("traits.email", email).await;
    b.fill("password", "correct horse battery").await;
    b.fill("traits.name.first", "Ada").await;
    b.press("button[name='method'][value='password']").await;
    b.wait_path("/ui/verification").await;
    b.wait_text("Verification code").await;
    b.shot("verification").await;
    b.fill("code", &code_for(&app, email).await).await;
    b.press("button[name='method'][value='code']").await;
    b.wait_text("Your email address is verified.").await;
    b.shot("verification-done").await;

    // Welcome: who I am, my sessions; sign out.
    b.client.goto(&app.public_url("/ui/welcome")).await.unwrap();
    b.wait_text("Welcome, Ada").await;
    let welcome = b.text().await;
    assert!(
        welcome.contains("Welcome, Ada") && welcome.contains(email) && welcome.contains("verified"),
        "{welcome}"
    );
    b.shot("welcome").await;
    b.press("a#logout").await;
    // Signed out: the welcome page sends the browser to sign in.
    b.wait_path("/ui/login").await;

    // A wrong password shows the error at the form; then the right one.
    b.fill("identifier", email).await;
    b.fill("password", "not my password").await;
    b.press("button[name='method'][value='password']").await;
    b.wait_path("/ui/login").await;
    b.wait_text("The email address or password is wrong.").await;
    let kept = b
        .client
        .find(Locator::Css("input[name='identifier']"))
        .await
        .unwrap()
        .prop("value")
        .await
        .unwrap();
    assert_eq!(kept.as_deref(), Some(email), "the identifier is kept");
    b.shot("login-error").await;
    b.fill("password", "correct horse battery").await;
    b.press("button[name='method'][value='password']").await;
    b.wait_path("/ui/welcome").await;

    // Settings: change the profile.
    b.client
        .goto(&app.public_url("/ui/settings"))
        .await
        .unwrap();
    b.wait_path("/ui/settings").await;
    b.fill("traits.name.last", "Lovelace").await;
    b.press("button[name='method'][value='profile']").await;
    b.wait_text("Your changes have been saved.").await;
    b.shot("settings").await;

    // Recovery: sign out, ask for a code, set a new password.
    b.client.goto(&app.public_url("/ui/welcome")).await.unwrap();
    b.wait_path("/ui/welcome").await;
    b.press("a#logout").await;
    b.wait_path("/ui/login").await;
    b.shot("login").await;
    b.press("nav.links a[href$='/ui/recovery']").await;
    b.wait_path("/ui/recovery").await;
    b.fill("email", email).await;
    b.press("button[name='method'][value='code']").await;
    b.wait_text("we sent a recovery code").await;
    b.shot("recovery-code").await;
    b.fill("code", &code_for(&app, email).await).await;
    b.press("button[name='method'][value='code']").await;
    b.wait_path("/ui/settings").await;
    b.wait_text("You recovered your account.").await;
    b.fill("password", "a brand new passphrase").await;
    b.press("button[name='method'][value='password']").await;
    b.wait_text("Your changes have been saved.").await;
    b.client.goto(&app.public_url("/ui/welcome")).await.unwrap();
    b.wait_path("/ui/welcome").await;
    b.press("a#logout").await;
    b.wait_path("/ui/login").await;
    b.fill("identifier", email).await;
    b.fill("password", "a brand new passphrase").await;
    b.press("button[name='method'][value='password']").await;
    b.wait_path("/ui/welcome").await;
    b.client.clone().close().await.unwrap();
}
