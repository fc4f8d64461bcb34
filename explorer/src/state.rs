//! What the explorer's parts share: the session, where the user is (store and model), each
//! store's health, and a revision counter per store so lists reload after a write.
use leptos::prelude::*;
use sa_shared::{
    config::{RuntimeConfig, StoreEntry},
    model::StoreInfo,
    web::{http::ApiError, session::Session},
};

/// A loaded model: the document (shared by the tree's nodes) and its ETag, as the store API
/// fetched it.
pub use sa_shared::web::store_api::Fetched as Loaded;

/// Where the explorer is: the active store and the open model. The standalone app backs this
/// with the URL (so deep links and reload work); inside the client's pop-over it is local state.
#[derive(Clone, Copy)]
pub struct Nav {
    pub store: Signal<Option<String>>,
    pub model: Signal<Option<String>>,
    go: Callback<(Option<String>, Option<String>)>,
}

impl Nav {
    pub fn new(
        store: Signal<Option<String>>,
        model: Signal<Option<String>>,
        go: Callback<(Option<String>, Option<String>)>,
    ) -> Self {
        Nav { store, model, go }
    }

    /// Navigation kept in signals, for an explorer that does not own the page's URL.
    pub fn local() -> Self {
        let store = RwSignal::new(None::<String>);
        let model = RwSignal::new(None::<String>);
        Nav {
            store: store.into(),
            model: model.into(),
            go: Callback::new(move |(s, m): (Option<String>, Option<String>)| {
                store.set(s);
                model.set(m);
            }),
        }
    }

    pub fn go(&self, store: &str, model: Option<String>) {
        self.go.run((Some(store.to_string()), model));
    }
}

#[derive(Clone, Debug, PartialEq)]
pub enum Health {
    Checking,
    Up,
    /// Unreachable or its backend is down; the message says what the store answered.
    Down(String),
}

#[derive(Clone, Debug, PartialEq)]
pub struct StoreStatus {
    pub health: Health,
    pub info: Option<StoreInfo>,
}

/// One store (tab) and its reactive state.
#[derive(Clone)]
pub struct StoreSlot {
    pub entry: StoreEntry,
    pub status: RwSignal<StoreStatus>,
    /// Bumped after every write to this store so its list reloads.
    pub revision: RwSignal<u32>,
}

/// Context for every part of one explorer.
#[derive(Clone, Copy)]
pub struct Ctx {
    pub session: Session,
    pub nav: Nav,
    pub stores: StoredValue<Vec<StoreSlot>>,
    pub on_pick: Option<Callback<(String, String)>>,
    /// The search box of the visible list (`/` focuses it).
    pub search: NodeRef<leptos::html::Input>,
    /// Set while the "new model" editor is open.
    pub creating: RwSignal<bool>,
}

impl Ctx {
    pub fn new(
        session: Session,
        config: &RuntimeConfig,
        nav: Nav,
        on_pick: Option<Callback<(String, String)>>,
    ) -> Self {
        let slots = config
            .stores
            .iter()
            .map(|e| StoreSlot {
                entry: e.clone(),
                status: RwSignal::new(StoreStatus {
                    health: Health::Checking,
                    info: None,
                }),
                revision: RwSignal::new(0),
            })
            .collect();
        Ctx {
            session,
            nav,
            stores: StoredValue::new(slots),
            on_pick,
            search: NodeRef::new(),
            creating: RwSignal::new(false),
        }
    }

    pub fn slot(&self, id: &str) -> Option<StoreSlot> {
        self.stores
            .try_with_value(|v| v.iter().find(|s| s.entry.id == id).cloned())
            .flatten()
    }

    pub fn entries(&self) -> Vec<StoreEntry> {
        self.stores
            .with_value(|v| v.iter().map(|s| s.entry.clone()).collect())
    }

    /// The active store: the one in the URL, else the first configured.
    pub fn active_id(&self) -> Option<String> {
        self.nav.store.get().or_else(|| {
            self.stores
                .with_value(|v| v.first().map(|s| s.entry.id.clone()))
        })
    }

    /// Records what a call to `store` taught us about its health.
    pub fn observe(&self, store: &str, result: Result<(), &ApiError>) {
        let Some(slot) = self.slot(store) else { return };
        let health = match result {
            Ok(()) => Health::Up,
            Err(e) if is_outage(e) => Health::Down(e.message.clone()),
            // Any other answer (401, 404, …) came from a running store.
            Err(_) => Health::Up,
        };
        slot.status.try_update(|s| {
            if s.health != health {
                s.health = health
            }
        });
    }

    pub fn bump(&self, store: &str) {
        if let Some(slot) = self.slot(store) {
            slot.revision.try_update(|r| *r += 1);
        }
    }
}

/// Whether an error means the store (or its backend) can't be reached, as opposed to the store
/// refusing this one request.
pub fn is_outage(e: &ApiError) -> bool {
    e.is_network() || matches!(e.status, 502..=504)
}
