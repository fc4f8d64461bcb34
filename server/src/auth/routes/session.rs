//! `POST /api/login`, `POST /api/token` and `POST /api/logout`: the endpoints that set or use the
//! refresh cookie, so each one checks `Origin` first.
use axum::{
    extract::State,
    response::{IntoResponse, Response},
    Json,
};
use http::{header, HeaderMap, HeaderValue, StatusCode};
use sa_shared::auth::{Credentials, TokenResponse, REFRESH_COOKIE};

use super::extract::{refresh_cookie, ClientIp, JsonBody};
use crate::auth::{
    csrf::check_origin,
    error::{AuthError, AuthResult},
    storage::User,
    AppState,
};

fn refresh_set_cookie(value: &str, max_age: i64) -> HeaderValue {
    let c = cookie::Cookie::build((REFRESH_COOKIE, value.to_string()))
        .http_only(true)
        .secure(true)
        .same_site(cookie::SameSite::Strict)
        .path("/")
        .max_age(cookie::time::Duration::seconds(max_age))
        .build();
    // Cookie values are base64url/UUID/digits and dots only, always a valid header value.
    HeaderValue::from_str(&c.to_string()).unwrap_or_else(|_| {
        HeaderValue::from_static(
            "__Host-sa_refresh=; Max-Age=0; Path=/; Secure; HttpOnly; SameSite=Strict",
        )
    })
}

fn clear_cookie() -> HeaderValue {
    refresh_set_cookie("", 0)
}

fn token_response(
    state: &AppState,
    user: &User,
    cookie: Option<HeaderValue>,
) -> AuthResult<Response> {
    let (access_token, expires_in) = state.tokens.access(&state.keys, user)?;
    let mut res = Json(TokenResponse {
        access_token,
        token_type: "Bearer".into(),
        expires_in,
    })
    .into_response();
    let h = res.headers_mut();
    // RFC 6749 §5.1: token responses must not be cached.
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    if let Some(c) = cookie {
        h.insert(header::SET_COOKIE, c);
    }
    Ok(res)
}

pub async fn login(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    JsonBody(creds): JsonBody<Credentials>,
) -> AuthResult<Response> {
    check_origin(&headers, &state.config.allowed_origins, &state.own_origin)?;
    let username = creds.username.trim().to_lowercase();
    if username.is_empty() || creds.password.is_empty() {
        return Err(AuthError::bad_request(
            "missing_credentials",
            "enter a username and a password",
        ));
    }
    if username.len() > 64 || creds.password.len() > super::account::MAX_PASSWORD_BYTES {
        return Err(AuthError::bad_credentials());
    }
    state.limits.check(ip, &username)?;
    let user = state.storage.user_by_name(&username).await?;
    // Always runs argon2, against a dummy hash for unknown users, so both failures look alike.
    let ok = state
        .passwords
        .verify(
            creds.password,
            user.as_ref().map(|u| u.password_hash.clone()),
        )
        .await?;
    let user = match (ok, user) {
        (true, Some(u)) => u,
        _ => {
            tracing::info!(user = %username, ip = ?ip, "sign-in refused: wrong username or password");
            return Err(AuthError::bad_credentials());
        }
    };
    let refresh = state.refresh.start(&state.storage, &user).await?;
    tracing::info!(user = %user.username, "signed in");
    token_response(
        &state,
        &user,
        Some(refresh_set_cookie(
            &refresh,
            state.config.refresh_ttl as i64,
        )),
    )
}

pub async fn token(State(state): State<AppState>, headers: HeaderMap) -> AuthResult<Response> {
    check_origin(&headers, &state.config.allowed_origins, &state.own_origin)?;
    let Some(presented) = refresh_cookie(&headers) else {
        return Err(AuthError::unauthorized("not_signed_in", "not signed in"));
    };
    match state.refresh.refresh(&state.storage, &presented).await {
        Ok(r) => token_response(
            &state,
            &r.user,
            r.next_token
                .map(|t| refresh_set_cookie(&t, state.config.refresh_ttl as i64)),
        ),
        Err(e) if e.status == StatusCode::UNAUTHORIZED => {
            // The cookie is useless from now on; drop it so the apps show "signed out".
            let mut res = e.into_response();
            res.headers_mut().insert(header::SET_COOKIE, clear_cookie());
            Ok(res)
        }
        Err(e) => Err(e),
    }
}

pub async fn logout(State(state): State<AppState>, headers: HeaderMap) -> AuthResult<Response> {
    check_origin(&headers, &state.config.allowed_origins, &state.own_origin)?;
    if let Some(presented) = refresh_cookie(&headers) {
        state.refresh.revoke(&state.storage, &presented).await?;
    }
    let mut res = StatusCode::NO_CONTENT.into_response();
    res.headers_mut().insert(header::SET_COOKIE, clear_cookie());
    Ok(res)
}
