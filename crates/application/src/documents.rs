//! Object-level access to issued documents: who may read, download, e-mail, delete or list the
//! events of a document.
//!
//! Bill numbers are sequential, so anybody could try their neighbours'. The rule, for every
//! document kind: admins act on any document; other users only on documents the ledger records
//! as theirs. A document the ledger does not know (issued before the ledger existed, or outside
//! this service) is for admins only. A refused user is told the document does not exist
//! ([`DocumentError::NotFound`], 404), the same answer as for a number nobody issued, so the
//! answer does not reveal which numbers exist.

use std::sync::Arc;

use factus_domain::invoice::ReferenceCode;
use factus_domain::user::User;
use thiserror::Error;

use async_trait::async_trait;

use crate::StoreError;
use crate::factus::{DocumentFormat, DownloadedFile, FactusFailure};
use crate::ledger::{EntryStatus, LedgerFilter, LedgerState, LedgerStore, PageSize};

/// Factus' bill status of a document DIAN validated.
const VALIDATED: &str = "1";

/// Where the PDF and XML of validated documents are kept once downloaded (they never change).
/// Implemented once for Postgres and SQLite.
#[cfg_attr(feature = "mocks", mockall::automock)]
#[async_trait]
pub trait DocumentFileStore: Send + Sync {
    /// The stored file of `number` in `format`, if any.
    ///
    /// # Errors
    /// [`StoreError`] when the store cannot be read.
    async fn find(&self, number: &str, format: DocumentFormat) -> Result<Option<DownloadedFile>, StoreError>;

    /// Keeps `file` as the document `number`'s (in its format); a file already kept stays.
    ///
    /// # Errors
    /// [`StoreError`] when the store cannot be written.
    async fn store(&self, number: &str, file: &DownloadedFile) -> Result<(), StoreError>;
}

/// How a request names a document.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DocumentRef<'a> {
    /// Its Factus number, e.g. `SETP990000001`.
    Number(&'a str),
    /// The client's reference code.
    Reference(&'a str),
}

/// Why an operation on an existing document failed.
#[derive(Debug, Error)]
pub enum DocumentError {
    /// Not the user's document (or unknown to the ledger, for a user who is not an admin).
    #[error("document not found")]
    NotFound,
    #[error(transparent)]
    Factus(#[from] FactusFailure),
    #[error(transparent)]
    Unexpected(#[from] StoreError),
}

/// The longest document number looked up; anything longer is nobody's.
const MAX_NUMBER_CHARS: usize = 64;

/// Decides whether a user may act on a document, from the ledger.
pub struct DocumentAccess {
    ledger: Arc<dyn LedgerStore>,
}

impl DocumentAccess {
    pub fn new(ledger: Arc<dyn LedgerStore>) -> Self {
        Self { ledger }
    }

    /// `Ok` when `user` may act on `document`.
    ///
    /// # Errors
    /// [`DocumentError::NotFound`] when the user is not an admin and the ledger does not record
    /// the document as theirs; `Unexpected` when the ledger cannot be read.
    pub async fn authorize(&self, user: &User, document: DocumentRef<'_>) -> Result<(), DocumentError> {
        if user.is_admin() {
            return Ok(());
        }
        let mut filter = LedgerFilter {
            user_id: Some(user.id),
            limit: PageSize::new(1).unwrap_or_default(),
            ..LedgerFilter::default()
        };
        match document {
            // A number with control characters (a NUL fails a Postgres query) or of absurd
            // length cannot be in the ledger.
            DocumentRef::Number(number)
                if number.is_empty()
                    || number.chars().count() > MAX_NUMBER_CHARS
                    || number.chars().any(char::is_control) =>
            {
                return Err(DocumentError::NotFound);
            }
            DocumentRef::Number(number) => filter.number = Some(number.to_owned()),
            DocumentRef::Reference(reference) => match ReferenceCode::parse(reference) {
                Ok(reference) => filter.reference_code = Some(reference),
                Err(_) => return Err(DocumentError::NotFound),
            },
        }
        if self.ledger.list(&filter).await?.entries.is_empty() {
            tracing::info!(username = %user.username, ?document, "document refused: not in the user's ledger");
            return Err(DocumentError::NotFound);
        }
        Ok(())
    }

    /// Whether the ledger holds `number` as issued and validated by DIAN (Factus' status `1`):
    /// such a document never changes. A number the ledger does not know, or a ledger that cannot
    /// be read, counts as not validated.
    pub async fn is_validated(&self, number: &str) -> bool {
        let filter = LedgerFilter {
            number: Some(number.to_owned()),
            state: Some(LedgerState::Issued),
            limit: PageSize::new(1).unwrap_or_default(),
            ..LedgerFilter::default()
        };
        match self.ledger.list(&filter).await {
            Ok(page) => page
                .entries
                .iter()
                .any(|entry| matches!(&entry.status, EntryStatus::Issued { bill, .. } if bill.status == VALIDATED)),
            Err(error) => {
                tracing::warn!(
                    number,
                    error = format!("{error:#}"),
                    "could not tell from the ledger whether a document is validated"
                );
                false
            }
        }
    }
}
