//! Schema-driven fuzzing from Kratos's OpenAPI spec: for every operation in
//! the spec, requests with random path and query parameters and bodies built
//! from the operation's request schema — mostly well-typed, sometimes with
//! wrong types, hostile strings or garbage bytes. No answer may be a 5xx, every
//! JSON error must be in the Kratos envelope (or be a flow carrying its
//! errors), and afterwards the server still answers and its file is intact.
//!
//! The spec is read from `KRATOS_OPENAPI`, else `../shared/kratos/openapi.json`,
//! else `tests/fixtures/kratos-operations.json`: the spec reduced to its
//! interface (paths, parameters, request schemas) by
//! `tests/fixtures/strip_openapi.py`, so that the fuzz runs everywhere, CI
//! included. FUZZ_CASES sets the cases per operation (default 25), FUZZ_SEED
//! the seed (printed on every run).

use crate::helpers::spawn_app_with;
use rand::rngs::StdRng;
use rand::{Rng, RngCore, SeedableRng};
use serde_json::{json, Map, Value};

const HOSTILE: &[&str] = &[
    "",
    "x",
    "'; DROP TABLE identities; --",
    "\" OR 1=1 --",
    "%00",
    "\u{0}\u{1f}",
    "../../../../etc/passwd",
    "https://evil.example/\r\nSet-Cookie: a=b",
    "ory_st_0000000000000000000000000000000",
    "00000000-0000-0000-0000-000000000000",
    "ümlaut ☃ \u{202e}",
    "{{7*7}}",
    "<script>alert(1)</script>",
];

fn resolve<'a>(spec: &'a Value, schema: &'a Value) -> &'a Value {
    match schema.get("$ref").and_then(Value::as_str) {
        Some(r) => r
            .strip_prefix("#/")
            .map(|p| p.split('/').fold(spec, |v, k| &v[k]))
            .unwrap_or(&Value::Null),
        None => schema,
    }
}

fn random_string(rng: &mut StdRng) -> String {
    match rng.random_range(0..6) {
        0 => HOSTILE[rng.random_range(0..HOSTILE.len())].to_owned(),
        1 => uuid::Uuid::new_v4().to_string(),
        2 => "a".repeat(rng.random_range(200..20_000)),
        3 => format!("user{}@example.com", rng.random_range(0..1000)),
        _ => (0..rng.random_range(0..24))
            .map(|_| char::from(rng.random_range(0x20u8..0x7f)))
            .collect(),
    }
}

fn wrong_type(rng: &mut StdRng) -> Value {
    match rng.random_range(0..6) {
        0 => Value::Null,
        1 => json!(rng.random::<bool>()),
        2 => json!(i64::MIN),
        3 => json!(1e308),
        4 => json!([[[[]]]]),
        _ => json!({"unexpected": {"deeply": [1, "two", null]}}),
    }
}

fn generate(spec: &Value, schema: &Value, rng: &mut StdRng, depth: u32) -> Value {
    let schema = resolve(spec, schema);
    if depth > 6 || rng.random_ratio(1, 12) {
        return wrong_type(rng);
    }
    if let Some(options) = schema.get("enum").and_then(Value::as_array) {
        if !options.is_empty() && rng.random_ratio(3, 4) {
            return options[rng.random_range(0..options.len())].clone();
        }
    }
    for key in ["oneOf", "anyOf"] {
        if let Some(options) = schema.get(key).and_then(Value::as_array) {
            if !options.is_empty() {
                let pick = &options[rng.random_range(0..options.len())];
                return generate(spec, pick, rng, depth + 1);
            }
        }
    }
    if let Some(all) = schema.get("allOf").and_then(Value::as_array) {
        let mut merged = Map::new();
        for part in all {
            if let Value::Object(m) = generate(spec, part, rng, depth + 1) {
                merged.extend(m);
            }
        }
        return Value::Object(merged);
    }
    match schema.get("type").and_then(Value::as_str) {
        Some("object") | None if schema.get("properties").is_some() => {
            let required: Vec<&str> = schema["required"]
                .as_array()
                .map(|r| r.iter().filter_map(Value::as_str).collect())
                .unwrap_or_default();
            let mut out = Map::new();
            if let Some(props) = schema["properties"].as_object() {
                for (name, sub) in props {
                    let keep = if required.contains(&name.as_str()) {
                        9
                    } else {
                        5
                    };
                    if rng.random_range(0..10) < keep {
                        out.insert(name.clone(), generate(spec, sub, rng, depth + 1));
                    }
                }
            }
            Value::Object(out)
        }
        Some("object") => json!({ random_string(rng): random_string(rng) }),
        Some("array") => (0..rng.random_range(0..4))
            .map(|_| generate(spec, &schema["items"], rng, depth + 1))
            .collect(),
        Some("integer") => json!([0, 1, -1, 250, i64::MAX][rng.random_range(0..5)]),
        Some("number") => json!([0.0, -1.5, 3.25, 1e300][rng.random_range(0..4)]),
        Some("boolean") => json!(rng.random::<bool>()),
        Some("string") => json!(random_string(rng)),
        _ => wrong_type(rng),
    }
}

fn param_value(spec: &Value, param: &Value, rng: &mut StdRng) -> String {
    match generate(spec, &param["schema"], rng, 5) {
        Value::String(s) => s,
        other => other.to_string(),
    }
}

/// A JSON 4xx answer is the Kratos error envelope with a matching code, or a
/// flow (validation errors live in its `ui`), or an identity batch result.
fn is_kratos_shaped(status: u16, body: &Value) -> bool {
    if let Some(err) = body.get("error") {
        return err["code"].as_u64() == Some(u64::from(status)) && err["message"].is_string();
    }
    body.get("ui").is_some() || body.get("identities").is_some()
}

#[tokio::test]
async fn every_operation_in_the_openapi_spec_survives_random_requests() {
    let shared = concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/kratos/openapi.json");
    let path = std::env::var("KRATOS_OPENAPI").unwrap_or_else(|_| {
        if std::path::Path::new(shared).exists() {
            shared.to_owned()
        } else {
            concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/tests/fixtures/kratos-operations.json"
            )
            .to_owned()
        }
    });
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    eprintln!("openapi fuzz: operations from {path}");
    let spec: Value = serde_json::from_str(&text).unwrap();
    let cases: usize = std::env::var("FUZZ_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(25);
    let seed: u64 = std::env::var("FUZZ_SEED")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(rand::random);
    let mut rng = StdRng::seed_from_u64(seed);
    let app = spawn_app_with(|args| {
        args.extend(
            [
                "--rate-limit-low=0",
                "--rate-limit-medium=0",
                "--rate-limit-high=0",
            ]
            .map(String::from),
        );
    })
    .await;
    // Some real data, so that fuzzed ids sometimes meet real rows.
    app.registered_token("fuzz@example.com", "correct horse battery")
        .await;

    let mut sent = 0usize;
    let mut statuses = std::collections::BTreeMap::<u16, usize>::new();
    let mut failures = Vec::new();
    for (route, item) in spec["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            let Ok(method) = reqwest::Method::from_bytes(method.to_uppercase().as_bytes()) else {
                continue;
            };
            if !op.is_object() {
                continue;
            }
            let params: Vec<&Value> = op["parameters"]
                .as_array()
                .map(|p| p.iter().map(|p| resolve(&spec, p)).collect())
                .unwrap_or_default();
            let body_schema = &op["requestBody"]["content"]["application/json"]["schema"];
            for _ in 0..cases {
                let mut url_path = route.clone();
                let mut query = Vec::new();
                let mut headers = Vec::new();
                for p in &params {
                    let name = p["name"].as_str().unwrap_or_default();
                    let required = p["required"].as_bool().unwrap_or(false);
                    match p["in"].as_str() {
                        Some("path") => {
                            let v = param_value(&spec, p, &mut rng);
                            let v: String =
                                url::form_urlencoded::byte_serialize(v.as_bytes()).collect();
                            url_path = url_path.replace(
                                &format!("{{{name}}}"),
                                if v.is_empty() { "x" } else { &v },
                            );
                        }
                        Some("query") if required || rng.random_ratio(1, 2) => {
                            query.push((name.to_owned(), param_value(&spec, p, &mut rng)));
                        }
                        Some("header") if rng.random_ratio(1, 2) => {
                            let v = param_value(&spec, p, &mut rng);
                            if reqwest::header::HeaderValue::from_str(&v).is_ok() {
                                headers.push((name.to_owned(), v));
                            }
                        }
                        _ => {}
                    }
                }
                let base = if route.starts_with("/admin") {
                    &app.admin
                } else {
                    &app.public
                };
                let mut req = app
                    .http
                    .request(method.clone(), format!("{base}{url_path}"))
                    .query(&query)
                    .header("Accept", "application/json");
                for (k, v) in &headers {
                    req = req.header(k.as_str(), v.as_str());
                }
                if !body_schema.is_null() {
                    req = if rng.random_ratio(1, 10) {
                        let mut junk = vec![0u8; rng.random_range(0..64)];
                        rng.fill_bytes(&mut junk);
                        req.header("Content-Type", "application/json").body(junk)
                    } else {
                        req.json(&generate(&spec, body_schema, &mut rng, 0))
                    };
                }
                let resp = req.send().await.unwrap();
                sent += 1;
                let status = resp.status().as_u16();
                *statuses.entry(status).or_default() += 1;
                let is_json = resp
                    .headers()
                    .get("content-type")
                    .and_then(|v| v.to_str().ok())
                    .is_some_and(|v| v.starts_with("application/json"));
                let text = resp.text().await.unwrap_or_default();
                let shaped = !is_json
                    || status < 400
                    || serde_json::from_str::<Value>(&text)
                        .is_ok_and(|b| is_kratos_shaped(status, &b));
                if status >= 500 || !shaped {
                    failures.push(format!(
                        "{method} {url_path}?{query:?} → {status}: {}",
                        text.chars().take(300).collect::<String>()
                    ));
                }
            }
        }
    }
    eprintln!("openapi fuzz: {sent} requests over the spec's operations, seed {seed}, statuses {statuses:?}, {} failures", failures.len());
    assert!(failures.is_empty(), "seed {seed}:\n{}", failures.join("\n"));
    let (status, _) = app.get_json(&app.public_url("/health/ready")).await;
    assert_eq!(status, 200);
    let conn = rusqlite::Connection::open(&app.db_path).unwrap();
    let check: String = conn
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .unwrap();
    assert_eq!(check, "ok");
}
