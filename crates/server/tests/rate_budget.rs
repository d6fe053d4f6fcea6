//! The budget of Factus calls (docs/reliability.md, "The upstream budget"), black-box over real
//! HTTP: instances of the service in front of the real sandbox with a rate limit per account and
//! a short window, as Factus limits 80 calls a minute. The sandbox's request log, with each
//! request's arrival time, is what Factus saw.

mod support_exactly_once;

use std::collections::HashSet;
use std::time::Duration;

use factus_infrastructure::testing::TestDatabase;
use factus_sandbox::{DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, DEFAULT_PASSWORD, DEFAULT_USERNAME, SandboxConfig};
use reqwest::StatusCode;
use serde_json::Value;
use support_exactly_once::{Api, InProcess, Upstream, http_client, invoice, most_in_any_window};

/// Calls per window at the sandbox, and the window: Factus' 80 a minute, scaled down.
const LIMIT: u32 = 5;
const WINDOW: Duration = Duration::from_secs(2);

async fn limited_upstream() -> Upstream {
    Upstream::start_with(SandboxConfig { rate_limit: Some(LIMIT), rate_window: WINDOW, ..SandboxConfig::default() })
        .await
}

fn budget_env(upstream: &Upstream, database_url: &str) -> std::collections::BTreeMap<&'static str, String> {
    let mut env = upstream.service_env(database_url);
    env.insert("FACTUS_RATE_LIMIT", LIMIT.to_string());
    env.insert("FACTUS_RATE_WINDOW_SECS", WINDOW.as_secs().to_string());
    // Long enough for the whole burst: this file is about the budget, not the queue.
    env.insert("FACTUS_QUEUE_WAIT_SECS", "60".to_owned());
    env
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_instances_on_one_postgres_never_send_more_than_the_limit_in_any_window_and_every_create_is_issued() {
    let Some(database) = TestDatabase::postgres_or_skip("rate_budget::two_instances").await else { return };
    let upstream = limited_upstream().await;
    let env = budget_env(&upstream, database.url());
    let first = InProcess::start(&env).await;
    let second = InProcess::start(&env).await;
    let apis = [first.api.clone(), second.api.clone()];
    upstream.reset_requests().await;

    let count = 5 * LIMIT as usize;
    let creates: Vec<_> = (0..count)
        .map(|index| {
            let api = apis[index % 2].clone();
            tokio::spawn(async move { api.create(&invoice(&format!("BUDGET-{index:03}")), None).await })
        })
        .collect();
    let mut statuses = Vec::new();
    for create in creates {
        statuses.push(create.await.expect("a create task").status);
    }

    let calls = upstream.factus_calls().await;
    let busiest = most_in_any_window(&calls, WINDOW);
    println!(
        "{count} creates over two instances, limit {LIMIT} per {WINDOW:?}: {} calls at the sandbox, at most {busiest} \
         in any window",
        calls.len()
    );
    assert!(statuses.iter().all(|status| *status == StatusCode::OK), "{statuses:?}");
    assert!(calls.iter().all(|call| call["status"] != 429), "Factus never had to refuse a call: {calls:?}");
    assert!(busiest <= LIMIT as usize, "{busiest} calls within {WINDOW:?}: {calls:?}");
    let bills = upstream.bills().await;
    let references: HashSet<&str> = bills.iter().map(|bill| bill.reference_code.as_str()).collect();
    assert_eq!(bills.len(), count, "one bill per create");
    assert_eq!(references.len(), count, "no reference twice");
    first.stop().await;
    second.stop().await;
    upstream.shutdown().await;
    database.drop_database().await;
}

/// Another system on the same Factus account spends the window: Factus' `X-RateLimit-*` and its
/// 429 correct the service's count, and the client gets its lookups, later, never a 429.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn calls_another_system_made_on_the_account_are_waited_for_and_never_shown_as_a_429() {
    let upstream = limited_upstream().await;
    let dir = tempfile::tempdir().expect("a temporary directory");
    let env = budget_env(&upstream, &format!("sqlite://{}", dir.path().join("factus-api.db").display()));
    let service = InProcess::start(&env).await;
    // The other system: the same account, straight at Factus.
    let other = http_client();
    let token = other
        .post(format!("{}/oauth/token", upstream.base_url()))
        .form(&[
            ("grant_type", "password"),
            ("client_id", DEFAULT_CLIENT_ID),
            ("client_secret", DEFAULT_CLIENT_SECRET),
            ("username", DEFAULT_USERNAME),
            ("password", DEFAULT_PASSWORD),
        ])
        .send()
        .await
        .expect("a token")
        .json::<Value>()
        .await
        .expect("a token body")["access_token"]
        .as_str()
        .expect("an access token")
        .to_owned();
    let ranges = format!("{}{}", upstream.base_url(), upstream.route("/v1/numbering-ranges"));
    for _ in 0..LIMIT {
        other.get(&ranges).bearer_auth(&token).send().await.expect("the other system's call");
    }

    let mut statuses = Vec::new();
    for _ in 0..LIMIT {
        statuses.push(lookup(&service.api).await);
    }

    let refused = upstream.factus_calls().await.iter().filter(|call| call["status"] == 429).count();
    println!("after another system spent the window: {statuses:?}, {refused} × 429 at the sandbox");
    assert!(statuses.iter().all(|status| *status == StatusCode::OK), "{statuses:?}");
    assert!(refused <= 1, "the first 429 (or Factus' headers) corrected the count: {refused} refusals");
    service.stop().await;
    upstream.shutdown().await;
}

async fn lookup(api: &Api) -> StatusCode {
    api.get("/lookups/numbering-ranges").await.status
}
