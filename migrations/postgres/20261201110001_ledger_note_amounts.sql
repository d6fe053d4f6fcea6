-- What each document is worth, and which invoice a note corrects: the credit notes of one
-- invoice may not credit more than its total (partial returns add up), and an annulment credits
-- exactly what is left, so the ledger keeps both for the notes that come later.
--
-- total: the document's total as Factus v1 computes it, the exact decimal as text (the same on
-- both backends; never a float). NULL for entries recorded before this migration.
-- referenced_number: the number of the invoice a credit or debit note corrects.
--
-- The SQLite twin is migrations/sqlite/20261201110001_ledger_note_amounts.sql; keep them in step.

ALTER TABLE invoice_ledger
    ADD COLUMN total text,
    ADD COLUMN referenced_number text;

-- The notes of one invoice, newest first (few rows per invoice).
CREATE INDEX invoice_ledger_referenced_idx
    ON invoice_ledger (referenced_number, created_at DESC, id DESC)
    WHERE referenced_number IS NOT NULL;
