-- The Factus call budget shared by every instance (crates/infrastructure/src/factus/budget.rs):
-- a sliding-window log of the calls sent per Factus account, and the callers waiting for a slot.
-- A take locks the account's row (SQLite: BEGIN IMMEDIATE, the database write lock), so two instances never both see room for
-- the last slot. Times are milliseconds since the Unix epoch.
--
-- The Postgres twin is migrations/postgres/20261201120001_factus_budget.sql; the statements that use
-- these tables are shared by both backends (crates/infrastructure/src/db/budget.rs).

CREATE TABLE factus_budget_accounts (
    account TEXT PRIMARY KEY
);

CREATE TABLE factus_budget_calls (
    slot TEXT PRIMARY KEY,
    account TEXT NOT NULL,
    -- 'create', 'read', or 'external' (counted by Factus, not sent by us).
    class TEXT NOT NULL,
    at_ms INTEGER NOT NULL,
    -- How many calls the row stands for: 1 for ours; a correction is one row for all it adds.
    weight INTEGER NOT NULL DEFAULT 1
);

CREATE INDEX factus_budget_calls_account_at_idx ON factus_budget_calls (account, at_ms);

CREATE TABLE factus_budget_waiters (
    account TEXT NOT NULL,
    waiter TEXT NOT NULL,
    class TEXT NOT NULL,
    ticket_ms INTEGER NOT NULL,
    seen_ms INTEGER NOT NULL,
    PRIMARY KEY (account, waiter)
);
