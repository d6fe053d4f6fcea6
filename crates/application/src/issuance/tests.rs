//! The exactly-once create and the reconciliation, against mocked ports.

use factus_domain::invoice::{Invoice, ItemDraft, NoteDraft};
use factus_domain::user::{PasswordHash, Role, Username};
use mockall::predicate::eq;
use secrecy::SecretString;

use super::*;
use crate::factus::{MockFactusBillGateway, MockFactusStatus};
use crate::ledger::{LedgerState, MockLedgerStore, PageSize, QueueStats, QueuedRequestReader};

const USER: Uuid = Uuid::from_u128(0x0193_c5a4_8d3e_7b21_9f00_0000_0000_0001);
const OTHER_USER: Uuid = Uuid::from_u128(0x0193_c5a4_8d3e_7b21_9f00_0000_0000_0002);
const ENTRY: Uuid = Uuid::from_u128(0x0193_c5a4_8d3e_7b21_9f00_0000_0000_00e1);
const OTHER_ENTRY: Uuid = Uuid::from_u128(0x0193_c5a4_8d3e_7b21_9f00_0000_0000_00e2);
const BODY: &str = "aa11";
const OTHER_BODY: &str = "bb22";
const KEY: &str = "key-1";

struct Mocks {
    ledger: MockLedgerStore,
    bills: MockFactusBillGateway,
    status: MockFactusStatus,
}

impl Mocks {
    fn new() -> Self {
        Self { ledger: MockLedgerStore::new(), bills: MockFactusBillGateway::new(), status: MockFactusStatus::new() }
    }

    fn issuance(self) -> InvoiceIssuance {
        InvoiceIssuance::new(
            Arc::new(self.ledger),
            Arc::new(self.bills),
            Arc::new(self.status),
            IssuancePolicy::default(),
        )
    }

    /// No entry under the key nor for the reference.
    fn nothing_recorded(&mut self) {
        self.ledger.expect_find_by_key().returning(|_, _| Ok(None));
        self.ledger.expect_find_active_by_reference().returning(|_| Ok(None));
    }

    /// Nothing recorded for the key or the reference, so the request claims a new entry.
    fn claims_afresh(&mut self) {
        self.nothing_recorded();
        self.claims();
    }

    fn keyed(&mut self, entry: LedgerEntry) {
        self.ledger
            .expect_find_by_key()
            .withf(|user, key| *user == USER && key.as_str() == KEY)
            .times(1)
            .return_once(move |_, _| Ok(Some(entry)));
    }

    fn active(&mut self, entry: LedgerEntry) {
        self.ledger.expect_find_by_key().returning(|_, _| Ok(None));
        self.ledger
            .expect_find_active_by_reference()
            .withf(|reference| reference.as_str() == "R2")
            .times(1)
            .return_once(move |_| Ok(Some(entry)));
    }

    /// The claim succeeds with a pending entry.
    fn claims(&mut self) {
        self.ledger.expect_claim().times(1).returning(|new| {
            assert_eq!(new.user_id, USER);
            assert_eq!(new.reference_code.as_str(), "R2");
            Ok(LedgerEntry { id: new.id, ..entry(EntryStatus::Pending) })
        });
    }

    fn sends(&mut self, answer: Result<IssuedBill, FactusError>) {
        self.bills
            .expect_validate_bill()
            .withf(|access, invoice| {
                matches!(access, FactusAccess::ClientToken(_)) && invoice.reference_code().as_str() == "R2"
            })
            .times(1)
            .return_once(move |_, _| answer);
    }

    fn looks_up(&mut self, answer: Result<Option<IssuedBill>, FactusError>) {
        self.bills
            .expect_find_bill_by_reference()
            .withf(|_, _, reference| reference == "R2")
            .times(1)
            .return_once(move |_, _, _| answer);
    }

    /// Factus deletes the document R2 once.
    fn deletes_r2_at_factus(&mut self) {
        self.bills
            .expect_delete_by_reference()
            .withf(|_, _, reference| reference == "R2")
            .times(1)
            .returning(|_, _, _| Ok(crate::factus::StatusMessage { status: "OK".into(), message: "eliminado".into() }));
    }

    fn marks_issued(&mut self) {
        self.ledger.expect_mark_issued().withf(|_, bill, _| *bill == bill_()).times(1).returning(|_, _, _| Ok(true));
    }

    /// Factus validates R2 as [`bill_`] and the ledger marks the entry issued with it.
    fn issues_the_bill(&mut self) {
        self.sends(Ok(bill_()));
        self.marks_issued();
    }

    fn marks_rejected(&mut self, expected: Rejection) {
        self.ledger
            .expect_mark_rejected()
            .withf(move |_, rejection, _| *rejection == expected)
            .times(1)
            .returning(|_, _, _| Ok(true));
    }

    fn marks_unknown(&mut self) {
        self.ledger.expect_mark_unknown().times(1).returning(|_, _| Ok(true));
    }

    /// The reopen succeeds: the entry is pending again, on its second attempt.
    fn reopens(&mut self) {
        self.ledger
            .expect_reopen()
            .times(1)
            .returning(|entry, _| Ok(Some(LedgerEntry { status: EntryStatus::Pending, attempts: 2, ..entry.clone() })));
    }

    /// Issues `request` and expects it (`what`) to end in a bill rather than be queued.
    async fn issue_for_a_bill(self, request: IssueRequest, what: &str) -> IssueOutcome {
        self.issuance().issue(request).await.expect(what).into_bill().expect("a bill, not queued")
    }
}

fn user() -> User {
    User {
        id: USER,
        password_hash: PasswordHash::from_phc("$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA".into()),
        ..crate::account::test_users::user()
    }
}

fn admin() -> User {
    User { role: Role::Admin, ..user() }
}

fn invoice() -> Invoice {
    Invoice::parse(factus_domain::testing::minimal_draft()).expect("a valid invoice")
}

fn request(key: Option<&str>, body: &str) -> IssueRequest {
    IssueRequest {
        user: user(),
        api_key_id: None,
        access: FactusAccess::ClientToken(SecretString::from("token")),
        document: Document::Invoice(invoice()),
        idempotency_key: key.map(|key| IdempotencyKey::parse(key).expect("valid key")),
        fingerprint: RequestFingerprint::parse(body).expect("valid fingerprint"),
        queued_request: None,
    }
}

fn bill_() -> IssuedBill {
    IssuedBill {
        number: "SETP990000123".into(),
        prefix: "SETP".into(),
        cufe: "cufe123".into(),
        qr_url: "https://qr".into(),
        status: "1".into(),
        message: Some("Documento con el código de referencia R2 registrado y validado con éxito".into()),
    }
}

/// This user's entry for R2 under KEY with BODY, updated just now.
fn entry(status: EntryStatus) -> LedgerEntry {
    let now = clock::now();
    LedgerEntry {
        id: ENTRY,
        kind: DocumentKind::Invoice,
        user_id: USER,
        username: Username::parse("ana").expect("valid username"),
        api_key_id: None,
        reference_code: ReferenceCode::parse("R2").expect("valid reference"),
        idempotency_key: Some(IdempotencyKey::parse(KEY).expect("valid key")),
        fingerprint: RequestFingerprint::parse(BODY).expect("valid fingerprint"),
        total: None,
        referenced_number: None,
        queued_request: None,
        counterparty: None,
        status,
        attempts: 1,
        created_at: now,
        updated_at: now,
    }
}

fn issued_entry() -> LedgerEntry {
    entry(EntryStatus::Issued { bill: bill_(), issued_at: clock::now() })
}

/// Not updated for five minutes, well beyond the policy's minute.
fn stale(entry: LedgerEntry) -> LedgerEntry {
    let long_ago = clock::now() - Duration::from_secs(5 * 60);
    LedgerEntry { updated_at: long_ago, created_at: long_ago, ..entry }
}

/// Another user's (or another body's) entry for the same reference.
fn foreign(entry: LedgerEntry) -> LedgerEntry {
    LedgerEntry { id: OTHER_ENTRY, user_id: OTHER_USER, idempotency_key: None, ..entry }
}

fn rejected(status: u16, message: &str) -> FactusError {
    FactusError::Rejected { status, message: message.to_owned() }
}

// --- a first request ---

#[tokio::test]
async fn a_new_invoice_is_claimed_sent_once_and_recorded_as_issued() {
    let mut mocks = Mocks::new();
    mocks.claims_afresh();
    mocks.issues_the_bill();

    let outcome = mocks.issue_for_a_bill(request(Some(KEY), BODY), "issued").await;

    assert_eq!(outcome.bill, bill_());
    assert!(!outcome.replayed);
}

#[tokio::test]
async fn a_claim_records_the_user_reference_key_fingerprint_and_customer_of_the_request() {
    let mut mocks = Mocks::new();
    mocks.nothing_recorded();
    mocks
        .ledger
        .expect_claim()
        .withf(|new| {
            new.user_id == USER
                && new.username.as_str() == "ana"
                && new.reference_code.as_str() == "R2"
                && new.idempotency_key.as_ref().map(IdempotencyKey::as_str) == Some(KEY)
                && new.fingerprint.as_str() == BODY
                && new.id.get_version_num() == 7
                && new.counterparty.as_ref().map(|party| party.identification.as_str())
                    == Some(invoice().customer().identification())
        })
        .times(1)
        .returning(|new| Ok(LedgerEntry { id: new.id, ..entry(EntryStatus::Pending) }));
    mocks.issues_the_bill();

    let outcome = mocks.issue_for_a_bill(request(Some(KEY), BODY), "issued").await;

    assert_eq!(outcome.entry_id.get_version_num(), 7);
}

#[tokio::test]
async fn without_a_key_only_the_reference_is_consulted() {
    let mut mocks = Mocks::new();
    mocks.ledger.expect_find_active_by_reference().times(1).returning(|_| Ok(None));
    mocks.claims();
    mocks.issues_the_bill();

    let outcome = mocks.issue_for_a_bill(request(None, BODY), "issued").await;

    assert!(!outcome.replayed);
}

#[tokio::test]
async fn a_factus_refusal_is_recorded_as_rejected_and_returned() {
    let mut mocks = Mocks::new();
    mocks.claims_afresh();
    mocks.sends(Err(rejected(422, "customer.names: El campo nombres es obligatorio.")));
    mocks.marks_rejected(Rejection::Factus {
        status: 422,
        message: "customer.names: El campo nombres es obligatorio.".into(),
    });

    let error = mocks.issuance().issue(request(Some(KEY), BODY)).await.unwrap_err();

    assert!(
        matches!(&error, IssueError::Factus(FactusError::Rejected { status: 422, message }) if message.starts_with("customer.names")),
        "{error:?}"
    );
}

/// An unknown entry that Factus had no bill for, resent under the same entry (attempt 2).
fn resent_after_an_unknown_outcome(mocks: &mut Mocks, lookups: Vec<Result<Option<IssuedBill>, FactusError>>) {
    mocks.keyed(entry(EntryStatus::Unknown));
    let mut lookups = lookups.into_iter();
    let count = lookups.len();
    mocks
        .bills
        .expect_find_bill_by_reference()
        .times(count)
        .returning(move |_, _, _| lookups.next().expect("one answer per lookup"));
    mocks.reopens();
}

#[tokio::test]
async fn factus_rate_limiting_a_first_send_releases_the_claim_instead_of_recording_a_refusal() {
    let mut mocks = Mocks::new();
    mocks.claims_afresh();
    mocks.sends(Err(rejected(429, "Too Many Requests")));
    mocks.ledger.expect_mark_rejected().never();
    mocks.ledger.expect_abandon().times(1).returning(|_| Ok(true));

    let error = mocks.issuance().issue(request(Some(KEY), BODY)).await.unwrap_err();

    assert!(matches!(error, IssueError::Factus(FactusError::Rejected { status: 429, .. })), "{error:?}");
}

#[tokio::test]
async fn a_resend_that_never_reached_factus_leaves_the_entry_unknown_instead_of_deleting_it() {
    let mut mocks = Mocks::new();
    resent_after_an_unknown_outcome(&mut mocks, vec![Ok(None)]);
    mocks.sends(Err(FactusError::CircuitOpen));
    mocks.ledger.expect_abandon().never();
    mocks.marks_unknown();

    let error = mocks.issuance().issue(request(Some(KEY), BODY)).await.unwrap_err();

    assert!(matches!(error, IssueError::Factus(FactusError::CircuitOpen)), "{error:?}");
}

#[tokio::test]
async fn a_conflict_on_a_resend_whose_bill_exists_records_that_bill_instead_of_failing() {
    let mut mocks = Mocks::new();
    // The bill appeared between the lookup before the resend and the resend itself.
    resent_after_an_unknown_outcome(&mut mocks, vec![Ok(None), Ok(Some(bill_()))]);
    mocks.sends(Err(rejected(409, "reference_code ya existe")));
    mocks.marks_issued();

    let outcome = mocks.issue_for_a_bill(request(Some(KEY), BODY), "the existing bill").await;

    assert_eq!(outcome.bill, bill_());
    assert!(outcome.replayed, "this request did not create the bill");
}

#[tokio::test]
async fn a_conflict_on_a_first_send_is_a_rejection_without_adopting_the_other_document() {
    let mut mocks = Mocks::new();
    mocks.claims_afresh();
    mocks.sends(Err(rejected(409, "El documento ya existe")));
    mocks.bills.expect_find_bill_by_reference().never();
    mocks.marks_rejected(Rejection::Factus { status: 409, message: "El documento ya existe".into() });

    let error = mocks.issuance().issue(request(Some(KEY), BODY)).await.unwrap_err();

    assert!(matches!(error, IssueError::Factus(FactusError::Rejected { status: 409, .. })), "{error:?}");
}

#[tokio::test]
async fn a_first_send_blocked_by_a_foreign_stuck_document_names_it_and_deletes_nothing() {
    let mut mocks = Mocks::new();
    mocks.claims_afresh();
    mocks.sends(Err(rejected(409, "Se encontró una factura pendiente por enviar a la DIAN")));
    mocks.ledger.expect_stuck_rejections().returning(|_, _| Ok(Vec::new()));
    mocks
        .bills
        .expect_pending_reference()
        .times(1)
        .returning(|_, kind| Ok((kind == DocumentKind::Invoice).then(|| "OTHER-1".to_owned())));
    mocks.bills.expect_delete_by_reference().never();
    mocks.marks_rejected(Rejection::Factus {
        status: 409,
        message: "Se encontró una factura pendiente por enviar a la DIAN".into(),
    });

    let error = mocks.issuance().issue(request(Some(KEY), BODY)).await.unwrap_err();

    assert!(
        matches!(&error, IssueError::BlockedByPending { reference: Some(reference), .. } if reference == "OTHER-1"),
        "{error:?}"
    );
}

#[tokio::test]
async fn a_dian_rejection_is_recorded_with_its_rules_after_the_document_is_deleted_at_factus() {
    let mut mocks = Mocks::new();
    mocks.claims_afresh();
    mocks.sends(Err(FactusError::DianRejected { rules: vec!["Regla: FAK24, Rechazo: DV".into()] }));
    mocks.deletes_r2_at_factus();
    mocks.marks_rejected(Rejection::Dian { message: "Regla: FAK24, Rechazo: DV".into(), deleted: true });

    let error = mocks.issuance().issue(request(Some(KEY), BODY)).await.unwrap_err();

    assert!(matches!(error, IssueError::Factus(FactusError::DianRejected { .. })), "{error:?}");
}

#[tokio::test]
async fn a_replayed_dian_rejection_answers_the_same_rules() {
    let mut mocks = Mocks::new();
    mocks.keyed(entry(EntryStatus::Rejected(Rejection::Dian { message: "Regla: FAK24".into(), deleted: true })));
    mocks.bills.expect_validate_bill().never();

    let error = mocks.issuance().issue(request(Some(KEY), BODY)).await.unwrap_err();

    assert!(
        matches!(&error, IssueError::ReplayedRejection { status: 422, message } if message == "Regla: FAK24"),
        "{error:?}"
    );
}

#[tokio::test]
async fn a_conflict_on_a_resend_without_a_bill_is_recorded_as_rejected() {
    let mut mocks = Mocks::new();
    resent_after_an_unknown_outcome(&mut mocks, vec![Ok(None), Ok(None)]);
    mocks.sends(Err(rejected(409, "Conflict")));
    mocks.ledger.expect_mark_rejected().times(1).returning(|_, _, _| Ok(true));

    let error = mocks.issuance().issue(request(Some(KEY), BODY)).await.unwrap_err();

    assert!(matches!(error, IssueError::Factus(FactusError::Rejected { status: 409, .. })), "{error:?}");
}

#[tokio::test]
async fn a_conflict_on_a_resend_whose_lookup_fails_leaves_the_entry_unknown() {
    let mut mocks = Mocks::new();
    resent_after_an_unknown_outcome(&mut mocks, vec![Ok(None), Err(FactusError::Timeout)]);
    mocks.sends(Err(rejected(409, "Conflict")));
    mocks.marks_unknown();

    let error = mocks.issuance().issue(request(Some(KEY), BODY)).await.unwrap_err();

    assert!(matches!(error, IssueError::Factus(FactusError::Rejected { status: 409, .. })), "{error:?}");
}

#[tokio::test]
async fn an_ambiguous_failure_leaves_the_entry_unknown_and_is_not_retried() {
    for failure in [FactusError::Timeout, FactusError::Unavailable { message: "HTTP 502".into(), request_sent: true }] {
        let ambiguous = failure.is_ambiguous();
        let mut mocks = Mocks::new();
        mocks.nothing_recorded();
        mocks.claims();
        mocks.sends(Err(failure));
        mocks.marks_unknown();

        let error = mocks.issuance().issue(request(Some(KEY), BODY)).await.unwrap_err();

        assert!(ambiguous);
        assert!(matches!(&error, IssueError::Factus(factus) if factus.is_ambiguous()), "{error:?}");
    }
}

#[tokio::test]
async fn an_odd_success_body_leaves_the_entry_unknown() {
    let mut mocks = Mocks::new();
    mocks.claims_afresh();
    mocks.sends(Err(FactusError::InvalidResponse { message: "not JSON".into() }));
    mocks.marks_unknown();

    let error = mocks.issuance().issue(request(Some(KEY), BODY)).await.unwrap_err();

    assert!(matches!(error, IssueError::Factus(FactusError::InvalidResponse { .. })), "{error:?}");
}

#[tokio::test]
async fn failures_that_never_reached_factus_release_the_claim() {
    let failures = [
        FactusError::CircuitOpen,
        FactusError::Unavailable { message: "All connection attempts failed".into(), request_sent: false },
        FactusError::MissingCredentials,
    ];
    for failure in failures {
        let mut mocks = Mocks::new();
        mocks.nothing_recorded();
        mocks.claims();
        mocks.sends(Err(failure));
        mocks
            .ledger
            .expect_abandon()
            .withf(|entry| entry.state() == LedgerState::Pending)
            .times(1)
            .returning(|_| Ok(true));

        let error = mocks.issuance().issue(request(Some(KEY), BODY)).await.unwrap_err();

        assert!(matches!(&error, IssueError::Factus(factus) if !factus.is_ambiguous()), "{error:?}");
    }
}

#[tokio::test]
async fn a_gateway_bug_leaves_the_entry_unknown_and_is_unexpected() {
    let mut mocks = Mocks::new();
    mocks.claims_afresh();
    mocks.sends(Err(FactusError::Unexpected(anyhow::anyhow!("client could not be built"))));
    mocks.marks_unknown();

    let error = mocks.issuance().issue(request(Some(KEY), BODY)).await.unwrap_err();

    assert!(matches!(error, IssueError::Unexpected(_)), "{error:?}");
}

#[tokio::test]
async fn a_bill_factus_issued_is_returned_even_when_the_ledger_cannot_record_it() {
    let mut mocks = Mocks::new();
    mocks.claims_afresh();
    mocks.sends(Ok(bill_()));
    mocks
        .ledger
        .expect_mark_issued()
        .times(1)
        .returning(|_, _, _| Err(StoreError(anyhow::anyhow!("database is gone"))));

    let outcome = mocks.issue_for_a_bill(request(Some(KEY), BODY), "the bill").await;

    assert_eq!(outcome.bill, bill_());
}

#[tokio::test]
async fn a_store_failure_before_sending_is_unexpected_and_nothing_is_sent() {
    let mut mocks = Mocks::new();
    mocks.ledger.expect_find_by_key().returning(|_, _| Err(StoreError(anyhow::anyhow!("database is gone"))));

    let error = mocks.issuance().issue(request(Some(KEY), BODY)).await.unwrap_err();

    assert!(matches!(error, IssueError::Unexpected(_)), "{error:?}");
}

#[tokio::test]
async fn a_claim_that_fails_for_another_reason_is_unexpected() {
    let mut mocks = Mocks::new();
    mocks.nothing_recorded();
    mocks.ledger.expect_claim().returning(|_| Err(ClaimError::Unexpected(StoreError(anyhow::anyhow!("disk full")))));

    let error = mocks.issuance().issue(request(Some(KEY), BODY)).await.unwrap_err();

    assert!(matches!(error, IssueError::Unexpected(_)), "{error:?}");
}

// --- a retry with the same Idempotency-Key ---

#[tokio::test]
async fn a_key_reused_with_another_body_is_refused_without_calling_factus() {
    let mut mocks = Mocks::new();
    mocks.keyed(issued_entry());

    let error = mocks.issuance().issue(request(Some(KEY), OTHER_BODY)).await.unwrap_err();

    assert!(matches!(error, IssueError::KeyReusedWithDifferentBody), "{error:?}");
}

#[tokio::test]
async fn a_key_of_an_issued_entry_replays_the_stored_bill() {
    let mut mocks = Mocks::new();
    mocks.keyed(issued_entry());

    let outcome = mocks.issue_for_a_bill(request(Some(KEY), BODY), "replayed").await;

    assert_eq!(outcome, IssueOutcome { bill: bill_(), replayed: true, entry_id: ENTRY });
}

#[tokio::test]
async fn a_key_of_an_entry_factus_refused_replays_the_refusal() {
    let mut mocks = Mocks::new();
    mocks.keyed(entry(EntryStatus::Rejected(Rejection::Factus { status: 422, message: "nombres".into() })));

    let error = mocks.issuance().issue(request(Some(KEY), BODY)).await.unwrap_err();

    assert!(
        matches!(&error, IssueError::ReplayedRejection { status: 422, message } if message == "nombres"),
        "{error:?}"
    );
}

#[tokio::test]
async fn a_key_whose_first_request_is_still_running_is_in_progress() {
    let mut mocks = Mocks::new();
    mocks.keyed(entry(EntryStatus::Pending));

    let error = mocks.issuance().issue(request(Some(KEY), BODY)).await.unwrap_err();

    assert!(matches!(error, IssueError::InProgress { .. }), "{error:?}");
}

#[tokio::test]
async fn a_key_of_a_stale_pending_entry_is_looked_up_before_anything_is_sent() {
    let mut mocks = Mocks::new();
    mocks.keyed(stale(entry(EntryStatus::Pending)));
    mocks.looks_up(Ok(Some(bill_())));
    mocks.marks_issued();

    let outcome = mocks.issue_for_a_bill(request(Some(KEY), BODY), "the bill Factus holds").await;

    assert_eq!(outcome, IssueOutcome { bill: bill_(), replayed: true, entry_id: ENTRY });
}

#[tokio::test]
async fn a_key_of_an_unknown_entry_whose_bill_exists_returns_it_without_resending() {
    let mut mocks = Mocks::new();
    mocks.keyed(entry(EntryStatus::Unknown));
    mocks.looks_up(Ok(Some(bill_())));
    mocks.marks_issued();

    let outcome = mocks.issue_for_a_bill(request(Some(KEY), BODY), "the bill Factus holds").await;

    assert!(outcome.replayed);
    assert_eq!(outcome.bill, bill_());
}

#[tokio::test]
async fn a_key_of_an_unknown_entry_without_a_bill_is_resent_once_under_the_same_entry() {
    let mut mocks = Mocks::new();
    mocks.keyed(entry(EntryStatus::Unknown));
    mocks.looks_up(Ok(None));
    mocks
        .ledger
        .expect_reopen()
        .withf(|entry, _| entry.id == ENTRY && entry.state() == LedgerState::Unknown && entry.attempts == 1)
        .times(1)
        .returning(|entry, _| Ok(Some(LedgerEntry { status: EntryStatus::Pending, attempts: 2, ..entry.clone() })));
    mocks.sends(Ok(bill_()));
    mocks
        .ledger
        .expect_mark_issued()
        .withf(|entry, _, _| entry.id == ENTRY && entry.attempts == 2)
        .times(1)
        .returning(|_, _, _| Ok(true));

    let outcome = mocks.issue_for_a_bill(request(Some(KEY), BODY), "issued by the resend").await;

    assert_eq!(outcome, IssueOutcome { bill: bill_(), replayed: false, entry_id: ENTRY });
}

#[tokio::test]
async fn an_unknown_entry_whose_lookup_fails_is_not_resent() {
    let mut mocks = Mocks::new();
    mocks.keyed(entry(EntryStatus::Unknown));
    mocks.looks_up(Err(FactusError::CircuitOpen));

    let error = mocks.issuance().issue(request(Some(KEY), BODY)).await.unwrap_err();

    assert!(matches!(error, IssueError::Factus(FactusError::CircuitOpen)), "{error:?}");
}

#[tokio::test]
async fn a_key_of_an_attempt_found_not_issued_is_resent_after_reopening() {
    let mut mocks = Mocks::new();
    mocks.keyed(entry(EntryStatus::Rejected(Rejection::NotIssued)));
    mocks.reopens();
    mocks.issues_the_bill();

    let outcome = mocks.issue_for_a_bill(request(Some(KEY), BODY), "issued").await;

    assert!(!outcome.replayed);
}

#[tokio::test]
async fn a_reopen_that_meets_another_active_entry_answers_as_that_entry_does() {
    let mut mocks = Mocks::new();
    mocks.keyed(entry(EntryStatus::Rejected(Rejection::NotIssued)));
    mocks
        .ledger
        .expect_reopen()
        .times(1)
        .returning(|_, _| Err(ClaimError::ReferenceActive(Box::new(foreign(entry(EntryStatus::Pending))))));

    let error = mocks.issuance().issue(request(Some(KEY), BODY)).await.unwrap_err();

    assert!(matches!(error, IssueError::InProgress { .. }), "{error:?}");
}

#[tokio::test]
async fn a_reopen_lost_to_a_concurrent_retry_looks_again_and_finds_it_running() {
    let mut mocks = Mocks::new();
    let mut readings = vec![entry(EntryStatus::Unknown), entry(EntryStatus::Pending)].into_iter();
    mocks.ledger.expect_find_by_key().times(2).returning(move |_, _| Ok(readings.next()));
    mocks.looks_up(Ok(None));
    mocks.ledger.expect_reopen().times(1).returning(|_, _| Ok(None));

    let error = mocks.issuance().issue(request(Some(KEY), BODY)).await.unwrap_err();

    assert!(matches!(error, IssueError::InProgress { .. }), "{error:?}");
}

// --- the same reference_code again, without (or past) a key ---

#[tokio::test]
async fn an_issued_reference_with_the_same_body_replays_the_stored_bill() {
    let mut mocks = Mocks::new();
    mocks.active(issued_entry());

    let outcome = mocks.issue_for_a_bill(request(None, BODY), "replayed").await;

    assert_eq!(outcome, IssueOutcome { bill: bill_(), replayed: true, entry_id: ENTRY });
}

#[tokio::test]
async fn an_issued_reference_with_another_body_is_already_used() {
    let mut mocks = Mocks::new();
    mocks.active(issued_entry());

    let error = mocks.issuance().issue(request(None, OTHER_BODY)).await.unwrap_err();

    assert!(
        matches!(&error, IssueError::ReferenceAlreadyUsed { reference } if reference.as_str() == "R2"),
        "{error:?}"
    );
    assert_eq!(error.to_string(), "reference_code R2 ya fue usado");
}

#[tokio::test]
async fn an_issued_reference_of_another_user_is_already_used_even_with_the_same_body() {
    let mut mocks = Mocks::new();
    mocks.active(foreign(issued_entry()));

    let error = mocks.issuance().issue(request(None, BODY)).await.unwrap_err();

    assert!(matches!(error, IssueError::ReferenceAlreadyUsed { .. }), "{error:?}");
}

#[tokio::test]
async fn a_new_key_for_a_reference_issued_with_the_same_body_replays_it() {
    let mut mocks = Mocks::new();
    mocks.ledger.expect_find_by_key().times(1).returning(|_, _| Ok(None));
    mocks.ledger.expect_find_active_by_reference().times(1).returning(|_| Ok(Some(issued_entry())));

    let outcome = mocks.issue_for_a_bill(request(Some("another-key"), BODY), "replayed").await;

    assert!(outcome.replayed);
}

#[tokio::test]
async fn a_reference_being_issued_is_in_progress() {
    let mut mocks = Mocks::new();
    mocks.active(foreign(entry(EntryStatus::Pending)));

    let error = mocks.issuance().issue(request(None, BODY)).await.unwrap_err();

    assert!(matches!(error, IssueError::InProgress { .. }), "{error:?}");
}

#[tokio::test]
async fn an_unknown_reference_of_another_request_found_at_factus_is_already_used() {
    let mut mocks = Mocks::new();
    mocks.active(foreign(entry(EntryStatus::Unknown)));
    mocks.looks_up(Ok(Some(bill_())));
    mocks
        .ledger
        .expect_mark_issued()
        .withf(|entry, _, _| entry.id == OTHER_ENTRY)
        .times(1)
        .returning(|_, _, _| Ok(true));

    let error = mocks.issuance().issue(request(None, BODY)).await.unwrap_err();

    assert!(matches!(error, IssueError::ReferenceAlreadyUsed { .. }), "{error:?}");
}

#[tokio::test]
async fn an_unknown_reference_of_this_same_request_without_a_bill_is_resent_under_its_entry() {
    let mut mocks = Mocks::new();
    mocks.active(entry(EntryStatus::Unknown));
    mocks.looks_up(Ok(None));
    mocks.reopens();
    mocks.issues_the_bill();

    let outcome = mocks.issue_for_a_bill(request(None, BODY), "issued").await;

    assert_eq!(outcome.entry_id, ENTRY);
}

#[tokio::test]
async fn a_stale_unknown_reference_of_another_request_without_a_bill_is_released_and_claimed() {
    let mut mocks = Mocks::new();
    mocks.ledger.expect_find_by_key().returning(|_, _| Ok(None));
    let mut readings = vec![Some(stale(foreign(entry(EntryStatus::Unknown)))), None].into_iter();
    mocks.ledger.expect_find_active_by_reference().times(2).returning(move |_| Ok(readings.next().flatten()));
    mocks.looks_up(Ok(None));
    mocks
        .ledger
        .expect_mark_rejected()
        .withf(|entry, rejection, _| entry.id == OTHER_ENTRY && *rejection == Rejection::NotIssued)
        .times(1)
        .returning(|_, _, _| Ok(true));
    mocks.claims();
    mocks.issues_the_bill();

    let outcome = mocks.issue_for_a_bill(request(None, OTHER_BODY), "issued").await;

    assert!(!outcome.replayed);
}

#[tokio::test]
async fn a_recent_unknown_reference_of_another_request_without_a_bill_is_left_to_its_owner() {
    let mut mocks = Mocks::new();
    mocks.active(foreign(entry(EntryStatus::Unknown)));
    mocks.looks_up(Ok(None));

    let error = mocks.issuance().issue(request(None, BODY)).await.unwrap_err();

    assert!(matches!(error, IssueError::InProgress { .. }), "{error:?}");
}

// --- races decided by the database ---

#[tokio::test]
async fn losing_the_claim_race_on_the_key_answers_in_progress() {
    let mut mocks = Mocks::new();
    mocks.nothing_recorded();
    mocks
        .ledger
        .expect_claim()
        .times(1)
        .returning(|_| Err(ClaimError::KeyExists(Box::new(entry(EntryStatus::Pending)))));

    let error = mocks.issuance().issue(request(Some(KEY), BODY)).await.unwrap_err();

    assert!(matches!(error, IssueError::InProgress { .. }), "{error:?}");
}

#[tokio::test]
async fn losing_the_claim_race_to_an_issued_twin_replays_it() {
    let mut mocks = Mocks::new();
    mocks.nothing_recorded();
    mocks.ledger.expect_claim().times(1).returning(|_| Err(ClaimError::ReferenceActive(Box::new(issued_entry()))));

    let outcome = mocks.issue_for_a_bill(request(None, BODY), "replayed").await;

    assert!(outcome.replayed);
}

#[tokio::test]
async fn endless_contention_gives_up_as_in_progress_without_sending() {
    let mut mocks = Mocks::new();
    mocks.nothing_recorded();
    // The blocking entry is always settled again by the time it is read: look, claim, repeat.
    mocks
        .ledger
        .expect_claim()
        .times(MAX_STEPS / 3..=MAX_STEPS / 2)
        .returning(|_| Err(ClaimError::ReferenceActive(Box::new(entry(EntryStatus::Rejected(Rejection::NotIssued))))));

    let error = mocks.issuance().issue(request(None, BODY)).await.unwrap_err();

    assert!(matches!(error, IssueError::InProgress { .. }), "{error:?}");
}

// --- background reconciliation ---

fn reconciling(mocks: &mut Mocks, stale_entries: Vec<LedgerEntry>) {
    mocks.status.expect_has_server_session().return_const(true);
    mocks
        .ledger
        .expect_stale_entries()
        .withf(|before, limit| *limit == 100 && *before < clock::now() - Duration::from_secs(59))
        .times(1)
        .return_once(move |_, _| Ok(stale_entries));
}

#[tokio::test]
async fn stale_entries_found_at_factus_are_marked_issued_with_the_server_session() {
    let mut mocks = Mocks::new();
    reconciling(&mut mocks, vec![stale(entry(EntryStatus::Unknown)), stale(foreign(entry(EntryStatus::Pending)))]);
    mocks
        .bills
        .expect_find_bill_by_reference()
        .withf(|access, kind, reference| {
            matches!(access, FactusAccess::ServerSession) && *kind == DocumentKind::Invoice && reference == "R2"
        })
        .times(2)
        .returning(|_, _, _| Ok(Some(bill_())));
    mocks.ledger.expect_mark_issued().times(2).returning(|_, _, _| Ok(true));

    let report = mocks.issuance().reconcile_stale(clock::now()).await.expect("a pass");

    assert_eq!(report, ReconcileReport { issued: 2, ..ReconcileReport::default() });
}

#[tokio::test]
async fn stale_entries_missing_at_factus_are_marked_not_issued() {
    let mut mocks = Mocks::new();
    reconciling(&mut mocks, vec![stale(entry(EntryStatus::Unknown))]);
    mocks.looks_up(Ok(None));
    mocks.marks_rejected(Rejection::NotIssued);

    let report = mocks.issuance().reconcile_stale(clock::now()).await.expect("a pass");

    assert_eq!(report, ReconcileReport { not_issued: 1, ..ReconcileReport::default() });
}

#[tokio::test]
async fn entries_that_changed_while_being_reconciled_are_superseded() {
    let mut mocks = Mocks::new();
    reconciling(&mut mocks, vec![stale(entry(EntryStatus::Unknown))]);
    mocks.looks_up(Ok(None));
    mocks.ledger.expect_mark_rejected().times(1).returning(|_, _, _| Ok(false));

    let report = mocks.issuance().reconcile_stale(clock::now()).await.expect("a pass");

    assert_eq!(report, ReconcileReport { superseded: 1, ..ReconcileReport::default() });
}

#[tokio::test]
async fn failed_lookups_and_updates_are_counted_and_the_pass_goes_on() {
    let mut mocks = Mocks::new();
    reconciling(&mut mocks, vec![stale(entry(EntryStatus::Unknown)), stale(entry(EntryStatus::Unknown))]);
    let mut answers = vec![Err(FactusError::Timeout), Ok(Some(bill_()))].into_iter();
    mocks.bills.expect_find_bill_by_reference().times(2).returning(move |_, _, _| answers.next().expect("2 lookups"));
    mocks.ledger.expect_mark_issued().times(1).returning(|_, _, _| Err(StoreError(anyhow::anyhow!("locked"))));

    let report = mocks.issuance().reconcile_stale(clock::now()).await.expect("a pass");

    assert_eq!(report, ReconcileReport { failed: 2, ..ReconcileReport::default() });
}

#[tokio::test]
async fn an_open_circuit_ends_the_pass_and_counts_the_rest_as_failed() {
    let mut mocks = Mocks::new();
    reconciling(&mut mocks, vec![stale(entry(EntryStatus::Unknown)); 3]);
    mocks.bills.expect_find_bill_by_reference().times(1).returning(|_, _, _| Err(FactusError::CircuitOpen));

    let report = mocks.issuance().reconcile_stale(clock::now()).await.expect("a pass");

    assert_eq!(report, ReconcileReport { failed: 3, ..ReconcileReport::default() });
}

#[tokio::test]
async fn without_a_server_session_stale_entries_are_skipped() {
    let mut mocks = Mocks::new();
    mocks.status.expect_has_server_session().return_const(false);
    mocks.ledger.expect_stale_entries().times(1).returning(|_, _| Ok(vec![stale(entry(EntryStatus::Unknown))]));

    let report = mocks.issuance().reconcile_stale(clock::now()).await.expect("a pass");

    assert_eq!(report, ReconcileReport { skipped: 1, ..ReconcileReport::default() });
}

#[tokio::test]
async fn a_pass_without_stale_entries_asks_factus_nothing() {
    let mut mocks = Mocks::new();
    mocks.ledger.expect_stale_entries().times(1).returning(|_, _| Ok(Vec::new()));

    let report = mocks.issuance().reconcile_stale(clock::now()).await.expect("a pass");

    assert_eq!(report, ReconcileReport::default());
}

#[tokio::test]
async fn keys_are_purged_once_older_than_the_retention() {
    let now = clock::now();
    let mut mocks = Mocks::new();
    mocks.ledger.expect_purge_keys().with(eq(now - Duration::from_secs(24 * 60 * 60))).times(1).returning(|_| Ok(3));

    assert_eq!(mocks.issuance().purge_expired_keys(now).await.expect("purged"), 3);
}

// --- listing ---

#[tokio::test]
async fn users_who_are_not_admins_list_only_their_own_entries() {
    let mut mocks = Mocks::new();
    mocks
        .ledger
        .expect_list()
        .withf(|filter| filter.user_id == Some(USER) && filter.state == Some(LedgerState::Issued))
        .times(1)
        .returning(|_| Ok(LedgerPage { entries: vec![issued_entry()], next_cursor: None }));
    let filter =
        LedgerFilter { state: Some(LedgerState::Issued), user_id: Some(OTHER_USER), ..LedgerFilter::default() };

    let page = mocks.issuance().list(&user(), filter).await.expect("a page");

    assert_eq!(page.entries.len(), 1);
}

#[tokio::test]
async fn admins_list_with_the_filter_as_given() {
    let mut mocks = Mocks::new();
    let filter =
        LedgerFilter { user_id: Some(OTHER_USER), limit: PageSize::new(10).unwrap(), ..LedgerFilter::default() };
    let expected = filter.clone();
    mocks
        .ledger
        .expect_list()
        .withf(move |filter| *filter == expected)
        .times(1)
        .returning(|_| Ok(LedgerPage { entries: Vec::new(), next_cursor: None }));

    let page = mocks.issuance().list(&admin(), filter).await.expect("a page");

    assert!(page.entries.is_empty());
}

#[tokio::test]
async fn counts_come_from_the_store() {
    let mut mocks = Mocks::new();
    mocks
        .ledger
        .expect_count_by_state()
        .returning(|| Ok(LedgerCounts { issued: 4, unknown: 1, ..LedgerCounts::default() }));

    let counts = mocks.issuance().counts().await.expect("counts");

    assert_eq!(counts.get(LedgerState::Issued), 4);
}

// --- notes: the rules only the ledger and the account can tell ---

fn note(kind: NoteKind, concept: i64, price: Decimal) -> Document {
    let item = ItemDraft {
        code_reference: "P".into(),
        name: "N".into(),
        quantity: 1,
        price,
        tax_rate: Decimal::new(19, 0),
        unit_measure_id: 70,
        standard_code_id: 1,
        tribute_id: 1,
        ..ItemDraft::default()
    };
    Document::Note(
        Note::parse(
            kind,
            NoteDraft {
                bill_number: Some("SETP990000123".into()),
                correction_concept_code: concept,
                reference_code: "R2".into(),
                payment_method_code: "10".into(),
                items: vec![item],
                ..NoteDraft::default()
            },
        )
        .expect("a valid note"),
    )
}

fn note_request(document: Document) -> IssueRequest {
    IssueRequest { document, ..request(Some(KEY), BODY) }
}

/// The ledger holds this user's issued invoice SETP990000123 worth 100.00, and credit notes on it
/// worth `credited` (other references).
fn invoice_with_notes(mocks: &mut Mocks, credited: &'static [&'static str]) {
    mocks.ledger.expect_list().returning(move |filter| {
        let entries = match filter.kind {
            Some(DocumentKind::Invoice) => {
                assert_eq!(filter.number.as_deref(), Some("SETP990000123"));
                vec![LedgerEntry {
                    id: OTHER_ENTRY,
                    reference_code: ReferenceCode::parse("FAC-1").expect("a reference"),
                    total: Some(Money::parse("100.00").expect("money")),
                    ..issued_entry()
                }]
            }
            Some(DocumentKind::CreditNote) => {
                assert_eq!(filter.referenced_number.as_deref(), Some("SETP990000123"));
                credited
                    .iter()
                    .enumerate()
                    .map(|(index, total)| LedgerEntry {
                        id: Uuid::from_u128(index as u128 + 100),
                        kind: DocumentKind::CreditNote,
                        reference_code: ReferenceCode::parse(&format!("NC-{index}")).expect("a reference"),
                        total: Some(Money::parse(total).expect("money")),
                        referenced_number: Some("SETP990000123".into()),
                        ..issued_entry()
                    })
                    .collect()
            }
            other => panic!("unexpected listing of {other:?}"),
        };
        Ok(LedgerPage { entries, next_cursor: None })
    });
}

#[track_caller]
fn rule_messages(error: IssueError) -> Vec<String> {
    match error {
        IssueError::Rules(violations) => violations.iter().map(|violation| violation.message().to_owned()).collect(),
        other => panic!("not a rule: {other:?}"),
    }
}

#[tokio::test]
async fn a_credit_note_beyond_what_is_left_of_its_invoice_is_refused_before_anything_is_recorded() {
    let mut mocks = Mocks::new();
    invoice_with_notes(&mut mocks, &["60.00", "10.00"]);
    mocks.ledger.expect_claim().never();
    mocks.bills.expect_validate_bill().never();

    let error =
        mocks.issuance().issue(note_request(note(NoteKind::Credit, 1, Decimal::new(3001, 2)))).await.unwrap_err();

    assert_eq!(
        rule_messages(error),
        [
            "Las notas crédito de la factura SETP990000123 no pueden superar su total: quedan 30.00 por acreditar y la nota suma 30.01"
        ]
    );
}

#[tokio::test]
async fn an_annulment_must_credit_exactly_what_is_left_of_its_invoice() {
    let mut mocks = Mocks::new();
    invoice_with_notes(&mut mocks, &["60.00"]);
    mocks.ledger.expect_claim().never();

    let error = mocks.issuance().issue(note_request(note(NoteKind::Credit, 2, Decimal::new(30, 0)))).await.unwrap_err();

    assert_eq!(
        rule_messages(error),
        [
            "Una anulación (correction_concept_code 2) debe acreditar exactamente el saldo de la factura SETP990000123: 40.00; la nota suma 30.00"
        ]
    );
}

#[tokio::test]
async fn a_credit_note_that_fits_is_claimed_with_its_total_and_invoice_and_checked_again_after_the_claim() {
    let mut mocks = Mocks::new();
    invoice_with_notes(&mut mocks, &["60.00"]);
    mocks.nothing_recorded();
    mocks
        .ledger
        .expect_claim()
        .withf(|new| {
            new.kind == DocumentKind::CreditNote
                && new.total == Some(Money::parse("40.00").expect("money"))
                && new.referenced_number.as_deref() == Some("SETP990000123")
        })
        .times(1)
        .returning(|new| Ok(LedgerEntry { id: new.id, kind: new.kind, ..entry(EntryStatus::Pending) }));
    mocks.issues_the_bill();

    let outcome = mocks.issuance().issue(note_request(note(NoteKind::Credit, 1, Decimal::new(40, 0)))).await;

    assert_eq!(outcome.expect("issued").into_bill().expect("a bill").bill, bill_());
}

#[tokio::test]
async fn a_debit_note_on_a_v1_account_is_refused_before_the_ledger_is_read() {
    let mut mocks = Mocks::new();
    mocks.status.expect_api_version().return_const(crate::factus::FactusApiVersion::V1);
    mocks.ledger.expect_list().never();

    let error = mocks.issuance().issue(note_request(note(NoteKind::Debit, 1, Decimal::new(10, 0)))).await.unwrap_err();

    assert_eq!(rule_messages(error), [DEBIT_NOTES_NEED_V2]);
}

#[tokio::test]
async fn a_note_on_an_invoice_the_ledger_does_not_hold_for_the_user_is_refused() {
    let mut mocks = Mocks::new();
    mocks
        .ledger
        .expect_list()
        .returning(|_| Ok(LedgerPage { entries: vec![foreign(issued_entry())], next_cursor: None }));

    let error = mocks.issuance().issue(note_request(note(NoteKind::Credit, 1, Decimal::new(10, 0)))).await.unwrap_err();

    assert_eq!(rule_messages(error), ["La factura SETP990000123 no está registrada en este servicio"]);
}

mod operator;
mod queue;
