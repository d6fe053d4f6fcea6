//! The page shell (header, navigation, language switch, logout) and the message and error pages.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use maud::{DOCTYPE, Markup, html};

use super::i18n::{Lang, T};
use super::session::{BASE, CSRF_FIELD, Session};
use crate::error::ApiError;

/// Which navigation entry is the current page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Nav {
    Overview,
    Documents,
    Users,
    Keys,
    Webhooks,
    None,
}

/// A whole HTML page.
pub struct Page {
    lang: Lang,
    title: String,
    body: Markup,
    session: Option<(String, bool, String)>,
    nav: Nav,
}

impl Page {
    /// A page of a logged-in user, with the navigation their role allows.
    pub fn new(session: &Session, nav: Nav, title: impl Into<String>, body: Markup) -> Self {
        Self {
            lang: session.lang,
            title: title.into(),
            body,
            session: Some((session.user.username.to_string(), session.user.is_admin(), session.csrf.clone())),
            nav,
        }
    }

    /// A page without a session (login, errors before login).
    pub fn anonymous(lang: Lang, title: impl Into<String>, body: Markup) -> Self {
        Self { lang, title: title.into(), body, session: None, nav: Nav::None }
    }

    fn render(&self) -> Markup {
        let lang = self.lang;
        let link = |nav: Nav, href: &str, text: T| {
            html! {
                li { a href=(href) aria-current=[(self.nav == nav).then_some("page")] { (lang.t(text)) } }
            }
        };
        html! {
            (DOCTYPE)
            html lang=(lang.code()) {
                head {
                    meta charset="utf-8";
                    meta name="viewport" content="width=device-width, initial-scale=1";
                    title { (self.title) " · factus-api" }
                    link rel="stylesheet" href={ (BASE) "/assets/console.css" };
                    script src={ (BASE) "/assets/console.js" } defer {}
                }
                body {
                    a class="skip" href="#main" { (lang.t(T::SkipToContent)) }
                    header class="top" {
                        a class="brand" href=(BASE) { "factus-api · " (lang.t(T::Console)) }
                        @if let Some((username, is_admin, _)) = &self.session {
                            nav aria-label=(lang.t(T::Console)) {
                                ul {
                                    (link(Nav::Overview, BASE, T::Overview))
                                    (link(Nav::Documents, &format!("{BASE}/documents"), T::Documents))
                                    @if *is_admin {
                                        (link(Nav::Users, &format!("{BASE}/users"), T::Users))
                                        (link(Nav::Keys, &format!("{BASE}/keys"), T::ApiKeys))
                                        (link(Nav::Webhooks, &format!("{BASE}/webhooks"), T::Webhooks))
                                    }
                                }
                            }
                            span class="who" {
                                (lang.t(T::LoggedInAs)) " " strong { (username) }
                                " (" (lang.t(if *is_admin { T::Admin } else { T::RegularUser })) ")"
                            }
                        }
                        a class="lang" href={ (BASE) "/lang/" (lang.other().code()) } hreflang=(lang.other().code())
                            lang=(lang.other().code()) { (lang.t(T::SwitchLanguage)) }
                        @if let Some((_, _, csrf)) = &self.session {
                            form method="post" action={ (BASE) "/logout" } class="logout" {
                                input type="hidden" name=(CSRF_FIELD) value=(csrf);
                                button type="submit" { (lang.t(T::Logout)) }
                            }
                        }
                    }
                    main id="main" tabindex="-1" {
                        h1 { (self.title) }
                        (self.body)
                    }
                }
            }
        }
    }
}

impl IntoResponse for Page {
    fn into_response(self) -> Response {
        self.render().into_response()
    }
}

/// A page that only says something (errors, refusals).
pub fn message_page(status: StatusCode, lang: Lang, title: &str, text: &str) -> Response {
    let body = html! {
        p role="alert" { (text) }
        p { a href=(BASE) { (lang.t(T::BackToOverview)) } }
    };
    (status, Page::anonymous(lang, title, body)).into_response()
}

/// A use-case error as a page: the status and text the API would answer (one mapping, in
/// [`crate::error`]); an unexpected error is logged there and shown as a generic page.
pub fn error_page(lang: Lang, error: ApiError) -> Response {
    let (status, detail) = status_and_detail(&error);
    let title = match status {
        StatusCode::NOT_FOUND => lang.t(T::NotFoundTitle),
        StatusCode::FORBIDDEN => lang.t(T::ForbiddenTitle),
        _ => lang.t(T::ErrorTitle),
    };
    let text = if status == StatusCode::NOT_FOUND { lang.t(T::NotFoundText).to_owned() } else { detail };
    message_page(status, lang, title, &text)
}

/// The status and text the API answers for `error` (logged when unexpected), for a page to show.
/// A list of problems (the API's 422 and 400 lists) reads as sentences: each one's message,
/// after the field it is about when it is about one.
pub fn status_and_detail(error: &ApiError) -> (StatusCode, String) {
    error.log_if_unexpected();
    let (status, body) = error.status_and_body();
    let detail = match &body["detail"] {
        serde_json::Value::String(text) => text.clone(),
        serde_json::Value::Array(problems) => problems.iter().map(problem_text).collect::<Vec<_>>().join("; "),
        other => other.to_string(),
    };
    (status, detail)
}

/// One entry of a FastAPI `detail` list (`{loc, msg, type}`) as `items.0.price: field required`;
/// the body or header it came from goes unsaid, and a rule of the whole body is its message alone.
fn problem_text(problem: &serde_json::Value) -> String {
    let message = problem["msg"].as_str().map_or_else(|| problem.to_string(), str::to_owned);
    let field: Vec<String> = problem["loc"]
        .as_array()
        .map(|loc| {
            loc.iter().skip(1).map(|part| part.as_str().map_or_else(|| part.to_string(), str::to_owned)).collect()
        })
        .unwrap_or_default();
    if field.is_empty() { message } else { format!("{}: {message}", field.join(".")) }
}

/// A notice above a page's content: `Ok` good news, `Err` a problem.
pub fn notice(message: Option<Result<String, String>>) -> Markup {
    html! {
        @match message {
            Some(Ok(text)) => p class="notice ok" role="status" { (text) },
            Some(Err(text)) => p class="notice error" role="alert" { (text) },
            None => {},
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::validation::{FieldError, Loc};

    #[test]
    fn a_list_of_problems_reads_as_sentences() {
        let error = ApiError::BusinessRules(vec![
            FieldError::rule(Loc::body(), "Una anulación debe acreditar exactamente el saldo de la factura"),
            FieldError::missing(Loc::body().key("items").index(0).key("price")),
        ]);
        assert_eq!(
            status_and_detail(&error),
            (
                StatusCode::BAD_REQUEST,
                "Una anulación debe acreditar exactamente el saldo de la factura; items.0.price: field required"
                    .to_owned()
            )
        );
        let error =
            ApiError::detail(StatusCode::CONFLICT, "A request with this Idempotency-Key is still being processed");
        assert_eq!(status_and_detail(&error).1, "A request with this Idempotency-Key is still being processed");
    }
}
