-- What each document is worth, and which invoice a note corrects.
--
-- The SQLite twin of migrations/postgres/20261201110001_ledger_note_amounts.sql, which explains
-- the columns; keep the two in step.

ALTER TABLE invoice_ledger ADD COLUMN total TEXT;
ALTER TABLE invoice_ledger ADD COLUMN referenced_number TEXT;

CREATE INDEX invoice_ledger_referenced_idx
    ON invoice_ledger (referenced_number, created_at DESC, id DESC)
    WHERE referenced_number IS NOT NULL;
