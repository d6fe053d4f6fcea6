//! Invoice use cases on existing bills: show, download, events, e-mail, delete. (Creating one goes
//! through the exactly-once ledger: [`crate::issuance`].)
//!
//! Every failure is a [`FactusFailure`]: the gateway's [`FactusError`] with the operation it
//! belongs to, whose prefix the edge puts before Factus' own message
//! ([`FactusOperation::detail`]).

use std::sync::Arc;

use crate::factus::{
    BillEvents, DocumentFormat, DownloadedFile, FactusAccess, FactusBillGateway, FactusFailure, FactusOperation,
    StatusMessage, UpstreamJson,
};

/// The invoice use cases.
pub struct InvoiceService {
    bills: Arc<dyn FactusBillGateway>,
}

impl InvoiceService {
    pub fn new(bills: Arc<dyn FactusBillGateway>) -> Self {
        Self { bills }
    }

    /// The whole document as Factus shows it.
    ///
    /// # Errors
    /// [`FactusFailure`] of [`FactusOperation::GetInvoice`] ([`FactusFailure::is_not_found`] for
    /// an unknown number).
    pub async fn get_invoice(&self, access: &FactusAccess, number: &str) -> Result<UpstreamJson, FactusFailure> {
        self.bills.show_bill(access, number).await.map_err(FactusFailure::of(FactusOperation::GetInvoice))
    }

    /// The bill's PDF or XML.
    ///
    /// # Errors
    /// [`FactusFailure`] of the format's download operation ([`DocumentFormat::operation`]).
    pub async fn download(
        &self,
        access: &FactusAccess,
        number: &str,
        format: DocumentFormat,
    ) -> Result<DownloadedFile, FactusFailure> {
        self.bills.download_document(access, number, format).await.map_err(FactusFailure::of(format.operation()))
    }

    /// The bill's RADIAN events.
    ///
    /// # Errors
    /// [`FactusFailure`] of [`FactusOperation::InvoiceEvents`].
    pub async fn events(&self, access: &FactusAccess, number: &str) -> Result<BillEvents, FactusFailure> {
        self.bills.events(access, number).await.map_err(FactusFailure::of(FactusOperation::InvoiceEvents))
    }

    /// Has Factus e-mail the bill. An empty `pdf_base64` counts as none, so Factus generates the
    /// PDF itself (as the wire contract does).
    ///
    /// # Errors
    /// [`FactusFailure`] of [`FactusOperation::SendEmail`].
    pub async fn send_email(
        &self,
        access: &FactusAccess,
        number: &str,
        email: &str,
        pdf_base64: Option<String>,
    ) -> Result<StatusMessage, FactusFailure> {
        let pdf_base64 = pdf_base64.filter(|pdf| !pdf.is_empty());
        self.bills
            .send_email(access, number, email, pdf_base64)
            .await
            .map_err(FactusFailure::of(FactusOperation::SendEmail))
    }

    /// Deletes a bill that DIAN has not validated, by its reference code.
    ///
    /// # Errors
    /// [`FactusFailure`] of [`FactusOperation::DeleteInvoice`]: Factus' 404 for an unknown
    /// reference, 409 for a bill DIAN already validated.
    pub async fn delete_by_reference(
        &self,
        access: &FactusAccess,
        reference_code: &str,
    ) -> Result<StatusMessage, FactusFailure> {
        let deleted = self
            .bills
            .delete_by_reference(access, reference_code)
            .await
            .map_err(FactusFailure::of(FactusOperation::DeleteInvoice))?;
        tracing::info!(reference = reference_code, "invoice deleted at Factus");
        Ok(deleted)
    }
}

#[cfg(test)]
mod tests {
    use secrecy::SecretString;

    use super::*;
    use crate::factus::{FactusError, MockFactusBillGateway};

    fn access() -> FactusAccess {
        FactusAccess::ClientToken(SecretString::from("token"))
    }

    fn service(gateway: MockFactusBillGateway) -> InvoiceService {
        InvoiceService::new(Arc::new(gateway))
    }

    fn rejected(status: u16, message: &str) -> FactusError {
        FactusError::Rejected { status, message: message.to_owned() }
    }

    /// The gateway failures every use case passes on, one per kind.
    fn failures() -> Vec<FactusError> {
        vec![
            rejected(404, "Factura no encontrada"),
            rejected(409, "El documento ya fue validado"),
            FactusError::InvalidResponse { message: "not JSON".into() },
            FactusError::Unavailable { message: "HTTP 502".into(), request_sent: true },
            FactusError::Timeout,
            FactusError::CircuitOpen,
            FactusError::Unexpected(anyhow::anyhow!("boom")),
        ]
    }

    /// The failure keeps its operation and the gateway's error as it was.
    #[track_caller]
    fn assert_passed_on(failure: &FactusFailure, operation: FactusOperation, expected: &FactusError) {
        assert_eq!(failure.operation, operation, "{failure:?}");
        assert_eq!(std::mem::discriminant(&failure.error), std::mem::discriminant(expected), "{failure:?}");
        assert_eq!(failure.error.to_string(), expected.to_string());
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
    async fn showing_an_unknown_invoice_is_a_not_found_failure_of_get_invoice() {
        let mut gateway = MockFactusBillGateway::new();
        gateway.expect_show_bill().returning(|_, _| Err(rejected(404, "Factura no encontrada")));

        let error = service(gateway).get_invoice(&access(), "X").await.unwrap_err();

        assert!(error.is_not_found());
        assert_eq!(error.to_string(), "Error al obtener la factura: Factura no encontrada");
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
    async fn every_use_case_passes_every_gateway_failure_on_with_its_operation() {
        let count = failures().len();
        let mut gateway = MockFactusBillGateway::new();
        let mut shown = failures().into_iter();
        gateway.expect_show_bill().times(count).returning(move |_, _| Err(shown.next().expect("a failure")));
        let mut downloaded = failures().into_iter();
        gateway
            .expect_download_document()
            .times(count)
            .returning(move |_, _, _| Err(downloaded.next().expect("a failure")));
        let mut listed = failures().into_iter();
        gateway.expect_events().times(count).returning(move |_, _| Err(listed.next().expect("a failure")));
        let mut mailed = failures().into_iter();
        gateway.expect_send_email().times(count).returning(move |_, _, _, _| Err(mailed.next().expect("a failure")));
        let mut deleted = failures().into_iter();
        gateway
            .expect_delete_by_reference()
            .times(count)
            .returning(move |_, _| Err(deleted.next().expect("a failure")));
        let service = service(gateway);
        let access = access();

        for expected in failures() {
            let error = service.get_invoice(&access, "X").await.unwrap_err();
            assert_passed_on(&error, FactusOperation::GetInvoice, &expected);
            let error = service.download(&access, "X", DocumentFormat::Pdf).await.unwrap_err();
            assert_passed_on(&error, FactusOperation::DownloadPdf, &expected);
            let error = service.events(&access, "X").await.unwrap_err();
            assert_passed_on(&error, FactusOperation::InvoiceEvents, &expected);
            let error = service.send_email(&access, "X", "a@example.com", None).await.unwrap_err();
            assert_passed_on(&error, FactusOperation::SendEmail, &expected);
            let error = service.delete_by_reference(&access, "R9").await.unwrap_err();
            assert_passed_on(&error, FactusOperation::DeleteInvoice, &expected);
        }
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
    async fn a_given_pdf_is_forwarded() {
        let mut gateway = MockFactusBillGateway::new();
        gateway.expect_send_email().withf(|_, _, _, pdf| pdf.as_deref() == Some("JVBERi0=")).times(1).returning(
            |_, _, _, _| {
                Ok(StatusMessage { status: "OK".into(), message: "Factura enviada al cliente con éxito".into() })
            },
        );

        let sent = service(gateway)
            .send_email(&access(), "SETP1", "a@example.com", Some("JVBERi0=".into()))
            .await
            .expect("sent");

        assert_eq!(sent.status, "OK");
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
}
