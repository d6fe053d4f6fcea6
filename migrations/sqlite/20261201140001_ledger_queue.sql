-- Queued creates: a `queued` state and the request kept to send it later.
--
-- The SQLite twin of migrations/postgres/20261201140001_ledger_queue.sql, which explains the
-- state and the column; keep the two in step. SQLite cannot change a CHECK constraint in place,
-- so the table is rebuilt the documented way (create, copy, drop, rename) with every column,
-- constraint, index and trigger the earlier migrations gave it; no foreign key refers to it.

CREATE TABLE invoice_ledger_rebuilt (
    -- UUIDv7, chosen by the application.
    id                  TEXT    NOT NULL,
    -- Who created the invoice. No foreign key to users: the ledger is the record of tax
    -- documents and outlives the users who issued them, so the username is kept alongside.
    user_id             TEXT    NOT NULL,
    username            TEXT    NOT NULL,
    -- The integrator's key of the invoice at Factus (the invoice's reference_code).
    reference_code      TEXT    NOT NULL,
    -- The client's Idempotency-Key header, unique per user while set. Cleared once older than the
    -- retention period (at least 24 h) and the entry is settled; the row itself is kept.
    idempotency_key     TEXT,
    -- Hex digest of the canonical request, computed by the web layer: "same key, same body".
    request_fingerprint TEXT    NOT NULL,
    state               TEXT    NOT NULL DEFAULT 'pending',
    -- What Factus answered for an issued entry; also columns for listing and filtering.
    factus_number       TEXT,
    factus_prefix       TEXT,
    factus_cufe         TEXT,
    factus_qr_url       TEXT,
    factus_status       TEXT,
    -- The JSON text of what the client got on success, replayed to a retry as it is.
    response            TEXT,
    -- A rejected entry: Factus' HTTP status and message. A NULL status means reconciliation found
    -- no bill at Factus for an entry whose outcome was unknown (the attempt issued nothing).
    error_status        INTEGER,
    error_detail        TEXT,
    -- Sends under this entry; also the version compare-and-set transitions check.
    attempts            INTEGER NOT NULL DEFAULT 1,
    created_at          TEXT    NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%f', 'now') || '000Z'),
    updated_at          TEXT    NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%f', 'now') || '000Z'),
    issued_at           TEXT,
    api_key_id          TEXT,
    kind                TEXT    NOT NULL DEFAULT 'invoice',
    dian_rejected       INTEGER NOT NULL DEFAULT 0,
    factus_deleted      INTEGER NOT NULL DEFAULT 0,
    total               TEXT,
    referenced_number   TEXT,
    queued_request      TEXT,

    CONSTRAINT invoice_ledger_pkey PRIMARY KEY (id),
    CONSTRAINT invoice_ledger_id_check CHECK (length(id) = 36 AND id = lower(id)),
    CONSTRAINT invoice_ledger_user_id_check CHECK (length(user_id) = 36 AND user_id = lower(user_id)),
    CONSTRAINT invoice_ledger_state_check
        CHECK (state IN ('queued', 'pending', 'issued', 'rejected', 'unknown')),
    CONSTRAINT invoice_ledger_queued_request_check CHECK (state <> 'queued' OR queued_request IS NOT NULL),
    CONSTRAINT invoice_ledger_api_key_id_check CHECK (length(api_key_id) = 36 AND api_key_id = lower(api_key_id)),
    CONSTRAINT invoice_ledger_kind_check
        CHECK (kind IN ('invoice', 'credit_note', 'debit_note', 'support_document')),
    CONSTRAINT invoice_ledger_dian_rejected_check
        CHECK (dian_rejected IN (0, 1) AND (dian_rejected = 0 OR state = 'rejected')),
    CONSTRAINT invoice_ledger_factus_deleted_check CHECK (factus_deleted IN (0, 1)),
    CONSTRAINT invoice_ledger_username_check CHECK (username = lower(username)),
    CONSTRAINT invoice_ledger_reference_code_check CHECK (length(reference_code) BETWEEN 1 AND 100),
    -- 1 to 255 printable ASCII characters (IETF idempotency-key draft, Stripe).
    CONSTRAINT invoice_ledger_idempotency_key_check CHECK (
        length(idempotency_key) BETWEEN 1 AND 255 AND idempotency_key NOT GLOB '*[^ -~]*'
    ),
    CONSTRAINT invoice_ledger_request_fingerprint_check CHECK (
        length(request_fingerprint) BETWEEN 1 AND 128 AND request_fingerprint NOT GLOB '*[^0-9a-f]*'
    ),
    CONSTRAINT invoice_ledger_attempts_check CHECK (attempts >= 1),
    -- An issued entry carries everything a replay needs; no other entry carries any of it.
    CONSTRAINT invoice_ledger_issued_check CHECK (
        state <> 'issued'
        OR (factus_number IS NOT NULL AND factus_prefix IS NOT NULL AND factus_cufe IS NOT NULL
            AND factus_qr_url IS NOT NULL AND factus_status IS NOT NULL AND response IS NOT NULL
            AND issued_at IS NOT NULL)
    ),
    CONSTRAINT invoice_ledger_not_issued_check CHECK (
        state = 'issued' OR (response IS NULL AND issued_at IS NULL AND factus_number IS NULL)
    ),
    -- A rejected entry says why; no other entry carries an error.
    CONSTRAINT invoice_ledger_rejected_check CHECK (state <> 'rejected' OR error_detail IS NOT NULL),
    CONSTRAINT invoice_ledger_not_rejected_check CHECK (
        state = 'rejected' OR (error_status IS NULL AND error_detail IS NULL)
    ),
    CONSTRAINT invoice_ledger_error_status_check CHECK (error_status BETWEEN 100 AND 599),
    CONSTRAINT invoice_ledger_created_at_check
        CHECK (length(created_at) = 27 AND created_at GLOB '????-??-??T??:??:??.??????Z'),
    CONSTRAINT invoice_ledger_updated_at_check
        CHECK (length(updated_at) = 27 AND updated_at GLOB '????-??-??T??:??:??.??????Z'),
    CONSTRAINT invoice_ledger_issued_at_check
        CHECK (length(issued_at) = 27 AND issued_at GLOB '????-??-??T??:??:??.??????Z')
) STRICT;

INSERT INTO invoice_ledger_rebuilt (id, user_id, username, reference_code, idempotency_key, request_fingerprint, state, factus_number, factus_prefix, factus_cufe, factus_qr_url, factus_status, response, error_status, error_detail, attempts, created_at, updated_at, issued_at, api_key_id, kind, dian_rejected, factus_deleted, total, referenced_number)
SELECT id, user_id, username, reference_code, idempotency_key, request_fingerprint, state, factus_number, factus_prefix, factus_cufe, factus_qr_url, factus_status, response, error_status, error_detail, attempts, created_at, updated_at, issued_at, api_key_id, kind, dian_rejected, factus_deleted, total, referenced_number FROM invoice_ledger;

DROP TABLE invoice_ledger;
ALTER TABLE invoice_ledger_rebuilt RENAME TO invoice_ledger;
-- Keeps `updated_at` honest for rows changed outside the application, as for users.
CREATE TRIGGER invoice_ledger_touch_updated_at
    AFTER UPDATE ON invoice_ledger
    FOR EACH ROW WHEN NEW.updated_at = OLD.updated_at
BEGIN
    UPDATE invoice_ledger
       SET updated_at = strftime('%Y-%m-%dT%H:%M:%f', 'now') || '000Z'
     WHERE id = NEW.id;
END;

-- The exactly-once guarantee: one active entry per reference_code; rejected entries leave the
-- index. SQLite reports a violation as "UNIQUE constraint failed: invoice_ledger.reference_code",
-- which the store turns into "reference active".
CREATE UNIQUE INDEX invoice_ledger_active_reference_key
    ON invoice_ledger (reference_code)
    WHERE state <> 'rejected';

-- Idempotency-Key semantics, scoped per user ("UNIQUE constraint failed:
-- invoice_ledger.user_id, invoice_ledger.idempotency_key" becomes "key exists").
CREATE UNIQUE INDEX invoice_ledger_user_idempotency_key
    ON invoice_ledger (user_id, idempotency_key)
    WHERE idempotency_key IS NOT NULL;

-- Listing, newest first, with the (created_at, id) cursor: for everybody (admins) and per user.
CREATE INDEX invoice_ledger_created_at_idx
    ON invoice_ledger (created_at DESC, id DESC);
CREATE INDEX invoice_ledger_user_created_at_idx
    ON invoice_ledger (user_id, created_at DESC, id DESC);

-- Filters by reference (every state, unlike the unique index) and by Factus number.
CREATE INDEX invoice_ledger_reference_code_idx
    ON invoice_ledger (reference_code);
CREATE INDEX invoice_ledger_factus_number_idx
    ON invoice_ledger (factus_number)
    WHERE factus_number IS NOT NULL;

-- The reconciler's query and the per-state counts of the metrics.
CREATE INDEX invoice_ledger_state_updated_at_idx
    ON invoice_ledger (state, updated_at);

CREATE INDEX invoice_ledger_stuck_idx
    ON invoice_ledger (kind, created_at)
    WHERE dian_rejected = 1 AND factus_deleted = 0;

CREATE INDEX invoice_ledger_kind_created_at_idx
    ON invoice_ledger (kind, created_at DESC, id DESC);

CREATE INDEX invoice_ledger_referenced_idx
    ON invoice_ledger (referenced_number, created_at DESC, id DESC)
    WHERE referenced_number IS NOT NULL;

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

-- The worker's query: the oldest queued entry, and the queue's depth and age.
CREATE INDEX invoice_ledger_queue_idx
    ON invoice_ledger (created_at, id)
    WHERE state = 'queued';
