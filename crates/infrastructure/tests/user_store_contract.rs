//! The contract of `UserStore` and `LoginAttemptStore`, run against both backends.
//!
//! Each behaviour is written once, as an async fn taking the stores as the ports the use cases
//! see; `contract_tests!` turns it into `sqlite::<behaviour>` and `postgres::<behaviour>`. Every
//! test gets its own freshly migrated database. The Postgres half needs a server (see
//! `factus_infrastructure::testing`); without one it skips loudly, and fails under `CI=true`.

use std::future::Future;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::sync::Arc;

use factus_application::ports::{FailureWindow, InsertUserError, LoginAttemptStore, UserStore};
use factus_domain::user::{PasswordHash, Role, User, Username};
use factus_infrastructure::db::Database;
use factus_infrastructure::testing::{TestDatabase, execute_sql};
use time::macros::datetime;
use time::{Duration, OffsetDateTime};
use uuid::Uuid;

factus_infrastructure::contract_tests!(
    an_inserted_user_is_found_with_every_field_intact,
    timestamps_keep_microseconds_and_drop_nanoseconds,
    an_unknown_username_is_not_found,
    duplicate_username_is_reported_as_taken,
    usernames_differing_only_in_case_are_one_user,
    the_schema_refuses_usernames_that_are_not_lower_case,
    inserting_a_second_user_with_the_same_id_is_unexpected,
    users_are_listed_in_byte_order_of_their_usernames,
    update_overwrites_only_the_mutable_fields,
    updating_an_unknown_user_reports_false,
    the_schema_stamps_updated_at_when_another_writer_leaves_it_alone,
    delete_removes_the_user_and_reports_whether_it_existed,
    count_counts_every_user,
    count_enabled_admins_ignores_plain_users_and_disabled_admins,
    ping_answers,
    failures_are_counted_per_username_and_per_address_within_the_window,
    failures_without_an_address_count_only_against_the_username,
    ipv4_mapped_addresses_count_as_the_ipv4_address,
    a_window_without_failures_is_empty,
    clearing_a_username_from_an_address_forgets_only_those_failures,
    prune_deletes_failures_older_than_the_cutoff,
    very_long_attempted_usernames_are_recorded_and_counted,
    concurrent_inserts_of_the_same_username_let_exactly_one_succeed,
    migrations_can_run_again_without_harm,
);

/// What each behaviour gets: the two ports, and the database for the few checks that go
/// around them (schema constraints, migrations).
struct Stores {
    users: Arc<dyn UserStore>,
    attempts: Arc<dyn LoginAttemptStore>,
    database: Database,
}

async fn run<Fut: Future<Output = ()>>(test_db: TestDatabase, behaviour: impl FnOnce(Stores) -> Fut) {
    test_db
        .run_migrated(5, |database| {
            behaviour(Stores { users: database.user_store(), attempts: database.login_attempts(), database })
        })
        .await;
}

const CREATED: OffsetDateTime = datetime!(2026-11-25 13:59:01.123456 UTC);

fn username(raw: &str) -> Username {
    Username::parse(raw).expect("a valid username")
}

fn hash(tag: &str) -> PasswordHash {
    PasswordHash::from_phc(format!("$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ${tag}"))
}

fn user(name: &str, role: Role) -> User {
    User {
        id: Uuid::now_v7(),
        username: username(name),
        password_hash: hash(name),
        role,
        disabled: false,
        token_version: 0,
        created_at: CREATED,
        updated_at: CREATED,
    }
}

async fn insert(stores: &Stores, user: &User) {
    stores.users.insert(user).await.expect("inserting a user");
}

async fn an_inserted_user_is_found_with_every_field_intact(stores: Stores) {
    let ana = User {
        disabled: true,
        token_version: 7,
        updated_at: datetime!(2026-11-26 00:00:00.000001 UTC),
        ..user("ana.maria@shop.co", Role::Admin)
    };
    insert(&stores, &ana).await;

    let found = stores.users.find_by_username(&ana.username).await.unwrap();

    assert_eq!(found, Some(ana));
}

async fn timestamps_keep_microseconds_and_drop_nanoseconds(stores: Stores) {
    let ana = User {
        created_at: datetime!(2026-11-25 13:59:01.123456789 UTC),
        updated_at: datetime!(1999-12-31 23:59:59.999999999 UTC),
        ..user("ana", Role::User)
    };
    insert(&stores, &ana).await;

    let found = stores.users.find_by_username(&ana.username).await.unwrap().unwrap();

    assert_eq!(found.created_at, datetime!(2026-11-25 13:59:01.123456 UTC));
    assert_eq!(found.updated_at, datetime!(1999-12-31 23:59:59.999999 UTC));
}

async fn an_unknown_username_is_not_found(stores: Stores) {
    insert(&stores, &user("ana", Role::User)).await;

    assert_eq!(stores.users.find_by_username(&username("bob")).await.unwrap(), None);
}

async fn duplicate_username_is_reported_as_taken(stores: Stores) {
    insert(&stores, &user("ana", Role::User)).await;

    let second = stores.users.insert(&user("ana", Role::Admin)).await;

    assert!(matches!(&second, Err(InsertUserError::UsernameTaken(name)) if name.as_str() == "ana"), "{second:?}");
    assert_eq!(stores.users.count().await.unwrap(), 1);
}

async fn usernames_differing_only_in_case_are_one_user(stores: Stores) {
    insert(&stores, &user("Ana", Role::User)).await;

    let second = stores.users.insert(&user("ANA", Role::User)).await;
    let found = stores.users.find_by_username(&username("aNa")).await.unwrap();

    assert!(matches!(second, Err(InsertUserError::UsernameTaken(_))), "{second:?}");
    assert_eq!(found.map(|user| user.username.as_str().to_owned()), Some("ana".to_owned()));
}

async fn the_schema_refuses_usernames_that_are_not_lower_case(stores: Stores) {
    // Whatever writes to the table, 'Ana' can never sit next to 'ana'.
    let inserted = execute_sql(
        &stores.database,
        "INSERT INTO users (id, username, password_hash, role)
         VALUES ('0192f5c4-0000-7000-8000-000000000001', 'Ana', '$argon2id$x', 'user')",
    )
    .await;

    let error = inserted.expect_err("an upper-case username was stored");
    assert!(error.to_string().contains("users_username_lower_check"), "{error}");
}

async fn inserting_a_second_user_with_the_same_id_is_unexpected(stores: Stores) {
    let ana = user("ana", Role::User);
    insert(&stores, &ana).await;

    let second = stores.users.insert(&User { username: username("bob"), ..ana }).await;

    assert!(matches!(second, Err(InsertUserError::Unexpected(_))), "{second:?}");
}

async fn users_are_listed_in_byte_order_of_their_usernames(stores: Stores) {
    // Punctuation is where locale collations and byte order disagree.
    let names = ["zed", "a_bc", "b.cd", "abc", "a.bc", "a-bc", "1st", "a@bc", "a0c"];
    for name in names {
        insert(&stores, &user(name, Role::User)).await;
    }

    let listed: Vec<String> =
        stores.users.list().await.unwrap().into_iter().map(|user| user.username.to_string()).collect();

    let mut expected: Vec<String> = names.iter().map(|name| (*name).to_owned()).collect();
    expected.sort();
    assert_eq!(listed, expected);
}

async fn update_overwrites_only_the_mutable_fields(stores: Stores) {
    let ana = user("ana", Role::User);
    insert(&stores, &ana).await;
    let changed = User {
        password_hash: hash("new"),
        role: Role::Admin,
        disabled: true,
        token_version: 3,
        updated_at: datetime!(2026-12-01 08:00:00.5 UTC),
        // Not mutable: these must stay as stored.
        created_at: datetime!(2030-01-01 0:00 UTC),
        ..ana.clone()
    };

    let updated = stores.users.update(&changed).await.unwrap();

    assert!(updated);
    let found = stores.users.find_by_username(&ana.username).await.unwrap().unwrap();
    assert_eq!(found, User { created_at: ana.created_at, ..changed });
}

async fn updating_an_unknown_user_reports_false(stores: Stores) {
    insert(&stores, &user("ana", Role::User)).await;

    let updated = stores.users.update(&user("bob", Role::User)).await.unwrap();

    assert!(!updated);
    assert_eq!(stores.users.count().await.unwrap(), 1);
}

async fn the_schema_stamps_updated_at_when_another_writer_leaves_it_alone(stores: Stores) {
    let ana = user("ana", Role::User);
    insert(&stores, &ana).await;
    let before = OffsetDateTime::now_utc() - Duration::seconds(1);

    let changed = execute_sql(&stores.database, "UPDATE users SET disabled = NOT disabled").await.unwrap();

    assert_eq!(changed, 1);
    let found = stores.users.find_by_username(&ana.username).await.unwrap().unwrap();
    assert!(found.disabled);
    assert!(found.updated_at > before, "updated_at stayed {}", found.updated_at);
    assert_eq!(found.created_at, CREATED);
}

async fn delete_removes_the_user_and_reports_whether_it_existed(stores: Stores) {
    insert(&stores, &user("ana", Role::User)).await;
    insert(&stores, &user("bob", Role::User)).await;

    assert!(stores.users.delete(&username("ana")).await.unwrap());
    assert!(!stores.users.delete(&username("ana")).await.unwrap());

    assert_eq!(stores.users.find_by_username(&username("ana")).await.unwrap(), None);
    assert!(stores.users.find_by_username(&username("bob")).await.unwrap().is_some());
}

async fn count_counts_every_user(stores: Stores) {
    assert_eq!(stores.users.count().await.unwrap(), 0);
    for name in ["ana", "bob", "eve"] {
        insert(&stores, &User { disabled: name == "eve", ..user(name, Role::User) }).await;
    }

    assert_eq!(stores.users.count().await.unwrap(), 3);
}

async fn count_enabled_admins_ignores_plain_users_and_disabled_admins(stores: Stores) {
    insert(&stores, &user("root", Role::Admin)).await;
    insert(&stores, &user("boss", Role::Admin)).await;
    insert(&stores, &User { disabled: true, ..user("former", Role::Admin) }).await;
    insert(&stores, &user("clerk", Role::User)).await;

    assert_eq!(stores.users.count_enabled_admins().await.unwrap(), 2);
}

async fn ping_answers(stores: Stores) {
    stores.users.ping().await.unwrap();
    stores.database.ping().await.unwrap();
}

const NOW: OffsetDateTime = datetime!(2026-11-25 12:00:00 UTC);
const HOME: IpAddr = IpAddr::V4(Ipv4Addr::new(203, 0, 113, 7));
const OFFICE: IpAddr = IpAddr::V6(Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 1));

fn minutes_ago(minutes: i64) -> OffsetDateTime {
    NOW - Duration::minutes(minutes) + Duration::microseconds(minutes)
}

async fn fail(stores: &Stores, name: &str, address: Option<IpAddr>, at: OffsetDateTime) {
    stores.attempts.record_failure(name, address, at).await.expect("recording a failure");
}

/// The failures counted, each with the time of the oldest: for the username, for the username
/// from the address, and for the address.
fn failure_window(
    username: (u32, Option<OffsetDateTime>),
    pair: (u32, Option<OffsetDateTime>),
    address: (u32, Option<OffsetDateTime>),
) -> FailureWindow {
    FailureWindow {
        username_failures: username.0,
        username_oldest: username.1,
        pair_failures: pair.0,
        pair_oldest: pair.1,
        address_failures: address.0,
        address_oldest: address.1,
    }
}

async fn failures_are_counted_per_username_and_per_address_within_the_window(stores: Stores) {
    fail(&stores, "ana", Some(HOME), minutes_ago(20)).await; // before the window
    fail(&stores, "bob", Some(HOME), minutes_ago(12)).await;
    fail(&stores, "ana", Some(HOME), minutes_ago(10)).await;
    fail(&stores, "ana", Some(OFFICE), minutes_ago(5)).await;
    fail(&stores, "ana", Some(HOME), minutes_ago(1)).await;

    let window = stores.attempts.failures_since("ana", Some(HOME), minutes_ago(15)).await.unwrap();

    assert_eq!(
        window,
        failure_window((3, Some(minutes_ago(10))), (2, Some(minutes_ago(10))), (3, Some(minutes_ago(12))))
    );
}

async fn failures_without_an_address_count_only_against_the_username(stores: Stores) {
    fail(&stores, "ana", None, minutes_ago(3)).await;
    fail(&stores, "bob", None, minutes_ago(2)).await;

    let window = stores.attempts.failures_since("ana", None, minutes_ago(15)).await.unwrap();

    assert_eq!(window, failure_window((1, Some(minutes_ago(3))), (1, Some(minutes_ago(3))), (0, None)));
}

async fn ipv4_mapped_addresses_count_as_the_ipv4_address(stores: Stores) {
    let mapped = IpAddr::V6(Ipv4Addr::new(203, 0, 113, 7).to_ipv6_mapped());
    fail(&stores, "ana", Some(mapped), minutes_ago(2)).await;
    fail(&stores, "bob", Some(HOME), minutes_ago(1)).await;

    let window = stores.attempts.failures_since("eve", Some(HOME), minutes_ago(15)).await.unwrap();

    assert_eq!(window.address_failures, 2);
    assert_eq!(window.address_oldest, Some(minutes_ago(2)));
}

async fn a_window_without_failures_is_empty(stores: Stores) {
    fail(&stores, "ana", Some(HOME), minutes_ago(30)).await;

    let window = stores.attempts.failures_since("ana", Some(HOME), minutes_ago(15)).await.unwrap();

    assert_eq!(window, FailureWindow::default());
}

async fn clearing_a_username_from_an_address_forgets_only_those_failures(stores: Stores) {
    fail(&stores, "ana", Some(HOME), minutes_ago(4)).await;
    fail(&stores, "ana", Some(HOME), minutes_ago(3)).await;
    fail(&stores, "ana", Some(OFFICE), minutes_ago(2)).await;
    fail(&stores, "bob", Some(HOME), minutes_ago(1)).await;

    stores.attempts.clear_failures("ana", Some(HOME)).await.unwrap();

    let ana = stores.attempts.failures_since("ana", Some(HOME), minutes_ago(15)).await.unwrap();
    let bob = stores.attempts.failures_since("bob", None, minutes_ago(15)).await.unwrap();
    assert_eq!((ana.pair_failures, ana.pair_oldest), (0, None));
    // The failure from the office stays: logging in at home forgives nobody elsewhere.
    assert_eq!((ana.username_failures, ana.username_oldest), (1, Some(minutes_ago(2))));
    assert_eq!((ana.address_failures, ana.address_oldest), (1, Some(minutes_ago(1))));
    assert_eq!(bob.username_failures, 1);
}

async fn prune_deletes_failures_older_than_the_cutoff(stores: Stores) {
    fail(&stores, "ana", Some(HOME), minutes_ago(90)).await;
    fail(&stores, "bob", None, minutes_ago(61)).await;
    fail(&stores, "ana", Some(HOME), minutes_ago(59)).await;

    let pruned = stores.attempts.prune(minutes_ago(60)).await.unwrap();

    assert_eq!(pruned, 2);
    let window = stores.attempts.failures_since("ana", Some(HOME), minutes_ago(1000)).await.unwrap();
    assert_eq!((window.username_failures, window.username_oldest), (1, Some(minutes_ago(59))));
    assert_eq!(stores.attempts.failures_since("bob", None, minutes_ago(1000)).await.unwrap().username_failures, 0);
}

async fn very_long_attempted_usernames_are_recorded_and_counted(stores: Stores) {
    // Whatever is typed into the login form is recorded; an index must not reject it.
    let typed = "x".repeat(10_000);
    fail(&stores, &typed, Some(HOME), minutes_ago(2)).await;
    fail(&stores, &typed, Some(HOME), minutes_ago(1)).await;

    let window = stores.attempts.failures_since(&typed, None, minutes_ago(15)).await.unwrap();
    assert_eq!(window.username_failures, 2);

    stores.attempts.clear_failures(&typed, Some(HOME)).await.unwrap();
    let window = stores.attempts.failures_since(&typed, None, minutes_ago(15)).await.unwrap();
    assert_eq!(window.username_failures, 0);
}

async fn concurrent_inserts_of_the_same_username_let_exactly_one_succeed(stores: Stores) {
    let attempts = (0..8).map(|_| {
        let users = Arc::clone(&stores.users);
        tokio::spawn(async move { users.insert(&user("ana", Role::Admin)).await })
    });

    let results = futures::future::join_all(attempts).await;

    let mut succeeded = 0;
    for result in results {
        match result.expect("the insert task panicked") {
            Ok(()) => succeeded += 1,
            Err(InsertUserError::UsernameTaken(_)) => {}
            Err(other) => panic!("an insert failed unexpectedly: {other:?}"),
        }
    }
    assert_eq!(succeeded, 1);
    assert_eq!(stores.users.count().await.unwrap(), 1);
}

async fn migrations_can_run_again_without_harm(stores: Stores) {
    insert(&stores, &user("ana", Role::Admin)).await;

    stores.database.migrate().await.expect("running the migrations a second time");

    assert_eq!(stores.users.count().await.unwrap(), 1);
}
