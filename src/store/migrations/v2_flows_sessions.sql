-- Version 2: self-service flows, sessions and stored self-service errors.

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
