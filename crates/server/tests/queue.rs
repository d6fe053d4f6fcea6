//! Queued creates (docs/reliability.md, "Queued creates"), black-box over real HTTP: instances of
//! the service in front of the real sandbox, whose account is limited to a few calls per short
//! window as Factus limits 80 a minute. What Factus saw is the sandbox's request log and its bills
//! (in creation order).
//!
//! - a burst of five windows' worth of creates over two instances sharing Postgres: every client
//!   gets 200 or 202, every document is issued once, the queued ones in arrival order, and Factus never sees
//!   more than its limit in any window;
//! - the queue survives a SIGKILL of both instances: restarted, they send what waited, once each;
//!   a retry of a queued create answers the same entry; readiness shows the queue.
//!
//! (A 202 followed to `issued` by its `Location` and by a signed webhook: tests/webhooks.rs.)

mod support_exactly_once;

use std::collections::{BTreeMap, HashMap, HashSet};
use std::time::{Duration, Instant};

use factus_infrastructure::testing::TestDatabase;
use factus_sandbox::SandboxConfig;
use reqwest::StatusCode;
use support_exactly_once::{Api, Binary, InProcess, Upstream, invoice, most_in_any_window};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// Calls per window at the sandbox, and the window: Factus' 80 a minute, scaled down.
const LIMIT: u32 = 5;
const WINDOW: Duration = Duration::from_secs(2);

fn queue_env(upstream: &Upstream, database_url: &str, limit: u32, window: Duration) -> BTreeMap<&'static str, String> {
    let mut env = upstream.service_env(database_url);
    env.insert("FACTUS_RATE_LIMIT", limit.to_string());
    env.insert("FACTUS_RATE_WINDOW_SECS", window.as_secs().to_string());
    // Shorter than the window: a create that found the budget spent is queued (202) before
    // the window frees a slot, so the queue, not the budget's waiters, decides the order.
    env.insert("FACTUS_QUEUE_WAIT_SECS", "1".to_owned());
    env
}

/// The reference's position in the burst (`QUEUE-007` → 7).
fn position(reference: &str) -> usize {
    reference.trim_start_matches("QUEUE-").parse().expect("a burst reference")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_burst_of_five_windows_of_creates_over_two_instances_is_answered_200_or_202_and_issued_once_each_in_arrival_order()
 {
    let Some(database) = TestDatabase::postgres_or_skip("queue::burst").await else { return };
    let upstream = Upstream::start_with(SandboxConfig {
        rate_limit: Some(LIMIT),
        rate_window: WINDOW,
        ..SandboxConfig::default()
    })
    .await;
    let env = queue_env(&upstream, database.url(), LIMIT, WINDOW);
    let first = InProcess::start(&env).await;
    let second = InProcess::start(&env).await;
    let apis = [first.api.clone(), second.api.clone()];
    upstream.reset_requests().await;

    // One create every 20 ms, alternating instances: the order they arrive in is the order
    // they were sent in.
    let count = 5 * LIMIT as usize;
    let mut creates = Vec::new();
    for index in 0..count {
        let api = apis[index % 2].clone();
        creates.push(tokio::spawn(async move { api.create(&invoice(&format!("QUEUE-{index:03}")), None).await }));
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let mut replies = Vec::new();
    for create in creates {
        replies.push(create.await.expect("a create task"));
    }
    let statuses: Vec<StatusCode> = replies.iter().map(|reply| reply.status).collect();
    let others: Vec<&str> = replies
        .iter()
        .filter(|reply| !matches!(reply.status, StatusCode::OK | StatusCode::ACCEPTED))
        .map(|reply| reply.text.as_str())
        .collect();
    assert!(others.is_empty(), "every client got its bill or its place in the queue: {statuses:?} {others:?}");
    let accepted: Vec<_> = replies.iter().filter(|reply| reply.status == StatusCode::ACCEPTED).collect();
    assert!(!accepted.is_empty(), "five windows' worth cannot all be sent at once: {statuses:?}");
    for reply in &accepted {
        let location = reply.location.as_deref().expect("a 202 says where its entry is");
        let entry = apis[0].follow(location, Duration::from_secs(60)).await;
        assert_eq!(entry["state"], "issued", "{entry}");
    }

    let calls = upstream.factus_calls().await;
    let busiest = most_in_any_window(&calls, WINDOW);
    let bills = upstream.bills().await;
    println!(
        "{count} creates over two instances, limit {LIMIT} per {WINDOW:?}: {} × 200, {} × 202; {} calls at the \
         sandbox, at most {busiest} in any window",
        count - accepted.len(),
        accepted.len(),
        calls.len()
    );
    assert!(calls.iter().all(|call| call["status"] != 429), "Factus never had to refuse a call: {calls:?}");
    assert!(busiest <= LIMIT as usize, "{busiest} calls within {WINDOW:?}: {calls:?}");
    let references: HashSet<&str> = bills.iter().map(|bill| bill.reference_code.as_str()).collect();
    assert_eq!((bills.len(), references.len()), (count, count), "one bill per create, none twice");
    // The queue is first in, first out across both instances (one queued create in flight at a
    // time), and a queued create waits for every create that arrived before it. Arrival is when
    // the service took the create (its entry's `created_at`): sent 20 ms apart, two creates can
    // still reach their instances in the other order on a loaded machine. Creates that were
    // already waiting for a slot when the first one was queued and got one are not in the queue
    // (under load, one whose session was still asking Factus for a token lost its turn to later
    // ones), so the test does not pin where those land.
    let arrival_order = arrival_order(&apis[0], count).await;
    let issued_order: Vec<usize> = bills.iter().map(|bill| position(&bill.reference_code)).collect();
    let queued: Vec<usize> =
        arrival_order.iter().copied().filter(|index| replies[*index].status == StatusCode::ACCEPTED).collect();
    let queued_in_issued_order: Vec<usize> =
        issued_order.iter().copied().filter(|index| queued.contains(index)).collect();
    assert_eq!(
        queued_in_issued_order, queued,
        "the queue sent in arrival order: issued {issued_order:?}, arrived {arrival_order:?}"
    );
    for index in &queued {
        let place = issued_order.iter().position(|issued| issued == index).expect("issued");
        let before: HashSet<usize> = issued_order[..place].iter().copied().collect();
        let arrived = arrival_order.iter().position(|arrived| arrived == index).expect("arrived");
        assert!(
            arrival_order[..arrived].iter().all(|earlier| before.contains(earlier)),
            "QUEUE-{index:03} after every earlier create: issued {issued_order:?}, arrived {arrival_order:?}"
        );
    }
    first.stop().await;
    second.stop().await;
    upstream.shutdown().await;
    database.drop_database().await;
}

/// The burst's positions in the order the service took them: its ledger, by `created_at`.
async fn arrival_order(api: &Api, count: usize) -> Vec<usize> {
    let listing = api.get(&format!("/invoices?limit={count}")).await;
    assert_eq!(listing.status, StatusCode::OK, "{}", listing.text);
    let mut arrivals: Vec<(OffsetDateTime, usize)> = listing.json()["data"]["items"]
        .as_array()
        .expect("the ledger's entries")
        .iter()
        .map(|entry| {
            let created_at = entry["created_at"].as_str().expect("an entry's created_at");
            let created_at = OffsetDateTime::parse(created_at, &Rfc3339).expect("an RFC 3339 created_at");
            (created_at, position(entry["reference_code"].as_str().expect("an entry's reference")))
        })
        .collect();
    assert_eq!(arrivals.len(), count, "every create has its entry");
    arrivals.sort();
    arrivals.into_iter().map(|(_, position)| position).collect()
}

/// `POST /api/v1/invoices` with an `Idempotency-Key` against a binary.
async fn create_on(api: &Api, reference: &str) -> support_exactly_once::Reply {
    api.create(&invoice(reference), Some(reference)).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn queued_creates_survive_a_sigkill_of_both_instances_and_are_sent_once_each_after_the_restart() {
    let Some(database) = TestDatabase::postgres_or_skip("queue::sigkill").await else { return };
    let upstream = Upstream::start().await;
    let dir = tempfile::tempdir().expect("a temporary directory");
    // A window far longer than the test: what the first slots do not take waits in the queue
    // until the kill.
    let limit = 3;
    let env = queue_env(&upstream, database.url(), limit, Duration::from_secs(3600));
    let mut first = Binary::start(dir.path(), &env).await;
    let mut second = Binary::start(dir.path(), &env).await;
    let apis = [Api::login(&first.base).await, Api::login(&second.base).await];

    let count = 8;
    let mut replies = HashMap::new();
    for index in 0..count {
        let reference = format!("KILLED-{index}");
        let reply = create_on(&apis[index % 2], &reference).await;
        assert!(matches!(reply.status, StatusCode::OK | StatusCode::ACCEPTED), "{reference}: {}", reply.text);
        replies.insert(reference, reply);
    }
    let queued: Vec<&String> = replies
        .iter()
        .filter(|(_, reply)| reply.status == StatusCode::ACCEPTED)
        .map(|(reference, _)| reference)
        .collect();
    assert!(queued.len() >= count - limit as usize, "the budget of {limit} was spent: {replies:?}");

    // A retry of a queued create (same key, either instance) is the same entry, still queued.
    let retried_reference = queued[0];
    let retried = create_on(&apis[1], retried_reference).await;
    assert_eq!(retried.status, StatusCode::ACCEPTED, "{}", retried.text);
    assert_eq!(retried.json()["data"]["id"], replies[retried_reference].json()["data"]["id"]);
    assert_eq!(retried.location, replies[retried_reference].location);
    // One worker, on either instance, may hold the next entry (pending) while it waits for the
    // budget; the other finds the line held and takes nothing.
    let readiness = apis[0].get("/health/ready").await;
    let depth = readiness.json()["queue"]["depth"].as_u64().expect("the queue's depth") as usize;
    assert!((queued.len() - 1..=queued.len()).contains(&depth), "{} queued: {}", queued.len(), readiness.text);

    first.sigkill().await;
    second.sigkill().await;
    let bills_before_restart = upstream.bills().await.len();

    // Restarted with a budget that has room: the workers send what waited, and the reconciler
    // puts back in line an entry a worker held when it was killed (Factus has no bill for it).
    let mut roomy = env.clone();
    roomy.insert("FACTUS_RATE_LIMIT", "1000".to_owned());
    roomy.insert("FACTUS_RATE_WINDOW_SECS", "1".to_owned());
    roomy.insert("FACTUS_TIMEOUT_SECS", "2".to_owned());
    roomy.insert("LEDGER_RECONCILE_INTERVAL_SECS", "1".to_owned());
    roomy.insert("LEDGER_STALE_AFTER_SECS", "4".to_owned());
    let first = Binary::start(dir.path(), &roomy).await;
    let second = Binary::start(dir.path(), &roomy).await;
    let api = Api::login(&first.base).await;
    let started = Instant::now();
    for reference in &queued {
        let location = replies[*reference].location.as_deref().expect("a 202's Location");
        let entry = api.follow(location, Duration::from_secs(60)).await;
        assert_eq!(entry["state"], "issued", "{reference}: {entry}");
    }
    println!(
        "{count} creates, {} queued when both instances were killed ({bills_before_restart} bills then); all issued \
         {:?} after the restart",
        queued.len(),
        started.elapsed()
    );
    let bills = upstream.bills().await;
    let references: HashSet<&str> = bills.iter().map(|bill| bill.reference_code.as_str()).collect();
    assert_eq!((bills.len(), references.len()), (count, count), "one bill per create: {bills:?}");
    let readiness = api.get("/health/ready").await;
    assert_eq!(readiness.json()["queue"]["depth"], 0, "{}", readiness.text);
    first.terminate().await;
    second.terminate().await;
    upstream.shutdown().await;
    database.drop_database().await;
}
