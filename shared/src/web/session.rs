//! The signed-in user's session, shared by the client and the explorer.
//!
//! The access token lives only in memory (never in Web Storage, where any injected script
//! could read it). The refresh token is the `__Host-sa_refresh` cookie on the auth host: both
//! apps reach it with `credentials: include`, which is what makes one login serve both
//! (SSO across sibling subdomains) and lets a reload restore the session.
use std::{future::Future, pin::Pin, time::Duration};

use futures::future::{FutureExt, Shared};
use leptos::prelude::*;

use gloo_net::http::{Method, Request, RequestBuilder, Response};
use web_sys::RequestCredentials;

use super::http::{self, ApiError};
use crate::{
    auth::{self, Credentials, Role, TokenResponse},
    config::RuntimeConfig,
};

/// Who is signed in, as the access token says.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SessionUser {
    /// The token's `sub`.
    pub id: String,
    pub name: String,
    pub roles: Vec<String>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SessionState {
    /// Asking the auth host whether the refresh cookie is still good (page start).
    Restoring,
    SignedOut,
    SignedIn {
        user: SessionUser,
    },
}

/// The in-memory access token and when this browser should consider it expired.
#[derive(Clone)]
struct Token {
    value: String,
    /// Browser clock (`Date.now`, ms) at which to treat the token as expired. Computed from
    /// `expires_in` rather than the `exp` claim, so a skewed client clock doesn't matter.
    expires_at_ms: f64,
}

type RefreshFuture = Shared<Pin<Box<dyn Future<Output = Result<(), ApiError>>>>>;

/// A handle to the session. `Copy`: it only holds arena ids, so pass it freely as a prop.
#[derive(Clone, Copy)]
pub struct Session {
    config: StoredValue<RuntimeConfig>,
    state: RwSignal<SessionState>,
    last_error: RwSignal<Option<ApiError>>,
    // `LocalStorage` here is Leptos' single-threaded arena, not the browser's Web Storage.
    token: StoredValue<Option<Token>, LocalStorage>,
    /// The refresh in flight, shared by every caller: the refresh token rotates on use and a
    /// second parallel use of the old one would revoke the whole family (logging the user out).
    refreshing: StoredValue<Option<RefreshFuture>, LocalStorage>,
    timer: StoredValue<Option<TimeoutHandle>, LocalStorage>,
}

/// Refresh this long before the token expires.
const REFRESH_MARGIN_MS: f64 = 60_000.0;

impl Session {
    pub fn new(config: RuntimeConfig) -> Self {
        Session {
            config: StoredValue::new(config),
            state: RwSignal::new(SessionState::Restoring),
            last_error: RwSignal::new(None),
            token: StoredValue::new_local(None),
            refreshing: StoredValue::new_local(None),
            timer: StoredValue::new_local(None),
        }
    }

    pub fn config(&self) -> RuntimeConfig {
        self.config.get_value()
    }

    /// Reactive.
    pub fn state(&self) -> SessionState {
        self.state.get()
    }

    /// Reactive: the signed-in user, if any.
    pub fn user(&self) -> Option<SessionUser> {
        self.state.with(|s| match s {
            SessionState::SignedIn { user } => Some(user.clone()),
            _ => None,
        })
    }

    /// Reactive.
    pub fn is_signed_in(&self) -> bool {
        self.state
            .with(|s| matches!(s, SessionState::SignedIn { .. }))
    }

    /// Reactive: `writer` or `admin`.
    pub fn can_write(&self) -> bool {
        self.state
            .with(|s| matches!(s, SessionState::SignedIn { user } if auth::can_write(&user.roles)))
    }

    /// Reactive.
    pub fn is_admin(&self) -> bool {
        self.state.with(|s| {
            matches!(s, SessionState::SignedIn { user } if Role::strongest(&user.roles) == Some(Role::Admin))
        })
    }

    /// Reactive: why the last restore or refresh failed, when the cause was not simply "signed
    /// out" (e.g. the auth host is unreachable), so the UI can say so.
    pub fn last_error(&self) -> Option<ApiError> {
        self.last_error.get()
    }

    /// The current access token (not reactive). Prefer [`Session::send`], which also refreshes.
    pub fn token(&self) -> Option<String> {
        self.token
            .with_value(|t| t.as_ref().map(|t| t.value.clone()))
    }

    /// The client's login page, which sends the user back to `return_to` afterwards.
    pub fn login_url(&self, return_to: &str) -> String {
        let client = self.config.with_value(|c| c.client_url.clone());
        format!(
            "{client}/login?return={}",
            String::from(js_sys::encode_uri_component(return_to))
        )
    }

    /// At page start: trades the refresh cookie (if any) for an access token.
    pub async fn restore(&self) {
        let _ = self.refresh().await;
    }

    pub async fn login(&self, credentials: &Credentials) -> Result<(), ApiError> {
        let url = format!(
            "{}/api/login",
            self.config.with_value(|c| c.auth_url.clone())
        );
        let resp = http::send(with_cookie(Request::post(&url)).json(credentials)).await?;
        let token: TokenResponse = http::json(resp).await?;
        self.accept(token)
    }

    /// Ends the session here and on the auth host (the refresh cookie is revoked, so the
    /// other app loses its session at its next refresh or reload).
    pub async fn logout(&self) {
        let url = format!(
            "{}/api/logout",
            self.config.with_value(|c| c.auth_url.clone())
        );
        let request = bearer(with_cookie(Request::post(&url)), self.token().as_deref()).build();
        // Even when the auth host is unreachable, the user asked to be signed out here.
        let _ = http::send(request).await;
        self.clear();
        self.last_error.set(None);
        self.state.set(SessionState::SignedOut);
    }

    /// A token that is good for a while yet: refreshes first when it is about to expire.
    pub async fn fresh_token(&self) -> Option<String> {
        let stale = self.token.with_value(|t| match t {
            Some(t) => t.expires_at_ms - now_ms() < REFRESH_MARGIN_MS / 2.0,
            None => false,
        });
        if stale {
            let _ = self.refresh().await;
        }
        self.token()
    }

    /// Sends a request to a store or the auth host with the bearer token. On a 401 it refreshes
    /// the token once and sends the request again, which is why it takes the request as a
    /// recipe: `finish` completes the builder (headers, body) each time.
    ///
    /// `finish` is a `&dyn Fn`, not a generic: with a generic every call site got its own copy
    /// of this whole future (token, send, refresh, send again) in the wasm (BENCHMARKS.md,
    /// issue 14, "One `send`").
    pub async fn send(
        &self,
        method: Method,
        url: &str,
        finish: &dyn Fn(RequestBuilder) -> Result<Request, gloo_net::Error>,
    ) -> Result<Response, ApiError> {
        let token = self.fresh_token().await;
        let build = |token: Option<&str>| {
            finish(bearer(
                RequestBuilder::new(url).method(method.clone()),
                token,
            ))
        };
        match http::send(build(token.as_deref())).await {
            Err(e) if e.status == 401 => match self.refresh().await {
                Ok(()) => http::send(build(self.token().as_deref())).await,
                Err(_) => Err(e),
            },
            other => other,
        }
    }

    /// Trades the refresh cookie for a new access token. Concurrent callers share one request.
    pub async fn refresh(&self) -> Result<(), ApiError> {
        let existing = self.refreshing.with_value(|r| r.clone());
        let fut = match existing {
            Some(f) => f,
            None => {
                let this = *self;
                let fut: Pin<Box<dyn Future<Output = Result<(), ApiError>>>> =
                    Box::pin(async move {
                        let out = this.refresh_once().await;
                        this.refreshing.set_value(None);
                        out
                    });
                let fut = fut.shared();
                self.refreshing.set_value(Some(fut.clone()));
                fut
            }
        };
        fut.await
    }

    async fn refresh_once(&self) -> Result<(), ApiError> {
        let url = format!(
            "{}/api/token",
            self.config.with_value(|c| c.auth_url.clone())
        );
        let result = async {
            let resp = http::send(with_cookie(Request::post(&url)).build()).await?;
            let token: TokenResponse = http::json(resp).await?;
            self.accept(token)
        }
        .await;
        match &result {
            Ok(()) => self.last_error.set(None),
            Err(e) => {
                self.clear();
                // 401/403: no (valid) cookie, which is just "signed out"; anything else is a
                // problem the user should hear about.
                let plain_signed_out = matches!(e.status, 400 | 401 | 403);
                self.last_error.set(if plain_signed_out {
                    None
                } else {
                    Some(e.clone())
                });
                self.state.set(SessionState::SignedOut);
            }
        }
        result
    }

    fn accept(&self, token: TokenResponse) -> Result<(), ApiError> {
        let user = decode_user(&token.access_token)
            .ok_or_else(|| ApiError::bad_answer("the access token has no readable payload"))?;
        let expires_at_ms = now_ms() + token.expires_in as f64 * 1000.0;
        self.token.set_value(Some(Token {
            value: token.access_token,
            expires_at_ms,
        }));
        self.schedule_refresh(token.expires_in as f64 * 1000.0);
        if self
            .state
            .with_untracked(|s| !matches!(s, SessionState::SignedIn { user: u } if *u == user))
        {
            self.state.set(SessionState::SignedIn { user });
        }
        Ok(())
    }

    /// Silent refresh shortly before expiry, so a user who is typing never meets a 401.
    fn schedule_refresh(&self, lifetime_ms: f64) {
        self.cancel_timer();
        // Short-lived tokens (tests) refresh at 80% of their life instead of a minute before.
        let delay = if lifetime_ms > 2.0 * REFRESH_MARGIN_MS {
            lifetime_ms - REFRESH_MARGIN_MS
        } else {
            lifetime_ms * 0.8
        };
        let this = *self;
        let handle = set_timeout_with_handle(
            move || {
                leptos::task::spawn_local(async move {
                    let _ = this.refresh().await;
                })
            },
            Duration::from_millis(delay.max(1_000.0) as u64),
        );
        self.timer.set_value(handle.ok());
    }

    fn cancel_timer(&self) {
        if let Some(h) = self.timer.try_update_value(|t| t.take()).flatten() {
            h.clear();
        }
    }

    fn clear(&self) {
        self.cancel_timer();
        self.token.set_value(None);
    }
}

/// Requests to the auth host carry its `__Host-sa_refresh` cookie across origins.
fn with_cookie(builder: RequestBuilder) -> RequestBuilder {
    builder.credentials(RequestCredentials::Include)
}

fn bearer(builder: RequestBuilder, token: Option<&str>) -> RequestBuilder {
    match token {
        Some(t) => builder.header("Authorization", &format!("Bearer {t}")),
        None => builder,
    }
}

fn now_ms() -> f64 {
    js_sys::Date::now()
}

/// The part of the JWT payload the UI needs: `sub`, `name` and `roles`, read from what the
/// browser's JSON parser makes of the payload. The signature is the servers' business: this
/// only decides what to show, never what is allowed.
fn decode_user(jwt: &str) -> Option<SessionUser> {
    use wasm_bindgen::JsValue;
    let payload = jwt.split('.').nth(1)?;
    let bytes = base64url_decode(payload)?;
    let claims = js_sys::JSON::parse(std::str::from_utf8(&bytes).ok()?).ok()?;
    let claim = |k: &str| js_sys::Reflect::get(&claims, &JsValue::from_str(k)).ok();
    let sub = claim("sub")?.as_string()?;
    let name = claim("name")
        .and_then(|v| v.as_string())
        .filter(|n| !n.is_empty())
        .unwrap_or_else(|| sub.clone());
    let roles = claim("roles")
        .filter(js_sys::Array::is_array)
        .map(|v| {
            js_sys::Array::from(&v)
                .iter()
                .filter_map(|r| r.as_string())
                .collect()
        })
        .unwrap_or_default();
    Some(SessionUser {
        id: sub,
        name,
        roles,
    })
}

/// Through the browser's `atob`, so the app carries no base64 code of its own.
fn base64url_decode(s: &str) -> Option<Vec<u8>> {
    let mut b64: String = s
        .chars()
        .map(|c| match c {
            '-' => '+',
            '_' => '/',
            c => c,
        })
        .collect();
    while !b64.len().is_multiple_of(4) {
        b64.push('=');
    }
    let binary = window().atob(&b64).ok()?;
    // `atob` yields one char per byte.
    binary
        .chars()
        .map(|c| u8::try_from(c as u32).ok())
        .collect()
}
