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
