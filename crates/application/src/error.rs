//! The error every store port shares for failures that are not a business outcome.

use thiserror::Error;

/// A store could not do what was asked for a reason the caller cannot act on (connection lost,
/// disk full, a bug). Business outcomes such as "username taken" have their own variants in the
/// port's own error type instead.
///
/// When the cause is the database being unavailable rather than a bug, the adapter puts a
/// [`DatabaseUnavailable`] in the error's chain ([`StoreError::unavailable`]); the edge answers
/// those 503 `Base de datos no disponible` instead of a 500 ([`is_database_unavailable`]).
#[derive(Debug, Error)]
#[error(transparent)]
pub struct StoreError(#[from] pub anyhow::Error);

impl StoreError {
    /// A failure of the database itself (unreachable, pool exhausted, read-only, disk full, files
    /// gone), while `attempted` was being done.
    pub fn unavailable(
        cause: impl Into<Box<dyn std::error::Error + Send + Sync>>,
        read_only: bool,
        attempted: impl Into<String>,
    ) -> Self {
        let unavailable = DatabaseUnavailable { read_only, source: cause.into() };
        Self(anyhow::Error::new(unavailable).context(attempted.into()))
    }

    /// The [`DatabaseUnavailable`] in this error's chain, if any.
    #[must_use]
    pub fn unavailability(&self) -> Option<&DatabaseUnavailable> {
        database_unavailable(&self.0)
    }
}

/// The database cannot serve requests now: it cannot be reached within the acquire timeout, it
/// refuses writes (a read-only standby, a read-only file), or its storage fails (disk full, files
/// truncated or deleted). Nothing about the request is wrong; a retry later may succeed.
#[derive(Debug, Error)]
#[error("the database is unavailable{}", if *.read_only { " (read-only)" } else { "" })]
pub struct DatabaseUnavailable {
    /// The database answers but refuses writes.
    pub read_only: bool,
    #[source]
    pub source: Box<dyn std::error::Error + Send + Sync>,
}

/// The [`DatabaseUnavailable`] somewhere in `error`'s chain (also through the use cases' error
/// types, which wrap a [`StoreError`] transparently).
#[must_use]
pub fn database_unavailable(error: &anyhow::Error) -> Option<&DatabaseUnavailable> {
    error
        .downcast_ref::<DatabaseUnavailable>()
        .or_else(|| error.chain().find_map(|cause| cause.downcast_ref::<DatabaseUnavailable>()))
}

/// Whether `error` is the database being unavailable (503) rather than a bug (500).
#[must_use]
pub fn is_database_unavailable(error: &anyhow::Error) -> bool {
    database_unavailable(error).is_some()
}

/// An error that is not an `anyhow::Error` (reqwest, hyper, io), with its causes, the way `{:#}`
/// writes an `anyhow::Error`: `outer: cause: root cause`. Log fields carry the whole chain
/// (`docs/logging.md`); a foreign error's `Display` is only its outermost message.
#[must_use]
pub fn error_chain(error: &(dyn std::error::Error + 'static)) -> String {
    anyhow::Chain::new(error).map(ToString::to_string).collect::<Vec<_>>().join(": ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, Error)]
    enum UseCaseError {
        #[error(transparent)]
        Unexpected(#[from] StoreError),
    }

    #[test]
    fn an_unavailable_database_is_recognised_through_transparent_wrappers() {
        let store = StoreError::unavailable(std::io::Error::other("disk full"), false, "claiming reference R1");
        assert!(store.unavailability().is_some());
        let wrapped = anyhow::Error::new(UseCaseError::from(store));
        assert!(is_database_unavailable(&wrapped));
        assert!(format!("{wrapped:#}").contains("disk full"));
    }

    #[test]
    fn other_store_errors_are_not_an_unavailable_database() {
        let store = StoreError(anyhow::anyhow!("a stored row does not decode"));
        assert!(store.unavailability().is_none());
        assert!(!is_database_unavailable(&anyhow::Error::new(UseCaseError::from(store))));
    }

    #[test]
    fn a_foreign_error_is_written_with_its_causes() {
        #[derive(Debug, Error)]
        #[error("sending the request failed")]
        struct Outer(#[source] std::io::Error);
        let error = Outer(std::io::Error::other("connection refused"));
        assert_eq!(error_chain(&error), "sending the request failed: connection refused");
    }

    #[test]
    fn read_only_is_kept() {
        let store = StoreError::unavailable(std::io::Error::other("read-only"), true, "writing");
        assert!(store.unavailability().is_some_and(|unavailable| unavailable.read_only));
    }
}
