-- Postern's whole database schema for a fresh file. An existing file is upgraded by
-- the ordered steps in src/store/migrations/ (PRAGMA user_version), and a test checks
-- that both routes end in the same schema.
-- Encodings (src/store/codec.rs): ids are lowercase UUID TEXT, instants INTEGER Unix
-- microseconds, JSON documents TEXT.

CREATE TABLE identities (
    id               TEXT PRIMARY KEY NOT NULL,
    schema_id        TEXT NOT NULL,
    state            TEXT NOT NULL CHECK (state IN ('active', 'inactive')),
    state_changed_at INTEGER,
    traits           TEXT NOT NULL,
    metadata_public  TEXT,
    metadata_admin   TEXT,
    external_id      TEXT UNIQUE,
    created_at       INTEGER NOT NULL,
    updated_at       INTEGER NOT NULL
) STRICT;

-- One row per credential type an identity has (password, …); `config` holds the
-- type's secret material (for passwords: the PHC hash), never plaintext.
CREATE TABLE identity_credentials (
    id          TEXT PRIMARY KEY NOT NULL,
    identity_id TEXT NOT NULL REFERENCES identities (id) ON DELETE CASCADE,
    type        TEXT NOT NULL,
    config      TEXT NOT NULL,
    version     INTEGER NOT NULL DEFAULT 0,
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL,
    UNIQUE (identity_id, type)
) STRICT;

-- The login identifiers of each credential. The unique index on (type, identifier)
-- is what guarantees that two identities never share a login identifier.
CREATE TABLE identity_credential_identifiers (
    credential_id TEXT NOT NULL REFERENCES identity_credentials (id) ON DELETE CASCADE,
    type          TEXT NOT NULL,
    identifier    TEXT NOT NULL,
    PRIMARY KEY (credential_id, identifier)
) STRICT;
CREATE UNIQUE INDEX identity_credential_identifiers_type_identifier
    ON identity_credential_identifiers (type, identifier);

CREATE TABLE identity_verifiable_addresses (
    id          TEXT PRIMARY KEY NOT NULL,
    identity_id TEXT NOT NULL REFERENCES identities (id) ON DELETE CASCADE,
    via         TEXT NOT NULL,
    value       TEXT NOT NULL,
    verified    INTEGER NOT NULL DEFAULT 0,
    status      TEXT NOT NULL,
    verified_at INTEGER,
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL
) STRICT;
-- An address belongs to one identity only (as in Kratos): a second identity with the
-- same email is a conflict even when neither has a password.
CREATE UNIQUE INDEX identity_verifiable_addresses_via_value
    ON identity_verifiable_addresses (via, value);
CREATE INDEX identity_verifiable_addresses_identity ON identity_verifiable_addresses (identity_id);

CREATE TABLE identity_recovery_addresses (
    id          TEXT PRIMARY KEY NOT NULL,
    identity_id TEXT NOT NULL REFERENCES identities (id) ON DELETE CASCADE,
    via         TEXT NOT NULL,
    value       TEXT NOT NULL,
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL
) STRICT;
CREATE UNIQUE INDEX identity_recovery_addresses_via_value
    ON identity_recovery_addresses (via, value);
CREATE INDEX identity_recovery_addresses_identity ON identity_recovery_addresses (identity_id);

-- ---------------------------------------------------------------------------
-- Added in schema version 2 (src/store/migrations/v2_flows_sessions.sql).

-- Self-service flows (login, registration, …). `ui` is the UI container as last
-- rendered (nodes, values, messages); `csrf_digest` is the SHA-256 of the CSRF
-- cookie secret of the browser that created a browser flow.
CREATE TABLE selfservice_flows (
    id            TEXT PRIMARY KEY NOT NULL,
    kind          TEXT NOT NULL,
    type          TEXT NOT NULL CHECK (type IN ('api', 'browser')),
    state         TEXT NOT NULL,
    request_url   TEXT NOT NULL,
    return_to     TEXT,
    active        TEXT,
    ui            TEXT NOT NULL,
    csrf_digest   TEXT,
    identity_id   TEXT REFERENCES identities (id) ON DELETE CASCADE,
    refresh       INTEGER NOT NULL DEFAULT 0,
    requested_aal TEXT NOT NULL DEFAULT 'aal1',
    internal      TEXT NOT NULL DEFAULT '{}',
    issued_at     INTEGER NOT NULL,
    expires_at    INTEGER NOT NULL,
    created_at    INTEGER NOT NULL,
    updated_at    INTEGER NOT NULL
) STRICT;
CREATE INDEX selfservice_flows_expires_at ON selfservice_flows (expires_at);

-- Sessions. Only the SHA-256 of the session token is stored.
CREATE TABLE sessions (
    id                     TEXT PRIMARY KEY NOT NULL,
    token_digest           TEXT NOT NULL UNIQUE,
    identity_id            TEXT NOT NULL REFERENCES identities (id) ON DELETE CASCADE,
    active                 INTEGER NOT NULL,
    aal                    TEXT NOT NULL,
    authentication_methods TEXT NOT NULL,
    issued_at              INTEGER NOT NULL,
    authenticated_at       INTEGER NOT NULL,
    expires_at             INTEGER NOT NULL,
    created_at             INTEGER NOT NULL,
    updated_at             INTEGER NOT NULL
) STRICT;
CREATE INDEX sessions_identity_id ON sessions (identity_id, active);
CREATE INDEX sessions_expires_at ON sessions (expires_at);

CREATE TABLE session_devices (
    id         TEXT PRIMARY KEY NOT NULL,
    session_id TEXT NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    ip_address TEXT,
    user_agent TEXT,
    location   TEXT NOT NULL DEFAULT '',
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
) STRICT;
CREATE INDEX session_devices_session_id ON session_devices (session_id);

-- Errors shown to browsers through `/self-service/errors?id=`.
CREATE TABLE selfservice_errors (
    id         TEXT PRIMARY KEY NOT NULL,
    error      TEXT NOT NULL,
    seen_at    INTEGER,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
) STRICT;

-- ---------------------------------------------------------------------------
-- Added in schema version 3 (src/store/migrations/v3_courier_codes.sql).

-- Recovery and verification codes. Only a digest of the code is stored; a code is
-- used at most once (`used_at`) and only before `expires_at`.
CREATE TABLE selfservice_codes (
    id              TEXT PRIMARY KEY NOT NULL,
    flow_id         TEXT NOT NULL REFERENCES selfservice_flows (id) ON DELETE CASCADE,
    kind            TEXT NOT NULL CHECK (kind IN ('recovery', 'verification')),
    code_digest     TEXT NOT NULL,
    identity_id     TEXT REFERENCES identities (id) ON DELETE CASCADE,
    address         TEXT NOT NULL,
    via             TEXT NOT NULL DEFAULT 'email',
    issued_by_admin INTEGER NOT NULL DEFAULT 0,
    used_at         INTEGER,
    expires_at      INTEGER NOT NULL,
    created_at      INTEGER NOT NULL
) STRICT;
CREATE INDEX selfservice_codes_flow_id ON selfservice_codes (flow_id);
CREATE INDEX selfservice_codes_expires_at ON selfservice_codes (expires_at);

-- The courier outbox, written in the same transaction as the change that causes
-- a message. `seq` orders messages (newest first in the admin API).
CREATE TABLE courier_messages (
    seq             INTEGER PRIMARY KEY AUTOINCREMENT,
    id              TEXT NOT NULL UNIQUE,
    type            TEXT NOT NULL DEFAULT 'email',
    status          TEXT NOT NULL CHECK (status IN ('queued', 'processing', 'sent', 'abandoned')),
    recipient       TEXT NOT NULL,
    subject         TEXT NOT NULL,
    body            TEXT NOT NULL,
    html_body       TEXT NOT NULL,
    template_type   TEXT NOT NULL,
    send_count      INTEGER NOT NULL DEFAULT 0,
    last_error      TEXT,
    next_attempt_at INTEGER NOT NULL,
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL
) STRICT;
CREATE INDEX courier_messages_due ON courier_messages (status, next_attempt_at);
CREATE INDEX courier_messages_recipient ON courier_messages (recipient);

-- One row per delivery attempt.
CREATE TABLE courier_message_dispatches (
    id         TEXT PRIMARY KEY NOT NULL,
    message_id TEXT NOT NULL REFERENCES courier_messages (id) ON DELETE CASCADE,
    status     TEXT NOT NULL CHECK (status IN ('failed', 'success')),
    error      TEXT,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
) STRICT;
CREATE INDEX courier_message_dispatches_message_id ON courier_message_dispatches (message_id);
