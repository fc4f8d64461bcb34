//! Request extractors that answer in the JSON error contract.
use std::net::{IpAddr, SocketAddr};

use axum::extract::{ConnectInfo, FromRequest, FromRequestParts, Request};
use http::{header, request::Parts};
use sa_shared::auth::{Claims, REFRESH_COOKIE};
use serde::de::DeserializeOwned;

use crate::auth::{error::AuthError, storage::User, AppState};

/// `Json<T>` whose rejections are 400/413/415 in our error shape, not axum's plain text.
pub struct JsonBody<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for JsonBody<T> {
    type Rejection = AuthError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        use axum::extract::rejection::JsonRejection;
        match axum::Json::<T>::from_request(req, state).await {
            Ok(axum::Json(v)) => Ok(JsonBody(v)),
            Err(JsonRejection::MissingJsonContentType(_)) => {
                Err(AuthError::unsupported_media_type("the body"))
            }
            Err(JsonRejection::JsonDataError(e)) => Err(AuthError::bad_request(
                "invalid_body",
                format!("the JSON body has the wrong shape: {}", e.body_text()),
            )),
            Err(JsonRejection::JsonSyntaxError(_)) => Err(AuthError::invalid_json()),
            Err(e) if e.status() == http::StatusCode::PAYLOAD_TOO_LARGE => {
                Err(AuthError::too_large(super::BODY_LIMIT))
            }
            Err(e) => Err(AuthError::bad_request("invalid_body", e.body_text())),
        }
    }
}

/// The caller's IP for rate limits: the peer address, or the last `X-Forwarded-For` entry when
/// the service is told it sits behind a trusted proxy.
pub struct ClientIp(pub Option<IpAddr>);

impl FromRequestParts<AppState> for ClientIp {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        if state.config.trust_forwarded_for {
            // Only the entry our proxy appended (the last one) is trustworthy; the client
            // writes whatever it likes before it.
            let forwarded = parts
                .headers
                .get_all("x-forwarded-for")
                .iter()
                .next_back()
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.rsplit(',').next())
                .and_then(|s| s.trim().parse::<IpAddr>().ok());
            if forwarded.is_some() {
                return Ok(ClientIp(forwarded));
            }
        }
        Ok(ClientIp(
            parts
                .extensions
                .get::<ConnectInfo<SocketAddr>>()
                .map(|c| c.0.ip()),
        ))
    }
}

/// The refresh cookie, if the request carries one.
pub fn refresh_cookie(headers: &http::HeaderMap) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(cookie::Cookie::split_parse)
        .filter_map(Result::ok)
        .find(|c| c.name() == REFRESH_COOKIE)
        .map(|c| c.value().to_string())
        .filter(|v| !v.is_empty())
}

/// A verified access token of a user that still exists. Share tokens are refused: they only
/// open one model at the store.
pub struct Authenticated {
    pub claims: Claims,
    pub user: User,
}

impl FromRequestParts<AppState> for Authenticated {
    type Rejection = AuthError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let token = match crate::bearer::bearer(&parts.headers) {
            crate::bearer::BearerHeader::Token(t) => t,
            crate::bearer::BearerHeader::Missing => {
                return Err(AuthError::unauthorized(
                    "missing_token",
                    "sign in first: send Authorization: Bearer <access token>",
                ))
            }
            crate::bearer::BearerHeader::Malformed => {
                return Err(AuthError::unauthorized(
                    "invalid_token",
                    "the Authorization header must read `Bearer <access token>`",
                ))
            }
        };
        let claims = state.tokens.verify(&state.keys, &token)?;
        if claims.model.is_some() {
            return Err(AuthError::forbidden(
                "share_token",
                "a share token only opens its one model; sign in for anything else",
            ));
        }
        let user = uuid::Uuid::try_parse(&claims.sub)
            .ok()
            .map(|id| state.storage.user(id))
            .ok_or_else(|| AuthError::unauthorized("invalid_token", "the token names no user"))?
            .await?
            .ok_or_else(|| {
                AuthError::unauthorized("unknown_user", "this account no longer exists")
            })?;
        Ok(Authenticated { claims, user })
    }
}

/// An admin: the token says so and the account still has the role now.
pub struct Admin(pub Authenticated);

impl FromRequestParts<AppState> for Admin {
    type Rejection = AuthError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let auth = Authenticated::from_request_parts(parts, state).await?;
        let token_admin = auth.claims.roles.iter().any(|r| r == "admin");
        if !(token_admin && auth.user.is_admin()) {
            return Err(AuthError::forbidden(
                "admin_only",
                "only an admin may manage users",
            ));
        }
        Ok(Admin(auth))
    }
}
