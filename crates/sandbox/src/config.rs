//! Configuration: [`SandboxConfig`] for the library, [`SandboxArgs`] for the binary's flags and
//! environment variables.

use std::fmt;
use std::net::{Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::faults::FaultSpec;

/// OAuth client id accepted by default.
pub const DEFAULT_CLIENT_ID: &str = "factus-sandbox-client";
/// OAuth client secret accepted by default.
pub const DEFAULT_CLIENT_SECRET: &str = "factus-sandbox-secret";
/// User name (an e-mail, as in Factus) accepted by default.
pub const DEFAULT_USERNAME: &str = "sandbox@factus.com.co";
/// Password accepted by default.
pub const DEFAULT_PASSWORD: &str = "sandbox2024%";
/// The form of a password grant with the default credentials (`POST /oauth/token`).
pub const DEFAULT_PASSWORD_GRANT: [(&str, &str); 5] = [
    ("grant_type", "password"),
    ("client_id", DEFAULT_CLIENT_ID),
    ("client_secret", DEFAULT_CLIENT_SECRET),
    ("username", DEFAULT_USERNAME),
    ("password", DEFAULT_PASSWORD),
];
/// Access-token lifetime, as measured on the real sandbox.
pub const DEFAULT_TOKEN_TTL: Duration = Duration::from_secs(3600);
/// Rate-limit window: Factus counts requests per minute.
pub const DEFAULT_RATE_WINDOW: Duration = Duration::from_secs(60);

/// What `POST …/validate` does with a `reference_code` that already names a validated document.
///
/// Factus documents the code as an idempotency key but the exact answer was never captured
/// (`docs/factus.md` §8.4), so the sandbox lets the caller choose.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "snake_case")]
pub enum DuplicatePolicy {
    /// 409 `{"status":"Conflict","message":…}` and nothing is stored (the default).
    #[default]
    Conflict,
    /// 201 with the stored document, exactly as the first creation answered.
    ReturnExisting,
}

/// Which Factus API versions the simulated company account may call.
///
/// Factus enables one version per company: calling the other one with a valid token answers 403
/// `{"message": "Version de API no disponible para esta empresa"}` (new accounts are v2-only,
/// older ones v1-only). `Both` serves both trees over one shared set of documents.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum ApiVersion {
    /// Only `/v1/...`; every `/v2/...` call answers 403.
    V1,
    /// Only `/v2/...`; every `/v1/...` call answers 403.
    V2,
    /// Both trees (the default).
    #[default]
    Both,
}

impl ApiVersion {
    /// The name used on the command line and over the admin API (`v1`, `v2`, `both`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::V1 => "v1",
            Self::V2 => "v2",
            Self::Both => "both",
        }
    }

    /// Whether a request path of the other tree is refused: `/v2/...` in `V1` mode, `/v1/...` in
    /// `V2` mode. Unversioned paths (`/oauth/token`, `/__sandbox/...`) are never refused.
    pub fn refuses(self, path: &str) -> bool {
        match self {
            Self::V1 => path.starts_with("/v2/"),
            Self::V2 => path.starts_with("/v1/"),
            Self::Both => false,
        }
    }
}

/// Everything the sandbox needs to start. `Default` gives the documented defaults on
/// `127.0.0.1:0`.
#[derive(Clone)]
pub struct SandboxConfig {
    /// Address to bind (`Sandbox::start` only); port 0 picks a free port.
    pub bind: SocketAddr,
    /// OAuth client id the token endpoint accepts.
    pub client_id: String,
    /// OAuth client secret the token endpoint accepts.
    pub client_secret: String,
    /// User name (e-mail) of the password grant.
    pub username: String,
    /// Password of the password grant.
    pub password: String,
    /// Lifetime of access tokens, reported as `expires_in` (whole seconds, at least 1).
    pub token_ttl: Duration,
    /// Requests per account (the OAuth user every token is issued to) in each `rate_window`
    /// before 429; `None` turns the limiter off.
    pub rate_limit: Option<u32>,
    /// Length of the rate-limit window (Factus: one minute); at least one second.
    pub rate_window: Duration,
    /// Answer to a reused `reference_code` of a validated document.
    pub duplicate_reference: DuplicatePolicy,
    /// Serve the `/__sandbox/*` control endpoints.
    pub admin_endpoints: bool,
    /// JSON file the state is loaded from at start and saved to (every second while it changes,
    /// and at shutdown).
    pub state_file: Option<PathBuf>,
    /// Fault rules in force from the start.
    pub faults: Vec<FaultSpec>,
    /// Reject a NIT customer whose `dv` is wrong with DIAN rule FAK24, as the real API does.
    pub verify_nit_dv: bool,
    /// Refuse new documents with 409 while one of the same family is pending (status 0), as the
    /// shared Factus sandbox does.
    pub pending_blocks_new: bool,
    /// API versions the account may call at start; `PUT /__sandbox/api-version` changes it at run
    /// time.
    pub api_version: ApiVersion,
}

impl Default for SandboxConfig {
    fn default() -> Self {
        Self {
            bind: SocketAddr::from((Ipv4Addr::LOCALHOST, 0)),
            client_id: DEFAULT_CLIENT_ID.into(),
            client_secret: DEFAULT_CLIENT_SECRET.into(),
            username: DEFAULT_USERNAME.into(),
            password: DEFAULT_PASSWORD.into(),
            token_ttl: DEFAULT_TOKEN_TTL,
            rate_limit: None,
            rate_window: DEFAULT_RATE_WINDOW,
            duplicate_reference: DuplicatePolicy::Conflict,
            admin_endpoints: true,
            state_file: None,
            faults: Vec::new(),
            verify_nit_dv: true,
            pending_blocks_new: false,
            api_version: ApiVersion::Both,
        }
    }
}

impl fmt::Debug for SandboxConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SandboxConfig")
            .field("bind", &self.bind)
            .field("client_id", &self.client_id)
            .field("client_secret", &"[redacted]")
            .field("username", &self.username)
            .field("password", &"[redacted]")
            .field("token_ttl", &self.token_ttl)
            .field("rate_limit", &self.rate_limit)
            .field("rate_window", &self.rate_window)
            .field("duplicate_reference", &self.duplicate_reference)
            .field("admin_endpoints", &self.admin_endpoints)
            .field("state_file", &self.state_file)
            .field("faults", &self.faults)
            .field("verify_nit_dv", &self.verify_nit_dv)
            .field("pending_blocks_new", &self.pending_blocks_new)
            .field("api_version", &self.api_version)
            .finish()
    }
}

/// Command-line flags of the `factus-sandbox` binary; every flag can also come from the
/// environment variable shown in `--help`.
#[derive(Debug, clap::Parser)]
#[command(
    name = "factus-sandbox",
    version,
    about = "A stateful local simulator of the Factus e-invoicing API (v1 and v2) with fault injection"
)]
pub struct SandboxArgs {
    /// Address to listen on; port 0 picks a free port (the bound address is printed).
    #[arg(long, env = "FACTUS_SANDBOX_BIND", default_value = "127.0.0.1:9000")]
    pub bind: SocketAddr,
    /// OAuth client id accepted by /oauth/token.
    #[arg(long, env = "FACTUS_SANDBOX_CLIENT_ID", default_value = DEFAULT_CLIENT_ID)]
    pub client_id: String,
    /// OAuth client secret accepted by /oauth/token.
    #[arg(long, env = "FACTUS_SANDBOX_CLIENT_SECRET", default_value = DEFAULT_CLIENT_SECRET, hide_env_values = true)]
    pub client_secret: String,
    /// User name (e-mail) of the password grant.
    #[arg(long, env = "FACTUS_SANDBOX_USERNAME", default_value = DEFAULT_USERNAME)]
    pub username: String,
    /// Password of the password grant.
    #[arg(long, env = "FACTUS_SANDBOX_PASSWORD", default_value = DEFAULT_PASSWORD, hide_env_values = true)]
    pub password: String,
    /// Access-token lifetime in seconds (`expires_in`).
    #[arg(long, env = "FACTUS_SANDBOX_TOKEN_TTL", default_value_t = 3600, value_name = "SECONDS",
          value_parser = clap::value_parser!(u64).range(1..))]
    pub token_ttl: u64,
    /// Requests per account per window before 429 (Factus: 80 a minute); off when absent.
    #[arg(long, env = "FACTUS_SANDBOX_RATE_LIMIT", value_name = "PER_WINDOW",
          value_parser = clap::value_parser!(u32).range(1..))]
    pub rate_limit: Option<u32>,
    /// Length of the rate-limit window in seconds (Factus: 60).
    #[arg(long, env = "FACTUS_SANDBOX_RATE_WINDOW_SECS", default_value_t = 60, value_name = "SECONDS",
          value_parser = clap::value_parser!(u64).range(1..))]
    pub rate_window_secs: u64,
    /// Answer to a reused reference_code of a validated document.
    #[arg(long, env = "FACTUS_SANDBOX_DUPLICATE_REFERENCE", value_enum, default_value_t = DuplicatePolicy::Conflict)]
    pub duplicate_reference: DuplicatePolicy,
    /// Do not serve the /__sandbox/* control endpoints.
    #[arg(long, env = "FACTUS_SANDBOX_DISABLE_ADMIN")]
    pub disable_admin: bool,
    /// Load state from this JSON file at start and save it there while running and at exit.
    #[arg(long, env = "FACTUS_SANDBOX_STATE_FILE", value_name = "PATH")]
    pub state_file: Option<PathBuf>,
    /// A fault rule in force from the start (repeatable): JSON, or
    /// `kind[,key=value…]` such as `status,status=503,path=/v1/bills/validate,probability=0.2`.
    /// In the environment variable, separate rules with `;`.
    #[arg(long = "fault", env = "FACTUS_SANDBOX_FAULTS", value_name = "SPEC",
          value_delimiter = ';', value_parser = FaultSpec::parse)]
    pub faults: Vec<FaultSpec>,
    /// Accept any `dv` for NIT customers instead of answering DIAN rule FAK24.
    #[arg(long, env = "FACTUS_SANDBOX_SKIP_DV_CHECK")]
    pub skip_dv_check: bool,
    /// Answer 409 to new documents while one of the same family is pending (status 0).
    #[arg(long, env = "FACTUS_SANDBOX_PENDING_BLOCKS_NEW")]
    pub pending_blocks_new: bool,
    /// API versions the account may call: `v1`, `v2` or `both`; the other tree answers 403
    /// "Version de API no disponible para esta empresa".
    #[arg(long, env = "FACTUS_SANDBOX_API_VERSION", value_enum, default_value_t = ApiVersion::Both)]
    pub api_version: ApiVersion,
}

impl SandboxArgs {
    /// The library configuration these flags describe.
    pub fn into_config(self) -> SandboxConfig {
        SandboxConfig {
            bind: self.bind,
            client_id: self.client_id,
            client_secret: self.client_secret,
            username: self.username,
            password: self.password,
            token_ttl: Duration::from_secs(self.token_ttl),
            rate_limit: self.rate_limit,
            rate_window: Duration::from_secs(self.rate_window_secs),
            duplicate_reference: self.duplicate_reference,
            admin_endpoints: !self.disable_admin,
            state_file: self.state_file,
            faults: self.faults,
            verify_nit_dv: !self.skip_dv_check,
            pending_blocks_new: self.pending_blocks_new,
            api_version: self.api_version,
        }
    }
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;
    use crate::faults::FaultKind;

    #[test]
    fn flags_override_every_default() {
        let args = SandboxArgs::try_parse_from([
            "factus-sandbox",
            "--bind",
            "127.0.0.1:0",
            "--client-id",
            "c",
            "--token-ttl",
            "2",
            "--rate-limit",
            "80",
            "--rate-window-secs",
            "2",
            "--duplicate-reference",
            "return-existing",
            "--disable-admin",
            "--fault",
            "hang,path=/v1/bills",
            "--fault",
            r#"{"kind":"latency","latency_ms":5}"#,
            "--skip-dv-check",
            "--api-version",
            "v2",
        ])
        .unwrap();
        let config = args.into_config();
        assert_eq!(config.bind.port(), 0);
        assert_eq!(config.client_id, "c");
        assert_eq!(config.token_ttl, Duration::from_secs(2));
        assert_eq!(config.rate_limit, Some(80));
        assert_eq!(config.rate_window, Duration::from_secs(2));
        assert_eq!(config.duplicate_reference, DuplicatePolicy::ReturnExisting);
        assert!(!config.admin_endpoints);
        assert_eq!(config.faults.len(), 2);
        assert_eq!(config.faults[0].kind, FaultKind::Hang);
        assert!(!config.verify_nit_dv);
        assert_eq!(config.api_version, ApiVersion::V2);
    }

    #[test]
    fn without_flags_the_documented_defaults_apply() {
        let config = SandboxArgs::try_parse_from(["factus-sandbox"]).unwrap().into_config();
        assert_eq!(config.bind, "127.0.0.1:9000".parse().unwrap());
        assert_eq!(config.username, DEFAULT_USERNAME);
        assert_eq!(config.password, DEFAULT_PASSWORD);
        assert_eq!(config.token_ttl, DEFAULT_TOKEN_TTL);
        assert_eq!(config.rate_limit, None);
        assert_eq!(config.rate_window, DEFAULT_RATE_WINDOW);
        assert!(config.admin_endpoints);
        assert_eq!(config.api_version, ApiVersion::Both);
    }

    #[test]
    fn debug_output_hides_the_secrets() {
        let text = format!("{:?}", SandboxConfig::default());
        assert!(!text.contains(DEFAULT_PASSWORD));
        assert!(!text.contains(DEFAULT_CLIENT_SECRET));
    }
}
