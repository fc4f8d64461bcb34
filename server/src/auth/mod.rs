//! `sa-server auth`: users, roles, login, refresh sessions and ES256 JWTs with a JWKS.
//!
//! A newcomer's map: [`routes`] has one file per resource, [`tokens`] what a token claims,
//! [`keys`] the signing keys and their rotation, [`refresh`] the refresh-token families,
//! [`passwords`] argon2id, [`storage`] users and families (file or PostgreSQL),
//! [`ratelimit`] and [`csrf`] the abuse defences, [`wellknown`] JWKS and OIDC discovery.
use std::{path::PathBuf, sync::Arc, time::Duration};

use anyhow::Context;
use axum::Router;
use sa_shared::auth::Role;

mod args;
pub mod csrf;
pub mod error;
mod fsutil;
pub mod keys;
pub mod passwords;
pub mod ratelimit;
pub mod refresh;
mod routes;
pub mod storage;
pub mod tokens;
mod wellknown;

pub use args::{Args, AuthCommand, Switch, UsersCommand};

use self::{
    keys::KeyRing,
    passwords::{Cost, Passwords},
    ratelimit::{Limits, RateLimits},
    refresh::RefreshPolicy,
    storage::{Storage, User},
    tokens::TokenIssuer,
};

/// Everything the auth router needs to know; tests build it directly.
#[derive(Clone, Debug)]
pub struct Config {
    pub data_dir: PathBuf,
    /// Public base URL, without a trailing slash: the `iss` of every token.
    pub issuer: String,
    /// Browser app origins allowed by CORS and by the CSRF check.
    pub allowed_origins: Vec<String>,
    pub registration: bool,
    pub database_url: Option<String>,
    pub access_ttl: u64,
    pub refresh_ttl: u64,
    pub share_ttl: u64,
    /// Seconds an old refresh token still works right after a rotation (concurrent tabs).
    pub reuse_grace: u64,
    /// Clock skew allowed to verifiers: a retired key stays published this much longer.
    pub clock_skew: u64,
    pub argon2: Cost,
    pub limits: Limits,
    pub trust_forwarded_for: bool,
    /// How often the service looks for a rotated key on disk.
    pub key_reload_interval: Duration,
    /// The time that keys and tokens go by (tests move it instead of waiting).
    pub clock: crate::clock::Clock,
}

impl Config {
    /// Production defaults (OWASP argon2 cost, 15-minute access tokens).
    pub fn new(
        data_dir: PathBuf,
        issuer: impl Into<String>,
        allowed_origins: Vec<String>,
    ) -> Config {
        Config {
            data_dir,
            issuer: issuer.into().trim_end_matches('/').to_string(),
            allowed_origins,
            registration: true,
            database_url: None,
            access_ttl: 900,
            refresh_ttl: 30 * 24 * 3600,
            share_ttl: tokens::MAX_SHARE_TTL,
            reuse_grace: 10,
            clock_skew: 60,
            argon2: Cost::default(),
            limits: Limits::default(),
            trust_forwarded_for: false,
            key_reload_interval: Duration::from_secs(2),
            clock: crate::clock::Clock::system(),
        }
    }

    fn from_args(a: &Args) -> Config {
        let mut c = Config::new(
            a.data_dir.clone(),
            a.issuer.clone(),
            a.allowed_origins
                .iter()
                .map(|o| o.trim().trim_end_matches('/').to_string())
                .filter(|o| !o.is_empty())
                .collect(),
        );
        c.registration = a.registration == Switch::On;
        c.database_url = a.database_url.clone();
        c.access_ttl = a.access_ttl;
        c.refresh_ttl = a.refresh_ttl;
        c.share_ttl = a.share_ttl.min(tokens::MAX_SHARE_TTL);
        c.limits = Limits {
            per_ip_per_minute: a.rate_ip_per_minute,
            per_account_per_minute: a.rate_account_per_minute,
        };
        c.trust_forwarded_for = a.trust_forwarded_for;
        c.argon2 = Cost {
            memory_kib: a.argon2_memory_kib,
            iterations: a.argon2_iterations,
            parallelism: 1,
        };
        c
    }
}

/// Shared state of the running service.
pub(crate) struct Inner {
    pub config: Config,
    pub own_origin: String,
    pub storage: Storage,
    pub keys: KeyRing,
    pub passwords: Passwords,
    pub tokens: TokenIssuer,
    pub refresh: RefreshPolicy,
    pub limits: RateLimits,
    pub discovery: bytes::Bytes,
}

pub(crate) type AppState = Arc<Inner>;

/// Builds the auth service: opens storage, loads (or creates) the signing key, and starts the
/// background key reload. The returned router is ready to serve.
pub async fn router(config: Config) -> anyhow::Result<Router> {
    let state = build_state(config).await?;
    spawn_maintenance(&state);
    Ok(routes::router(state))
}

async fn build_state(config: Config) -> anyhow::Result<AppState> {
    if config.access_ttl == 0 {
        anyhow::bail!("--access-ttl must be at least 1 second");
    }
    let storage = Storage::open(&config.data_dir, config.database_url.as_deref()).await?;
    let longest = config
        .access_ttl
        .max(config.share_ttl.min(tokens::MAX_SHARE_TTL));
    let keys = KeyRing::open(
        &config.data_dir,
        longest + config.clock_skew,
        config.clock.clone(),
    )
    .context("cannot load the signing keys")?;
    let passwords = Passwords::new(config.argon2)?;
    let tokens = TokenIssuer {
        issuer: config.issuer.clone(),
        access_ttl: config.access_ttl,
        share_ttl: config.share_ttl.min(tokens::MAX_SHARE_TTL),
        clock: config.clock.clone(),
    };
    let refresh = RefreshPolicy {
        ttl: config.refresh_ttl,
        reuse_grace: config.reuse_grace,
        clock: config.clock.clone(),
    };
    let limits = RateLimits::new(config.limits);
    let discovery = wellknown::discovery_document(&config);
    let own_origin = csrf::origin_of(&config.issuer);
    Ok(Arc::new(Inner {
        config,
        own_origin,
        storage,
        keys,
        passwords,
        tokens,
        refresh,
        limits,
        discovery,
    }))
}

/// Key reload and limiter sweeps; ends when the service's state is dropped.
fn spawn_maintenance(state: &AppState) {
    let weak = Arc::downgrade(state);
    let every = state.config.key_reload_interval;
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(every);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut last_sweep = tokio::time::Instant::now();
        loop {
            tick.tick().await;
            let Some(state) = weak.upgrade() else { break };
            match state.keys.reload_if_changed() {
                Ok(true) => tracing::info!(kid = %state.keys.active_kid(), "signing keys reloaded"),
                Ok(false) => {}
                Err(e) => {
                    tracing::error!(error = %format!("{e:#}"), "cannot reload the signing keys; keeping the current ones")
                }
            }
            if last_sweep.elapsed() >= Duration::from_secs(60) {
                state.limits.sweep();
                last_sweep = tokio::time::Instant::now();
            }
        }
    });
}

pub async fn run(args: Args) -> anyhow::Result<()> {
    if let Some(AuthCommand::RotateKey {
        data_dir,
        activate_in,
    }) = &args.command
    {
        let r = keys::rotate(data_dir, *activate_in)?;
        let when = time::OffsetDateTime::from_unix_timestamp(r.activates)
            .ok()
            .and_then(|t| {
                t.format(&time::format_description::well_known::Rfc3339)
                    .ok()
            })
            .unwrap_or_default();
        println!("new signing key {}: in the JWKS now (the running service reloads within seconds), signing from {when} (in {activate_in} s)", r.kid);
        println!("the current key signs until then and stays in the JWKS until its last tokens have expired");
        return Ok(());
    }
    let config = Config::from_args(&args);
    let listener = crate::serve::bind(args.listen).await?;
    let app = router(config.clone()).await?;
    tracing::info!(listen = %args.listen, issuer = %config.issuer, registration = config.registration, "auth service ready");
    crate::serve::serve(listener, app).await
}

pub async fn run_users(cmd: UsersCommand) -> anyhow::Result<()> {
    match cmd {
        UsersCommand::Add {
            name,
            roles,
            data_dir,
            database_url,
        } => {
            let roles = parse_roles(&roles)?;
            let (password, generated) = match read_password_from_stdin()? {
                Some(p) => (p, false),
                None => (passwords::generate(), true),
            };
            let user = create_user(
                &data_dir,
                database_url.as_deref(),
                &name,
                &password,
                roles,
                Cost::default(),
            )
            .await?;
            println!(
                "added user {} ({}) with roles {}",
                user.username,
                user.id,
                user.roles.join(",")
            );
            if generated {
                println!("password for {}: {password}", user.username);
                println!("(shown only this once; store it now)");
            }
            Ok(())
        }
    }
}

/// Adds a user to the store in `data_dir` (or PostgreSQL), hashing at `cost`:
/// what `sa-server users add` does, for scripts and tests. A running file-backed service picks
/// the new user up on its next request.
pub async fn create_user(
    data_dir: &std::path::Path,
    database_url: Option<&str>,
    name: &str,
    password: &str,
    roles: Vec<Role>,
    cost: Cost,
) -> anyhow::Result<sa_shared::auth::UserView> {
    let storage = Storage::open(data_dir, database_url).await?;
    let user = add_user(&storage, &Passwords::new(cost)?, name, password, roles)
        .await
        .map_err(|e| anyhow::anyhow!("cannot add the user: {e}"))?;
    Ok(user.view())
}

fn parse_roles(names: &[String]) -> anyhow::Result<Vec<Role>> {
    let mut roles = names
        .iter()
        .map(|n| {
            Role::parse(n.trim())
                .ok_or_else(|| anyhow::anyhow!("unknown role {n:?}; use reader, writer or admin"))
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    roles.sort();
    roles.dedup();
    Ok(roles)
}

/// The password piped on stdin (first line), or `None` when stdin is a terminal or empty.
fn read_password_from_stdin() -> anyhow::Result<Option<String>> {
    use std::io::{BufRead, IsTerminal};
    let stdin = std::io::stdin();
    if stdin.is_terminal() {
        return Ok(None);
    }
    let mut line = String::new();
    stdin
        .lock()
        .read_line(&mut line)
        .context("cannot read the password from stdin")?;
    let line = line.trim_end_matches(['\r', '\n']).to_string();
    Ok((!line.is_empty()).then_some(line))
}

/// Validates and stores a new user (shared by registration, `users add` and the dev bootstrap).
pub(crate) async fn add_user(
    storage: &Storage,
    passwords: &Passwords,
    name: &str,
    password: &str,
    roles: Vec<Role>,
) -> error::AuthResult<User> {
    let username = routes::account::validate_username(name)?;
    routes::account::validate_password(&username, password)?;
    let hash = passwords.hash(password.to_string()).await?;
    let user = User {
        id: uuid::Uuid::new_v4(),
        username,
        password_hash: hash,
        roles,
        created: time::OffsetDateTime::now_utc().unix_timestamp(),
    };
    storage.create_user(user.clone()).await?;
    Ok(user)
}

/// [`router`], and on an empty user store first the user `admin` with a generated password,
/// which comes back (once: at the next start the store is no longer empty). For a local
/// deployment, where a developer must be able to sign in at once.
pub async fn router_with_first_admin(config: Config) -> anyhow::Result<(Router, Option<String>)> {
    let state = build_state(config).await?;
    let mut created = None;
    if state
        .storage
        .count_users()
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?
        == 0
    {
        let password = passwords::generate();
        add_user(
            &state.storage,
            &state.passwords,
            "admin",
            &password,
            vec![Role::Admin],
        )
        .await
        .map_err(|e| anyhow::anyhow!("cannot create the first admin: {e}"))?;
        created = Some(password);
    }
    spawn_maintenance(&state);
    Ok((routes::router(state), created))
}
