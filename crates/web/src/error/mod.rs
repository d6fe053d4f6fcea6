//! The FastAPI-compatible error responses, and the one place use-case errors become HTTP.
//!
//! Every error body is `{"detail": "<text>"}` or `{"detail": [{"loc", "msg", "type"}, …]}`.
//! Unexpected errors answer a generic 500 and are logged once, here, with the request's span
//! (which carries the request id); nothing internal reaches the client.
//!
//! Handlers return use-case errors with `?`: the `From` implementations at the end of this file
//! are the whole mapping, and its table test pins every variant's status and body.
//!
//! Factus failures keep the wire contract's texts (`"<prefix>: <message>"`, see
//! `docs/contract.md`) and get the statuses a client can act on: 400 when Factus refused the
//! request, 503 when Factus is unreachable, answers 5xx, rate-limits us or the circuit is open,
//! 504 when it did not answer in time.

use std::time::Duration;

use axum::Json;
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use factus_application::StoreError;
use factus_application::account::AccountError;
use factus_application::api_keys::{ApiKeyAuthError, CreateApiKeyError, RevokeApiKeyError};
use factus_application::auth::{AuthenticateError, ChangePasswordError, LoginError};
use factus_application::company::LogoError;
use factus_application::documents::DocumentError;
use factus_application::factus::{FactusError, FactusFailure, FactusOperation};
use factus_application::issuance::{IssueError, IssueFailure};
use factus_application::ledger::DocumentKind;
use factus_application::users::{CreateUserError, UpdateUserError};
use factus_application::webhooks::RedeliverError;
use serde_json::{Value, json};

use crate::factus::missing_factus_token;
use crate::invoices::request::field_error;
use crate::validation::{FieldError, Loc};

/// `Idempotent-Replayed: true` marks an answer that an earlier request produced.
pub const REPLAYED: HeaderName = HeaderName::from_static("idempotent-replayed");

/// An error response.
#[derive(Debug)]
pub enum ApiError {
    /// 422: the request is malformed (shape, types, presence, field bounds).
    Validation(Vec<FieldError>),
    /// 400: the request is well formed but breaks a business rule of the invoice.
    BusinessRules(Vec<FieldError>),
    /// `{"detail": text}` with any status, and optional extra headers.
    Detail { status: StatusCode, detail: String, headers: HeaderMap },
    /// 500 `Internal Server Error`; the cause is logged, never sent. When the cause is the
    /// database being unavailable (`factus_application::DatabaseUnavailable` in its chain), 503
    /// `Base de datos no disponible` instead.
    Internal(anyhow::Error),
}

impl ApiError {
    pub fn detail(status: StatusCode, detail: impl Into<String>) -> Self {
        Self::Detail { status, detail: detail.into(), headers: HeaderMap::new() }
    }

    #[must_use]
    pub fn with_header(mut self, name: HeaderName, value: HeaderValue) -> Self {
        if let Self::Detail { headers, .. } = &mut self {
            headers.insert(name, value);
        }
        self
    }

    fn unauthorized(detail: &str) -> Self {
        Self::detail(StatusCode::UNAUTHORIZED, detail)
            .with_header(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"))
    }

    /// 401 `Not authenticated`: no bearer token was sent.
    #[must_use]
    pub fn not_authenticated() -> Self {
        Self::unauthorized("Not authenticated")
    }

    /// 401 `Could not validate credentials`: the token was refused.
    #[must_use]
    pub fn invalid_token() -> Self {
        Self::unauthorized("Could not validate credentials")
    }

    /// 401 `Incorrect username or password`.
    #[must_use]
    pub fn incorrect_credentials() -> Self {
        Self::unauthorized("Incorrect username or password")
    }

    /// 401 `Could not validate credentials` for a refused `X-API-Key`.
    #[must_use]
    pub fn invalid_api_key() -> Self {
        Self::detail(StatusCode::UNAUTHORIZED, "Could not validate credentials")
            .with_header(header::WWW_AUTHENTICATE, HeaderValue::from_static("APIKey"))
    }

    /// 403 `Not enough permissions`.
    #[must_use]
    pub fn forbidden() -> Self {
        Self::detail(StatusCode::FORBIDDEN, "Not enough permissions")
    }

    /// 404 `User not found` (also for a name that cannot exist).
    #[must_use]
    pub fn user_not_found() -> Self {
        Self::detail(StatusCode::NOT_FOUND, "User not found")
    }

    /// 404 `Not Found`.
    #[must_use]
    pub fn not_found() -> Self {
        Self::detail(StatusCode::NOT_FOUND, "Not Found")
    }

    /// 429 with `Retry-After` in whole seconds (at least one).
    #[must_use]
    pub fn too_many_requests(detail: &str, retry_after: Duration) -> Self {
        let seconds = retry_after.as_secs().max(1);
        Self::detail(StatusCode::TOO_MANY_REQUESTS, detail).with_header(header::RETRY_AFTER, HeaderValue::from(seconds))
    }

    /// A single 422 entry.
    #[must_use]
    pub fn invalid(error: FieldError) -> Self {
        Self::Validation(vec![error])
    }

    pub fn internal(error: impl Into<anyhow::Error>) -> Self {
        Self::Internal(error.into())
    }
}

impl From<Vec<FieldError>> for ApiError {
    fn from(errors: Vec<FieldError>) -> Self {
        Self::Validation(errors)
    }
}

impl ApiError {
    /// The status and JSON body the client gets.
    #[must_use]
    pub fn status_and_body(&self) -> (StatusCode, Value) {
        match self {
            Self::Validation(errors) => (StatusCode::UNPROCESSABLE_ENTITY, json!({ "detail": errors })),
            Self::BusinessRules(errors) => (StatusCode::BAD_REQUEST, json!({ "detail": errors })),
            Self::Detail { status, detail, .. } => (*status, json!({ "detail": detail })),
            // Not a bug: the database is down, read-only or out of space (`docs/reliability.md`,
            // "When the database fails"). Nothing about the request was wrong; retry later.
            Self::Internal(error) if factus_application::is_database_unavailable(error) => {
                (StatusCode::SERVICE_UNAVAILABLE, json!({ "detail": DATABASE_UNAVAILABLE }))
            }
            Self::Internal(_) => (StatusCode::INTERNAL_SERVER_ERROR, internal_server_error_body()),
        }
    }

    /// The extra headers the client gets (`WWW-Authenticate`, `Retry-After`, …).
    #[must_use]
    pub fn headers(&self) -> HeaderMap {
        match self {
            Self::Detail { headers, .. } => headers.clone(),
            _ => HeaderMap::new(),
        }
    }
}

impl ApiError {
    /// Logs an unexpected error: the one place it is logged (the JSON answer and the console's
    /// error page both come here); the span carries the request id.
    pub fn log_if_unexpected(&self) {
        if let Self::Internal(error) = self {
            if factus_application::is_database_unavailable(error) {
                tracing::warn!(error = format!("{error:#}"), "database unavailable");
            } else {
                tracing::error!(error = format!("{error:#}"), "unexpected error");
            }
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        self.log_if_unexpected();
        let (status, body) = self.status_and_body();
        (status, self.headers(), Json(body)).into_response()
    }
}

/// The detail of the 503 answered when the database cannot serve the request: unreachable within
/// `DATABASE_ACQUIRE_TIMEOUT_SECS`, read-only, or its storage fails. Every use case's store failure
/// of that kind ends here, whatever the route.
pub const DATABASE_UNAVAILABLE: &str = "Base de datos no disponible";

fn internal_server_error_body() -> Value {
    json!({ "detail": "Internal Server Error" })
}

/// The generic 500 body, also used for panics.
#[must_use]
pub fn internal_server_error() -> Response {
    (StatusCode::INTERNAL_SERVER_ERROR, Json(internal_server_error_body())).into_response()
}

// ---------------------------------------------------------------------------------------------
// Use-case errors → responses
// ---------------------------------------------------------------------------------------------

impl From<FactusFailure> for ApiError {
    fn from(failure: FactusFailure) -> Self {
        let detail = failure.to_string();
        match failure.error {
            // Factus' own rate limit (80 requests a minute per account) is not the client's
            // mistake: 503, so that clients retry later instead of giving up on a valid request.
            FactusError::Rejected { status: 429, .. } | FactusError::Unavailable { .. } | FactusError::CircuitOpen => {
                Self::detail(StatusCode::SERVICE_UNAVAILABLE, detail)
            }
            // A DIAN rejection answers 400 with the rule texts, like any refusal.
            FactusError::Rejected { .. } | FactusError::DianRejected { .. } | FactusError::InvalidResponse { .. } => {
                Self::detail(StatusCode::BAD_REQUEST, detail)
            }
            FactusError::Timeout => Self::detail(StatusCode::GATEWAY_TIMEOUT, detail),
            // The gateway's own share of Factus' rate limit ran out: never Factus' 429.
            FactusError::Busy { retry_after_secs } => Self::detail(StatusCode::SERVICE_UNAVAILABLE, detail)
                .with_header(header::RETRY_AFTER, HeaderValue::from(retry_after_secs)),
            // The edge checks for a server session before asking for it; answer as for a missing
            // header, which is what the client can fix.
            FactusError::MissingCredentials => Self::invalid(missing_factus_token()),
            FactusError::Unexpected(error) => Self::internal(error),
        }
    }
}

impl From<DocumentError> for ApiError {
    fn from(error: DocumentError) -> Self {
        match error {
            // Not the user's document: the same answer as for one that does not exist, so the
            // sequential numbers of other users' bills cannot be probed.
            DocumentError::NotFound => Self::detail(StatusCode::NOT_FOUND, "Documento no encontrado"),
            DocumentError::Factus(failure) => failure.into(),
            DocumentError::Unexpected(error) => Self::internal(error),
        }
    }
}

impl From<IssueFailure> for ApiError {
    fn from(IssueFailure { kind, error }: IssueFailure) -> Self {
        let operation = FactusOperation::Create(kind);
        let create = |error| Self::from(FactusFailure::new(operation, error));
        match error {
            IssueError::InProgress { keyed: true } => {
                Self::detail(StatusCode::CONFLICT, "A request with this Idempotency-Key is still being processed")
            }
            IssueError::InProgress { keyed: false } => {
                Self::detail(StatusCode::CONFLICT, "A request with this reference_code is still being processed")
            }
            IssueError::KeyReusedWithDifferentBody => Self::invalid(FieldError::new(
                Loc::header("idempotency-key"),
                "Idempotency-Key was already used with a different request body",
                "value_error",
            )),
            error @ IssueError::ReferenceAlreadyUsed { .. } => {
                Self::detail(StatusCode::BAD_REQUEST, operation.detail(&error.to_string()))
            }
            // The rules only the ledger or the account can tell, in the list shape of the
            // body's own rules.
            IssueError::Rules(violations) => Self::BusinessRules(violations.iter().map(field_error).collect()),
            IssueError::ReplayedRejection { status, message } => create(FactusError::Rejected { status, message })
                .with_header(REPLAYED, HeaderValue::from_static("true")),
            // 409: nothing the client can change fixes it; an operator must delete the stuck
            // document, so its reference is named.
            IssueError::BlockedByPending { message, reference } => {
                Self::detail(StatusCode::CONFLICT, operation.detail(&pending_detail(message, reference)))
            }
            IssueError::Factus(error) => create(error),
            IssueError::Unexpected(error) => Self::internal(error),
        }
    }
}

/// Factus' 409 for a stuck pending document, naming its reference when it is known.
fn pending_detail(message: String, reference: Option<String>) -> String {
    match reference {
        Some(reference) => format!("{message}. Documento pendiente en Factus: reference_code {reference}"),
        None => message,
    }
}

impl From<LoginError> for ApiError {
    fn from(error: LoginError) -> Self {
        match error {
            LoginError::InvalidCredentials => Self::incorrect_credentials(),
            LoginError::Throttled { retry_after } => {
                Self::too_many_requests("Too many failed login attempts, try again later", retry_after)
            }
            LoginError::Unexpected(error) => Self::internal(error),
        }
    }
}

impl From<AuthenticateError> for ApiError {
    fn from(error: AuthenticateError) -> Self {
        match error {
            AuthenticateError::InvalidToken => Self::invalid_token(),
            AuthenticateError::Unexpected(error) => Self::internal(error),
        }
    }
}

impl From<ChangePasswordError> for ApiError {
    fn from(error: ChangePasswordError) -> Self {
        match error {
            ChangePasswordError::WrongCurrentPassword => {
                Self::detail(StatusCode::BAD_REQUEST, "Current password is incorrect")
            }
            ChangePasswordError::Throttled { retry_after } => {
                Self::too_many_requests("Too many failed password attempts, try again later", retry_after)
            }
            ChangePasswordError::Unexpected(error) => Self::internal(error),
        }
    }
}

impl From<CreateUserError> for ApiError {
    fn from(error: CreateUserError) -> Self {
        match error {
            CreateUserError::UsernameTaken(_) => Self::detail(StatusCode::CONFLICT, "Username already exists"),
            CreateUserError::Unexpected(error) => Self::internal(error),
        }
    }
}

impl From<UpdateUserError> for ApiError {
    fn from(error: UpdateUserError) -> Self {
        match error {
            UpdateUserError::NotFound => Self::user_not_found(),
            UpdateUserError::LastAdmin => {
                Self::detail(StatusCode::CONFLICT, "The last enabled admin cannot be disabled, demoted or deleted")
            }
            UpdateUserError::Unexpected(error) => Self::internal(error),
        }
    }
}

impl From<ApiKeyAuthError> for ApiError {
    fn from(error: ApiKeyAuthError) -> Self {
        match error {
            ApiKeyAuthError::Refused => Self::invalid_api_key(),
            ApiKeyAuthError::Unexpected(error) => Self::internal(error),
        }
    }
}

impl From<CreateApiKeyError> for ApiError {
    fn from(error: CreateApiKeyError) -> Self {
        match error {
            CreateApiKeyError::UserNotFound => Self::user_not_found(),
            // Well formed, but wrong against the clock: a rule, not a shape, so 400 like the
            // invoice's business rules (a schema cannot say "in the future").
            error @ CreateApiKeyError::ExpiryInPast => {
                Self::BusinessRules(vec![FieldError::rule(Loc::body().key("expires_at"), error.to_string())])
            }
            CreateApiKeyError::Unexpected(error) => Self::internal(error),
        }
    }
}

impl From<RevokeApiKeyError> for ApiError {
    fn from(error: RevokeApiKeyError) -> Self {
        match error {
            RevokeApiKeyError::NotFound => Self::detail(StatusCode::NOT_FOUND, "API key not found"),
            RevokeApiKeyError::Unexpected(error) => Self::internal(error),
        }
    }
}

impl From<RedeliverError> for ApiError {
    fn from(error: RedeliverError) -> Self {
        match error {
            RedeliverError::NotFound => Self::detail(StatusCode::NOT_FOUND, "Webhook delivery not found"),
            RedeliverError::Unexpected(error) => Self::internal(error),
        }
    }
}

impl From<AccountError> for ApiError {
    fn from(error: AccountError) -> Self {
        match error {
            AccountError::NotAdmin => Self::forbidden(),
            error @ AccountError::RangeNotFound { .. } => Self::detail(StatusCode::NOT_FOUND, error.to_string()),
            AccountError::Factus(failure) => failure.into(),
        }
    }
}

impl From<LogoError> for ApiError {
    fn from(error: LogoError) -> Self {
        match error {
            // The upload was read whole; it is the file that is too big.
            error @ LogoError::TooLarge { .. } => Self::detail(StatusCode::PAYLOAD_TOO_LARGE, error.to_string()),
            error @ (LogoError::Empty | LogoError::UnsupportedType) => {
                Self::invalid(FieldError::new(Loc::body().key("image"), error.to_string(), "value_error.image"))
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The later generation (`/api`, docs/contract.md §12): the same use-case errors, its statuses
// ---------------------------------------------------------------------------------------------

/// A use-case error answered as the later generation of the original answers it under `/api`
/// (docs/contract.md §12.4): Factus' own status passed through for its 4xx, no operation prefix
/// before Factus' message, its texts for a missing or refused `X-API-Key`. Handlers under `/api`
/// write `.map_err(Later)?`.
#[derive(Debug)]
pub struct Later<E>(pub E);

/// The later generation's 401 for a request without `X-API-Key`.
#[must_use]
pub fn later_missing_api_key() -> ApiError {
    ApiError::detail(StatusCode::UNAUTHORIZED, "Not authenticated")
        .with_header(header::WWW_AUTHENTICATE, HeaderValue::from_static("APIKey"))
}

impl From<Later<FactusError>> for ApiError {
    fn from(Later(error): Later<FactusError>) -> Self {
        let detail = error.to_string();
        match error {
            // Factus' own refusal keeps its status: the later clients branch on 404, 409, 422.
            FactusError::Rejected { status, .. } => {
                let status = StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_REQUEST);
                Self::detail(status, detail)
            }
            // Factus answers a DIAN rejection with its 422 and the rule texts.
            FactusError::DianRejected { .. } => Self::detail(StatusCode::UNPROCESSABLE_ENTITY, detail),
            // A gateway failure, not ours: 502 with Factus' text (docs/ARCHITECTURE.md,
            // "The later generation under /api").
            FactusError::Unavailable { .. } | FactusError::InvalidResponse { .. } => {
                Self::detail(StatusCode::BAD_GATEWAY, detail)
            }
            FactusError::CircuitOpen => Self::detail(StatusCode::SERVICE_UNAVAILABLE, detail),
            FactusError::Busy { retry_after_secs } => Self::detail(StatusCode::SERVICE_UNAVAILABLE, detail)
                .with_header(header::RETRY_AFTER, HeaderValue::from(retry_after_secs)),
            FactusError::Timeout => Self::detail(StatusCode::GATEWAY_TIMEOUT, detail),
            FactusError::MissingCredentials => Self::invalid(missing_factus_token()),
            FactusError::Unexpected(error) => Self::internal(error),
        }
    }
}

impl From<Later<FactusFailure>> for ApiError {
    fn from(Later(failure): Later<FactusFailure>) -> Self {
        Later(failure.error).into()
    }
}

impl From<Later<DocumentError>> for ApiError {
    fn from(Later(error): Later<DocumentError>) -> Self {
        match error {
            DocumentError::Factus(failure) => Later(failure).into(),
            other => other.into(),
        }
    }
}

impl From<Later<IssueError>> for ApiError {
    fn from(Later(error): Later<IssueError>) -> Self {
        match error {
            // The reference belongs to another bill: a conflict, as Factus itself says for a
            // reference it already holds.
            error @ IssueError::ReferenceAlreadyUsed { .. } => Self::detail(StatusCode::CONFLICT, error.to_string()),
            IssueError::ReplayedRejection { status, message } => {
                Self::from(Later(FactusError::Rejected { status, message }))
                    .with_header(REPLAYED, HeaderValue::from_static("true"))
            }
            IssueError::BlockedByPending { message, reference } => {
                Self::detail(StatusCode::CONFLICT, pending_detail(message, reference))
            }
            IssueError::Factus(error) => Later(error).into(),
            // The later generation creates invoices only.
            error => IssueFailure { kind: DocumentKind::Invoice, error }.into(),
        }
    }
}

impl From<Later<AccountError>> for ApiError {
    fn from(Later(error): Later<AccountError>) -> Self {
        match error {
            AccountError::Factus(failure) => Later(failure).into(),
            other => other.into(),
        }
    }
}

impl From<Later<ApiKeyAuthError>> for ApiError {
    fn from(Later(error): Later<ApiKeyAuthError>) -> Self {
        match error {
            ApiKeyAuthError::Refused => Self::detail(StatusCode::FORBIDDEN, "API Key inválida o ausente."),
            ApiKeyAuthError::Unexpected(error) => Self::internal(error),
        }
    }
}

impl From<StoreError> for ApiError {
    fn from(error: StoreError) -> Self {
        Self::internal(error)
    }
}

#[cfg(test)]
mod tests;
