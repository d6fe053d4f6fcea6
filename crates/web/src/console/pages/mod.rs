//! The console's pages. Each handler takes a [`super::session::Session`] (or an admin's), calls
//! the use cases in `AppState`, and renders with maud.

pub mod annulment;
pub mod document;
pub mod documents;
pub mod keys;
pub mod overview;
pub mod users;
pub mod webhooks;

use axum::http::StatusCode;
use factus_application::factus::FactusAccess;
use factus_application::ledger::LedgerState;
use maud::{Markup, html};

use super::ConsoleState;
use super::i18n::{Lang, T, state_text};
use super::session::{BASE, CSRF_FIELD};
use crate::error::ApiError;

/// The console acts at Factus with the server's own session; without one it cannot.
pub(crate) fn factus_access(state: &ConsoleState) -> Option<FactusAccess> {
    state.app.factus_status.has_server_session().then_some(FactusAccess::ServerSession)
}

/// A ledger state as a coloured badge (the colour repeats the text, never replaces it).
pub(crate) fn badge(lang: Lang, state: LedgerState) -> Markup {
    html! { span class={ "badge " (state.as_str()) } { (lang.t(state_text(state))) } }
}

/// A page shown again with a refusal on it gets the refusal's status (the API's for that error),
/// unless the page itself failed.
pub(crate) fn with_status(
    mut page: axum::response::Response,
    status: axum::http::StatusCode,
) -> axum::response::Response {
    if page.status() == axum::http::StatusCode::OK {
        *page.status_mut() = status;
    }
    page
}

/// A table's head: a row of column headers, one text each.
pub(crate) fn column_heads(lang: Lang, columns: &[T]) -> Markup {
    html! { thead { tr { @for column in columns { th scope="col" { (lang.t(*column)) } } } } }
}

/// A form field the console refuses: 422 `<invalid input> — <field>: <why>`.
pub(crate) fn invalid_input(lang: Lang, what: T, why: impl std::fmt::Display) -> ApiError {
    ApiError::detail(StatusCode::UNPROCESSABLE_ENTITY, format!("{} — {}: {why}", lang.t(T::InvalidInput), lang.t(what)))
}

/// The hidden CSRF field every form carries.
pub(crate) fn csrf_field(csrf: &str) -> Markup {
    html! { input type="hidden" name=(CSRF_FIELD) value=(csrf); }
}

/// The confirmation checkbox of a dangerous form: required, so it works without JavaScript.
pub(crate) fn confirm_box(lang: Lang, id: &str) -> Markup {
    confirm_box_saying(lang, id, T::ConfirmAction)
}

/// [`confirm_box`] saying what exactly is confirmed.
pub(crate) fn confirm_box_saying(lang: Lang, id: &str, text: T) -> Markup {
    html! {
        label class="confirm" for=(id) {
            input type="checkbox" id=(id) name="confirm" value="yes" required;
            " " (lang.t(text))
        }
    }
}

/// The login form (before any session).
pub(crate) fn login_body(lang: Lang, csrf: &str, next: &str, notice: Option<&str>, error: Option<String>) -> Markup {
    html! {
        @if let Some(notice) = notice { p class="notice ok" role="status" { (notice) } }
        @if let Some(error) = error { p class="notice error" role="alert" id="login-error" { (error) } }
        form method="post" action={ (BASE) "/login" } class="card narrow" {
            (csrf_field(csrf))
            input type="hidden" name="next" value=(next);
            p {
                label for="username" { (lang.t(T::Username)) }
                input type="text" id="username" name="username" autocomplete="username" required autofocus;
            }
            p {
                label for="password" { (lang.t(T::Password)) }
                input type="password" id="password" name="password" autocomplete="current-password" required;
            }
            p { button type="submit" id="login" { (lang.t(T::LoginButton)) } }
        }
        noscript { p class="hint" { (lang.t(T::NoCookieNoScript)) } }
    }
}
