//! The operator subcommands: identity import/export, online backup, cleanup.
//! They open the database directly and can run while the server is serving
//! (SQLite WAL: readers never block, writers wait their turn).

use crate::config::{default_key_file, Config};
use crate::identity::view::{IdentityView, Visibility};
use crate::identity::Identity;
use crate::state::AppState;
use crate::store::identities;
use anyhow::Context;
use serde_json::{json, Value};
use std::io::{Read, Write};
use std::path::Path;

/// `postern identities import FILE`: all or nothing. Returns how many were imported.
pub async fn import(state: &AppState, file: &str) -> anyhow::Result<usize> {
    let mut text = String::new();
    if file == "-" {
        std::io::stdin()
            .read_to_string(&mut text)
            .context("cannot read standard input")?;
    } else {
        text = std::fs::read_to_string(file).with_context(|| format!("cannot read {file}"))?;
    }
    let records: Vec<Value> = serde_json::from_str(&text)
        .context("the input must be a JSON array of createIdentityBody objects")?;
    match crate::identity::import::import_all(state, records).await? {
        Ok(n) => Ok(n),
        Err(rejected) => {
            let mut report = format!(
                "nothing was imported: {} record(s) rejected\n",
                rejected.len()
            );
            for (index, reason) in rejected.iter().take(100) {
                report.push_str(&format!("  record {index}: {reason}\n"));
            }
            if rejected.len() > 100 {
                report.push_str(&format!("  … and {} more\n", rejected.len() - 100));
            }
            anyhow::bail!(report)
        }
    }
}

/// One identity as a createIdentityBody record (importable again).
pub fn export_record(state: &AppState, identity: &Identity, with_credentials: bool) -> Value {
    let view = IdentityView::new(
        identity,
        state.config.public_base(),
        Visibility::Admin {
            with_password_config: false,
        },
    );
    let full = serde_json::to_value(view).unwrap_or(Value::Null);
    let mut record = json!({
        "schema_id": identity.schema_id,
        "traits": identity.traits,
        "state": identity.state.as_str(),
        "metadata_public": identity.metadata_public,
        "metadata_admin": identity.metadata_admin,
        "verifiable_addresses": full.get("verifiable_addresses").cloned().unwrap_or(json!([])),
    });
    if let Value::Object(map) = &mut record {
        if let Some(external) = &identity.external_id {
            map.insert("external_id".into(), json!(external));
        }
        let hash = identity
            .credential(crate::identity::CREDENTIAL_PASSWORD)
            .and_then(|c| c.hashed_password())
            .filter(|_| with_credentials);
        if let Some(hash) = hash {
            map.insert(
                "credentials".into(),
                json!({"password": {"config": {"hashed_password": hash}}}),
            );
        }
    }
    record
}

/// `postern identities export`: streams every identity, page by page.
pub async fn export(
    state: &AppState,
    with_credentials: bool,
    out: &mut impl Write,
) -> anyhow::Result<usize> {
    let mut after = None;
    let mut count = 0;
    out.write_all(b"[")?;
    loop {
        let page = state
            .store
            .read(move |c| identities::list(c, after, 1000))
            .await?;
        let Some(last) = page.last() else { break };
        after = Some(last.id);
        for identity in &page {
            if count > 0 {
                out.write_all(b",")?;
            }
            out.write_all(b"\n")?;
            serde_json::to_writer(&mut *out, &export_record(state, identity, with_credentials))?;
            count += 1;
        }
    }
    out.write_all(b"\n]\n")?;
    out.flush()?;
    Ok(count)
}

/// `postern backup OUT`: a consistent copy through `VACUUM INTO` (one read
/// transaction, so concurrent writes are either wholly in it or not at all),
/// checked with `PRAGMA integrity_check`. The key file is copied beside it.
pub fn backup(db: &Path, out: &Path) -> anyhow::Result<u64> {
    if out.exists() {
        anyhow::bail!("{} exists already; choose a new file name", out.display());
    }
    if !db.exists() {
        anyhow::bail!("--db: {} does not exist", db.display());
    }
    let conn =
        rusqlite::Connection::open_with_flags(db, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
            .with_context(|| format!("cannot open {}", db.display()))?;
    conn.busy_timeout(std::time::Duration::from_secs(30))?;
    let target = out
        .to_str()
        .context("the backup path must be valid UTF-8")?;
    conn.execute("VACUUM INTO ?1", [target])
        .context("VACUUM INTO failed")?;
    let copy =
        rusqlite::Connection::open_with_flags(out, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)?;
    let check: String = copy.query_row("PRAGMA integrity_check", [], |r| r.get(0))?;
    if check != "ok" {
        anyhow::bail!("the backup failed its integrity check: {check}");
    }
    let key = default_key_file(db);
    if key.exists() {
        let out_key = default_key_file(out);
        std::fs::copy(&key, &out_key)
            .with_context(|| format!("cannot copy the key file to {}", out_key.display()))?;
    }
    Ok(std::fs::metadata(out)?.len())
}

/// The state for an offline subcommand.
pub async fn state(config: Config) -> anyhow::Result<AppState> {
    crate::app::offline_state(config).await
}
