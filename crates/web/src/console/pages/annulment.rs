//! Annulling an issued invoice from its page: a confirmation page that shows the credit note
//! about to be issued (the invoice's own lines, DIAN's correction concept 2, its reference and
//! total), and the confirmed form that issues it.
//!
//! The note goes through the API's own credit-note path (`routes::invoices::issue_body`, what
//! `POST /api/v1/credit-notes` runs): the same parser, the ledger's rules (the invoice is the
//! viewer's or the viewer an admin, DIAN validated it, an annulment credits exactly what is left
//! of it) and the exactly-once recording. Its reference and `Idempotency-Key` are derived from the
//! invoice number (`invoices::annulment`), so a double submit gets the first note, and nobody
//! issues a second annulment of the same invoice.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use factus_application::document::Document;
use factus_application::factus::FactusAccess;
use factus_application::issuance::Issued;
use factus_application::ledger::{DocumentKind, LedgerEntry};
use factus_domain::invoice::{Note, NoteKind};
use maud::{Markup, html};
use serde_json::Value;

use super::document::{DocumentAction, after_action, load, no_factus_session, unconfirmed};
use super::documents::{document_path, entry_path, number_of};
use super::{confirm_box_saying, csrf_field, factus_access};
use crate::caller::Caller;
use crate::console::ConsoleState;
use crate::console::format::cop;
use crate::console::i18n::{Lang, T};
use crate::console::page::{Nav, Page, notice, status_and_detail};
use crate::console::session::Session;
use crate::error::ApiError;
use crate::invoices::annulment::{annulment_body, annulment_key};
use crate::invoices::request::parse_note;
use crate::routes::invoices::issue_body;

/// The credit note that would annul an invoice.
struct Annulment {
    /// The invoice's number.
    number: String,
    /// The create body, as a client would post it (its fingerprint and what the queue keeps).
    body: Value,
    note: Note,
}

/// Builds the annulment of `entry`'s invoice from the invoice as Factus shows it, and reads it
/// with the API's parser. Refused for anything but an issued invoice.
async fn prepare(
    state: &ConsoleState,
    session: &Session,
    entry: &LedgerEntry,
    access: &FactusAccess,
) -> Result<Annulment, ApiError> {
    let number = number_of(entry).filter(|_| entry.kind == DocumentKind::Invoice);
    let Some(number) = number else {
        return Err(ApiError::detail(StatusCode::CONFLICT, session.lang.t(T::AnnulOnlyIssued)));
    };
    let invoice = state.app.invoices.get_document(&session.user, access, DocumentKind::Invoice, number).await?;
    let invoice: Value = serde_json::from_str(invoice.as_str()).map_err(ApiError::internal)?;
    let body = annulment_body(number, &invoice);
    let note = parse_note(NoteKind::Credit, &body)?;
    Ok(Annulment { number: number.to_owned(), body, note })
}

/// What the note will say: the invoice, its reference, the concept, its lines and total.
fn preview(lang: Lang, entry: &LedgerEntry, annulment: &Annulment) -> Markup {
    let note = &annulment.note;
    html! {
        dl class="fields" {
            dt { (lang.t(T::ReferencedInvoice)) }
            dd { a href=(document_path(entry)) { (annulment.number) } }
            dt { (lang.t(T::NoteReference)) } dd class="mono" id="note-reference" { (note.reference_code().as_str()) }
            dt { (lang.t(T::CorrectionConcept)) } dd { (lang.t(T::AnnulmentConcept)) }
            dt { (lang.t(T::NoteTotal)) } dd class="num" id="note-total" { strong { (cop(note.total().amount(), lang)) } }
        }
        table {
            caption { (lang.t(T::NoteItems)) }
            thead { tr {
                th scope="col" { (lang.t(T::Item)) }
                th scope="col" class="num" { (lang.t(T::Quantity)) }
                th scope="col" class="num" { (lang.t(T::Price)) }
                th scope="col" class="num" { (lang.t(T::Total)) }
            } }
            tbody {
                @for (item, line) in note.items().iter().zip(note.totals().lines()) {
                    tr {
                        td { (item.name()) }
                        td class="num" { (item.quantity().get()) }
                        td class="num" { (cop(item.price().amount(), lang)) }
                        td class="num" { (cop(line.total().amount(), lang)) }
                    }
                }
            }
        }
    }
}

/// `GET …/annul`: the note about to be issued, and the form that confirms it. When it cannot be
/// prepared (not an issued invoice, Factus unreachable, a line Factus did not show whole) the
/// page says why, and offers no form.
pub async fn confirm(
    State(state): State<ConsoleState>,
    session: Session,
    Path((reference, id)): Path<(String, String)>,
) -> Response {
    let lang = session.lang;
    let entry = match load(&state, &session, &reference, &id).await {
        Ok(entry) => entry,
        Err(response) => return response,
    };
    let Some(access) = factus_access(&state) else { return no_factus_session(lang) };
    let title = format!("{} {}", lang.t(T::AnnulTitle), number_of(&entry).unwrap_or(entry.reference_code.as_str()));
    let path = document_path(&entry);
    let back = html! { p { a href=(path) id="back-to-invoice" { (lang.t(T::BackToInvoice)) } } };
    let (status, body) = match prepare(&state, &session, &entry, &access).await {
        Ok(annulment) => (
            StatusCode::OK,
            html! {
                p { (lang.t(T::AnnulExplained)) }
                section class="card" aria-label=(lang.t(T::AnnulTitle)) { (preview(lang, &entry, &annulment)) }
                form method="post" action={ (path) "/annul" } class="card" {
                    (csrf_field(&session.csrf))
                    p { (confirm_box_saying(lang, "confirm-annul", T::ConfirmAnnul)) }
                    p { button type="submit" id="annul-confirm" class="danger" { (lang.t(T::AnnulButton)) } }
                }
                (back)
            },
        ),
        Err(error) => {
            let (status, detail) = status_and_detail(&error);
            let message = format!("{}: {detail}", lang.t(T::AnnulNotPrepared));
            (status, html! { (notice(Some(Err(message)))) (back) })
        }
    };
    (status, Page::new(&session, Nav::Documents, title, body)).into_response()
}

/// `POST …/annul`: issues the confirmed annulment and goes to the new credit note's page (or to
/// its queued entry); a refusal is shown on the invoice's page, in the words the API would use.
pub async fn annul(
    State(state): State<ConsoleState>,
    DocumentAction { session, form, entry, access }: DocumentAction,
) -> Response {
    let lang = session.lang;
    if let Some(refusal) = unconfirmed(&form, lang) {
        return after_action(&state, &session, &entry, Err(refusal)).await;
    }
    let Annulment { number, body, note } = match prepare(&state, &session, &entry, &access).await {
        Ok(annulment) => annulment,
        Err(error) => return after_action(&state, &session, &entry, Err(error)).await,
    };
    let key = match annulment_key(&number) {
        Ok(key) => key,
        Err(error) => return after_action(&state, &session, &entry, Err(ApiError::internal(error))).await,
    };
    let note_reference = note.reference_code().as_str().to_owned();
    tracing::info!(invoice = %number, note = %note_reference, user = %session.user.username, "annulling an invoice from the console");
    let caller = Caller { user: session.user.clone(), api_key_id: None };
    match issue_body(&state.app, caller, access, Some(key), &body, Document::Note(note)).await {
        Ok(Issued::Bill(outcome)) => {
            Redirect::to(&format!("{}?done=annulled", entry_path(&note_reference, outcome.entry_id))).into_response()
        }
        Ok(Issued::Queued(queued)) => {
            Redirect::to(&format!("{}?done=annulment_queued", document_path(&queued))).into_response()
        }
        Err(error) => after_action(&state, &session, &entry, Err(error)).await,
    }
}
