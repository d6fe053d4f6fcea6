//! The PDF and XML of validated documents (`migrations/*/20261201130002_document_files.sql`), one
//! set of statements for both backends (`on_pool!`).
//!
//! Every read counts in `cache_requests_total{cache="pdf"|"xml", outcome="hit"|"miss"}`.

use async_trait::async_trait;
use factus_application::StoreError;
use factus_application::documents::DocumentFileStore;
use factus_application::factus::{DocumentFormat, DownloadedFile};

use super::{Database, unexpected};
use crate::factus::cache;

/// [`DocumentFileStore`] on the service's database, Postgres or SQLite.
#[derive(Debug, Clone)]
pub struct SqlDocumentFileStore {
    database: Database,
}

impl SqlDocumentFileStore {
    #[must_use]
    pub fn new(database: Database) -> Self {
        Self { database }
    }
}

#[async_trait]
impl DocumentFileStore for SqlDocumentFileStore {
    async fn find(&self, number: &str, format: DocumentFormat) -> Result<Option<DownloadedFile>, StoreError> {
        let row: Option<(String, String)> = on_pool!(&self.database, pool => sqlx::query_as(
            "SELECT file_name, content_base64 FROM document_files WHERE number = $1 AND format = $2",
        )
        .bind(number)
        .bind(format.extension())
        .fetch_optional(pool)
        .await)
        .map_err(|error| unexpected(error, format!("reading the stored {} of {number}", format.extension())))?;
        cache::count(format.extension(), row.is_some());
        Ok(row.map(|(file_name, content_base64)| DownloadedFile { file_name, content_base64, format }))
    }

    async fn store(&self, number: &str, file: &DownloadedFile) -> Result<(), StoreError> {
        let stored_us = i64::try_from(time::OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000).unwrap_or(0);
        on_pool!(&self.database, pool => sqlx::query(
            "INSERT INTO document_files (number, format, file_name, content_base64, stored_us)
             VALUES ($1, $2, $3, $4, $5)
             ON CONFLICT (number, format) DO NOTHING",
        )
        .bind(number)
        .bind(file.format.extension())
        .bind(&file.file_name)
        .bind(&file.content_base64)
        .bind(stored_us)
        .execute(pool)
        .await
        .map(|_| ()))
        .map_err(|error| unexpected(error, format!("keeping the {} of {number}", file.format.extension())))?;
        Ok(())
    }
}
