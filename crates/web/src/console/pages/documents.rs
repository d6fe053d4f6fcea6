//! The ledger: every document with filters and pages, newest first.

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use factus_application::ledger::{
    DocumentKind, EntryStatus, LedgerCursor, LedgerEntry, LedgerFilter, LedgerState, PageSize,
};
use factus_domain::invoice::ReferenceCode;
use factus_domain::user::Username;
use maud::{Markup, html};
use serde::Deserialize;

use super::{badge, column_heads};
use crate::console::ConsoleState;
use crate::console::format::{colombian, parse_date, start_of_colombian_day};
use crate::console::i18n::{Lang, T, kind_text, state_text};
use crate::console::page::{Nav, Page, error_page};
use crate::console::session::{BASE, Session};
use crate::error::ApiError;

/// How many documents a page shows.
const PAGE_SIZE: u32 = 25;

/// The filters as typed (every one optional; empty means "any").
#[derive(Debug, Default, Deserialize)]
pub struct DocumentsQuery {
    #[serde(default)]
    state: String,
    #[serde(default)]
    kind: String,
    #[serde(default)]
    reference_code: String,
    #[serde(default)]
    number: String,
    /// The customer's (a support document's provider's) identification, or a part of its name.
    #[serde(default)]
    customer: String,
    #[serde(default)]
    username: String,
    #[serde(default)]
    from: String,
    #[serde(default)]
    to: String,
    #[serde(default)]
    cursor: String,
}

impl DocumentsQuery {
    /// The ledger filter, or the names of the fields that could not be read.
    fn filter(&self, is_admin: bool) -> Result<LedgerFilter, Vec<T>> {
        let mut filter =
            LedgerFilter { limit: PageSize::new(PAGE_SIZE).unwrap_or_default(), ..LedgerFilter::default() };
        let mut bad = Vec::new();
        let text = |value: &str| Some(value.trim()).filter(|value| !value.is_empty()).map(str::to_owned);
        if let Some(state) = text(&self.state) {
            LedgerState::parse(&state).map_or_else(|_| bad.push(T::State), |state| filter.state = Some(state));
        }
        if let Some(kind) = text(&self.kind) {
            DocumentKind::parse(&kind).map_or_else(|_| bad.push(T::Kind), |kind| filter.kind = Some(kind));
        }
        if let Some(reference) = text(&self.reference_code) {
            ReferenceCode::parse(&reference)
                .map_or_else(|_| bad.push(T::Reference), |reference| filter.reference_code = Some(reference));
        }
        if let Some(number) = text(&self.number) {
            if number.chars().count() > crate::routes::ledger::MAX_NUMBER_CHARS || number.chars().any(char::is_control)
            {
                bad.push(T::Number);
            } else {
                filter.number = Some(number);
            }
        }
        // The same bounds as the API's `customer=` (a NUL would even fail the Postgres query).
        if let Some(customer) = text(&self.customer) {
            if customer.chars().count() > crate::routes::ledger::MAX_CUSTOMER_CHARS
                || customer.chars().any(char::is_control)
            {
                bad.push(T::Customer);
            } else {
                filter.counterparty = Some(customer);
            }
        }
        // Only admins see other users' documents; for anybody else the use case filters by them.
        if let Some(username) = text(&self.username).filter(|_| is_admin) {
            Username::parse(&username).map_or_else(|_| bad.push(T::User), |name| filter.username = Some(name));
        }
        if let Some(from) = text(&self.from) {
            parse_date(&from)
                .map_or_else(|| bad.push(T::From), |date| filter.created_from = Some(start_of_colombian_day(date)));
        }
        if let Some(to) = text(&self.to) {
            match parse_date(&to) {
                Some(date) => filter.created_before = date.next_day().map(start_of_colombian_day),
                None => bad.push(T::To),
            }
        }
        if let Some(cursor) = text(&self.cursor) {
            LedgerCursor::parse(&cursor).map_or_else(|_| bad.push(T::NextPage), |cursor| filter.after = Some(cursor));
        }
        if bad.is_empty() { Ok(filter) } else { Err(bad) }
    }

    /// The query string of these filters with another cursor.
    fn with_cursor(&self, cursor: &str) -> String {
        let pairs = [
            ("state", &self.state),
            ("kind", &self.kind),
            ("reference_code", &self.reference_code),
            ("number", &self.number),
            ("customer", &self.customer),
            ("username", &self.username),
            ("from", &self.from),
            ("to", &self.to),
        ];
        let mut kept: Vec<(&str, &str)> = pairs
            .iter()
            .filter(|(_, value)| !value.trim().is_empty())
            .map(|(key, value)| (*key, value.as_str()))
            .collect();
        if !cursor.is_empty() {
            kept.push(("cursor", cursor));
        }
        serde_urlencoded::to_string(kept).unwrap_or_default()
    }
}

/// The path of one document's page.
#[must_use]
pub fn document_path(entry: &LedgerEntry) -> String {
    entry_path(entry.reference_code.as_str(), entry.id)
}

/// The path of the page of entry `id` of `reference`.
#[must_use]
pub fn entry_path(reference: &str, id: uuid::Uuid) -> String {
    format!("{BASE}/documents/{}/{id}", encode_segment(reference))
}

/// Percent-encodes a path segment (a reference may hold `/`, `?`, `#`, spaces…).
fn encode_segment(segment: &str) -> String {
    let mut encoded = String::with_capacity(segment.len());
    for byte in segment.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'_' | b'.' | b'~') {
            encoded.push(char::from(byte));
        } else {
            encoded.push_str(&format!("%{byte:02X}"));
        }
    }
    encoded
}

fn select(lang: Lang, id: &str, label: T, current: &str, options: &[(&str, &str)]) -> Markup {
    html! {
        p {
            label for=(id) { (lang.t(label)) }
            select id=(id) name=(id) {
                option value="" { (lang.t(T::Any)) }
                @for (value, text) in options {
                    option value=(value) selected[*value == current] { (text) }
                }
            }
        }
    }
}

fn text_input(lang: Lang, id: &str, label: T, current: &str, kind: &str) -> Markup {
    html! {
        p {
            label for=(id) { (lang.t(label)) }
            input type=(kind) id=(id) name=(id) value=(current);
        }
    }
}

fn filters(lang: Lang, query: &DocumentsQuery, is_admin: bool) -> Markup {
    let states: Vec<(&str, &str)> =
        LedgerState::ALL.iter().map(|state| (state.as_str(), lang.t(state_text(*state)))).collect();
    let kinds: Vec<(&str, &str)> =
        DocumentKind::ALL.iter().map(|kind| (kind.as_str(), lang.t(kind_text(*kind)))).collect();
    html! {
        form method="get" action={ (BASE) "/documents" } class="filters" aria-label=(lang.t(T::Filters)) {
            (select(lang, "state", T::State, &query.state, &states))
            (select(lang, "kind", T::Kind, &query.kind, &kinds))
            (text_input(lang, "reference_code", T::Reference, &query.reference_code, "text"))
            (text_input(lang, "number", T::Number, &query.number, "text"))
            (text_input(lang, "customer", T::Customer, &query.customer, "text"))
            @if is_admin { (text_input(lang, "username", T::User, &query.username, "text")) }
            (text_input(lang, "from", T::From, &query.from, "date"))
            (text_input(lang, "to", T::To, &query.to, "date"))
            p class="buttons" {
                button type="submit" { (lang.t(T::Apply)) }
                " " a href={ (BASE) "/documents" } { (lang.t(T::Clear)) }
            }
        }
        p class="hint" { (lang.t(T::CustomerHint)) " " (lang.t(T::DateHint)) }
    }
}

/// Who a document is for: the name, and the identification beneath it.
fn customer_cell(entry: &LedgerEntry) -> Markup {
    html! {
        @match &entry.counterparty {
            Some(party) => { (party.name) br; span class="hint" { (party.identification) } },
            // A note that leaves the customer to its invoice, or an entry older than the field.
            None => "—",
        }
    }
}

/// The bill number of an issued entry.
pub(crate) fn number_of(entry: &LedgerEntry) -> Option<&str> {
    match &entry.status {
        EntryStatus::Issued { bill, .. } => Some(bill.number.as_str()),
        _ => None,
    }
}

/// `GET /console/documents`.
pub async fn list(
    State(state): State<ConsoleState>,
    session: Session,
    Query(query): Query<DocumentsQuery>,
) -> Response {
    let lang = session.lang;
    let is_admin = session.user.is_admin();
    let filter = match query.filter(is_admin) {
        Ok(filter) => filter,
        Err(bad) => {
            let names: Vec<&str> = bad.iter().map(|field| lang.t(*field)).collect();
            let body = html! {
                p class="notice error" role="alert" { (lang.t(T::BadFilter)) ": " (names.join(", ")) }
                (filters(lang, &query, is_admin))
            };
            return (StatusCode::UNPROCESSABLE_ENTITY, Page::new(&session, Nav::Documents, lang.t(T::Documents), body))
                .into_response();
        }
    };
    let first_page = filter.after.is_none();
    let page = match state.app.issuance.list(&session.user, filter).await {
        Ok(page) => page,
        Err(error) => return error_page(lang, ApiError::from(error)),
    };
    // Admins see every user's documents, and whose each one is.
    let columns = [T::Created, T::Kind, T::Reference, T::Number, T::Customer, T::State, T::User];
    let columns = if is_admin { &columns[..] } else { &columns[..columns.len() - 1] };
    let body = html! {
        (filters(lang, &query, is_admin))
        @if page.entries.is_empty() {
            p { (lang.t(T::NoDocuments)) }
        } @else {
            table class="documents" {
                (column_heads(lang, columns))
                tbody {
                    @for entry in &page.entries {
                        tr {
                            td { (colombian(entry.created_at)) }
                            td { (lang.t(kind_text(entry.kind))) }
                            td { a href=(document_path(entry)) class="reference" { (entry.reference_code.as_str()) } }
                            td { (number_of(entry).unwrap_or("—")) }
                            td class="customer" { (customer_cell(entry)) }
                            td { (badge(lang, entry.state())) }
                            @if is_admin { td { (entry.username.as_str()) } }
                        }
                    }
                }
            }
        }
        nav class="pages" aria-label=(lang.t(T::Pagination)) {
            @if !first_page { a href={ (BASE) "/documents?" (query.with_cursor("")) } { (lang.t(T::FirstPage)) } }
            @if let Some(next) = page.next_cursor {
                " " a href={ (BASE) "/documents?" (query.with_cursor(&next.encode())) } rel="next" { (lang.t(T::NextPage)) }
            }
        }
    };
    Page::new(&session, Nav::Documents, lang.t(T::Documents), body).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reference_codes_are_encoded_as_one_path_segment() {
        assert_eq!(encode_segment("FAC-1"), "FAC-1");
        assert_eq!(encode_segment("a/b c?#"), "a%2Fb%20c%3F%23");
        assert_eq!(encode_segment("ñ"), "%C3%B1");
    }

    #[test]
    fn dates_are_colombian_days_and_the_to_date_is_included() {
        let query = DocumentsQuery { from: "2026-12-01".into(), to: "2026-12-01".into(), ..DocumentsQuery::default() };
        let filter = query.filter(true).expect("valid filters");
        assert_eq!(filter.created_from, Some(time::macros::datetime!(2026-12-01 05:00 UTC)));
        assert_eq!(filter.created_before, Some(time::macros::datetime!(2026-12-02 05:00 UTC)));
    }

    #[test]
    fn bad_filters_are_named_and_a_user_filter_from_a_non_admin_is_ignored() {
        let query = DocumentsQuery { state: "lost".into(), from: "yesterday".into(), ..DocumentsQuery::default() };
        assert_eq!(query.filter(true).unwrap_err(), vec![T::State, T::From]);
        let query = DocumentsQuery { username: "somebody".into(), ..DocumentsQuery::default() };
        assert_eq!(query.filter(false).expect("valid").username, None);
        assert!(query.filter(true).expect("valid").username.is_some());
    }

    #[test]
    fn the_next_page_keeps_the_filters() {
        let query = DocumentsQuery { state: "issued".into(), number: " ".into(), ..DocumentsQuery::default() };
        assert_eq!(query.with_cursor("c1"), "state=issued&cursor=c1");
        let query =
            DocumentsQuery { customer: "Juan Pérez".into(), kind: "invoice".into(), ..DocumentsQuery::default() };
        assert_eq!(query.with_cursor("c2"), "kind=invoice&customer=Juan+P%C3%A9rez&cursor=c2");
    }

    #[test]
    fn the_customer_filter_is_the_ledgers_counterparty_search_with_the_apis_bounds() {
        let query = DocumentsQuery { customer: "  juan pér ".into(), ..DocumentsQuery::default() };
        assert_eq!(query.filter(false).expect("a search").counterparty.as_deref(), Some("juan pér"));
        let blank = DocumentsQuery { customer: "   ".into(), ..DocumentsQuery::default() };
        assert_eq!(blank.filter(false).expect("no search").counterparty, None);
        for bad in ["a\u{0}b".to_owned(), "x".repeat(crate::routes::ledger::MAX_CUSTOMER_CHARS + 1)] {
            let query = DocumentsQuery { customer: bad, ..DocumentsQuery::default() };
            assert_eq!(query.filter(true).unwrap_err(), vec![T::Customer]);
        }
    }
}
