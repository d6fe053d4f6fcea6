//! The contract of `ApiKeyStore`, run against both backends (as `user_store_contract.rs`): each
//! behaviour is written once and becomes `sqlite::<behaviour>` and `postgres::<behaviour>`, each
//! on its own freshly migrated database. Without a Postgres server the Postgres half skips
//! loudly, and fails under `CI=true`.

use std::future::Future;
use std::sync::Arc;

use factus_application::api_keys::{ApiKey, ApiKeyDigest, ApiKeyName, ApiKeyStore, MintedKey, NewApiKey};
use factus_application::ledger::{DocumentKind, LedgerStore, NewLedgerEntry, RequestFingerprint};
use factus_application::ports::UserStore;
use factus_domain::invoice::ReferenceCode;
use factus_domain::user::{PasswordHash, Role, User, Username};
use factus_infrastructure::testing::TestDatabase;
use secrecy::ExposeSecret as _;
use time::macros::datetime;
use time::{Duration, OffsetDateTime};
use uuid::Uuid;

factus_infrastructure::contract_tests!(
    an_inserted_key_is_found_by_its_digest_and_its_id_with_every_field,
    an_unknown_digest_or_id_is_not_found,
    keys_are_listed_oldest_first_for_everybody_or_for_one_user,
    revoking_applies_once_and_keeps_the_first_time,
    touching_moves_last_used_at_forward_only,
    two_keys_with_the_same_digest_cannot_be_stored,
    a_key_for_a_user_that_does_not_exist_cannot_be_stored,
    deleting_a_user_deletes_their_keys,
    a_ledger_entry_keeps_the_key_it_was_created_with,
);

struct Stores {
    keys: Arc<dyn ApiKeyStore>,
    users: Arc<dyn UserStore>,
    ledger: Arc<dyn LedgerStore>,
}

async fn run<Fut: Future<Output = ()>>(test_db: TestDatabase, behaviour: impl FnOnce(Stores) -> Fut) {
    test_db
        .run_migrated(5, |database| {
            behaviour(Stores {
                keys: database.api_key_store(),
                users: database.user_store(),
                ledger: database.ledger_store(),
            })
        })
        .await;
}

const CREATED: OffsetDateTime = datetime!(2026-12-01 03:00:01.123456 UTC);

async fn user(stores: &Stores, name: &str) -> User {
    let user = User {
        id: Uuid::now_v7(),
        username: Username::parse(name).unwrap(),
        password_hash: PasswordHash::from_phc("$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA".to_owned()),
        role: Role::User,
        disabled: false,
        token_version: 0,
        created_at: CREATED,
        updated_at: CREATED,
    };
    stores.users.insert(&user).await.expect("inserting a user");
    user
}

fn new_key(user: &User, name: &str, created_at: OffsetDateTime) -> (NewApiKey, String) {
    let minted = MintedKey::generate();
    let new = NewApiKey {
        id: Uuid::now_v7(),
        name: ApiKeyName::parse(name).unwrap(),
        prefix: minted.prefix,
        digest: minted.digest,
        user_id: user.id,
        created_at,
        expires_at: Some(created_at + Duration::days(90)),
    };
    (new, minted.secret.expose_secret().to_owned())
}

async fn an_inserted_key_is_found_by_its_digest_and_its_id_with_every_field(stores: Stores) {
    let ana = user(&stores, "ana").await;
    let (new, secret) = new_key(&ana, "erp de producción", CREATED);

    let inserted = stores.keys.insert(&new).await.unwrap();

    let expected = ApiKey {
        id: new.id,
        name: new.name.clone(),
        prefix: new.prefix.clone(),
        user_id: ana.id,
        username: ana.username.clone(),
        created_at: CREATED,
        expires_at: Some(CREATED + Duration::days(90)),
        last_used_at: None,
        revoked_at: None,
    };
    assert_eq!(inserted, expected);
    assert_eq!(stores.keys.find_by_digest(&ApiKeyDigest::of(&secret)).await.unwrap(), Some(expected.clone()));
    assert_eq!(stores.keys.find(new.id).await.unwrap(), Some(expected));
}

async fn an_unknown_digest_or_id_is_not_found(stores: Stores) {
    let ana = user(&stores, "ana").await;
    stores.keys.insert(&new_key(&ana, "erp", CREATED).0).await.unwrap();

    let other = MintedKey::generate();
    assert_eq!(stores.keys.find_by_digest(&other.digest).await.unwrap(), None);
    assert_eq!(stores.keys.find(Uuid::now_v7()).await.unwrap(), None);
}

async fn keys_are_listed_oldest_first_for_everybody_or_for_one_user(stores: Stores) {
    let ana = user(&stores, "ana").await;
    let bruno = user(&stores, "bruno").await;
    let (late, _) = new_key(&ana, "late", CREATED + Duration::minutes(2));
    let (early, _) = new_key(&bruno, "early", CREATED);
    let (middle, _) = new_key(&ana, "middle", CREATED + Duration::minutes(1));
    for key in [&late, &early, &middle] {
        stores.keys.insert(key).await.unwrap();
    }

    let all: Vec<Uuid> = stores.keys.list(None).await.unwrap().iter().map(|key| key.id).collect();
    assert_eq!(all, [early.id, middle.id, late.id]);
    let anas: Vec<Uuid> = stores.keys.list(Some(ana.id)).await.unwrap().iter().map(|key| key.id).collect();
    assert_eq!(anas, [middle.id, late.id]);
    assert!(stores.keys.list(Some(Uuid::now_v7())).await.unwrap().is_empty());
}

async fn revoking_applies_once_and_keeps_the_first_time(stores: Stores) {
    let ana = user(&stores, "ana").await;
    let (new, _) = new_key(&ana, "erp", CREATED);
    stores.keys.insert(&new).await.unwrap();
    let first = CREATED + Duration::hours(1);

    assert!(stores.keys.revoke(new.id, first).await.unwrap());
    assert!(!stores.keys.revoke(new.id, first + Duration::hours(1)).await.unwrap());
    assert!(!stores.keys.revoke(Uuid::now_v7(), first).await.unwrap());
    assert_eq!(stores.keys.find(new.id).await.unwrap().unwrap().revoked_at, Some(first));
}

async fn touching_moves_last_used_at_forward_only(stores: Stores) {
    let ana = user(&stores, "ana").await;
    let (new, _) = new_key(&ana, "erp", CREATED);
    stores.keys.insert(&new).await.unwrap();
    let later = CREATED + Duration::minutes(5);

    stores.keys.touch(new.id, later).await.unwrap();
    stores.keys.touch(new.id, CREATED + Duration::minutes(1)).await.unwrap();

    assert_eq!(stores.keys.find(new.id).await.unwrap().unwrap().last_used_at, Some(later));
}

async fn two_keys_with_the_same_digest_cannot_be_stored(stores: Stores) {
    let ana = user(&stores, "ana").await;
    let (first, _) = new_key(&ana, "erp", CREATED);
    stores.keys.insert(&first).await.unwrap();
    let copy = NewApiKey { id: Uuid::now_v7(), ..first };
    assert!(stores.keys.insert(&copy).await.is_err());
}

async fn a_key_for_a_user_that_does_not_exist_cannot_be_stored(stores: Stores) {
    let ghost = User { id: Uuid::now_v7(), ..user(&stores, "ana").await };
    assert!(stores.keys.insert(&new_key(&ghost, "erp", CREATED).0).await.is_err());
    assert!(stores.keys.list(None).await.unwrap().is_empty());
}

async fn deleting_a_user_deletes_their_keys(stores: Stores) {
    let ana = user(&stores, "ana").await;
    let bruno = user(&stores, "bruno").await;
    let (anas, secret) = new_key(&ana, "erp", CREATED);
    stores.keys.insert(&anas).await.unwrap();
    stores.keys.insert(&new_key(&bruno, "pos", CREATED).0).await.unwrap();

    assert!(stores.users.delete(&ana.username).await.unwrap());

    assert_eq!(stores.keys.find_by_digest(&ApiKeyDigest::of(&secret)).await.unwrap(), None);
    assert_eq!(stores.keys.list(None).await.unwrap().len(), 1);
}

async fn a_ledger_entry_keeps_the_key_it_was_created_with(stores: Stores) {
    let ana = user(&stores, "ana").await;
    let (key, _) = new_key(&ana, "erp", CREATED);
    stores.keys.insert(&key).await.unwrap();
    let entry = |reference: &str, api_key_id| NewLedgerEntry {
        id: Uuid::now_v7(),
        kind: DocumentKind::Invoice,
        user_id: ana.id,
        username: ana.username.clone(),
        api_key_id,
        reference_code: ReferenceCode::parse(reference).unwrap(),
        idempotency_key: None,
        fingerprint: RequestFingerprint::parse("abcd").unwrap(),
        total: None,
        referenced_number: None,
        counterparty: None,
        created_at: CREATED,
    };

    let with_key = stores.ledger.claim(&entry("R-KEY", Some(key.id))).await.unwrap();
    let with_token = stores.ledger.claim(&entry("R-TOKEN", None)).await.unwrap();

    assert_eq!(with_key.api_key_id, Some(key.id));
    assert_eq!(with_token.api_key_id, None);
    let read = stores.ledger.find_active_by_reference(&ReferenceCode::parse("R-KEY").unwrap()).await.unwrap();
    assert_eq!(read.unwrap().api_key_id, Some(key.id));
}
