//! The database: one pool, Postgres or SQLite, chosen at run time by the URL.
//!
//! Postgres is the deployment backend (several instances share it); SQLite is the embedded
//! default that lets a newcomer run the service with nothing installed. Both implement the same
//! ports and pass the same contract suites (`tests/user_store_contract.rs`,
//! `tests/ledger_contract.rs`).
//!
//! Layout:
//! - [`Database`]: connecting, migrating, pinging, and handing out the stores as ports.
//! - [`postgres`]: [`PgUserStore`], [`PgLoginAttemptStore`].
//! - [`sqlite`]: [`SqliteUserStore`], [`SqliteLoginAttemptStore`], and the timestamp encoding
//!   every SQLite table uses.
//! - [`ledger_postgres`], [`ledger_sqlite`]: the invoice ledger ([`PgLedgerStore`],
//!   [`SqliteLedgerStore`]); `ledger` holds what both share (row shape, stored response, paging).
//! - [`api_keys_postgres`], [`api_keys_sqlite`]: API keys ([`PgApiKeyStore`], [`SqliteApiKeyStore`]).
//! - [`webhooks`]: the webhook outbox ([`SqlWebhookStore`]), and [`document_files`]: validated
//!   documents' PDF and XML ([`SqlDocumentFileStore`]); one set of statements for both backends
//!   (`on_pool!`).
//! - [`budget`]: the Factus call budget shared by every instance ([`SqlBudgetStore`]), one set of
//!   statements for both backends.
//!
//! Each adapter is written once, as a macro in the shared module (`users`, `ledger`,
//! `api_keys`) that a backend module invokes with what differs: the SQL is the same text on both
//! backends (`$n` parameters, which SQLite reads too), and the backend module says how it binds a
//! UUID or a timestamp, decodes one (`uuid`, `timestamp`, `optional_timestamp`, with which
//! `user_row!` and `api_key_row!` read a row the same on both) and recognises a unique violation. A macro rather than
//! code generic over `sqlx::Database`, whose bounds would outgrow the code they share.
//!
//! Queries are checked at run time (`sqlx::query` with `.bind`), not with the `query!` macros:
//! the repository has no offline query cache and builds without a database.

/// A store over one backend's pool: the struct and constructor every adapter macro declares.
macro_rules! pooled_store {
    ($(#[$attribute:meta])* $store:ident($pool:ty)) => {
        $(#[$attribute])*
        #[derive(Debug, Clone)]
        pub struct $store {
            pool: $pool,
        }

        impl $store {
            #[must_use]
            pub fn new(pool: $pool) -> Self {
                Self { pool }
            }
        }
    };
}
use pooled_store;

/// Runs `$body` with `$pool` bound to the database's pool, whichever backend it is: one statement
/// text, compiled once per driver. For tables whose columns have the same types on both backends
/// (text, integers, booleans; `$n` placeholders work on SQLite too): the webhook outbox and the
/// stored documents.
macro_rules! on_pool {
    ($database:expr, $pool:ident => $body:expr) => {
        match $database {
            Database::Postgres($pool) => $body,
            Database::Sqlite($pool) => $body,
        }
    };
}

mod api_keys;
pub mod api_keys_postgres;
pub mod api_keys_sqlite;
pub mod budget;
pub mod document_files;
mod ledger;
pub mod ledger_postgres;
pub mod ledger_sqlite;
pub mod postgres;
pub mod sqlite;
pub(crate) mod url;
mod users;
pub mod webhooks;

use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use factus_application::StoreError;
use factus_application::ports::{LoginAttemptStore, UserStore};
use factus_domain::user::{PasswordHash, Role, User, Username};
use sqlx::migrate::Migrator;
use sqlx::postgres::PgPoolOptions;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{PgPool, SqlitePool};
use time::OffsetDateTime;
use uuid::Uuid;

pub use self::api_keys_postgres::PgApiKeyStore;
pub use self::api_keys_sqlite::SqliteApiKeyStore;
pub use self::budget::SqlBudgetStore;
pub use self::document_files::SqlDocumentFileStore;
pub use self::ledger_postgres::PgLedgerStore;
pub use self::ledger_sqlite::SqliteLedgerStore;
pub use self::postgres::{PgLoginAttemptStore, PgUserStore};
pub use self::sqlite::{SqliteLoginAttemptStore, SqliteUserStore};
pub use self::url::redact_url;
pub use self::webhooks::SqlWebhookStore;

/// The Postgres migrations, embedded at compile time. Public so that other test suites can use
/// them (for example with `#[sqlx::test(migrator = "…")]`).
pub static POSTGRES_MIGRATIONS: Migrator = sqlx::migrate!("../../migrations/postgres");

/// The SQLite migrations, embedded at compile time.
pub static SQLITE_MIGRATIONS: Migrator = sqlx::migrate!("../../migrations/sqlite");

/// How long a request waits for a pooled connection before failing, unless configured
/// (`DATABASE_ACQUIRE_TIMEOUT_SECS`). A readiness probe or a request should fail visibly (503
/// `Base de datos no disponible`) rather than hang when the database is saturated or gone.
pub const DEFAULT_ACQUIRE_TIMEOUT: Duration = Duration::from_secs(2);

/// How long a SQLite statement waits for the write lock held by another connection. SQLite has
/// one writer at a time; waiting a little turns contention into latency instead of errors.
const SQLITE_BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// The most connections a SQLite pool opens. Writers queue on one lock whatever the pool size,
/// and WAL lets a few readers run beside the writer; more connections only add contention.
const SQLITE_MAX_CONNECTIONS: u32 = 4;

/// The connection pool of the backend in use.
#[derive(Debug, Clone)]
pub enum Database {
    Postgres(PgPool),
    Sqlite(SqlitePool),
}

impl Database {
    /// Connects to `url`: `postgres://…` or `postgresql://…` for Postgres, `sqlite:…` for SQLite
    /// (`sqlite://factus-api.db`, `sqlite::memory:`). A SQLite file is created when missing and
    /// opened in WAL mode, with foreign keys on and a busy timeout.
    ///
    /// Postgres gets up to `max_connections`; SQLite at most [`SQLITE_MAX_CONNECTIONS`] (one
    /// for an in-memory database, which exists only inside its connection).
    ///
    /// # Errors
    /// When the scheme is neither, the URL cannot be parsed, or the first connection fails.
    /// Messages show the URL with its password hidden.
    pub async fn connect(url: &str, max_connections: u32) -> anyhow::Result<Self> {
        Self::connect_with(url, max_connections, DEFAULT_ACQUIRE_TIMEOUT).await
    }

    /// [`Database::connect`] with how long a request may wait for a connection.
    ///
    /// # Errors
    /// As [`Database::connect`].
    pub async fn connect_with(url: &str, max_connections: u32, acquire_timeout: Duration) -> anyhow::Result<Self> {
        let shown = redact_url(url);
        let max_connections = max_connections.max(1);
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            let pool = PgPoolOptions::new()
                .max_connections(max_connections)
                .acquire_timeout(acquire_timeout)
                .connect(url)
                .await
                .with_context(|| format!("connecting to Postgres at {shown}"))?;
            Ok(Self::Postgres(pool))
        } else if url.starts_with("sqlite:") {
            Self::connect_sqlite(url, &shown, max_connections, acquire_timeout).await
        } else {
            anyhow::bail!("unsupported database URL {shown}: expected postgres://, postgresql:// or sqlite:")
        }
    }

    async fn connect_sqlite(
        url: &str,
        shown: &str,
        max_connections: u32,
        acquire_timeout: Duration,
    ) -> anyhow::Result<Self> {
        let in_memory = url.contains(":memory:") || url.contains("mode=memory");
        let options = SqliteConnectOptions::from_str(url)
            .with_context(|| format!("parsing SQLite URL {shown}"))?
            .create_if_missing(true)
            .foreign_keys(true)
            .busy_timeout(SQLITE_BUSY_TIMEOUT)
            // No memory-mapped I/O: with the file mapped, a truncated or vanished file is a
            // SIGBUS that kills the process; with read()/write() it is an error for one request.
            .pragma("mmap_size", "0");
        let pool_options = if in_memory {
            // Every connection to `:memory:` would see its own empty database, so the pool keeps
            // exactly one, forever.
            SqlitePoolOptions::new().max_connections(1).min_connections(1).idle_timeout(None).max_lifetime(None)
        } else {
            SqlitePoolOptions::new().max_connections(max_connections.min(SQLITE_MAX_CONNECTIONS))
        };
        let options = if in_memory {
            options
        } else {
            // A rollback journal, not WAL: WAL keeps its index in a memory-mapped `-shm` file,
            // and a storage fault on a mapped file (truncated, disk full) kills the process with
            // SIGBUS instead of failing a request. The journal is created next to the database
            // for every write transaction, so a write into a deleted or unwritable directory
            // fails at once instead of landing in an unlinked file. FULL sync makes every commit
            // durable before it returns: a ledger claim must be on disk before Factus is called.
            options.journal_mode(SqliteJournalMode::Delete).synchronous(SqliteSynchronous::Full)
        };
        let pool = pool_options
            .acquire_timeout(acquire_timeout)
            .connect_with(options)
            .await
            .with_context(|| format!("opening SQLite database {shown}"))?;
        Ok(Self::Sqlite(pool))
    }

    /// Applies the migrations of the backend that are not applied yet. Safe to run on every
    /// start and from several instances at once (Postgres takes an advisory lock).
    ///
    /// # Errors
    /// When a migration fails or an applied migration was changed afterwards.
    pub async fn migrate(&self) -> anyhow::Result<()> {
        match self {
            Self::Postgres(pool) => POSTGRES_MIGRATIONS.run(pool).await.context("applying the Postgres migrations")?,
            Self::Sqlite(pool) => SQLITE_MIGRATIONS.run(pool).await.context("applying the SQLite migrations")?,
        }
        Ok(())
    }

    /// Checks the database answers and accepts writes (readiness probe).
    ///
    /// # Errors
    /// [`StoreError`] when it does not.
    pub async fn ping(&self) -> Result<(), StoreError> {
        match self {
            Self::Postgres(pool) => postgres::probe(pool).await,
            Self::Sqlite(pool) => sqlite::probe(pool).await,
        }
    }

    /// `"postgres"` or `"sqlite"`, for logs, metrics and the readiness answer.
    #[must_use]
    pub fn backend_name(&self) -> &'static str {
        match self {
            Self::Postgres(_) => "postgres",
            Self::Sqlite(_) => "sqlite",
        }
    }

    /// The users of this database, as the port the use cases take.
    #[must_use]
    pub fn user_store(&self) -> Arc<dyn UserStore> {
        match self {
            Self::Postgres(pool) => Arc::new(PgUserStore::new(pool.clone())),
            Self::Sqlite(pool) => Arc::new(SqliteUserStore::new(pool.clone())),
        }
    }

    /// The failed-login records of this database, as the port the use cases take.
    #[must_use]
    pub fn login_attempts(&self) -> Arc<dyn LoginAttemptStore> {
        match self {
            Self::Postgres(pool) => Arc::new(PgLoginAttemptStore::new(pool.clone())),
            Self::Sqlite(pool) => Arc::new(SqliteLoginAttemptStore::new(pool.clone())),
        }
    }

    /// The invoice ledger of this database, as the port the issuance use case takes.
    #[must_use]
    pub fn ledger_store(&self) -> Arc<dyn factus_application::ledger::LedgerStore> {
        match self {
            Self::Postgres(pool) => Arc::new(PgLedgerStore::new(pool.clone())),
            Self::Sqlite(pool) => Arc::new(SqliteLedgerStore::new(pool.clone())),
        }
    }

    /// The API keys of this database, as the port the use cases take.
    #[must_use]
    pub fn api_key_store(&self) -> Arc<dyn factus_application::api_keys::ApiKeyStore> {
        match self {
            Self::Postgres(pool) => Arc::new(PgApiKeyStore::new(pool.clone())),
            Self::Sqlite(pool) => Arc::new(SqliteApiKeyStore::new(pool.clone())),
        }
    }

    /// The stored PDFs and XMLs of validated documents, as the port the invoice use cases take.
    #[must_use]
    pub fn document_file_store(&self) -> Arc<dyn factus_application::documents::DocumentFileStore> {
        Arc::new(SqlDocumentFileStore::new(self.clone()))
    }

    /// The webhook outbox of this database, as the port the webhook use cases take.
    #[must_use]
    pub fn webhook_store(&self) -> Arc<dyn factus_application::webhooks::WebhookStore> {
        Arc::new(SqlWebhookStore::new(self.clone()))
    }

    /// Closes every connection, waiting for the ones in use to be returned (graceful shutdown;
    /// also lets a test drop its database).
    pub async fn close(&self) {
        match self {
            Self::Postgres(pool) => pool.close().await,
            Self::Sqlite(pool) => pool.close().await,
        }
    }
}

/// A user as stored, in the types both backends can produce. Each backend decodes its own row
/// into this (SQLite keeps UUIDs and timestamps as text); the conversion into the domain
/// [`User`] parses the username and role once, here.
#[derive(Debug, Clone)]
pub struct UserRow {
    pub id: Uuid,
    pub username: String,
    pub password_hash: String,
    pub role: String,
    pub disabled: bool,
    pub token_version: i64,
    pub created_at: OffsetDateTime,
    pub updated_at: OffsetDateTime,
}

/// `FromRow` for [`UserRow`] on the backend whose row is `$backend`: the id and the timestamps
/// through that backend's `uuid` and `timestamp` (in scope where this is written), every other
/// column read as it is.
macro_rules! user_row {
    ($backend:ty) => {
        impl sqlx::FromRow<'_, $backend> for UserRow {
            fn from_row(row: &$backend) -> sqlx::Result<Self> {
                Ok(Self {
                    id: uuid(row, "id")?,
                    username: row.try_get("username")?,
                    password_hash: row.try_get("password_hash")?,
                    role: row.try_get("role")?,
                    disabled: row.try_get("disabled")?,
                    token_version: row.try_get("token_version")?,
                    created_at: timestamp(row, "created_at")?,
                    updated_at: timestamp(row, "updated_at")?,
                })
            }
        }
    };
}
use user_row;

impl TryFrom<UserRow> for User {
    type Error = anyhow::Error;

    fn try_from(row: UserRow) -> Result<Self, Self::Error> {
        let username = Username::parse(&row.username)
            .with_context(|| format!("user {} has an invalid username {:?}", row.id, row.username))?;
        let role =
            Role::parse(&row.role).with_context(|| format!("user {} has an invalid role {:?}", row.id, row.role))?;
        Ok(Self {
            id: row.id,
            username,
            password_hash: PasswordHash::from_phc(row.password_hash),
            role,
            disabled: row.disabled,
            token_version: row.token_version,
            created_at: row.created_at,
            updated_at: row.updated_at,
        })
    }
}

/// The longest attempted username kept for throttling. Anything typed into the login form is
/// recorded, and an index entry must stay small; no valid username comes close to this.
const MAX_ATTEMPTED_USERNAME_CHARS: usize = 256;

/// The attempted username as recorded and looked up: cut to [`MAX_ATTEMPTED_USERNAME_CHARS`]
/// characters, the same way for every method, so long names still throttle together. A NUL
/// (which Postgres text cannot hold, failing the whole login with a 500) becomes U+FFFD, so
/// such a guess is throttled like any other and answered as a wrong password.
fn attempted_username_key(username: &str) -> std::borrow::Cow<'_, str> {
    let cut = match username.char_indices().nth(MAX_ATTEMPTED_USERNAME_CHARS) {
        Some((end, _)) => &username[..end],
        None => username,
    };
    if cut.contains('\0') {
        std::borrow::Cow::Owned(cut.replace('\0', "\u{fffd}"))
    } else {
        std::borrow::Cow::Borrowed(cut)
    }
}

/// The timestamp as both backends store it: cut to whole microseconds, rounding down.
///
/// Done before binding rather than left to the driver, because sqlx rounds a Postgres value
/// toward 2000-01-01 (Postgres' epoch), which is *up* for earlier instants, while SQLite text
/// keeps the leading digits; cutting first makes both backends store the same instant.
fn truncate_to_micros(at: OffsetDateTime) -> OffsetDateTime {
    let nanos = at.nanosecond();
    at.replace_nanosecond(nanos - nanos % 1_000).unwrap_or(at)
}

/// Wraps a driver error with what was being attempted: the only way it reaches a log line.
/// Failures of the database itself (rather than of the statement) are marked unavailable, which
/// the edge answers 503 instead of 500.
fn unexpected(error: sqlx::Error, attempted: impl Into<String>) -> StoreError {
    match unavailability(&error) {
        Some(read_only) => StoreError::unavailable(error, read_only, attempted),
        None => StoreError(anyhow::Error::new(error).context(attempted.into())),
    }
}

/// `Some(read_only)` when `error` says the database cannot serve requests now, rather than that
/// this statement is wrong: no connection within the acquire timeout, the connection lost, the
/// server shutting down or refusing connections, a read-only server or file, storage full or
/// failing. `None` for everything else (constraint violations, bad SQL, decoding), which stays a
/// 500 and is a bug.
fn unavailability(error: &sqlx::Error) -> Option<bool> {
    match error {
        sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed | sqlx::Error::Io(_) | sqlx::Error::Tls(_) => Some(false),
        sqlx::Error::Database(database) => {
            let code = database.code()?;
            // SQLite reports its (extended) result code as a number; the primary code is the
            // low byte. Postgres reports a five-character SQLSTATE (which may be all digits).
            if database.try_downcast_ref::<sqlx::sqlite::SqliteError>().is_some() {
                let extended = code.parse::<i32>().ok()?;
                return match extended & 0xff {
                    // SQLITE_READONLY
                    8 => Some(true),
                    // BUSY (after the busy timeout), LOCKED, NOMEM, IOERR, CORRUPT, FULL,
                    // CANTOPEN, NOTADB: the file or its storage, not the statement.
                    5 | 6 | 7 | 10 | 11 | 13 | 14 | 26 => Some(false),
                    _ => None,
                };
            }
            match code.as_ref() {
                // read_only_sql_transaction: a standby, or default_transaction_read_only.
                "25006" => Some(true),
                // The database does not exist, refuses connections (ALLOW_CONNECTIONS false) or
                // the login is refused.
                "3D000" | "55000" | "28000" | "28P01" => Some(false),
                // Connection exceptions, insufficient resources (disk full), operator
                // intervention (shutdown, terminated session, cannot connect now), system errors.
                code if ["08", "53", "57", "58"].iter().any(|class| code.starts_with(class)) => Some(false),
                _ => None,
            }
        }
        _ => None,
    }
}

/// Wraps a row that could not be turned into a domain value.
fn corrupt(error: anyhow::Error) -> StoreError {
    StoreError(error.context("reading a stored user"))
}

/// Counts come back as `i64`; the ports speak `u64`/`u32`. A negative count cannot happen, and
/// a count beyond `u32::MAX` means "very many", which saturating says.
fn count_u64(count: i64) -> u64 {
    u64::try_from(count).unwrap_or(0)
}

fn count_u32(count: i64) -> u32 {
    u32::try_from(count.max(0)).unwrap_or(u32::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_attempted_usernames_are_cut_on_a_character_boundary() {
        let long = "ñ".repeat(300);
        let key = attempted_username_key(&long);
        assert_eq!(key.chars().count(), MAX_ATTEMPTED_USERNAME_CHARS);
        assert!(long.starts_with(&*key));
    }

    #[test]
    fn timestamps_are_cut_down_to_the_microsecond_before_and_after_2000() {
        use time::macros::datetime;
        assert_eq!(
            truncate_to_micros(datetime!(1999-12-31 23:59:59.999999999 UTC)),
            datetime!(1999-12-31 23:59:59.999999 UTC)
        );
        assert_eq!(
            truncate_to_micros(datetime!(2026-11-25 13:59:01.123456789 UTC)),
            datetime!(2026-11-25 13:59:01.123456 UTC)
        );
    }

    #[test]
    fn a_nul_in_an_attempted_username_is_replaced() {
        assert_eq!(attempted_username_key("ad\0min"), "ad\u{fffd}min");
    }

    #[test]
    fn short_attempted_usernames_are_kept_whole() {
        assert_eq!(attempted_username_key("admin"), "admin");
    }

    #[test]
    fn a_row_with_an_unknown_role_is_refused() {
        let row = UserRow {
            id: Uuid::nil(),
            username: "ana".into(),
            password_hash: "$argon2id$x".into(),
            role: "root".into(),
            disabled: false,
            token_version: 0,
            created_at: OffsetDateTime::UNIX_EPOCH,
            updated_at: OffsetDateTime::UNIX_EPOCH,
        };
        let error = User::try_from(row).unwrap_err();
        assert!(format!("{error:#}").contains("invalid role"));
    }

    #[tokio::test]
    async fn urls_of_other_databases_are_refused_without_showing_the_password() {
        let error = Database::connect("mysql://root:hunter2@localhost/db", 1).await.unwrap_err();
        let message = format!("{error:#}");
        assert!(message.contains("unsupported database URL"), "{message}");
        assert!(!message.contains("hunter2"), "{message}");
    }

    #[tokio::test]
    async fn an_in_memory_sqlite_database_keeps_its_data_across_queries() {
        let database = Database::connect("sqlite::memory:", 8).await.unwrap();
        database.migrate().await.unwrap();
        let users = database.user_store();
        assert_eq!(users.count().await.unwrap(), 0);
        assert_eq!(database.backend_name(), "sqlite");
        database.ping().await.unwrap();
    }
}
