-- The Factus call budget shared by every instance (crates/infrastructure/src/factus/budget.rs):
-- a sliding-window log of the calls sent per Factus account, and the callers waiting for a slot.
-- A take locks the account's row (SELECT … FOR UPDATE), so two instances never both see room for
-- the last slot. Times are milliseconds since the Unix epoch.
--
-- The SQLite twin is migrations/sqlite/20261201120001_factus_budget.sql; the statements that use
-- these tables are shared by both backends (crates/infrastructure/src/db/budget.rs).

CREATE TABLE factus_budget_accounts (
    account text PRIMARY KEY
);

CREATE TABLE factus_budget_calls (
    slot text PRIMARY KEY,
    account text NOT NULL,
    -- 'create', 'read', or 'external' (counted by Factus, not sent by us).
    class text NOT NULL,
    at_ms bigint NOT NULL,
    -- How many calls the row stands for: 1 for ours; a correction is one row for all it adds.
    weight bigint NOT NULL DEFAULT 1
);

CREATE INDEX factus_budget_calls_account_at_idx ON factus_budget_calls (account, at_ms);

CREATE TABLE factus_budget_waiters (
    account text NOT NULL,
    waiter text NOT NULL,
    class text NOT NULL,
    ticket_ms bigint NOT NULL,
    seen_ms bigint NOT NULL,
    PRIMARY KEY (account, waiter)
);
