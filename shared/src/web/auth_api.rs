//! Typed calls to the auth host beyond the session itself: registration, the current user and
//! user administration.
use gloo_net::http::{Method, Request};
use web_sys::RequestCredentials;

use super::{
    encode,
    http::{self, ApiError},
    session::Session,
};
use crate::auth::{Credentials, RolesUpdate, UserView};

fn url(session: &Session, path: &str) -> String {
    format!("{}{path}", session.config().auth_url)
}

/// `POST /api/register`. The new account starts without write access until an admin grants it.
pub async fn register(session: Session, credentials: &Credentials) -> Result<(), ApiError> {
    let request = Request::post(&url(&session, "/api/register"))
        .credentials(RequestCredentials::Include)
        .json(credentials);
    http::send(request).await.map(|_| ())
}

/// `GET /api/me`.
pub async fn me(session: Session) -> Result<UserView, ApiError> {
    let resp = session
        .send(Method::GET, &url(&session, "/api/me"), &|b| b.build())
        .await?;
    http::json(resp).await
}

/// `GET /api/users` (admins).
pub async fn users(session: Session) -> Result<Vec<UserView>, ApiError> {
    let resp = session
        .send(Method::GET, &url(&session, "/api/users"), &|b| b.build())
        .await?;
    http::json(resp).await
}

/// `PUT /api/users/{id}/roles` (admins).
pub async fn set_roles(session: Session, id: &str, roles: Vec<String>) -> Result<(), ApiError> {
    let path = format!("/api/users/{}/roles", encode(id));
    let update = RolesUpdate { roles };
    session
        .send(Method::PUT, &url(&session, &path), &|b| b.json(&update))
        .await
        .map(|_| ())
}

/// `DELETE /api/users/{id}` (admins).
pub async fn delete_user(session: Session, id: &str) -> Result<(), ApiError> {
    let path = format!("/api/users/{}", encode(id));
    session
        .send(Method::DELETE, &url(&session, &path), &|b| b.build())
        .await
        .map(|_| ())
}
