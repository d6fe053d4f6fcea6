//! The invoice ledger: what this service issued, newest first (`GET /invoices`).

use axum::Json;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use factus_application::ledger::{
    DocumentKind, EntryStatus, LedgerCursor, LedgerEntry, LedgerFilter, LedgerState, PageSize, Rejection,
};
use factus_domain::invoice::ReferenceCode;
use factus_domain::user::Username;
use serde::Serialize;
use time::format_description::well_known::Rfc3339;
use time::{Date, OffsetDateTime, Time};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::envelope::{ApiResponse, DetailResponse, ValidationErrorResponse};
use crate::error::ApiError;
use crate::extract::CurrentUser;
use crate::state::AppState;
use crate::validation::{FieldError, Loc};

/// One ledger entry.
#[derive(Debug, Serialize, ToSchema)]
pub struct LedgerEntryResponse {
    pub id: String,
    /// `invoice`, `credit_note`, `debit_note` or `support_document`.
    #[schema(example = "invoice")]
    pub kind: &'static str,
    #[schema(example = "FAC-1732550000")]
    pub reference_code: String,
    /// `queued`, `pending`, `issued`, `rejected` or `unknown`.
    #[schema(example = "issued")]
    pub state: &'static str,
    pub username: String,
    /// The API key the invoice was created with (`null` for a bearer token).
    pub api_key_id: Option<String>,
    pub idempotency_key: Option<String>,
    /// Factus' bill number, once issued.
    #[schema(example = "SETP990000001")]
    pub number: Option<String>,
    pub prefix: Option<String>,
    pub cufe: Option<String>,
    pub qr_url: Option<String>,
    /// Factus' bill status (`"1"` validated by DIAN).
    pub factus_status: Option<String>,
    /// Why a rejected entry was rejected.
    pub error: Option<String>,
    /// The customer's (a support document's provider's) identification number; `null` for a note
    /// that leaves the customer to its invoice, and for entries recorded before it was kept.
    pub customer_identification: Option<String>,
    /// The customer's (or provider's) name: the company's, else the person's.
    pub customer_name: Option<String>,
    /// Sends to Factus under this entry.
    pub attempts: u32,
    pub created_at: String,
    pub updated_at: String,
    pub issued_at: Option<String>,
}

fn rfc3339(at: OffsetDateTime) -> String {
    at.format(&Rfc3339).unwrap_or_default()
}

impl From<LedgerEntry> for LedgerEntryResponse {
    fn from(entry: LedgerEntry) -> Self {
        let state = entry.state().as_str();
        let (bill, issued_at, error) = match entry.status {
            EntryStatus::Issued { bill, issued_at } => (Some(bill), Some(rfc3339(issued_at)), None),
            EntryStatus::Rejected(Rejection::Factus { status, message }) => {
                (None, None, Some(format!("Factus {status}: {message}")))
            }
            EntryStatus::Rejected(Rejection::Dian { message, deleted }) => {
                let deleted = if deleted { " (eliminado en Factus)" } else { " (pendiente en Factus)" };
                (None, None, Some(format!("DIAN: {message}{deleted}")))
            }
            EntryStatus::Rejected(Rejection::NotIssued) => (None, None, Some(Rejection::NOT_ISSUED_DETAIL.to_owned())),
            EntryStatus::Rejected(Rejection::Deleted { number }) => {
                (None, None, Some(Rejection::deleted_detail(&number)))
            }
            EntryStatus::Queued | EntryStatus::Pending | EntryStatus::Unknown => (None, None, None),
        };
        Self {
            id: entry.id.to_string(),
            kind: entry.kind.as_str(),
            reference_code: entry.reference_code.as_str().to_owned(),
            state,
            username: entry.username.to_string(),
            api_key_id: entry.api_key_id.map(|id| id.to_string()),
            idempotency_key: entry.idempotency_key.map(|key| key.as_str().to_owned()),
            number: bill.as_ref().map(|bill| bill.number.clone()),
            prefix: bill.as_ref().map(|bill| bill.prefix.clone()),
            cufe: bill.as_ref().map(|bill| bill.cufe.clone()),
            qr_url: bill.as_ref().map(|bill| bill.qr_url.clone()),
            factus_status: bill.map(|bill| bill.status),
            error,
            customer_identification: entry.counterparty.as_ref().map(|party| party.identification.clone()),
            customer_name: entry.counterparty.map(|party| party.name),
            attempts: entry.attempts,
            created_at: rfc3339(entry.created_at),
            updated_at: rfc3339(entry.updated_at),
            issued_at,
        }
    }
}

/// One page of the ledger.
#[derive(Debug, Serialize, ToSchema)]
pub struct LedgerPageResponse {
    pub items: Vec<LedgerEntryResponse>,
    /// Pass as `cursor` to get the next page; `null` on the last page.
    pub next_cursor: Option<String>,
}

/// A date (`YYYY-MM-DD`, midnight UTC) or an RFC 3339 instant.
fn parse_instant(raw: &str) -> Option<OffsetDateTime> {
    if let Ok(at) = OffsetDateTime::parse(raw, &Rfc3339) {
        return Some(at);
    }
    let format = time::macros::format_description!("[year]-[month]-[day]");
    Date::parse(raw, &format).ok().map(|date| date.with_time(Time::MIDNIGHT).assume_utc())
}

/// The longest bill number the `number` filter accepts (Factus numbers are a prefix of up to
/// four characters and a number of up to twenty digits).
pub(crate) const MAX_NUMBER_CHARS: usize = 64;

/// The longest `customer` search (a name is at most a few hundred characters; a search is a part).
pub(crate) const MAX_CUSTOMER_CHARS: usize = 100;

fn parse_filter(query: Option<&str>) -> Result<LedgerFilter, ApiError> {
    let pairs: Vec<(String, String)> = query.and_then(|raw| serde_urlencoded::from_str(raw).ok()).unwrap_or_default();
    // One ledger holds every document kind; this listing shows invoices unless `kind` says
    // otherwise (README, "Invoices exactly once").
    let mut filter = LedgerFilter { kind: Some(DocumentKind::Invoice), ..LedgerFilter::default() };
    let mut errors = Vec::new();
    for (key, value) in &pairs {
        let value = value.trim();
        let loc = |name: &'static str| Loc::query(name);
        match key.as_str() {
            "state" => match LedgerState::parse(value) {
                Ok(state) => filter.state = Some(state),
                Err(_) => errors.push(FieldError::new(
                    loc("state"),
                    "value is not a valid enumeration member; permitted: 'queued', 'pending', 'issued', 'rejected', 'unknown'",
                    "type_error.enum",
                )),
            },
            "kind" => match DocumentKind::parse(value) {
                Ok(kind) => filter.kind = Some(kind),
                Err(_) => errors.push(FieldError::new(
                    loc("kind"),
                    "value is not a valid enumeration member; permitted: 'invoice', 'credit_note', 'debit_note', 'support_document'",
                    "type_error.enum",
                )),
            },
            "reference_code" => match ReferenceCode::parse(value) {
                Ok(reference) => filter.reference_code = Some(reference),
                Err(error) => errors.push(FieldError::new(loc("reference_code"), error.to_string(), "value_error")),
            },
            // Bill numbers are short and printable (SETP990000001); a NUL would even fail the
            // Postgres query with a 500.
            "number"
                if value.is_empty()
                    || value.chars().count() > MAX_NUMBER_CHARS
                    || value.chars().any(char::is_control) =>
            {
                errors.push(FieldError::new(loc("number"), "invalid bill number", "value_error"));
            }
            "number" => filter.number = Some(value.to_owned()),
            "customer"
                if value.is_empty()
                    || value.chars().count() > MAX_CUSTOMER_CHARS
                    || value.chars().any(char::is_control) =>
            {
                errors.push(FieldError::new(
                    loc("customer"),
                    format!("a customer's identification or a part of its name: 1 to {MAX_CUSTOMER_CHARS} visible characters"),
                    "value_error",
                ));
            }
            "customer" => filter.counterparty = Some(value.to_owned()),
            "from" => match parse_instant(value) {
                Some(at) => filter.created_from = Some(at),
                None => errors.push(FieldError::new(loc("from"), "invalid date format", "value_error.date")),
            },
            "to" => match parse_instant(value) {
                // A plain date means "through that day"; through the last representable day is
                // no upper bound at all.
                Some(at) if !value.contains('T') => filter.created_before = at.checked_add(time::Duration::DAY),
                Some(at) => filter.created_before = Some(at),
                None => errors.push(FieldError::new(loc("to"), "invalid date format", "value_error.date")),
            },
            "username" => match Username::parse(value) {
                Ok(name) => filter.username = Some(name),
                Err(error) => errors.push(FieldError::new(loc("username"), error.to_string(), "value_error")),
            },
            "cursor" => match LedgerCursor::parse(value) {
                Ok(cursor) => filter.after = Some(cursor),
                Err(_) => errors.push(FieldError::new(loc("cursor"), "invalid cursor", "value_error")),
            },
            "limit" => match value.parse::<u32>().ok().map(PageSize::new) {
                Some(Ok(size)) => filter.limit = size,
                Some(Err(error)) => errors.push(FieldError::new(loc("limit"), error.to_string(), "value_error")),
                None => {
                    errors.push(FieldError::new(loc("limit"), "value is not a valid integer", "type_error.integer"))
                }
            },
            _ => {}
        }
    }
    if errors.is_empty() { Ok(filter) } else { Err(ApiError::Validation(errors)) }
}

/// The invoices this service issued (its ledger), newest first. Admins see everybody's; other
/// users their own.
#[utoipa::path(
    get, path = "/invoices", tag = "invoices", security(("OAuth2PasswordBearer" = [])),
    params(crate::schemas::LedgerQuery),
    responses(
        (status = 200, description = "`Facturas obtenidas exitosamente`", body = inline(ApiResponse<LedgerPageResponse>)),
        (status = 422, description = "A bad filter", body = ValidationErrorResponse),
    )
)]
pub async fn list_invoices(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    RawQuery(query): RawQuery,
) -> Result<Json<ApiResponse<LedgerPageResponse>>, ApiError> {
    let filter = parse_filter(query.as_deref())?;
    let page = state.issuance.list(&user, filter).await.map_err(ApiError::internal)?;
    let data = LedgerPageResponse {
        items: page.entries.into_iter().map(LedgerEntryResponse::from).collect(),
        next_cursor: page.next_cursor.map(|cursor| cursor.encode()),
    };
    Ok(Json(ApiResponse::ok("Facturas obtenidas exitosamente", data)))
}

/// One ledger entry: where a create answered 202 Accepted is followed (its `Location`) until it
/// is `issued` or `rejected`. Admins read anybody's; other users their own.
#[utoipa::path(
    get, path = "/ledger/{id}", tag = "invoices", security(("OAuth2PasswordBearer" = [])),
    params(("id" = uuid::Uuid, Path, description = "The entry's id, as a 202 answered it")),
    responses(
        (status = 200, description = "`Documento obtenido exitosamente`", body = inline(ApiResponse<LedgerEntryResponse>)),
        (status = 404, description = "`Documento no encontrado` (no such entry, or somebody else's)", body = DetailResponse),
        (status = 422, description = "The id is not a UUID", body = ValidationErrorResponse),
    )
)]
pub async fn get_entry(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path(id): Path<String>,
) -> Result<Json<ApiResponse<LedgerEntryResponse>>, ApiError> {
    let id = Uuid::try_parse(id.trim()).map_err(|_| {
        ApiError::invalid(FieldError::new(Loc::path("id"), "value is not a valid uuid", "type_error.uuid"))
    })?;
    let entry = state.issuance.entry(&user, id).await.map_err(ApiError::internal)?;
    let entry = entry.ok_or_else(|| ApiError::detail(StatusCode::NOT_FOUND, "Documento no encontrado"))?;
    Ok(Json(ApiResponse::ok("Documento obtenido exitosamente", LedgerEntryResponse::from(entry))))
}

#[cfg(test)]
mod tests {
    use super::*;

    // `to=<date>` means "through that day": the day after the last representable one does not
    // exist, and adding it used to panic (a 500) for a date the document allows.
    #[test]
    fn a_to_date_on_the_last_representable_day_has_no_upper_bound_instead_of_panicking() {
        let filter = parse_filter(Some("to=9999-12-31")).expect("a valid date");
        assert_eq!(filter.created_before, None);
    }

    #[test]
    fn the_customer_filter_takes_an_identification_or_a_part_of_a_name_and_refuses_blank_or_control_text() {
        let filter = parse_filter(Some("customer=%20ACME%20Andina%20")).expect("a search");
        assert_eq!(filter.counterparty.as_deref(), Some("ACME Andina"));
        for bad in ["customer=", "customer=%20%20", "customer=a%00b"] {
            match parse_filter(Some(bad)) {
                Err(ApiError::Validation(errors)) => assert_eq!(errors[0].loc, Loc::query("customer"), "{bad}"),
                other => panic!("{bad}: {other:?}"),
            }
        }
        assert!(parse_filter(Some(&format!("customer={}", "x".repeat(101)))).is_err());
    }

    #[test]
    fn a_to_date_includes_the_whole_day() {
        let filter = parse_filter(Some("to=2026-01-31")).expect("a valid date");
        let next_day = Date::from_calendar_date(2026, time::Month::February, 1).unwrap();
        assert_eq!(filter.created_before, Some(next_day.with_time(Time::MIDNIGHT).assume_utc()));
    }
}
