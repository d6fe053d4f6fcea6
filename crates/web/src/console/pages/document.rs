//! One document: every ledger field, Factus' answer or DIAN's rules in plain words, the Factus
//! document (customer, items, totals), the PDF inline, the XML, DIAN events, e-mail, and the
//! actions that apply (look it up at Factus now, delete a rejected document stuck at Factus,
//! annul an issued invoice with a credit note: [`super::annulment`]).

use axum::extract::{FromRequest, FromRequestParts, Path, Query, Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use base64::Engine as _;
use factus_application::factus::{DocumentFormat, FactusAccess, FactusFailure, FactusOperation};
use factus_application::issuance::{LookUpOutcome, StuckDeletion};
use factus_application::ledger::{DocumentKind, EntryStatus, LedgerEntry, LedgerState, Rejection};
use factus_domain::invoice::ReferenceCode;
use maud::{Markup, html};
use rust_decimal::Decimal;
use serde::Deserialize;
use serde_json::Value;
use uuid::Uuid;

use super::documents::{document_path, number_of};
use super::{badge, column_heads, confirm_box, csrf_field, factus_access};
use crate::console::ConsoleState;
use crate::console::format::{colombian, cop};
use crate::console::i18n::{Lang, T, kind_text};
use crate::console::page::{Nav, Page, error_page, message_page, notice, status_and_detail};
use crate::console::session::Session;
use crate::error::ApiError;
use crate::extract::FormBody;

/// The good news a redirect after an action brings (`?done=`).
#[derive(Debug, Default, Deserialize)]
pub struct Done {
    done: Option<String>,
}

fn done_text(done: &str) -> Option<T> {
    Some(match done {
        "email" => T::EmailSent,
        "issued" => T::LookedUpIssued,
        "not_issued" => T::LookedUpNotIssued,
        "requeued" => T::LookedUpRequeued,
        "superseded" => T::LookedUpSuperseded,
        "settled" => T::LookedUpSettled,
        "not_recorded" => T::LookedUpNotRecorded,
        "deleted" => T::DeletedNow,
        "not_stuck" => T::NotStuck,
        "annulled" => T::Annulled,
        "annulment_queued" => T::AnnulmentQueued,
        _ => return None,
    })
}

/// The viewer's entry named by the path, or the 404 page (also for somebody else's).
pub(super) async fn load(
    state: &ConsoleState,
    session: &Session,
    reference: &str,
    id: &str,
) -> Result<LedgerEntry, Response> {
    let lang = session.lang;
    let not_found = || error_page(lang, ApiError::not_found());
    let (Ok(reference), Ok(id)) = (ReferenceCode::parse(reference), Uuid::try_parse(id)) else {
        return Err(not_found());
    };
    match state.app.issuance.find_entry(&session.user, &reference, id).await {
        Ok(Some(entry)) => Ok(entry),
        Ok(None) => Err(not_found()),
        Err(error) => Err(error_page(lang, ApiError::from(error))),
    }
}

/// A value of Factus' document that may be a number or a string, as pesos.
fn money(value: &Value, lang: Lang) -> Option<String> {
    let amount: Decimal = match value {
        Value::String(text) => text.parse().ok()?,
        Value::Number(number) => number.to_string().parse().ok()?,
        _ => return None,
    };
    Some(cop(amount, lang))
}

fn text(value: &Value) -> Option<String> {
    match value {
        Value::String(text) if !text.trim().is_empty() => Some(text.clone()),
        Value::Number(number) => Some(number.to_string()),
        _ => None,
    }
}

/// Factus' document (`{status, message, data}`), summarised: customer, items, totals. Both
/// versions' layouts keep these names (v1's `bill` block, v2's document at the top of `data`).
fn factus_document(lang: Lang, document: &Value) -> Markup {
    let data = &document["data"];
    // v1 nests the document under its kind's name; v2 keeps it at the top of `data`.
    let header = ["bill", "credit_note", "debit_note", "support_document"]
        .into_iter()
        .map(|key| &data[key])
        .find(|block| block.is_object())
        .unwrap_or(data);
    // A support document's other party is its provider.
    let customer = if data["customer"].is_object() { &data["customer"] } else { &data["provider"] };
    let customer_name = text(&customer["names"])
        .or_else(|| text(&customer["company"]))
        .or_else(|| text(&customer["graphic_representation_name"]));
    let items = data["items"].as_array().cloned().unwrap_or_default();
    html! {
        dl class="fields" {
            @if let Some(name) = customer_name { dt { (lang.t(T::Customer)) } dd id="customer" { (name) } }
            @if let Some(identification) = text(&customer["identification"]) { dt { (lang.t(T::Identification)) } dd { (identification) } }
            @if let Some(email) = text(&customer["email"]) { dt { (lang.t(T::Email)) } dd { (email) } }
            @if let Some(gross) = money(&header["gross_value"], lang) { dt { (lang.t(T::Subtotal)) } dd class="num" { (gross) } }
            @if let Some(tax) = money(&header["tax_amount"], lang) { dt { (lang.t(T::Taxes)) } dd class="num" { (tax) } }
            @if let Some(total) = money(&header["total"], lang) { dt { (lang.t(T::Total)) } dd class="num" id="total" { strong { (total) } } }
        }
        @if !items.is_empty() {
            table {
                caption { (lang.t(T::Items)) }
                (column_heads(lang, &[T::Item, T::Quantity, T::Price, T::Total]))
                tbody {
                    @for item in &items {
                        tr {
                            td { (text(&item["name"]).unwrap_or_default()) }
                            td class="num" { (text(&item["quantity"]).unwrap_or_default()) }
                            td class="num" { (money(&item["price"], lang).unwrap_or_default()) }
                            td class="num" { (money(&item["total"], lang).unwrap_or_default()) }
                        }
                    }
                }
            }
        }
        details {
            summary { (lang.t(T::RawDocument)) }
            pre { (serde_json::to_string_pretty(document).unwrap_or_default()) }
        }
    }
}

/// What went wrong asking Factus, for a part of the page (the rest of the page still shows).
fn failure_text(error: &factus_application::documents::DocumentError) -> String {
    use factus_application::documents::DocumentError;
    match error {
        DocumentError::Factus(failure) => failure.to_string(),
        DocumentError::NotFound => "Documento no encontrado".to_owned(),
        DocumentError::Unexpected(error) => {
            tracing::error!(error = format!("{:#}", error.0), "unexpected error");
            "Internal Server Error".to_owned()
        }
    }
}

/// DIAN's name of a document's unique code: CUFE of an invoice (*factura electrónica*), CUDE of
/// a note (*documento electrónico*), CUDS of a support document (*documento soporte*). Factus'
/// answer carries it as the bill's `cufe` whatever the kind.
fn unique_code_text(kind: DocumentKind) -> T {
    match kind {
        DocumentKind::Invoice => T::Cufe,
        DocumentKind::CreditNote | DocumentKind::DebitNote => T::Cude,
        DocumentKind::SupportDocument => T::Cuds,
    }
}

/// Whether the entry is an issued invoice, which may be annulled with a credit note.
fn annullable(entry: &LedgerEntry) -> bool {
    entry.kind == DocumentKind::Invoice && entry.state() == LedgerState::Issued
}

/// Why an entry is where it is, in plain words.
fn explanation(lang: Lang, entry: &LedgerEntry) -> Markup {
    html! {
        @match &entry.status {
            EntryStatus::Queued => p { (lang.t(T::QueuedExplained)) },
            EntryStatus::Pending => p { (lang.t(T::PendingExplained)) },
            EntryStatus::Unknown => p { (lang.t(T::UnknownExplained)) },
            EntryStatus::Issued { bill, .. } => {
                dl class="fields" {
                    dt { (lang.t(T::Number)) } dd id="number" { (bill.number) }
                    dt { (lang.t(T::Prefix)) } dd { (bill.prefix) }
                    dt { (lang.t(unique_code_text(entry.kind))) } dd class="mono" id="unique-code" { (bill.cufe) }
                    dt { (lang.t(T::DianStatus)) }
                    dd { (lang.t(if bill.status == "1" { T::DianValidated } else { T::DianNotValidated })) }
                    @if let Some(message) = &bill.message { dt { (lang.t(T::FactusAnswer)) } dd { (message) } }
                    @if !bill.qr_url.is_empty() {
                        dt { "QR" } dd { a href=(bill.qr_url) rel="noopener noreferrer" { (lang.t(T::QrLink)) } }
                    }
                }
            },
            EntryStatus::Rejected(Rejection::Dian { message, deleted }) => {
                p { (lang.t(T::DianRejected)) }
                ul class="rules" id="rules" {
                    @for rule in message.split("; ").filter(|rule| !rule.trim().is_empty()) { li { (rule) } }
                }
                p { (lang.t(if *deleted { T::DeletedAtFactus } else { T::StillAtFactus })) }
            },
            EntryStatus::Rejected(Rejection::Factus { status, message }) => {
                p { (lang.t(T::FactusRefused)) " (HTTP " (status) "):" }
                blockquote id="rules" { (message) }
            },
            EntryStatus::Rejected(Rejection::NotIssued) => p { (lang.t(T::NotIssuedExplained)) },
            EntryStatus::Rejected(Rejection::Deleted { number }) => p { (lang.t(T::DeletedExplained)) " " strong { (number) } },
        }
    }
}

fn ledger_fields(lang: Lang, entry: &LedgerEntry) -> Markup {
    html! {
        dl class="fields" {
            dt { (lang.t(T::Kind)) } dd { (lang.t(kind_text(entry.kind))) }
            dt { (lang.t(T::State)) } dd id="state" { (badge(lang, entry.state())) }
            dt { (lang.t(T::Reference)) } dd id="reference" { (entry.reference_code.as_str()) }
            dt { (lang.t(T::User)) } dd { (entry.username.as_str()) }
            dt { (lang.t(T::Created)) } dd { (colombian(entry.created_at)) }
            dt { (lang.t(T::Updated)) } dd { (colombian(entry.updated_at)) }
            @if let EntryStatus::Issued { issued_at, .. } = &entry.status { dt { (lang.t(T::Issued)) } dd { (colombian(*issued_at)) } }
            @if let Some(total) = entry.total { dt { (lang.t(T::Total)) } dd class="num" { (cop(total.amount(), lang)) } }
            @if let Some(number) = &entry.referenced_number {
                dt { (lang.t(T::ReferencedInvoice)) }
                dd { a href={ (crate::console::session::BASE) "/documents?number=" (number) } { (number) } }
            }
            dt { (lang.t(T::Attempts)) } dd { (entry.attempts) }
            dt { (lang.t(T::EntryId)) } dd class="mono" { (entry.id) }
            @if let Some(key) = entry.api_key_id { dt { (lang.t(T::ApiKey)) } dd class="mono" { (key) } }
            @if let Some(key) = &entry.idempotency_key { dt { (lang.t(T::IdempotencyKey)) } dd class="mono" { (key.as_str()) } }
        }
    }
}

/// The whole page, with an optional notice (an action's outcome).
pub(super) async fn page(
    state: &ConsoleState,
    session: &Session,
    entry: &LedgerEntry,
    message: Option<Result<String, String>>,
) -> Page {
    let lang = session.lang;
    let path = document_path(entry);
    let access = factus_access(state);
    let number = number_of(entry);
    let factus = match (&access, number) {
        (Some(access), Some(number)) => {
            let document = state.app.invoices.get_document(&session.user, access, entry.kind, number).await;
            // RADIAN events (acceptance, claims) exist for invoices only.
            let events = match entry.kind {
                DocumentKind::Invoice => Some(state.app.invoices.events(&session.user, access, number).await),
                _ => None,
            };
            Some((document, events))
        }
        _ => None,
    };
    let customer_email = factus
        .as_ref()
        .and_then(|(document, _)| document.as_ref().ok())
        .and_then(|document| serde_json::from_str::<Value>(document.as_str()).ok())
        .and_then(|document| text(&document["data"]["customer"]["email"]))
        .unwrap_or_default();
    let stuck = matches!(entry.status, EntryStatus::Rejected(Rejection::Dian { deleted: false, .. }));
    let open = matches!(entry.state(), LedgerState::Pending | LedgerState::Unknown);
    let body = html! {
        (notice(message))
        div class="grid" {
            section class="card" aria-labelledby="ledger" {
                h2 id="ledger" { (lang.t(T::Ledger)) }
                (ledger_fields(lang, entry))
            }
            section class="card" aria-labelledby="why" {
                h2 id="why" { (lang.t(if entry.state() == LedgerState::Issued { T::FactusAnswer } else { T::Why })) }
                (explanation(lang, entry))
            }
        }
        @if access.is_none() && number.is_some() { p class="hint" { (lang.t(T::NoServerSession)) } }
        @if let Some((document, events)) = &factus {
            section class="card" aria-labelledby="factus" {
                h2 id="factus" { (lang.t(T::FactusDocument)) }
                @match document {
                    Ok(document) => (factus_document(lang, &serde_json::from_str(document.as_str()).unwrap_or(Value::Null))),
                    Err(error) => p class="notice error" { (lang.t(T::FactusUnavailable)) ": " (failure_text(error)) },
                }
            }
            section class="card" aria-labelledby="pdf" {
                h2 id="pdf" { (lang.t(T::Pdf)) }
                p {
                    a href={ (path) "/pdf" } id="open-pdf" { (lang.t(T::OpenPdf)) }
                    " · "
                    a href={ (path) "/xml" } id="download-xml" download { (lang.t(T::DownloadXml)) }
                }
                iframe src={ (path) "/pdf" } title=(lang.t(T::Pdf)) class="pdf" loading="lazy" {}
            }
            @if let Some(events) = events { section class="card" aria-labelledby="events" {
                h2 id="events" { (lang.t(T::Events)) }
                @match events {
                    Ok(events) if events.events.is_empty() => p { (lang.t(T::NoEvents)) },
                    Ok(events) => table {
                        (column_heads(lang, &[T::EventCode, T::EventName, T::EventDate]))
                        tbody { @for event in &events.events { tr { td { (event.event_code) } td { (event.event_name) } td { (event.effective_date) " " (event.effective_time) } } } }
                    },
                    Err(error) => p class="notice error" { (lang.t(T::FactusUnavailable)) ": " (failure_text(error)) },
                }
            } }
            section class="card" aria-labelledby="email" {
                h2 id="email" { (lang.t(T::SendEmail)) }
                form method="post" action={ (path) "/email" } {
                    (csrf_field(&session.csrf))
                    p {
                        label for="email-address" { (lang.t(T::Email)) }
                        input type="email" id="email-address" name="email" value=(customer_email) required autocomplete="email";
                    }
                    p { button type="submit" id="send-email" { (lang.t(T::SendEmailButton)) } }
                }
            }
        }
        @if (open || stuck || annullable(entry)) && access.is_some() {
            section class="card" aria-labelledby="actions" {
                h2 id="actions" { (lang.t(T::Actions)) }
                @if open {
                    form method="post" action={ (path) "/lookup" } {
                        (csrf_field(&session.csrf))
                        button type="submit" id="look-up" { (lang.t(T::LookUpNow)) }
                    }
                }
                @if stuck {
                    form method="post" action={ (path) "/delete" } data-confirm=(lang.t(T::ConfirmDelete)) {
                        (csrf_field(&session.csrf))
                        (confirm_box(lang, "confirm-delete"))
                        " " button type="submit" id="delete" class="danger" { (lang.t(T::DeleteAtFactus)) }
                    }
                }
                // To the confirmation page, which shows the note before it is issued.
                @if annullable(entry) {
                    form method="get" action={ (path) "/annul" } {
                        button type="submit" id="annul" class="danger" { (lang.t(T::AnnulAction)) }
                    }
                }
            }
        }
    };
    let title =
        format!("{} {}", lang.t(kind_text(entry.kind)), number_of(entry).unwrap_or(entry.reference_code.as_str()));
    Page::new(session, Nav::Documents, title, body)
}

/// `GET /console/documents/{reference}/{id}`.
pub async fn show(
    State(state): State<ConsoleState>,
    session: Session,
    Path((reference, id)): Path<(String, String)>,
    Query(done): Query<Done>,
) -> Response {
    let entry = match load(&state, &session, &reference, &id).await {
        Ok(entry) => entry,
        Err(response) => return response,
    };
    let message = done.done.as_deref().and_then(done_text).map(|text| Ok(session.lang.t(text).to_owned()));
    page(&state, &session, &entry, message).await.into_response()
}

/// The page for an action that needs Factus when the server has no session of its own.
pub(super) fn no_factus_session(lang: Lang) -> Response {
    message_page(StatusCode::SERVICE_UNAVAILABLE, lang, lang.t(T::ErrorTitle), lang.t(T::NoServerSession))
}

async fn download(
    state: &ConsoleState,
    session: &Session,
    reference: &str,
    id: &str,
    format: DocumentFormat,
) -> Response {
    let lang = session.lang;
    let entry = match load(state, session, reference, id).await {
        Ok(entry) => entry,
        Err(response) => return response,
    };
    let Some(access) = factus_access(state) else { return no_factus_session(lang) };
    let Some(number) = number_of(&entry) else { return error_page(lang, ApiError::not_found()) };
    let file = match state.app.invoices.download(&session.user, &access, entry.kind, number, format).await {
        Ok(file) => file,
        Err(error) => return error_page(lang, ApiError::from(error)),
    };
    let Ok(bytes) = base64::engine::general_purpose::STANDARD.decode(file.content_base64.trim()) else {
        return error_page(
            lang,
            ApiError::internal(anyhow::anyhow!("Factus sent a {} that is not base64", format.extension())),
        );
    };
    let (content_type, disposition) = match format {
        DocumentFormat::Pdf => ("application/pdf", "inline"),
        DocumentFormat::Xml => ("application/xml", "attachment"),
    };
    let name: String =
        file.file_name.chars().filter(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.')).collect();
    let name = if name.is_empty() { number.to_owned() } else { name };
    let extension = format.extension();
    let file_name = if name.ends_with(&format!(".{extension}")) { name } else { format!("{name}.{extension}") };
    let disposition = HeaderValue::from_str(&format!("{disposition}; filename=\"{file_name}\""))
        .unwrap_or(HeaderValue::from_static("inline"));
    (
        [(header::CONTENT_TYPE, HeaderValue::from_static(content_type)), (header::CONTENT_DISPOSITION, disposition)],
        bytes,
    )
        .into_response()
}

/// `GET …/pdf`: the PDF, shown inline.
pub async fn pdf(
    State(state): State<ConsoleState>,
    session: Session,
    Path((reference, id)): Path<(String, String)>,
) -> Response {
    download(&state, &session, &reference, &id, DocumentFormat::Pdf).await
}

/// `GET …/xml`: the XML, as a download.
pub async fn xml(
    State(state): State<ConsoleState>,
    session: Session,
    Path((reference, id)): Path<(String, String)>,
) -> Response {
    download(&state, &session, &reference, &id, DocumentFormat::Xml).await
}

/// An action's outcome: back to the page with good news, or the page again with the problem.
pub(super) async fn after_action(
    state: &ConsoleState,
    session: &Session,
    entry: &LedgerEntry,
    outcome: Result<&str, ApiError>,
) -> Response {
    match outcome {
        Ok(done) => Redirect::to(&format!("{}?done={done}", document_path(entry))).into_response(),
        Err(error) => {
            let (status, detail) = status_and_detail(&error);
            // The entry may have changed (a lookup records what it found before failing).
            let entry = state
                .app
                .issuance
                .find_entry(&session.user, &entry.reference_code, entry.id)
                .await
                .ok()
                .flatten()
                .unwrap_or_else(|| entry.clone());
            (status, page(state, session, &entry, Some(Err(detail))).await).into_response()
        }
    }
}

/// What every action on a document checks first, before its handler runs: the form's CSRF
/// token, that the entry (`…/{reference}/{id}`) is the viewer's, and that the server can reach
/// Factus. A refusal is the answer.
pub struct DocumentAction {
    pub session: Session,
    pub form: FormBody,
    pub entry: LedgerEntry,
    pub access: FactusAccess,
}

impl FromRequest<ConsoleState> for DocumentAction {
    type Rejection = Response;

    async fn from_request(request: Request, state: &ConsoleState) -> Result<Self, Self::Rejection> {
        let (mut parts, body) = request.into_parts();
        let session = Session::from_request_parts(&mut parts, state).await?;
        let Path((reference, id)) = Path::<(String, String)>::from_request_parts(&mut parts, state)
            .await
            .map_err(IntoResponse::into_response)?;
        let form = FormBody::from_request(Request::from_parts(parts, body), state)
            .await
            .map_err(IntoResponse::into_response)?;
        if let Some(refused) = session.refuse_without_token(&form) {
            return Err(refused);
        }
        let entry = load(state, &session, &reference, &id).await?;
        let access = factus_access(state).ok_or_else(|| no_factus_session(session.lang))?;
        Ok(Self { session, form, entry, access })
    }
}

/// A dangerous action's refusal when its confirmation box was not ticked.
pub(super) fn unconfirmed(form: &FormBody, lang: Lang) -> Option<ApiError> {
    (form.get("confirm") != Some("yes"))
        .then(|| ApiError::detail(StatusCode::UNPROCESSABLE_ENTITY, lang.t(T::ConfirmNeeded)))
}

/// `POST …/email`: Factus e-mails the document.
pub async fn send_email(
    State(state): State<ConsoleState>,
    DocumentAction { session, form, entry, access }: DocumentAction,
) -> Response {
    let Some(number) = number_of(&entry) else { return error_page(session.lang, ApiError::not_found()) };
    let email = form.get("email").unwrap_or_default().trim();
    let outcome = if email.is_empty() || factus_domain::invoice::text::EmailAddress::parse(email).is_err() {
        Err(ApiError::detail(
            StatusCode::UNPROCESSABLE_ENTITY,
            format!("{}: {}", session.lang.t(T::InvalidInput), session.lang.t(T::Email)),
        ))
    } else {
        state
            .app
            .invoices
            .send_email(&session.user, &access, entry.kind, number, email, None)
            .await
            .map(|_| "email")
            .map_err(ApiError::from)
    };
    after_action(&state, &session, &entry, outcome).await
}

/// `POST …/lookup`: looks an open entry up at Factus now.
pub async fn look_up(
    State(state): State<ConsoleState>,
    DocumentAction { session, entry, .. }: DocumentAction,
) -> Response {
    let outcome = match state.app.issuance.look_up_now(&entry).await {
        Ok(LookUpOutcome::Issued) => Ok("issued"),
        Ok(LookUpOutcome::NotIssued) => Ok("not_issued"),
        Ok(LookUpOutcome::Requeued) => Ok("requeued"),
        Ok(LookUpOutcome::Superseded) => Ok("superseded"),
        Ok(LookUpOutcome::Settled) => Ok("settled"),
        Ok(LookUpOutcome::NotRecorded) => Ok("not_recorded"),
        Err(error) => Err(ApiError::from(FactusFailure::new(FactusOperation::Find(entry.kind), error))),
    };
    after_action(&state, &session, &entry, outcome).await
}

/// `POST …/delete`: deletes at Factus a rejected document still stored there (confirmed).
pub async fn delete_stuck(
    State(state): State<ConsoleState>,
    DocumentAction { session, form, entry, access }: DocumentAction,
) -> Response {
    if let Some(refusal) = unconfirmed(&form, session.lang) {
        return after_action(&state, &session, &entry, Err(refusal)).await;
    }
    let outcome = match state.app.issuance.delete_stuck_rejection(&access, &entry).await {
        Ok(StuckDeletion::Deleted) => Ok("deleted"),
        Ok(StuckDeletion::NotStuck) => Ok("not_stuck"),
        Err(error) => Err(ApiError::from(FactusFailure::new(FactusOperation::Delete(entry.kind), error))),
    };
    after_action(&state, &session, &entry, outcome).await
}
