//! API keys (admins): list, create (the secret is shown once, on the answer to the form, and
//! never stored), revoke — through `ApiKeyService`, as `POST/DELETE /api-keys`.

use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use factus_application::api_keys::ApiKeyName;
use factus_application::clock;
use factus_domain::user::Username;
use maud::{Markup, html};
use secrecy::ExposeSecret as _;
use serde::Deserialize;
use uuid::Uuid;

use super::{column_heads, csrf_field, invalid_input, with_status};
use crate::console::ConsoleState;
use crate::console::format::{colombian, parse_date, start_of_colombian_day};
use crate::console::i18n::T;
use crate::console::page::{Nav, Page, error_page, notice, status_and_detail};
use crate::console::session::{AdminForm, AdminSession, BASE, Session};
use crate::error::ApiError;

#[derive(Debug, Default, Deserialize)]
pub struct Done {
    done: Option<String>,
}

/// The page, with an optional notice and, right after creating one, the new key's secret.
async fn render(
    state: &ConsoleState,
    session: &Session,
    message: Option<Result<String, String>>,
    created: Option<Markup>,
) -> Response {
    let lang = session.lang;
    let (keys, users) = match state.app.api_keys.list(None).await {
        Ok(keys) => match state.app.users.list().await {
            Ok(users) => (keys, users),
            Err(error) => return error_page(lang, ApiError::from(error)),
        },
        Err(error) => return error_page(lang, ApiError::from(error)),
    };
    let now = clock::now();
    let csrf = &session.csrf;
    let body = html! {
        (notice(message))
        @if let Some(created) = created { (created) }
        @if keys.is_empty() {
            p { (lang.t(T::NoKeys)) }
        } @else {
            table class="keys" {
                (column_heads(lang, &[T::Name, T::Prefix, T::User, T::Status, T::Created, T::Expires, T::LastUsed, T::Actions]))
                tbody {
                    @for key in &keys {
                        tr id={ "key-" (key.id) } {
                            th scope="row" { (key.name.as_str()) }
                            td class="mono" { (key.prefix) "…" }
                            td { (key.username.as_str()) }
                            td {
                                @if key.revoked_at.is_some() {
                                    span class="badge rejected" { (lang.t(T::Revoked)) }
                                } @else if key.is_active_at(now) {
                                    span class="badge issued" { (lang.t(T::Active)) }
                                } @else {
                                    span class="badge unknown" { (lang.t(T::Expired)) }
                                }
                            }
                            td { (colombian(key.created_at)) }
                            td { (key.expires_at.map_or_else(|| lang.t(T::Never).to_owned(), colombian)) }
                            td { (key.last_used_at.map_or_else(|| lang.t(T::Never).to_owned(), colombian)) }
                            td {
                                @if key.revoked_at.is_none() {
                                    form method="post" action={ (BASE) "/keys/" (key.id) "/revoke" } class="inline" {
                                        (csrf_field(csrf))
                                        button type="submit" class="danger" { (lang.t(T::Revoke)) " " span class="visually-hidden" { (key.name.as_str()) } }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        section class="card narrow" aria-labelledby="create-key" {
            h2 id="create-key" { (lang.t(T::CreateKey)) }
            form method="post" action={ (BASE) "/keys" } {
                (csrf_field(csrf))
                p {
                    label for="key-user" { (lang.t(T::User)) }
                    select id="key-user" name="username" {
                        @for user in users.iter().filter(|user| !user.disabled) {
                            option value=(user.username.as_str()) selected[user.id == session.user.id] { (user.username.as_str()) }
                        }
                    }
                }
                p { label for="key-name" { (lang.t(T::Name)) } input type="text" id="key-name" name="name" required maxlength=(ApiKeyName::MAX_LEN) autocomplete="off"; }
                p { label for="key-expires" { (lang.t(T::ExpiresOptional)) } input type="date" id="key-expires" name="expires"; }
                p { button type="submit" id="create-key-button" { (lang.t(T::CreateButton)) } }
            }
        }
    };
    Page::new(session, Nav::Keys, lang.t(T::ApiKeys), body).into_response()
}

/// `GET /console/keys`.
pub async fn list(
    State(state): State<ConsoleState>,
    AdminSession(session): AdminSession,
    Query(done): Query<Done>,
) -> Response {
    let message = (done.done.as_deref() == Some("revoked")).then(|| Ok(session.lang.t(T::KeyRevoked).to_owned()));
    render(&state, &session, message, None).await
}

async fn refused(state: &ConsoleState, session: &Session, error: ApiError) -> Response {
    let (status, detail) = status_and_detail(&error);
    with_status(render(state, session, Some(Err(detail)), None).await, status)
}

/// `POST /console/keys`: creates the key and shows its secret this once.
pub async fn create(State(state): State<ConsoleState>, AdminForm { session, form, .. }: AdminForm) -> Response {
    let lang = session.lang;
    let created = async {
        let username =
            Username::parse(form.get("username").unwrap_or_default()).map_err(|_| ApiError::user_not_found())?;
        let name = ApiKeyName::parse(form.get("name").unwrap_or_default())
            .map_err(|error| invalid_input(lang, T::Name, error))?;
        // A date means "until that Colombian day ends".
        let expires = match form.get("expires").map(str::trim).filter(|raw| !raw.is_empty()) {
            None => None,
            Some(raw) => match parse_date(raw).and_then(|date| date.next_day()) {
                Some(day_after) => Some(start_of_colombian_day(day_after)),
                None => return Err(invalid_input(lang, T::Expires, raw)),
            },
        };
        Ok::<_, ApiError>(state.app.api_keys.create(&username, name, expires).await?)
    };
    match created.await {
        Ok(created) => {
            let secret = created.secret.expose_secret().to_owned();
            let shown = html! {
                section class="card created" aria-labelledby="new-key" role="status" {
                    h2 id="new-key" { (lang.t(T::KeyCreated)) }
                    p {
                        label for="new-key-secret" class="visually-hidden" { (lang.t(T::ApiKey)) }
                        input type="text" id="new-key-secret" class="mono secret" readonly value=(secret) size="72";
                        " " button type="button" data-copy="new-key-secret" hidden { (lang.t(T::Copy)) }
                    }
                }
            };
            let mut response = render(&state, &session, None, Some(shown)).await;
            response
                .headers_mut()
                .insert(axum::http::header::CACHE_CONTROL, axum::http::HeaderValue::from_static("no-store"));
            response
        }
        Err(error) => refused(&state, &session, error).await,
    }
}

/// `POST /console/keys/{id}/revoke`.
pub async fn revoke(
    State(state): State<ConsoleState>,
    AdminForm { session, path: Path(id), .. }: AdminForm<Path<String>>,
) -> Response {
    let Ok(id) = Uuid::try_parse(&id) else { return refused(&state, &session, ApiError::not_found()).await };
    match state.app.api_keys.revoke(id).await {
        Ok(_) => Redirect::to(&format!("{BASE}/keys?done=revoked")).into_response(),
        Err(error) => refused(&state, &session, ApiError::from(error)).await,
    }
}
