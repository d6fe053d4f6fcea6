//! Use cases on existing documents of every kind (invoices, credit and debit notes, support
//! documents): show, download, e-mail, delete, and an invoice's events. The kind is data, passed
//! to the one Factus port. (Creating one goes through the exactly-once ledger:
//! [`crate::issuance`].)
//!
//! Every failure is a [`FactusFailure`]: the gateway's [`FactusError`] with the operation it
//! belongs to, whose prefix the edge puts before Factus' own message
//! ([`FactusOperation::detail`]).

use std::collections::HashMap;
use std::sync::{Arc, Weak};

use factus_domain::user::User;

use crate::documents::{DocumentAccess, DocumentError, DocumentFileStore, DocumentRef};
use crate::factus::{
    BillEvents, DocumentFormat, DownloadedFile, FactusAccess, FactusBillGateway, FactusFailure, FactusOperation,
    StatusMessage, UpstreamJson,
};
use crate::ledger::DocumentKind;

/// The invoice use cases. Each acts for a user, who must be allowed to act on the bill
/// ([`DocumentAccess`]) before Factus is asked.
pub struct InvoiceService {
    bills: Arc<dyn FactusBillGateway>,
    access: Arc<DocumentAccess>,
    files: Option<Arc<dyn DocumentFileStore>>,
    /// One download per document and format at a time, so that concurrent first downloads make
    /// one Factus call and the rest read what it stored.
    downloading: std::sync::Mutex<HashMap<(String, DocumentFormat), DownloadLock>>,
}

/// Held while one document is being downloaded from Factus; weak, so finished ones can go.
type DownloadLock = Weak<tokio::sync::Mutex<()>>;

impl InvoiceService {
    pub fn new(bills: Arc<dyn FactusBillGateway>, access: Arc<DocumentAccess>) -> Self {
        Self { bills, access, files: None, downloading: std::sync::Mutex::default() }
    }

    /// Keeps the PDF and XML of validated documents in `files` and serves them from there.
    #[must_use]
    pub fn with_file_store(mut self, files: Arc<dyn DocumentFileStore>) -> Self {
        self.files = Some(files);
        self
    }

    /// The whole document as Factus shows it.
    ///
    /// # Errors
    /// [`DocumentError::NotFound`] when `user` may not act on the bill; [`FactusFailure`] of
    /// [`FactusOperation::Get`] ([`FactusFailure::is_not_found`] for an unknown number).
    pub async fn get_document(
        &self,
        user: &User,
        access: &FactusAccess,
        kind: DocumentKind,
        number: &str,
    ) -> Result<UpstreamJson, DocumentError> {
        self.access.authorize(user, DocumentRef::Number(number)).await?;
        Ok(self.bills.show_bill(access, kind, number).await.map_err(FactusFailure::of(FactusOperation::Get(kind)))?)
    }

    /// The bill's PDF or XML. With a file store, a document DIAN validated (by the ledger) is
    /// downloaded from Factus once and then served from the store: it never changes. A store
    /// that fails is logged and bypassed, never the download's failure.
    ///
    /// # Errors
    /// [`DocumentError::NotFound`]; [`FactusFailure`] of the format's download operation
    /// ([`DocumentFormat::operation`]).
    pub async fn download(
        &self,
        user: &User,
        access: &FactusAccess,
        kind: DocumentKind,
        number: &str,
        format: DocumentFormat,
    ) -> Result<DownloadedFile, DocumentError> {
        self.access.authorize(user, DocumentRef::Number(number)).await?;
        let Some(files) = &self.files else {
            return Ok(self
                .bills
                .download_document(access, kind, number, format)
                .await
                .map_err(FactusFailure::of(format.operation()))?);
        };
        if let Some(file) = stored(files.as_ref(), number, format).await {
            return Ok(file);
        }
        let lock = self.download_lock(number, format);
        let _downloading = lock.lock().await;
        if let Some(file) = stored(files.as_ref(), number, format).await {
            return Ok(file);
        }
        let file = self
            .bills
            .download_document(access, kind, number, format)
            .await
            .map_err(FactusFailure::of(format.operation()))?;
        if self.access.is_validated(number).await
            && let Err(error) = files.store(number, &file).await
        {
            tracing::warn!(
                number,
                error = format!("{error:#}"),
                "could not keep a validated document; the next download asks Factus again"
            );
        }
        Ok(file)
    }

    /// The lock of one document's download; entries nobody holds any more are dropped.
    fn download_lock(&self, number: &str, format: DocumentFormat) -> Arc<tokio::sync::Mutex<()>> {
        let mut locks = self.downloading.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        locks.retain(|_, lock| lock.strong_count() > 0);
        let key = (number.to_owned(), format);
        if let Some(lock) = locks.get(&key).and_then(Weak::upgrade) {
            return lock;
        }
        let lock = Arc::new(tokio::sync::Mutex::new(()));
        locks.insert(key, Arc::downgrade(&lock));
        lock
    }

    /// The bill's RADIAN events.
    ///
    /// # Errors
    /// [`DocumentError::NotFound`]; [`FactusFailure`] of [`FactusOperation::InvoiceEvents`].
    pub async fn events(&self, user: &User, access: &FactusAccess, number: &str) -> Result<BillEvents, DocumentError> {
        self.access.authorize(user, DocumentRef::Number(number)).await?;
        Ok(self.bills.events(access, number).await.map_err(FactusFailure::of(FactusOperation::InvoiceEvents))?)
    }

    /// Has Factus e-mail the bill. An empty `pdf_base64` counts as none, so Factus generates the
    /// PDF itself (as the wire contract does).
    ///
    /// # Errors
    /// [`DocumentError::NotFound`]; [`FactusFailure`] of [`FactusOperation::SendEmail`].
    pub async fn send_email(
        &self,
        user: &User,
        access: &FactusAccess,
        kind: DocumentKind,
        number: &str,
        email: &str,
        pdf_base64: Option<String>,
    ) -> Result<StatusMessage, DocumentError> {
        self.access.authorize(user, DocumentRef::Number(number)).await?;
        let pdf_base64 = pdf_base64.filter(|pdf| !pdf.is_empty());
        Ok(self
            .bills
            .send_email(access, kind, number, email, pdf_base64)
            .await
            .map_err(FactusFailure::of(FactusOperation::SendEmail))?)
    }

    /// Deletes a bill that DIAN has not validated, by its reference code.
    ///
    /// # Errors
    /// [`DocumentError::NotFound`]; [`FactusFailure`] of [`FactusOperation::Delete`]:
    /// Factus' 404 for an unknown reference, 409 for a bill DIAN already validated.
    pub async fn delete_by_reference(
        &self,
        user: &User,
        access: &FactusAccess,
        kind: DocumentKind,
        reference_code: &str,
    ) -> Result<StatusMessage, DocumentError> {
        self.access.authorize(user, DocumentRef::Reference(reference_code)).await?;
        let deleted = self
            .bills
            .delete_by_reference(access, kind, reference_code)
            .await
            .map_err(FactusFailure::of(FactusOperation::Delete(kind)))?;
        tracing::info!(reference = reference_code, %kind, "document deleted at Factus");
        Ok(deleted)
    }
}

/// The stored file, if any; a store that fails is logged and counts as none.
async fn stored(files: &dyn DocumentFileStore, number: &str, format: DocumentFormat) -> Option<DownloadedFile> {
    match files.find(number, format).await {
        Ok(file) => file,
        Err(error) => {
            tracing::warn!(number, error = format!("{error:#}"), "could not read a stored document; asking Factus");
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use secrecy::SecretString;

    use super::*;
    use crate::account::test_users::{admin, user};
    use crate::factus::{FactusError, MockFactusBillGateway};
    use crate::ledger::{LedgerPage, MockLedgerStore};

    /// The Factus failure inside a document error.
    #[track_caller]
    fn factus(error: DocumentError) -> FactusFailure {
        match error {
            DocumentError::Factus(failure) => failure,
            other => panic!("not a Factus failure: {other:?}"),
        }
    }

    fn access() -> FactusAccess {
        FactusAccess::ClientToken(SecretString::from("token"))
    }

    /// The service with a ledger that admins never need (a call would panic).
    fn service(gateway: MockFactusBillGateway) -> InvoiceService {
        with_ledger(gateway, MockLedgerStore::new())
    }

    fn with_ledger(gateway: MockFactusBillGateway, ledger: MockLedgerStore) -> InvoiceService {
        InvoiceService::new(Arc::new(gateway), Arc::new(DocumentAccess::new(Arc::new(ledger))))
    }

    #[tokio::test]
    async fn a_user_is_told_a_bill_the_ledger_does_not_record_as_theirs_does_not_exist() {
        let mut gateway = MockFactusBillGateway::new();
        gateway.expect_show_bill().never();
        gateway.expect_delete_by_reference().never();
        let mut ledger = MockLedgerStore::new();
        let user = user();
        let id = user.id;
        ledger
            .expect_list()
            .withf(move |filter| filter.user_id == Some(id))
            .times(2)
            .returning(|_| Ok(LedgerPage { entries: Vec::new(), next_cursor: None }));
        let service = with_ledger(gateway, ledger);

        let error = service.get_document(&user, &access(), DocumentKind::Invoice, "SETP990000001").await.unwrap_err();
        assert!(matches!(error, DocumentError::NotFound), "{error:?}");
        let error = service.delete_by_reference(&user, &access(), DocumentKind::Invoice, "R1").await.unwrap_err();
        assert!(matches!(error, DocumentError::NotFound), "{error:?}");
        // Numbers that cannot be in the ledger are not even looked up.
        let error = service.get_document(&user, &access(), DocumentKind::Invoice, "SETP\0").await.unwrap_err();
        assert!(matches!(error, DocumentError::NotFound), "{error:?}");
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
            .withf(|_, _, number| number == "SETP990000123")
            .returning(|_, _, _| Ok(UpstreamJson::new(r#"{"status":"OK","message":null,"data":{}}"#.into())));

        let document = service(gateway)
            .get_document(&admin(), &access(), DocumentKind::Invoice, "SETP990000123")
            .await
            .expect("shown");

        assert_eq!(document.as_str(), r#"{"status":"OK","message":null,"data":{}}"#);
    }

    #[tokio::test]
    async fn showing_an_unknown_invoice_is_a_not_found_failure_of_get_invoice() {
        let mut gateway = MockFactusBillGateway::new();
        gateway.expect_show_bill().returning(|_, _, _| Err(rejected(404, "Factura no encontrada")));

        let error =
            factus(service(gateway).get_document(&admin(), &access(), DocumentKind::Invoice, "X").await.unwrap_err());

        assert!(error.is_not_found());
        assert_eq!(error.to_string(), "Error al obtener la factura: Factura no encontrada");
    }

    #[tokio::test]
    async fn downloading_asks_for_the_requested_format() {
        let mut gateway = MockFactusBillGateway::new();
        gateway
            .expect_download_document()
            .withf(|_, _, number, format| number == "SETP1" && *format == DocumentFormat::Xml)
            .times(1)
            .returning(|_, _, number, format| {
                Ok(DownloadedFile { file_name: format!("{number}.xml"), content_base64: "PD94".into(), format })
            });

        let file = service(gateway)
            .download(&admin(), &access(), DocumentKind::Invoice, "SETP1", DocumentFormat::Xml)
            .await
            .expect("downloaded");

        assert_eq!(file.file_name, "SETP1.xml");
        assert_eq!(file.format.extension(), "xml");
    }

    #[tokio::test]
    async fn every_use_case_passes_every_gateway_failure_on_with_its_operation() {
        let count = failures().len();
        let mut gateway = MockFactusBillGateway::new();
        let mut shown = failures().into_iter();
        gateway.expect_show_bill().times(count).returning(move |_, _, _| Err(shown.next().expect("a failure")));
        let mut downloaded = failures().into_iter();
        gateway
            .expect_download_document()
            .times(count)
            .returning(move |_, _, _, _| Err(downloaded.next().expect("a failure")));
        let mut listed = failures().into_iter();
        gateway.expect_events().times(count).returning(move |_, _| Err(listed.next().expect("a failure")));
        let mut mailed = failures().into_iter();
        gateway.expect_send_email().times(count).returning(move |_, _, _, _, _| Err(mailed.next().expect("a failure")));
        let mut deleted = failures().into_iter();
        gateway
            .expect_delete_by_reference()
            .times(count)
            .returning(move |_, _, _| Err(deleted.next().expect("a failure")));
        let service = service(gateway);
        let access = access();
        let admin = admin();

        for expected in failures() {
            let error = service.get_document(&admin, &access, DocumentKind::Invoice, "X").await.unwrap_err();
            let error = factus(error);
            assert_passed_on(&error, FactusOperation::Get(DocumentKind::Invoice), &expected);
            let error =
                service.download(&admin, &access, DocumentKind::Invoice, "X", DocumentFormat::Pdf).await.unwrap_err();
            let error = factus(error);
            assert_passed_on(&error, FactusOperation::DownloadPdf, &expected);
            let error = service.events(&admin, &access, "X").await.unwrap_err();
            let error = factus(error);
            assert_passed_on(&error, FactusOperation::InvoiceEvents, &expected);
            let error = service
                .send_email(&admin, &access, DocumentKind::Invoice, "X", "a@example.com", None)
                .await
                .unwrap_err();
            let error = factus(error);
            assert_passed_on(&error, FactusOperation::SendEmail, &expected);
            let error = service.delete_by_reference(&admin, &access, DocumentKind::Invoice, "R9").await.unwrap_err();
            let error = factus(error);
            assert_passed_on(&error, FactusOperation::Delete(DocumentKind::Invoice), &expected);
        }
    }

    #[tokio::test]
    async fn an_empty_pdf_is_not_forwarded_so_factus_generates_its_own() {
        let mut gateway = MockFactusBillGateway::new();
        gateway
            .expect_send_email()
            .withf(|_, _, number, email, pdf| number == "SETP1" && email == "a@example.com" && pdf.is_none())
            .times(1)
            .returning(|_, _, _, _, _| {
                Ok(StatusMessage { status: "OK".into(), message: "Factura enviada al cliente con éxito".into() })
            });

        let sent = service(gateway)
            .send_email(&admin(), &access(), DocumentKind::Invoice, "SETP1", "a@example.com", Some(String::new()))
            .await
            .expect("sent");

        assert_eq!(sent.message, "Factura enviada al cliente con éxito");
    }

    #[tokio::test]
    async fn a_given_pdf_is_forwarded() {
        let mut gateway = MockFactusBillGateway::new();
        gateway.expect_send_email().withf(|_, _, _, _, pdf| pdf.as_deref() == Some("JVBERi0=")).times(1).returning(
            |_, _, _, _, _| {
                Ok(StatusMessage { status: "OK".into(), message: "Factura enviada al cliente con éxito".into() })
            },
        );

        let sent = service(gateway)
            .send_email(&admin(), &access(), DocumentKind::Invoice, "SETP1", "a@example.com", Some("JVBERi0=".into()))
            .await
            .expect("sent");

        assert_eq!(sent.status, "OK");
    }

    #[tokio::test]
    async fn deleting_by_reference_returns_factus_confirmation() {
        let mut gateway = MockFactusBillGateway::new();
        gateway.expect_delete_by_reference().withf(|_, _, reference| reference == "R2").times(1).returning(
            |_, _, _| {
                Ok(StatusMessage {
                    status: "OK".into(),
                    message: "Documento con código de referencia R2 eliminado con éxito".into(),
                })
            },
        );

        let deleted = service(gateway)
            .delete_by_reference(&admin(), &access(), DocumentKind::Invoice, "R2")
            .await
            .expect("deleted");

        assert_eq!(deleted.status, "OK");
    }
}
