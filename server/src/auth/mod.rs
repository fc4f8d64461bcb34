//! `sa-server auth`: users, roles, login and JWTs (see issue: auth service).
use axum::Router;

#[derive(clap::Args, Debug, Clone)]
pub struct Args {
    #[arg(long, env = "SA_LISTEN", default_value = "0.0.0.0:8080")]
    pub listen: std::net::SocketAddr,
}

#[derive(clap::Subcommand, Debug, Clone)]
pub enum UsersCommand {
    /// Add a user.
    Add { name: String },
}

pub async fn run(_args: Args) -> anyhow::Result<()> {
    anyhow::bail!("the auth role is not built yet")
}

pub async fn run_users(_cmd: UsersCommand) -> anyhow::Result<()> {
    anyhow::bail!("the auth role is not built yet")
}

/// The auth router that `sa-server dev` mounts on `auth.D`, if the role exists.
pub async fn dev_router(_ctx: &crate::dev::DevContext) -> anyhow::Result<Option<Router>> {
    Ok(None)
}
