//! TEMPORARY stand-in for the client engineer's session layer (branch `client`), following the
//! interface in INTERFACES.md so the explorer compiles until that branch is merged. Replaced by
//! their file on merge.
use leptos::prelude::*;

use crate::{
    auth::{Credentials, UserView},
    config::RuntimeConfig,
};

use super::http::ApiError;

#[derive(Clone, Debug, PartialEq)]
pub enum SessionState {
    Restoring,
    SignedOut,
    SignedIn { user: UserView },
}

#[derive(Clone, Copy)]
pub struct Session {
    config: StoredValue<RuntimeConfig>,
    state: RwSignal<SessionState>,
    token: RwSignal<Option<String>>,
}

impl Session {
    pub fn new(config: RuntimeConfig) -> Self {
        Session { config: StoredValue::new(config), state: RwSignal::new(SessionState::Restoring), token: RwSignal::new(None) }
    }
    pub fn config(&self) -> RuntimeConfig {
        self.config.get_value()
    }
    pub fn state(&self) -> SessionState {
        self.state.get()
    }
    pub fn can_write(&self) -> bool {
        matches!(self.state.get(), SessionState::SignedIn { user } if crate::auth::can_write(&user.roles))
    }
    pub fn is_admin(&self) -> bool {
        false
    }
    pub fn access_token(&self) -> Option<String> {
        self.token.get_untracked()
    }
    pub async fn restore(&self) {
        self.state.set(SessionState::SignedOut);
    }
    pub async fn login(&self, _c: &Credentials) -> Result<(), ApiError> {
        Err(ApiError { status: 0, code: "not_built".into(), message: "stand-in".into() })
    }
    pub async fn logout(&self) {
        self.state.set(SessionState::SignedOut);
    }
    pub fn login_url(&self, return_to: &str) -> String {
        format!("{}/login?return={}", self.config.get_value().client_url, js_sys::encode_uri_component(return_to))
    }
}
