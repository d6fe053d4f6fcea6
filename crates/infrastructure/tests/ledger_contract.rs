//! The contract of `LedgerStore`, run against both backends.
//!
//! Each behaviour is written once, as an async fn taking the store as the port the issuance use
//! case sees; `contract_tests!` turns it into `sqlite::<behaviour>` and `postgres::<behaviour>`.
//! Every test gets its own freshly migrated database. The Postgres half needs a server (see
//! `factus_infrastructure::testing`); without one it skips loudly, and fails under `CI=true`.

use std::future::Future;
use std::sync::Arc;

use factus_application::document::Counterparty;
use factus_application::factus::IssuedBill;
use factus_application::ledger::{
    ClaimError, DocumentKind, EntryStatus, IdempotencyKey, LedgerCounts, LedgerCursor, LedgerEntry, LedgerFilter,
    LedgerState, LedgerStore, NewLedgerEntry, PageSize, QueueStats, QueuedRequest, Rejection, RequestFingerprint,
};
use factus_domain::invoice::{Money, ReferenceCode};
use factus_domain::user::Username;
use factus_infrastructure::db::Database;
use factus_infrastructure::testing::TestDatabase;
use time::macros::datetime;
use time::{Duration, OffsetDateTime};
use uuid::Uuid;

factus_infrastructure::contract_tests!(
    a_claimed_entry_is_pending_and_found_by_its_key_and_its_reference,
    an_entry_without_a_key_is_found_by_its_reference_only,
    a_second_claim_of_an_active_reference_reports_the_active_entry,
    an_issued_reference_cannot_be_claimed_again,
    after_a_rejection_the_reference_can_be_claimed_again,
    a_key_is_unique_per_user_and_two_users_may_share_one,
    issuing_stores_the_bill_and_the_response_the_client_got,
    a_rejection_by_factus_keeps_its_status_and_message,
    a_dian_rejection_is_stuck_at_factus_until_its_deletion_is_recorded,
    entries_keep_their_document_kind_and_the_listing_filters_by_it,
    a_note_keeps_its_total_and_invoice_and_is_listed_by_the_invoice_it_corrects,
    an_attempt_not_issued_at_factus_is_rejected_without_a_status,
    transitions_refuse_an_entry_that_changed_since_it_was_read,
    transitions_refuse_entries_in_the_wrong_state,
    reopening_an_unknown_entry_counts_another_attempt,
    reopening_an_attempt_not_issued_takes_the_reference_back,
    reopening_an_attempt_not_issued_meets_a_newer_active_entry,
    a_deleted_bill_frees_its_reference_keeps_its_number_and_can_be_reopened,
    abandoning_a_pending_entry_frees_its_reference_and_key,
    concurrent_claims_of_one_reference_let_exactly_one_win,
    concurrent_claims_with_one_key_let_exactly_one_win,
    the_listing_is_newest_first_and_pages_with_the_cursor,
    the_listing_filters_by_state_reference_number_dates_and_user,
    stale_entries_are_pending_or_unknown_and_untouched_since_the_cutoff,
    entries_are_counted_per_state,
    purging_forgets_old_keys_of_settled_entries_only,
    the_schema_refuses_a_second_active_entry_written_past_the_store,
    the_schema_refuses_unknown_states_and_issued_entries_without_a_bill,
    a_queued_entry_keeps_its_request_stays_active_and_is_taken_oldest_first_one_at_a_time,
    a_queued_entry_goes_back_in_line_from_pending_or_unknown_only,
    a_queued_entry_that_went_unknown_or_back_in_line_no_longer_holds_up_the_next,
    a_queued_entry_waits_for_a_create_that_arrived_before_it_and_is_still_pending,
    concurrent_workers_hold_one_queued_entry_at_a_time_and_take_each_once,
    the_schema_refuses_a_queued_entry_without_its_request,
    entries_keep_their_counterparty_and_are_found_by_its_identification_or_a_part_of_its_name,
);

/// What each behaviour gets: the port, and the database for the checks that go around it.
struct Stores {
    ledger: Arc<dyn LedgerStore>,
    database: Database,
}

async fn run<F, Fut>(test_db: TestDatabase, behaviour: F)
where
    F: FnOnce(Stores) -> Fut,
    Fut: Future<Output = ()>,
{
    // Several connections, so that concurrent claims really race on Postgres.
    test_db.run_migrated(10, |database| behaviour(Stores { ledger: database.ledger_store(), database })).await;
}

/// Runs SQL straight on the pool, past the store.
async fn execute(database: &Database, sql: &'static str) -> Result<u64, sqlx::Error> {
    match database {
        Database::Postgres(pool) => sqlx::query(sql).execute(pool).await.map(|done| done.rows_affected()),
        Database::Sqlite(pool) => sqlx::query(sql).execute(pool).await.map(|done| done.rows_affected()),
    }
}

/// Reads one text column of the entry with this reference, past the store.
async fn stored_text(database: &Database, sql: &'static str) -> Option<String> {
    match database {
        Database::Postgres(pool) => sqlx::query_scalar::<_, Option<String>>(sql).fetch_one(pool).await,
        Database::Sqlite(pool) => sqlx::query_scalar::<_, Option<String>>(sql).fetch_one(pool).await,
    }
    .expect("reading a stored column")
}

const ANA: Uuid = Uuid::from_u128(0x0193_c5a4_8d3e_7b21_9f00_0000_0000_00a1);
const BRUNO: Uuid = Uuid::from_u128(0x0193_c5a4_8d3e_7b21_9f00_0000_0000_00b2);
const CREATED: OffsetDateTime = datetime!(2026-11-25 13:59:01.123456 UTC);

fn username_of(user: Uuid) -> Username {
    Username::parse(if user == ANA { "ana" } else { "bruno" }).expect("a valid username")
}

fn new_entry(user: Uuid, reference: &str, key: Option<&str>, created_at: OffsetDateTime) -> NewLedgerEntry {
    NewLedgerEntry {
        id: Uuid::now_v7(),
        kind: DocumentKind::Invoice,
        user_id: user,
        username: username_of(user),
        api_key_id: None,
        reference_code: ReferenceCode::parse(reference).expect("a valid reference"),
        idempotency_key: key.map(|key| IdempotencyKey::parse(key).expect("a valid key")),
        fingerprint: RequestFingerprint::parse("0123456789abcdef").expect("a valid fingerprint"),
        total: None,
        referenced_number: None,
        counterparty: None,
        created_at,
    }
}

fn bill(number: &str) -> IssuedBill {
    IssuedBill {
        number: number.to_owned(),
        prefix: "SETP".into(),
        cufe: format!("cufe-{number}"),
        qr_url: format!("https://qr/{number}"),
        status: "1".into(),
        message: Some("Documento registrado y validado con éxito".into()),
    }
}

fn reference(raw: &str) -> ReferenceCode {
    ReferenceCode::parse(raw).expect("a valid reference")
}

fn key(raw: &str) -> IdempotencyKey {
    IdempotencyKey::parse(raw).expect("a valid key")
}

async fn claim(stores: &Stores, entry: NewLedgerEntry) -> LedgerEntry {
    stores.ledger.claim(&entry).await.expect("claiming an entry")
}

/// An entry claimed at `created_at` and settled `issued` a second later.
async fn issued(stores: &Stores, user: Uuid, raw_reference: &str, number: &str, created_at: OffsetDateTime) {
    let entry = claim(stores, new_entry(user, raw_reference, None, created_at)).await;
    assert!(stores.ledger.mark_issued(&entry, &bill(number), created_at + Duration::seconds(1)).await.unwrap());
}

async fn active(stores: &Stores, raw: &str) -> LedgerEntry {
    stores
        .ledger
        .find_active_by_reference(&reference(raw))
        .await
        .expect("reading the active entry")
        .expect("an active entry")
}

async fn a_claimed_entry_is_pending_and_found_by_its_key_and_its_reference(stores: Stores) {
    let new = new_entry(ANA, "R-1", Some("key-1"), CREATED);

    let claimed = claim(&stores, new.clone()).await;

    let expected = LedgerEntry {
        id: new.id,
        kind: DocumentKind::Invoice,
        user_id: ANA,
        username: username_of(ANA),
        api_key_id: None,
        reference_code: reference("R-1"),
        idempotency_key: Some(key("key-1")),
        fingerprint: new.fingerprint.clone(),
        total: new.total,
        referenced_number: new.referenced_number.clone(),
        queued_request: None,
        counterparty: None,
        status: EntryStatus::Pending,
        attempts: 1,
        created_at: CREATED,
        updated_at: CREATED,
    };
    assert_eq!(claimed, expected);
    assert_eq!(stores.ledger.find_by_key(ANA, &key("key-1")).await.unwrap(), Some(expected.clone()));
    assert_eq!(active(&stores, "R-1").await, expected);
}

async fn an_entry_without_a_key_is_found_by_its_reference_only(stores: Stores) {
    let claimed = claim(&stores, new_entry(ANA, "R-1", None, CREATED)).await;

    assert_eq!(claimed.idempotency_key, None);
    assert_eq!(active(&stores, "R-1").await.id, claimed.id);
    assert_eq!(stores.ledger.find_active_by_reference(&reference("R-2")).await.unwrap(), None);
    assert_eq!(stores.ledger.find_by_key(ANA, &key("R-1")).await.unwrap(), None);
}

async fn a_second_claim_of_an_active_reference_reports_the_active_entry(stores: Stores) {
    let first = claim(&stores, new_entry(ANA, "R-1", Some("key-1"), CREATED)).await;
    let unknown = first.clone();
    assert!(stores.ledger.mark_unknown(&unknown, CREATED + Duration::seconds(1)).await.unwrap());

    let second = stores.ledger.claim(&new_entry(BRUNO, "R-1", Some("key-2"), CREATED)).await;

    match second {
        Err(ClaimError::ReferenceActive(existing)) => {
            assert_eq!(existing.id, first.id);
            assert_eq!(existing.state(), LedgerState::Unknown);
        }
        other => panic!("expected ReferenceActive, got {other:?}"),
    }
}

async fn an_issued_reference_cannot_be_claimed_again(stores: Stores) {
    issued(&stores, ANA, "R-1", "SETP1", CREATED).await;

    let again = stores.ledger.claim(&new_entry(ANA, "R-1", None, CREATED)).await;

    assert!(
        matches!(&again, Err(ClaimError::ReferenceActive(existing)) if existing.state() == LedgerState::Issued),
        "{again:?}"
    );
}

async fn after_a_rejection_the_reference_can_be_claimed_again(stores: Stores) {
    let first = claim(&stores, new_entry(ANA, "R-1", None, CREATED)).await;
    let refusal = Rejection::Factus { status: 422, message: "nombres".into() };
    assert!(stores.ledger.mark_rejected(&first, &refusal, CREATED + Duration::seconds(1)).await.unwrap());

    let second = claim(&stores, new_entry(ANA, "R-1", None, CREATED + Duration::seconds(2))).await;

    assert_ne!(second.id, first.id);
    assert_eq!(active(&stores, "R-1").await.id, second.id);
}

async fn a_key_is_unique_per_user_and_two_users_may_share_one(stores: Stores) {
    let first = claim(&stores, new_entry(ANA, "R-1", Some("shared"), CREATED)).await;

    let same_user = stores.ledger.claim(&new_entry(ANA, "R-2", Some("shared"), CREATED)).await;
    let other_user = stores.ledger.claim(&new_entry(BRUNO, "R-3", Some("shared"), CREATED)).await;

    assert!(matches!(&same_user, Err(ClaimError::KeyExists(existing)) if existing.id == first.id), "{same_user:?}");
    let other_user = other_user.expect("another user may use the same key");
    assert_eq!(
        stores.ledger.find_by_key(BRUNO, &key("shared")).await.unwrap().map(|entry| entry.id),
        Some(other_user.id)
    );
    assert_eq!(stores.ledger.find_by_key(ANA, &key("shared")).await.unwrap().map(|entry| entry.id), Some(first.id));
}

async fn issuing_stores_the_bill_and_the_response_the_client_got(stores: Stores) {
    let entry = claim(&stores, new_entry(ANA, "R-1", Some("key-1"), CREATED)).await;
    let at = CREATED + Duration::seconds(3);

    assert!(stores.ledger.mark_issued(&entry, &bill("SETP990000001"), at).await.unwrap());

    let stored = stores.ledger.find_by_key(ANA, &key("key-1")).await.unwrap().expect("the entry");
    assert_eq!(stored.status, EntryStatus::Issued { bill: bill("SETP990000001"), issued_at: at });
    assert_eq!(stored.updated_at, at);
    assert_eq!(stored.attempts, 1);
    let response = stored_text(&stores.database, "SELECT response FROM invoice_ledger").await;
    assert_eq!(
        response.as_deref(),
        Some(
            r#"{"number":"SETP990000001","prefix":"SETP","cufe":"cufe-SETP990000001","qr_url":"https://qr/SETP990000001","status":"1","message":"Documento registrado y validado con éxito"}"#
        )
    );
    let number = stored_text(&stores.database, "SELECT factus_number FROM invoice_ledger").await;
    assert_eq!(number.as_deref(), Some("SETP990000001"));
}

async fn a_rejection_by_factus_keeps_its_status_and_message(stores: Stores) {
    let entry = claim(&stores, new_entry(ANA, "R-1", Some("key-1"), CREATED)).await;
    let refusal = Rejection::Factus { status: 422, message: "customer.names: El campo nombres es obligatorio.".into() };

    assert!(stores.ledger.mark_rejected(&entry, &refusal, CREATED + Duration::seconds(1)).await.unwrap());

    let stored = stores.ledger.find_by_key(ANA, &key("key-1")).await.unwrap().expect("the entry");
    assert_eq!(stored.status, EntryStatus::Rejected(refusal));
    assert_eq!(stores.ledger.find_active_by_reference(&reference("R-1")).await.unwrap(), None);
}

async fn a_dian_rejection_is_stuck_at_factus_until_its_deletion_is_recorded(stores: Stores) {
    let entry = claim(&stores, new_entry(ANA, "R-1", Some("key-1"), CREATED)).await;
    let other = claim(&stores, new_entry(ANA, "R-2", None, CREATED + Duration::seconds(1))).await;
    let dian =
        Rejection::Dian { message: "Regla: FAK24, Rechazo: No está informado el DV del NIT".into(), deleted: false };
    assert!(stores.ledger.mark_rejected(&entry, &dian, CREATED + Duration::seconds(2)).await.unwrap());
    // An ordinary refusal is not stuck at Factus: Factus stored nothing.
    let refusal = Rejection::Factus { status: 422, message: "nombres".into() };
    assert!(stores.ledger.mark_rejected(&other, &refusal, CREATED + Duration::seconds(2)).await.unwrap());

    let stored = stores.ledger.find_by_key(ANA, &key("key-1")).await.unwrap().expect("the entry");
    assert_eq!(stored.status, EntryStatus::Rejected(dian));
    let stuck = stores.ledger.stuck_rejections(DocumentKind::Invoice, 10).await.unwrap();
    assert_eq!(stuck.iter().map(|entry| entry.id).collect::<Vec<_>>(), [entry.id]);
    assert!(stores.ledger.stuck_rejections(DocumentKind::CreditNote, 10).await.unwrap().is_empty());

    assert!(stores.ledger.mark_deleted_at_factus(&stored).await.unwrap());
    assert!(!stores.ledger.mark_deleted_at_factus(&stored).await.unwrap(), "only once");
    assert!(!stores.ledger.mark_deleted_at_factus(&other).await.unwrap(), "not a DIAN rejection");

    let deleted = stores.ledger.find_by_key(ANA, &key("key-1")).await.unwrap().expect("the entry");
    assert_eq!(
        deleted.status,
        EntryStatus::Rejected(Rejection::Dian {
            message: "Regla: FAK24, Rechazo: No está informado el DV del NIT".into(),
            deleted: true
        })
    );
    assert!(stores.ledger.stuck_rejections(DocumentKind::Invoice, 10).await.unwrap().is_empty());
}

async fn entries_keep_their_document_kind_and_the_listing_filters_by_it(stores: Stores) {
    let invoice = claim(&stores, new_entry(ANA, "R-1", None, CREATED)).await;
    let note = claim(
        &stores,
        NewLedgerEntry {
            kind: DocumentKind::CreditNote,
            ..new_entry(ANA, "NC-1", None, CREATED + Duration::seconds(1))
        },
    )
    .await;
    assert_eq!(invoice.kind, DocumentKind::Invoice);
    assert_eq!(note.kind, DocumentKind::CreditNote);
    assert_eq!(active(&stores, "NC-1").await.kind, DocumentKind::CreditNote);

    let listed = |kind| {
        let ledger = Arc::clone(&stores.ledger);
        async move {
            let page = ledger.list(&LedgerFilter { kind, ..LedgerFilter::default() }).await.expect("a page");
            page.entries.into_iter().map(|entry| entry.reference_code.as_str().to_owned()).collect::<Vec<_>>()
        }
    };
    assert_eq!(listed(Some(DocumentKind::Invoice)).await, ["R-1"]);
    assert_eq!(listed(Some(DocumentKind::CreditNote)).await, ["NC-1"]);
    assert!(listed(Some(DocumentKind::SupportDocument)).await.is_empty());
    assert_eq!(listed(None).await, ["NC-1", "R-1"]);
}

async fn a_note_keeps_its_total_and_invoice_and_is_listed_by_the_invoice_it_corrects(stores: Stores) {
    let invoice =
        claim(&stores, NewLedgerEntry { total: Some(money("10000.00")), ..new_entry(ANA, "R-1", None, CREATED) }).await;
    let note = |reference, total, invoice: &str, seconds| NewLedgerEntry {
        kind: DocumentKind::CreditNote,
        total: Some(money(total)),
        referenced_number: Some(invoice.to_owned()),
        ..new_entry(ANA, reference, None, CREATED + Duration::seconds(seconds))
    };
    let first = claim(&stores, note("NC-1", "6000.00", "SETP1", 1)).await;
    claim(&stores, note("NC-2", "0.01", "SETP1", 2)).await;
    claim(&stores, note("NC-3", "5.50", "SETP2", 3)).await;

    assert_eq!(invoice.total, Some(money("10000.00")));
    assert_eq!(invoice.referenced_number, None);
    assert_eq!(first.total, Some(money("6000.00")), "the scale as written");
    assert_eq!(active(&stores, "NC-1").await.referenced_number.as_deref(), Some("SETP1"));
    let page = stores
        .ledger
        .list(&LedgerFilter { referenced_number: Some("SETP1".into()), ..LedgerFilter::default() })
        .await
        .expect("a page");
    let listed: Vec<(String, Option<Money>)> =
        page.entries.into_iter().map(|entry| (entry.reference_code.as_str().to_owned(), entry.total)).collect();
    assert_eq!(listed, [("NC-2".to_owned(), Some(money("0.01"))), ("NC-1".to_owned(), Some(money("6000.00")))]);
}

fn money(text: &str) -> Money {
    Money::parse(text).expect("an amount")
}

async fn an_attempt_not_issued_at_factus_is_rejected_without_a_status(stores: Stores) {
    let entry = claim(&stores, new_entry(ANA, "R-1", Some("key-1"), CREATED)).await;
    assert!(stores.ledger.mark_unknown(&entry, CREATED + Duration::seconds(1)).await.unwrap());
    let unknown = stores.ledger.find_by_key(ANA, &key("key-1")).await.unwrap().expect("the entry");

    assert!(
        stores.ledger.mark_rejected(&unknown, &Rejection::NotIssued, CREATED + Duration::seconds(2)).await.unwrap()
    );

    let stored = stores.ledger.find_by_key(ANA, &key("key-1")).await.unwrap().expect("the entry");
    assert_eq!(stored.status, EntryStatus::Rejected(Rejection::NotIssued));
    let detail = stored_text(&stores.database, "SELECT error_detail FROM invoice_ledger").await;
    assert_eq!(detail.as_deref(), Some("not issued at Factus"));
}

async fn transitions_refuse_an_entry_that_changed_since_it_was_read(stores: Stores) {
    let pending = claim(&stores, new_entry(ANA, "R-1", None, CREATED)).await;
    assert!(stores.ledger.mark_unknown(&pending, CREATED + Duration::seconds(1)).await.unwrap());
    let unknown = active(&stores, "R-1").await;
    let reopened =
        stores.ledger.reopen(&unknown, CREATED + Duration::seconds(2)).await.expect("reopening").expect("reopened");
    assert!(stores.ledger.mark_unknown(&reopened, CREATED + Duration::seconds(3)).await.unwrap());

    // Decisions taken on the first reading (pending, attempt 1) or the second (unknown,
    // attempt 1) do not apply to the entry now unknown in its second attempt.
    let later = CREATED + Duration::seconds(4);
    assert!(!stores.ledger.mark_issued(&pending, &bill("SETP1"), later).await.unwrap());
    assert!(!stores.ledger.mark_rejected(&unknown, &Rejection::NotIssued, later).await.unwrap());
    assert!(!stores.ledger.mark_issued(&unknown, &bill("SETP1"), later).await.unwrap());
    assert_eq!(stores.ledger.reopen(&unknown, later).await.expect("reopening"), None);
    assert!(!stores.ledger.abandon(&pending).await.unwrap());

    let now = active(&stores, "R-1").await;
    assert_eq!((now.state(), now.attempts), (LedgerState::Unknown, 2));
    assert!(stores.ledger.mark_issued(&now, &bill("SETP1"), later).await.unwrap());
}

async fn transitions_refuse_entries_in_the_wrong_state(stores: Stores) {
    let later = CREATED + Duration::seconds(5);
    issued(&stores, ANA, "R-1", "SETP1", CREATED).await;
    let issued = active(&stores, "R-1").await;
    let refused = claim(&stores, new_entry(ANA, "R-2", Some("key-2"), CREATED)).await;
    let refusal = Rejection::Factus { status: 400, message: "no".into() };
    assert!(stores.ledger.mark_rejected(&refused, &refusal, CREATED + Duration::seconds(1)).await.unwrap());
    let refused = stores.ledger.find_by_key(ANA, &key("key-2")).await.unwrap().expect("the entry");
    let pending = claim(&stores, new_entry(ANA, "R-3", None, CREATED)).await;
    assert!(stores.ledger.mark_unknown(&pending, CREATED + Duration::seconds(1)).await.unwrap());
    let unknown = active(&stores, "R-3").await;

    // An issued entry is final.
    assert!(!stores.ledger.mark_rejected(&issued, &Rejection::NotIssued, later).await.unwrap());
    assert!(!stores.ledger.mark_unknown(&issued, later).await.unwrap());
    assert!(!stores.ledger.mark_issued(&issued, &bill("SETP2"), later).await.unwrap());
    assert_eq!(stores.ledger.reopen(&issued, later).await.expect("reopening"), None);
    assert!(!stores.ledger.abandon(&issued).await.unwrap());
    // So is a refusal by Factus.
    assert!(!stores.ledger.mark_issued(&refused, &bill("SETP3"), later).await.unwrap());
    assert_eq!(stores.ledger.reopen(&refused, later).await.expect("reopening"), None);
    // Only a pending entry becomes unknown or is abandoned.
    assert!(!stores.ledger.mark_unknown(&unknown, later).await.unwrap());
    assert!(!stores.ledger.abandon(&unknown).await.unwrap());

    assert_eq!(active(&stores, "R-1").await, issued);
    assert_eq!(stores.ledger.find_by_key(ANA, &key("key-2")).await.unwrap(), Some(refused));
    assert_eq!(active(&stores, "R-3").await, unknown);
}

async fn reopening_an_unknown_entry_counts_another_attempt(stores: Stores) {
    let pending = claim(&stores, new_entry(ANA, "R-1", Some("key-1"), CREATED)).await;
    assert!(stores.ledger.mark_unknown(&pending, CREATED + Duration::seconds(1)).await.unwrap());
    let unknown = active(&stores, "R-1").await;
    let at = CREATED + Duration::seconds(30);

    let reopened = stores.ledger.reopen(&unknown, at).await.expect("reopening").expect("reopened");

    assert_eq!(reopened.status, EntryStatus::Pending);
    assert_eq!(reopened.attempts, 2);
    assert_eq!(reopened.updated_at, at);
    assert_eq!(reopened.created_at, CREATED);
    assert_eq!(reopened.idempotency_key, Some(key("key-1")));
}

async fn reopening_an_attempt_not_issued_takes_the_reference_back(stores: Stores) {
    let pending = claim(&stores, new_entry(ANA, "R-1", Some("key-1"), CREATED)).await;
    assert!(
        stores.ledger.mark_rejected(&pending, &Rejection::NotIssued, CREATED + Duration::seconds(1)).await.unwrap()
    );
    let not_issued = stores.ledger.find_by_key(ANA, &key("key-1")).await.unwrap().expect("the entry");

    let reopened =
        stores.ledger.reopen(&not_issued, CREATED + Duration::seconds(2)).await.expect("reopening").expect("reopened");

    assert_eq!((reopened.state(), reopened.attempts), (LedgerState::Pending, 2));
    assert_eq!(active(&stores, "R-1").await.id, pending.id);
    assert!(matches!(
        stores.ledger.claim(&new_entry(BRUNO, "R-1", None, CREATED)).await,
        Err(ClaimError::ReferenceActive(_))
    ));
}

async fn reopening_an_attempt_not_issued_meets_a_newer_active_entry(stores: Stores) {
    let first = claim(&stores, new_entry(ANA, "R-1", Some("key-1"), CREATED)).await;
    assert!(stores.ledger.mark_rejected(&first, &Rejection::NotIssued, CREATED + Duration::seconds(1)).await.unwrap());
    let not_issued = stores.ledger.find_by_key(ANA, &key("key-1")).await.unwrap().expect("the entry");
    let newer = claim(&stores, new_entry(BRUNO, "R-1", None, CREATED + Duration::seconds(2))).await;

    let reopened = stores.ledger.reopen(&not_issued, CREATED + Duration::seconds(3)).await;

    assert!(matches!(&reopened, Err(ClaimError::ReferenceActive(existing)) if existing.id == newer.id), "{reopened:?}");
    let untouched = stores.ledger.find_by_key(ANA, &key("key-1")).await.unwrap().expect("the entry");
    assert_eq!(untouched, not_issued);
}

async fn a_deleted_bill_frees_its_reference_keeps_its_number_and_can_be_reopened(stores: Stores) {
    let pending = claim(&stores, new_entry(ANA, "R-1", Some("key-1"), CREATED)).await;
    assert!(stores.ledger.mark_issued(&pending, &bill("SETP1"), CREATED + Duration::seconds(1)).await.unwrap());
    let issued = active(&stores, "R-1").await;
    // Only an issued entry can be deleted, and only as it was read.
    assert!(!stores.ledger.mark_deleted(&pending, CREATED + Duration::seconds(2)).await.unwrap());

    assert!(stores.ledger.mark_deleted(&issued, CREATED + Duration::seconds(2)).await.unwrap());

    let deleted = stores.ledger.find_by_key(ANA, &key("key-1")).await.unwrap().expect("the entry");
    assert_eq!(deleted.status, EntryStatus::Rejected(Rejection::Deleted { number: "SETP1".into() }));
    assert!(
        stores.ledger.find_active_by_reference(&reference("R-1")).await.unwrap().is_none(),
        "the reference is free"
    );
    assert!(!stores.ledger.mark_deleted(&issued, CREATED + Duration::seconds(3)).await.unwrap(), "once");
    let reopened =
        stores.ledger.reopen(&deleted, CREATED + Duration::seconds(3)).await.expect("reopening").expect("reopened");
    assert_eq!((reopened.state(), reopened.attempts), (LedgerState::Pending, 2));
}

async fn abandoning_a_pending_entry_frees_its_reference_and_key(stores: Stores) {
    let pending = claim(&stores, new_entry(ANA, "R-1", Some("key-1"), CREATED)).await;

    assert!(stores.ledger.abandon(&pending).await.unwrap());

    assert_eq!(stores.ledger.find_by_key(ANA, &key("key-1")).await.unwrap(), None);
    assert_eq!(stores.ledger.find_active_by_reference(&reference("R-1")).await.unwrap(), None);
    claim(&stores, new_entry(ANA, "R-1", Some("key-1"), CREATED)).await;
    assert!(!stores.ledger.abandon(&pending).await.unwrap(), "already gone");
}

async fn concurrent_claims_of_one_reference_let_exactly_one_win(stores: Stores) {
    let attempts = (0..50).map(|task| {
        let ledger = Arc::clone(&stores.ledger);
        let user = if task % 2 == 0 { ANA } else { BRUNO };
        tokio::spawn(async move { ledger.claim(&new_entry(user, "R-RACE", None, CREATED)).await })
    });

    let results = futures::future::join_all(attempts).await;

    let mut winners = Vec::new();
    let mut blocked_by = Vec::new();
    for result in results {
        match result.expect("the claim task panicked") {
            Ok(entry) => winners.push(entry.id),
            Err(ClaimError::ReferenceActive(existing)) => blocked_by.push(existing.id),
            Err(other) => panic!("a claim failed unexpectedly: {other:?}"),
        }
    }
    assert_eq!(winners.len(), 1, "exactly one claim wins");
    assert_eq!(blocked_by.len(), 49);
    assert!(blocked_by.iter().all(|id| *id == winners[0]), "every loser sees the winner");
    assert_eq!(stores.ledger.count_by_state().await.unwrap(), LedgerCounts { pending: 1, ..LedgerCounts::default() });
}

async fn concurrent_claims_with_one_key_let_exactly_one_win(stores: Stores) {
    let attempts = (0..20).map(|task| {
        let ledger = Arc::clone(&stores.ledger);
        let raw_reference = format!("R-{task}");
        tokio::spawn(async move { ledger.claim(&new_entry(ANA, &raw_reference, Some("one-key"), CREATED)).await })
    });

    let results = futures::future::join_all(attempts).await;

    let mut winners = 0;
    for result in results {
        match result.expect("the claim task panicked") {
            Ok(_) => winners += 1,
            Err(ClaimError::KeyExists(existing)) => assert_eq!(existing.idempotency_key, Some(key("one-key"))),
            Err(other) => panic!("a claim failed unexpectedly: {other:?}"),
        }
    }
    assert_eq!(winners, 1);
}

fn page_of(limit: u32, after: Option<LedgerCursor>) -> LedgerFilter {
    LedgerFilter { limit: PageSize::new(limit).expect("a page size"), after, ..LedgerFilter::default() }
}

async fn the_listing_is_newest_first_and_pages_with_the_cursor(stores: Stores) {
    let mut claimed = Vec::new();
    for minute in 0..5 {
        let created_at = CREATED + Duration::minutes(minute);
        claimed.push(claim(&stores, new_entry(ANA, &format!("R-{minute}"), None, created_at)).await.id);
    }
    // Two entries created at the same instant are ordered by id, newest (highest) first.
    let twin_a = claim(&stores, new_entry(BRUNO, "R-TWIN-A", None, CREATED + Duration::minutes(2))).await.id;
    let twin_b = claim(&stores, new_entry(BRUNO, "R-TWIN-B", None, CREATED + Duration::minutes(2))).await.id;
    let mut expected = vec![claimed[4], claimed[3]];
    let mut same_minute = vec![claimed[2], twin_a, twin_b];
    same_minute.sort_unstable_by(|a, b| b.cmp(a));
    expected.extend(same_minute);
    expected.extend([claimed[1], claimed[0]]);

    let mut seen = Vec::new();
    let mut after = None;
    let mut pages = 0;
    loop {
        let page = stores.ledger.list(&page_of(3, after)).await.expect("a page");
        pages += 1;
        assert!(page.entries.len() <= 3);
        seen.extend(page.entries.iter().map(|entry| entry.id));
        match page.next_cursor {
            Some(cursor) => after = Some(cursor),
            None => break,
        }
    }

    assert_eq!(seen, expected);
    assert_eq!(pages, 3);
}

async fn the_listing_filters_by_state_reference_number_dates_and_user(stores: Stores) {
    issued(&stores, ANA, "R-1", "SETP1", CREATED).await;
    issued(&stores, BRUNO, "R-2", "SETP2", CREATED + Duration::hours(1)).await;
    let refused = claim(&stores, new_entry(ANA, "R-1B", None, CREATED + Duration::hours(2))).await;
    let refusal = Rejection::Factus { status: 422, message: "no".into() };
    assert!(stores.ledger.mark_rejected(&refused, &refusal, CREATED + Duration::hours(3)).await.unwrap());
    claim(&stores, new_entry(BRUNO, "R-3", None, CREATED + Duration::hours(4))).await;

    let references = |filter: LedgerFilter| {
        let ledger = Arc::clone(&stores.ledger);
        async move {
            let page = ledger.list(&filter).await.expect("a page");
            page.entries.into_iter().map(|entry| entry.reference_code.as_str().to_owned()).collect::<Vec<_>>()
        }
    };
    let all = LedgerFilter::default();

    assert_eq!(references(all.clone()).await, ["R-3", "R-1B", "R-2", "R-1"]);
    assert_eq!(references(LedgerFilter { state: Some(LedgerState::Issued), ..all.clone() }).await, ["R-2", "R-1"]);
    assert_eq!(references(LedgerFilter { state: Some(LedgerState::Pending), ..all.clone() }).await, ["R-3"]);
    assert_eq!(references(LedgerFilter { reference_code: Some(reference("R-1")), ..all.clone() }).await, ["R-1"]);
    assert_eq!(references(LedgerFilter { number: Some("SETP2".into()), ..all.clone() }).await, ["R-2"]);
    assert_eq!(
        references(LedgerFilter {
            created_from: Some(CREATED + Duration::hours(1)),
            created_before: Some(CREATED + Duration::hours(4)),
            ..all.clone()
        })
        .await,
        ["R-1B", "R-2"]
    );
    assert_eq!(references(LedgerFilter { user_id: Some(ANA), ..all.clone() }).await, ["R-1B", "R-1"]);
    assert_eq!(
        references(LedgerFilter {
            username: Some(username_of(BRUNO)),
            state: Some(LedgerState::Issued),
            ..all.clone()
        })
        .await,
        ["R-2"]
    );
    assert!(references(LedgerFilter { number: Some("SETP404".into()), ..all }).await.is_empty());
}

async fn stale_entries_are_pending_or_unknown_and_untouched_since_the_cutoff(stores: Stores) {
    let old_pending = claim(&stores, new_entry(ANA, "R-1", None, CREATED)).await;
    let old_unknown = claim(&stores, new_entry(ANA, "R-2", None, CREATED)).await;
    assert!(stores.ledger.mark_unknown(&old_unknown, CREATED + Duration::seconds(10)).await.unwrap());
    issued(&stores, ANA, "R-3", "SETP3", CREATED).await;
    let old_refused = claim(&stores, new_entry(ANA, "R-4", None, CREATED)).await;
    assert!(
        stores.ledger.mark_rejected(&old_refused, &Rejection::NotIssued, CREATED + Duration::seconds(1)).await.unwrap()
    );
    let fresh = claim(&stores, new_entry(ANA, "R-5", None, CREATED + Duration::minutes(10))).await;
    let cutoff = CREATED + Duration::minutes(5);

    let stale = stores.ledger.stale_entries(cutoff, 10).await.expect("stale entries");
    let only_one = stores.ledger.stale_entries(cutoff, 1).await.expect("stale entries");

    let ids: Vec<Uuid> = stale.iter().map(|entry| entry.id).collect();
    assert_eq!(ids, [old_pending.id, old_unknown.id], "oldest update first");
    assert!(!ids.contains(&fresh.id));
    assert_eq!(only_one.len(), 1);
    assert_eq!(only_one[0].id, old_pending.id);
}

async fn entries_are_counted_per_state(stores: Stores) {
    assert_eq!(stores.ledger.count_by_state().await.unwrap(), LedgerCounts::default());
    issued(&stores, ANA, "R-1", "SETP1", CREATED).await;
    issued(&stores, ANA, "R-2", "SETP2", CREATED).await;
    claim(&stores, new_entry(ANA, "R-3", None, CREATED)).await;
    let unknown = claim(&stores, new_entry(ANA, "R-4", None, CREATED)).await;
    assert!(stores.ledger.mark_unknown(&unknown, CREATED + Duration::seconds(1)).await.unwrap());
    let refused = claim(&stores, new_entry(ANA, "R-5", None, CREATED)).await;
    assert!(
        stores.ledger.mark_rejected(&refused, &Rejection::NotIssued, CREATED + Duration::seconds(1)).await.unwrap()
    );

    let counts = stores.ledger.count_by_state().await.unwrap();

    assert_eq!(counts, LedgerCounts { queued: 0, pending: 1, issued: 2, rejected: 1, unknown: 1 });
}

async fn purging_forgets_old_keys_of_settled_entries_only(stores: Stores) {
    let old_issued = claim(&stores, new_entry(ANA, "R-1", Some("old-issued"), CREATED)).await;
    assert!(stores.ledger.mark_issued(&old_issued, &bill("SETP1"), CREATED + Duration::seconds(1)).await.unwrap());
    let old_refused = claim(&stores, new_entry(ANA, "R-2", Some("old-refused"), CREATED)).await;
    let refusal = Rejection::Factus { status: 422, message: "no".into() };
    assert!(stores.ledger.mark_rejected(&old_refused, &refusal, CREATED + Duration::seconds(1)).await.unwrap());
    claim(&stores, new_entry(ANA, "R-3", Some("old-pending"), CREATED)).await;
    let recent = claim(&stores, new_entry(ANA, "R-4", Some("recent"), CREATED + Duration::hours(30))).await;
    assert!(stores.ledger.mark_issued(&recent, &bill("SETP4"), CREATED + Duration::hours(30)).await.unwrap());

    let purged = stores.ledger.purge_keys(CREATED + Duration::hours(24)).await.expect("purging");

    assert_eq!(purged, 2);
    assert_eq!(stores.ledger.find_by_key(ANA, &key("old-issued")).await.unwrap(), None);
    assert_eq!(stores.ledger.find_by_key(ANA, &key("old-refused")).await.unwrap(), None);
    assert!(stores.ledger.find_by_key(ANA, &key("old-pending")).await.unwrap().is_some(), "still unsettled");
    assert!(stores.ledger.find_by_key(ANA, &key("recent")).await.unwrap().is_some(), "within the retention");
    let kept = active(&stores, "R-1").await;
    assert_eq!(kept.idempotency_key, None);
    assert!(matches!(kept.status, EntryStatus::Issued { .. }), "the entry itself is kept");
    // The freed key can be used for a new request.
    claim(&stores, new_entry(ANA, "R-5", Some("old-issued"), CREATED + Duration::hours(25))).await;
}

async fn the_schema_refuses_a_second_active_entry_written_past_the_store(stores: Stores) {
    let insert_unknown = "INSERT INTO invoice_ledger (id, user_id, username, reference_code, request_fingerprint, state)
         VALUES ('0193c5a4-8d3e-7b21-9f00-0000000000f1', '0193c5a4-8d3e-7b21-9f00-0000000000a1', 'ana', 'R-RAW', 'ab', 'unknown')";
    let insert_pending = "INSERT INTO invoice_ledger (id, user_id, username, reference_code, request_fingerprint, state)
         VALUES ('0193c5a4-8d3e-7b21-9f00-0000000000f2', '0193c5a4-8d3e-7b21-9f00-0000000000b2', 'bruno', 'R-RAW', 'cd', 'pending')";
    let insert_rejected = "INSERT INTO invoice_ledger
         (id, user_id, username, reference_code, request_fingerprint, state, error_detail)
         VALUES ('0193c5a4-8d3e-7b21-9f00-0000000000f3', '0193c5a4-8d3e-7b21-9f00-0000000000b2', 'bruno', 'R-RAW', 'cd',
                 'rejected', 'not issued at Factus')";

    execute(&stores.database, insert_unknown).await.expect("the first active entry");
    let second = execute(&stores.database, insert_pending).await;
    let settled = execute(&stores.database, insert_rejected).await;

    let error = second.expect_err("a second active entry for the reference");
    assert!(error.as_database_error().is_some_and(|error| error.is_unique_violation()), "{error}");
    assert_eq!(settled.expect("rejected entries do not count"), 1);
}

async fn the_schema_refuses_unknown_states_and_issued_entries_without_a_bill(stores: Stores) {
    let lost = "INSERT INTO invoice_ledger (id, user_id, username, reference_code, request_fingerprint, state)
         VALUES ('0193c5a4-8d3e-7b21-9f00-0000000000f1', '0193c5a4-8d3e-7b21-9f00-0000000000a1', 'ana', 'R-1', 'ab', 'lost')";
    let bare_issued = "INSERT INTO invoice_ledger (id, user_id, username, reference_code, request_fingerprint, state)
         VALUES ('0193c5a4-8d3e-7b21-9f00-0000000000f2', '0193c5a4-8d3e-7b21-9f00-0000000000a1', 'ana', 'R-2', 'ab', 'issued')";
    let bad_key = "INSERT INTO invoice_ledger (id, user_id, username, reference_code, request_fingerprint, idempotency_key)
         VALUES ('0193c5a4-8d3e-7b21-9f00-0000000000f3', '0193c5a4-8d3e-7b21-9f00-0000000000a1', 'ana', 'R-3', 'ab', 'tab	key')";
    let bad_fingerprint = "INSERT INTO invoice_ledger (id, user_id, username, reference_code, request_fingerprint)
         VALUES ('0193c5a4-8d3e-7b21-9f00-0000000000f4', '0193c5a4-8d3e-7b21-9f00-0000000000a1', 'ana', 'R-4', 'XYZ')";

    for (what, sql) in [("state", lost), ("issued", bare_issued), ("key", bad_key), ("fingerprint", bad_fingerprint)] {
        let error = execute(&stores.database, sql).await.expect_err(what);
        assert!(error.as_database_error().is_some_and(|error| error.is_check_violation()), "{what}: {error}");
    }
}

fn kept(raw: &str) -> QueuedRequest {
    QueuedRequest::new(format!("{{\"body\":\"{raw}\"}}"))
}

/// A claimed entry of `raw_reference`, created at `created_at`, queued with its request.
async fn queued(stores: &Stores, raw_reference: &str, created_at: OffsetDateTime) -> LedgerEntry {
    let entry = claim(stores, new_entry(ANA, raw_reference, Some(raw_reference), created_at)).await;
    assert!(stores.ledger.mark_queued(&entry, &kept(raw_reference), created_at).await.unwrap());
    stores.ledger.find(entry.id).await.unwrap().expect("the queued entry")
}

async fn a_queued_entry_keeps_its_request_stays_active_and_is_taken_oldest_first_one_at_a_time(stores: Stores) {
    let later = queued(&stores, "R-LATER", CREATED + Duration::seconds(5)).await;
    let earlier = queued(&stores, "R-EARLIER", CREATED).await;
    assert_eq!(later.status, EntryStatus::Queued);
    assert_eq!(later.queued_request, Some(kept("R-LATER")));
    assert_eq!(
        stores.ledger.queue_stats().await.unwrap(),
        QueueStats { depth: 2, oldest_created_at: Some(CREATED), oldest_id: Some(earlier.id) }
    );
    assert_eq!(stores.ledger.count_by_state().await.unwrap(), LedgerCounts { queued: 2, ..LedgerCounts::default() });
    assert_eq!(stores.ledger.find_by_key(ANA, &key("R-LATER")).await.unwrap().map(|entry| entry.id), Some(later.id));
    match stores.ledger.claim(&new_entry(BRUNO, "R-LATER", None, CREATED)).await {
        Err(ClaimError::ReferenceActive(existing)) => assert_eq!(existing.id, later.id),
        other => panic!("a queued reference is active: {other:?}"),
    }

    let taken_at = CREATED + Duration::seconds(9);
    let first = stores.ledger.take_queued(taken_at).await.unwrap().expect("the oldest queued entry");
    assert_eq!(
        stores.ledger.take_queued(taken_at).await.unwrap(),
        None,
        "one queued create in flight at a time: the next waits until the first has settled"
    );
    assert_eq!(stores.ledger.queue_stats().await.unwrap().depth, 1, "the later one is still queued");
    assert!(stores.ledger.mark_issued(&first, &bill("SETP1"), taken_at).await.unwrap());
    let second = stores.ledger.take_queued(taken_at).await.unwrap().expect("the next one");

    assert_eq!((first.id, second.id), (earlier.id, later.id), "oldest first");
    assert_eq!(first.status, EntryStatus::Pending);
    assert_eq!(first.updated_at, taken_at);
    assert_eq!(first.queued_request, Some(kept("R-EARLIER")), "kept until it settles");
    assert!(stores.ledger.mark_issued(&second, &bill("SETP2"), taken_at).await.unwrap());
    assert_eq!(stores.ledger.take_queued(taken_at).await.unwrap(), None, "the queue is empty");
    assert_eq!(stores.ledger.queue_stats().await.unwrap(), QueueStats::default());
}

async fn a_queued_entry_goes_back_in_line_from_pending_or_unknown_only(stores: Stores) {
    let entry = queued(&stores, "R-1", CREATED).await;
    assert!(!stores.ledger.mark_queued(&entry, &kept("R-1"), CREATED).await.unwrap(), "already queued");
    let taken = stores.ledger.take_queued(CREATED).await.unwrap().expect("the queued entry");
    assert!(stores.ledger.mark_unknown(&taken, CREATED).await.unwrap());
    let unknown = stores.ledger.find(taken.id).await.unwrap().expect("the entry");

    assert!(stores.ledger.mark_queued(&unknown, &kept("R-1"), CREATED).await.unwrap(), "unknown, found at no Factus");
    let again = stores.ledger.take_queued(CREATED).await.unwrap().expect("back in line");
    assert!(stores.ledger.mark_issued(&again, &bill("SETP1"), CREATED).await.unwrap());
    let issued = stores.ledger.find(again.id).await.unwrap().expect("the entry");
    assert!(!stores.ledger.mark_queued(&issued, &kept("R-1"), CREATED).await.unwrap(), "issued is final");
    assert_eq!(stores.ledger.find(Uuid::now_v7()).await.unwrap(), None);
}

async fn a_queued_entry_that_went_unknown_or_back_in_line_no_longer_holds_up_the_next(stores: Stores) {
    let first = queued(&stores, "R-1", CREATED).await;
    let second = queued(&stores, "R-2", CREATED + Duration::seconds(1)).await;
    let taken = stores.ledger.take_queued(CREATED).await.unwrap().expect("the oldest");
    assert_eq!(taken.id, first.id);
    assert!(stores.ledger.mark_unknown(&taken, CREATED).await.unwrap());

    let next = stores.ledger.take_queued(CREATED).await.unwrap().expect("an unknown one is the reconciler's");
    assert_eq!(next.id, second.id);
    assert!(stores.ledger.mark_queued(&next, &kept("R-2"), CREATED).await.unwrap(), "the budget sent it back");
    assert_eq!(stores.ledger.take_queued(CREATED).await.unwrap().map(|entry| entry.id), Some(second.id));
}

async fn a_queued_entry_waits_for_a_create_that_arrived_before_it_and_is_still_pending(stores: Stores) {
    // Its client still waits for a slot, or is sending it; either way Factus must see it first.
    let earlier = claim(&stores, new_entry(ANA, "R-EARLIER", None, CREATED)).await;
    let later_pending = claim(&stores, new_entry(ANA, "R-LATER-PENDING", None, CREATED + Duration::seconds(2))).await;
    let head = queued(&stores, "R-QUEUED", CREATED + Duration::seconds(1)).await;

    assert_eq!(stores.ledger.take_queued(CREATED).await.unwrap(), None, "R-EARLIER arrived first and is in flight");

    assert!(stores.ledger.mark_queued(&earlier, &kept("R-EARLIER"), CREATED).await.unwrap(), "its wait ran out");
    let taken = stores.ledger.take_queued(CREATED).await.unwrap().expect("the earlier one, now the head");
    assert_eq!(taken.id, earlier.id, "a create that arrived later and is pending does not hold the line");
    assert!(stores.ledger.mark_issued(&taken, &bill("SETP1"), CREATED).await.unwrap());
    assert_eq!(stores.ledger.take_queued(CREATED).await.unwrap().map(|entry| entry.id), Some(head.id));
    assert_eq!(later_pending.status, EntryStatus::Pending);
}

async fn concurrent_workers_hold_one_queued_entry_at_a_time_and_take_each_once(stores: Stores) {
    let mut expected = Vec::new();
    for index in 0..20 {
        expected.push(queued(&stores, &format!("R-{index}"), CREATED + Duration::milliseconds(index)).await.id);
    }
    let workers = (0..8).map(|_| {
        let ledger = Arc::clone(&stores.ledger);
        tokio::spawn(async move {
            let mut taken = Vec::new();
            loop {
                let Some(entry) = ledger.take_queued(CREATED).await.expect("taking a queued entry") else {
                    if ledger.queue_stats().await.expect("the queue's length").depth == 0 {
                        break;
                    }
                    tokio::task::yield_now().await;
                    continue;
                };
                // Counted, not asserted here: a worker that panicked would leave its entry held
                // and the others waiting for it forever.
                let held = ledger.count_by_state().await.expect("the ledger's counts").pending;
                taken.push((entry.id, held));
                assert!(ledger.mark_issued(&entry, &bill("SETP1"), CREATED).await.expect("settling the entry"));
            }
            taken
        })
    });

    let taken: Vec<(Uuid, u64)> =
        futures::future::join_all(workers).await.into_iter().flat_map(|worker| worker.expect("a worker")).collect();

    let held_together: Vec<u64> = taken.iter().map(|(_, held)| *held).filter(|held| *held != 1).collect();
    assert!(held_together.is_empty(), "entries held at once when one was taken: {held_together:?}");
    let mut all: Vec<Uuid> = taken.iter().map(|(id, _)| *id).collect();
    all.sort();
    expected.sort();
    assert_eq!(all, expected, "every queued entry taken exactly once");
    assert_eq!(stores.ledger.count_by_state().await.unwrap(), LedgerCounts { issued: 20, ..LedgerCounts::default() });
}

async fn the_schema_refuses_a_queued_entry_without_its_request(stores: Stores) {
    let bare_queued = "INSERT INTO invoice_ledger (id, user_id, username, reference_code, request_fingerprint, state)
         VALUES ('0193c5a4-8d3e-7b21-9f00-0000000000f5', '0193c5a4-8d3e-7b21-9f00-0000000000a1', 'ana', 'R-5', 'ab', 'queued')";

    let error = execute(&stores.database, bare_queued).await.expect_err("a queued entry without its request");

    assert!(error.as_database_error().is_some_and(|error| error.is_check_violation()), "{error}");
}

async fn entries_keep_their_counterparty_and_are_found_by_its_identification_or_a_part_of_its_name(stores: Stores) {
    let party = |identification: &str, name: &str| {
        Some(Counterparty { identification: identification.to_owned(), name: name.to_owned() })
    };
    let acme = NewLedgerEntry {
        counterparty: party("900123456", "ACME 100% Andina S.A.S."),
        ..new_entry(ANA, "R-ACME", None, CREATED)
    };
    let maria = NewLedgerEntry {
        counterparty: party("1012345678", "María Pérez"),
        ..new_entry(ANA, "R-MARIA", None, CREATED)
    };
    let claimed = claim(&stores, acme).await;
    claim(&stores, maria).await;
    claim(&stores, new_entry(ANA, "R-NOBODY", None, CREATED)).await;
    let found = |counterparty: &str| {
        let filter = LedgerFilter { counterparty: Some(counterparty.to_owned()), ..LedgerFilter::default() };
        let ledger = Arc::clone(&stores.ledger);
        async move {
            let mut references: Vec<String> = ledger
                .list(&filter)
                .await
                .expect("listing")
                .entries
                .into_iter()
                .map(|entry| entry.reference_code.as_str().to_owned())
                .collect();
            references.sort();
            references
        }
    };

    assert_eq!(claimed.counterparty, party("900123456", "ACME 100% Andina S.A.S."));
    assert_eq!(found("900123456").await, ["R-ACME"], "the identification, exactly");
    assert_eq!(found("9001234").await, Vec::<String>::new(), "not a part of the identification");
    assert_eq!(found("andina").await, ["R-ACME"], "a part of the name, in any case");
    assert_eq!(found("100%").await, ["R-ACME"]);
    assert_eq!(found("1%").await, Vec::<String>::new(), "a % in the search is a percent sign");
    assert_eq!(found("a_m").await, Vec::<String>::new(), "an _ is an underscore");
    assert_eq!(found("Pérez").await, ["R-MARIA"]);
}
