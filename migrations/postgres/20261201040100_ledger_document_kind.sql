-- One ledger for every document kind, and DIAN rejections that must not block the account.
--
-- kind: which Factus document the entry is (invoice, credit_note, debit_note,
-- support_document); entries from before this migration are invoices. References stay unique
-- across kinds among active entries (the index of 20261125000002_invoice_ledger.sql is kept).
--
-- dian_rejected: Factus stored the document and DIAN rejected it (a rule such as FAK24); such
-- a document stays pending at Factus and makes every new create of its kind answer 409 until it
-- is deleted. factus_deleted: the gateway (or an operator through it) has deleted that stuck
-- document at Factus. An entry with dian_rejected and not factus_deleted is what the gateway
-- deletes when Factus answers "pendiente por enviar a la DIAN".
--
-- The SQLite twin is migrations/sqlite/20261201040100_ledger_document_kind.sql; keep them in step.

ALTER TABLE invoice_ledger
    ADD COLUMN kind text NOT NULL DEFAULT 'invoice'
        CONSTRAINT invoice_ledger_kind_check
        CHECK (kind IN ('invoice', 'credit_note', 'debit_note', 'support_document')),
    ADD COLUMN dian_rejected boolean NOT NULL DEFAULT false,
    ADD COLUMN factus_deleted boolean NOT NULL DEFAULT false,
    ADD CONSTRAINT invoice_ledger_dian_rejected_check CHECK (NOT dian_rejected OR state = 'rejected');

-- The rejected documents still stuck at Factus, per kind (few rows: usually none).
CREATE INDEX invoice_ledger_stuck_idx
    ON invoice_ledger (kind, created_at)
    WHERE dian_rejected AND NOT factus_deleted;

-- Listing one kind, newest first.
CREATE INDEX invoice_ledger_kind_created_at_idx
    ON invoice_ledger (kind, created_at DESC, id DESC);
