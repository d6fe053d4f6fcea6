-- The PDF and XML of validated documents, kept once downloaded: a document DIAN validated never
-- changes, so every later download is served from here instead of spending a Factus call.
--
-- Text and bigint columns only, as in 20261201130001_webhook_deliveries.sql, so that one set of
-- statements serves both backends (crates/infrastructure/src/db/document_files.rs). The SQLite
-- twin is migrations/sqlite/20261201130002_document_files.sql; keep them in step.

CREATE TABLE document_files (
    -- Factus' number of the document, e.g. SETP990000001.
    number          text   COLLATE "C" NOT NULL,
    format          text   NOT NULL,
    file_name       text   NOT NULL,
    -- The file, base64-encoded as Factus sends it.
    content_base64  text   NOT NULL,
    stored_us       bigint NOT NULL,

    CONSTRAINT document_files_pkey PRIMARY KEY (number, format),
    CONSTRAINT document_files_format_check CHECK (format IN ('pdf', 'xml'))
);

COMMENT ON TABLE document_files IS 'PDF and XML of DIAN-validated documents, downloaded from Factus once.';
