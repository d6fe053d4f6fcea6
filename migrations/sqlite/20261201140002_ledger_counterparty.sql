-- Who each document is for. The SQLite twin of
-- migrations/postgres/20261201140002_ledger_counterparty.sql, which explains the columns; keep the
-- two in step.

ALTER TABLE invoice_ledger ADD COLUMN counterparty_identification TEXT;
ALTER TABLE invoice_ledger ADD COLUMN counterparty_name TEXT;

CREATE INDEX invoice_ledger_counterparty_identification_idx
    ON invoice_ledger (counterparty_identification, created_at DESC, id DESC)
    WHERE counterparty_identification IS NOT NULL;
