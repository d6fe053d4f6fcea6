//! What is wrong with an invoice draft, and where.
//!
//! The web layer answers a bad invoice **once**, with every problem in it, so construction never
//! stops at the first problem: each check records a [`Violation`] and carries on. A violation
//! knows its [`Path`] inside the request body and its [`ViolationKind`], which tells the edge
//! whether it is a field bound (the request is malformed, 422) or a business rule (the request
//! is well formed but not acceptable, 400).

use std::error::Error;
use std::fmt;

/// One step of a [`Path`]: an object key or an array index.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PathSegment {
    Key(&'static str),
    Index(usize),
}

/// Where a problem is, relative to the request body: `items`, `0`, `price`.
///
/// The empty path is the body itself (rules about the whole invoice).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct Path(Vec<PathSegment>);

impl Path {
    /// The body itself.
    #[must_use]
    pub fn root() -> Self {
        Self(Vec::new())
    }

    /// This path followed by an object key.
    #[must_use]
    pub fn key(&self, key: &'static str) -> Self {
        let mut segments = self.0.clone();
        segments.push(PathSegment::Key(key));
        Self(segments)
    }

    /// This path followed by an array index.
    #[must_use]
    pub fn index(&self, index: usize) -> Self {
        let mut segments = self.0.clone();
        segments.push(PathSegment::Index(index));
        Self(segments)
    }

    #[must_use]
    pub fn segments(&self) -> &[PathSegment] {
        &self.0
    }

    /// The last key of the path, which names the field a message talks about.
    #[must_use]
    pub fn field_name(&self) -> Option<&'static str> {
        self.0.iter().rev().find_map(|segment| match segment {
            PathSegment::Key(key) => Some(*key),
            PathSegment::Index(_) => None,
        })
    }
}

impl fmt::Display for Path {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.is_empty() {
            return f.write_str("(body)");
        }
        for (position, segment) in self.0.iter().enumerate() {
            if position > 0 {
                f.write_str(".")?;
            }
            match segment {
                PathSegment::Key(key) => f.write_str(key)?,
                PathSegment::Index(index) => write!(f, "{index}")?,
            }
        }
        Ok(())
    }
}

/// The family of a problem. Everything but [`ViolationKind::BusinessRule`] is a schema problem of
/// a single field (422 at the edge); business rules are checked on well-formed invoices (400).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ViolationKind {
    /// The number must be greater than a limit (`quantity > 0`, `price > 0`).
    NotGreaterThan,
    /// The number must be at least a limit (rates ≥ 0, `is_excluded` ≥ 0).
    NotGreaterOrEqual,
    /// The number must be at most a limit (`is_excluded` ≤ 1, `discount_rate` ≤ 100).
    NotLessOrEqual,
    /// The text is longer than allowed (`observation` ≤ 250 characters).
    TooLong,
    /// The text is shorter than allowed (a blank `reference_code`).
    TooShort,
    /// The text has characters it may not have (a `/` in a `reference_code`).
    BadFormat,
    /// The text is not an e-mail address.
    BadEmail,
    /// The value is not one of a closed set of codes (`payment_form`, document types).
    NotPermitted,
    /// The number has more decimal places than allowed (`price` with three). A rule of one field,
    /// judged with the field checks as the original's field validators do, so it is reported
    /// together with missing or mistyped fields in one 422.
    TooManyDecimals,
    /// A rule of the invoice as a whole: credit needs a due date, NIT needs a DV, at least one
    /// item… Judged only on a well-formed invoice (400).
    BusinessRule,
}

impl ViolationKind {
    /// Whether the problem is a business rule (400) rather than a field bound or format (422).
    #[must_use]
    pub fn is_business_rule(self) -> bool {
        self == Self::BusinessRule
    }
}

/// One problem of an invoice draft: where, what kind, and the message the client reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    path: Path,
    kind: ViolationKind,
    message: String,
}

impl Violation {
    pub fn new(path: Path, kind: ViolationKind, message: impl Into<String>) -> Self {
        Self { path, kind, message: message.into() }
    }

    /// A business rule broken at `path`.
    pub fn rule(path: Path, message: impl Into<String>) -> Self {
        Self::new(path, ViolationKind::BusinessRule, message)
    }

    /// The violation a value error describes, located at `path` (whose last key names the field).
    pub fn of(path: Path, problem: &impl FieldProblem) -> Self {
        let message = problem.message_for(path.field_name().unwrap_or("value"));
        Self::new(path, problem.kind(), message)
    }

    #[must_use]
    pub fn path(&self) -> &Path {
        &self.path
    }

    #[must_use]
    pub fn kind(&self) -> ViolationKind {
        self.kind
    }

    #[must_use]
    pub fn message(&self) -> &str {
        &self.message
    }

    #[must_use]
    pub fn is_business_rule(&self) -> bool {
        self.kind.is_business_rule()
    }
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.path, self.message)
    }
}

impl Error for Violation {}

/// An error of one value type (`Money`, `Rate`, `ReferenceCode`, …) that can be reported as a
/// [`Violation`] of the field it was read from.
///
/// The message depends on the field for some rules (`price must have max 2 decimal places`), so
/// it is asked for with the field's name.
pub trait FieldProblem: Error {
    /// Which family the problem belongs to.
    fn kind(&self) -> ViolationKind;

    /// The message for the client, given the name of the field that holds the value.
    fn message_for(&self, field: &str) -> String {
        let _ = field;
        self.to_string()
    }
}

/// Keeps the value of a check, or records its problem at `path` and gives `None`.
pub(crate) fn collect<T, E: FieldProblem>(result: Result<T, E>, path: Path, out: &mut Vec<Violation>) -> Option<T> {
    match result {
        Ok(value) => Some(value),
        Err(problem) => {
            out.push(Violation::of(path, &problem));
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_path_reads_like_the_body_it_points_into() {
        let path = Path::root().key("items").index(0).key("price");
        assert_eq!(path.to_string(), "items.0.price");
        assert_eq!(path.field_name(), Some("price"));
        assert_eq!(Path::root().to_string(), "(body)");
    }

    #[test]
    fn only_business_rules_are_business_rules() {
        assert!(ViolationKind::BusinessRule.is_business_rule());
        assert!(!ViolationKind::NotGreaterThan.is_business_rule());
        assert!(!ViolationKind::TooLong.is_business_rule());
        assert!(!ViolationKind::TooManyDecimals.is_business_rule());
    }
}
