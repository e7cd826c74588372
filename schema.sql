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
