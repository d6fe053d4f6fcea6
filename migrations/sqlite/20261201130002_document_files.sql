-- The PDF and XML of validated documents, kept once downloaded. The SQLite twin of
-- migrations/postgres/20261201130002_document_files.sql, which explains the table; keep the two
-- in step.

CREATE TABLE document_files (
    number          TEXT    NOT NULL,
    format          TEXT    NOT NULL,
    file_name       TEXT    NOT NULL,
    content_base64  TEXT    NOT NULL,
    stored_us       INTEGER NOT NULL,

    CONSTRAINT document_files_pkey PRIMARY KEY (number, format),
    CONSTRAINT document_files_format_check CHECK (format IN ('pdf', 'xml'))
) STRICT;
