//! `factus-api`: reads configuration, sets up telemetry, builds the application, serves.

use std::process::ExitCode;

use anyhow::Context;
use clap::Parser;
use factus_server::app::{self, BuildOptions};
use factus_server::cli::{Cli, Command, ServeArgs, run_api_key_command, run_user_command};
use factus_server::config::Config;
use factus_server::telemetry;

/// mimalloc instead of glibc's malloc: the request path allocates many small, short-lived
/// buffers across threads, where glibc's arenas cost a quarter of the CPU under load, and glibc
/// keeps argon2's 19 MiB hashing buffers in the resident set after every login.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> ExitCode {
    // A missing .env is normal; real environment variables always win over it.
    let _ = dotenvy::dotenv();
    let cli = Cli::parse();
    let config = match Config::from_env() {
        Ok(config) => config,
        Err(error) => {
            eprintln!("{error}");
            return ExitCode::from(2);
        }
    };
    telemetry::init_tracing(config.log_format);
    match run(cli, config).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            tracing::error!(error = format!("{error:#}"), "factus-api stopped");
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli, config: Config) -> anyhow::Result<()> {
    match cli.command {
        None => serve(cli.serve, config).await,
        Some(Command::Serve(args)) => serve(args, config).await,
        Some(Command::Migrate) => {
            let app = app::build(&config, BuildOptions::default()).await?;
            println!("migrations applied ({})", app.database.backend_name());
            Ok(())
        }
        Some(Command::User(command)) => {
            let app = app::build(&config, BuildOptions::default()).await?;
            run_user_command(command, &app).await
        }
        Some(Command::ApiKey(command)) => {
            let app = app::build(&config, BuildOptions::default()).await?;
            run_api_key_command(command, &app).await
        }
    }
}

async fn serve(args: ServeArgs, config: Config) -> anyhow::Result<()> {
    config.warn_about_weak_secrets();
    if config.secret_key_generated {
        tracing::warn!("SECRET_KEY is not set: using a random key; tokens stop working when the process restarts");
    }
    if config.is_production() && !args.simulate_factus {
        config.require_factus_client()?;
    }
    let options = BuildOptions { simulate_factus: args.simulate_factus, ..BuildOptions::default() };
    let application = app::start(&config, options).await?;
    let signalled = app::shutdown_signal().context("could not install the SIGTERM/Ctrl-C handlers")?;
    let bind = args.bind.unwrap_or(config.bind_addr);
    let listener = tokio::net::TcpListener::bind(bind).await.with_context(|| format!("could not listen on {bind}"))?;
    println!("listening on {}", listener.local_addr()?);
    application.serve(listener, signalled).await
}
