//! Command line of `sa-server auth` and `sa-server users`.
use std::{net::SocketAddr, path::PathBuf};

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Switch {
    On,
    Off,
}

#[derive(clap::Args, Debug, Clone)]
pub struct Args {
    #[command(subcommand)]
    pub command: Option<AuthCommand>,
    #[arg(long, env = "SA_LISTEN", default_value = "0.0.0.0:8080")]
    pub listen: SocketAddr,
    /// Keys, users and sessions live here (owner-only permissions).
    #[arg(long, env = "SA_DATA_DIR", default_value = "data/auth")]
    pub data_dir: PathBuf,
    /// Public base URL of this service: the `iss` of its tokens, e.g. https://auth.example.com.
    #[arg(
        long,
        env = "SA_ISSUER",
        default_value = "http://auth.sa.localhost:8080"
    )]
    pub issuer: String,
    /// Origins of the browser apps (CORS with credentials, and the CSRF check), comma separated.
    #[arg(
        long,
        env = "SA_ALLOWED_ORIGINS",
        value_delimiter = ',',
        default_value = "http://client.sa.localhost:8080,http://explorer.sa.localhost:8080"
    )]
    pub allowed_origins: Vec<String>,
    /// Whether anyone may create an account with POST /api/register.
    #[arg(long, env = "SA_REGISTRATION", default_value = "on")]
    pub registration: Switch,
    /// Keep users and sessions in PostgreSQL instead of the data dir.
    #[arg(long, env = "SA_DATABASE_URL")]
    pub database_url: Option<String>,
    /// Lifetime of access tokens in seconds.
    #[arg(long, env = "SA_ACCESS_TTL", default_value_t = 900)]
    pub access_ttl: u64,
    /// Lifetime of a sign-in (refresh token family) in seconds.
    #[arg(long, env = "SA_REFRESH_TTL", default_value_t = 30 * 24 * 3600)]
    pub refresh_ttl: u64,
    /// Lifetime of share tokens in seconds (at most 600).
    #[arg(long, env = "SA_SHARE_TTL", default_value_t = 600)]
    pub share_ttl: u64,
    /// Login/registration attempts per minute from one IP.
    #[arg(long, env = "SA_RATE_IP_PER_MINUTE", default_value_t = 30)]
    pub rate_ip_per_minute: u32,
    /// Login/registration attempts per minute on one account name.
    #[arg(long, env = "SA_RATE_ACCOUNT_PER_MINUTE", default_value_t = 10)]
    pub rate_account_per_minute: u32,
    /// Take the client IP from the last `X-Forwarded-For` entry (only behind a trusted proxy).
    #[arg(long, env = "SA_TRUST_FORWARDED_FOR")]
    pub trust_forwarded_for: bool,
    /// argon2id memory cost in KiB (OWASP: 19456).
    #[arg(long, env = "SA_ARGON2_MEMORY_KIB", default_value_t = 19456)]
    pub argon2_memory_kib: u32,
    /// argon2id iterations (OWASP: 2).
    #[arg(long, env = "SA_ARGON2_ITERATIONS", default_value_t = 2)]
    pub argon2_iterations: u32,
}

#[derive(clap::Subcommand, Debug, Clone)]
pub enum AuthCommand {
    /// Start a new signing key: published in the JWKS now, signing after --activate-in seconds.
    /// The old public key stays in the JWKS until the tokens it signed have expired.
    RotateKey {
        #[arg(long, env = "SA_DATA_DIR", default_value = "data/auth")]
        data_dir: PathBuf,
        /// Seconds until the new key signs. The default (30 min) outlasts istiod's JWKS refresh
        /// interval (20 min); use 0 after a key compromise, accepting that verifiers with a stale
        /// JWKS refuse new tokens until they refetch it.
        #[arg(long, default_value_t = crate::auth::keys::DEFAULT_ACTIVATE_IN)]
        activate_in: u64,
    },
}

#[derive(clap::Subcommand, Debug, Clone)]
pub enum UsersCommand {
    /// Add a user. The password is read from stdin, or generated and printed once.
    Add {
        name: String,
        /// Roles (reader, writer, admin); repeat or separate with commas.
        #[arg(long = "role", value_delimiter = ',', default_value = "reader")]
        roles: Vec<String>,
        #[arg(long, env = "SA_DATA_DIR", default_value = "data/auth")]
        data_dir: PathBuf,
        #[arg(long, env = "SA_DATABASE_URL")]
        database_url: Option<String>,
    },
}
