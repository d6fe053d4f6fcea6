//! Users (admins): list, create, disable or enable, reset a password — through `UserAdmin`, with
//! the same rules as the API (the last enabled admin cannot be disabled).

use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use factus_application::users::UserChanges;
use factus_domain::user::{NewPassword, Role, Username};
use maud::html;
use serde::Deserialize;

use super::{column_heads, csrf_field, invalid_input, with_status};
use crate::console::ConsoleState;
use crate::console::format::colombian;
use crate::console::i18n::T;
use crate::console::page::{Nav, Page, error_page, notice, status_and_detail};
use crate::console::session::{AdminForm, AdminSession, BASE};
use crate::error::ApiError;

#[derive(Debug, Default, Deserialize)]
pub struct Done {
    done: Option<String>,
}

fn done_text(done: &str) -> Option<T> {
    Some(match done {
        "created" => T::UserCreated,
        "updated" => T::UserUpdated,
        "password" => T::PasswordReset,
        _ => return None,
    })
}

async fn render(
    state: &ConsoleState,
    session: &crate::console::session::Session,
    message: Option<Result<String, String>>,
) -> Response {
    let lang = session.lang;
    let users = match state.app.users.list().await {
        Ok(users) => users,
        Err(error) => return error_page(lang, ApiError::from(error)),
    };
    let csrf = &session.csrf;
    let body = html! {
        (notice(message))
        table class="users" {
            (column_heads(lang, &[T::Username, T::Role, T::Status, T::Created, T::Actions]))
            tbody {
                @for user in &users {
                    @let name = user.username.as_str();
                    tr {
                        th scope="row" { (name) }
                        td { (lang.t(if user.is_admin() { T::Admin } else { T::RegularUser })) }
                        td { span class={ "badge " (if user.disabled { "rejected" } else { "issued" }) } { (lang.t(if user.disabled { T::Disabled } else { T::Enabled })) } }
                        td { (colombian(user.created_at)) }
                        td class="actions" {
                            form method="post" action={ (BASE) "/users/" (name) "/enabled" } class="inline" {
                                (csrf_field(csrf))
                                input type="hidden" name="enabled" value=(if user.disabled { "true" } else { "false" });
                                button type="submit" { (lang.t(if user.disabled { T::Enable } else { T::Disable })) " " span class="visually-hidden" { (name) } }
                            }
                            form method="post" action={ (BASE) "/users/" (name) "/password" } class="inline" {
                                (csrf_field(csrf))
                                label for={ "password-" (name) } class="visually-hidden" { (lang.t(T::ResetPassword)) " " (name) }
                                input type="password" id={ "password-" (name) } name="password" placeholder=(lang.t(T::ResetPassword)) autocomplete="new-password" minlength="8" required;
                                " " button type="submit" { (lang.t(T::ResetPasswordButton)) }
                            }
                        }
                    }
                }
            }
        }
        section class="card narrow" aria-labelledby="create-user" {
            h2 id="create-user" { (lang.t(T::CreateUser)) }
            form method="post" action={ (BASE) "/users" } {
                (csrf_field(csrf))
                p { label for="new-username" { (lang.t(T::Username)) } input type="text" id="new-username" name="username" required autocomplete="off"; }
                p {
                    label for="new-password" { (lang.t(T::Password)) }
                    input type="password" id="new-password" name="password" required minlength="8" autocomplete="new-password" aria-describedby="password-rule";
                    span id="password-rule" class="hint" { (lang.t(T::PasswordRule)) }
                }
                p {
                    label for="new-role" { (lang.t(T::Role)) }
                    select id="new-role" name="role" {
                        option value="user" { (lang.t(T::RegularUser)) }
                        option value="admin" { (lang.t(T::Admin)) }
                    }
                }
                p { button type="submit" id="create-user-button" { (lang.t(T::CreateButton)) } }
            }
        }
    };
    Page::new(session, Nav::Users, lang.t(T::Users), body).into_response()
}

/// `GET /console/users`.
pub async fn list(
    State(state): State<ConsoleState>,
    AdminSession(session): AdminSession,
    Query(done): Query<Done>,
) -> Response {
    let message = done.done.as_deref().and_then(done_text).map(|text| Ok(session.lang.t(text).to_owned()));
    render(&state, &session, message).await
}

/// A refused change: the list again with the problem, with the API's status and text.
async fn refused(state: &ConsoleState, session: &crate::console::session::Session, error: ApiError) -> Response {
    let (status, detail) = status_and_detail(&error);
    with_status(render(state, session, Some(Err(detail))).await, status)
}

/// `POST /console/users`.
pub async fn create(State(state): State<ConsoleState>, AdminForm { session, form, .. }: AdminForm) -> Response {
    let lang = session.lang;
    let created = async {
        let username = Username::parse(form.get("username").unwrap_or_default())
            .map_err(|error| invalid_input(lang, T::Username, error))?;
        let password = NewPassword::parse(form.get("password").unwrap_or_default())
            .map_err(|error| invalid_input(lang, T::Password, error))?;
        let role =
            Role::parse(form.get("role").unwrap_or("user")).map_err(|error| invalid_input(lang, T::Role, error))?;
        Ok::<_, ApiError>(state.app.users.create(username, &password, role).await?)
    };
    match created.await {
        Ok(_) => Redirect::to(&format!("{BASE}/users?done=created")).into_response(),
        Err(error) => refused(&state, &session, error).await,
    }
}

async fn update(
    state: &ConsoleState,
    session: &crate::console::session::Session,
    username: &str,
    changes: UserChanges,
    done: &str,
) -> Response {
    let Ok(username) = Username::parse(username) else {
        return refused(state, session, ApiError::user_not_found()).await;
    };
    match state.app.users.update(&username, changes).await {
        Ok(_) => Redirect::to(&format!("{BASE}/users?done={done}")).into_response(),
        Err(error) => refused(state, session, ApiError::from(error)).await,
    }
}

/// `POST /console/users/{username}/enabled` with `enabled=true|false`.
pub async fn set_enabled(
    State(state): State<ConsoleState>,
    AdminForm { session, path: Path(username), form }: AdminForm<Path<String>>,
) -> Response {
    let disabled = form.get("enabled") != Some("true");
    update(&state, &session, &username, UserChanges { disabled: Some(disabled), ..UserChanges::default() }, "updated")
        .await
}

/// `POST /console/users/{username}/password`.
pub async fn reset_password(
    State(state): State<ConsoleState>,
    AdminForm { session, path: Path(username), form }: AdminForm<Path<String>>,
) -> Response {
    let password = match NewPassword::parse(form.get("password").unwrap_or_default()) {
        Ok(password) => password,
        Err(error) => return refused(&state, &session, invalid_input(session.lang, T::Password, error)).await,
    };
    update(&state, &session, &username, UserChanges { password: Some(password), ..UserChanges::default() }, "password")
        .await
}
