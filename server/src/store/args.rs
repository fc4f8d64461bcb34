//! Flags of `sa-server store` (each one also reads its environment variable).
use std::{
    net::SocketAddr,
    path::{Path, PathBuf},
};

/// The cache budget where the process has no memory limit.
pub const DEFAULT_CACHE_BYTES: u64 = 256 * 1024 * 1024;
const CGROUP_MEMORY_MAX: &str = "/sys/fs/cgroup/memory.max";

/// The cgroup v2 memory limit in `file` (`memory.max`): `None` when it is `max` (no limit) or
/// unreadable (cgroup v1, or not in a container).
pub fn cgroup_memory_limit(file: &Path) -> Option<u64> {
    std::fs::read_to_string(file).ok()?.trim().parse().ok()
}

/// `--backend`: the one backend enum, shared with the route table.
pub use sa_shared::routes::Backend as BackendKind;

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
    /// Bytes of documents the file backend keeps in memory (the rest are read from disk).
    /// Default: a quarter of the cgroup memory limit, or 256 MiB where there is none.
    #[arg(long, env = "SA_CACHE_BYTES")]
    pub cache_bytes: Option<u64>,
    #[command(flatten)]
    pub history: HistoryArgs,
}

/// How much history the store keeps, and how many feed subscribers it serves.
#[derive(clap::Args, Debug, Clone)]
pub struct HistoryArgs {
    /// Versions kept per model (0: none). Default: 100 on file and PostgreSQL, 20 on Redis,
    /// which holds every version in memory (see docs/store-history.md).
    #[arg(long, env = "SA_KEEP_VERSIONS")]
    pub keep_versions: Option<usize>,
    /// How long a deleted model stays restorable: a number with `d`, `h`, `m` or `s`.
    #[arg(long, env = "SA_KEEP_DELETED", default_value = "30d", value_parser = parse_duration)]
    pub keep_deleted: std::time::Duration,
    /// Change-feed events kept; a subscriber resuming from further back gets `event: reset`.
    #[arg(long, env = "SA_KEEP_CHANGES", default_value_t = 100_000, value_parser = clap::value_parser!(u64).range(1..))]
    pub keep_changes: u64,
    /// Open `/api/changes` streams per instance; past it, 503 with Retry-After.
    #[arg(long, env = "SA_MAX_SUBSCRIBERS", default_value_t = 1000)]
    pub max_subscribers: usize,
}

impl Default for HistoryArgs {
    fn default() -> Self {
        HistoryArgs {
            keep_versions: None,
            keep_deleted: std::time::Duration::from_secs(30 * 24 * 3600),
            keep_changes: 100_000,
            max_subscribers: 1000,
        }
    }
}

impl HistoryArgs {
    pub fn retention(&self, backend: BackendKind) -> crate::store::backend::Retention {
        crate::store::backend::Retention {
            versions: self.keep_versions.unwrap_or(match backend {
                BackendKind::Redis => 20,
                BackendKind::File | BackendKind::Postgres => 100,
            }),
            deleted: self.keep_deleted,
            changes: self.keep_changes as usize,
        }
    }
}

/// `30d`, `12h`, `15m`, `90s` (or plain seconds).
pub fn parse_duration(s: &str) -> Result<std::time::Duration, String> {
    let s = s.trim();
    let (digits, unit) = match s.char_indices().find(|(_, c)| !c.is_ascii_digit()) {
        Some((i, _)) => s.split_at(i),
        None => (s, "s"),
    };
    let n: u64 = digits
        .parse()
        .map_err(|_| format!("{s:?} is not a duration like 30d, 12h, 15m or 90s"))?;
    let secs = match unit {
        "d" => 86_400,
        "h" => 3_600,
        "m" => 60,
        "s" => 1,
        _ => return Err(format!("{s:?}: the unit must be d, h, m or s")),
    };
    Ok(std::time::Duration::from_secs(n.saturating_mul(secs)))
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
            cache_bytes: None,
            history: HistoryArgs::default(),
            subset: "v1".into(),
        }
    }

    /// The file backend's cache budget and where it came from (for the start-up log).
    pub fn cache_budget(&self) -> (u64, &'static str) {
        match self.cache_bytes {
            Some(b) => (b, "--cache-bytes"),
            None => match cgroup_memory_limit(Path::new(CGROUP_MEMORY_MAX)) {
                Some(limit) => (limit / 4, "a quarter of the cgroup memory limit"),
                None => (DEFAULT_CACHE_BYTES, "the default (no cgroup memory limit)"),
            },
        }
    }

    pub fn store_name(&self) -> String {
        self.name
            .clone()
            .unwrap_or_else(|| self.backend.as_str().to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cgroup_limit_reads_bytes_and_max() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("memory.max");
        std::fs::write(&f, "536870912\n").unwrap();
        assert_eq!(cgroup_memory_limit(&f), Some(512 * 1024 * 1024));
        std::fs::write(&f, "max\n").unwrap();
        assert_eq!(cgroup_memory_limit(&f), None);
        assert_eq!(cgroup_memory_limit(&dir.path().join("absent")), None);
    }

    #[test]
    fn an_explicit_budget_wins() {
        let mut a = Args::new(BackendKind::File, "x");
        a.cache_bytes = Some(8 << 20);
        assert_eq!(a.cache_budget().0, 8 << 20);
    }
}
