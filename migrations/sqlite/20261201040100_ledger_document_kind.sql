-- One ledger for every document kind, and DIAN rejections that must not block the account.
--
-- The SQLite twin of migrations/postgres/20261201040100_ledger_document_kind.sql, which explains
-- the columns; keep the two in step. Booleans are INTEGER 0/1 (STRICT tables).

ALTER TABLE invoice_ledger ADD COLUMN kind TEXT NOT NULL DEFAULT 'invoice'
    CONSTRAINT invoice_ledger_kind_check
    CHECK (kind IN ('invoice', 'credit_note', 'debit_note', 'support_document'));
ALTER TABLE invoice_ledger ADD COLUMN dian_rejected INTEGER NOT NULL DEFAULT 0
    CONSTRAINT invoice_ledger_dian_rejected_check CHECK (dian_rejected IN (0, 1) AND (dian_rejected = 0 OR state = 'rejected'));
ALTER TABLE invoice_ledger ADD COLUMN factus_deleted INTEGER NOT NULL DEFAULT 0
    CONSTRAINT invoice_ledger_factus_deleted_check CHECK (factus_deleted IN (0, 1));

CREATE INDEX invoice_ledger_stuck_idx
    ON invoice_ledger (kind, created_at)
    WHERE dian_rejected = 1 AND factus_deleted = 0;

CREATE INDEX invoice_ledger_kind_created_at_idx
    ON invoice_ledger (kind, created_at DESC, id DESC);
