//! The command line: `serve` (the default), `migrate`, and user administration.

use std::io::BufRead;
use std::net::SocketAddr;

use anyhow::Context;
use clap::{Args, Parser, Subcommand};
use factus_application::users::UserChanges;
use factus_domain::user::{NewPassword, Role, Username};

/// factus-api: local users, DIAN invoices through Factus, exactly once.
#[derive(Debug, Parser)]
#[command(name = "factus-api", version, about, args_conflicts_with_subcommands = true)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
    /// Options of `serve` (the default command).
    #[command(flatten)]
    pub serve: ServeArgs,
}

#[derive(Debug, Clone, Default, Args)]
pub struct ServeArgs {
    /// Start a local Factus simulator in-process and point the gateway at it, so the whole
    /// flow works offline.
    #[arg(long)]
    pub simulate_factus: bool,
    /// Listen here instead of `BIND_ADDR`.
    #[arg(long)]
    pub bind: Option<SocketAddr>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the HTTP service (the default).
    Serve(ServeArgs),
    /// Apply database migrations and exit.
    Migrate,
    /// Manage local users. Passwords are read from the first line of standard input, or from
    /// `FACTUS_API_NEW_PASSWORD` when it is set, never from the command line.
    #[command(subcommand)]
    User(UserCommand),
    /// Manage API keys of machine callers. A key acts as its user; it is printed once, on
    /// creation, and only its SHA-256 is stored.
    #[command(subcommand, name = "api-key")]
    ApiKey(ApiKeyCommand),
}

#[derive(Debug, Subcommand)]
pub enum ApiKeyCommand {
    /// Create a key for a user and print it (the only time it is shown).
    Create {
        /// A label to tell keys apart (`erp-produccion`).
        name: String,
        /// The user the key acts as.
        #[arg(long)]
        user: String,
        /// When the key stops working: an RFC 3339 instant (`2027-01-01T00:00:00Z`), a date
        /// (`2027-01-01`, midnight UTC), or a number of days from now (`90d`).
        #[arg(long)]
        expires: Option<String>,
    },
    /// List keys (id, prefix, name, user, state, expiry, last use), never the keys.
    List {
        /// Only this user's keys.
        #[arg(long)]
        user: Option<String>,
    },
    /// Revoke a key, by its id or its prefix (`fapi_3f9a61c2`) as `list` shows them.
    Revoke { key: String },
}

#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Create a user.
    Create {
        username: String,
        /// `admin` or `user`.
        #[arg(long, default_value = "user")]
        role: String,
    },
    /// List users.
    List,
    /// Disable a user (their tokens stop working).
    Disable { username: String },
    /// Enable a disabled user.
    Enable { username: String },
    /// Set a user's password.
    SetPassword { username: String },
}

fn read_password() -> anyhow::Result<NewPassword> {
    let raw = match std::env::var("FACTUS_API_NEW_PASSWORD") {
        Ok(password) => password,
        Err(_) => {
            eprintln!("password (first line of standard input):");
            let mut line = String::new();
            std::io::stdin().lock().read_line(&mut line).context("could not read the password from standard input")?;
            line.trim_end_matches(['\r', '\n']).to_owned()
        }
    };
    NewPassword::parse(&raw).map_err(|error| anyhow::anyhow!("{error}"))
}

fn parse_username(raw: &str) -> anyhow::Result<Username> {
    Username::parse(raw).map_err(|error| anyhow::anyhow!("{error}"))
}

/// Runs a `user` subcommand against the configured database.
///
/// # Errors
/// Bad input, an unknown user, or a store failure, each as one line.
pub async fn run_user_command(command: UserCommand, app: &crate::app::Application) -> anyhow::Result<()> {
    let users = &app.state.users;
    match command {
        UserCommand::Create { username, role } => {
            let username = parse_username(&username)?;
            let role = Role::parse(&role).map_err(|error| anyhow::anyhow!("{error}"))?;
            let password = read_password()?;
            let user = users.create(username, &password, role).await?;
            println!("created {} ({})", user.username, user.role);
        }
        UserCommand::List => {
            for user in users.list().await? {
                let state = if user.disabled { "disabled" } else { "enabled" };
                println!("{}\t{}\t{}", user.username, user.role, state);
            }
        }
        UserCommand::Disable { username } => {
            let username = parse_username(&username)?;
            users.update(&username, UserChanges { disabled: Some(true), ..UserChanges::default() }).await?;
            println!("disabled {username}");
        }
        UserCommand::Enable { username } => {
            let username = parse_username(&username)?;
            users.update(&username, UserChanges { disabled: Some(false), ..UserChanges::default() }).await?;
            println!("enabled {username}");
        }
        UserCommand::SetPassword { username } => {
            let username = parse_username(&username)?;
            let password = read_password()?;
            users.update(&username, UserChanges { password: Some(password), ..UserChanges::default() }).await?;
            println!("password set for {username}");
        }
    }
    Ok(())
}

/// Reads `--expires`: an RFC 3339 instant, a date (midnight UTC), or `<days>d` from `now`.
fn parse_expiry(raw: &str, now: time::OffsetDateTime) -> anyhow::Result<time::OffsetDateTime> {
    use time::format_description::well_known::Rfc3339;
    let raw = raw.trim();
    if let Some(days) = raw.strip_suffix('d') {
        let days: i64 = days.parse().map_err(|_| anyhow::anyhow!("--expires: '{raw}' is not a number of days"))?;
        anyhow::ensure!(days > 0, "--expires: the number of days must be positive");
        return Ok(now + time::Duration::days(days));
    }
    if let Ok(at) = time::OffsetDateTime::parse(raw, &Rfc3339) {
        return Ok(at);
    }
    let date = time::Date::parse(raw, time::macros::format_description!("[year]-[month]-[day]"))
        .map_err(|_| anyhow::anyhow!("--expires: '{raw}' is neither RFC 3339, YYYY-MM-DD nor <days>d"))?;
    Ok(date.midnight().assume_utc())
}

/// Runs an `api-key` subcommand against the configured database.
///
/// # Errors
/// Bad input, an unknown user or key, or a store failure, each as one line.
pub async fn run_api_key_command(command: ApiKeyCommand, app: &crate::app::Application) -> anyhow::Result<()> {
    use factus_application::api_keys::{ApiKeyName, CreateApiKeyError, RevokeApiKeyError};
    use secrecy::ExposeSecret as _;
    use time::format_description::well_known::Rfc3339;

    let keys = &app.state.api_keys;
    let show =
        |at: Option<time::OffsetDateTime>| at.and_then(|at| at.format(&Rfc3339).ok()).unwrap_or_else(|| "-".into());
    match command {
        ApiKeyCommand::Create { name, user, expires } => {
            let username = parse_username(&user)?;
            let name = ApiKeyName::parse(&name).map_err(|error| anyhow::anyhow!("name: {error}"))?;
            let expires_at =
                expires.as_deref().map(|raw| parse_expiry(raw, time::OffsetDateTime::now_utc())).transpose()?;
            let created = match keys.create(&username, name, expires_at).await {
                Ok(created) => created,
                Err(CreateApiKeyError::UserNotFound) => anyhow::bail!("user {username} not found"),
                Err(error) => return Err(error.into()),
            };
            // The key goes to standard output alone, so that `KEY=$(factus-api api-key create …)`
            // captures it; the rest goes to standard error.
            eprintln!(
                "created API key {} ({}) for {}, expires {}; it is shown only now:",
                created.key.id,
                created.key.prefix,
                created.key.username,
                show(created.key.expires_at)
            );
            println!("{}", created.secret.expose_secret());
        }
        ApiKeyCommand::List { user } => {
            let username = user.as_deref().map(parse_username).transpose()?;
            let now = time::OffsetDateTime::now_utc();
            for key in keys.list(username.as_ref()).await? {
                let state = if key.revoked_at.is_some() {
                    "revoked"
                } else if key.is_active_at(now) {
                    "active"
                } else {
                    "expired"
                };
                println!(
                    "{}\t{}\t{}\t{}\t{}\texpires={}\tlast_used={}",
                    key.id,
                    key.prefix,
                    key.name.as_str(),
                    key.username,
                    state,
                    show(key.expires_at),
                    show(key.last_used_at)
                );
            }
        }
        ApiKeyCommand::Revoke { key } => {
            let id = match uuid::Uuid::try_parse(&key) {
                Ok(id) => id,
                Err(_) => {
                    let matching: Vec<_> =
                        keys.list(None).await?.into_iter().filter(|stored| stored.prefix == key).collect();
                    match matching.as_slice() {
                        [one] => one.id,
                        [] => anyhow::bail!("no API key with id or prefix {key}"),
                        _ => anyhow::bail!("several API keys have the prefix {key}: revoke by id (see `api-key list`)"),
                    }
                }
            };
            match keys.revoke(id).await {
                Ok(revoked) => println!("revoked {} ({})", revoked.id, revoked.prefix),
                Err(RevokeApiKeyError::NotFound) => anyhow::bail!("no API key with id {key}"),
                Err(error) => return Err(error.into()),
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use time::macros::datetime;

    use super::*;

    #[test]
    fn expiry_is_an_instant_a_date_or_a_number_of_days() {
        let now = datetime!(2026-12-01 03:00 UTC);
        assert_eq!(parse_expiry("2027-01-02T03:04:05Z", now).unwrap(), datetime!(2027-01-02 03:04:05 UTC));
        assert_eq!(parse_expiry("2027-01-02", now).unwrap(), datetime!(2027-01-02 00:00 UTC));
        assert_eq!(parse_expiry("90d", now).unwrap(), now + time::Duration::days(90));
        assert!(parse_expiry("0d", now).is_err());
        assert!(parse_expiry("soon", now).is_err());
    }
}
