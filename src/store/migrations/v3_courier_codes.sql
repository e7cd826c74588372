-- Version 3: one-time codes for recovery and verification, and the courier outbox.

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
