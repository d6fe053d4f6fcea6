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

/// Writes the functions that name an error's variants: `fn name(error: &Type)` answering
/// `"Type::Variant"`. The `match`es have no wildcard, so a new variant does not compile until it
/// is named here and in `VARIANTS` — and then the table must hold a row for it.
macro_rules! variant_names {
    ($($name:ident($type:ident) { $($variant:ident $({ $($named:tt)* })? $(( $($unnamed:tt)* ))?),+ $(,)? })*) => {$(
        fn $name(error: &$type) -> &'static str {
            match error {
                $(
                    $type::$variant $({ $($named)* })? $(( $($unnamed)* ))? => {
                        concat!(stringify!($type), "::", stringify!($variant))
                    }
                )+
            }
        }
    )*};
}

variant_names! {
    factus_variant(FactusError) {
        Rejected { .. },
        DianRejected { .. },
        Unavailable { .. },
        Timeout,
        CircuitOpen,
        Busy { .. },
        InvalidResponse { .. },
        MissingCredentials,
        Unexpected(_),
    }
    document_variant(DocumentError) { NotFound, Factus(_), Unexpected(_) }
    issue_error_variant(IssueError) {
        InProgress { .. },
        KeyReusedWithDifferentBody,
        ReferenceAlreadyUsed { .. },
        Rules(_),
        ReplayedRejection { .. },
        BlockedByPending { .. },
        Factus(_),
        Unexpected(_),
    }
    login_variant(LoginError) { InvalidCredentials, Throttled { .. }, Unexpected(_) }
    authenticate_variant(AuthenticateError) { InvalidToken, Unexpected(_) }
    change_password_variant(ChangePasswordError) { WrongCurrentPassword, Throttled { .. }, Unexpected(_) }
    create_user_variant(CreateUserError) { UsernameTaken(_), Unexpected(_) }
    update_user_variant(UpdateUserError) { NotFound, LastAdmin, Unexpected(_) }
    api_key_auth_variant(ApiKeyAuthError) { Refused, Unexpected(_) }
    create_api_key_variant(CreateApiKeyError) { UserNotFound, ExpiryInPast, Unexpected(_) }
    revoke_api_key_variant(RevokeApiKeyError) { NotFound, Unexpected(_) }
    redeliver_variant(RedeliverError) { NotFound, Unexpected(_) }
    account_variant(AccountError) { NotAdmin, RangeNotFound { .. }, Factus(_) }
    logo_variant(LogoError) { Empty, TooLarge { .. }, UnsupportedType }
}

fn issue_variant(failure: &IssueFailure) -> &'static str {
    issue_error_variant(&failure.error)
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
    let mut rows: Vec<Row> = both().into_iter().map(|both| both.first).collect();
    rows.extend([
        // Factus: the operation's prefix before Factus' message; lookups answer it bare.
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
        // Issuance: the ledger's answers, and Factus' under the create prefix.
        case!(
            issue_variant,
            invoice(IssueError::InProgress { keyed: true }),
            409,
            detail("A request with this Idempotency-Key is still being processed")
        ),
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
    ]);
    rows
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

/// A use-case error both generations map: its variant, and its answer on the later one.
trait Case: Into<ApiError> {
    fn variant(&self) -> &'static str;

    /// The error as the later generation's routes answer it (`.map_err(Later)`).
    fn later(self) -> ApiError;
}

/// The errors the later generation's routes map as they come (`.map_err(Later)`).
macro_rules! mapped_as_they_come {
    ($($type:ty => $variant:ident),+ $(,)?) => {$(
        impl Case for $type {
            fn variant(&self) -> &'static str {
                $variant(self)
            }

            fn later(self) -> ApiError {
                Later(self).into()
            }
        }
    )+};
}

mapped_as_they_come!(
    FactusFailure => failure_variant,
    DocumentError => document_variant,
    AccountError => account_variant,
    ApiKeyAuthError => api_key_auth_variant,
);

/// The later generation creates invoices only: its routes map the bare [`IssueError`].
impl Case for IssueFailure {
    fn variant(&self) -> &'static str {
        issue_variant(self)
    }

    fn later(self) -> ApiError {
        Later(self.error).into()
    }
}

/// A row of [`table`] for an error both generations map.
fn first(error: impl Case, status: u16, body: Value) -> Row {
    row(error.variant(), error, status, body)
}

/// A row of [`later_table`].
fn later(error: impl Case, status: u16, body: Value) -> Row {
    row(error.variant(), error.later(), status, body)
}

/// The same error as both generations answer it: a row of [`table`] and one of [`later_table`].
/// Where they differ the later row says how (`Row { status, body, .. }`), else it is the same.
struct Both {
    first: Row,
    later: Row,
}

/// An error both generations answer alike.
fn alike<E: Case>(error: impl Fn() -> E, status: u16, body: Value) -> Both {
    different(&error, status, body.clone(), status, body)
}

/// An error the generations answer differently: the first status and body, then the later's.
fn different<E: Case>(error: impl Fn() -> E, status: u16, body: Value, later_status: u16, later_body: Value) -> Both {
    Both { first: first(error(), status, body), later: later(error(), later_status, later_body) }
}

impl Both {
    /// The same headers on both answers.
    fn with_headers(mut self, headers: &'static [(&'static str, &'static str)]) -> Self {
        self.first.headers = headers;
        self.later.headers = headers;
        self
    }
}

/// The errors both generations map, each once.
fn both() -> Vec<Both> {
    const GET_INVOICE: FactusOperation = FactusOperation::Get(DocumentKind::Invoice);
    let reference = || ReferenceCode::parse("FAC-1").expect("a reference");
    let replayed = &[("idempotent-replayed", "true")];
    vec![
        // Factus: the operation's prefix first, Factus' own status and bare message later.
        different(
            || factus(GET_INVOICE, rejected(404, "Factura no encontrada")),
            400,
            detail("Error al obtener la factura: Factura no encontrada"),
            404,
            detail("Factura no encontrada"),
        ),
        different(
            || factus(GET_INVOICE, FactusError::CircuitOpen),
            503,
            detail("Error al obtener la factura: Factus no está disponible"),
            503,
            detail("Factus no está disponible"),
        ),
        alike(
            || factus(GET_INVOICE, FactusError::MissingCredentials),
            422,
            field(&["header", "x-factus-token"], "field required", "value_error.missing"),
        ),
        alike(|| factus(GET_INVOICE, FactusError::Unexpected(boom())), 500, internal()),
        // Issuance: the ledger's answers; a reference of another bill is a conflict later.
        alike(
            || invoice(IssueError::InProgress { keyed: false }),
            409,
            detail("A request with this reference_code is still being processed"),
        ),
        alike(
            || invoice(IssueError::KeyReusedWithDifferentBody),
            422,
            field(
                &["header", "idempotency-key"],
                "Idempotency-Key was already used with a different request body",
                "value_error",
            ),
        ),
        different(
            || invoice(IssueError::ReferenceAlreadyUsed { reference: reference() }),
            400,
            detail("Error al crear la factura: reference_code FAC-1 ya fue usado"),
            409,
            detail("reference_code FAC-1 ya fue usado"),
        ),
        different(
            || invoice(IssueError::ReplayedRejection { status: 422, message: "customer.names: requerido".into() }),
            400,
            detail("Error al crear la factura: customer.names: requerido"),
            422,
            detail("customer.names: requerido"),
        )
        .with_headers(replayed),
        different(
            || {
                invoice(IssueError::BlockedByPending {
                    message: "Se encontró una factura pendiente por enviar a la DIAN".into(),
                    reference: Some("FAC-9".into()),
                })
            },
            409,
            detail(
                "Error al crear la factura: Se encontró una factura pendiente por enviar a la DIAN. Documento pendiente en Factus: reference_code FAC-9",
            ),
            409,
            detail(
                "Se encontró una factura pendiente por enviar a la DIAN. Documento pendiente en Factus: reference_code FAC-9",
            ),
        ),
        alike(|| invoice(IssueError::Unexpected(boom())), 500, internal()),
        alike(|| DocumentError::NotFound, 404, detail("Documento no encontrado")),
        // A refused key: the bearer's 401 first, the later original's texts later.
        Both {
            first: Row {
                headers: &[("www-authenticate", "APIKey")],
                ..first(ApiKeyAuthError::Refused, 401, detail("Could not validate credentials"))
            },
            later: later(ApiKeyAuthError::Refused, 403, detail("API Key inválida o ausente.")),
        },
        alike(|| ApiKeyAuthError::Unexpected(StoreError(boom())), 500, internal()),
        // The company and the numbering ranges: admins change them.
        alike(|| AccountError::NotAdmin, 403, detail("Not enough permissions")),
        alike(|| AccountError::RangeNotFound { id: 99 }, 404, detail("Rango de numeración no encontrado")),
        different(
            || {
                AccountError::Factus(factus(
                    FactusOperation::CreateNumberingRange,
                    rejected(422, "resolution_number: El campo número de resolución es inválido."),
                ))
            },
            400,
            detail(
                "Error al crear el rango de numeración: resolution_number: El campo número de resolución es inválido.",
            ),
            422,
            detail("resolution_number: El campo número de resolución es inválido."),
        ),
    ]
}

fn later_table() -> Vec<Row> {
    use FactusOperation::{DownloadPdf, Lookup};
    const GET_INVOICE: FactusOperation = FactusOperation::Get(DocumentKind::Invoice);
    const CREATE_INVOICE: FactusOperation = FactusOperation::CREATE_INVOICE;
    let mut rows: Vec<Row> = both().into_iter().map(|both| both.later).collect();
    rows.extend([
        // Factus' own status and message, without the operation's prefix.
        later(factus(Lookup, rejected(429, "Too Many Attempts.")), 429, detail("Too Many Attempts.")),
        later(
            factus(CREATE_INVOICE, FactusError::DianRejected { rules: vec!["Regla: FAK24, Rechazo: DV".into()] }),
            422,
            detail("Regla: FAK24, Rechazo: DV"),
        ),
        later(
            factus(DownloadPdf, FactusError::Unavailable { message: "Server Error".into(), request_sent: true }),
            502,
            detail("Server Error"),
        ),
        later(
            factus(Lookup, FactusError::InvalidResponse { message: "Unexpected API structure: 1".into() }),
            502,
            detail("Unexpected API structure: 1"),
        ),
        later(factus(GET_INVOICE, FactusError::Timeout), 504, detail("Factus no respondió a tiempo")),
        Row {
            headers: &[("retry-after", "12")],
            ..later(
                factus(Lookup, FactusError::Busy { retry_after_secs: 12 }),
                503,
                detail("Factus está ocupado: se alcanzó el límite de solicitudes por minuto; intente de nuevo en 12 s"),
            )
        },
        // Issuance: Factus' refusal passed through.
        later(invoice(IssueError::Factus(rejected(409, "Conflicto"))), 409, detail("Conflicto")),
        later(
            DocumentError::Factus(factus(GET_INVOICE, rejected(401, "Unauthenticated."))),
            401,
            detail("Unauthenticated."),
        ),
        later(DocumentError::Unexpected(database_down()), 503, database_unavailable()),
    ]);
    rows
}

/// The use-case errors the later generation's routes map: every variant of these types (in
/// [`VARIANTS`]) but [`LATER_LEAVES_OUT`].
const LATER_TYPES: &[&str] = &["FactusError", "IssueError", "DocumentError", "ApiKeyAuthError", "AccountError"];

const LATER_LEAVES_OUT: &[&str] = &["IssueError::Rules"];

fn later_variants() -> BTreeSet<&'static str> {
    let mapped = |variant: &&str| variant.split("::").next().is_some_and(|name| LATER_TYPES.contains(&name));
    VARIANTS.iter().copied().filter(mapped).filter(|variant| !LATER_LEAVES_OUT.contains(variant)).collect()
}

#[test]
fn every_use_case_error_maps_to_the_later_generations_status_body_and_headers() {
    assert_rows(later_table());
}

#[test]
fn the_later_table_covers_every_variant_its_routes_map() {
    let covered: BTreeSet<&str> = later_table().iter().map(|row| row.variant).collect();
    assert_eq!(covered, later_variants());
}

#[test]
fn a_missing_key_on_the_later_routes_is_its_401() {
    let error = later_missing_api_key();
    assert_eq!(error.status_and_body(), (StatusCode::UNAUTHORIZED, detail("Not authenticated")));
    assert_eq!(error.headers().get("www-authenticate").and_then(|v| v.to_str().ok()), Some("APIKey"));
}
