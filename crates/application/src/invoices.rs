//! Invoice use cases: create (validate with DIAN), show, download, events, e-mail, delete.
//!
//! Each use case sorts the gateway's [`FactusError`] into its own error enum: what Factus refused
//! becomes a business outcome named for the use case (`NotFound`, `Conflict`, …), what kept Factus
//! from answering stays an `Upstream` failure for the edge to map to 503/504, and the rest is
//! `Unexpected`. Messages are Factus' own; the edge adds the reference prefix
//! ([`FactusOperation::detail`](crate::factus::FactusOperation::detail)).

use std::sync::Arc;

use factus_domain::invoice::Invoice;
use factus_domain::user::User;
use thiserror::Error;

use crate::factus::{
    BillEvents, DocumentFormat, DownloadedFile, FactusAccess, FactusBillGateway, FactusError, IssuedBill, Outcome,
    StatusMessage, UpstreamJson,
};

#[derive(Debug, Error)]
pub enum CreateInvoiceError {
    /// Factus refused the invoice (its 422 field errors, a 400, …); `message` is its reason.
    #[error("{message}")]
    Rejected { status: u16, message: String },
    /// Factus answered 409: the reference code is taken, or a pending document blocks new ones.
    #[error("{message}")]
    Conflict { message: String },
    /// Factus could not be asked or answered nonsense. With [`FactusError::is_ambiguous`] the
    /// bill may exist anyway and must be looked up before it is sent again.
    #[error(transparent)]
    Upstream(FactusError),
    #[error(transparent)]
    Unexpected(anyhow::Error),
}

impl From<FactusError> for CreateInvoiceError {
    fn from(error: FactusError) -> Self {
        match Outcome::from(error) {
            Outcome::Rejected { status: 409, message } => Self::Conflict { message },
            Outcome::Rejected { status, message } => Self::Rejected { status, message },
            Outcome::Upstream(error) => Self::Upstream(error),
            Outcome::Unexpected(error) => Self::Unexpected(error),
        }
    }
}

/// Declares the error enum of a use case that reads or acts on one existing bill: Factus' 404
/// becomes `NotFound`, any other 4xx `Rejected`.
macro_rules! bill_error {
    ($(#[$meta:meta])* $name:ident) => {
        $(#[$meta])*
        #[derive(Debug, Error)]
        pub enum $name {
            /// Factus answered 404: no bill with that number; `message` is Factus' text.
            #[error("{message}")]
            NotFound { message: String },
            /// Factus refused the request with another 4xx; `message` is its reason.
            #[error("{message}")]
            Rejected { status: u16, message: String },
            /// Factus could not be asked or answered nonsense (see [`FactusError`]).
            #[error(transparent)]
            Upstream(FactusError),
            #[error(transparent)]
            Unexpected(anyhow::Error),
        }

        impl From<FactusError> for $name {
            fn from(error: FactusError) -> Self {
                match Outcome::from(error) {
                    Outcome::Rejected { status: 404, message } => Self::NotFound { message },
                    Outcome::Rejected { status, message } => Self::Rejected { status, message },
                    Outcome::Upstream(error) => Self::Upstream(error),
                    Outcome::Unexpected(error) => Self::Unexpected(error),
                }
            }
        }
    };
}

bill_error!(
    /// Why a bill could not be shown.
    GetInvoiceError
);
bill_error!(
    /// Why a bill's PDF or XML could not be downloaded.
    DownloadInvoiceError
);
bill_error!(
    /// Why a bill's RADIAN events could not be read.
    InvoiceEventsError
);
bill_error!(
    /// Why a bill could not be e-mailed.
    SendInvoiceEmailError
);

#[derive(Debug, Error)]
pub enum DeleteInvoiceError {
    /// Factus answered 404: no bill with that reference code.
    #[error("{message}")]
    NotFound { message: String },
    /// Factus answered 409: the bill was validated by DIAN and can no longer be deleted.
    #[error("{message}")]
    NotDeletable { message: String },
    /// Factus refused the request with another 4xx; `message` is its reason.
    #[error("{message}")]
    Rejected { status: u16, message: String },
    /// Factus could not be asked or answered nonsense (see [`FactusError`]).
    #[error(transparent)]
    Upstream(FactusError),
    #[error(transparent)]
    Unexpected(anyhow::Error),
}

impl From<FactusError> for DeleteInvoiceError {
    fn from(error: FactusError) -> Self {
        match Outcome::from(error) {
            Outcome::Rejected { status: 404, message } => Self::NotFound { message },
            Outcome::Rejected { status: 409, message } => Self::NotDeletable { message },
            Outcome::Rejected { status, message } => Self::Rejected { status, message },
            Outcome::Upstream(error) => Self::Upstream(error),
            Outcome::Unexpected(error) => Self::Unexpected(error),
        }
    }
}

/// The invoice use cases.
pub struct InvoiceService {
    bills: Arc<dyn FactusBillGateway>,
}

impl InvoiceService {
    pub fn new(bills: Arc<dyn FactusBillGateway>) -> Self {
        Self { bills }
    }

    /// Creates the invoice at Factus, which validates it with DIAN, on behalf of `user`.
    ///
    /// The call is made once: a retry could issue a second tax document. (The exactly-once ledger
    /// wraps this function: it records the attempt first and reconciles ambiguous failures.)
    ///
    /// # Errors
    /// [`CreateInvoiceError::Rejected`] / `Conflict` when Factus refuses the invoice; `Upstream`
    /// when Factus is unreachable, slow or behind an open circuit; `Unexpected`.
    pub async fn create_invoice(
        &self,
        user: &User,
        access: &FactusAccess,
        invoice: &Invoice,
    ) -> Result<IssuedBill, CreateInvoiceError> {
        let reference = invoice.reference_code().as_str();
        match self.bills.validate_bill(access, invoice).await {
            Ok(bill) => {
                tracing::info!(
                    user = %user.username.as_str(), reference, number = %bill.number, status = %bill.status,
                    "invoice issued"
                );
                Ok(bill)
            }
            Err(error) => {
                if error.is_ambiguous() {
                    tracing::warn!(
                        user = %user.username.as_str(), reference, %error,
                        "invoice outcome unknown: Factus may have issued it"
                    );
                }
                Err(error.into())
            }
        }
    }

    /// The whole document as Factus shows it.
    ///
    /// # Errors
    /// [`GetInvoiceError::NotFound`], `Rejected`, `Upstream`, `Unexpected`.
    pub async fn get_invoice(&self, access: &FactusAccess, number: &str) -> Result<UpstreamJson, GetInvoiceError> {
        Ok(self.bills.show_bill(access, number).await?)
    }

    /// The bill's PDF or XML.
    ///
    /// # Errors
    /// [`DownloadInvoiceError::NotFound`], `Rejected`, `Upstream`, `Unexpected`.
    pub async fn download(
        &self,
        access: &FactusAccess,
        number: &str,
        format: DocumentFormat,
    ) -> Result<DownloadedFile, DownloadInvoiceError> {
        Ok(self.bills.download_document(access, number, format).await?)
    }

    /// The bill's RADIAN events.
    ///
    /// # Errors
    /// [`InvoiceEventsError::NotFound`], `Rejected`, `Upstream`, `Unexpected`.
    pub async fn events(&self, access: &FactusAccess, number: &str) -> Result<BillEvents, InvoiceEventsError> {
        Ok(self.bills.events(access, number).await?)
    }

    /// Has Factus e-mail the bill. An empty `pdf_base64` counts as none, so Factus generates the
    /// PDF itself (as in the reference).
    ///
    /// # Errors
    /// [`SendInvoiceEmailError::NotFound`], `Rejected`, `Upstream`, `Unexpected`.
    pub async fn send_email(
        &self,
        access: &FactusAccess,
        number: &str,
        email: &str,
        pdf_base64: Option<String>,
    ) -> Result<StatusMessage, SendInvoiceEmailError> {
        let pdf_base64 = pdf_base64.filter(|pdf| !pdf.is_empty());
        Ok(self.bills.send_email(access, number, email, pdf_base64).await?)
    }

    /// Deletes a bill that DIAN has not validated, by its reference code.
    ///
    /// # Errors
    /// [`DeleteInvoiceError::NotFound`], `NotDeletable`, `Rejected`, `Upstream`, `Unexpected`.
    pub async fn delete_by_reference(
        &self,
        access: &FactusAccess,
        reference_code: &str,
    ) -> Result<StatusMessage, DeleteInvoiceError> {
        let deleted = self.bills.delete_by_reference(access, reference_code).await?;
        tracing::info!(reference = reference_code, "invoice deleted at Factus");
        Ok(deleted)
    }
}

#[cfg(test)]
mod tests {
    use factus_domain::invoice::{CustomerDraft, InvoiceDraft, ItemDraft};
    use factus_domain::user::{PasswordHash, Role, Username};
    use rust_decimal::Decimal;
    use secrecy::SecretString;
    use time::OffsetDateTime;
    use uuid::Uuid;

    use super::*;
    use crate::factus::MockFactusBillGateway;

    fn access() -> FactusAccess {
        FactusAccess::ClientToken(SecretString::from("token"))
    }

    fn user() -> User {
        let now = OffsetDateTime::now_utc();
        User {
            id: Uuid::nil(),
            username: Username::parse("ana").expect("valid username"),
            password_hash: PasswordHash::from_phc("$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA".into()),
            role: Role::User,
            disabled: false,
            created_at: now,
            updated_at: now,
        }
    }

    fn invoice() -> Invoice {
        Invoice::parse(InvoiceDraft {
            reference_code: "R2".into(),
            customer: CustomerDraft {
                identification_document_id: 3,
                identification: "1".into(),
                legal_organization_id: 2,
                tribute_id: 21,
                names: Some("Juan".into()),
                ..CustomerDraft::default()
            },
            items: vec![ItemDraft {
                code_reference: "P".into(),
                name: "N".into(),
                quantity: 1,
                price: Decimal::new(1005, 1),
                tax_rate: Decimal::new(19, 0),
                unit_measure_id: 70,
                standard_code_id: 1,
                tribute_id: 1,
                ..ItemDraft::default()
            }],
            ..InvoiceDraft::default()
        })
        .expect("the reference's minimal invoice is valid")
    }

    fn issued() -> IssuedBill {
        IssuedBill {
            number: "SETP990000123".into(),
            prefix: "SETP".into(),
            cufe: "cufe123".into(),
            qr_url: "https://qr".into(),
            status: "1".into(),
            message: Some("Documento con el código de referencia R2 registrado y validado con éxito".into()),
        }
    }

    fn service(gateway: MockFactusBillGateway) -> InvoiceService {
        InvoiceService::new(Arc::new(gateway))
    }

    fn rejected(status: u16, message: &str) -> FactusError {
        FactusError::Rejected { status, message: message.to_owned() }
    }

    #[tokio::test]
    async fn creating_an_invoice_sends_it_once_and_returns_the_issued_bill() {
        let mut gateway = MockFactusBillGateway::new();
        gateway
            .expect_validate_bill()
            .withf(|access, invoice| {
                matches!(access, FactusAccess::ClientToken(_)) && invoice.reference_code().as_str() == "R2"
            })
            .times(1)
            .returning(|_, _| Ok(issued()));

        let bill = service(gateway).create_invoice(&user(), &access(), &invoice()).await.expect("created");

        assert_eq!(bill, issued());
    }

    #[tokio::test]
    async fn an_invoice_factus_refuses_is_rejected_with_its_reason() {
        let mut gateway = MockFactusBillGateway::new();
        gateway.expect_validate_bill().times(1).returning(|_, _| {
            Err(rejected(422, "Error de validación — customer.names: El campo nombres es obligatorio."))
        });

        let error = service(gateway).create_invoice(&user(), &access(), &invoice()).await.unwrap_err();

        assert!(
            matches!(&error, CreateInvoiceError::Rejected { status: 422, message } if message.starts_with("Error de validación — ")),
            "{error:?}"
        );
    }

    #[tokio::test]
    async fn a_reference_factus_already_holds_is_a_conflict() {
        let mut gateway = MockFactusBillGateway::new();
        gateway
            .expect_validate_bill()
            .returning(|_, _| Err(rejected(409, "Se encontró una factura pendiente por enviar a la DIAN")));

        let error = service(gateway).create_invoice(&user(), &access(), &invoice()).await.unwrap_err();

        assert!(matches!(error, CreateInvoiceError::Conflict { .. }), "{error:?}");
    }

    #[tokio::test]
    async fn a_create_that_timed_out_is_an_ambiguous_upstream_failure_and_is_not_retried() {
        let mut gateway = MockFactusBillGateway::new();
        gateway.expect_validate_bill().times(1).returning(|_, _| Err(FactusError::Timeout));

        let error = service(gateway).create_invoice(&user(), &access(), &invoice()).await.unwrap_err();

        assert!(matches!(&error, CreateInvoiceError::Upstream(upstream) if upstream.is_ambiguous()), "{error:?}");
    }

    #[tokio::test]
    async fn a_create_failing_for_an_unknown_reason_is_unexpected() {
        let mut gateway = MockFactusBillGateway::new();
        gateway.expect_validate_bill().returning(|_, _| Err(FactusError::Unexpected(anyhow::anyhow!("boom"))));

        let error = service(gateway).create_invoice(&user(), &access(), &invoice()).await.unwrap_err();

        assert!(matches!(error, CreateInvoiceError::Unexpected(_)), "{error:?}");
    }

    #[tokio::test]
    async fn showing_an_invoice_passes_factus_document_through() {
        let mut gateway = MockFactusBillGateway::new();
        gateway
            .expect_show_bill()
            .withf(|_, number| number == "SETP990000123")
            .returning(|_, _| Ok(UpstreamJson::new(r#"{"status":"OK","message":null,"data":{}}"#.into())));

        let document = service(gateway).get_invoice(&access(), "SETP990000123").await.expect("shown");

        assert_eq!(document.as_str(), r#"{"status":"OK","message":null,"data":{}}"#);
    }

    #[tokio::test]
    async fn showing_an_unknown_invoice_is_not_found() {
        let mut gateway = MockFactusBillGateway::new();
        gateway.expect_show_bill().returning(|_, _| Err(rejected(404, "Factura no encontrada")));

        let error = service(gateway).get_invoice(&access(), "X").await.unwrap_err();

        assert!(matches!(&error, GetInvoiceError::NotFound { message } if message == "Factura no encontrada"));
    }

    #[tokio::test]
    async fn showing_an_invoice_with_a_stale_token_is_rejected() {
        let mut gateway = MockFactusBillGateway::new();
        gateway.expect_show_bill().returning(|_, _| Err(rejected(401, "Unauthenticated.")));

        let error = service(gateway).get_invoice(&access(), "X").await.unwrap_err();

        assert!(matches!(error, GetInvoiceError::Rejected { status: 401, .. }), "{error:?}");
    }

    #[tokio::test]
    async fn showing_an_invoice_while_factus_is_down_is_an_upstream_failure() {
        let mut gateway = MockFactusBillGateway::new();
        gateway.expect_show_bill().returning(|_, _| Err(FactusError::CircuitOpen));

        let error = service(gateway).get_invoice(&access(), "X").await.unwrap_err();

        assert!(matches!(error, GetInvoiceError::Upstream(FactusError::CircuitOpen)), "{error:?}");
    }

    #[tokio::test]
    async fn showing_an_invoice_failing_for_an_unknown_reason_is_unexpected() {
        let mut gateway = MockFactusBillGateway::new();
        gateway.expect_show_bill().returning(|_, _| Err(FactusError::Unexpected(anyhow::anyhow!("boom"))));

        let error = service(gateway).get_invoice(&access(), "X").await.unwrap_err();

        assert!(matches!(error, GetInvoiceError::Unexpected(_)), "{error:?}");
    }

    #[tokio::test]
    async fn downloading_asks_for_the_requested_format() {
        let mut gateway = MockFactusBillGateway::new();
        gateway
            .expect_download_document()
            .withf(|_, number, format| number == "SETP1" && *format == DocumentFormat::Xml)
            .times(1)
            .returning(|_, number, format| {
                Ok(DownloadedFile { file_name: format!("{number}.xml"), content_base64: "PD94".into(), format })
            });

        let file = service(gateway).download(&access(), "SETP1", DocumentFormat::Xml).await.expect("downloaded");

        assert_eq!(file.file_name, "SETP1.xml");
        assert_eq!(file.format.extension(), "xml");
    }

    #[tokio::test]
    async fn downloading_an_unknown_invoice_is_not_found_and_other_failures_keep_their_kind() {
        let mut gateway = MockFactusBillGateway::new();
        let mut outcomes = vec![
            rejected(404, "Factura no encontrada"),
            rejected(403, "Version de API no disponible para esta empresa"),
            FactusError::InvalidResponse { message: "not JSON".into() },
            FactusError::Unexpected(anyhow::anyhow!("boom")),
        ]
        .into_iter();
        gateway.expect_download_document().times(4).returning(move |_, _, _| Err(outcomes.next().expect("4 calls")));
        let service = service(gateway);

        let mut errors = Vec::new();
        for _ in 0..4 {
            errors.push(service.download(&access(), "X", DocumentFormat::Pdf).await.unwrap_err());
        }

        assert!(matches!(errors[0], DownloadInvoiceError::NotFound { .. }), "{:?}", errors[0]);
        assert!(matches!(errors[1], DownloadInvoiceError::Rejected { status: 403, .. }), "{:?}", errors[1]);
        assert!(
            matches!(errors[2], DownloadInvoiceError::Upstream(FactusError::InvalidResponse { .. })),
            "{:?}",
            errors[2]
        );
        assert!(matches!(errors[3], DownloadInvoiceError::Unexpected(_)), "{:?}", errors[3]);
    }

    #[tokio::test]
    async fn events_come_back_as_factus_lists_them_and_failures_are_sorted() {
        let mut gateway = MockFactusBillGateway::new();
        let mut outcomes = vec![
            Ok(BillEvents { status: "OK".into(), message: None, events: Vec::new() }),
            Err(rejected(404, "Factura no encontrada")),
            Err(rejected(400, "mal")),
            Err(FactusError::Timeout),
            Err(FactusError::Unexpected(anyhow::anyhow!("boom"))),
        ]
        .into_iter();
        gateway.expect_events().times(5).returning(move |_, _| outcomes.next().expect("5 calls"));
        let service = service(gateway);

        assert!(service.events(&access(), "X").await.expect("events").events.is_empty());
        assert!(matches!(service.events(&access(), "X").await, Err(InvoiceEventsError::NotFound { .. })));
        assert!(matches!(service.events(&access(), "X").await, Err(InvoiceEventsError::Rejected { status: 400, .. })));
        assert!(matches!(
            service.events(&access(), "X").await,
            Err(InvoiceEventsError::Upstream(FactusError::Timeout))
        ));
        assert!(matches!(service.events(&access(), "X").await, Err(InvoiceEventsError::Unexpected(_))));
    }

    #[tokio::test]
    async fn an_empty_pdf_is_not_forwarded_so_factus_generates_its_own() {
        let mut gateway = MockFactusBillGateway::new();
        gateway
            .expect_send_email()
            .withf(|_, number, email, pdf| number == "SETP1" && email == "a@example.com" && pdf.is_none())
            .times(1)
            .returning(|_, _, _, _| {
                Ok(StatusMessage { status: "OK".into(), message: "Factura enviada al cliente con éxito".into() })
            });

        let sent =
            service(gateway).send_email(&access(), "SETP1", "a@example.com", Some(String::new())).await.expect("sent");

        assert_eq!(sent.message, "Factura enviada al cliente con éxito");
    }

    #[tokio::test]
    async fn a_given_pdf_is_forwarded_and_failures_are_sorted() {
        let mut gateway = MockFactusBillGateway::new();
        let mut outcomes = vec![
            rejected(404, "Factura no encontrada"),
            rejected(422, "El campo email no es válido"),
            FactusError::Unavailable { message: "HTTP 502".into(), request_sent: true },
            FactusError::Unexpected(anyhow::anyhow!("boom")),
        ]
        .into_iter();
        gateway
            .expect_send_email()
            .withf(|_, _, _, pdf| pdf.as_deref() == Some("JVBERi0="))
            .times(4)
            .returning(move |_, _, _, _| Err(outcomes.next().expect("4 calls")));
        let service = service(gateway);
        let access = access();
        let send = || service.send_email(&access, "SETP1", "a@example.com", Some("JVBERi0=".into()));

        assert!(matches!(send().await, Err(SendInvoiceEmailError::NotFound { .. })));
        assert!(matches!(send().await, Err(SendInvoiceEmailError::Rejected { status: 422, .. })));
        assert!(matches!(send().await, Err(SendInvoiceEmailError::Upstream(FactusError::Unavailable { .. }))));
        assert!(matches!(send().await, Err(SendInvoiceEmailError::Unexpected(_))));
    }

    #[tokio::test]
    async fn deleting_by_reference_returns_factus_confirmation() {
        let mut gateway = MockFactusBillGateway::new();
        gateway.expect_delete_by_reference().withf(|_, reference| reference == "R2").times(1).returning(|_, _| {
            Ok(StatusMessage {
                status: "OK".into(),
                message: "Documento con código de referencia R2 eliminado con éxito".into(),
            })
        });

        let deleted = service(gateway).delete_by_reference(&access(), "R2").await.expect("deleted");

        assert_eq!(deleted.status, "OK");
    }

    #[tokio::test]
    async fn deleting_sorts_unknown_validated_refused_and_failed_outcomes() {
        let mut gateway = MockFactusBillGateway::new();
        let mut outcomes = vec![
            rejected(404, "No se encontró el documento con código de referencia R9"),
            rejected(409, "El documento ya fue validado"),
            rejected(401, "Unauthenticated."),
            FactusError::CircuitOpen,
            FactusError::Unexpected(anyhow::anyhow!("boom")),
        ]
        .into_iter();
        gateway.expect_delete_by_reference().times(5).returning(move |_, _| Err(outcomes.next().expect("5 calls")));
        let service = service(gateway);
        let access = access();
        let delete = || service.delete_by_reference(&access, "R9");

        assert!(matches!(delete().await, Err(DeleteInvoiceError::NotFound { .. })));
        assert!(matches!(delete().await, Err(DeleteInvoiceError::NotDeletable { .. })));
        assert!(matches!(delete().await, Err(DeleteInvoiceError::Rejected { status: 401, .. })));
        assert!(matches!(delete().await, Err(DeleteInvoiceError::Upstream(FactusError::CircuitOpen))));
        assert!(matches!(delete().await, Err(DeleteInvoiceError::Unexpected(_))));
    }
}
