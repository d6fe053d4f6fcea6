//! The ports to Factus, the DIAN e-invoicing API, and the data they carry.
//!
//! Three gateways split Factus by role — OAuth tokens ([`FactusAuthGateway`]), bills
//! ([`FactusBillGateway`]) and the reference catalogues ([`FactusLookupGateway`]) — plus
//! [`FactusStatus`], which tells the edge whether the server keeps its own Factus session and how
//! the circuit breaker in front of Factus stands, and [`FactusBudget`], how much of the account's
//! budget of Factus calls the current window has used. In production one reqwest adapter
//! implements them all over a single pooled HTTP client.
//!
//! Every call returns [`FactusError`], whose variants are the outcomes the edge answers
//! differently (400, 503, 504, 422). The texts follow the reference wrapper: the adapter extracts
//! Factus' own message from the error body and falls back to the endpoint's default
//! ([`FactusOperation::default_message`]); the edge puts the endpoint's prefix in front
//! ([`FactusOperation::detail`]). Keeping both tables here, next to the ports, means the adapter
//! and the web layer cannot drift apart.

use std::borrow::Cow;
use std::fmt;
use std::time::Duration;

use async_trait::async_trait;
use secrecy::SecretString;
use thiserror::Error;

use crate::company::{Company, CompanyUpdate, LogoImage};
use crate::document::Document;
use crate::error::StoreError;
use crate::ledger::DocumentKind;
use crate::numbering_ranges::{DianNumberingRange, NewNumberingRange, NumberingRangeFilter};

/// Whose Factus token a call runs with.
#[derive(Debug, Clone)]
pub enum FactusAccess {
    /// The client's own token (its `X-Factus-Token` header), forwarded as `Authorization: Bearer`.
    ClientToken(SecretString),
    /// The session the server keeps with `FACTUS_USERNAME`/`FACTUS_PASSWORD`: the adapter logs in,
    /// refreshes before expiry and once after a Factus 401. Asking for it when the server has no
    /// credentials fails with [`FactusError::MissingCredentials`].
    ServerSession,
}

/// Every Factus call the service makes, for its error prefix and default message.
///
/// The reference answers a failed call with `"<prefix>: <message>"`, where `<message>` is what
/// Factus said or, when it said nothing usable, the endpoint's default. The calls on documents
/// carry the document's kind as data, so a credit note's failure reads `Error al crear la nota
/// crédito: …` through the same table as an invoice's `Error al crear la factura: …`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FactusOperation {
    Login,
    Refresh,
    /// Creating a document (`…/validate`).
    Create(DocumentKind),
    /// Showing a document.
    Get(DocumentKind),
    DownloadPdf,
    DownloadXml,
    InvoiceEvents,
    SendEmail,
    /// Deleting a document DIAN has not validated, by its reference code.
    Delete(DocumentKind),
    /// Looking a document up by its reference code (the ledger's reconciliation; no public
    /// endpoint), or the number behind a v1 credit note's `bill_id`.
    Find(DocumentKind),
    /// Any catalogue: municipalities, taxes, units, numbering ranges, countries, acquirer.
    Lookup,
    GetCompany,
    UpdateCompany,
    UpdateCompanyLogo,
    ListNumberingRanges,
    GetNumberingRange,
    CreateNumberingRange,
    UpdateNumberingRange,
    DeleteNumberingRange,
    /// The ranges DIAN authorised for the software.
    SoftwareNumberingRanges,
}

impl FactusOperation {
    /// Creating an invoice (`Error al crear la factura`).
    pub const CREATE_INVOICE: Self = Self::Create(DocumentKind::Invoice);

    /// The text the reference puts before the message, without the `": "` separator; `None` for
    /// the lookups, which the reference answers with the bare message. The company and
    /// numbering-range operations, which the seed does not know, put their default message first
    /// (`Error al crear el rango de numeración: <Factus' message>`).
    #[must_use]
    pub fn error_prefix(self) -> Option<Cow<'static, str>> {
        let on = |verb: &str, kind: DocumentKind| Some(Cow::Owned(format!("Error al {verb} {}", kind.noun())));
        match self {
            Self::Login => Some(Cow::Borrowed("No se pudo obtener el token de Factus")),
            Self::Refresh => Some(Cow::Borrowed("No se pudo refrescar el token de Factus")),
            Self::Create(kind) => on("crear", kind),
            Self::Get(kind) => on("obtener", kind),
            Self::DownloadPdf => Some(Cow::Borrowed("Error al descargar el PDF")),
            Self::DownloadXml => Some(Cow::Borrowed("Error al descargar el XML")),
            Self::InvoiceEvents => Some(Cow::Borrowed("Error al obtener eventos de la factura")),
            Self::SendEmail => Some(Cow::Borrowed("Error al enviar el correo")),
            Self::Delete(kind) => on("eliminar", kind),
            Self::Find(kind) => on("buscar", kind),
            Self::Lookup => None,
            account => Some(account.default_message()),
        }
    }

    /// What the message is when Factus' error body carries none (`docs/contract.md` §2 table).
    #[must_use]
    pub fn default_message(self) -> Cow<'static, str> {
        let on = |verb: &str, kind: DocumentKind| Cow::Owned(format!("Error al {verb} {}", kind.noun()));
        match self {
            Self::Login => Cow::Borrowed("Error de autenticación con Factus"),
            Self::Refresh => Cow::Borrowed("Error al refrescar el token de Factus"),
            Self::Create(kind) => on("validar", kind),
            Self::Get(kind) => on("obtener", kind),
            Self::DownloadPdf | Self::DownloadXml => Cow::Borrowed("Error al descargar el archivo"),
            Self::InvoiceEvents => Cow::Borrowed("Error al obtener eventos de la factura"),
            Self::SendEmail => Cow::Borrowed("Error al enviar el correo"),
            Self::Delete(kind) => on("eliminar", kind),
            Self::Find(kind) => on("buscar", kind),
            Self::Lookup => Cow::Borrowed("Error al consultar Factus"),
            Self::GetCompany => Cow::Borrowed("Error al obtener la empresa"),
            Self::UpdateCompany => Cow::Borrowed("Error al actualizar la empresa"),
            Self::UpdateCompanyLogo => Cow::Borrowed("Error al actualizar el logo de la empresa"),
            Self::ListNumberingRanges => Cow::Borrowed("Error al obtener los rangos de numeración"),
            Self::GetNumberingRange => Cow::Borrowed("Error al obtener el rango de numeración"),
            Self::CreateNumberingRange => Cow::Borrowed("Error al crear el rango de numeración"),
            Self::UpdateNumberingRange => Cow::Borrowed("Error al actualizar el rango de numeración"),
            Self::DeleteNumberingRange => Cow::Borrowed("Error al eliminar el rango de numeración"),
            Self::SoftwareNumberingRanges => Cow::Borrowed("Error al obtener los rangos asociados al software"),
        }
    }

    /// The client-facing `detail`: `"<prefix>: <message>"`, or the bare message for lookups.
    #[must_use]
    pub fn detail(self, message: &str) -> String {
        match self.error_prefix() {
            Some(prefix) => format!("{prefix}: {message}"),
            None => message.to_owned(),
        }
    }
}

/// How a Factus call failed. The `Display` of each variant is the text that goes after the
/// endpoint's prefix.
#[derive(Debug, Error)]
pub enum FactusError {
    /// Factus answered with a 4xx (after the adapter's own retries and, for the server session,
    /// one refresh after a 401). `message` is Factus' reason, extracted as the reference does
    /// (field errors, conflict lists, `message`, else the endpoint default). The edge answers 400.
    #[error("{message}")]
    Rejected { status: u16, message: String },
    /// Factus stored the document and DIAN rejected it: a 422 whose errors are DIAN rules
    /// (`{"FAK24": "Regla: FAK24, Rechazo: …"}`). Unlike [`FactusError::Rejected`], Factus keeps
    /// the document pending and refuses every new document of its kind with 409 until it is
    /// deleted. `rules` are the rule texts; the edge answers 400 with them.
    #[error("{}", .rules.join("; "))]
    DianRejected { rules: Vec<String> },
    /// Factus could not be reached (connection refused or reset) or failed with a 5xx. The edge
    /// answers 503. `request_sent` is false only when no connection was ever made, so the request
    /// certainly did not reach Factus; when true, a write may or may not have happened.
    #[error("{message}")]
    Unavailable { message: String, request_sent: bool },
    /// Factus did not answer within the request's deadline; a write may or may not have happened.
    /// The edge answers 504.
    #[error("Factus no respondió a tiempo")]
    Timeout,
    /// The circuit breaker is open: Factus failed repeatedly, and it was not called at all. The
    /// edge answers 503.
    #[error("Factus no está disponible")]
    CircuitOpen,
    /// The account's budget of Factus calls (`FACTUS_RATE_LIMIT` per `FACTUS_RATE_WINDOW_SECS`,
    /// shared by every instance) had no slot for the call within its wait; nothing was sent. The
    /// edge answers 503 with `Retry-After`; a create is queued instead.
    #[error(
        "Factus está ocupado: se alcanzó el límite de solicitudes por minuto; intente de nuevo en {retry_after_secs} s"
    )]
    Busy { retry_after_secs: u64 },
    /// Factus answered 2xx with a body of an unexpected shape. The reference answers 400 with the
    /// endpoint's prefix, and so does the edge.
    #[error("{message}")]
    InvalidResponse { message: String },
    /// [`FactusAccess::ServerSession`] was asked for, but the server has no Factus credentials.
    /// The edge checks [`FactusStatus::has_server_session`] first and answers the reference's 422
    /// for a missing `X-Factus-Token`, so reaching this is a wiring mistake.
    #[error("no server-side Factus session is configured")]
    MissingCredentials,
    /// Anything else (a bug, a client that could not be built). The edge answers 500.
    #[error(transparent)]
    Unexpected(#[from] anyhow::Error),
}

impl FactusError {
    /// The text of Factus' 409 when a document of the kind is stuck pending (a DIAN rejection
    /// nobody deleted): `Se encontró una factura pendiente por enviar a la DIAN`, and the same
    /// with `una nota crédito`, `un documento soporte`.
    pub const PENDING_BLOCKER_TEXT: &'static str = "pendiente por enviar a la DIAN";

    /// Whether this is Factus refusing a create because another document of its kind is stuck
    /// pending.
    #[must_use]
    pub fn is_pending_blocker(&self) -> bool {
        matches!(self, Self::Rejected { status: 409, message } if message.contains(Self::PENDING_BLOCKER_TEXT))
    }

    /// Whether Factus may have acted on the request although it reported no success: a timeout,
    /// a connection lost after sending, or a 5xx. For a create this means "look the reference up
    /// before sending it again".
    #[must_use]
    pub fn is_ambiguous(&self) -> bool {
        match self {
            Self::Timeout => true,
            Self::Unavailable { request_sent, .. } => *request_sent,
            Self::Rejected { .. }
            | Self::DianRejected { .. }
            | Self::CircuitOpen
            | Self::Busy { .. }
            | Self::InvalidResponse { .. }
            | Self::MissingCredentials
            | Self::Unexpected(_) => false,
        }
    }
}

/// How a Factus use case failed: the operation is data, so every use case that calls Factus
/// (tokens, bills, catalogues) returns this one type and the edge maps it in one place.
///
/// `Display` is the client-facing text, `"<prefix>: <message>"` ([`FactusOperation::detail`]).
#[derive(Debug, Error)]
#[error("{}", .operation.detail(&.error.to_string()))]
pub struct FactusFailure {
    pub operation: FactusOperation,
    pub error: FactusError,
}

impl FactusFailure {
    #[must_use]
    pub fn new(operation: FactusOperation, error: FactusError) -> Self {
        Self { operation, error }
    }

    /// `map_err` form: `gateway.call().await.map_err(FactusFailure::of(FactusOperation::Get(DocumentKind::Invoice)))`.
    pub fn of(operation: FactusOperation) -> impl FnOnce(FactusError) -> Self {
        move |error| Self::new(operation, error)
    }

    /// Factus answered 404: no such bill, reference or acquirer.
    #[must_use]
    pub fn is_not_found(&self) -> bool {
        self.rejected_status() == Some(404)
    }

    /// Factus' 4xx status when it refused the request.
    #[must_use]
    pub fn rejected_status(&self) -> Option<u16> {
        match &self.error {
            FactusError::Rejected { status, .. } => Some(*status),
            _ => None,
        }
    }
}

/// An OAuth token as Factus issues it. `Debug` redacts both tokens.
#[derive(Debug, Clone)]
pub struct FactusToken {
    pub access_token: SecretString,
    /// `Bearer` in practice; passed through.
    pub token_type: String,
    /// Lifetime of the access token in seconds.
    pub expires_in: i64,
    /// Absent when Factus does not send one (the reference answers `null`).
    pub refresh_token: Option<SecretString>,
}

/// The outcome of `POST /v1/bills/validate`, mapped as the reference does (§2.4): missing fields
/// become `""`, the bill status becomes its text (`"1"` validated, `"0"` not), and `message` is
/// Factus' top-level message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IssuedBill {
    pub number: String,
    pub prefix: String,
    pub cufe: String,
    pub qr_url: String,
    pub status: String,
    pub message: Option<String>,
}

/// A Factus document passed through untouched: the JSON text of `{status, message, data}`,
/// already checked by the adapter (`status` a string, `data` an object). The application has no
/// JSON library, so it carries text; the edge embeds it as it is.
#[derive(Clone, PartialEq, Eq)]
pub struct UpstreamJson(String);

impl UpstreamJson {
    /// Wraps JSON text the caller has already validated.
    #[must_use]
    pub fn new(json: String) -> Self {
        Self(json)
    }

    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for UpstreamJson {
    /// The document is a whole invoice with the customer's personal data; logs get its size only.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "UpstreamJson({} bytes)", self.0.len())
    }
}

/// Which representation of a bill to download.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DocumentFormat {
    Pdf,
    Xml,
}

impl DocumentFormat {
    /// The file extension, also the `extension` field of the reference's answer.
    #[must_use]
    pub fn extension(self) -> &'static str {
        match self {
            Self::Pdf => "pdf",
            Self::Xml => "xml",
        }
    }

    /// The operation, for its error prefix and default message.
    #[must_use]
    pub fn operation(self) -> FactusOperation {
        match self {
            Self::Pdf => FactusOperation::DownloadPdf,
            Self::Xml => FactusOperation::DownloadXml,
        }
    }
}

/// A downloaded PDF or XML (`docs/contract.md` §2.6): `file_name` defaults to `"<number>.<ext>"` and the
/// content to `""` when Factus leaves them out.
#[derive(Clone, PartialEq, Eq)]
pub struct DownloadedFile {
    pub file_name: String,
    /// The file, base64-encoded as Factus sends it.
    pub content_base64: String,
    pub format: DocumentFormat,
}

impl fmt::Debug for DownloadedFile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DownloadedFile")
            .field("file_name", &self.file_name)
            .field("content_base64", &format_args!("{} bytes", self.content_base64.len()))
            .field("format", &self.format)
            .finish()
    }
}

/// One RADIAN event of a bill (`docs/contract.md` §2.7).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BillEvent {
    pub number: String,
    pub cude: String,
    pub event_code: String,
    pub event_name: String,
    pub effective_date: String,
    pub effective_time: String,
}

/// The RADIAN events of a bill with Factus' status line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BillEvents {
    pub status: String,
    pub message: Option<String>,
    pub events: Vec<BillEvent>,
}

/// Factus' bare `{status, message}` answer (send e-mail, delete).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusMessage {
    pub status: String,
    pub message: String,
}

/// `/v1/municipalities` item.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Municipality {
    pub id: i64,
    pub name: String,
    pub code: String,
    pub department: String,
}

/// `/v1/tributes/products` item (the reference's "taxes").
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProductTribute {
    pub id: i64,
    pub name: String,
    pub code: String,
    pub description: Option<String>,
}

/// `/v1/measurement-units` item.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MeasurementUnit {
    pub id: i64,
    pub name: String,
    pub code: String,
}

/// A numbering range of the account (`/v1/numbering-ranges`, `docs/factus.md` §7.8): Factus'
/// `is_active` 1/0 becomes a bool. Factus names the document by its name in lists and by its code
/// (with `document_name`) elsewhere; both are filled from the range-document table
/// ([`crate::numbering_ranges::range_document_name`]) whichever Factus sent.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct NumberingRange {
    pub id: i64,
    /// The document's name, e.g. `Factura de Venta`.
    pub document: String,
    /// The document's code, e.g. `21`; `None` for a name outside the table.
    pub document_code: Option<String>,
    pub prefix: String,
    pub from: Option<i64>,
    pub to: Option<i64>,
    /// The next number Factus will use.
    pub current: Option<i64>,
    pub resolution_number: Option<String>,
    /// `YYYY-MM-DD`.
    pub start_date: Option<String>,
    /// `YYYY-MM-DD`: the last day the DIAN resolution authorises.
    pub end_date: Option<String>,
    pub technical_key: Option<String>,
    /// Factus' own verdict that the authorisation has ended.
    pub is_expired: bool,
    pub is_active: bool,
    pub created_at: Option<String>,
    pub updated_at: Option<String>,
}

/// `/v1/countries` item.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Country {
    pub id: i64,
    pub code: String,
    pub name: String,
}

/// What DIAN knows of an acquirer (`/v1/dian/acquirer`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Acquirer {
    pub name: String,
    pub email: String,
}

/// Factus' OAuth endpoint. Both calls send the configured client id and secret; neither needs a
/// Factus token.
#[cfg_attr(feature = "mocks", mockall::automock)]
#[async_trait]
pub trait FactusAuthGateway: Send + Sync {
    /// Password grant with a Factus user's e-mail and password.
    ///
    /// # Errors
    /// [`FactusError::Rejected`] when Factus refuses the credentials (its `message`,
    /// `error_description` or `error`); `Unavailable`, `Timeout`, `CircuitOpen` when Factus cannot
    /// be reached; `InvalidResponse` when a 2xx lacks `access_token`, `token_type` or `expires_in`.
    async fn login(&self, email: &str, password: &SecretString) -> Result<FactusToken, FactusError>;

    /// Refresh-token grant.
    ///
    /// # Errors
    /// As [`FactusAuthGateway::login`]; an expired or unknown refresh token is `Rejected`.
    async fn refresh(&self, refresh_token: &SecretString) -> Result<FactusToken, FactusError>;
}

/// Factus' documents: invoices (`/v1/bills/...`), credit notes, debit notes and support
/// documents. One port for every kind: the kind is data (the [`Document`] sent, or the
/// [`DocumentKind`] of the call), and the adapter routes it to the family's paths and bodies.
/// `number` is the full document number (`SETP990000001`, `NC1`), `reference_code` the
/// integrator's own key; both are sent as one path segment.
#[cfg_attr(feature = "mocks", mockall::automock)]
#[async_trait]
pub trait FactusBillGateway: Send + Sync {
    /// Creates the document and sends it to DIAN. Never retried by the adapter: a second attempt
    /// could issue a second tax document.
    ///
    /// # Errors
    /// `Rejected` for Factus' 4xx (422 field errors, 409 conflicts; 400 for a debit note on a v1
    /// account, which has no debit notes); `Timeout` and `Unavailable { request_sent: true }` are
    /// ambiguous — the document may exist ([`FactusError::is_ambiguous`]); `InvalidResponse` when
    /// a 2xx body is not JSON.
    async fn validate_bill(&self, access: &FactusAccess, document: &Document) -> Result<IssuedBill, FactusError>;

    /// The whole document as Factus shows it.
    ///
    /// # Errors
    /// `Rejected` (e.g. 404 unknown number); `InvalidResponse` when `status` is not a string or
    /// `data` not an object; transport failures as usual.
    async fn show_bill(
        &self,
        access: &FactusAccess,
        kind: DocumentKind,
        number: &str,
    ) -> Result<UpstreamJson, FactusError>;

    /// The document's PDF or XML, base64-encoded.
    ///
    /// # Errors
    /// `Rejected` (e.g. 404); `InvalidResponse` when the body is not a JSON object.
    async fn download_document(
        &self,
        access: &FactusAccess,
        kind: DocumentKind,
        number: &str,
        format: DocumentFormat,
    ) -> Result<DownloadedFile, FactusError>;

    /// The invoice's RADIAN events (only invoices have them).
    ///
    /// # Errors
    /// `Rejected`; `InvalidResponse` when an event lacks one of its six strings.
    async fn events(&self, access: &FactusAccess, number: &str) -> Result<BillEvents, FactusError>;

    /// Has Factus e-mail the document to `email`; `pdf_base64`, when given and non-empty,
    /// replaces the PDF Factus would generate. Not retried (it would send the e-mail twice).
    ///
    /// # Errors
    /// `Rejected`; `InvalidResponse` when `status` or `message` is missing.
    async fn send_email(
        &self,
        access: &FactusAccess,
        kind: DocumentKind,
        number: &str,
        email: &str,
        pdf_base64: Option<String>,
    ) -> Result<StatusMessage, FactusError>;

    /// Deletes a document that was not validated, by its reference code.
    ///
    /// # Errors
    /// `Rejected` (404 unknown reference, 409 already validated); `InvalidResponse` when `status`
    /// or `message` is missing.
    async fn delete_by_reference(
        &self,
        access: &FactusAccess,
        kind: DocumentKind,
        reference_code: &str,
    ) -> Result<StatusMessage, FactusError>;

    /// The document of `kind` Factus holds under `reference_code`, if any — how an ambiguous
    /// create is reconciled. `message` of the answer is `None`.
    ///
    /// # Errors
    /// As [`FactusBillGateway::show_bill`]; a reference Factus does not know is `Ok(None)`.
    async fn find_bill_by_reference(
        &self,
        access: &FactusAccess,
        kind: DocumentKind,
        reference_code: &str,
    ) -> Result<Option<IssuedBill>, FactusError>;

    /// The reference code of a document of `kind` Factus holds pending (not validated: status 0),
    /// if any — the one that makes Factus answer 409 "pendiente por enviar a la DIAN".
    ///
    /// # Errors
    /// As [`FactusBillGateway::show_bill`].
    async fn pending_reference(&self, access: &FactusAccess, kind: DocumentKind)
    -> Result<Option<String>, FactusError>;
}

/// Factus' reference catalogues. Lists are read from `data`, or from `data.data` when Factus
/// paginates; extra upstream fields are dropped.
#[cfg_attr(feature = "mocks", mockall::automock)]
#[async_trait]
pub trait FactusLookupGateway: Send + Sync {
    /// Municipalities, optionally filtered by (part of) the name.
    ///
    /// # Errors
    /// `Rejected`; `InvalidResponse` (`Unexpected API structure: …`) when no list is found or an
    /// item lacks a field; transport failures as usual. The same holds for every lookup.
    async fn municipalities(
        &self,
        access: &FactusAccess,
        name: Option<String>,
    ) -> Result<Vec<Municipality>, FactusError>;

    /// Product tributes (IVA, INC, …), optionally filtered by name.
    ///
    /// # Errors
    /// As [`FactusLookupGateway::municipalities`].
    async fn product_tributes(
        &self,
        access: &FactusAccess,
        name: Option<String>,
    ) -> Result<Vec<ProductTribute>, FactusError>;

    /// Measurement units, optionally filtered by name.
    ///
    /// # Errors
    /// As [`FactusLookupGateway::municipalities`].
    async fn measurement_units(
        &self,
        access: &FactusAccess,
        name: Option<String>,
    ) -> Result<Vec<MeasurementUnit>, FactusError>;

    /// The account's numbering ranges that match `filter` (every page of Factus' listing).
    ///
    /// # Errors
    /// As [`FactusLookupGateway::municipalities`].
    async fn numbering_ranges(
        &self,
        access: &FactusAccess,
        filter: &NumberingRangeFilter,
    ) -> Result<Vec<NumberingRange>, FactusError>;

    /// Forgets whatever is kept of the account's numbering-range listing, after a range was
    /// created, moved or deleted. Only a cache in front of Factus keeps anything.
    fn forget_numbering_ranges(&self, _access: &FactusAccess) {}

    /// Countries, optionally filtered by name.
    ///
    /// # Errors
    /// As [`FactusLookupGateway::municipalities`].
    async fn countries(&self, access: &FactusAccess, name: Option<String>) -> Result<Vec<Country>, FactusError>;

    /// The name and e-mail DIAN has for an identification.
    ///
    /// # Errors
    /// `Rejected` with status 404 when DIAN knows no such acquirer; `InvalidResponse` when `data`
    /// lacks `name` or `email`.
    async fn acquirer(
        &self,
        access: &FactusAccess,
        identification_document_id: i64,
        identification_number: &str,
    ) -> Result<Acquirer, FactusError>;
}

/// The Factus account itself: the issuing company's profile and the management of its numbering
/// ranges (the ranges are *listed* through [`FactusLookupGateway::numbering_ranges`]). Writes are
/// never retried by the adapter.
#[cfg_attr(feature = "mocks", mockall::automock)]
#[async_trait]
pub trait FactusAccountGateway: Send + Sync {
    /// The issuing company's profile.
    ///
    /// # Errors
    /// `Rejected`; `InvalidResponse` when `data` is not an object; transport failures as usual.
    /// The same holds for every method of this port.
    async fn company(&self, access: &FactusAccess) -> Result<Company, FactusError>;

    /// Replaces the company's profile with `update`; answers the profile Factus keeps.
    ///
    /// # Errors
    /// As [`FactusAccountGateway::company`]; Factus' 422 for a field it refuses is `Rejected`.
    async fn update_company(&self, access: &FactusAccess, update: &CompanyUpdate) -> Result<Company, FactusError>;

    /// Uploads the company's logo (multipart field `image`); answers its public URL.
    ///
    /// # Errors
    /// As [`FactusAccountGateway::company`]; `InvalidResponse` when the answer names no URL.
    async fn upload_company_logo(&self, access: &FactusAccess, logo: &LogoImage) -> Result<String, FactusError>;

    /// One numbering range.
    ///
    /// # Errors
    /// `Rejected` with status 404 for a range Factus does not know (or deleted).
    async fn numbering_range(&self, access: &FactusAccess, id: i64) -> Result<NumberingRange, FactusError>;

    /// Creates a numbering range (from a DIAN resolution for invoices and support documents).
    ///
    /// # Errors
    /// `Rejected` (422) for a body Factus refuses, e.g. a resolution DIAN did not authorise.
    async fn create_numbering_range(
        &self,
        access: &FactusAccess,
        range: &NewNumberingRange,
    ) -> Result<NumberingRange, FactusError>;

    /// Moves the range's next number (`current`).
    ///
    /// # Errors
    /// `Rejected`: 404 for an unknown range, 422 for a number outside it or already used.
    async fn update_numbering_range_current(
        &self,
        access: &FactusAccess,
        id: i64,
        current: i64,
    ) -> Result<NumberingRange, FactusError>;

    /// Deletes a numbering range.
    ///
    /// # Errors
    /// `Rejected` with status 404 for a range Factus does not know.
    async fn delete_numbering_range(&self, access: &FactusAccess, id: i64) -> Result<StatusMessage, FactusError>;

    /// The ranges DIAN authorised for the software, which new ranges are created from.
    ///
    /// # Errors
    /// As [`FactusAccountGateway::company`].
    async fn software_numbering_ranges(&self, access: &FactusAccess) -> Result<Vec<DianNumberingRange>, FactusError>;
}

/// The state of the circuit breaker in front of Factus.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CircuitState {
    /// Calls go through.
    Closed,
    /// Factus failed repeatedly: calls are answered [`FactusError::CircuitOpen`] without a request.
    Open,
    /// The open interval has passed: one probe goes through; its outcome closes or reopens.
    HalfOpen,
}

/// The Factus API version a call went to. Factus enables one version per company account
/// (new accounts are v2-only); the gateway speaks both with the same client contract.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FactusApiVersion {
    V1,
    V2,
}

impl FactusApiVersion {
    /// `v1` or `v2`, as in Factus' paths and `FACTUS_API_VERSION`.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::V1 => "v1",
            Self::V2 => "v2",
        }
    }

    /// The other version.
    #[must_use]
    pub fn other(self) -> Self {
        match self {
            Self::V1 => Self::V2,
            Self::V2 => Self::V1,
        }
    }
}

/// How the server stands with Factus, for the edge (whether `X-Factus-Token` is required) and the
/// readiness probe.
#[cfg_attr(feature = "mocks", mockall::automock)]
pub trait FactusStatus: Send + Sync {
    /// Whether the server has Factus credentials of its own, so that
    /// [`FactusAccess::ServerSession`] can be used and `X-Factus-Token` is optional.
    fn has_server_session(&self) -> bool;

    /// The circuit breaker's current state.
    fn circuit_state(&self) -> CircuitState;

    /// The Factus API version calls go to now (with `FACTUS_API_VERSION=auto`, the one the
    /// account accepted).
    fn api_version(&self) -> FactusApiVersion;
}

/// How much of the account's budget of Factus calls (`FACTUS_RATE_LIMIT` per
/// `FACTUS_RATE_WINDOW_SECS`, shared by every instance) the window ending now has used.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BudgetUsage {
    /// Calls counted in the window: this service's, and those Factus' own count said somebody
    /// else made. It may exceed `limit` when Factus counted more than we did.
    pub used: u32,
    /// Calls the window allows.
    pub limit: u32,
    /// How far back the window reaches.
    pub window: Duration,
    /// The shared count could not be read, so this is the calls of this instance alone: the
    /// other instances' calls are missing from `used`.
    pub this_instance_only: bool,
}

impl BudgetUsage {
    /// Slots still free in the window (none when Factus counted past the limit).
    #[must_use]
    pub fn free(&self) -> u32 {
        self.limit.saturating_sub(self.used)
    }
}

/// The account's budget of Factus calls, for the operator console: a read that neither takes a
/// slot nor waits for one.
#[cfg_attr(feature = "mocks", mockall::automock)]
#[async_trait]
pub trait FactusBudget: Send + Sync {
    /// The calls of the window ending now. When the shared count does not answer, the adapter
    /// answers this instance's own count instead ([`BudgetUsage::this_instance_only`]).
    ///
    /// # Errors
    /// [`StoreError`] when no count could be read at all.
    async fn budget_usage(&self) -> Result<BudgetUsage, StoreError>;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn invoice_errors_carry_the_reference_prefix_before_the_message() {
        assert_eq!(
            FactusOperation::CREATE_INVOICE.detail("Los datos no son válidos"),
            "Error al crear la factura: Los datos no son válidos"
        );
        assert_eq!(
            FactusOperation::Login.detail("Invalid credentials"),
            "No se pudo obtener el token de Factus: Invalid credentials"
        );
    }

    #[test]
    fn lookup_errors_are_the_bare_message() {
        assert_eq!(FactusOperation::Lookup.detail("All connection attempts failed"), "All connection attempts failed");
    }

    #[test]
    fn both_downloads_share_the_reference_default_message() {
        assert_eq!(DocumentFormat::Pdf.operation().default_message(), "Error al descargar el archivo");
        assert_eq!(DocumentFormat::Xml.operation().default_message(), "Error al descargar el archivo");
        assert_eq!(DocumentFormat::Xml.operation().error_prefix().as_deref(), Some("Error al descargar el XML"));
    }

    #[test]
    fn only_failures_after_the_request_left_are_ambiguous() {
        assert!(FactusError::Timeout.is_ambiguous());
        assert!(FactusError::Unavailable { message: "HTTP 502".into(), request_sent: true }.is_ambiguous());
        assert!(
            !FactusError::Unavailable { message: "All connection attempts failed".into(), request_sent: false }
                .is_ambiguous()
        );
        assert!(!FactusError::Rejected { status: 409, message: "Conflict".into() }.is_ambiguous());
        assert!(!FactusError::CircuitOpen.is_ambiguous());
    }

    #[test]
    fn a_failure_reads_as_the_operation_prefix_before_factus_message() {
        let failure = FactusFailure::new(
            FactusOperation::Get(DocumentKind::Invoice),
            FactusError::Rejected { status: 404, message: "Factura no encontrada".into() },
        );
        assert_eq!(failure.to_string(), "Error al obtener la factura: Factura no encontrada");
        assert!(failure.is_not_found());
        assert!(!FactusFailure::new(FactusOperation::Lookup, FactusError::Timeout).is_not_found());
    }

    #[test]
    fn the_circuit_open_error_reads_as_the_service_unavailable_message() {
        assert_eq!(FactusError::CircuitOpen.to_string(), "Factus no está disponible");
    }

    #[test]
    fn tokens_and_downloads_do_not_leak_into_debug_output() {
        let token = FactusToken {
            access_token: SecretString::from("very-secret-access"),
            token_type: "Bearer".into(),
            expires_in: 3600,
            refresh_token: Some(SecretString::from("very-secret-refresh")),
        };
        let debug = format!("{token:?} {:?}", FactusAccess::ClientToken(SecretString::from("client-secret-token")));
        assert!(!debug.contains("very-secret"), "{debug}");
        assert!(!debug.contains("client-secret-token"), "{debug}");

        let file =
            DownloadedFile { file_name: "f".into(), content_base64: "JVBERi0=".into(), format: DocumentFormat::Pdf };
        assert!(!format!("{file:?}").contains("JVBERi0="));
    }
}
