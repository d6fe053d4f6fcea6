//! The upstream budget: Factus allows `FACTUS_RATE_LIMIT` calls (80) per `FACTUS_RATE_WINDOW_SECS`
//! (60) per account and answers 429 past that (docs/factus.md §8.5). Every call the transport
//! sends first takes a slot here, so all instances together stay within the limit in *any*
//! window of that length (a sliding-window log of the calls, shared through the database).
//!
//! - **Store**: [`BudgetStore`] decides one take under the account's lock. The database store
//!   (`db::budget`) is shared by every instance; [`LocalBudgetStore`] is this process alone (no
//!   database configured, and the fallback while the database does not answer).
//! - **Slots**: a slot is counted from when it is taken; once Factus answered it is moved to the
//!   answer's time, which is no earlier than when Factus counted it, so a call that took long on
//!   the way never lets the next one in early.
//! - **Priority**: creates first, reads never starved. While creates are waiting, reads get at
//!   most [`BudgetPolicy::read_reserve`] slots per window; while reads are waiting, creates leave
//!   that many free for them. Without waiters of the other class either takes every slot.
//! - **Order**: waiters of one class are served oldest ticket first (a create's ticket is when it
//!   arrived), across instances: a waiter that stops polling (its process died) is forgotten after
//!   [`WAITER_LIVENESS`].
//! - **Corrections**: Factus' `X-RateLimit-Remaining`/`X-RateLimit-Reset` and a 429's
//!   `Retry-After` fill the window with calls we did not make (another system on the account),
//!   so that the local count never believes in more room than Factus has.

use std::collections::VecDeque;
use std::fmt;
use std::sync::Arc;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use factus_application::factus::BudgetUsage;
use reqwest::header::HeaderMap;
use time::OffsetDateTime;
use uuid::Uuid;

/// A waiter that has not polled for this long is taken for gone (its process died).
pub const WAITER_LIVENESS: Duration = Duration::from_secs(3);
/// The longest a waiter sleeps between polls: well inside [`WAITER_LIVENESS`].
const MAX_POLL: Duration = Duration::from_millis(750);
/// The shortest: a waiter behind an older one, while a slot is free, polls this often (plus up
/// to as much again at random, so that waiters do not queue on the account's lock in step).
const MIN_POLL: Duration = Duration::from_millis(100);
/// How long the shared store may take before this instance decides alone: as long as any request
/// waits for the database (`DATABASE_ACQUIRE_TIMEOUT_SECS`' default). Shorter, a busy but working
/// database (many takers queueing on the account's row) made every instance count alone, and
/// together they sent twice the limit.
const STORE_TIMEOUT: Duration = Duration::from_secs(2);
/// After the shared store failed, how long this instance counts alone before trying it again.
const STORE_BACKOFF: Duration = Duration::from_secs(2);

/// Which share of the budget a call draws from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CallClass {
    /// Creates, deletes, e-mails and token grants: what a client is waiting on to sell.
    Create,
    /// Lookups, listings, shows and downloads.
    Read,
}

impl CallClass {
    /// As stored.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Create => "create",
            Self::Read => "read",
        }
    }
}

/// `FACTUS_RATE_LIMIT`, `FACTUS_RATE_WINDOW_SECS` and the share kept for reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BudgetPolicy {
    /// Calls per window, all instances together (Factus: 80).
    pub limit: u32,
    /// Factus: one minute.
    pub window: Duration,
    /// Slots per window reads may always use, even while creates wait.
    pub read_reserve: u32,
}

impl BudgetPolicy {
    /// The share of the limit kept for reads by default: a tenth, at least one call.
    #[must_use]
    pub fn new(limit: u32, window: Duration) -> Self {
        let limit = limit.max(1);
        let read_reserve = if limit == 1 { 0 } else { limit.div_ceil(10) };
        Self { limit, window: window.max(Duration::from_millis(1)), read_reserve }
    }

    /// The window in milliseconds (a window too long for an `i64` is held as a quarter of its range).
    pub(crate) fn window_ms(&self) -> i64 {
        i64::try_from(self.window.as_millis()).unwrap_or(i64::MAX / 4)
    }
}

impl Default for BudgetPolicy {
    fn default() -> Self {
        Self::new(80, Duration::from_secs(60))
    }
}

/// One call counted in the window.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CountedCall {
    /// `None` for a call somebody else made (a correction from Factus' headers).
    pub class: Option<CallClass>,
    /// Milliseconds since the Unix epoch; the call leaves the window `window` later.
    pub at_ms: i64,
    /// How many calls it stands for (a correction adds all it needs at once).
    pub weight: u32,
}

/// A caller waiting for a slot.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Waiter {
    pub id: Uuid,
    pub class: CallClass,
    /// Earlier tickets are served first.
    pub ticket_ms: i64,
}

/// What one take asks for.
#[derive(Debug, Clone)]
pub struct TakeRequest {
    pub account: String,
    pub waiter: Waiter,
    pub now_ms: i64,
    pub policy: BudgetPolicy,
}

/// What the store decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Taken {
    /// The call may go; `slot` identifies it for [`BudgetStore::settle`].
    Granted { slot: Uuid },
    /// Not yet: ask again at `retry_at_ms` (sooner when a slot may free earlier).
    Wait { retry_at_ms: i64 },
}

/// Where the budget of an account is kept and decided.
#[async_trait]
pub trait BudgetStore: Send + Sync + fmt::Debug {
    /// Under the account's lock: forgets calls older than the window and gone waiters, then
    /// grants the waiter a slot ([`decide`]) or records that it is waiting.
    async fn take(&self, request: &TakeRequest) -> anyhow::Result<Taken>;
    /// Moves a granted slot to `at_ms` (when Factus answered).
    async fn settle(&self, account: &str, slot: Uuid, at_ms: i64) -> anyhow::Result<()>;
    /// Factus counts `used` calls in its current window, which ends at `until_ms`: adds calls of
    /// somebody else's until the window holds that many, each leaving the window at `until_ms`.
    async fn correct(
        &self,
        account: &str,
        used: u32,
        until_ms: i64,
        now_ms: i64,
        policy: BudgetPolicy,
    ) -> anyhow::Result<()>;
    /// The waiter gave up.
    async fn leave(&self, account: &str, waiter: Uuid) -> anyhow::Result<()>;
    /// The calls in the account's window ending at `now_ms`, counted as [`BudgetStore::take`]
    /// counts them, for somebody watching: it takes no lock and changes nothing.
    async fn usage(&self, account: &str, now_ms: i64, policy: BudgetPolicy) -> anyhow::Result<WindowCount>;
}

/// The calls in the window, as [`decide`] needs them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct WindowCount {
    pub used: u32,
    /// Of which reads.
    pub reads: u32,
    /// The oldest call's time: the window has room again a window after it.
    pub oldest_ms: Option<i64>,
}

impl WindowCount {
    /// Counts `calls`, all of which are in the window.
    #[must_use]
    pub fn of<'a>(calls: impl IntoIterator<Item = &'a CountedCall>) -> Self {
        calls.into_iter().fold(Self::default(), |count, call| Self {
            used: count.used.saturating_add(call.weight),
            reads: count.reads.saturating_add(if call.class == Some(CallClass::Read) { call.weight } else { 0 }),
            oldest_ms: Some(count.oldest_ms.map_or(call.at_ms, |oldest| oldest.min(call.at_ms))),
        })
    }
}

/// The decision of one take, shared by every store: `count` is of the calls in the window (not
/// older than `now - window`), `waiters` the live ones.
#[must_use]
pub fn decide(count: WindowCount, waiters: &[Waiter], request: &TakeRequest) -> Decision {
    let TakeRequest { waiter, now_ms, policy, .. } = request;
    let window_ms = policy.window_ms();
    let WindowCount { used, reads, oldest_ms } = count;
    let others_waiting = |class: CallClass| waiters.iter().any(|other| other.class == class && other.id != waiter.id);
    let free = policy.limit.saturating_sub(used);
    let room = match waiter.class {
        CallClass::Create if others_waiting(CallClass::Read) => {
            free.saturating_sub(policy.read_reserve.saturating_sub(reads))
        }
        CallClass::Read if others_waiting(CallClass::Create) => free.min(policy.read_reserve.saturating_sub(reads)),
        _ => free,
    };
    let next_free_ms = oldest_ms.map_or(*now_ms, |oldest| oldest + window_ms);
    if room == 0 {
        return Decision::Wait { retry_at_ms: next_free_ms.max(*now_ms) };
    }
    let ahead = waiters.iter().any(|other| {
        other.class == waiter.class
            && other.id != waiter.id
            && (other.ticket_ms, other.id) < (waiter.ticket_ms, waiter.id)
    });
    if ahead {
        return Decision::Wait { retry_at_ms: *now_ms };
    }
    Decision::Grant
}

/// [`decide`]'s answer, before the store records it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    Grant,
    Wait { retry_at_ms: i64 },
}

/// How many calls of somebody else's make the window hold `used`.
#[must_use]
pub fn missing_calls(counted: u32, used: u32) -> u32 {
    used.saturating_sub(counted)
}

/// The budget of this process alone: the store without a database, and the fallback while the
/// database does not answer.
#[derive(Debug, Default)]
pub struct LocalBudgetStore {
    accounts: Mutex<std::collections::HashMap<String, LocalAccount>>,
}

#[derive(Debug, Default)]
struct LocalAccount {
    calls: VecDeque<(Option<Uuid>, CountedCall)>,
    waiters: Vec<(Waiter, i64)>,
}

/// Whether a call at `at_ms` is still in the window ending at `now_ms`: younger than the window.
fn in_window(at_ms: i64, now_ms: i64, policy: &BudgetPolicy) -> bool {
    at_ms > now_ms - policy.window_ms()
}

impl LocalAccount {
    fn forget(&mut self, now_ms: i64, policy: &BudgetPolicy) {
        self.calls.retain(|(_, call)| in_window(call.at_ms, now_ms, policy));
        let liveness = i64::try_from(WAITER_LIVENESS.as_millis()).unwrap_or(i64::MAX);
        self.waiters.retain(|(_, seen)| *seen > now_ms - liveness);
    }
}

impl LocalBudgetStore {
    /// Counts a call the shared store granted.
    fn record(&self, account: &str, slot: Uuid, class: CallClass, at_ms: i64) {
        self.with_account(account, |account| {
            account.calls.push_back((Some(slot), CountedCall { class: Some(class), at_ms, weight: 1 }));
        });
    }

    fn with_account<T>(&self, account: &str, f: impl FnOnce(&mut LocalAccount) -> T) -> T {
        let mut accounts = self.accounts.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        f(accounts.entry(account.to_owned()).or_default())
    }
}

#[async_trait]
impl BudgetStore for LocalBudgetStore {
    async fn take(&self, request: &TakeRequest) -> anyhow::Result<Taken> {
        Ok(self.with_account(&request.account, |account| {
            account.forget(request.now_ms, &request.policy);
            let count = WindowCount::of(account.calls.iter().map(|(_, call)| call));
            let waiters: Vec<Waiter> = account.waiters.iter().map(|(waiter, _)| *waiter).collect();
            account.waiters.retain(|(waiter, _)| waiter.id != request.waiter.id);
            match decide(count, &waiters, request) {
                Decision::Grant => {
                    let slot = Uuid::new_v4();
                    let call = CountedCall { class: Some(request.waiter.class), at_ms: request.now_ms, weight: 1 };
                    account.calls.push_back((Some(slot), call));
                    Taken::Granted { slot }
                }
                Decision::Wait { retry_at_ms } => {
                    account.waiters.push((request.waiter, request.now_ms));
                    Taken::Wait { retry_at_ms }
                }
            }
        }))
    }

    async fn settle(&self, account: &str, slot: Uuid, at_ms: i64) -> anyhow::Result<()> {
        self.with_account(account, |account| {
            if let Some((_, call)) = account.calls.iter_mut().find(|(id, _)| *id == Some(slot)) {
                call.at_ms = call.at_ms.max(at_ms);
            }
        });
        Ok(())
    }

    async fn correct(
        &self,
        account: &str,
        used: u32,
        until_ms: i64,
        now_ms: i64,
        policy: BudgetPolicy,
    ) -> anyhow::Result<()> {
        self.with_account(account, |account| {
            account.forget(now_ms, &policy);
            let at_ms = until_ms - policy.window_ms();
            let counted = WindowCount::of(account.calls.iter().map(|(_, call)| call)).used;
            let weight = missing_calls(counted, used);
            if weight > 0 {
                account.calls.push_back((None, CountedCall { class: None, at_ms, weight }));
            }
        });
        Ok(())
    }

    async fn leave(&self, account: &str, waiter: Uuid) -> anyhow::Result<()> {
        self.with_account(account, |account| account.waiters.retain(|(other, _)| other.id != waiter));
        Ok(())
    }

    async fn usage(&self, account: &str, now_ms: i64, policy: BudgetPolicy) -> anyhow::Result<WindowCount> {
        let accounts = self.accounts.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        // A look-up, not `with_account`: watching must not register an account nor forget calls.
        let calls = accounts.get(account).into_iter().flat_map(|account| account.calls.iter().map(|(_, call)| call));
        Ok(WindowCount::of(calls.filter(|call| in_window(call.at_ms, now_ms, &policy))))
    }
}

/// The budget of the account the gateway calls Factus with.
#[derive(Debug)]
pub struct Budget {
    /// The Factus account the slots are counted for.
    account: String,
    policy: BudgetPolicy,
    shared: Arc<dyn BudgetStore>,
    local: LocalBudgetStore,
    /// Until then the shared store is skipped (it failed).
    shared_down_until: Mutex<Option<Instant>>,
}

/// A slot taken for one call; hand it back with [`Budget::answered`].
#[derive(Debug, Clone, Copy)]
pub(crate) struct Slot {
    id: Uuid,
    shared: bool,
}

/// No slot before the caller's deadline.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Spent {
    /// When a slot is expected to free.
    pub(crate) retry_after: Duration,
}

impl Budget {
    /// `account` names the Factus account every call is counted for (the server session's
    /// username, else the OAuth client).
    #[must_use]
    pub fn new(account: impl Into<String>, policy: BudgetPolicy, shared: Arc<dyn BudgetStore>) -> Self {
        Self {
            account: account.into(),
            policy,
            shared,
            local: LocalBudgetStore::default(),
            shared_down_until: Mutex::new(None),
        }
    }

    /// A budget of this process alone.
    #[must_use]
    pub fn local(account: impl Into<String>, policy: BudgetPolicy) -> Self {
        Self::new(account, policy, Arc::new(LocalBudgetStore::default()))
    }

    #[must_use]
    pub fn policy(&self) -> BudgetPolicy {
        self.policy
    }

    /// Waits for a slot of `class` until `deadline`, served after the waiters of the class with
    /// an earlier `ticket`.
    pub(crate) async fn take(
        &self,
        class: CallClass,
        ticket: OffsetDateTime,
        deadline: Instant,
    ) -> Result<Slot, Spent> {
        let waiter = Waiter { id: Uuid::new_v4(), class, ticket_ms: unix_ms(ticket) };
        let started = Instant::now();
        let mut waited = false;
        loop {
            let request =
                TakeRequest { account: self.account.clone(), waiter, now_ms: unix_ms(now()), policy: self.policy };
            let (taken, shared) = self.decide(&request).await;
            let retry_at_ms = match taken {
                Taken::Granted { slot } => {
                    if waited {
                        metrics::histogram!("factus_budget_wait_seconds", "class" => class.as_str())
                            .record(started.elapsed().as_secs_f64());
                    }
                    return Ok(Slot { id: slot, shared });
                }
                Taken::Wait { retry_at_ms } => retry_at_ms,
            };
            waited = true;
            let until_free = Duration::from_millis(u64::try_from(retry_at_ms - request.now_ms).unwrap_or(0));
            let jitter = Duration::from_millis(rand::random_range(0..=100));
            let pause = until_free.clamp(MIN_POLL, MAX_POLL) + jitter;
            let now = Instant::now();
            if now >= deadline {
                self.leave(waiter.id).await;
                metrics::counter!("factus_budget_spent_total", "class" => class.as_str()).increment(1);
                return Err(Spent { retry_after: until_free.max(Duration::from_secs(1)) });
            }
            // One last try at the deadline itself.
            tokio::time::sleep(pause.min(deadline - now)).await;
        }
    }

    /// Factus answered the call of `slot` (with `headers`, if it answered at all).
    pub(crate) async fn answered(&self, slot: Slot, headers: Option<&HeaderMap>, rate_limited: Option<Duration>) {
        let now_ms = unix_ms(now());
        drop(self.local.settle(&self.account, slot.id, now_ms).await);
        if slot.shared
            && let Err(error) = self.shared.settle(&self.account, slot.id, now_ms).await
        {
            tracing::warn!(error = format!("{error:#}"), "factus budget: could not record a call's answer");
        }
        let correction = match rate_limited {
            // Factus is full until Retry-After has passed.
            Some(wait) => Some((self.policy.limit, now_ms + i64::try_from(wait.as_millis()).unwrap_or(0))),
            // Only once Factus says the window is mostly used: before that our own count keeps
            // well clear of the limit, and the correction would cost a locked transaction on
            // every call.
            None => headers
                .and_then(|headers| remaining(headers, &self.policy))
                .filter(|(used, _)| used.saturating_mul(4) >= self.policy.limit.saturating_mul(3))
                // The reset is in whole seconds: rounding may place it in the past.
                .map(|(used, reset_ms)| (used, reset_ms.max(now_ms))),
        };
        let Some((used, until_ms)) = correction else { return };
        drop(self.local.correct(&self.account, used, until_ms, now_ms, self.policy).await);
        if slot.shared
            && let Err(error) = self.shared.correct(&self.account, used, until_ms, now_ms, self.policy).await
        {
            tracing::warn!(error = format!("{error:#}"), "factus budget: could not record Factus' count");
        }
    }

    async fn decide(&self, request: &TakeRequest) -> (Taken, bool) {
        if self.shared_is_up() {
            match tokio::time::timeout(STORE_TIMEOUT, self.shared.take(request)).await {
                Ok(Ok(taken)) => {
                    if let Taken::Granted { slot } = taken {
                        // Mirrored, so that counting alone (below) still knows this instance's calls.
                        self.local.record(&request.account, slot, request.waiter.class, request.now_ms);
                    }
                    return (taken, true);
                }
                Ok(Err(error)) => {
                    tracing::warn!(
                        error = format!("{error:#}"),
                        "factus budget: the shared store failed; counting alone"
                    );
                }
                Err(_) => tracing::warn!("factus budget: the shared store did not answer; counting alone"),
            }
            *self.shared_down_until.lock().unwrap_or_else(std::sync::PoisonError::into_inner) =
                Some(Instant::now() + STORE_BACKOFF);
        }
        let taken = self.local.take(request).await.unwrap_or(Taken::Wait { retry_at_ms: request.now_ms });
        (taken, false)
    }

    /// The calls of the window ending now, for the operator console. Counted where takes are
    /// decided: the shared store, or this instance's own count while the shared store is skipped
    /// or when it fails now (then [`BudgetUsage::this_instance_only`]). A failed read does not
    /// make takes count alone: a take finds out for itself.
    ///
    /// # Errors
    /// Only when this instance's own count fails as well.
    pub async fn usage(&self) -> anyhow::Result<BudgetUsage> {
        let now_ms = unix_ms(now());
        let usage = |count: WindowCount, this_instance_only| BudgetUsage {
            used: count.used,
            limit: self.policy.limit,
            window: self.policy.window,
            this_instance_only,
        };
        if self.shared_is_up() {
            match tokio::time::timeout(STORE_TIMEOUT, self.shared.usage(&self.account, now_ms, self.policy)).await {
                Ok(Ok(count)) => return Ok(usage(count, false)),
                Ok(Err(error)) => tracing::warn!(
                    error = format!("{error:#}"),
                    "factus budget: the shared store could not count the window; showing this instance's count"
                ),
                Err(_) => tracing::warn!(
                    "factus budget: the shared store did not count the window in time; showing this instance's count"
                ),
            }
        }
        let count = self.local.usage(&self.account, now_ms, self.policy).await?;
        Ok(usage(count, true))
    }

    fn shared_is_up(&self) -> bool {
        let down_until = self.shared_down_until.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        down_until.is_none_or(|until| Instant::now() >= until)
    }

    async fn leave(&self, waiter: Uuid) {
        if self.shared_is_up() {
            drop(tokio::time::timeout(STORE_TIMEOUT, self.shared.leave(&self.account, waiter)).await);
        }
        drop(self.local.leave(&self.account, waiter).await);
    }
}

/// Factus' own count from `X-RateLimit-Remaining` and `X-RateLimit-Reset` (Unix seconds): the
/// calls it counts and when its window ends, in Unix milliseconds.
fn remaining(headers: &HeaderMap, policy: &BudgetPolicy) -> Option<(u32, i64)> {
    let number = |name: &str| headers.get(name)?.to_str().ok()?.trim().parse::<i64>().ok();
    let remaining = u32::try_from(number("x-ratelimit-remaining")?).ok()?;
    let limit = number("x-ratelimit-limit").and_then(|limit| u32::try_from(limit).ok()).unwrap_or(policy.limit);
    let reset_ms = number("x-ratelimit-reset")?.checked_mul(1000)?;
    // Factus' limit may be lower than the configured one; never believe in more than either.
    let used = limit.min(policy.limit).saturating_sub(remaining.min(limit));
    Some((used, reset_ms))
}

fn now() -> OffsetDateTime {
    OffsetDateTime::now_utc()
}

tokio::task_local! {
    /// When the work a call belongs to arrived, if it is older than the call (a queued create).
    static ARRIVAL: OffsetDateTime;
}

/// Runs `work` with its calls ticketed at `arrived`, so that they wait behind older work only: a
/// queued create keeps the place it arrived at.
pub async fn arrived_at<F: std::future::Future>(arrived: OffsetDateTime, work: F) -> F::Output {
    ARRIVAL.scope(arrived, work).await
}

/// The ticket of a call made now.
pub(crate) fn ticket() -> OffsetDateTime {
    ARRIVAL.try_with(|arrived| *arrived).unwrap_or_else(|_| now())
}

/// Milliseconds since the Unix epoch.
#[must_use]
pub fn unix_ms(at: OffsetDateTime) -> i64 {
    i64::try_from(at.unix_timestamp_nanos() / 1_000_000).unwrap_or(i64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy() -> BudgetPolicy {
        BudgetPolicy { limit: 5, window: Duration::from_secs(1), read_reserve: 1 }
    }

    fn request(class: CallClass, ticket_ms: i64, now_ms: i64) -> TakeRequest {
        TakeRequest {
            account: "a".to_owned(),
            waiter: Waiter { id: Uuid::new_v4(), class, ticket_ms },
            now_ms,
            policy: policy(),
        }
    }

    fn calls(class: CallClass, times: &[i64]) -> Vec<CountedCall> {
        times.iter().map(|&at_ms| CountedCall { class: Some(class), at_ms, weight: 1 }).collect()
    }

    fn count(calls: &[CountedCall]) -> WindowCount {
        WindowCount::of(calls)
    }

    #[test]
    fn a_full_window_waits_until_its_oldest_call_leaves_it() {
        let full = calls(CallClass::Create, &[1_000, 1_200, 1_400, 1_600, 1_800]);
        assert_eq!(
            decide(count(&full), &[], &request(CallClass::Create, 0, 1_900)),
            Decision::Wait { retry_at_ms: 2_000 }
        );
        let first_left = count(&full[1..]);
        assert_eq!(decide(first_left, &[], &request(CallClass::Create, 0, 2_000)), Decision::Grant);
    }

    #[test]
    fn reads_keep_their_reserve_while_creates_wait_and_take_everything_otherwise() {
        let four = calls(CallClass::Create, &[1_000, 1_100, 1_200]);
        let create_waiting = [Waiter { id: Uuid::new_v4(), class: CallClass::Create, ticket_ms: 0 }];
        let read = request(CallClass::Read, 0, 1_500);
        assert_eq!(decide(count(&four), &create_waiting, &read), Decision::Grant, "the reserve is unused");
        let with_a_read = [four.clone(), calls(CallClass::Read, &[1_300])].concat();
        assert!(
            matches!(decide(count(&with_a_read), &create_waiting, &read), Decision::Wait { .. }),
            "reserve used up"
        );
        assert_eq!(
            decide(count(&with_a_read), &[], &read),
            Decision::Grant,
            "no create waits: the last slot is the read's"
        );
    }

    #[test]
    fn creates_leave_the_reserve_free_while_reads_wait() {
        let four = calls(CallClass::Create, &[1_000, 1_100, 1_200, 1_300]);
        let read_waiting = [Waiter { id: Uuid::new_v4(), class: CallClass::Read, ticket_ms: 0 }];
        let create = request(CallClass::Create, 0, 1_500);
        assert!(matches!(decide(count(&four), &read_waiting, &create), Decision::Wait { .. }));
        assert_eq!(decide(count(&four), &[], &create), Decision::Grant);
    }

    #[test]
    fn waiters_of_one_class_are_served_oldest_ticket_first() {
        let older = Waiter { id: Uuid::new_v4(), class: CallClass::Create, ticket_ms: 10 };
        assert!(matches!(decide(count(&[]), &[older], &request(CallClass::Create, 20, 1_000)), Decision::Wait { .. }));
        assert_eq!(decide(count(&[]), &[older], &request(CallClass::Create, 5, 1_000)), Decision::Grant);
        assert_eq!(decide(count(&[]), &[older], &request(CallClass::Read, 20, 1_000)), Decision::Grant, "other class");
    }

    #[test]
    fn factus_headers_are_read_as_calls_used_and_the_end_of_its_window() {
        let mut headers = HeaderMap::new();
        headers.insert("x-ratelimit-limit", "80".parse().expect("header"));
        headers.insert("x-ratelimit-remaining", "70".parse().expect("header"));
        headers.insert("x-ratelimit-reset", "1700000000".parse().expect("header"));
        assert_eq!(remaining(&headers, &BudgetPolicy::default()), Some((10, 1_700_000_000_000)));
        headers.insert("x-ratelimit-limit", "20".parse().expect("header"));
        headers.insert("x-ratelimit-remaining", "5".parse().expect("header"));
        assert_eq!(remaining(&headers, &BudgetPolicy::default()), Some((15, 1_700_000_000_000)));
        assert_eq!(remaining(&HeaderMap::new(), &BudgetPolicy::default()), None);
    }

    #[tokio::test]
    async fn the_local_store_never_grants_more_than_the_limit_in_a_window_and_honours_corrections() {
        let store = LocalBudgetStore::default();
        let mut granted = 0;
        for _ in 0..10 {
            let request = request(CallClass::Create, 0, 1_000);
            if let Taken::Granted { .. } = store.take(&request).await.expect("take") {
                granted += 1;
            }
            store.leave("a", request.waiter.id).await.expect("leave");
        }
        assert_eq!(granted, 5);
        assert!(matches!(store.take(&request(CallClass::Create, 0, 2_000)).await, Ok(Taken::Granted { .. })));

        // Factus counts 5 in its window [1,500, 2,500): 4 more than our one call at 2,000.
        store.correct("a", 5, 2_500, 2_000, policy()).await.expect("correct");
        let waiting = request(CallClass::Create, 0, 2_400);
        assert!(matches!(store.take(&waiting).await, Ok(Taken::Wait { retry_at_ms: 2_500 })));
        let at_the_reset = TakeRequest { now_ms: 2_500, ..waiting };
        assert!(matches!(store.take(&at_the_reset).await, Ok(Taken::Granted { .. })));
    }

    #[tokio::test]
    async fn the_local_usage_counts_the_window_without_forgetting_anything() {
        let store = LocalBudgetStore::default();
        assert_eq!(store.usage("a", 1_000, policy()).await.expect("usage"), WindowCount::default());
        assert!(matches!(store.take(&request(CallClass::Create, 0, 1_000)).await, Ok(Taken::Granted { .. })));
        assert!(matches!(store.take(&request(CallClass::Read, 0, 1_500)).await, Ok(Taken::Granted { .. })));
        let both = WindowCount { used: 2, reads: 1, oldest_ms: Some(1_000) };
        assert_eq!(store.usage("a", 1_900, policy()).await.expect("usage"), both);
        let the_read = WindowCount { used: 1, reads: 1, oldest_ms: Some(1_500) };
        assert_eq!(store.usage("a", 2_000, policy()).await.expect("usage"), the_read, "the create left the window");
        assert_eq!(store.usage("a", 1_900, policy()).await.expect("usage"), both, "counting forgot nothing");
        assert_eq!(store.usage("b", 1_900, policy()).await.expect("usage").used, 0);
    }

    /// A shared store whose database does not answer.
    #[derive(Debug)]
    struct Unreachable;

    #[async_trait]
    impl BudgetStore for Unreachable {
        async fn take(&self, _: &TakeRequest) -> anyhow::Result<Taken> {
            anyhow::bail!("the database does not answer")
        }
        async fn settle(&self, _: &str, _: Uuid, _: i64) -> anyhow::Result<()> {
            anyhow::bail!("the database does not answer")
        }
        async fn correct(&self, _: &str, _: u32, _: i64, _: i64, _: BudgetPolicy) -> anyhow::Result<()> {
            anyhow::bail!("the database does not answer")
        }
        async fn leave(&self, _: &str, _: Uuid) -> anyhow::Result<()> {
            anyhow::bail!("the database does not answer")
        }
        async fn usage(&self, _: &str, _: i64, _: BudgetPolicy) -> anyhow::Result<WindowCount> {
            anyhow::bail!("the database does not answer")
        }
    }

    #[tokio::test]
    async fn the_usage_is_the_shared_count_and_this_instances_own_when_the_shared_store_fails() {
        let policy = BudgetPolicy::new(80, Duration::from_secs(60));
        let deadline = Instant::now() + Duration::from_secs(1);
        let shared: Arc<dyn BudgetStore> = Arc::new(LocalBudgetStore::default());
        let working = Budget::new("a", policy, Arc::clone(&shared));
        working.take(CallClass::Create, now(), deadline).await.expect("a slot");
        // Another instance's call, which only the shared store knows of.
        let other = TakeRequest {
            account: "a".to_owned(),
            waiter: Waiter { id: Uuid::new_v4(), class: CallClass::Read, ticket_ms: 0 },
            now_ms: unix_ms(now()),
            policy,
        };
        assert!(matches!(shared.take(&other).await, Ok(Taken::Granted { .. })));
        let usage = working.usage().await.expect("usage");
        assert_eq!(
            usage,
            BudgetUsage { used: 2, limit: 80, window: Duration::from_secs(60), this_instance_only: false }
        );

        let failing = Budget::new("a", policy, Arc::new(Unreachable));
        failing.take(CallClass::Create, now(), deadline).await.expect("a slot counted alone");
        let usage = failing.usage().await.expect("usage");
        assert_eq!(
            usage,
            BudgetUsage { used: 1, limit: 80, window: Duration::from_secs(60), this_instance_only: true }
        );
    }
}
