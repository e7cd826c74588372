//! The command line: `postern [serve] [FLAGS]`, `postern migrate`, `postern hash-password`.

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
