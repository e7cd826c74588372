//! The `postern` binary: parse the command line, set up logging, run the subcommand.

use anyhow::Context;
use clap::Parser;
use postern::app::Application;
use postern::cli::{Cli, Command, IdentitiesCommand, MigrateArgs};
use postern::clock::Clock;
use postern::config::{Config, LogFormat, ServeArgs};
use postern::{ops, password, store, telemetry};
use std::io::Read;

#[actix_web::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    match cli.command {
        None => serve(cli.serve).await,
        Some(Command::Serve(args)) => serve(*args).await,
        Some(Command::Migrate(args)) => migrate(args),
        Some(Command::HashPassword(args)) => {
            let params = args.hash.params()?;
            let mut input = String::new();
            std::io::stdin()
                .read_to_string(&mut input)
                .context("cannot read the password from stdin")?;
            let password = input.strip_suffix('\n').unwrap_or(&input);
            let password = password.strip_suffix('\r').unwrap_or(password);
            println!("{}", password::hash_now(params, password)?);
            Ok(())
        }
        Some(Command::Identities { command }) => identities(command).await,
        Some(Command::Backup(args)) => {
            let size = ops::backup(&args.db, &args.out)?;
            println!(
                "backup of {} written to {} ({size} bytes, integrity ok)",
                args.db.display(),
                args.out.display()
            );
            Ok(())
        }
        Some(Command::Cleanup(args)) => {
            telemetry::init(LogFormat::Pretty, "warn");
            let state = ops::state(Config::try_from(*args)?).await?;
            for (target, n) in postern::cleanup::run_once(&state).await? {
                println!("{}: {n} removed", target.name());
            }
            Ok(())
        }
    }
}

async fn identities(command: IdentitiesCommand) -> anyhow::Result<()> {
    telemetry::init(LogFormat::Pretty, "warn");
    match command {
        IdentitiesCommand::Import(args) => {
            let state = ops::state(Config::try_from(*args.serve)?).await?;
            let n = ops::import(&state, &args.file).await?;
            eprintln!("imported {n} identities");
        }
        IdentitiesCommand::Export(args) => {
            let state = ops::state(Config::try_from(*args.serve)?).await?;
            let stdout = std::io::stdout();
            let n = ops::export(&state, args.with_credentials, &mut stdout.lock()).await?;
            eprintln!("exported {n} identities");
        }
    }
    Ok(())
}

async fn serve(args: ServeArgs) -> anyhow::Result<()> {
    let filter = args
        .log_level
        .clone()
        .unwrap_or_else(|| if args.dev { "debug" } else { "info" }.to_owned());
    telemetry::init(args.log_format, &filter);
    let config = Config::try_from(args)?;
    if config.dev {
        tracing::warn!(
            "--dev is on: passwords are hashed with cheap argon2 parameters and logs are verbose. \
             Never use --dev in production."
        );
    }
    let app = Application::build(config, Clock::system()).await?;
    let (public, admin) = app.handles();
    let server = actix_web::rt::spawn(app.run_until_stopped());
    shutdown_signal().await;
    tracing::info!("shutting down: finishing in-flight requests");
    futures_util::future::join(public.stop(true), admin.stop(true)).await;
    server.await.context("server task")??;
    tracing::info!("stopped");
    Ok(())
}

/// Resolves on SIGINT (Ctrl-C) or SIGTERM.
async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
}

fn migrate(args: MigrateArgs) -> anyhow::Result<()> {
    telemetry::init(LogFormat::Pretty, "info");
    let opened = store::Store::open(&args.db, &store::StoreOptions::default())
        .with_context(|| format!("cannot open {}", args.db.display()))?;
    drop(opened);
    println!(
        "{} is at schema version {}",
        args.db.display(),
        store::migrate::LATEST
    );
    Ok(())
}
