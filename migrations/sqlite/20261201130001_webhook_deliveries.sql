-- Signed webhooks: an outbox of issuance outcomes and their delivery state.
--
-- The SQLite twin of migrations/postgres/20261201130001_webhook_deliveries.sql, which explains
-- the table and the trigger; keep the two in step. Unlike the older tables, ids are text and
-- instants are microseconds since the Unix epoch (INTEGER) on both backends, so that one set of
-- SQL statements serves both (crates/infrastructure/src/db/webhooks.rs).

CREATE TABLE webhook_deliveries (
    event_id         TEXT    NOT NULL,
    event_type       TEXT    NOT NULL,
    entry_id         TEXT    NOT NULL,
    kind             TEXT    NOT NULL,
    reference_code   TEXT    NOT NULL,
    user_id          TEXT    NOT NULL,
    username         TEXT    NOT NULL,
    ledger_attempts  INTEGER NOT NULL,
    factus_number    TEXT,
    factus_prefix    TEXT,
    factus_cufe      TEXT,
    factus_qr_url    TEXT,
    factus_status    TEXT,
    error_status     INTEGER,
    error_detail     TEXT,
    dian_rejected    INTEGER NOT NULL CHECK (dian_rejected IN (0, 1)),
    occurred_us      INTEGER NOT NULL,
    created_us       INTEGER NOT NULL,
    status           TEXT    NOT NULL DEFAULT 'pending',
    attempts         INTEGER NOT NULL DEFAULT 0,
    next_attempt_us  INTEGER,
    last_attempt_us  INTEGER,
    last_http_status INTEGER,
    last_error       TEXT,
    delivered_us     INTEGER,

    CONSTRAINT webhook_deliveries_pkey PRIMARY KEY (event_id),
    CONSTRAINT webhook_deliveries_event_type_check
        CHECK (event_type IN ('document.issued', 'document.rejected', 'document.unknown')),
    CONSTRAINT webhook_deliveries_status_check CHECK (status IN ('pending', 'delivered', 'failed')),
    CONSTRAINT webhook_deliveries_pending_check CHECK (status <> 'pending' OR next_attempt_us IS NOT NULL),
    CONSTRAINT webhook_deliveries_attempts_check CHECK (attempts >= 0)
) STRICT;

CREATE INDEX webhook_deliveries_due_idx ON webhook_deliveries (next_attempt_us) WHERE status = 'pending';
CREATE INDEX webhook_deliveries_created_idx ON webhook_deliveries (created_us DESC, event_id DESC);
CREATE INDEX webhook_deliveries_entry_idx ON webhook_deliveries (entry_id);

-- The ledger keeps `updated_at` as fixed-width UTC text (`YYYY-MM-DDTHH:MM:SS.ffffffZ`): whole
-- seconds through unixepoch, the six digits after the dot added as microseconds; "now" comes from
-- julianday (millisecond precision). The event id is a random (version 4) UUID.
CREATE TRIGGER invoice_ledger_outcome_event
    AFTER UPDATE ON invoice_ledger
    FOR EACH ROW
    WHEN NEW.state IN ('issued', 'rejected', 'unknown') AND OLD.state IS NOT NEW.state
BEGIN
    INSERT INTO webhook_deliveries
        (event_id, event_type, entry_id, kind, reference_code, user_id, username, ledger_attempts,
         factus_number, factus_prefix, factus_cufe, factus_qr_url, factus_status, error_status,
         error_detail, dian_rejected, occurred_us, created_us, next_attempt_us)
    VALUES
        (lower(hex(randomblob(4))) || '-' || lower(hex(randomblob(2))) || '-4'
             || substr(lower(hex(randomblob(2))), 2) || '-' || substr('89ab', 1 + (abs(random()) % 4), 1)
             || substr(lower(hex(randomblob(2))), 2) || '-' || lower(hex(randomblob(6))),
         'document.' || NEW.state, NEW.id, NEW.kind, NEW.reference_code, NEW.user_id, NEW.username,
         NEW.attempts, NEW.factus_number, NEW.factus_prefix, NEW.factus_cufe, NEW.factus_qr_url,
         NEW.factus_status, NEW.error_status, NEW.error_detail, NEW.dian_rejected,
         unixepoch(substr(NEW.updated_at, 1, 19)) * 1000000 + CAST(substr(NEW.updated_at, 21, 6) AS INTEGER),
         CAST((julianday('now') - 2440587.5) * 86400000000 AS INTEGER),
         CAST((julianday('now') - 2440587.5) * 86400000000 AS INTEGER));
END;
