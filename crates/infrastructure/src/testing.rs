//! Throwaway databases for tests (feature `test-support`; enable it from dev-dependencies only).
//!
//! Every test gets its own database, so tests run in parallel and never see each other's rows:
//! - [`TestDatabase::sqlite`]: a file in a fresh temporary directory.
//! - [`TestDatabase::postgres`]: a fresh `factus_test_<uuid>` database on the server that
//!   [`postgres_base_url`] finds, dropped again afterwards.
//!
//! Where the Postgres server comes from, in order: `TEST_DATABASE_URL`; `DATABASE_URL` when it
//! is a Postgres URL; `postgres://postgres@127.0.0.1:5432/postgres` (without TLS) when it answers; else a
//! throwaway cluster started with the system's `initdb`/`pg_ctl` in [`THROWAWAY_CLUSTER_DIR`] on
//! port [`THROWAWAY_CLUSTER_PORT`]. That cluster is shared by every test process and left running
//! for the next run (fsync off; stop it with `pg_ctl -D /tmp/factus-api-pgtest/data stop`). When
//! none of these works, Postgres tests skip loudly, or fail when `CI=true`: a skipped suite must
//! not pass CI.
//!
//! ```no_run
//! # async fn example() {
//! use factus_infrastructure::db::Database;
//! use factus_infrastructure::testing::TestDatabase;
//!
//! let Some(test_db) = TestDatabase::postgres_or_skip("my_test").await else { return };
//! let database = Database::connect(test_db.url(), 4).await.unwrap();
//! database.migrate().await.unwrap();
//! // ... the test ...
//! database.close().await;
//! test_db.drop_database().await;
//! # }
//! ```

use std::fs::File;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use sqlx::{AssertSqlSafe, Connection as _, PgConnection};
use tokio::sync::OnceCell;
use uuid::Uuid;

use crate::db::{Database, redact_url};

/// Where the throwaway cluster lives: fixed, so that every test process (nextest runs one per
/// test) finds and reuses the cluster the first one started.
pub const THROWAWAY_CLUSTER_DIR: &str = "/tmp/factus-api-pgtest";

/// The throwaway cluster's port, away from the usual 5432.
pub const THROWAWAY_CLUSTER_PORT: u16 = 55432;

/// TLS is off for the servers the harness finds on loopback: it protects nothing there, and a
/// handshake in an unoptimised test build costs about 100 ms per connection.
const LOCAL_SERVER_URL: &str = "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable";

/// How long a probe waits for a server to answer.
const PROBE_TIMEOUT: Duration = Duration::from_secs(3);

/// The outcome of looking for a server, decided once per process: the URL, or why there is none.
static POSTGRES_SERVER: OnceCell<Result<String, String>> = OnceCell::const_new();

/// The URL of a Postgres server (connected to its `postgres` database) on which tests may create
/// databases, or `None` when there is none. Looked up once per process.
pub async fn postgres_base_url() -> Option<String> {
    postgres_server().await.ok()
}

async fn postgres_server() -> Result<String, String> {
    POSTGRES_SERVER.get_or_init(find_postgres_server).await.clone()
}

async fn find_postgres_server() -> Result<String, String> {
    if let Some(url) = non_empty_env("TEST_DATABASE_URL") {
        return Ok(url);
    }
    if let Some(url) = non_empty_env("DATABASE_URL")
        && (url.starts_with("postgres://") || url.starts_with("postgresql://"))
    {
        return Ok(url);
    }
    if answers(LOCAL_SERVER_URL).await {
        return Ok(LOCAL_SERVER_URL.to_owned());
    }
    throwaway_cluster().await.map_err(|reason| {
        format!(
            "TEST_DATABASE_URL and DATABASE_URL are not set, nothing answers at {LOCAL_SERVER_URL}, \
             and no throwaway cluster could be started: {reason}"
        )
    })
}

fn non_empty_env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|value| !value.trim().is_empty())
}

async fn answers(url: &str) -> bool {
    match tokio::time::timeout(PROBE_TIMEOUT, PgConnection::connect(url)).await {
        Ok(Ok(connection)) => {
            // Closing politely is a courtesy; the probe already succeeded.
            drop(connection.close().await);
            true
        }
        _ => false,
    }
}

/// Whether this run must not skip: CI sets `CI=true`.
fn running_in_ci() -> bool {
    std::env::var("CI").is_ok_and(|value| value.eq_ignore_ascii_case("true") || value == "1")
}

/// Whether Postgres tests can run. When they cannot, prints a loud notice naming the test to
/// stderr and returns `false` so the test can return early; under `CI=true` it panics instead,
/// because a skipped Postgres suite must fail CI.
///
/// # Panics
/// Under `CI=true` when no Postgres server is available.
pub async fn require_postgres_or_skip(test_name: &str) -> bool {
    match postgres_server().await {
        Ok(_) => true,
        Err(reason) => {
            report_skip(test_name, &reason);
            false
        }
    }
}

fn report_skip(test_name: &str, reason: &str) {
    assert!(!running_in_ci(), "POSTGRES UNAVAILABLE under CI=true, refusing to skip {test_name}: {reason}");
    let notice = format!(
        "\n==================================================================\n\
         POSTGRES UNAVAILABLE: skipping {test_name}\n\
         {reason}\n\
         Set TEST_DATABASE_URL=postgres://… (or install PostgreSQL) to run it.\n\
         ==================================================================\n"
    );
    // Written to the stderr handle rather than with eprintln!, which the test harness captures
    // and hides for passing tests: a skip must be seen. (nextest captures the whole process;
    // there, CI=true is what turns a skip into a visible failure.)
    let mut stderr = std::io::stderr().lock();
    if stderr.write_all(notice.as_bytes()).and_then(|()| stderr.flush()).is_err() {
        // Nowhere left to report to; the test still returns early.
    }
}

/// A database that exists for one test.
pub struct TestDatabase {
    url: String,
    backend: Backend,
}

enum Backend {
    Postgres {
        /// The server's maintenance database, from which ours is created and dropped.
        server_url: String,
        name: String,
        dropped: bool,
    },
    Sqlite {
        /// Deleted with the database file when the test database is dropped.
        _dir: tempfile::TempDir,
    },
}

impl std::fmt::Debug for TestDatabase {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TestDatabase").field("url", &redact_url(&self.url)).finish_non_exhaustive()
    }
}

impl TestDatabase {
    /// A fresh, empty (unmigrated) database on the Postgres server, or `None` when there is no
    /// server. Prefer [`TestDatabase::postgres_or_skip`] in tests, which says so loudly.
    ///
    /// # Panics
    /// When a server was found but the database cannot be created there: that is a broken
    /// environment, not a reason to skip.
    pub async fn postgres() -> Option<Self> {
        let server_url = postgres_server().await.ok()?;
        let name = format!("factus_test_{}", Uuid::new_v4().simple());
        let mut connection = PgConnection::connect(&server_url).await.unwrap_or_else(|error| {
            panic!("connecting to the test Postgres server {}: {error}", redact_url(&server_url))
        });
        sqlx::raw_sql(AssertSqlSafe(format!(r#"CREATE DATABASE "{name}""#)))
            .execute(&mut connection)
            .await
            .unwrap_or_else(|error| panic!("creating test database {name}: {error}"));
        drop(connection.close().await);
        let url = crate::db::url::with_database(&server_url, &name);
        Some(Self { url, backend: Backend::Postgres { server_url, name, dropped: false } })
    }

    /// Like [`TestDatabase::postgres`], but when there is no server prints the loud skip notice
    /// for `test_name` (or panics under `CI=true`) before returning `None`.
    ///
    /// # Panics
    /// Under `CI=true` without a server, or when the database cannot be created.
    pub async fn postgres_or_skip(test_name: &str) -> Option<Self> {
        if require_postgres_or_skip(test_name).await { Self::postgres().await } else { None }
    }

    /// A fresh SQLite database file (`sqlite://…/test.db`, created on first connect) in a new
    /// temporary directory.
    ///
    /// # Panics
    /// When no temporary directory can be created.
    #[must_use]
    pub fn sqlite() -> Self {
        let dir = tempfile::Builder::new()
            .prefix("factus-test-")
            .tempdir()
            .expect("a temporary directory for a SQLite test database");
        let url = format!("sqlite://{}", dir.path().join("test.db").display());
        Self { url, backend: Backend::Sqlite { _dir: dir } }
    }

    /// The URL to connect to, for `Database::connect`.
    #[must_use]
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Runs `sql` on the Postgres *server* (its maintenance database), with `{db}` replaced by
    /// this database's quoted name: how a test makes its own database fail
    /// (`ALTER DATABASE {db} ALLOW_CONNECTIONS false`, `... SET default_transaction_read_only = on`,
    /// `pg_terminate_backend`) without touching the shared server or other tests' databases.
    /// For the connection-terminating form, `{name}` is the bare name as a string literal.
    ///
    /// # Panics
    /// For a SQLite database, or when the statement fails.
    pub async fn on_server(&self, sql: &str) {
        let Backend::Postgres { server_url, name, .. } = &self.backend else {
            panic!("on_server is for Postgres test databases");
        };
        let statement = sql.replace("{db}", &format!(r#""{name}""#)).replace("{name}", &format!("'{name}'"));
        let mut connection = PgConnection::connect(server_url)
            .await
            .unwrap_or_else(|error| panic!("connecting to the test Postgres server: {error}"));
        sqlx::raw_sql(AssertSqlSafe(statement.clone()))
            .execute(&mut connection)
            .await
            .unwrap_or_else(|error| panic!("running {statement:?}: {error}"));
        drop(connection.close().await);
    }

    /// Connects with up to `max_connections`, migrates, runs `behaviour` on the database, then
    /// closes and drops it: the frame of a store contract test ([`contract_tests!`]).
    ///
    /// # Panics
    /// When the database cannot be connected or migrated.
    pub async fn run_migrated<F, Fut>(self, max_connections: u32, behaviour: F)
    where
        F: FnOnce(Database) -> Fut,
        Fut: std::future::Future<Output = ()>,
    {
        let database = Database::connect(self.url(), max_connections).await.expect("connecting to the test database");
        database.migrate().await.expect("migrating the test database");
        behaviour(database.clone()).await;
        database.close().await;
        self.drop_database().await;
    }

    /// Drops the database now, closing connections still open to it. Dropping a
    /// `TestDatabase` does the same on a helper thread, best effort.
    pub async fn drop_database(mut self) {
        if let Backend::Postgres { server_url, name, dropped } = &mut self.backend {
            drop_postgres_database(server_url, name).await;
            *dropped = true;
        }
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        if let Backend::Postgres { server_url, name, dropped: false } = &self.backend {
            // Drop may run inside an async runtime, which must not be blocked on directly; a
            // short-lived thread with its own runtime does the work.
            let (server_url, name) = (server_url.clone(), name.clone());
            let worker =
                std::thread::spawn(move || match tokio::runtime::Builder::new_current_thread().enable_all().build() {
                    Ok(runtime) => runtime.block_on(drop_postgres_database(&server_url, &name)),
                    Err(error) => eprintln!("could not drop test database {name}: {error}"),
                });
            if worker.join().is_err() {
                eprintln!("dropping a test database panicked");
            }
        }
    }
}

async fn drop_postgres_database(server_url: &str, name: &str) {
    let dropped = async {
        let mut connection = PgConnection::connect(server_url).await?;
        // FORCE ends connections a test left open (Postgres 13+).
        sqlx::raw_sql(AssertSqlSafe(format!(r#"DROP DATABASE IF EXISTS "{name}" WITH (FORCE)"#)))
            .execute(&mut connection)
            .await?;
        connection.close().await
    };
    if let Err(error) = dropped.await {
        eprintln!("could not drop test database {name}: {error}");
    }
}

/// Finds or starts the shared throwaway cluster, returning its URL.
async fn throwaway_cluster() -> Result<String, String> {
    let url = format!("postgres://postgres@127.0.0.1:{THROWAWAY_CLUSTER_PORT}/postgres?sslmode=disable");
    if answers(&url).await {
        return Ok(url);
    }
    let bin = postgres_bin_dir().ok_or("no initdb and pg_ctl found")?;
    // Test processes start at the same moment; one starts the cluster while the others wait.
    let lock = tokio::task::spawn_blocking(lock_cluster_dir).await.map_err(|error| error.to_string())??;
    if !answers(&url).await {
        tokio::task::spawn_blocking(move || start_cluster(&bin)).await.map_err(|error| error.to_string())??;
    }
    drop(lock);
    if answers(&url).await {
        Ok(url)
    } else {
        Err(format!("the cluster in {THROWAWAY_CLUSTER_DIR} started but does not answer at {url}"))
    }
}

/// The newest `/usr/lib/postgresql/<version>/bin` (Debian, Ubuntu), else the directory of
/// `initdb` on the `PATH`.
fn postgres_bin_dir() -> Option<PathBuf> {
    let has_tools = |dir: &Path| dir.join("initdb").is_file() && dir.join("pg_ctl").is_file();
    let debian = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|entry| {
            let version: u32 = entry.file_name().to_str()?.parse().ok()?;
            Some((version, entry.path().join("bin")))
        })
        .filter(|(_, bin)| has_tools(bin))
        .max_by_key(|(version, _)| *version)
        .map(|(_, bin)| bin);
    debian.or_else(|| std::env::split_paths(&std::env::var_os("PATH")?).find(|dir| has_tools(dir)))
}

fn lock_cluster_dir() -> Result<File, String> {
    let path = format!("{THROWAWAY_CLUSTER_DIR}.lock");
    let file = File::create(&path).map_err(|error| format!("creating {path}: {error}"))?;
    file.lock().map_err(|error| format!("locking {path}: {error}"))?;
    Ok(file)
}

fn running_as_root() -> bool {
    Command::new("id").arg("-u").output().is_ok_and(|output| String::from_utf8_lossy(&output.stdout).trim() == "0")
}

/// Runs a Postgres tool; as root through `runuser -u postgres`, since initdb refuses root.
fn run_pg_tool(as_root: bool, program: &Path, args: &[&str]) -> Result<(), String> {
    let mut command = if as_root {
        let mut command = Command::new("runuser");
        command.args(["-u", "postgres", "--"]).arg(program);
        command
    } else {
        Command::new(program)
    };
    let output = command.args(args).output().map_err(|error| format!("running {}: {error}", program.display()))?;
    if output.status.success() {
        Ok(())
    } else {
        Err(format!(
            "{} failed ({}): {}",
            program.display(),
            output.status,
            String::from_utf8_lossy(&output.stderr).trim()
        ))
    }
}

/// Creates the cluster if needed and starts it (the recipe of docs/stack-notes.md).
fn start_cluster(bin: &Path) -> Result<(), String> {
    let as_root = running_as_root();
    let dir = Path::new(THROWAWAY_CLUSTER_DIR);
    let data = dir.join("data");
    if as_root {
        let status = Command::new("install")
            .args(["-d", "-o", "postgres", "-g", "postgres", "-m", "700", THROWAWAY_CLUSTER_DIR])
            .status()
            .map_err(|error| format!("running install: {error}"))?;
        if !status.success() {
            return Err(format!("could not create {THROWAWAY_CLUSTER_DIR} for user postgres"));
        }
    } else {
        std::fs::create_dir_all(dir).map_err(|error| format!("creating {THROWAWAY_CLUSTER_DIR}: {error}"))?;
    }
    if !data.join("PG_VERSION").is_file() {
        if data.exists() {
            // A previous initdb was interrupted; initdb refuses a non-empty directory.
            std::fs::remove_dir_all(&data)
                .map_err(|error| format!("removing the half-made {}: {error}", data.display()))?;
        }
        eprintln!("starting a throwaway Postgres cluster in {THROWAWAY_CLUSTER_DIR} (first use)");
        let data = data.to_string_lossy();
        run_pg_tool(
            as_root,
            &bin.join("initdb"),
            &["-D", &data, "-U", "postgres", "-A", "trust", "-E", "UTF8", "--locale=C", "--no-sync"],
        )?;
    }
    let data = data.to_string_lossy();
    let log = dir.join("server.log");
    let options = format!(
        "-p {THROWAWAY_CLUSTER_PORT} -k {THROWAWAY_CLUSTER_DIR} -c listen_addresses=127.0.0.1 \
         -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200"
    );
    run_pg_tool(
        as_root,
        &bin.join("pg_ctl"),
        &["-D", &data, "-l", &log.to_string_lossy(), "-w", "-t", "30", "-o", &options, "start"],
    )?;
    eprintln!(
        "throwaway Postgres cluster running on 127.0.0.1:{THROWAWAY_CLUSTER_PORT} \
         (stop it with: pg_ctl -D {data} stop)"
    );
    Ok(())
}

/// Runs `sql` straight on the pool, past the stores: for the checks of a store contract that go
/// around its port (schema constraints, rows written by another writer). Answers the rows
/// affected.
pub async fn execute_sql(database: &Database, sql: &'static str) -> Result<u64, sqlx::Error> {
    match database {
        Database::Postgres(pool) => sqlx::query(sql).execute(pool).await.map(|done| done.rows_affected()),
        Database::Sqlite(pool) => sqlx::query(sql).execute(pool).await.map(|done| done.rows_affected()),
    }
}

/// Turns each behaviour of a store contract into `sqlite::<behaviour>` and
/// `postgres::<behaviour>`, each on its own fresh database handed to the test crate's
/// `run(test_db, behaviour)`. Without a Postgres server the Postgres half skips loudly, and fails
/// under `CI=true`.
#[macro_export]
macro_rules! contract_tests {
    ($($behaviour:ident),+ $(,)?) => {
        mod sqlite {
            use $crate::testing::TestDatabase;
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $behaviour() {
                    super::run(TestDatabase::sqlite(), super::$behaviour).await;
                }
            )+
        }

        mod postgres {
            use $crate::testing::TestDatabase;
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $behaviour() {
                    let name = concat!("postgres::", stringify!($behaviour));
                    let Some(test_db) = TestDatabase::postgres_or_skip(name).await else {
                        return;
                    };
                    super::run(test_db, super::$behaviour).await;
                }
            )+
        }
    };
}
