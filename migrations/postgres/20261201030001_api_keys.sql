-- API keys for machine callers, and which key created each ledger entry.
--
-- A key is 'fapi_' and 64 hex digits (256 random bits), shown once when it is created. Only its
-- SHA-256 is stored: a digest of a 256-bit secret cannot be guessed back, and a fast digest lets
-- every request be checked without a slow password hash. The visible prefix ('fapi_' and the
-- first 8 digits) tells keys apart in listings. The SQLite twin of this file is
-- migrations/sqlite/20261201030001_api_keys.sql; keep the two in step.

CREATE TABLE api_keys (
    -- UUIDv7, chosen by the application.
    id           uuid        NOT NULL,
    -- The user the key acts as. A key dies with its user.
    user_id      uuid        NOT NULL,
    name         text        NOT NULL,
    prefix       text        COLLATE "C" NOT NULL,
    -- Lower-case hex SHA-256 of the whole key; what a presented key is looked up by.
    key_digest   text        COLLATE "C" NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    -- NULL: never expires.
    expires_at   timestamptz,
    -- Written at most about once a minute per key and instance.
    last_used_at timestamptz,
    -- NULL while the key is usable; set once, never cleared.
    revoked_at   timestamptz,

    CONSTRAINT api_keys_pkey PRIMARY KEY (id),
    CONSTRAINT api_keys_user_id_fkey FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE,
    CONSTRAINT api_keys_key_digest_key UNIQUE (key_digest),
    CONSTRAINT api_keys_key_digest_check CHECK (key_digest ~ '^[0-9a-f]{64}$'),
    CONSTRAINT api_keys_prefix_check CHECK (prefix ~ '^fapi_[0-9a-f]{8}$'),
    CONSTRAINT api_keys_name_check CHECK (char_length(name) BETWEEN 1 AND 100)
);

COMMENT ON TABLE api_keys IS 'API keys of machine callers (X-API-Key), stored as SHA-256 digests.';

-- Listing a user's keys (and the cascade from users).
CREATE INDEX api_keys_user_id_created_at_idx ON api_keys (user_id, created_at);

-- The key a create came with; NULL for a bearer token. No foreign key: the ledger is the record
-- of tax documents and outlives keys and users (as for user_id).
ALTER TABLE invoice_ledger ADD COLUMN api_key_id uuid;
