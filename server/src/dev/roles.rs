//! The auth and store configurations of a dev deployment: the roles expose a config and a
//! router, and this module fills the config in from the [`DevContext`].
use axum::Router;
use sa_shared::{auth::AUDIENCE, routes::Subset};

use crate::{
    auth::{self, ratelimit::Limits},
    store::{self, jwt::IssuerConfig, BackendKind},
};

use super::DevContext;

/// The auth router on `auth.D`. At the first start it creates the user `admin` and prints its
/// password once.
pub async fn auth_router(ctx: &DevContext) -> anyhow::Result<Router> {
    let mut config = auth::Config::new(
        ctx.data_dir.join("auth"),
        ctx.url("auth"),
        ctx.app_origins(),
    );
    // A developer signs in and out a lot; the limits stay on but roomier.
    config.limits = Limits {
        per_ip_per_minute: 120,
        per_account_per_minute: 30,
    };
    let (router, first_admin) = auth::router_with_first_admin(config).await?;
    if let Some(password) = first_admin {
        println!("auth: created the first user `admin` with password: {password}");
        println!(
            "auth: (shown only at this first start; sign in at {} )",
            ctx.url("client")
        );
    }
    Ok(router)
}

/// The store instances on `store.D`, by backend: v1 and v2 of each, on the same data (the
/// canary routes of `sa_shared::routes::STORE_RULES`).
pub async fn store_instances(ctx: &DevContext) -> anyhow::Result<Vec<(BackendKind, [Router; 2])>> {
    let mut issuer =
        IssuerConfig::with_jwks_uri(ctx.url("auth"), ctx.jwks_url(), vec![AUDIENCE.to_string()]);
    // auth.D is served by this same process; reach it at the listener whatever the public port.
    issuer.connect_to = Some(ctx.listen);
    let base = |kind: BackendKind| {
        let mut a = store::Args::new(kind, ctx.data_dir.join("models"));
        a.allowed_origins = ctx.app_origins();
        a.redis_url = ctx.redis_url.clone();
        a.database_url = ctx.database_url.clone();
        a
    };
    let mut kinds = vec![BackendKind::File];
    if ctx.redis_url.is_some() {
        kinds.push(BackendKind::Redis);
    }
    if ctx.database_url.is_some() {
        kinds.push(BackendKind::Postgres);
    }
    let subsets = Subset::ALL.map(|s| s.as_str());
    let mut out = Vec::new();
    for kind in kinds {
        let routers =
            store::routers_for_subsets(&base(kind), vec![issuer.clone()], &subsets).await?;
        let [v1, v2]: [Router; 2] = routers
            .try_into()
            .map_err(|_| anyhow::anyhow!("expected a v1 and a v2 router"))?;
        out.push((kind, [v1, v2]));
    }
    Ok(out)
}
