//! Webhooks (admins): the latest deliveries with their status, and redeliver — through
//! `WebhookService`, as `GET /webhooks/deliveries` and its redeliver route.

use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use factus_application::ledger::PageSize;
use factus_application::webhooks::{DeliveryFilter, DeliveryStatus};
use maud::html;
use serde::Deserialize;
use uuid::Uuid;

use super::{column_heads, csrf_field, with_status};
use crate::console::ConsoleState;
use crate::console::format::colombian;
use crate::console::i18n::{T, kind_text};
use crate::console::page::{Nav, Page, error_page, notice, status_and_detail};
use crate::console::session::{AdminForm, AdminSession, BASE, Session};
use crate::error::ApiError;

/// How many deliveries the page lists.
const SHOWN: u32 = 100;

#[derive(Debug, Default, Deserialize)]
pub struct WebhooksQuery {
    #[serde(default)]
    status: String,
    done: Option<String>,
}

fn status_text(status: DeliveryStatus) -> (T, &'static str) {
    match status {
        DeliveryStatus::Pending => (T::DeliveryPending, "pending"),
        DeliveryStatus::Delivered => (T::DeliveryDelivered, "issued"),
        DeliveryStatus::Failed => (T::DeliveryFailed, "rejected"),
    }
}

async fn render(
    state: &ConsoleState,
    session: &Session,
    status: Option<DeliveryStatus>,
    message: Option<Result<String, String>>,
) -> Response {
    let lang = session.lang;
    let filter = DeliveryFilter { status, limit: PageSize::new(SHOWN).unwrap_or_default() };
    let deliveries = match state.app.webhooks.list(&filter).await {
        Ok(deliveries) => deliveries,
        Err(error) => return error_page(lang, ApiError::from(error)),
    };
    let current = status.map_or("", DeliveryStatus::as_str);
    let body = html! {
        (notice(message))
        @if !state.app.webhooks.is_enabled() { p class="hint" { (lang.t(T::WebhooksOff)) } }
        form method="get" action={ (BASE) "/webhooks" } class="filters" aria-label=(lang.t(T::Filters)) {
            p {
                label for="status" { (lang.t(T::Status)) }
                select id="status" name="status" {
                    option value="" { (lang.t(T::Any)) }
                    @for status in DeliveryStatus::ALL {
                        option value=(status.as_str()) selected[status.as_str() == current] { (lang.t(status_text(status).0)) }
                    }
                }
            }
            p class="buttons" { button type="submit" { (lang.t(T::Apply)) } }
        }
        @if deliveries.is_empty() {
            p { (lang.t(T::NoDeliveries)) }
        } @else {
            table class="deliveries" {
                (column_heads(lang, &[T::Event, T::Document, T::Status, T::DeliveryAttempts, T::LastAttempt, T::Answer, T::Actions]))
                tbody {
                    @for delivery in &deliveries {
                        @let event = &delivery.event;
                        @let (text, class) = status_text(delivery.status);
                        tr id={ "event-" (event.id) } {
                            td { span class="mono" { (event.event_type.as_str()) } br; (colombian(event.created_at)) }
                            td {
                                (lang.t(kind_text(event.entry.kind))) " "
                                a href={ (super::documents::entry_path(&event.entry.reference_code, event.entry.entry_id)) } { (event.entry.reference_code) }
                            }
                            td { span class={ "badge " (class) } { (lang.t(text)) } }
                            td class="num" { (delivery.attempts) }
                            td { (delivery.last_attempt_at.map(colombian).unwrap_or_default()) }
                            td {
                                @if let Some(status) = delivery.last_http_status { "HTTP " (status) " " }
                                @if let Some(error) = &delivery.last_error { span class="hint" { (error) } }
                            }
                            td {
                                @if delivery.status != DeliveryStatus::Pending {
                                    form method="post" action={ (BASE) "/webhooks/" (event.id) "/redeliver" } class="inline" {
                                        (csrf_field(&session.csrf))
                                        button type="submit" { (lang.t(T::Redeliver)) " " span class="visually-hidden" { (event.entry.reference_code) } }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    };
    Page::new(session, Nav::Webhooks, lang.t(T::Webhooks), body).into_response()
}

/// `GET /console/webhooks`.
pub async fn list(
    State(state): State<ConsoleState>,
    AdminSession(session): AdminSession,
    Query(query): Query<WebhooksQuery>,
) -> Response {
    let status = DeliveryStatus::parse(query.status.trim());
    let message = (query.done.as_deref() == Some("redelivered")).then(|| Ok(session.lang.t(T::Redelivered).to_owned()));
    render(&state, &session, status, message).await
}

/// `POST /console/webhooks/{event_id}/redeliver`.
pub async fn redeliver(
    State(state): State<ConsoleState>,
    AdminForm { session, path: Path(id), .. }: AdminForm<Path<String>>,
) -> Response {
    let outcome = match Uuid::try_parse(&id) {
        Ok(id) => state.app.webhooks.redeliver(id).await.map_err(ApiError::from),
        Err(_) => Err(ApiError::not_found()),
    };
    match outcome {
        Ok(_) => Redirect::to(&format!("{BASE}/webhooks?done=redelivered")).into_response(),
        Err(error) => {
            let (status, detail) = status_and_detail(&error);
            with_status(render(&state, &session, None, Some(Err(detail))).await, status)
        }
    }
}
