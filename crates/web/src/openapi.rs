//! The OpenAPI 3.1 document and the vendored Swagger UI.
//!
//! Handlers are annotated with paths relative to the API prefix; [`document`] prefixes them with
//! the configured `API_V1_STR`, so the document always matches the router.

use std::collections::BTreeMap;
use utoipa::openapi::path::{Operation, ParameterIn};
use utoipa::openapi::security::{ApiKey, ApiKeyValue, Flow, OAuth2, Password, Scopes, SecurityScheme};
use utoipa::openapi::{Content, OpenApi as OpenApiDocument, Paths, Ref, RefOr, Response, ResponseBuilder};
use utoipa::{Modify, OpenApi};

use crate::envelope::{BadRequestResponse, DetailResponse, ValidationErrorItem, ValidationErrorResponse};
use crate::{later, routes, schemas};

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
        routes::ledger::get_entry,
        routes::invoices::get_invoice,
        routes::invoices::download_pdf,
        routes::invoices::download_xml,
        routes::invoices::invoice_events,
        routes::invoices::send_email,
        routes::invoices::delete_invoice,
        routes::documents::create_credit_note,
        routes::documents::get_credit_note,
        routes::documents::credit_note_pdf,
        routes::documents::credit_note_xml,
        routes::documents::send_credit_note_email,
        routes::documents::delete_credit_note,
        routes::documents::create_debit_note,
        routes::documents::get_debit_note,
        routes::documents::debit_note_pdf,
        routes::documents::debit_note_xml,
        routes::documents::send_debit_note_email,
        routes::documents::delete_debit_note,
        routes::documents::create_support_document,
        routes::documents::get_support_document,
        routes::documents::support_document_pdf,
        routes::documents::support_document_xml,
        routes::documents::delete_support_document,
        routes::lookups::municipalities,
        routes::lookups::taxes,
        routes::lookups::units,
        routes::lookups::numbering_ranges,
        routes::lookups::countries,
        routes::lookups::acquirer,
        routes::lookups::reference_tables,
        routes::company::get_company,
        routes::company::update_company,
        routes::company::upload_logo,
        routes::numbering_ranges::list_ranges,
        routes::numbering_ranges::software_ranges,
        routes::numbering_ranges::get_range,
        routes::numbering_ranges::create_range,
        routes::numbering_ranges::update_range,
        routes::numbering_ranges::delete_range,
        routes::users::list_users,
        routes::users::create_user,
        routes::users::update_user,
        routes::users::delete_user,
        routes::api_keys::create_api_key,
        routes::api_keys::list_api_keys,
        routes::api_keys::revoke_api_key,
        routes::webhooks::list_deliveries,
        routes::webhooks::redeliver,
        routes::health::health,
        routes::health::ready,
    ),
    components(schemas(DetailResponse, ValidationErrorItem, ValidationErrorResponse, BadRequestResponse)),
    tags(
        (name = "auth", description = "Local users log in with the OAuth2 password form and get a bearer token."),
        (name = "users", description = "User administration (admins only)."),
        (name = "api-keys", description = "API keys of machine callers (admins only); send one as `X-API-Key` instead of a bearer token."),
        (name = "invoices", description = "DIAN invoices through Factus: create, show, download, events, e-mail, delete."),
        (name = "credit-notes", description = "Credit notes correcting an invoice (returns, discounts, annulment): create exactly once, show, download, e-mail, delete."),
        (name = "debit-notes", description = "Debit notes adding to an invoice (Factus v2 accounts only): create exactly once, show, download, e-mail, delete."),
        (name = "support-documents", description = "Support documents for purchases from providers who cannot invoice: create exactly once, show, download, delete."),
        (name = "lookups", description = "Factus reference catalogues and DIAN code tables."),
        (name = "webhooks", description = "Signed webhooks of issuance outcomes: deliveries and redelivery (admins only)."),
        (name = "company", description = "The issuing company's profile and logo at Factus (admins change them)."),
        (name = "numbering-ranges", description = "DIAN numbering ranges at Factus: list, the software's DIAN ranges, get, create, move the next number, delete (admins change them)."),
        (name = "health", description = "Liveness and readiness probes."),
    )
)]
struct ApiDoc;

/// The later generation's routes under `/api` (`crate::later`), with their full paths.
#[derive(OpenApi)]
#[openapi(
    paths(
        later::factus_auth::factus_login,
        later::factus_auth::factus_refresh,
        later::invoices::create_invoice,
        later::invoices::get_invoice,
        later::invoices::download_pdf,
        later::invoices::download_xml,
        later::invoices::invoice_events,
        later::invoices::send_email,
        later::invoices::delete_invoice,
        later::lookups::reference_tables,
        later::lookups::municipalities,
        later::lookups::taxes,
        later::lookups::units,
        later::lookups::countries,
        later::lookups::acquirer,
        later::company::get_company,
        later::company::update_company,
        later::company::upload_logo,
        later::numbering_ranges::list_ranges,
        later::numbering_ranges::software_ranges,
        later::numbering_ranges::get_range,
        later::numbering_ranges::create_range,
        later::numbering_ranges::update_range,
        later::numbering_ranges::delete_range,
        later::api_health,
        later::root_health,
    ),
    tags(
        (name = "later", description = "The later generation of the original service, under `/api`: `X-API-Key` only, bare JSON answers, \
            canonical codes, Factus' own status on its refusals (5xx → 502). Same use cases, ledger and rules as `/api/v1`."),
    )
)]
struct LaterDoc;

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
        // Accepted wherever the bearer token is (an admin creates keys under /api-keys).
        components
            .add_security_scheme("APIKeyHeader", SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::new("X-API-Key"))));
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
    if api_prefix != later::PREFIX {
        openapi.merge(LaterDoc::openapi());
    }
    PasswordFlow { token_url: format!("{api_prefix}/auth/login") }.modify(&mut openapi);
    let components = openapi.components.get_or_insert_with(Default::default);
    for (name, schema) in schemas::components() {
        components.schemas.insert(name, schema);
    }
    CommonResponses.modify(&mut openapi);
    openapi
}

/// Adds the answers that come from the shared machinery rather than from a handler, to every
/// operation they apply to, so that no route can forget one and a new route gets them too:
///
/// - every operation: 500 (an unexpected error, logged with the request id);
/// - a bearer-token operation: 401 (no token, or a refused one);
/// - an operation marked `x-admin-only`: 403 (the user is not an admin);
/// - a bearer-token operation or one with a body (they all use the database): 503 when the
///   database is unavailable;
/// - an operation with a body: 400 (the body could not be read), 413 (over 1 MiB), 422 (malformed
///   JSON or fields);
/// - an operation that calls Factus (it takes `X-Factus-Token`): 400 (Factus refused), 422 (no
///   Factus token and no server session), 503 (Factus unreachable, failing, rate-limiting us, or
///   the circuit open), 504 (no answer in time).
///
/// A handler's own description of a status wins; these only fill the gaps.
struct CommonResponses;

/// The extension that marks an operation for admins only; such an operation documents 403.
const ADMIN_ONLY: &str = "x-admin-only";

/// The 401 of every `/api/v1` operation behind the bearer token (or an API key): written here
/// only, so that no handler describes it differently.
const NOT_AUTHENTICATED: &str = "`Not authenticated` (no bearer token) or `Could not validate credentials`";

impl CommonResponses {
    fn apply(operation: &mut Operation) {
        let secured = operation.security.as_ref().is_some_and(|requirements| !requirements.is_empty());
        let has_body = operation.request_body.is_some();
        let calls_factus = operation.parameters.iter().flatten().any(|parameter| match parameter {
            RefOr::T(parameter) => {
                parameter.parameter_in == ParameterIn::Header && parameter.name.eq_ignore_ascii_case("x-factus-token")
            }
            RefOr::Ref(_) => false,
        });
        let responses = &mut operation.responses.responses;
        let add = |responses: &mut BTreeMap<String, RefOr<Response>>, status: &str, description: &str, schema: &str| {
            responses.entry(status.to_owned()).or_insert_with(|| {
                ResponseBuilder::new()
                    .description(description)
                    .content("application/json", Content::new(Some(Ref::from_schema_name(schema))))
                    .build()
                    .into()
            });
        };
        let admin_only = operation.extensions.as_ref().is_some_and(|extensions| extensions.contains_key(ADMIN_ONLY));
        // The later generation (`/api`): its own texts for the key, Factus' status passed through.
        let later = operation.tags.iter().flatten().any(|tag| tag == "later");
        if later && secured {
            add(responses, "401", "`Not authenticated`: no `X-API-Key` (`WWW-Authenticate: APIKey`)", "DetailResponse");
            const KEY_REFUSED: &str =
                "`API Key inválida o ausente.`: the key is unknown, revoked, expired or its user disabled";
            if admin_only {
                let refused = format!("`Not enough permissions`: the key's user is not an admin; or {KEY_REFUSED}");
                add(responses, "403", &refused, "DetailResponse");
            } else {
                add(responses, "403", KEY_REFUSED, "DetailResponse");
            }
        }
        if admin_only {
            add(responses, "403", "`Not enough permissions`: admins only", "DetailResponse");
        }
        if later && calls_factus {
            const REFUSED: &str =
                "Factus refused the request: its own status and message, `{\"detail\": \"<Factus' message>\"}`";
            for status in ["400", "401", "404", "409", "422"] {
                add(responses, status, REFUSED, "DetailResponse");
            }
            add(
                responses,
                "502",
                "Factus failed (5xx), could not be reached, or answered an unexpected body",
                "DetailResponse",
            );
        }
        if secured {
            add(responses, "401", NOT_AUTHENTICATED, "DetailResponse");
        }
        if has_body {
            add(responses, "400", "`Could not read the request body`", "DetailResponse");
            add(responses, "413", "`Request body too large` (over 1 MiB)", "DetailResponse");
            add(
                responses,
                "422",
                "Malformed JSON, or missing, mistyped or out-of-bounds fields (all of them)",
                "ValidationErrorResponse",
            );
        }
        if calls_factus {
            add(
                responses,
                "400",
                "Factus refused the request: `{\"detail\": \"<operation>: <Factus' message>\"}`",
                "DetailResponse",
            );
            add(
                responses,
                "422",
                "No `X-Factus-Token` and the server has no Factus session of its own",
                "ValidationErrorResponse",
            );
            add(
                responses,
                "503",
                "Factus is unreachable, answered 5xx or its rate limit, or the circuit breaker is open",
                "DetailResponse",
            );
            add(responses, "504", "Factus did not answer in time", "DetailResponse");
        }
        if secured || has_body {
            // Every such route reads or writes the database (the bearer token's user, the login
            // throttle): when it is unavailable the answer is 503, not 500.
            const DATABASE: &str = "`Base de datos no disponible` (the database is unavailable; retry later)";
            match responses.get_mut("503") {
                Some(RefOr::T(response)) => response.description = format!("{}; or {DATABASE}", response.description),
                _ => add(responses, "503", DATABASE, "DetailResponse"),
            }
        }
        add(
            responses,
            "500",
            "`Internal Server Error` (an unexpected error; logged with the request id)",
            "DetailResponse",
        );
    }
}

impl Modify for CommonResponses {
    fn modify(&self, openapi: &mut OpenApiDocument) {
        for item in openapi.paths.paths.values_mut() {
            let operations = [
                &mut item.get,
                &mut item.put,
                &mut item.post,
                &mut item.delete,
                &mut item.options,
                &mut item.head,
                &mut item.patch,
                &mut item.trace,
            ];
            for operation in operations.into_iter().flatten() {
                Self::apply(operation);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::Value;

    use super::{NOT_AUTHENTICATED, document};

    fn json() -> Value {
        serde_json::to_value(document("/api/v1", "Factus API", "test")).expect("the document serialises")
    }

    fn refs<'a>(value: &'a Value, out: &mut Vec<&'a str>) {
        match value {
            Value::Object(map) => {
                if let Some(Value::String(reference)) = map.get("$ref") {
                    out.push(reference);
                }
                map.values().for_each(|value| refs(value, out));
            }
            Value::Array(items) => items.iter().for_each(|value| refs(value, out)),
            _ => {}
        }
    }

    #[test]
    fn every_reference_in_the_document_resolves() {
        let document = json();
        let mut found = Vec::new();
        refs(&document, &mut found);
        assert!(!found.is_empty());
        for reference in found {
            let name = reference.strip_prefix("#/components/schemas/").unwrap_or_else(|| panic!("{reference}"));
            assert!(document["components"]["schemas"][name].is_object(), "{reference} does not resolve");
        }
    }

    #[test]
    fn operation_ids_are_unique_across_both_generations() {
        let document = json();
        let mut seen = std::collections::BTreeSet::new();
        for item in document["paths"].as_object().expect("paths").values() {
            for operation in item.as_object().expect("a path item").values() {
                let id = operation["operationId"].as_str().expect("an operation id");
                assert!(seen.insert(id.to_owned()), "{id} twice");
            }
        }
    }

    // The shared machinery's answers are documented on every operation they apply to, including
    // routes added later (CommonResponses derives them from the operation itself).
    #[test]
    fn every_operation_documents_the_answers_of_the_shared_machinery() {
        let document = json();
        for (path, item) in document["paths"].as_object().expect("paths") {
            for (method, operation) in item.as_object().expect("a path item") {
                let responses = &operation["responses"];
                let has = |status: &str| responses[status].is_object();
                let label = format!("{method} {path}");
                assert!(has("500"), "{label}: no 500");
                if operation["security"].as_array().is_some_and(|security| !security.is_empty()) {
                    assert!(has("401"), "{label}: no 401");
                    let later = operation["tags"].as_array().is_some_and(|tags| tags.contains(&"later".into()));
                    if !later {
                        assert_eq!(responses["401"]["description"], NOT_AUTHENTICATED, "{label}");
                    }
                    if operation["x-admin-only"] == true {
                        let refused = responses["403"]["description"].as_str().unwrap_or_default();
                        assert!(refused.contains("`Not enough permissions`"), "{label}: {refused}");
                    }
                }
                if operation["security"].as_array().is_some_and(|security| !security.is_empty())
                    || operation["requestBody"].is_object()
                {
                    assert!(has("503"), "{label}: no 503 for the database");
                }
                if operation["requestBody"].is_object() {
                    for status in ["413", "422"] {
                        assert!(has(status), "{label}: no {status}");
                    }
                }
                let calls_factus = operation["parameters"]
                    .as_array()
                    .is_some_and(|parameters| parameters.iter().any(|parameter| parameter["name"] == "X-Factus-Token"));
                if calls_factus {
                    for status in ["400", "422", "503", "504"] {
                        assert!(has(status), "{label}: no {status}");
                    }
                }
                for (status, response) in responses.as_object().expect("responses") {
                    if status != "200" && status != "201" {
                        assert!(
                            response["content"]["application/json"]["schema"].is_object(),
                            "{label} {status}: no body"
                        );
                    }
                }
            }
        }
    }
}
