//! Command line: one subcommand per role.
use clap::{Parser, Subcommand};

use crate::serve::LogFormat;

#[derive(Parser, Debug)]
#[command(
    name = "sa-server",
    version,
    about = "sa: static apps, model store, auth and the local gateway"
)]
pub struct Cli {
    /// Log format: `pretty` for people, `json` for collectors.
    #[arg(long, global = true, env = "SA_LOG_FORMAT", default_value = "pretty")]
    pub log_format: LogFormat,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Serve one browser app (a Trunk build) and its /config.json.
    Static(crate::static_site::Args),
    /// The JSON model REST service.
    Store(crate::store::Args),
    /// Users, login and tokens.
    Auth(crate::auth::Args),
    /// Manage auth users from the command line.
    #[command(subcommand)]
    Users(crate::auth::UsersCommand),
    /// Every role in one process behind a host router that acts as the gateway.
    Dev(crate::dev::Args),
}

pub async fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Static(a) => crate::static_site::run(a).await,
        Command::Store(a) => crate::store::run(a).await,
        Command::Auth(a) => crate::auth::run(a).await,
        Command::Users(c) => crate::auth::run_users(c).await,
        Command::Dev(a) => crate::dev::run(a).await,
    }
}
