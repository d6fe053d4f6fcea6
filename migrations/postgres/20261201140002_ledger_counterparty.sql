-- Who each document is for, so that operators can find a customer's documents (the console's
-- customer filter, `GET /api/v1/invoices?customer=`): an invoice's or note's customer, a support
-- document's provider. NULL for entries recorded before this migration and for notes that leave
-- the customer to their invoice.
--
-- counterparty_identification: the identification number, matched exactly.
-- counterparty_name: the company's name, else the person's; matched by a part, in any case.
--
-- The SQLite twin is migrations/sqlite/20261201140002_ledger_counterparty.sql; keep them in step.

ALTER TABLE invoice_ledger
    ADD COLUMN counterparty_identification text,
    ADD COLUMN counterparty_name text;

CREATE INDEX invoice_ledger_counterparty_identification_idx
    ON invoice_ledger (counterparty_identification, created_at DESC, id DESC)
    WHERE counterparty_identification IS NOT NULL;
