//! Flags of `sa-server store` (each one also reads its environment variable).
use std::{net::SocketAddr, path::PathBuf};

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum BackendKind {
    File,
    Redis,
    Postgres,
}

impl BackendKind {
    pub fn wire(self) -> sa_shared::routes::Backend {
        match self {
            BackendKind::File => sa_shared::routes::Backend::File,
            BackendKind::Redis => sa_shared::routes::Backend::Redis,
            BackendKind::Postgres => sa_shared::routes::Backend::Postgres,
        }
    }
}

/// What the file backend trades for speed. See `backend::file` for the details.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum FsyncMode {
    /// fsync the file and the directory before answering: an acknowledged write survives power loss.
    Always,
    /// Answer after the atomic rename; a background task fsyncs every 200 ms. A process crash loses
    /// nothing; power loss can lose the writes of the last interval.
    Batch,
    /// Never fsync. A process crash loses nothing; power loss can lose any write the OS still caches.
    Never,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum AuthMode {
    On,
    /// Every request is treated as a writer. Local experiments only.
    Off,
}

#[derive(clap::Args, Debug, Clone)]
pub struct Args {
    /// Storage system for this instance.
    #[arg(long, env = "SA_BACKEND", value_enum, default_value = "file")]
    pub backend: BackendKind,
    #[arg(long, env = "SA_LISTEN", default_value = "0.0.0.0:8080")]
    pub listen: SocketAddr,
    /// Directory of the file backend (one JSON file per model).
    #[arg(long, env = "SA_DATA_DIR", default_value = "data/models")]
    pub data_dir: PathBuf,
    #[arg(long, env = "SA_REDIS_URL")]
    pub redis_url: Option<String>,
    #[arg(long, env = "SA_DATABASE_URL")]
    pub database_url: Option<String>,
    /// Name reported by `/api/info` (defaults to the backend's name). Also namespaces Redis keys.
    #[arg(long, env = "SA_STORE_NAME")]
    pub name: Option<String>,
    /// One trusted issuer (the `iss` of its tokens); use with --jwks-url.
    #[arg(long, env = "SA_ISSUER")]
    pub issuer: Option<String>,
    /// JWKS of --issuer.
    #[arg(long, env = "SA_JWKS_URL")]
    pub jwks_url: Option<String>,
    /// Audience required of --issuer's tokens.
    #[arg(long, env = "SA_AUDIENCE")]
    pub audience: Option<String>,
    /// JSON array of issuers, like Istio's jwtRules:
    /// `[{"issuer","jwks_uri"|"jwks_file","audiences":[],"default_roles":[]}]`.
    #[arg(long, env = "SA_ISSUERS_FILE")]
    pub issuers_file: Option<PathBuf>,
    /// Browser origins allowed by CORS, comma separated.
    #[arg(long, env = "SA_ALLOWED_ORIGINS", value_delimiter = ',')]
    pub allowed_origins: Vec<String>,
    /// Largest accepted request body in bytes.
    #[arg(long, env = "SA_BODY_LIMIT", default_value_t = 1024 * 1024)]
    pub body_limit: usize,
    /// File backend durability.
    #[arg(long, env = "SA_FSYNC", value_enum, default_value = "always")]
    pub fsync: FsyncMode,
    #[arg(long, env = "SA_AUTH", value_enum, default_value = "on")]
    pub auth: AuthMode,
    /// This instance's subset for `/api/info` (the manifests pass the pod's `version` label).
    #[arg(long, env = "SA_SUBSET", default_value = "v1", value_parser = ["v1", "v2"])]
    pub subset: String,
    /// Longest wait for Redis or PostgreSQL before a request answers 503.
    #[arg(long, env = "SA_BACKEND_TIMEOUT_MS", default_value_t = 2000)]
    pub backend_timeout_ms: u64,
}

impl Args {
    /// Defaults for an instance built in code (dev, tests): file backend in `data_dir`.
    pub fn new(backend: BackendKind, data_dir: impl Into<PathBuf>) -> Args {
        Args {
            backend,
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            data_dir: data_dir.into(),
            redis_url: None,
            database_url: None,
            name: None,
            issuer: None,
            jwks_url: None,
            audience: None,
            issuers_file: None,
            allowed_origins: Vec::new(),
            body_limit: 1024 * 1024,
            fsync: FsyncMode::Always,
            auth: AuthMode::On,
            backend_timeout_ms: 2000,
            subset: "v1".into(),
        }
    }

    pub fn store_name(&self) -> String {
        self.name
            .clone()
            .unwrap_or_else(|| self.backend.wire().as_str().to_string())
    }
}
