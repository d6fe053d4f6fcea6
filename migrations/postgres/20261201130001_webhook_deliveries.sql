-- Signed webhooks: an outbox of issuance outcomes and their delivery state.
--
-- Every time a ledger entry reaches an outcome (issued, rejected or unknown), the trigger below
-- records one event here, in the same transaction as the transition: whichever code path made it
-- (a client's create, its retry, the reconciler, the queue worker, another instance), an outcome
-- the ledger holds is never without its event, and a rolled-back transition leaves none. The
-- background dispatcher (factus-application `webhooks`) sends each event to WEBHOOK_URL, signed,
-- until the receiver answers 2xx or the attempts run out.
--
-- The row is both the event (a snapshot of the entry at the outcome: the body sent is built from
-- it, so every attempt sends the same bytes) and its delivery. Ids are text and instants are
-- microseconds since the Unix epoch (bigint) on both backends, so that one set of SQL statements
-- serves Postgres and SQLite (crates/infrastructure/src/db/webhooks.rs).
--
-- The SQLite twin is migrations/sqlite/20261201130001_webhook_deliveries.sql; keep them in step.

CREATE TABLE webhook_deliveries (
    -- The event id receivers de-duplicate on: stable across retries and redeliveries.
    event_id        text        NOT NULL,
    event_type      text        NOT NULL,
    -- The ledger entry at the outcome.
    entry_id        text        NOT NULL,
    kind            text        NOT NULL,
    reference_code  text        NOT NULL,
    user_id         text        NOT NULL,
    username        text        NOT NULL,
    ledger_attempts integer     NOT NULL,
    factus_number   text,
    factus_prefix   text,
    factus_cufe     text,
    factus_qr_url   text,
    factus_status   text,
    error_status    integer,
    error_detail    text,
    dian_rejected   boolean     NOT NULL,
    -- When the ledger recorded the outcome, and when the event was written.
    occurred_us     bigint      NOT NULL,
    created_us      bigint      NOT NULL,
    -- Delivery: pending (due at next_attempt_us; a claimed one is pushed forward by a lease, so
    -- a dispatcher that dies mid-send is retried after it), delivered, or failed (gave up).
    status          text        NOT NULL DEFAULT 'pending',
    attempts        integer     NOT NULL DEFAULT 0,
    next_attempt_us bigint,
    last_attempt_us bigint,
    last_http_status integer,
    last_error      text,
    delivered_us    bigint,

    CONSTRAINT webhook_deliveries_pkey PRIMARY KEY (event_id),
    CONSTRAINT webhook_deliveries_event_type_check
        CHECK (event_type IN ('document.issued', 'document.rejected', 'document.unknown')),
    CONSTRAINT webhook_deliveries_status_check CHECK (status IN ('pending', 'delivered', 'failed')),
    CONSTRAINT webhook_deliveries_pending_check CHECK (status <> 'pending' OR next_attempt_us IS NOT NULL),
    CONSTRAINT webhook_deliveries_attempts_check CHECK (attempts >= 0)
);

COMMENT ON TABLE webhook_deliveries IS
    'Outbox of issuance outcomes (document.issued/rejected/unknown) and their webhook delivery.';

-- The dispatcher's claim (due pending rows, oldest due first) and the admin listing.
CREATE INDEX webhook_deliveries_due_idx ON webhook_deliveries (next_attempt_us) WHERE status = 'pending';
CREATE INDEX webhook_deliveries_created_idx ON webhook_deliveries (created_us DESC, event_id DESC);
CREATE INDEX webhook_deliveries_entry_idx ON webhook_deliveries (entry_id);

CREATE FUNCTION invoice_ledger_record_outcome() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    now_us bigint := (extract(epoch FROM now()) * 1000000)::bigint;
BEGIN
    INSERT INTO webhook_deliveries
        (event_id, event_type, entry_id, kind, reference_code, user_id, username, ledger_attempts,
         factus_number, factus_prefix, factus_cufe, factus_qr_url, factus_status, error_status,
         error_detail, dian_rejected, occurred_us, created_us, next_attempt_us)
    VALUES
        (gen_random_uuid()::text, 'document.' || NEW.state, NEW.id::text, NEW.kind, NEW.reference_code,
         NEW.user_id::text, NEW.username, NEW.attempts, NEW.factus_number, NEW.factus_prefix,
         NEW.factus_cufe, NEW.factus_qr_url, NEW.factus_status, NEW.error_status, NEW.error_detail,
         NEW.dian_rejected, (extract(epoch FROM NEW.updated_at) * 1000000)::bigint, now_us, now_us);
    RETURN NULL;
END;
$$;

-- Outcomes only: a claim (insert) or a reopen (back to pending) is no outcome.
CREATE TRIGGER invoice_ledger_outcome_event
    AFTER UPDATE ON invoice_ledger
    FOR EACH ROW
    WHEN (NEW.state IN ('issued', 'rejected', 'unknown') AND OLD.state IS DISTINCT FROM NEW.state)
    EXECUTE FUNCTION invoice_ledger_record_outcome();
