-- The invoice ledger: every create is recorded here before Factus is called, so that an invoice
-- is issued exactly once however often a client retries and whichever instance it reaches.
--
-- An entry moves pending -> issued | rejected | unknown; unknown and a pending entry gone stale
-- are reconciled by looking the reference up at Factus, then become issued, or rejected with no
-- error status ("not issued at Factus"), or pending again for a resend. The use case
-- (factus-application `issuance`) owns that state machine; this schema guarantees what must hold
-- whatever instance writes: at most one active (pending, issued or unknown) entry per
-- reference_code, and at most one entry per Idempotency-Key of a user.
--
-- The SQLite twin of this file is migrations/sqlite/20261125000002_invoice_ledger.sql; keep the
-- two in step.

CREATE TABLE invoice_ledger (
    -- UUIDv7, chosen by the application: time-ordered, so new rows land at the end of the index.
    id                  uuid        NOT NULL,
    -- Who created the invoice. No foreign key to users: the ledger is the record of tax
    -- documents and outlives the users who issued them, so the username is kept alongside.
    user_id             uuid        NOT NULL,
    username            text        COLLATE "C" NOT NULL,
    -- The integrator's key of the invoice at Factus (the invoice's reference_code).
    reference_code      text        COLLATE "C" NOT NULL,
    -- The client's Idempotency-Key header, unique per user while set. Cleared once older than the
    -- retention period (at least 24 h) and the entry is settled; the row itself is kept.
    idempotency_key     text        COLLATE "C",
    -- Hex digest of the canonical request, computed by the web layer: "same key, same body".
    request_fingerprint text        NOT NULL,
    state               text        NOT NULL DEFAULT 'pending',
    -- What Factus answered for an issued entry (the reference's InvoiceResponse fields); also
    -- columns so that the ledger can be listed and filtered by number.
    factus_number       text        COLLATE "C",
    factus_prefix       text,
    factus_cufe         text,
    factus_qr_url       text,
    factus_status       text,
    -- The JSON text of what the client got on success,
    -- {"number","prefix","cufe","qr_url","status","message"}, replayed to a retry as it is.
    response            text,
    -- A rejected entry: Factus' HTTP status and message, replayed to a retry with the same
    -- Idempotency-Key. A NULL status means no answer from Factus: reconciliation found no bill
    -- for an entry whose outcome was unknown, so the attempt issued nothing and may be made again.
    error_status        integer,
    error_detail        text,
    -- How many times the invoice was sent to Factus under this entry (1, plus one per resend
    -- after a reconciliation found nothing). Also the version that compare-and-set transitions
    -- check, so that a transition decided on an old reading of the row cannot apply.
    attempts            integer     NOT NULL DEFAULT 1,
    created_at          timestamptz NOT NULL DEFAULT now(),
    updated_at          timestamptz NOT NULL DEFAULT now(),
    issued_at           timestamptz,

    CONSTRAINT invoice_ledger_pkey PRIMARY KEY (id),
    CONSTRAINT invoice_ledger_state_check
        CHECK (state IN ('pending', 'issued', 'rejected', 'unknown')),
    CONSTRAINT invoice_ledger_username_check CHECK (username = lower(username)),
    CONSTRAINT invoice_ledger_reference_code_check CHECK (char_length(reference_code) BETWEEN 1 AND 100),
    -- 1 to 255 printable ASCII characters (IETF idempotency-key draft, Stripe).
    CONSTRAINT invoice_ledger_idempotency_key_check CHECK (idempotency_key ~ '^[ -~]{1,255}$'),
    CONSTRAINT invoice_ledger_request_fingerprint_check CHECK (request_fingerprint ~ '^[0-9a-f]{1,128}$'),
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
    CONSTRAINT invoice_ledger_error_status_check CHECK (error_status BETWEEN 100 AND 599)
);

COMMENT ON TABLE invoice_ledger IS
    'Every invoice create, recorded before Factus is called: exactly-once issuance and its audit.';

CREATE TRIGGER invoice_ledger_touch_updated_at
    BEFORE UPDATE ON invoice_ledger
    FOR EACH ROW EXECUTE FUNCTION touch_updated_at();

-- The exactly-once guarantee: one active entry per reference_code. Rejected entries leave the
-- index, so a refused invoice can be fixed and sent again under the same reference. The stores
-- turn a violation into "reference active"; keep the name.
CREATE UNIQUE INDEX invoice_ledger_active_reference_key
    ON invoice_ledger (reference_code)
    WHERE state <> 'rejected';

-- Idempotency-Key semantics, scoped per user. The stores turn a violation into "key exists";
-- keep the name.
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

-- The reconciler's query (pending/unknown entries not touched for a while) and the per-state
-- counts of the metrics.
CREATE INDEX invoice_ledger_state_updated_at_idx
    ON invoice_ledger (state, updated_at);
