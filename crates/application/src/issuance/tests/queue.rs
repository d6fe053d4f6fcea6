//! Queued creates: what waits when the Factus budget is spent, and the worker that sends it.

use super::*;
use crate::issuance::QueuedSend;

fn kept() -> QueuedRequest {
    QueuedRequest::new("{\"body\":\"the invoice\"}".into())
}

/// A create on the server's own session, keeping what the queue needs.
fn queueable_request(key: Option<&str>) -> IssueRequest {
    IssueRequest { access: FactusAccess::ServerSession, queued_request: Some(kept()), ..request(key, BODY) }
}

fn queued_entry() -> LedgerEntry {
    LedgerEntry { queued_request: Some(kept()), ..entry(EntryStatus::Queued) }
}

fn busy() -> FactusError {
    FactusError::Busy { retry_after_secs: 7 }
}

impl Mocks {
    fn queue_is(&mut self, depth: u64) {
        self.ledger.expect_queue_stats().returning(move || Ok(QueueStats { depth, ..QueueStats::default() }));
    }

    fn sends_on_the_server_session(&mut self, answer: Result<IssuedBill, FactusError>) {
        self.bills
            .expect_validate_bill()
            .withf(|access, _| matches!(access, FactusAccess::ServerSession))
            .times(1)
            .return_once(move |_, _| answer);
    }

    fn marks_queued(&mut self) {
        self.ledger
            .expect_mark_queued()
            .withf(|_, request, _| *request == kept())
            .times(1)
            .returning(|_, _, _| Ok(true));
        self.ledger.expect_find().returning(|_| Ok(Some(queued_entry())));
    }

    fn issuance_waiting(self, queue_wait: Duration) -> InvoiceIssuance {
        InvoiceIssuance::new(
            Arc::new(self.ledger),
            Arc::new(self.bills),
            Arc::new(self.status),
            IssuancePolicy { queue_wait, ..IssuancePolicy::default() },
        )
    }

    /// The claim is released (abandoned) rather than kept in the line.
    fn releases_the_claim_without_queueing(&mut self) {
        self.ledger.expect_abandon().times(1).returning(|_| Ok(true));
        self.ledger.expect_mark_queued().never();
    }

    /// The worker sends a pending entry that kept its request, as one it took from the line.
    async fn worker_sends_a_taken_entry(self) -> QueuedSend {
        let taken = LedgerEntry { queued_request: Some(kept()), ..entry(EntryStatus::Pending) };
        self.issuance().send_queued(taken, &Reader).await
    }
}

fn assert_queued(issued: &Issued) {
    match issued {
        Issued::Queued(entry) => assert_eq!((entry.id, entry.state()), (ENTRY, LedgerState::Queued)),
        Issued::Bill(outcome) => panic!("expected the queued entry, got a bill: {outcome:?}"),
    }
}

struct Reader;

impl QueuedRequestReader for Reader {
    fn read(&self, kind: DocumentKind, request: &QueuedRequest) -> Result<Document, String> {
        assert_eq!((kind, request), (DocumentKind::Invoice, &kept()));
        Ok(Document::Invoice(invoice()))
    }
}

#[tokio::test]
async fn a_create_the_budget_has_no_slot_for_is_queued_with_its_request_instead_of_refused() {
    let mut mocks = Mocks::new();
    mocks.claims_afresh();
    mocks.queue_is(0);
    mocks.sends_on_the_server_session(Err(busy()));
    mocks.marks_queued();
    mocks.ledger.expect_abandon().never();

    let issued = mocks.issuance().issue(queueable_request(Some(KEY))).await.expect("accepted");

    assert_queued(&issued);
}

#[tokio::test]
async fn a_create_with_the_clients_own_token_is_never_queued_and_its_claim_is_released() {
    let mut mocks = Mocks::new();
    mocks.claims_afresh();
    mocks.sends(Err(busy()));
    mocks.releases_the_claim_without_queueing();
    let request = IssueRequest { queued_request: Some(kept()), ..request(Some(KEY), BODY) };

    let error = mocks.issuance().issue(request).await.unwrap_err();

    assert!(matches!(error, IssueError::Factus(FactusError::Busy { retry_after_secs: 7 })), "{error:?}");
}

#[tokio::test]
async fn with_no_queue_wait_a_spent_budget_is_refused_as_before() {
    let mut mocks = Mocks::new();
    mocks.claims_afresh();
    mocks.sends_on_the_server_session(Err(busy()));
    mocks.releases_the_claim_without_queueing();

    let error = mocks.issuance_waiting(Duration::ZERO).issue(queueable_request(Some(KEY))).await.unwrap_err();

    assert!(matches!(error, IssueError::Factus(FactusError::Busy { .. })), "{error:?}");
}

#[tokio::test]
async fn a_retry_with_the_key_of_a_queued_create_answers_the_same_entry_without_sending() {
    let mut mocks = Mocks::new();
    mocks.keyed(queued_entry());
    mocks.bills.expect_validate_bill().never();

    let issued = mocks.issuance().issue(queueable_request(Some(KEY))).await.expect("accepted");

    assert_queued(&issued);
}

#[tokio::test]
async fn a_retry_of_a_queued_reference_with_another_body_is_in_progress() {
    let mut mocks = Mocks::new();
    mocks.active(queued_entry());
    let request =
        IssueRequest { fingerprint: RequestFingerprint::parse(OTHER_BODY).unwrap(), ..queueable_request(None) };

    let error = mocks.issuance().issue(request).await.unwrap_err();

    assert!(matches!(error, IssueError::InProgress { keyed: false }), "{error:?}");
}

#[tokio::test]
async fn a_create_that_finds_others_queued_joins_the_line_and_answers_the_bill_if_the_worker_is_quick() {
    let mut mocks = Mocks::new();
    mocks.claims_afresh();
    mocks.queue_is(3);
    mocks.bills.expect_validate_bill().never();
    mocks.ledger.expect_mark_queued().times(1).returning(|_, _, _| Ok(true));
    let issued_entry = entry(EntryStatus::Issued { bill: bill_(), issued_at: clock::now() });
    mocks.ledger.expect_find().returning(move |_| Ok(Some(issued_entry.clone())));

    let issued = mocks.issuance().issue(queueable_request(Some(KEY))).await.expect("issued by the worker");

    assert_eq!(issued.into_bill().map(|outcome| outcome.bill), Some(bill_()));
}

#[tokio::test]
async fn a_create_behind_others_answers_accepted_when_its_turn_does_not_come_in_time() {
    let mut mocks = Mocks::new();
    mocks.claims_afresh();
    mocks.queue_is(3);
    mocks.bills.expect_validate_bill().never();
    mocks.marks_queued();

    let started = std::time::Instant::now();
    let issued = mocks.issuance_waiting(Duration::from_millis(300)).issue(queueable_request(Some(KEY))).await;

    assert_queued(&issued.expect("accepted"));
    assert!(started.elapsed() >= Duration::from_millis(300), "it waited for its turn first");
}

#[tokio::test]
async fn the_worker_sends_a_queued_entry_on_the_server_session_and_records_the_bill() {
    let mut mocks = Mocks::new();
    mocks.sends_on_the_server_session(Ok(bill_()));
    mocks.marks_issued();

    let sent = mocks.worker_sends_a_taken_entry().await;

    assert_eq!(sent, QueuedSend::Issued);
}

#[tokio::test]
async fn the_worker_puts_an_entry_it_could_not_send_back_in_line_whatever_kept_it() {
    for error in
        [busy(), FactusError::CircuitOpen, FactusError::Unavailable { request_sent: false, message: "refused".into() }]
    {
        let mut mocks = Mocks::new();
        mocks.sends_on_the_server_session(Err(error));
        mocks.marks_queued();
        mocks.ledger.expect_abandon().never();

        let sent = mocks.worker_sends_a_taken_entry().await;

        assert_eq!(sent, QueuedSend::Requeued);
    }
}

#[tokio::test]
async fn the_worker_records_a_refusal_so_that_the_webhook_tells_the_client() {
    let mut mocks = Mocks::new();
    mocks.sends_on_the_server_session(Err(rejected(422, "customer.names: obligatorio")));
    mocks.marks_rejected(Rejection::Factus { status: 422, message: "customer.names: obligatorio".into() });

    let sent = mocks.worker_sends_a_taken_entry().await;

    assert_eq!(sent, QueuedSend::Rejected);
}

#[tokio::test]
async fn a_stale_queued_create_factus_has_no_bill_for_goes_back_in_line_instead_of_being_given_up() {
    let mut mocks = Mocks::new();
    mocks.status.expect_has_server_session().return_const(true);
    let stale = LedgerEntry { queued_request: Some(kept()), ..entry(EntryStatus::Unknown) };
    mocks.ledger.expect_stale_entries().return_once(move |_, _| Ok(vec![stale]));
    mocks.looks_up(Ok(None));
    mocks.ledger.expect_mark_queued().times(1).returning(|_, _, _| Ok(true));
    mocks.ledger.expect_mark_rejected().never();

    let report = mocks.issuance().reconcile_stale(clock::now()).await.expect("a pass");

    assert_eq!(report.requeued, 1);
    assert_eq!(report.not_issued, 0);
}
