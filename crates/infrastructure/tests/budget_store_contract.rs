//! The contract of the Factus call budget in the database (`SqlBudgetStore`), run against both
//! backends: `sqlite::<behaviour>` and `postgres::<behaviour>`. The Postgres half needs a server
//! (see `factus_infrastructure::testing`); without one it skips loudly, and fails under `CI=true`.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use factus_infrastructure::db::{Database, SqlBudgetStore};
use factus_infrastructure::factus::budget::{
    BudgetPolicy, BudgetStore, CallClass, TakeRequest, Taken, WAITER_LIVENESS, Waiter, WindowCount,
};
use factus_infrastructure::testing::TestDatabase;
use uuid::Uuid;

factus_infrastructure::contract_tests!(
    two_instances_racing_for_the_budget_are_granted_no_more_than_the_limit_per_window,
    a_slot_counts_from_when_factus_answered,
    factus_counting_more_than_we_did_fills_the_window_until_its_reset,
    creates_are_served_in_ticket_order_and_a_gone_waiter_stops_blocking,
    reads_keep_their_reserve_while_creates_wait,
    the_usage_counts_every_instances_slots_and_forgets_calls_older_than_the_window,
);

/// Two stores on one database: what two instances see.
async fn run<Fut: Future<Output = ()>>(
    test_db: TestDatabase,
    behaviour: impl FnOnce(Arc<dyn BudgetStore>, Arc<dyn BudgetStore>) -> Fut,
) {
    let first = Database::connect(test_db.url(), 10).await.expect("connecting to the test database");
    first.migrate().await.expect("migrating the test database");
    let second = Database::connect(test_db.url(), 10).await.expect("connecting again");
    behaviour(Arc::new(SqlBudgetStore::new(first.clone())), Arc::new(SqlBudgetStore::new(second.clone()))).await;
    first.close().await;
    second.close().await;
    test_db.drop_database().await;
}

const ACCOUNT: &str = "user:sandbox@factus.com.co";

fn policy() -> BudgetPolicy {
    BudgetPolicy { limit: 5, window: Duration::from_secs(10), read_reserve: 1 }
}

fn take(class: CallClass, ticket_ms: i64, now_ms: i64) -> TakeRequest {
    take_as(Waiter { id: Uuid::new_v4(), class, ticket_ms }, now_ms)
}

fn take_as(waiter: Waiter, now_ms: i64) -> TakeRequest {
    TakeRequest { account: ACCOUNT.to_owned(), waiter, now_ms, policy: policy() }
}

fn granted(taken: &Taken) -> bool {
    matches!(taken, Taken::Granted { .. })
}

async fn two_instances_racing_for_the_budget_are_granted_no_more_than_the_limit_per_window(
    first: Arc<dyn BudgetStore>,
    second: Arc<dyn BudgetStore>,
) {
    let mut tasks = Vec::new();
    for index in 0..20 {
        let store = if index % 2 == 0 { first.clone() } else { second.clone() };
        tasks.push(tokio::spawn(async move {
            let request = take(CallClass::Create, index, 1_000_000);
            // Every taker is its own oldest ticket holder only once the ones before it gave up:
            // leaving right away lets the next one decide on the window alone.
            let taken = store.take(&request).await.expect("take");
            store.leave(ACCOUNT, request.waiter.id).await.expect("leave");
            taken
        }));
    }
    let mut grants = 0;
    for task in tasks {
        if granted(&task.await.expect("task")) {
            grants += 1;
        }
    }
    assert!((1..=5).contains(&grants), "granted {grants} of a limit of 5");

    // Later, but inside the window: still nothing. Once the first calls leave it: room again.
    let late = Waiter { id: Uuid::new_v4(), class: CallClass::Create, ticket_ms: 0 };
    let taken = first.take(&take_as(late, 1_009_999)).await.expect("take");
    assert_eq!(taken, Taken::Wait { retry_at_ms: 1_010_000 });
    assert!(granted(&second.take(&take_as(late, 1_010_000)).await.expect("take")));
}

async fn a_slot_counts_from_when_factus_answered(first: Arc<dyn BudgetStore>, second: Arc<dyn BudgetStore>) {
    let mut slots = Vec::new();
    for _ in 0..5 {
        match first.take(&take(CallClass::Read, 0, 1_000_000)).await.expect("take") {
            Taken::Granted { slot } => slots.push(slot),
            Taken::Wait { .. } => panic!("the window was empty"),
        }
    }
    // The first call took 3 s to be answered: it leaves the window 3 s later than taken.
    second.settle(ACCOUNT, slots[0], 1_003_000).await.expect("settle");
    second.settle(ACCOUNT, slots[1], 999_000).await.expect("an earlier time is ignored");
    let taken = second.take(&take(CallClass::Read, 0, 1_010_000)).await.expect("take");
    assert!(granted(&taken), "the four calls answered at once left the window");
    let taken = second.take(&take(CallClass::Read, 0, 1_010_001)).await.expect("take");
    assert!(granted(&taken), "{taken:?}");
    let taken = second.take(&take(CallClass::Read, 0, 1_010_002)).await.expect("take");
    assert!(granted(&taken), "{taken:?}");
    let taken = second.take(&take(CallClass::Read, 0, 1_010_003)).await.expect("take");
    assert!(granted(&taken), "{taken:?}");
    let taken = second.take(&take(CallClass::Read, 0, 1_010_004)).await.expect("take");
    assert_eq!(taken, Taken::Wait { retry_at_ms: 1_013_000 }, "the slow call still counts");
}

async fn factus_counting_more_than_we_did_fills_the_window_until_its_reset(
    first: Arc<dyn BudgetStore>,
    second: Arc<dyn BudgetStore>,
) {
    assert!(granted(&first.take(&take(CallClass::Read, 0, 1_000_000)).await.expect("take")));
    // Factus says 4 of 5 are used in its window, which ends at 1,004,000.
    first.correct(ACCOUNT, 4, 1_004_000, 1_000_100, policy()).await.expect("correct");
    assert!(granted(&second.take(&take(CallClass::Read, 0, 1_000_200)).await.expect("take")));
    let full = second.take(&take(CallClass::Read, 0, 1_000_300)).await.expect("take");
    assert_eq!(full, Taken::Wait { retry_at_ms: 1_004_000 });
    // Factus counting fewer than we did changes nothing.
    second.correct(ACCOUNT, 1, 1_004_000, 1_000_400, policy()).await.expect("correct");
    assert!(!granted(&first.take(&take(CallClass::Read, 0, 1_000_500)).await.expect("take")));
    assert!(granted(&first.take(&take(CallClass::Read, 0, 1_004_000)).await.expect("take")));
}

async fn creates_are_served_in_ticket_order_and_a_gone_waiter_stops_blocking(
    first: Arc<dyn BudgetStore>,
    second: Arc<dyn BudgetStore>,
) {
    for _ in 0..5 {
        assert!(granted(&first.take(&take(CallClass::Create, 0, 1_000_000)).await.expect("take")));
    }
    let older = Waiter { id: Uuid::new_v4(), class: CallClass::Create, ticket_ms: 100 };
    let newer = Waiter { id: Uuid::new_v4(), class: CallClass::Create, ticket_ms: 200 };
    assert!(!granted(&second.take(&take_as(newer, 1_000_100)).await.expect("take")));
    assert!(!granted(&first.take(&take_as(older, 1_000_200)).await.expect("take")));
    // Both keep asking while the window is full.
    assert!(!granted(&second.take(&take_as(newer, 1_009_500)).await.expect("take")));
    assert!(!granted(&first.take(&take_as(older, 1_009_600)).await.expect("take")));
    // The window frees a slot: the newer waiter asks first but the older one is served.
    assert!(!granted(&second.take(&take_as(newer, 1_010_000)).await.expect("take")));
    assert!(granted(&first.take(&take_as(older, 1_010_001)).await.expect("take")));
    assert!(granted(&second.take(&take_as(newer, 1_010_002)).await.expect("take")));

    // An older waiter that stopped asking (its instance died) blocks only until it is forgotten.
    for _ in 0..3 {
        assert!(granted(&first.take(&take(CallClass::Create, 0, 1_010_003)).await.expect("take")));
    }
    let gone = Waiter { id: Uuid::new_v4(), class: CallClass::Create, ticket_ms: 50 };
    let next = Waiter { id: Uuid::new_v4(), class: CallClass::Create, ticket_ms: 300 };
    assert!(!granted(&first.take(&take_as(gone, 1_020_000)).await.expect("take")), "full until 1,020,001");
    assert!(!granted(&second.take(&take_as(next, 1_020_010)).await.expect("take")), "the gone one is still live");
    let liveness = i64::try_from(WAITER_LIVENESS.as_millis()).expect("ms");
    assert!(granted(&second.take(&take_as(next, 1_020_000 + liveness)).await.expect("take")));
}

async fn reads_keep_their_reserve_while_creates_wait(first: Arc<dyn BudgetStore>, second: Arc<dyn BudgetStore>) {
    for _ in 0..5 {
        assert!(granted(&first.take(&take(CallClass::Create, 0, 1_000_000)).await.expect("take")));
    }
    let create = Waiter { id: Uuid::new_v4(), class: CallClass::Create, ticket_ms: 1 };
    assert!(!granted(&second.take(&take_as(create, 1_000_100)).await.expect("take")), "full");
    assert!(!granted(&second.take(&take_as(create, 1_009_000)).await.expect("take")), "still full");
    // The window is empty again and a create is waiting: reads get their reserve of one, no more.
    let read = Waiter { id: Uuid::new_v4(), class: CallClass::Read, ticket_ms: 2 };
    assert!(granted(&first.take(&take(CallClass::Read, 3, 1_010_000)).await.expect("take")));
    assert!(!granted(&first.take(&take_as(read, 1_010_001)).await.expect("take")), "the reserve is used");
    assert!(granted(&second.take(&take_as(create, 1_010_002)).await.expect("take")));
    // No create waits any more: the read takes what is free.
    assert!(granted(&first.take(&take_as(read, 1_010_003)).await.expect("take")));
}

async fn the_usage_counts_every_instances_slots_and_forgets_calls_older_than_the_window(
    first: Arc<dyn BudgetStore>,
    second: Arc<dyn BudgetStore>,
) {
    let used = |store: Arc<dyn BudgetStore>, now_ms: i64| async move {
        let WindowCount { used, reads, .. } = store.usage(ACCOUNT, now_ms, policy()).await.expect("usage");
        (used, reads)
    };
    assert_eq!(used(first.clone(), 1_000_000).await, (0, 0), "nothing taken yet");

    let mut slots = Vec::new();
    for _ in 0..2 {
        match first.take(&take(CallClass::Create, 0, 1_000_000)).await.expect("take") {
            Taken::Granted { slot } => slots.push(slot),
            Taken::Wait { .. } => panic!("the window was empty"),
        }
    }
    assert!(granted(&second.take(&take(CallClass::Read, 0, 1_003_000)).await.expect("take")));
    // The first create was answered 2 s after it was taken: it counts from then.
    first.settle(ACCOUNT, slots[0], 1_002_000).await.expect("settle");
    // Factus counts one more call than ours in its window, which ends at 1,006,000.
    second.correct(ACCOUNT, 4, 1_006_000, 1_004_000, policy()).await.expect("correct");

    assert_eq!(used(first.clone(), 1_005_000).await, (4, 1), "both instances' calls and Factus' extra one");
    assert_eq!(used(second.clone(), 1_005_000).await, (4, 1), "every instance sees the same count");
    assert_eq!(used(second.clone(), 1_010_000).await, (2, 1), "the unsettled create and Factus' call left the window");
    assert_eq!(used(first.clone(), 1_012_000).await, (1, 1), "the settled create left it 2 s later");
    assert_eq!(used(first.clone(), 1_013_000).await, (0, 0), "and the read 10 s after it was taken");
    // Counting forgot nothing: an earlier window still holds every call.
    assert_eq!(used(first.clone(), 1_005_000).await, (4, 1));

    let other = first.usage("user:someone-else@factus.com.co", 1_005_000, policy()).await.expect("usage");
    assert_eq!(other.used, 0, "another account's budget is its own");
}
