//! The command line: `postern [serve]`, `migrate`, `hash-password`,
//! `identities import|export`, `backup`, `cleanup`.

use crate::config::{HashArgs, ServeArgs};
use clap::{Args, Parser, Subcommand};
use std::path::PathBuf;

#[derive(Debug, Parser)]
#[command(
    name = "postern",
    version,
    about = "An identity server that speaks the Ory Kratos API, in one binary with SQLite.",
    args_conflicts_with_subcommands = true
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
    /// With no subcommand, Postern serves (the flags are those of `postern serve`).
    #[command(flatten)]
    pub serve: ServeArgs,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve the public and admin APIs (the default).
    Serve(Box<ServeArgs>),
    /// Apply pending schema migrations to a database file and exit.
    Migrate(MigrateArgs),
    /// Read a password from stdin and print its argon2id PHC hash.
    HashPassword(HashPasswordArgs),
    /// Import or export identities.
    Identities {
        #[command(subcommand)]
        command: IdentitiesCommand,
    },
    /// Write a consistent copy of the live database (safe while the server runs).
    Backup(BackupArgs),
    /// Delete flows, codes, sessions and mail past --cleanup-retention, then exit.
    Cleanup(Box<ServeArgs>),
}

#[derive(Debug, Subcommand)]
pub enum IdentitiesCommand {
    /// Import a JSON array of createIdentityBody records (FILE, or - for stdin):
    /// all of them or, if any is invalid, none.
    Import(ImportArgs),
    /// Write every identity as a JSON array of createIdentityBody records.
    Export(ExportArgs),
}

#[derive(Debug, Args)]
pub struct ImportArgs {
    /// The JSON file to import, or `-` for standard input.
    pub file: String,
    #[command(flatten)]
    pub serve: Box<ServeArgs>,
}

#[derive(Debug, Args)]
pub struct ExportArgs {
    /// Include password hashes (treat the output as a secret).
    #[arg(long)]
    pub with_credentials: bool,
    #[command(flatten)]
    pub serve: Box<ServeArgs>,
}

#[derive(Debug, Args)]
pub struct BackupArgs {
    /// Where to write the copy (must not exist yet).
    pub out: PathBuf,
    /// The live database file.
    #[arg(long, env = "POSTERN_DB", default_value = "postern.sqlite")]
    pub db: PathBuf,
}

#[derive(Debug, Args)]
pub struct MigrateArgs {
    /// The SQLite database file to migrate (created if missing).
    #[arg(long, env = "POSTERN_DB", default_value = "postern.sqlite")]
    pub db: PathBuf,
}

#[derive(Debug, Args)]
pub struct HashPasswordArgs {
    #[command(flatten)]
    pub hash: HashArgs,
}
