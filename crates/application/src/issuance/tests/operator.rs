//! What an operator does by hand (the console): look an open entry up now, delete a stuck
//! rejection, find one entry, tally a period.

use super::*;
use crate::issuance::{LookUpOutcome, StuckDeletion};

fn with_server_session(mocks: &mut Mocks, has: bool) {
    mocks.status.expect_has_server_session().return_const(has);
}

fn stuck() -> LedgerEntry {
    entry(EntryStatus::Rejected(Rejection::Dian { message: "Regla: FAK24, Rechazo: DV".into(), deleted: false }))
}

#[tokio::test]
async fn looking_an_unknown_entry_up_now_records_the_bill_factus_holds() {
    let mut mocks = Mocks::new();
    with_server_session(&mut mocks, true);
    mocks.looks_up(Ok(Some(bill_())));
    mocks.marks_issued();

    let outcome = mocks.issuance().look_up_now(&entry(EntryStatus::Unknown)).await.expect("looked up");

    assert_eq!(outcome, LookUpOutcome::Issued);
}

#[tokio::test]
async fn looking_an_unknown_entry_up_now_frees_the_reference_when_factus_has_no_bill() {
    let mut mocks = Mocks::new();
    with_server_session(&mut mocks, true);
    mocks.looks_up(Ok(None));
    mocks.marks_rejected(Rejection::NotIssued);

    let outcome = mocks.issuance().look_up_now(&entry(EntryStatus::Unknown)).await.expect("looked up");

    assert_eq!(outcome, LookUpOutcome::NotIssued);
}

#[tokio::test]
async fn a_settled_entry_is_not_looked_up() {
    let mut mocks = Mocks::new();
    mocks.bills.expect_find_bill_by_reference().never();
    let issuance = mocks.issuance();

    let issued = entry(EntryStatus::Issued { bill: bill_(), issued_at: clock::now() });
    assert_eq!(issuance.look_up_now(&issued).await.expect("nothing to do"), LookUpOutcome::Settled);
    assert_eq!(issuance.look_up_now(&stuck()).await.expect("nothing to do"), LookUpOutcome::Settled);
}

#[tokio::test]
async fn without_a_server_session_nothing_is_looked_up() {
    let mut mocks = Mocks::new();
    with_server_session(&mut mocks, false);
    mocks.bills.expect_find_bill_by_reference().never();

    let error = mocks.issuance().look_up_now(&entry(EntryStatus::Pending)).await.unwrap_err();

    assert!(matches!(error, FactusError::Unexpected(_)), "{error:?}");
}

#[tokio::test]
async fn a_rejection_stuck_at_factus_is_deleted_there_and_recorded() {
    let mut mocks = Mocks::new();
    mocks.deletes_r2_at_factus();
    mocks.ledger.expect_mark_deleted_at_factus().withf(|entry| entry.id == ENTRY).times(1).returning(|_| Ok(true));

    let done = mocks.issuance().delete_stuck_rejection(&FactusAccess::ServerSession, &stuck()).await.expect("deleted");

    assert_eq!(done, StuckDeletion::Deleted);
}

#[tokio::test]
async fn a_stuck_rejection_factus_no_longer_has_counts_as_deleted() {
    let mut mocks = Mocks::new();
    mocks.bills.expect_delete_by_reference().times(1).returning(|_, _, _| Err(rejected(404, "No encontrado")));
    mocks.ledger.expect_mark_deleted_at_factus().times(1).returning(|_| Ok(true));

    let done = mocks.issuance().delete_stuck_rejection(&FactusAccess::ServerSession, &stuck()).await.expect("deleted");

    assert_eq!(done, StuckDeletion::Deleted);
}

#[tokio::test]
async fn a_failed_deletion_is_reported_and_not_recorded() {
    let mut mocks = Mocks::new();
    mocks.bills.expect_delete_by_reference().times(1).returning(|_, _, _| Err(FactusError::CircuitOpen));
    mocks.ledger.expect_mark_deleted_at_factus().never();

    let error = mocks.issuance().delete_stuck_rejection(&FactusAccess::ServerSession, &stuck()).await.unwrap_err();

    assert!(matches!(error, FactusError::CircuitOpen), "{error:?}");
}

#[tokio::test]
async fn only_a_rejection_still_stored_at_factus_is_deleted() {
    let mut mocks = Mocks::new();
    mocks.bills.expect_delete_by_reference().never();
    let issuance = mocks.issuance();
    let deleted = entry(EntryStatus::Rejected(Rejection::Dian { message: "x".into(), deleted: true }));

    for entry in [deleted, entry(EntryStatus::Unknown), entry(EntryStatus::Rejected(Rejection::NotIssued))] {
        let done = issuance.delete_stuck_rejection(&FactusAccess::ServerSession, &entry).await.expect("no call");
        assert_eq!(done, StuckDeletion::NotStuck);
    }
}

fn page_of(entries: Vec<LedgerEntry>, more: bool) -> LedgerPage {
    let next_cursor = more.then(|| entries.last().expect("an entry").cursor());
    LedgerPage { entries, next_cursor }
}

#[tokio::test]
async fn a_tally_counts_every_page_by_kind_and_state_and_a_user_counts_only_their_own() {
    let mut mocks = Mocks::new();
    let since = clock::now() - Duration::from_secs(3600);
    let mut pages = vec![
        page_of(vec![entry(EntryStatus::Unknown), entry(EntryStatus::Pending)], true),
        page_of(
            vec![
                LedgerEntry { kind: DocumentKind::CreditNote, ..entry(EntryStatus::Unknown) },
                entry(EntryStatus::Unknown),
            ],
            false,
        ),
    ]
    .into_iter();
    mocks
        .ledger
        .expect_list()
        .withf(move |filter| filter.user_id == Some(USER) && filter.created_from == Some(since))
        .times(2)
        .returning(move |_| Ok(pages.next().expect("a page")));

    let tally = mocks.issuance().tally_since(&user(), since).await.expect("counted");

    assert_eq!(tally.get(DocumentKind::Invoice, LedgerState::Unknown), 2);
    assert_eq!(tally.get(DocumentKind::Invoice, LedgerState::Pending), 1);
    assert_eq!(tally.get(DocumentKind::CreditNote, LedgerState::Unknown), 1);
    assert_eq!(tally.get(DocumentKind::Invoice, LedgerState::Issued), 0);
    assert_eq!((tally.total(), tally.truncated), (4, false));
}

#[tokio::test]
async fn an_entry_is_found_by_its_reference_and_id_and_nobody_else_finds_it() {
    let mut mocks = Mocks::new();
    mocks
        .ledger
        .expect_list()
        .withf(|filter| filter.reference_code.as_ref().is_some_and(|reference| reference.as_str() == "R2"))
        .returning(|filter| {
            // The ledger filters by user for a user who is not an admin.
            let entries =
                if filter.user_id.is_none_or(|id| id == USER) { vec![entry(EntryStatus::Unknown)] } else { Vec::new() };
            Ok(page_of(entries, false))
        });
    let issuance = mocks.issuance();
    let reference = ReferenceCode::parse("R2").expect("a reference");

    assert_eq!(issuance.find_entry(&user(), &reference, ENTRY).await.expect("read").map(|entry| entry.id), Some(ENTRY));
    assert!(issuance.find_entry(&admin(), &reference, OTHER_ENTRY).await.expect("read").is_none());
    let stranger = User { id: OTHER_USER, ..user() };
    assert!(issuance.find_entry(&stranger, &reference, ENTRY).await.expect("read").is_none());
}
