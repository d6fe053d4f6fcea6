-- Queued creates: when the Factus budget (80 calls a minute per account) has no slot for a create
-- within FACTUS_QUEUE_WAIT_SECS, its entry waits in the ledger as `queued` and the client gets 202
-- Accepted; a background worker on any instance sends queued entries oldest first as the budget
-- allows, through the same exactly-once path (factus-application `issuance::queue`).
--
-- state 'queued': claimed (the reference and the Idempotency-Key are taken, like any active
--   entry) and not sent yet. It stays in the unique index of active references (state <>
--   'rejected'), so a retry finds it and gets the same entry.
-- queued_request: what is needed to send the document later, written by the web layer when it
--   queues the entry (the request body as the client sent it and how to read it). Kept while the
--   entry is not settled, so that a worker that died while sending can queue it again once the
--   look-up at Factus found nothing; a queued entry always has it.
--
-- The SQLite twin is migrations/sqlite/20261201140001_ledger_queue.sql; keep them in step.

ALTER TABLE invoice_ledger
    ADD COLUMN queued_request text;

ALTER TABLE invoice_ledger
    DROP CONSTRAINT invoice_ledger_state_check,
    ADD CONSTRAINT invoice_ledger_state_check
        CHECK (state IN ('queued', 'pending', 'issued', 'rejected', 'unknown')),
    ADD CONSTRAINT invoice_ledger_queued_request_check
        CHECK (state <> 'queued' OR queued_request IS NOT NULL);

-- The worker's query: the oldest queued entry (FOR UPDATE SKIP LOCKED), and the queue's depth
-- and age for metrics and readiness.
CREATE INDEX invoice_ledger_queue_idx
    ON invoice_ledger (created_at, id)
    WHERE state = 'queued';
