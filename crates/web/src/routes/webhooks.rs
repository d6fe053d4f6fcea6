//! Webhook deliveries, for admins: what was sent where it stands, and sending one again.

use axum::Json;
use axum::extract::{Path, RawQuery, State};
use factus_application::ledger::PageSize;
use factus_application::webhooks::{Delivery, DeliveryFilter, DeliveryStatus, RedeliverError};
use serde::Serialize;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::envelope::{ApiResponse, DetailResponse, ValidationErrorResponse};
use crate::error::ApiError;
use crate::extract::AdminUser;
use crate::state::AppState;
use crate::validation::{FieldError, Loc};

/// One event and its delivery.
#[derive(Debug, Serialize, ToSchema)]
pub struct WebhookDeliveryResponse {
    /// The event id (the body's `id` and `Factus-Api-Event-Id`); receivers de-duplicate on it.
    pub event_id: String,
    /// `document.issued`, `document.rejected` or `document.unknown`.
    #[schema(example = "document.issued")]
    pub event_type: &'static str,
    /// The ledger entry the event is about.
    pub entry_id: String,
    #[schema(example = "FAC-1732550000")]
    pub reference_code: String,
    /// The bill number, for `document.issued`.
    pub number: Option<String>,
    /// `pending`, `delivered` or `failed`.
    #[schema(example = "delivered")]
    pub status: &'static str,
    /// Attempts made (since the last redelivery).
    pub attempts: u32,
    /// RFC 3339, UTC: when the event was recorded.
    pub created_at: String,
    /// When a pending delivery is due.
    pub next_attempt_at: Option<String>,
    pub last_attempt_at: Option<String>,
    /// The receiver's HTTP status on the last attempt that got an answer.
    pub last_http_status: Option<u16>,
    /// Why the last attempt failed.
    pub last_error: Option<String>,
    pub delivered_at: Option<String>,
}

fn rfc3339(at: OffsetDateTime) -> String {
    at.format(&Rfc3339).unwrap_or_default()
}

impl From<Delivery> for WebhookDeliveryResponse {
    fn from(delivery: Delivery) -> Self {
        let event = delivery.event;
        Self {
            event_id: event.id.to_string(),
            event_type: event.event_type.as_str(),
            entry_id: event.entry.entry_id.to_string(),
            reference_code: event.entry.reference_code,
            number: event.entry.bill.map(|bill| bill.number),
            status: delivery.status.as_str(),
            attempts: delivery.attempts,
            created_at: rfc3339(event.created_at),
            next_attempt_at: delivery.next_attempt_at.map(rfc3339),
            last_attempt_at: delivery.last_attempt_at.map(rfc3339),
            last_http_status: delivery.last_http_status,
            last_error: delivery.last_error,
            delivered_at: delivery.delivered_at.map(rfc3339),
        }
    }
}

fn parse_filter(query: Option<&str>) -> Result<DeliveryFilter, ApiError> {
    let pairs: Vec<(String, String)> = query.and_then(|raw| serde_urlencoded::from_str(raw).ok()).unwrap_or_default();
    let mut filter = DeliveryFilter::default();
    let mut errors = Vec::new();
    for (key, value) in &pairs {
        let value = value.trim();
        match key.as_str() {
            "status" => match DeliveryStatus::parse(value) {
                Some(status) => filter.status = Some(status),
                None => errors.push(FieldError::new(
                    Loc::query("status"),
                    "value is not a valid enumeration member; permitted: 'pending', 'delivered', 'failed'",
                    "type_error.enum",
                )),
            },
            "limit" => match value.parse::<u32>().ok().map(PageSize::new) {
                Some(Ok(size)) => filter.limit = size,
                Some(Err(error)) => errors.push(FieldError::new(Loc::query("limit"), error.to_string(), "value_error")),
                None => errors.push(FieldError::new(
                    Loc::query("limit"),
                    "value is not a valid integer",
                    "type_error.integer",
                )),
            },
            _ => {}
        }
    }
    if errors.is_empty() { Ok(filter) } else { Err(ApiError::Validation(errors)) }
}

/// Webhook deliveries, newest event first: one per outcome of a document (issued, rejected,
/// unknown), with where its delivery to `WEBHOOK_URL` stands.
#[utoipa::path(
    get, path = "/webhooks/deliveries", tag = "webhooks", security(("OAuth2PasswordBearer" = []), ("APIKeyHeader" = [])),
    params(crate::schemas::WebhookDeliveryQuery),
    responses(
        (status = 200, description = "`Entregas obtenidas exitosamente`", body = inline(ApiResponse<Vec<WebhookDeliveryResponse>>)),
        (status = 422, description = "A bad filter", body = ValidationErrorResponse),
    ),
    extensions(("x-admin-only" = json!(true)))
)]
pub async fn list_deliveries(
    State(state): State<AppState>,
    _admin: AdminUser,
    RawQuery(query): RawQuery,
) -> Result<Json<ApiResponse<Vec<WebhookDeliveryResponse>>>, ApiError> {
    let filter = parse_filter(query.as_deref())?;
    let deliveries = state.webhooks.list(&filter).await?;
    Ok(Json(ApiResponse::ok(
        "Entregas obtenidas exitosamente",
        deliveries.into_iter().map(WebhookDeliveryResponse::from).collect(),
    )))
}

/// Send an event again: the delivery becomes pending, due at once, with its attempts counted
/// afresh. The event id and body stay the same, so a receiver that already has it ignores it.
#[utoipa::path(
    post, path = "/webhooks/deliveries/{event_id}/redeliver", tag = "webhooks", security(("OAuth2PasswordBearer" = []), ("APIKeyHeader" = [])),
    params(("event_id" = String, Path, description = "The event id (from the listing)")),
    responses(
        (status = 200, description = "`Entrega reprogramada exitosamente`", body = inline(ApiResponse<WebhookDeliveryResponse>)),
        (status = 404, description = "`Webhook delivery not found`", body = DetailResponse),
    ),
    extensions(("x-admin-only" = json!(true)))
)]
pub async fn redeliver(
    State(state): State<AppState>,
    _admin: AdminUser,
    Path(event_id): Path<String>,
) -> Result<Json<ApiResponse<WebhookDeliveryResponse>>, ApiError> {
    // An id that cannot exist is simply not found.
    let event_id = Uuid::try_parse(&event_id).map_err(|_| ApiError::from(RedeliverError::NotFound))?;
    let delivery = state.webhooks.redeliver(event_id).await?;
    Ok(Json(ApiResponse::ok("Entrega reprogramada exitosamente", WebhookDeliveryResponse::from(delivery))))
}
