//! Typed configuration from the environment (and `.env`), failing fast with one clear line that
//! names the variable.

use std::net::SocketAddr;
use std::time::Duration;

use base64::Engine;
use factus_infrastructure::factus::ApiVersionSetting;
use rand::RngCore;
use secrecy::{ExposeSecret, SecretString};
use thiserror::Error;

/// `ENVIRONMENT`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Environment {
    Development,
    Production,
}

/// `LOG_FORMAT`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    Pretty,
    Json,
}

/// Where and how to reach Factus.
#[derive(Debug, Clone)]
pub struct FactusSettings {
    /// `FACTUS_BASE_URL`, trailing `/` removed.
    pub base_url: String,
    pub client_id: String,
    pub client_secret: SecretString,
    /// `FACTUS_USERNAME`/`FACTUS_PASSWORD`: when both are set the server keeps its own Factus
    /// session and `X-Factus-Token` becomes optional.
    pub username: Option<SecretString>,
    pub password: Option<SecretString>,
    /// `FACTUS_TIMEOUT_SECS`: the whole request, connect included.
    pub timeout: Duration,
    /// `FACTUS_CONNECT_TIMEOUT_SECS`.
    pub connect_timeout: Duration,
    /// `FACTUS_RETRY_MAX_ATTEMPTS`: attempts of an idempotent call (GETs, token grants), first
    /// included. Creating a bill is never retried.
    pub retry_max_attempts: u32,
    /// `FACTUS_BREAKER_CONSECUTIVE_FAILURES`: the circuit opens after this many failures in a row…
    pub breaker_consecutive_failures: u32,
    /// …or `FACTUS_BREAKER_FAILURE_RATE_PERCENT` of the last `FACTUS_BREAKER_WINDOW` calls.
    pub breaker_failure_rate_percent: u32,
    pub breaker_window: usize,
    /// `FACTUS_BREAKER_OPEN_SECS`: how long the circuit stays open before a probe.
    pub breaker_open_for: Duration,
    /// `FACTUS_API_VERSION`: `v1`, `v2` or `auto` (default): start on v1 and move to v2 the first
    /// time Factus answers that the account does not have v1 (or the other way round).
    pub api_version: ApiVersionSetting,
    /// `FACTUS_RATE_LIMIT` (default 80): Factus calls per window for the account, all instances
    /// together.
    pub rate_limit: u32,
    /// `FACTUS_RATE_WINDOW_SECS` (default 60).
    pub rate_window: Duration,
    /// `FACTUS_QUEUE_WAIT_SECS` (default 10): how long a create waits for the budget before it is
    /// queued (202).
    pub queue_wait: Duration,
}

/// The exactly-once ledger's background reconciliation.
#[derive(Debug, Clone, Copy)]
pub struct LedgerSettings {
    /// `LEDGER_RECONCILE_INTERVAL_SECS` (default 30).
    pub reconcile_interval: Duration,
    /// `LEDGER_STALE_AFTER_SECS` (default 60): entries left `pending` or `unknown` this long are
    /// looked up at Factus. Must stay well above the Factus timeout, so a call still in flight is
    /// never taken for a lost one.
    pub stale_after: Duration,
    /// `FACTUS_DELETE_REJECTED` (default true): delete a document DIAN rejected at Factus right
    /// away, so that it does not block the next document of its kind.
    pub delete_rejected: bool,
}

/// Signed webhooks of issuance outcomes.
#[derive(Debug, Clone)]
pub struct WebhookSettings {
    /// `WEBHOOK_URL`: where events are POSTed; none: events are recorded but not sent.
    pub url: Option<String>,
    /// `WEBHOOK_SECRET`: the HMAC key; required with `WEBHOOK_URL`.
    pub secret: SecretString,
    /// `WEBHOOK_MAX_ATTEMPTS` (default 12): attempts before a delivery is `failed`.
    pub max_attempts: u32,
    /// `WEBHOOK_RETRY_BASE_MS` (default 5000): the wait after the first failure, doubling per
    /// attempt up to an hour.
    pub retry_base: Duration,
    /// `WEBHOOK_DISPATCH_INTERVAL_MS` (default 1000): how often each instance looks for due
    /// deliveries.
    pub dispatch_interval: Duration,
}

/// What is kept of Factus' answers.
#[derive(Debug, Clone, Copy)]
pub struct CacheSettings {
    /// `FACTUS_LOOKUP_CACHE_SECS` (default 3600; 0 turns the cache off): how long catalogues
    /// (municipalities, taxes, units, countries, reference tables) and acquirers are reused.
    pub lookups: Duration,
    /// `FACTUS_NUMBERING_RANGE_CACHE_SECS` (default 30; 0 = off): numbering ranges, whose
    /// `current` moves with every document issued.
    pub numbering_ranges: Duration,
}

/// The numbering-range watch: when `/health/ready` warns about a range, and how often the server
/// reads the ranges from Factus with its own session.
#[derive(Debug, Clone, Copy)]
pub struct NumberingRangeSettings {
    /// `NUMBERING_RANGE_WARN_REMAINING` (default 500): warn when a range has fewer numbers left.
    pub warn_remaining: u64,
    /// `NUMBERING_RANGE_WARN_DAYS` (default 30): warn when a range's resolution ends within this
    /// many days (0: only once it has ended).
    pub warn_days: u64,
    /// `NUMBERING_RANGE_CHECK_INTERVAL_SECS` (default 300): how often the ranges are read from
    /// Factus in the background, the first time one interval after start (only with
    /// `FACTUS_USERNAME`/`FACTUS_PASSWORD`).
    pub check_interval: Duration,
}

/// `DATABASE_URL`. Its `Debug` hides the password (`postgres://user:***@host/db`), so that
/// `Config`'s `Debug` can be logged.
#[derive(Clone, PartialEq, Eq)]
pub struct DatabaseUrl(String);

impl DatabaseUrl {
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for DatabaseUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // `scheme://user:password@host…`: everything between the first ':' after the scheme's
        // "//" and the last '@' is the password.
        let url = &self.0;
        let redacted = url.split_once("://").and_then(|(scheme, rest)| {
            let (credentials, host) = rest.rsplit_once('@')?;
            let (user, _password) = credentials.split_once(':')?;
            Some(format!("{scheme}://{user}:***@{host}"))
        });
        write!(f, "{:?}", redacted.as_deref().unwrap_or(url))
    }
}

/// Everything the service reads at start-up. `Debug` never shows a secret.
#[derive(Debug, Clone)]
pub struct Config {
    pub project_name: String,
    pub version: String,
    pub api_prefix: String,
    pub environment: Environment,
    pub bind_addr: SocketAddr,
    pub database_url: DatabaseUrl,
    pub database_max_connections: u32,
    /// `DATABASE_ACQUIRE_TIMEOUT_SECS` (default 2): how long a request waits for a database
    /// connection before it is answered 503 `Base de datos no disponible`.
    pub database_acquire_timeout: Duration,
    /// HS256 key for local tokens.
    pub secret_key: SecretString,
    /// True when no `SECRET_KEY` was given and a random one was made (development only).
    pub secret_key_generated: bool,
    pub algorithm: String,
    pub access_token_expire_minutes: u32,
    pub admin_password: Option<SecretString>,
    pub factus: FactusSettings,
    pub ledger: LedgerSettings,
    pub webhooks: WebhookSettings,
    pub caches: CacheSettings,
    pub numbering_ranges: NumberingRangeSettings,
    pub cors_origins: Vec<String>,
    /// `TRUSTED_PROXIES`: addresses of load balancers whose `X-Forwarded-For` is believed.
    pub trusted_proxies: Vec<std::net::IpAddr>,
    /// `CONSOLE_SECURE_COOKIES` (default false): always mark the console's cookies `Secure`
    /// (they are also marked so when a proxy forwards `X-Forwarded-Proto: https`).
    pub console_secure_cookies: bool,
    pub log_format: LogFormat,
    /// How long in-flight requests may take to finish after SIGTERM.
    pub shutdown_grace: Duration,
    /// `HTTP_HEADER_READ_TIMEOUT_SECS`, `HTTP_BODY_READ_TIMEOUT_SECS`, `HTTP_IDLE_TIMEOUT_SECS`,
    /// `HTTP_MAX_CONNECTIONS`.
    pub http: crate::http::HttpSettings,
    /// How long an authenticated user is reused without reading the database again.
    pub user_cache_ttl: Duration,
    /// Secrets (by variable name) that production would refuse as weak; development starts
    /// with them and warns (see [`Config::warn_about_weak_secrets`]).
    pub weak_secrets: Vec<&'static str>,
}

/// A variable that is missing or has a bad value.
#[derive(Debug, Error, PartialEq, Eq)]
#[error("configuration error: {variable} {problem}")]
pub struct ConfigError {
    pub variable: &'static str,
    pub problem: String,
}

fn error(variable: &'static str, problem: impl Into<String>) -> ConfigError {
    ConfigError { variable, problem: problem.into() }
}

/// The real Factus sandbox, as in the reference's quickstart.
pub const DEFAULT_FACTUS_BASE_URL: &str = "https://api-sandbox.factus.com.co";
/// The minimum length of `SECRET_KEY` in production (HS256 wants at least 256 bits).
pub const MIN_SECRET_KEY_BYTES: usize = 32;

impl Config {
    /// Reads the process environment (after `.env`, which never overrides real variables).
    ///
    /// # Errors
    /// [`ConfigError`] naming the first bad or missing variable.
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Reads configuration through `lookup`, so tests need not touch the process environment.
    ///
    /// # Errors
    /// [`ConfigError`] naming the first bad or missing variable.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let variables = Variables(lookup);
        let get = |name: &str| variables.get(name);

        let environment = match get("ENVIRONMENT").as_deref().map(str::to_ascii_lowercase).as_deref() {
            None | Some("development" | "dev" | "local") => Environment::Development,
            Some("production" | "prod") => Environment::Production,
            Some(other) => {
                return Err(error("ENVIRONMENT", format!("must be 'development' or 'production' (got '{other}')")));
            }
        };
        let production = environment == Environment::Production;

        let mut weak_secrets = Vec::new();
        let (secret_key, secret_key_generated) = match get("SECRET_KEY") {
            Some(key) if production && key.len() < MIN_SECRET_KEY_BYTES => {
                return Err(error(
                    "SECRET_KEY",
                    format!("must have at least {MIN_SECRET_KEY_BYTES} bytes in production (got {})", key.len()),
                ));
            }
            Some(key) if key.len() < MIN_SECRET_KEY_BYTES || is_weak_secret_key(&key) => {
                if production {
                    return Err(error(
                        "SECRET_KEY",
                        "is too weak for production (a known default, a repeated pattern or too few distinct \
                         characters); generate one with `openssl rand -hex 32`",
                    ));
                }
                weak_secrets.push("SECRET_KEY");
                (SecretString::from(key), false)
            }
            Some(key) => (SecretString::from(key), false),
            None if production => return Err(error("SECRET_KEY", "is required in production")),
            None => (random_secret(), true),
        };

        let algorithm = get("ALGORITHM").unwrap_or_else(|| "HS256".to_owned());
        if !matches!(algorithm.as_str(), "HS256" | "HS384" | "HS512") {
            return Err(error("ALGORITHM", format!("must be HS256, HS384 or HS512 (got '{algorithm}')")));
        }

        let admin_password = get("ADMIN_PASSWORD").map(SecretString::from);
        if let Some(password) = &admin_password
            && let Err(policy) = factus_domain::user::NewPassword::parse(password.expose_secret())
        {
            return Err(error("ADMIN_PASSWORD", policy.to_string()));
        }
        if let Some(password) = &admin_password
            && is_weak_password(password.expose_secret())
        {
            if production {
                return Err(error(
                    "ADMIN_PASSWORD",
                    "is too weak for production (a known default password or a repeated pattern)",
                ));
            }
            weak_secrets.push("ADMIN_PASSWORD");
        }

        let api_prefix = get("API_V1_STR").unwrap_or_else(|| "/api/v1".to_owned());
        if !api_prefix.starts_with('/') || api_prefix.len() < 2 {
            return Err(error("API_V1_STR", format!("must start with '/' (got '{api_prefix}')")));
        }

        let factus_username = get("FACTUS_USERNAME").map(SecretString::from);
        let factus_password = get("FACTUS_PASSWORD").map(SecretString::from);
        if factus_username.is_some() != factus_password.is_some() {
            let missing = if factus_username.is_some() { "FACTUS_PASSWORD" } else { "FACTUS_USERNAME" };
            return Err(error(missing, "must be set together with the other Factus credential"));
        }
        let base_url = get("FACTUS_BASE_URL").unwrap_or_else(|| DEFAULT_FACTUS_BASE_URL.to_owned());
        if !(base_url.starts_with("http://") || base_url.starts_with("https://")) {
            return Err(error("FACTUS_BASE_URL", format!("must be an http(s) URL (got '{base_url}')")));
        }

        Ok(Self {
            project_name: get("PROJECT_NAME").unwrap_or_else(|| "Factus API".to_owned()),
            version: get("VERSION").unwrap_or_else(|| env!("CARGO_PKG_VERSION").to_owned()),
            api_prefix: api_prefix.trim_end_matches('/').to_owned(),
            environment,
            bind_addr: parse_or(
                "BIND_ADDR",
                get("BIND_ADDR"),
                "127.0.0.1:8000".parse().expect("valid default"),
                "a socket address like 0.0.0.0:8000",
            )?,
            database_url: DatabaseUrl(get("DATABASE_URL").unwrap_or_else(|| "sqlite://factus-api.db".to_owned())),
            database_max_connections: variables.positive("DATABASE_MAX_CONNECTIONS", 10)?,
            database_acquire_timeout: variables.seconds("DATABASE_ACQUIRE_TIMEOUT_SECS", 2)?,
            secret_key,
            secret_key_generated,
            algorithm,
            access_token_expire_minutes: variables.positive("ACCESS_TOKEN_EXPIRE_MINUTES", 60)?,
            admin_password,
            factus: FactusSettings {
                base_url: base_url.trim_end_matches('/').to_owned(),
                client_id: get("FACTUS_CLIENT_ID").unwrap_or_default(),
                client_secret: SecretString::from(get("FACTUS_CLIENT_SECRET").unwrap_or_default()),
                username: factus_username,
                password: factus_password,
                timeout: variables.seconds("FACTUS_TIMEOUT_SECS", 30)?,
                connect_timeout: variables.seconds("FACTUS_CONNECT_TIMEOUT_SECS", 5)?,
                retry_max_attempts: variables.positive("FACTUS_RETRY_MAX_ATTEMPTS", 3)?,
                breaker_consecutive_failures: variables.positive("FACTUS_BREAKER_CONSECUTIVE_FAILURES", 5)?,
                breaker_failure_rate_percent: variables.percent("FACTUS_BREAKER_FAILURE_RATE_PERCENT", 50)?,
                breaker_window: variables.positive("FACTUS_BREAKER_WINDOW", 20)?,
                breaker_open_for: variables.seconds("FACTUS_BREAKER_OPEN_SECS", 30)?,
                api_version: match get("FACTUS_API_VERSION") {
                    None => ApiVersionSetting::Auto,
                    Some(text) => ApiVersionSetting::parse(&text)
                        .ok_or_else(|| error("FACTUS_API_VERSION", format!("must be v1, v2 or auto (got '{text}')")))?,
                },
                rate_limit: variables.positive("FACTUS_RATE_LIMIT", 80)?,
                rate_window: variables.seconds("FACTUS_RATE_WINDOW_SECS", 60)?,
                queue_wait: variables.seconds_or_zero("FACTUS_QUEUE_WAIT_SECS", 10)?,
            },
            ledger: LedgerSettings {
                reconcile_interval: variables.seconds("LEDGER_RECONCILE_INTERVAL_SECS", 30)?,
                stale_after: variables.seconds("LEDGER_STALE_AFTER_SECS", 60)?,
                delete_rejected: variables.flag("FACTUS_DELETE_REJECTED", true)?,
            },
            webhooks: parse_webhooks(&variables)?,
            caches: CacheSettings {
                lookups: variables.seconds_or_zero("FACTUS_LOOKUP_CACHE_SECS", 3600)?,
                numbering_ranges: variables.seconds_or_zero("FACTUS_NUMBERING_RANGE_CACHE_SECS", 30)?,
            },
            numbering_ranges: NumberingRangeSettings {
                warn_remaining: variables.non_negative("NUMBERING_RANGE_WARN_REMAINING", 500)?,
                warn_days: variables.non_negative("NUMBERING_RANGE_WARN_DAYS", 30)?,
                check_interval: variables.seconds("NUMBERING_RANGE_CHECK_INTERVAL_SECS", 300)?,
            },
            cors_origins: parse_origins(get("CORS_ORIGINS"))?,
            trusted_proxies: parse_proxies(get("TRUSTED_PROXIES"))?,
            console_secure_cookies: variables.flag("CONSOLE_SECURE_COOKIES", false)?,
            log_format: match get("LOG_FORMAT").as_deref().map(str::to_ascii_lowercase).as_deref() {
                None => {
                    if production {
                        LogFormat::Json
                    } else {
                        LogFormat::Pretty
                    }
                }
                Some("pretty" | "text") => LogFormat::Pretty,
                Some("json") => LogFormat::Json,
                Some(other) => return Err(error("LOG_FORMAT", format!("must be 'pretty' or 'json' (got '{other}')"))),
            },
            shutdown_grace: variables.seconds("SHUTDOWN_GRACE_SECS", 30)?,
            user_cache_ttl: variables.seconds_or_zero("AUTH_USER_CACHE_SECS", 5)?,
            weak_secrets,
            http: crate::http::HttpSettings {
                header_read_timeout: variables.seconds("HTTP_HEADER_READ_TIMEOUT_SECS", 30)?,
                body_read_timeout: variables.seconds("HTTP_BODY_READ_TIMEOUT_SECS", 30)?,
                idle_timeout: variables.seconds("HTTP_IDLE_TIMEOUT_SECS", 75)?,
                max_connections: variables.positive("HTTP_MAX_CONNECTIONS", 512)?,
            },
        })
    }

    /// Logs one warning per weak secret that development accepted (never the value).
    pub fn warn_about_weak_secrets(&self) {
        for variable in &self.weak_secrets {
            tracing::warn!(
                variable,
                "{variable} is weak (a known default, too short, a repeated pattern or too few distinct \
                 characters): production refuses to start with it"
            );
        }
    }

    #[must_use]
    pub fn is_production(&self) -> bool {
        self.environment == Environment::Production
    }

    /// Checks what production needs from Factus (only when not simulating it).
    ///
    /// # Errors
    /// [`ConfigError`] for a missing client id or secret.
    pub fn require_factus_client(&self) -> Result<(), ConfigError> {
        if self.factus.client_id.is_empty() {
            return Err(error("FACTUS_CLIENT_ID", "is required in production"));
        }
        if self.factus.client_secret.expose_secret().is_empty() {
            return Err(error("FACTUS_CLIENT_SECRET", "is required in production"));
        }
        Ok(())
    }
}

/// Secrets and passwords that ship in examples, tutorials and `.env` templates. Compared in
/// lower case.
const KNOWN_DEFAULTS: &[&str] = &[
    "admin",
    "admin123",
    "admin1234",
    "admin12345",
    "administrator",
    "changeme",
    "change-me",
    "change_me",
    "changeit",
    "default",
    "letmein",
    "password",
    "password1",
    "password123",
    "passw0rd",
    "qwerty",
    "qwerty123",
    "secret",
    "secret-key",
    "secret_key",
    "secretkey",
    "supersecret",
    "super-secret",
    "your-secret-key",
    "your_secret_key",
    "yoursecretkey",
    "mysecretkey",
    "my-secret-key",
    "12345678",
    "123456789",
    "1234567890",
    "test",
    "testing",
    "example",
    "factus",
    "factus-api",
];

/// The fewest distinct bytes a `SECRET_KEY` may have (hex has 16, base64 64).
const MIN_DISTINCT_KEY_BYTES: usize = 10;
/// The lowest Shannon entropy per byte a `SECRET_KEY` may have; `openssl rand -hex 32` gives
/// about 3.8 bits, base64 about 5, a long passphrase 3.5 to 4.
const MIN_KEY_BITS_PER_BYTE: f64 = 3.0;

/// Whether `text` is one shorter piece repeated (`abab…`, `changeme-changeme-…`).
fn is_repetition(text: &[u8]) -> bool {
    (1..=text.len() / 2)
        .any(|period| text.len().is_multiple_of(period) && text.chunks(period).all(|chunk| chunk == &text[..period]))
}

fn is_known_default(text: &str) -> bool {
    let folded = text.trim().to_lowercase();
    KNOWN_DEFAULTS.contains(&folded.as_str())
}

/// A `SECRET_KEY` that a guess or a dictionary finds: a known default, a repeated pattern, too
/// few distinct bytes or a low Shannon entropy per byte.
fn is_weak_secret_key(key: &str) -> bool {
    let bytes = key.as_bytes();
    let mut counts = [0_usize; 256];
    for byte in bytes {
        counts[usize::from(*byte)] += 1;
    }
    let distinct = counts.iter().filter(|count| **count > 0).count();
    #[allow(clippy::cast_precision_loss)] // lengths are small
    let entropy: f64 = counts
        .iter()
        .filter(|count| **count > 0)
        .map(|count| {
            let p = *count as f64 / bytes.len() as f64;
            -p * p.log2()
        })
        .sum();
    is_known_default(key)
        || is_repetition(bytes)
        || distinct < MIN_DISTINCT_KEY_BYTES
        || entropy < MIN_KEY_BITS_PER_BYTE
}

/// An `ADMIN_PASSWORD` that is a known default or a repeated pattern (`aaaaaaaa`, `abcabcabc`).
fn is_weak_password(password: &str) -> bool {
    let distinct = password.chars().collect::<std::collections::HashSet<_>>().len();
    is_known_default(password) || is_repetition(password.as_bytes()) || distinct < 4
}

fn random_secret() -> SecretString {
    let mut bytes = [0_u8; 48];
    rand::rng().fill_bytes(&mut bytes);
    SecretString::from(base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes))
}

fn parse_or<T: std::str::FromStr>(
    variable: &'static str,
    raw: Option<String>,
    default: T,
    expected: &str,
) -> Result<T, ConfigError> {
    match raw {
        None => Ok(default),
        Some(raw) => raw.parse().map_err(|_| error(variable, format!("must be {expected} (got '{raw}')"))),
    }
}

/// The variables as the configuration reads them: trimmed, an empty value counts as unset, and
/// a number is checked against its range with the variable named in the error.
struct Variables<F>(F);

impl<F: Fn(&str) -> Option<String>> Variables<F> {
    fn get(&self, name: &str) -> Option<String> {
        (self.0)(name).map(|value| value.trim().to_owned()).filter(|value| !value.is_empty())
    }

    fn positive<T>(&self, variable: &'static str, default: T) -> Result<T, ConfigError>
    where
        T: std::str::FromStr + PartialOrd + Default,
    {
        let raw = self.get(variable);
        let value = parse_or(variable, raw.clone(), default, "a positive integer")?;
        if value <= T::default() {
            return Err(error(variable, format!("must be a positive integer (got '{}')", raw.unwrap_or_default())));
        }
        Ok(value)
    }

    fn non_negative(&self, variable: &'static str, default: u64) -> Result<u64, ConfigError> {
        parse_or(variable, self.get(variable), default, "a non-negative integer")
    }

    /// A positive number of seconds.
    fn seconds(&self, variable: &'static str, default: u64) -> Result<Duration, ConfigError> {
        self.positive(variable, default).map(Duration::from_secs)
    }

    /// A number of seconds where 0 turns the feature off.
    fn seconds_or_zero(&self, variable: &'static str, default: u64) -> Result<Duration, ConfigError> {
        self.non_negative(variable, default).map(Duration::from_secs)
    }

    /// A positive number of milliseconds.
    fn millis(&self, variable: &'static str, default: u64) -> Result<Duration, ConfigError> {
        self.positive(variable, default).map(Duration::from_millis)
    }

    fn flag(&self, variable: &'static str, default: bool) -> Result<bool, ConfigError> {
        let raw = self.get(variable).map(|raw| raw.to_ascii_lowercase());
        parse_or(variable, raw, default, "true or false")
    }

    /// A percentage from 1 to 100.
    fn percent(&self, variable: &'static str, default: u32) -> Result<u32, ConfigError> {
        let value = self.positive(variable, default)?;
        if value > 100 {
            return Err(error(variable, format!("must be between 1 and 100 (got '{value}')")));
        }
        Ok(value)
    }
}

/// The `WEBHOOK_*` variables. A URL must be http(s) and comes with a secret.
fn parse_webhooks(variables: &Variables<impl Fn(&str) -> Option<String>>) -> Result<WebhookSettings, ConfigError> {
    let url = variables.get("WEBHOOK_URL").map(|url| url.trim().to_owned()).filter(|url| !url.is_empty());
    if let Some(url) = &url
        && !(url.starts_with("http://") || url.starts_with("https://"))
    {
        return Err(error("WEBHOOK_URL", format!("must be an http:// or https:// URL (got '{url}')")));
    }
    let secret = variables.get("WEBHOOK_SECRET").filter(|secret| !secret.is_empty());
    if url.is_some() && secret.is_none() {
        return Err(error("WEBHOOK_SECRET", "is required with WEBHOOK_URL (the key the events are signed with)"));
    }
    Ok(WebhookSettings {
        url,
        secret: SecretString::from(secret.unwrap_or_default()),
        max_attempts: variables.positive("WEBHOOK_MAX_ATTEMPTS", 12)?,
        retry_base: variables.millis("WEBHOOK_RETRY_BASE_MS", 5000)?,
        dispatch_interval: variables.millis("WEBHOOK_DISPATCH_INTERVAL_MS", 1000)?,
    })
}

/// `TRUSTED_PROXIES`: comma-separated IP addresses.
fn parse_proxies(raw: Option<String>) -> Result<Vec<std::net::IpAddr>, ConfigError> {
    let Some(raw) = raw else { return Ok(Vec::new()) };
    raw.split(',')
        .map(str::trim)
        .filter(|address| !address.is_empty())
        .map(|address| {
            address.parse().map_err(|_| error("TRUSTED_PROXIES", format!("has an invalid IP address '{address}'")))
        })
        .collect()
}

/// `CORS_ORIGINS` as a JSON list (`["https://a.co"]`, as the reference wrote it) or a
/// comma-separated list.
fn parse_origins(raw: Option<String>) -> Result<Vec<String>, ConfigError> {
    let Some(raw) = raw else { return Ok(Vec::new()) };
    let origins: Vec<String> = if raw.starts_with('[') {
        serde_json::from_str(&raw)
            .map_err(|_| error("CORS_ORIGINS", "must be a JSON list of origins or a comma-separated list"))?
    } else {
        raw.split(',').map(|origin| origin.trim().to_owned()).filter(|origin| !origin.is_empty()).collect()
    };
    for origin in &origins {
        let valid = (origin.starts_with("http://") || origin.starts_with("https://"))
            && axum::http::HeaderValue::from_str(origin).is_ok();
        if !valid {
            return Err(error("CORS_ORIGINS", format!("has an invalid origin '{origin}'")));
        }
    }
    Ok(origins)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn load(pairs: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let map: HashMap<String, String> = pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect();
        Config::from_lookup(|name| map.get(name).cloned())
    }

    #[test]
    fn an_empty_environment_gives_the_embedded_development_defaults() {
        let config = load(&[]).unwrap();
        assert_eq!(config.environment, Environment::Development);
        assert_eq!(config.database_url.as_str(), "sqlite://factus-api.db");
        assert_eq!(config.bind_addr.to_string(), "127.0.0.1:8000");
        assert_eq!(config.api_prefix, "/api/v1");
        assert!(config.secret_key_generated);
        assert!(config.secret_key.expose_secret().len() >= MIN_SECRET_KEY_BYTES);
    }

    #[test]
    fn production_without_a_secret_key_names_the_variable() {
        let failure = load(&[("ENVIRONMENT", "production")]).unwrap_err();
        assert_eq!(failure.variable, "SECRET_KEY");
        assert_eq!(failure.to_string(), "configuration error: SECRET_KEY is required in production");
    }

    #[test]
    fn production_refuses_a_short_secret_key() {
        let failure = load(&[("ENVIRONMENT", "production"), ("SECRET_KEY", "short")]).unwrap_err();
        assert_eq!(failure.variable, "SECRET_KEY");
    }

    #[test]
    fn production_refuses_weak_secret_keys_without_showing_them() {
        for key in ["a".repeat(32), "ab".repeat(24), "0123456789".repeat(4), "your-secret-key".repeat(3)] {
            let failure = load(&[("ENVIRONMENT", "production"), ("SECRET_KEY", &key)]).unwrap_err();
            assert_eq!(failure.variable, "SECRET_KEY", "{key}");
            assert!(!failure.to_string().contains(&key));
        }
    }

    #[test]
    fn random_hex_and_base64_keys_are_strong() {
        for _ in 0..200 {
            let mut bytes = [0_u8; 32];
            rand::rng().fill_bytes(&mut bytes);
            let hex: String = bytes.iter().map(|byte| format!("{byte:02x}")).collect();
            assert!(!is_weak_secret_key(&hex), "{hex}");
            let base64 = base64::engine::general_purpose::STANDARD.encode(bytes);
            assert!(!is_weak_secret_key(&base64), "{base64}");
        }
        assert!(!is_weak_secret_key("router-tests-secret-key-0123456789abcdef"));
    }

    #[test]
    fn production_refuses_known_default_admin_passwords() {
        for password in ["admin123", "Admin123", "changeme", "password123", "aaaaaaaaaa", "abcabcabc"] {
            let key = "0f6c1e8a9b7d4c3e2a1f0b9c8d7e6f5a4b3c2d1e";
            let failure =
                load(&[("ENVIRONMENT", "production"), ("SECRET_KEY", key), ("ADMIN_PASSWORD", password)]).unwrap_err();
            assert_eq!(failure.variable, "ADMIN_PASSWORD", "{password}");
        }
    }

    #[test]
    fn development_accepts_weak_secrets_and_remembers_to_warn() {
        let config = load(&[("SECRET_KEY", "secret"), ("ADMIN_PASSWORD", "admin123")]).unwrap();
        assert_eq!(config.weak_secrets, ["SECRET_KEY", "ADMIN_PASSWORD"]);
        assert!(load(&[]).unwrap().weak_secrets.is_empty());
    }

    #[test]
    fn a_non_numeric_token_lifetime_names_the_variable() {
        let failure = load(&[("ACCESS_TOKEN_EXPIRE_MINUTES", "soon")]).unwrap_err();
        assert_eq!(
            failure.to_string(),
            "configuration error: ACCESS_TOKEN_EXPIRE_MINUTES must be a positive integer (got 'soon')"
        );
    }

    #[test]
    fn a_bad_value_is_refused_naming_the_variable_at_fault() {
        for (setting, at_fault) in [
            // Zero minutes is not a token lifetime.
            (("ACCESS_TOKEN_EXPIRE_MINUTES", "0"), "ACCESS_TOKEN_EXPIRE_MINUTES"),
            (("ALGORITHM", "none"), "ALGORITHM"),
            (("BIND_ADDR", "localhost"), "BIND_ADDR"),
            (("ADMIN_PASSWORD", "123"), "ADMIN_PASSWORD"),
            // Factus credentials come in pairs: a username without its password.
            (("FACTUS_USERNAME", "a@b.co"), "FACTUS_PASSWORD"),
        ] {
            assert_eq!(load(&[setting]).unwrap_err().variable, at_fault, "{setting:?}");
        }
    }

    #[test]
    fn cors_origins_accept_json_and_comma_lists() {
        let config = load(&[("CORS_ORIGINS", r#"["http://localhost:5173","https://shop.co"]"#)]).unwrap();
        assert_eq!(config.cors_origins, ["http://localhost:5173", "https://shop.co"]);
        let config = load(&[("CORS_ORIGINS", "http://a.co, http://b.co")]).unwrap();
        assert_eq!(config.cors_origins, ["http://a.co", "http://b.co"]);
        assert_eq!(load(&[("CORS_ORIGINS", "not an origin")]).unwrap_err().variable, "CORS_ORIGINS");
    }

    #[test]
    fn a_webhook_url_needs_a_secret_and_an_http_scheme() {
        let error = load(&[("WEBHOOK_URL", "https://erp.example/hooks")]).unwrap_err();
        assert_eq!(error.variable, "WEBHOOK_SECRET");
        let error = load(&[("WEBHOOK_URL", "ftp://erp.example"), ("WEBHOOK_SECRET", "s")]).unwrap_err();
        assert_eq!(error.variable, "WEBHOOK_URL");
        let config =
            load(&[("WEBHOOK_URL", "https://erp.example/hooks"), ("WEBHOOK_SECRET", "whsec-do-not-print")]).unwrap();
        assert_eq!(config.webhooks.url.as_deref(), Some("https://erp.example/hooks"));
        assert!(!format!("{config:?}").contains("whsec-do-not-print"), "the secret is never in Debug");
    }

    #[test]
    fn lookups_are_cached_an_hour_and_numbering_ranges_half_a_minute_by_default() {
        let config = load(&[]).unwrap();
        assert_eq!(config.caches.lookups, Duration::from_secs(3600));
        assert_eq!(config.caches.numbering_ranges, Duration::from_secs(30));
        assert!(config.webhooks.url.is_none());
    }

    #[test]
    fn trusted_proxies_are_a_comma_separated_list_of_addresses() {
        let config = load(&[("TRUSTED_PROXIES", "10.0.0.2, ::1")]).unwrap();
        assert_eq!(config.trusted_proxies.len(), 2);
        assert_eq!(load(&[("TRUSTED_PROXIES", "lb.internal")]).unwrap_err().variable, "TRUSTED_PROXIES");
    }

    #[test]
    fn debug_output_never_shows_secrets() {
        let config = load(&[
            ("SECRET_KEY", "super-secret-value-that-is-long-enough"),
            ("FACTUS_CLIENT_SECRET", "client-secret-xyz"),
        ])
        .unwrap();
        let shown = format!("{config:?}");
        assert!(!shown.contains("super-secret-value"));
        assert!(!shown.contains("client-secret-xyz"));
    }

    #[test]
    fn the_factus_base_url_loses_its_trailing_slash() {
        let config = load(&[("FACTUS_BASE_URL", "http://127.0.0.1:9000/")]).unwrap();
        assert_eq!(config.factus.base_url, "http://127.0.0.1:9000");
    }

    #[test]
    fn the_debug_output_never_shows_the_database_password() {
        let config = Config::from_lookup(|name| match name {
            "DATABASE_URL" => Some("postgres://factus:s3cr3t-db-pw@db.internal:5432/factus".to_owned()),
            _ => None,
        })
        .expect("a valid configuration");

        let debug = format!("{config:?}");

        assert!(!debug.contains("s3cr3t-db-pw"), "{debug}");
        assert!(debug.contains("postgres://factus:***@db.internal:5432/factus"), "{debug}");
    }
}
