//! Typed calls to the auth host beyond the session itself: registration, the current user and
//! user administration.
use super::{
    http::{self, ApiError, Method},
    session::Session,
};
use crate::auth::{Credentials, RolesUpdate, UserView};

fn url(session: &Session, path: &str) -> String {
    format!("{}{path}", session.config().auth_url)
}

/// `POST /api/register`. The new account starts without write access until an admin grants it.
pub async fn register(session: Session, credentials: &Credentials) -> Result<(), ApiError> {
    let body = super::json::to_json(credentials).map_err(ApiError::bad_answer)?;
    let resp = http::fetch(
        Method::POST,
        &url(&session, "/api/register"),
        &[],
        Some(body),
        None,
        true,
    )
    .await?;
    http::check(resp).await.map(|_| ())
}

/// `GET /api/me`.
pub async fn me(session: Session) -> Result<UserView, ApiError> {
    let resp = http::send(session, Method::GET, &url(&session, "/api/me"), &[], None).await?;
    http::json(resp).await
}

/// `GET /api/users` (admins).
pub async fn users(session: Session) -> Result<Vec<UserView>, ApiError> {
    let resp = http::send(
        session,
        Method::GET,
        &url(&session, "/api/users"),
        &[],
        None,
    )
    .await?;
    http::json(resp).await
}

/// `PUT /api/users/{id}/roles` (admins).
pub async fn set_roles(session: Session, id: &str, roles: Vec<String>) -> Result<(), ApiError> {
    let body = super::json::to_json(&RolesUpdate { roles }).map_err(ApiError::bad_answer)?;
    let path = format!("/api/users/{}/roles", encode(id));
    http::send(session, Method::PUT, &url(&session, &path), &[], Some(body))
        .await
        .map(|_| ())
}

/// `DELETE /api/users/{id}` (admins).
pub async fn delete_user(session: Session, id: &str) -> Result<(), ApiError> {
    let path = format!("/api/users/{}", encode(id));
    http::send(session, Method::DELETE, &url(&session, &path), &[], None)
        .await
        .map(|_| ())
}

fn encode(s: &str) -> String {
    js_sys::encode_uri_component(s).into()
}
