//! The Factus call budget in the database, shared by every instance ([`SqlBudgetStore`]).
//!
//! One set of statements serves both backends (the tables are in
//! `migrations/*/20261201120001_factus_budget.sql`); they differ only in how a take holds the
//! account: Postgres locks the account's row (`SELECT … FOR UPDATE`), SQLite takes the database's
//! write lock at the start (`BEGIN IMMEDIATE`), so a deferred read-then-write never fails with
//! `SQLITE_BUSY` under load.

use std::marker::PhantomData;

use anyhow::Context as _;
use async_trait::async_trait;
use sqlx::{ColumnIndex, Decode, Encode, Executor, IntoArguments, Row, Transaction, Type};
use uuid::Uuid;

use super::Database;
use crate::factus::budget::{
    BudgetPolicy, BudgetStore, CallClass, Decision, TakeRequest, Taken, WAITER_LIVENESS, Waiter, WindowCount, decide,
    missing_calls,
};

/// [`BudgetStore`] on the service's database.
#[derive(Debug, Clone)]
pub struct SqlBudgetStore {
    database: Database,
}

impl SqlBudgetStore {
    #[must_use]
    pub fn new(database: Database) -> Self {
        Self { database }
    }
}

/// The class of a call somebody else made.
const EXTERNAL: &str = "external";

fn class_of(text: &str) -> Option<CallClass> {
    match text {
        "create" => Some(CallClass::Create),
        "read" => Some(CallClass::Read),
        _ => None,
    }
}

/// Opens a transaction holding `account` for the caller, runs `work` in it and commits.
macro_rules! locked {
    ($store:expr, $account:expr, |$tx:ident| $work:expr) => {
        match &$store.database {
            Database::Postgres(pool) => {
                let mut $tx = pool.begin().await.context("starting a budget transaction")?;
                Statements::hold(&mut $tx, $account, " FOR UPDATE").await?;
                let result = $work;
                $tx.commit().await.context("committing a budget transaction")?;
                result
            }
            Database::Sqlite(pool) => {
                let mut $tx = pool.begin_with("BEGIN IMMEDIATE").await.context("starting a budget transaction")?;
                Statements::hold(&mut $tx, $account, "").await?;
                let result = $work;
                $tx.commit().await.context("committing a budget transaction")?;
                result
            }
        }
    };
}

/// The statements on one backend: generic over the driver, with the bounds sqlx needs to bind
/// and read integers and texts written once for all of them.
struct Statements<DB>(PhantomData<DB>);

impl<DB: sqlx::Database> Statements<DB>
where
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
    DB::Arguments: IntoArguments<DB>,
    for<'q> i64: Encode<'q, DB> + Type<DB> + Decode<'q, DB>,
    for<'q> String: Encode<'q, DB> + Type<DB> + Decode<'q, DB>,
    usize: ColumnIndex<DB::Row>,
{
    async fn hold(tx: &mut Transaction<'_, DB>, account: &str, lock: &str) -> anyhow::Result<()> {
        sqlx::query::<DB>("INSERT INTO factus_budget_accounts (account) VALUES ($1) ON CONFLICT DO NOTHING")
            .bind(account.to_owned())
            .execute(&mut **tx)
            .await
            .context("registering a budget account")?;
        sqlx::query::<DB>(sqlx::AssertSqlSafe(format!(
            "SELECT account FROM factus_budget_accounts WHERE account = $1{lock}"
        )))
        .bind(account.to_owned())
        .fetch_all(&mut **tx)
        .await
        .context("locking a budget account")?;
        Ok(())
    }

    /// Forgets what left the window, and counts the calls in it.
    async fn counted_calls(
        tx: &mut Transaction<'_, DB>,
        account: &str,
        now_ms: i64,
        policy: &BudgetPolicy,
    ) -> anyhow::Result<WindowCount> {
        let window_ms = policy.window_ms();
        sqlx::query::<DB>("DELETE FROM factus_budget_calls WHERE account = $1 AND at_ms <= $2")
            .bind(account.to_owned())
            .bind(now_ms - window_ms)
            .execute(&mut **tx)
            .await
            .context("forgetting old budget calls")?;
        Self::window_count(&mut **tx, account, now_ms - window_ms).await
    }

    /// Counts the calls younger than `since_ms`: those a take counts after forgetting the older ones,
    /// so that a read-only count ([`BudgetStore::usage`]) agrees with what takes decide on.
    async fn window_count<'e>(
        executor: impl Executor<'e, Database = DB>,
        account: &str,
        since_ms: i64,
    ) -> anyhow::Result<WindowCount> {
        let row = sqlx::query::<DB>(
            "SELECT CAST(COALESCE(SUM(weight), 0) AS BIGINT), \
             CAST(COALESCE(SUM(CASE WHEN class = 'read' THEN weight ELSE 0 END), 0) AS BIGINT), \
             COALESCE(MIN(at_ms), -1) FROM factus_budget_calls WHERE account = $1 AND at_ms > $2",
        )
        .bind(account.to_owned())
        .bind(since_ms)
        .fetch_one(executor)
        .await
        .context("counting budget calls")?;
        let (used, reads, oldest): (i64, i64, i64) = (row.try_get(0)?, row.try_get(1)?, row.try_get(2)?);
        Ok(WindowCount {
            used: u32::try_from(used).unwrap_or(u32::MAX),
            reads: u32::try_from(reads).unwrap_or(u32::MAX),
            oldest_ms: (used > 0).then_some(oldest),
        })
    }

    async fn take_in(tx: &mut Transaction<'_, DB>, request: &TakeRequest) -> anyhow::Result<Taken> {
        let TakeRequest { account, waiter, now_ms, policy } = request;
        let count = Self::counted_calls(tx, account, *now_ms, policy).await?;
        let liveness_ms = i64::try_from(WAITER_LIVENESS.as_millis()).unwrap_or(i64::MAX / 4);
        sqlx::query::<DB>("DELETE FROM factus_budget_waiters WHERE account = $1 AND seen_ms <= $2")
            .bind(account.clone())
            .bind(now_ms - liveness_ms)
            .execute(&mut **tx)
            .await
            .context("forgetting gone budget waiters")?;
        let rows = sqlx::query::<DB>("SELECT waiter, class, ticket_ms FROM factus_budget_waiters WHERE account = $1")
            .bind(account.clone())
            .fetch_all(&mut **tx)
            .await
            .context("reading budget waiters")?;
        let mut waiters = Vec::with_capacity(rows.len());
        for row in &rows {
            let (id, class, ticket_ms): (String, String, i64) = (row.try_get(0)?, row.try_get(1)?, row.try_get(2)?);
            if let (Ok(id), Some(class)) = (Uuid::parse_str(&id), class_of(&class)) {
                waiters.push(Waiter { id, class, ticket_ms });
            }
        }
        match decide(count, &waiters, request) {
            Decision::Grant => {
                let slot = Uuid::new_v4();
                sqlx::query::<DB>("DELETE FROM factus_budget_waiters WHERE account = $1 AND waiter = $2")
                    .bind(account.clone())
                    .bind(waiter.id.to_string())
                    .execute(&mut **tx)
                    .await
                    .context("removing a served budget waiter")?;
                sqlx::query::<DB>(
                    "INSERT INTO factus_budget_calls (slot, account, class, at_ms) VALUES ($1, $2, $3, $4)",
                )
                .bind(slot.to_string())
                .bind(account.clone())
                .bind(waiter.class.as_str().to_owned())
                .bind(*now_ms)
                .execute(&mut **tx)
                .await
                .context("recording a budget call")?;
                Ok(Taken::Granted { slot })
            }
            Decision::Wait { retry_at_ms } => {
                sqlx::query::<DB>(
                    "INSERT INTO factus_budget_waiters (account, waiter, class, ticket_ms, seen_ms) \
                     VALUES ($1, $2, $3, $4, $5) ON CONFLICT (account, waiter) DO UPDATE SET seen_ms = $5",
                )
                .bind(account.clone())
                .bind(waiter.id.to_string())
                .bind(waiter.class.as_str().to_owned())
                .bind(waiter.ticket_ms)
                .bind(*now_ms)
                .execute(&mut **tx)
                .await
                .context("recording a budget waiter")?;
                Ok(Taken::Wait { retry_at_ms })
            }
        }
    }

    async fn correct_in(
        tx: &mut Transaction<'_, DB>,
        account: &str,
        used: u32,
        until_ms: i64,
        now_ms: i64,
        policy: &BudgetPolicy,
    ) -> anyhow::Result<()> {
        let counted = Self::counted_calls(tx, account, now_ms, policy).await?.used;
        let window_ms = policy.window_ms();
        let missing = missing_calls(counted, used);
        if missing > 0 {
            sqlx::query::<DB>(
                "INSERT INTO factus_budget_calls (slot, account, class, at_ms, weight) VALUES ($1, $2, $3, $4, $5)",
            )
            .bind(Uuid::new_v4().to_string())
            .bind(account.to_owned())
            .bind(EXTERNAL.to_owned())
            .bind(until_ms - window_ms)
            .bind(i64::from(missing))
            .execute(&mut **tx)
            .await
            .context("recording Factus' count")?;
        }
        Ok(())
    }

    async fn execute(
        pool: &sqlx::Pool<DB>,
        sql: &'static str,
        account: &str,
        id: Uuid,
        at_ms: Option<i64>,
    ) -> anyhow::Result<()> {
        let mut query = sqlx::query::<DB>(sql).bind(account.to_owned()).bind(id.to_string());
        if let Some(at_ms) = at_ms {
            query = query.bind(at_ms);
        }
        let mut connection = pool.acquire().await.context("budget: acquiring a connection")?;
        query.execute(&mut *connection).await.with_context(|| format!("budget: {sql}"))?;
        Ok(())
    }
}

/// A call's answer time: later than when it was taken, never earlier.
const SETTLE: &str = "UPDATE factus_budget_calls SET at_ms = CASE WHEN at_ms < $3 THEN $3 ELSE at_ms END \
                      WHERE account = $1 AND slot = $2";
const LEAVE: &str = "DELETE FROM factus_budget_waiters WHERE account = $1 AND waiter = $2";

#[async_trait]
impl BudgetStore for SqlBudgetStore {
    async fn take(&self, request: &TakeRequest) -> anyhow::Result<Taken> {
        Ok(locked!(self, &request.account, |tx| Statements::take_in(&mut tx, request).await?))
    }

    async fn settle(&self, account: &str, slot: Uuid, at_ms: i64) -> anyhow::Result<()> {
        on_pool!(&self.database, pool => Statements::execute(pool, SETTLE, account, slot, Some(at_ms)).await)
    }

    async fn correct(
        &self,
        account: &str,
        used: u32,
        until_ms: i64,
        now_ms: i64,
        policy: BudgetPolicy,
    ) -> anyhow::Result<()> {
        locked!(self, account, |tx| Statements::correct_in(&mut tx, account, used, until_ms, now_ms, &policy).await?);
        Ok(())
    }

    async fn leave(&self, account: &str, waiter: Uuid) -> anyhow::Result<()> {
        on_pool!(&self.database, pool => Statements::execute(pool, LEAVE, account, waiter, None).await)
    }

    async fn usage(&self, account: &str, now_ms: i64, policy: BudgetPolicy) -> anyhow::Result<WindowCount> {
        // No transaction and no lock: one statement sees one snapshot, and a watcher must not
        // queue behind the takers on the account's row.
        let since_ms = now_ms - policy.window_ms();
        on_pool!(&self.database, pool => Statements::window_count(pool, account, since_ms).await)
    }
}
