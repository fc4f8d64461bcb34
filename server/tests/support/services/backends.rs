//! One store per test on a backend's real server. The Redis and PostgreSQL servers are shared
//! by the tests of a binary that run at the same time (and stop when the last of them ends);
//! each store gets its own Redis key prefix or its own database, so tests never see each
//! other's models.
use std::sync::{Arc, Mutex, Weak};

use sa_server::store::{Args, BackendKind};

use super::{store::TestStore, Postgres, Redis};

static REDIS: Mutex<Weak<Redis>> = Mutex::new(Weak::new());
static POSTGRES: Mutex<Weak<Postgres>> = Mutex::new(Weak::new());

fn shared<T>(slot: &Mutex<Weak<T>>, make: impl FnOnce() -> T) -> Arc<T> {
    let mut slot = slot.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(t) = slot.upgrade() {
        return t;
    }
    let t = Arc::new(make());
    *slot = Arc::downgrade(&t);
    t
}

/// A backend under test: its server (if any) and a first store on it.
pub struct Env {
    pub backend: &'static str,
    pub kind: BackendKind,
    pub redis: Option<Arc<Redis>>,
    pub postgres: Option<Arc<Postgres>>,
    pub store: TestStore,
}

impl std::ops::Deref for Env {
    type Target = TestStore;
    fn deref(&self) -> &TestStore {
        &self.store
    }
}

fn unique() -> String {
    format!("t{}", uuid::Uuid::new_v4().simple())
}

impl Env {
    pub async fn new(kind: BackendKind) -> Env {
        Self::with(kind, |_| {}).await
    }

    /// An environment whose first store has `configure` applied.
    pub async fn with(kind: BackendKind, configure: impl FnOnce(&mut Args)) -> Env {
        let redis = (kind == BackendKind::Redis).then(|| shared(&REDIS, Redis::start));
        let postgres = (kind == BackendKind::Postgres).then(|| shared(&POSTGRES, Postgres::start));
        let store = start(kind, redis.as_deref(), postgres.as_deref(), configure).await;
        Env {
            backend: kind.as_str(),
            kind,
            redis,
            postgres,
            store,
        }
    }

    /// Another, empty store on the same server, with `configure` applied.
    pub async fn another(&self, configure: impl FnOnce(&mut Args)) -> TestStore {
        start(
            self.kind,
            self.redis.as_deref(),
            self.postgres.as_deref(),
            configure,
        )
        .await
    }
}

async fn start(
    kind: BackendKind,
    redis: Option<&Redis>,
    postgres: Option<&Postgres>,
    configure: impl FnOnce(&mut Args),
) -> TestStore {
    let (redis_url, database_url) = (
        redis.map(|r| r.url()),
        postgres.map(|p| p.create_database(&unique())),
    );
    TestStore::start(kind, move |a| {
        a.redis_url = redis_url;
        a.database_url = database_url;
        if kind == BackendKind::Redis {
            a.name = Some(unique());
        }
        configure(a);
    })
    .await
}
