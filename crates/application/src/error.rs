//! The error every store port shares for failures that are not a business outcome.

use thiserror::Error;

/// A store could not do what was asked for a reason the caller cannot act on (connection lost,
/// disk full, a bug). Business outcomes such as "username taken" have their own variants in the
/// port's own error type instead.
#[derive(Debug, Error)]
#[error(transparent)]
pub struct StoreError(#[from] pub anyhow::Error);
