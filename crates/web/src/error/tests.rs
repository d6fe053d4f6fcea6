//! The error → response table: every use-case error variant, with the status, body and headers
//! the client gets. No HTTP: the mapping is a pure function of the error.

use std::collections::BTreeSet;

use factus_application::ledger::DocumentKind;
use factus_domain::invoice::{Path, ReferenceCode, Violation};
use factus_domain::user::Username;

use super::*;

/// One row: the error (already mapped), the variant it stands for, what the client must get.
struct Row {
    variant: &'static str,
    error: ApiError,
    status: StatusCode,
    body: Value,
    headers: &'static [(&'static str, &'static str)],
}

fn row(variant: &'static str, error: impl Into<ApiError>, status: u16, body: Value) -> Row {
    Row { variant, error: error.into(), status: StatusCode::from_u16(status).expect("a status"), body, headers: &[] }
}

fn detail(text: &str) -> Value {
    json!({ "detail": text })
}

fn field(loc: &[&str], msg: &str, kind: &str) -> Value {
    json!({ "detail": [{ "loc": loc, "msg": msg, "type": kind }] })
}

fn internal() -> Value {
    detail("Internal Server Error")
}

fn boom() -> anyhow::Error {
    anyhow::anyhow!("database password is hunter2")
}

/// The database refusing a write: what the adapters report for a full disk, a read-only server…
fn database_down() -> StoreError {
    StoreError::unavailable(std::io::Error::other("disk full; password hunter2"), false, "claiming reference R1")
}

fn database_unavailable() -> Value {
    detail("Base de datos no disponible")
}

fn factus(operation: FactusOperation, error: FactusError) -> FactusFailure {
    FactusFailure::new(operation, error)
}

/// An invoice's create failure.
fn invoice(error: IssueError) -> IssueFailure {
    IssueFailure { kind: DocumentKind::Invoice, error }
}

fn rejected(status: u16, message: &str) -> FactusError {
    FactusError::Rejected { status, message: message.to_owned() }
}

// The name of every variant. The `match`es have no wildcard, so a new variant does not compile
// until it is named here and in `VARIANTS` — and then the table must hold a row for it.

fn factus_variant(error: &FactusError) -> &'static str {
    match error {
        FactusError::Rejected { .. } => "FactusError::Rejected",
        FactusError::DianRejected { .. } => "FactusError::DianRejected",
        FactusError::Unavailable { .. } => "FactusError::Unavailable",
        FactusError::Timeout => "FactusError::Timeout",
        FactusError::CircuitOpen => "FactusError::CircuitOpen",
        FactusError::Busy { .. } => "FactusError::Busy",
        FactusError::InvalidResponse { .. } => "FactusError::InvalidResponse",
        FactusError::MissingCredentials => "FactusError::MissingCredentials",
        FactusError::Unexpected(_) => "FactusError::Unexpected",
    }
}

fn document_variant(error: &DocumentError) -> &'static str {
    match error {
        DocumentError::NotFound => "DocumentError::NotFound",
        DocumentError::Factus(_) => "DocumentError::Factus",
        DocumentError::Unexpected(_) => "DocumentError::Unexpected",
    }
}

fn issue_variant(failure: &IssueFailure) -> &'static str {
    issue_error_variant(&failure.error)
}

fn issue_error_variant(error: &IssueError) -> &'static str {
    match error {
        IssueError::InProgress { .. } => "IssueError::InProgress",
        IssueError::KeyReusedWithDifferentBody => "IssueError::KeyReusedWithDifferentBody",
        IssueError::ReferenceAlreadyUsed { .. } => "IssueError::ReferenceAlreadyUsed",
        IssueError::Rules(_) => "IssueError::Rules",
        IssueError::ReplayedRejection { .. } => "IssueError::ReplayedRejection",
        IssueError::BlockedByPending { .. } => "IssueError::BlockedByPending",
        IssueError::Factus(_) => "IssueError::Factus",
        IssueError::Unexpected(_) => "IssueError::Unexpected",
    }
}

fn login_variant(error: &LoginError) -> &'static str {
    match error {
        LoginError::InvalidCredentials => "LoginError::InvalidCredentials",
        LoginError::Throttled { .. } => "LoginError::Throttled",
        LoginError::Unexpected(_) => "LoginError::Unexpected",
    }
}

fn authenticate_variant(error: &AuthenticateError) -> &'static str {
    match error {
        AuthenticateError::InvalidToken => "AuthenticateError::InvalidToken",
        AuthenticateError::Unexpected(_) => "AuthenticateError::Unexpected",
    }
}

fn change_password_variant(error: &ChangePasswordError) -> &'static str {
    match error {
        ChangePasswordError::WrongCurrentPassword => "ChangePasswordError::WrongCurrentPassword",
        ChangePasswordError::Throttled { .. } => "ChangePasswordError::Throttled",
        ChangePasswordError::Unexpected(_) => "ChangePasswordError::Unexpected",
    }
}

fn create_user_variant(error: &CreateUserError) -> &'static str {
    match error {
        CreateUserError::UsernameTaken(_) => "CreateUserError::UsernameTaken",
        CreateUserError::Unexpected(_) => "CreateUserError::Unexpected",
    }
}

fn update_user_variant(error: &UpdateUserError) -> &'static str {
    match error {
        UpdateUserError::NotFound => "UpdateUserError::NotFound",
        UpdateUserError::LastAdmin => "UpdateUserError::LastAdmin",
        UpdateUserError::Unexpected(_) => "UpdateUserError::Unexpected",
    }
}

fn api_key_auth_variant(error: &ApiKeyAuthError) -> &'static str {
    match error {
        ApiKeyAuthError::Refused => "ApiKeyAuthError::Refused",
        ApiKeyAuthError::Unexpected(_) => "ApiKeyAuthError::Unexpected",
    }
}

fn create_api_key_variant(error: &CreateApiKeyError) -> &'static str {
    match error {
        CreateApiKeyError::UserNotFound => "CreateApiKeyError::UserNotFound",
        CreateApiKeyError::ExpiryInPast => "CreateApiKeyError::ExpiryInPast",
        CreateApiKeyError::Unexpected(_) => "CreateApiKeyError::Unexpected",
    }
}

fn revoke_api_key_variant(error: &RevokeApiKeyError) -> &'static str {
    match error {
        RevokeApiKeyError::NotFound => "RevokeApiKeyError::NotFound",
        RevokeApiKeyError::Unexpected(_) => "RevokeApiKeyError::Unexpected",
    }
}

fn redeliver_variant(error: &RedeliverError) -> &'static str {
    match error {
        RedeliverError::NotFound => "RedeliverError::NotFound",
        RedeliverError::Unexpected(_) => "RedeliverError::Unexpected",
    }
}

fn account_variant(error: &AccountError) -> &'static str {
    match error {
        AccountError::NotAdmin => "AccountError::NotAdmin",
        AccountError::RangeNotFound { .. } => "AccountError::RangeNotFound",
        AccountError::Factus(_) => "AccountError::Factus",
    }
}

fn logo_variant(error: &LogoError) -> &'static str {
    match error {
        LogoError::Empty => "LogoError::Empty",
        LogoError::TooLarge { .. } => "LogoError::TooLarge",
        LogoError::UnsupportedType => "LogoError::UnsupportedType",
    }
}

/// Builds a row from a use-case error, naming its variant through the exhaustive `match`.
macro_rules! case {
    ($name:ident, $error:expr, $status:expr, $body:expr) => {{
        let error = $error;
        let variant = $name(&error);
        row(variant, error, $status, $body)
    }};
}

fn failure_variant(failure: &FactusFailure) -> &'static str {
    factus_variant(&failure.error)
}

fn store_variant(_: &StoreError) -> &'static str {
    "StoreError"
}

fn table() -> Vec<Row> {
    use FactusOperation::{DownloadXml, Login, Lookup, Refresh};
    const GET_INVOICE: FactusOperation = FactusOperation::Get(DocumentKind::Invoice);
    let reference = ReferenceCode::parse("FAC-1").expect("a reference");
    vec![
        // Factus: the operation's prefix before Factus' message; lookups answer it bare.
        case!(
            failure_variant,
            factus(GET_INVOICE, rejected(404, "Factura no encontrada")),
            400,
            detail("Error al obtener la factura: Factura no encontrada")
        ),
        case!(
            failure_variant,
            factus(FactusOperation::Delete(DocumentKind::Invoice), rejected(409, "El documento ya fue validado")),
            400,
            detail("Error al eliminar la factura: El documento ya fue validado")
        ),
        case!(
            failure_variant,
            factus(Login, rejected(401, "Invalid credentials")),
            400,
            detail("No se pudo obtener el token de Factus: Invalid credentials")
        ),
        case!(failure_variant, factus(Lookup, rejected(429, "Too Many Attempts.")), 503, detail("Too Many Attempts.")),
        case!(
            failure_variant,
            factus(DownloadXml, FactusError::InvalidResponse { message: "Unexpected API structure".into() }),
            400,
            detail("Error al descargar el XML: Unexpected API structure")
        ),
        case!(
            failure_variant,
            factus(
                Refresh,
                FactusError::Unavailable { message: "All connection attempts failed".into(), request_sent: false }
            ),
            503,
            detail("No se pudo refrescar el token de Factus: All connection attempts failed")
        ),
        case!(
            failure_variant,
            factus(
                FactusOperation::CREATE_INVOICE,
                FactusError::DianRejected {
                    rules: vec!["Regla: FAK24, Rechazo: No está informado el DV del NIT".into()]
                }
            ),
            400,
            detail("Error al crear la factura: Regla: FAK24, Rechazo: No está informado el DV del NIT")
        ),
        case!(failure_variant, factus(Lookup, FactusError::Timeout), 504, detail("Factus no respondió a tiempo")),
        case!(
            failure_variant,
            factus(GET_INVOICE, FactusError::CircuitOpen),
            503,
            detail("Error al obtener la factura: Factus no está disponible")
        ),
        Row {
            headers: &[("retry-after", "7")],
            ..case!(
                failure_variant,
                factus(GET_INVOICE, FactusError::Busy { retry_after_secs: 7 }),
                503,
                detail(
                    "Error al obtener la factura: Factus está ocupado: se alcanzó el límite de solicitudes por \
                     minuto; intente de nuevo en 7 s"
                )
            )
        },
        case!(
            failure_variant,
            factus(GET_INVOICE, FactusError::MissingCredentials),
            422,
            field(&["header", "x-factus-token"], "field required", "value_error.missing")
        ),
        case!(failure_variant, factus(GET_INVOICE, FactusError::Unexpected(boom())), 500, internal()),
        // Issuance: the ledger's answers, and Factus' under the create prefix.
        case!(
            issue_variant,
            invoice(IssueError::InProgress { keyed: true }),
            409,
            detail("A request with this Idempotency-Key is still being processed")
        ),
        case!(
            issue_variant,
            invoice(IssueError::InProgress { keyed: false }),
            409,
            detail("A request with this reference_code is still being processed")
        ),
        case!(
            issue_variant,
            invoice(IssueError::KeyReusedWithDifferentBody),
            422,
            field(
                &["header", "idempotency-key"],
                "Idempotency-Key was already used with a different request body",
                "value_error"
            )
        ),
        case!(
            issue_variant,
            invoice(IssueError::ReferenceAlreadyUsed { reference }),
            400,
            detail("Error al crear la factura: reference_code FAC-1 ya fue usado")
        ),
        Row {
            headers: &[("idempotent-replayed", "true")],
            ..case!(
                issue_variant,
                invoice(IssueError::ReplayedRejection { status: 422, message: "customer.names: requerido".into() }),
                400,
                detail("Error al crear la factura: customer.names: requerido")
            )
        },
        Row {
            headers: &[("idempotent-replayed", "true")],
            ..case!(
                issue_variant,
                invoice(IssueError::ReplayedRejection { status: 429, message: "Too Many Attempts.".into() }),
                503,
                detail("Error al crear la factura: Too Many Attempts.")
            )
        },
        case!(
            issue_variant,
            invoice(IssueError::BlockedByPending {
                message: "Se encontró una factura pendiente por enviar a la DIAN".into(),
                reference: Some("FAC-9".into())
            }),
            409,
            detail(
                "Error al crear la factura: Se encontró una factura pendiente por enviar a la DIAN. Documento pendiente en Factus: reference_code FAC-9"
            )
        ),
        case!(
            issue_variant,
            invoice(IssueError::BlockedByPending {
                message: "Se encontró una factura pendiente por enviar a la DIAN".into(),
                reference: None
            }),
            409,
            detail("Error al crear la factura: Se encontró una factura pendiente por enviar a la DIAN")
        ),
        case!(
            issue_variant,
            invoice(IssueError::Factus(FactusError::Timeout)),
            504,
            detail("Error al crear la factura: Factus no respondió a tiempo")
        ),
        case!(issue_variant, invoice(IssueError::Unexpected(boom())), 500, internal()),
        case!(issue_variant, invoice(IssueError::from(database_down())), 503, database_unavailable()),
        // Other kinds name their document in the same table.
        case!(
            issue_variant,
            IssueFailure {
                kind: DocumentKind::CreditNote,
                error: IssueError::ReferenceAlreadyUsed {
                    reference: ReferenceCode::parse("NC-1").expect("a reference")
                }
            },
            400,
            detail("Error al crear la nota crédito: reference_code NC-1 ya fue usado")
        ),
        case!(
            issue_variant,
            IssueFailure { kind: DocumentKind::SupportDocument, error: IssueError::Factus(FactusError::Timeout) },
            504,
            detail("Error al crear el documento soporte: Factus no respondió a tiempo")
        ),
        case!(
            issue_variant,
            IssueFailure {
                kind: DocumentKind::CreditNote,
                error: IssueError::Rules(vec![Violation::rule(
                    Path::root().key("bill_number"),
                    "La factura SETP990000001 no está registrada en este servicio"
                )])
            },
            400,
            field(
                &["body", "bill_number"],
                "La factura SETP990000001 no está registrada en este servicio",
                "value_error"
            )
        ),
        // Existing documents: another user's (or one unknown to the ledger) does not exist.
        case!(document_variant, DocumentError::NotFound, 404, detail("Documento no encontrado")),
        case!(
            document_variant,
            DocumentError::Factus(FactusFailure::new(GET_INVOICE, FactusError::Timeout)),
            504,
            detail("Error al obtener la factura: Factus no respondió a tiempo")
        ),
        case!(document_variant, DocumentError::Unexpected(StoreError(boom())), 500, internal()),
        case!(document_variant, DocumentError::Unexpected(database_down()), 503, database_unavailable()),
        // Local authentication and users.
        Row {
            headers: &[("www-authenticate", "Bearer")],
            ..case!(login_variant, LoginError::InvalidCredentials, 401, detail("Incorrect username or password"))
        },
        Row {
            headers: &[("retry-after", "90")],
            ..case!(
                login_variant,
                LoginError::Throttled { retry_after: Duration::from_secs(90) },
                429,
                detail("Too many failed login attempts, try again later")
            )
        },
        case!(login_variant, LoginError::Unexpected(StoreError(boom())), 500, internal()),
        case!(login_variant, LoginError::Unexpected(database_down()), 503, database_unavailable()),
        Row {
            headers: &[("www-authenticate", "Bearer")],
            ..case!(
                authenticate_variant,
                AuthenticateError::InvalidToken,
                401,
                detail("Could not validate credentials")
            )
        },
        case!(authenticate_variant, AuthenticateError::Unexpected(StoreError(boom())), 500, internal()),
        case!(authenticate_variant, AuthenticateError::Unexpected(database_down()), 503, database_unavailable()),
        case!(
            change_password_variant,
            ChangePasswordError::WrongCurrentPassword,
            400,
            detail("Current password is incorrect")
        ),
        Row {
            headers: &[("retry-after", "90")],
            ..case!(
                change_password_variant,
                ChangePasswordError::Throttled { retry_after: Duration::from_secs(90) },
                429,
                detail("Too many failed password attempts, try again later")
            )
        },
        case!(change_password_variant, ChangePasswordError::Unexpected(StoreError(boom())), 500, internal()),
        case!(
            create_user_variant,
            CreateUserError::UsernameTaken(Username::parse("ana").expect("a name")),
            409,
            detail("Username already exists")
        ),
        case!(create_user_variant, CreateUserError::Unexpected(StoreError(boom())), 500, internal()),
        case!(update_user_variant, UpdateUserError::NotFound, 404, detail("User not found")),
        case!(
            update_user_variant,
            UpdateUserError::LastAdmin,
            409,
            detail("The last enabled admin cannot be disabled, demoted or deleted")
        ),
        case!(update_user_variant, UpdateUserError::Unexpected(StoreError(boom())), 500, internal()),
        // API keys.
        Row {
            headers: &[("www-authenticate", "APIKey")],
            ..case!(api_key_auth_variant, ApiKeyAuthError::Refused, 401, detail("Could not validate credentials"))
        },
        case!(api_key_auth_variant, ApiKeyAuthError::Unexpected(StoreError(boom())), 500, internal()),
        case!(create_api_key_variant, CreateApiKeyError::UserNotFound, 404, detail("User not found")),
        case!(
            create_api_key_variant,
            CreateApiKeyError::ExpiryInPast,
            400,
            field(&["body", "expires_at"], "la fecha de expiración debe estar en el futuro", "value_error")
        ),
        case!(create_api_key_variant, CreateApiKeyError::Unexpected(StoreError(boom())), 500, internal()),
        case!(revoke_api_key_variant, RevokeApiKeyError::NotFound, 404, detail("API key not found")),
        case!(revoke_api_key_variant, RevokeApiKeyError::Unexpected(StoreError(boom())), 500, internal()),
        case!(redeliver_variant, RedeliverError::NotFound, 404, detail("Webhook delivery not found")),
        case!(redeliver_variant, RedeliverError::Unexpected(StoreError(boom())), 500, internal()),
        case!(store_variant, StoreError(boom()), 500, internal()),
        case!(store_variant, database_down(), 503, database_unavailable()),
        // The company and the numbering ranges: admins change them; Factus' refusals keep the
        // operation's prefix.
        case!(account_variant, AccountError::NotAdmin, 403, detail("Not enough permissions")),
        case!(
            account_variant,
            AccountError::RangeNotFound { id: 99 },
            404,
            detail("Rango de numeración no encontrado")
        ),
        case!(
            account_variant,
            AccountError::Factus(factus(
                FactusOperation::CreateNumberingRange,
                rejected(422, "resolution_number: El campo número de resolución es inválido.")
            )),
            400,
            detail(
                "Error al crear el rango de numeración: resolution_number: El campo número de resolución es inválido."
            )
        ),
        case!(
            account_variant,
            AccountError::Factus(factus(FactusOperation::UpdateCompanyLogo, FactusError::Timeout)),
            504,
            detail("Error al actualizar el logo de la empresa: Factus no respondió a tiempo")
        ),
        case!(
            logo_variant,
            LogoError::TooLarge { size: 2_097_153, max: 2_097_152 },
            413,
            detail("La imagen pesa 2097153 bytes; el máximo es 2097152 bytes (2 MB)")
        ),
        case!(
            logo_variant,
            LogoError::UnsupportedType,
            422,
            field(&["body", "image"], "La imagen debe ser PNG, JPEG, GIF o WebP", "value_error.image")
        ),
        case!(
            logo_variant,
            LogoError::Empty,
            422,
            field(&["body", "image"], "El archivo de imagen está vacío", "value_error.image")
        ),
    ]
}

/// Every variant of every use-case error the web crate maps.
const VARIANTS: &[&str] = &[
    "FactusError::Rejected",
    "FactusError::DianRejected",
    "FactusError::Unavailable",
    "FactusError::Timeout",
    "FactusError::CircuitOpen",
    "FactusError::Busy",
    "FactusError::InvalidResponse",
    "FactusError::MissingCredentials",
    "FactusError::Unexpected",
    "IssueError::InProgress",
    "IssueError::KeyReusedWithDifferentBody",
    "IssueError::ReferenceAlreadyUsed",
    "IssueError::Rules",
    "IssueError::ReplayedRejection",
    "IssueError::BlockedByPending",
    "IssueError::Factus",
    "IssueError::Unexpected",
    "LoginError::InvalidCredentials",
    "LoginError::Throttled",
    "LoginError::Unexpected",
    "AuthenticateError::InvalidToken",
    "AuthenticateError::Unexpected",
    "ChangePasswordError::WrongCurrentPassword",
    "ChangePasswordError::Throttled",
    "ChangePasswordError::Unexpected",
    "CreateUserError::UsernameTaken",
    "CreateUserError::Unexpected",
    "UpdateUserError::NotFound",
    "UpdateUserError::LastAdmin",
    "UpdateUserError::Unexpected",
    "ApiKeyAuthError::Refused",
    "ApiKeyAuthError::Unexpected",
    "CreateApiKeyError::UserNotFound",
    "CreateApiKeyError::ExpiryInPast",
    "CreateApiKeyError::Unexpected",
    "RevokeApiKeyError::NotFound",
    "RevokeApiKeyError::Unexpected",
    "RedeliverError::NotFound",
    "RedeliverError::Unexpected",
    "StoreError",
    "DocumentError::NotFound",
    "DocumentError::Factus",
    "DocumentError::Unexpected",
    "AccountError::NotAdmin",
    "AccountError::RangeNotFound",
    "AccountError::Factus",
    "LogoError::Empty",
    "LogoError::TooLarge",
    "LogoError::UnsupportedType",
];

#[test]
fn every_use_case_error_maps_to_its_status_body_and_headers() {
    assert_rows(table());
}

fn assert_rows(rows: Vec<Row>) {
    for row in rows {
        let (status, body) = row.error.status_and_body();
        assert_eq!((status, &body), (row.status, &row.body), "{}", row.variant);
        let headers = row.error.headers();
        for (name, value) in row.headers {
            assert_eq!(headers.get(*name).and_then(|v| v.to_str().ok()), Some(*value), "{}: {name}", row.variant);
        }
        assert_eq!(headers.len(), row.headers.len(), "{}: {headers:?}", row.variant);
    }
}

#[test]
fn the_table_covers_every_use_case_error_variant() {
    let covered: BTreeSet<&str> = table().iter().map(|row| row.variant).collect();
    let all: BTreeSet<&str> = VARIANTS.iter().copied().collect();
    assert_eq!(covered, all);
}

#[test]
fn unexpected_errors_never_reach_the_client() {
    let hidden = [StatusCode::INTERNAL_SERVER_ERROR, StatusCode::SERVICE_UNAVAILABLE];
    for row in table().into_iter().filter(|row| hidden.contains(&row.status)) {
        let (_, body) = row.error.status_and_body();
        assert!(!body.to_string().contains("hunter2"), "{}: {body}", row.variant);
    }
}

// ---------------------------------------------------------------------------------------------
// The later generation (`/api`): the same use-case errors, answered with its statuses and texts
// ---------------------------------------------------------------------------------------------

fn later_failure_variant(error: &Later<FactusFailure>) -> &'static str {
    factus_variant(&error.0.error)
}

fn later_issue_variant(error: &Later<IssueError>) -> &'static str {
    issue_error_variant(&error.0)
}

fn later_document_variant(error: &Later<DocumentError>) -> &'static str {
    document_variant(&error.0)
}

fn later_account_variant(error: &Later<AccountError>) -> &'static str {
    account_variant(&error.0)
}

fn later_api_key_variant(error: &Later<ApiKeyAuthError>) -> &'static str {
    api_key_auth_variant(&error.0)
}

fn later_table() -> Vec<Row> {
    use FactusOperation::{DownloadPdf, Lookup};
    const GET_INVOICE: FactusOperation = FactusOperation::Get(DocumentKind::Invoice);
    const CREATE_INVOICE: FactusOperation = FactusOperation::CREATE_INVOICE;
    let reference = ReferenceCode::parse("FAC-1").expect("a reference");
    let later = |operation, error| Later(factus(operation, error));
    vec![
        // Factus' own status and message, without the operation's prefix.
        case!(
            later_failure_variant,
            later(GET_INVOICE, rejected(404, "Factura no encontrada")),
            404,
            detail("Factura no encontrada")
        ),
        case!(
            later_failure_variant,
            later(Lookup, rejected(429, "Too Many Attempts.")),
            429,
            detail("Too Many Attempts.")
        ),
        case!(
            later_failure_variant,
            later(CREATE_INVOICE, FactusError::DianRejected { rules: vec!["Regla: FAK24, Rechazo: DV".into()] }),
            422,
            detail("Regla: FAK24, Rechazo: DV")
        ),
        case!(
            later_failure_variant,
            later(DownloadPdf, FactusError::Unavailable { message: "Server Error".into(), request_sent: true }),
            502,
            detail("Server Error")
        ),
        case!(
            later_failure_variant,
            later(Lookup, FactusError::InvalidResponse { message: "Unexpected API structure: 1".into() }),
            502,
            detail("Unexpected API structure: 1")
        ),
        case!(
            later_failure_variant,
            later(GET_INVOICE, FactusError::Timeout),
            504,
            detail("Factus no respondió a tiempo")
        ),
        case!(
            later_failure_variant,
            later(GET_INVOICE, FactusError::CircuitOpen),
            503,
            detail("Factus no está disponible")
        ),
        Row {
            headers: &[("retry-after", "12")],
            ..case!(
                later_failure_variant,
                later(Lookup, FactusError::Busy { retry_after_secs: 12 }),
                503,
                detail("Factus está ocupado: se alcanzó el límite de solicitudes por minuto; intente de nuevo en 12 s")
            )
        },
        case!(
            later_failure_variant,
            later(GET_INVOICE, FactusError::MissingCredentials),
            422,
            field(&["header", "x-factus-token"], "field required", "value_error.missing")
        ),
        case!(later_failure_variant, later(GET_INVOICE, FactusError::Unexpected(boom())), 500, internal()),
        // Issuance: the ledger's answers, unprefixed; a reference of another bill is a conflict.
        case!(
            later_issue_variant,
            Later(IssueError::InProgress { keyed: false }),
            409,
            detail("A request with this reference_code is still being processed")
        ),
        case!(
            later_issue_variant,
            Later(IssueError::KeyReusedWithDifferentBody),
            422,
            field(
                &["header", "idempotency-key"],
                "Idempotency-Key was already used with a different request body",
                "value_error"
            )
        ),
        case!(
            later_issue_variant,
            Later(IssueError::ReferenceAlreadyUsed { reference }),
            409,
            detail("reference_code FAC-1 ya fue usado")
        ),
        Row {
            headers: &[("idempotent-replayed", "true")],
            ..case!(
                later_issue_variant,
                Later(IssueError::ReplayedRejection { status: 422, message: "customer.names: requerido".into() }),
                422,
                detail("customer.names: requerido")
            )
        },
        case!(
            later_issue_variant,
            Later(IssueError::BlockedByPending {
                message: "Se encontró una factura pendiente por enviar a la DIAN".into(),
                reference: Some("FAC-9".into())
            }),
            409,
            detail(
                "Se encontró una factura pendiente por enviar a la DIAN. Documento pendiente en Factus: reference_code FAC-9"
            )
        ),
        case!(later_issue_variant, Later(IssueError::Factus(rejected(409, "Conflicto"))), 409, detail("Conflicto")),
        case!(later_issue_variant, Later(IssueError::Unexpected(boom())), 500, internal()),
        case!(later_document_variant, Later(DocumentError::NotFound), 404, detail("Documento no encontrado")),
        case!(
            later_document_variant,
            Later(DocumentError::Factus(factus(GET_INVOICE, rejected(401, "Unauthenticated.")))),
            401,
            detail("Unauthenticated.")
        ),
        case!(later_document_variant, Later(DocumentError::Unexpected(database_down())), 503, database_unavailable()),
        // The later original's texts for a refused key.
        case!(later_api_key_variant, Later(ApiKeyAuthError::Refused), 403, detail("API Key inválida o ausente.")),
        case!(later_api_key_variant, Later(ApiKeyAuthError::Unexpected(StoreError(boom()))), 500, internal()),
        // The company and the numbering ranges: Factus' own status and text, our 403 and 404.
        case!(later_account_variant, Later(AccountError::NotAdmin), 403, detail("Not enough permissions")),
        case!(
            later_account_variant,
            Later(AccountError::RangeNotFound { id: 99 }),
            404,
            detail("Rango de numeración no encontrado")
        ),
        case!(
            later_account_variant,
            Later(AccountError::Factus(factus(
                FactusOperation::CreateNumberingRange,
                rejected(422, "resolution_number: El campo número de resolución es inválido.")
            ))),
            422,
            detail("resolution_number: El campo número de resolución es inválido.")
        ),
    ]
}

/// Every variant of the use-case errors the later generation's routes map.
const LATER_VARIANTS: &[&str] = &[
    "FactusError::Rejected",
    "FactusError::DianRejected",
    "FactusError::Unavailable",
    "FactusError::Timeout",
    "FactusError::CircuitOpen",
    "FactusError::Busy",
    "FactusError::InvalidResponse",
    "FactusError::MissingCredentials",
    "FactusError::Unexpected",
    "IssueError::InProgress",
    "IssueError::KeyReusedWithDifferentBody",
    "IssueError::ReferenceAlreadyUsed",
    "IssueError::ReplayedRejection",
    "IssueError::BlockedByPending",
    "IssueError::Factus",
    "IssueError::Unexpected",
    "DocumentError::NotFound",
    "DocumentError::Factus",
    "DocumentError::Unexpected",
    "ApiKeyAuthError::Refused",
    "ApiKeyAuthError::Unexpected",
    "AccountError::NotAdmin",
    "AccountError::RangeNotFound",
    "AccountError::Factus",
];

#[test]
fn every_use_case_error_maps_to_the_later_generations_status_body_and_headers() {
    assert_rows(later_table());
}

#[test]
fn the_later_table_covers_every_variant_its_routes_map() {
    let covered: BTreeSet<&str> = later_table().iter().map(|row| row.variant).collect();
    let all: BTreeSet<&str> = LATER_VARIANTS.iter().copied().collect();
    assert_eq!(covered, all);
}

#[test]
fn a_missing_key_on_the_later_routes_is_its_401() {
    let error = later_missing_api_key();
    assert_eq!(error.status_and_body(), (StatusCode::UNAUTHORIZED, detail("Not authenticated")));
    assert_eq!(error.headers().get("www-authenticate").and_then(|v| v.to_str().ok()), Some("APIKey"));
}
