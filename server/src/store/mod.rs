//! `sa-server store`: the JSON model REST service (see issue: store service).
use axum::Router;

#[derive(clap::Args, Debug, Clone)]
pub struct Args {
    #[arg(long, env = "SA_LISTEN", default_value = "0.0.0.0:8080")]
    pub listen: std::net::SocketAddr,
}

pub async fn run(_args: Args) -> anyhow::Result<()> {
    anyhow::bail!("the store role is not built yet")
}

/// The store instances that `sa-server dev` mounts on `store.D`, by backend.
pub async fn dev_instances(_ctx: &crate::dev::DevContext) -> anyhow::Result<Vec<(sa_shared::routes::Backend, Router)>> {
    Ok(Vec::new())
}
