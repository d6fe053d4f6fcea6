-- API keys for machine callers, and which key created each ledger entry.
--
-- The SQLite twin of migrations/postgres/20261201030001_api_keys.sql, which explains the design;
-- keep the two in step. The conventions of 20261125000001_users.sql hold: STRICT, UUIDs as
-- lower-case hyphenated text, timestamps as fixed-width UTC text.

CREATE TABLE api_keys (
    id           TEXT NOT NULL,
    -- The user the key acts as. A key dies with its user (foreign keys are on).
    user_id      TEXT NOT NULL,
    name         TEXT NOT NULL,
    prefix       TEXT NOT NULL,
    -- Lower-case hex SHA-256 of the whole key.
    key_digest   TEXT NOT NULL,
    created_at   TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%f', 'now') || '000Z'),
    expires_at   TEXT,
    last_used_at TEXT,
    revoked_at   TEXT,

    CONSTRAINT api_keys_pkey PRIMARY KEY (id),
    CONSTRAINT api_keys_user_id_fkey FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE,
    CONSTRAINT api_keys_key_digest_key UNIQUE (key_digest),
    CONSTRAINT api_keys_id_check CHECK (length(id) = 36 AND id = lower(id)),
    CONSTRAINT api_keys_key_digest_check CHECK (length(key_digest) = 64 AND key_digest NOT GLOB '*[^0-9a-f]*'),
    CONSTRAINT api_keys_prefix_check CHECK (length(prefix) = 13 AND prefix GLOB 'fapi_[0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f]'),
    CONSTRAINT api_keys_name_check CHECK (length(name) BETWEEN 1 AND 100),
    CONSTRAINT api_keys_created_at_check
        CHECK (length(created_at) = 27 AND created_at GLOB '????-??-??T??:??:??.??????Z'),
    CONSTRAINT api_keys_expires_at_check
        CHECK (length(expires_at) = 27 AND expires_at GLOB '????-??-??T??:??:??.??????Z'),
    CONSTRAINT api_keys_last_used_at_check
        CHECK (length(last_used_at) = 27 AND last_used_at GLOB '????-??-??T??:??:??.??????Z'),
    CONSTRAINT api_keys_revoked_at_check
        CHECK (length(revoked_at) = 27 AND revoked_at GLOB '????-??-??T??:??:??.??????Z')
) STRICT;

CREATE INDEX api_keys_user_id_created_at_idx ON api_keys (user_id, created_at);

-- The key a create came with; NULL for a bearer token. No foreign key, as for user_id.
ALTER TABLE invoice_ledger ADD COLUMN api_key_id TEXT
    CONSTRAINT invoice_ledger_api_key_id_check CHECK (length(api_key_id) = 36 AND api_key_id = lower(api_key_id));
