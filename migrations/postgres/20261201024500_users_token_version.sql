-- Tokens issued before a password change, an admin reset, a disable or a role change must be
-- refused. Every token carries the user's token_version at issue time (claim `ver`); those
-- changes increment it, and a token whose version differs is refused. Existing tokens carry no
-- version and count as 0, the value every existing user starts with.
-- The SQLite twin is migrations/sqlite/20261201024500_users_token_version.sql.

ALTER TABLE users
    ADD COLUMN token_version bigint NOT NULL DEFAULT 0,
    ADD CONSTRAINT users_token_version_check CHECK (token_version >= 0);
