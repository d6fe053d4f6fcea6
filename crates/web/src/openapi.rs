//! The OpenAPI 3.1 document and the vendored Swagger UI.
//!
//! Handlers are annotated with paths relative to the API prefix; [`document`] prefixes them with
//! the configured `API_V1_STR`, so the document always matches the router.

use utoipa::openapi::security::{Flow, OAuth2, Password, Scopes, SecurityScheme};
use utoipa::openapi::{OpenApi as OpenApiDocument, Paths};
use utoipa::{Modify, OpenApi};

use crate::envelope::{DetailResponse, ValidationErrorItem, ValidationErrorResponse};
use crate::routes;

#[derive(OpenApi)]
#[openapi(
    paths(
        routes::auth::login,
        routes::auth::me,
        routes::auth::change_password,
        routes::factus_auth::factus_login,
        routes::factus_auth::factus_refresh,
        routes::invoices::create_invoice,
        routes::ledger::list_invoices,
        routes::invoices::get_invoice,
        routes::invoices::download_pdf,
        routes::invoices::download_xml,
        routes::invoices::invoice_events,
        routes::invoices::send_email,
        routes::invoices::delete_invoice,
        routes::lookups::municipalities,
        routes::lookups::taxes,
        routes::lookups::units,
        routes::lookups::numbering_ranges,
        routes::lookups::countries,
        routes::lookups::acquirer,
        routes::lookups::reference_tables,
        routes::users::list_users,
        routes::users::create_user,
        routes::users::update_user,
        routes::users::delete_user,
        routes::health::health,
        routes::health::ready,
    ),
    components(schemas(DetailResponse, ValidationErrorItem, ValidationErrorResponse)),
    tags(
        (name = "auth", description = "Local users log in with the OAuth2 password form and get a bearer token."),
        (name = "users", description = "User administration (admins only)."),
        (name = "invoices", description = "DIAN invoices through Factus: create, show, download, events, e-mail, delete."),
        (name = "lookups", description = "Factus reference catalogues and DIAN code tables."),
        (name = "health", description = "Liveness and readiness probes."),
    )
)]
struct ApiDoc;

/// Adds the OAuth2 password flow whose `tokenUrl` is the local login route.
struct PasswordFlow {
    token_url: String,
}

impl Modify for PasswordFlow {
    fn modify(&self, openapi: &mut OpenApiDocument) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "OAuth2PasswordBearer",
            SecurityScheme::OAuth2(OAuth2::new([Flow::Password(Password::new(self.token_url.clone(), Scopes::new()))])),
        );
    }
}

/// The whole document, with every path under `api_prefix` (for example `/api/v1`).
#[must_use]
pub fn document(api_prefix: &str, title: &str, version: &str) -> OpenApiDocument {
    let mut openapi = ApiDoc::openapi();
    openapi.info.title = title.to_owned();
    openapi.info.version = version.to_owned();
    openapi.info.description = Some(
        "Local users, DIAN invoices through Factus, lookups. Errors are FastAPI-shaped: \
         `{\"detail\": \"…\"}` or `{\"detail\": [{\"loc\", \"msg\", \"type\"}]}`."
            .to_owned(),
    );
    let mut prefixed = Paths::new();
    for (path, item) in std::mem::take(&mut openapi.paths.paths) {
        prefixed.paths.insert(format!("{api_prefix}{path}"), item);
    }
    openapi.paths = prefixed;
    PasswordFlow { token_url: format!("{api_prefix}/auth/login") }.modify(&mut openapi);
    openapi
}
