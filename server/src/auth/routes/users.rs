//! Admin: `GET /api/users`, `PUT /api/users/{id}/roles`, `DELETE /api/users/{id}`.
use axum::{
    extract::{Path, State},
    Json,
};
use http::StatusCode;
use sa_shared::auth::{Role, RolesUpdate, UserView};
use uuid::Uuid;

use super::extract::{Admin, JsonBody};
use crate::auth::{
    error::{AuthError, AuthResult},
    AppState,
};

fn user_id(raw: &str) -> AuthResult<Uuid> {
    Uuid::try_parse(raw).map_err(|_| AuthError::user_not_found(format!("no user with id {raw:?}")))
}

/// Refuses a change that would leave nobody able to manage users.
async fn keep_an_admin(state: &AppState, target: Uuid) -> AuthResult<()> {
    let admins: Vec<Uuid> = state
        .storage
        .list_users()
        .await?
        .into_iter()
        .filter(|u| u.is_admin())
        .map(|u| u.id)
        .collect();
    if admins == [target] {
        return Err(AuthError::conflict(
            "last_admin",
            "this is the last admin; make someone else admin first",
        ));
    }
    Ok(())
}

pub async fn list(_admin: Admin, State(state): State<AppState>) -> AuthResult<Json<Vec<UserView>>> {
    Ok(Json(
        state
            .storage
            .list_users()
            .await?
            .iter()
            .map(|u| u.view())
            .collect(),
    ))
}

pub async fn set_roles(
    Admin(admin): Admin,
    State(state): State<AppState>,
    Path(id): Path<String>,
    JsonBody(body): JsonBody<RolesUpdate>,
) -> AuthResult<Json<UserView>> {
    let id = user_id(&id)?;
    let mut roles = body
        .roles
        .iter()
        .map(|r| {
            Role::parse(r).ok_or_else(|| {
                AuthError::bad_request(
                    "unknown_role",
                    format!("unknown role {r:?}; roles are reader, writer and admin"),
                )
            })
        })
        .collect::<AuthResult<Vec<_>>>()?;
    roles.sort();
    roles.dedup();
    let current = state
        .storage
        .user(id)
        .await?
        .ok_or_else(|| AuthError::user_not_found("no such user"))?;
    if current.is_admin() && !roles.contains(&Role::Admin) {
        keep_an_admin(&state, id).await?;
    }
    let user = state
        .storage
        .set_roles(id, roles)
        .await?
        .ok_or_else(|| AuthError::user_not_found("no such user"))?;
    tracing::info!(user = %user.username, roles = ?user.role_names(), by = %admin.user.username, "roles changed");
    Ok(Json(user.view()))
}

pub async fn delete(
    Admin(admin): Admin,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> AuthResult<StatusCode> {
    let id = user_id(&id)?;
    let current = state
        .storage
        .user(id)
        .await?
        .ok_or_else(|| AuthError::user_not_found("no such user"))?;
    if current.is_admin() {
        keep_an_admin(&state, id).await?;
    }
    if !state.storage.delete_user(id).await? {
        return Err(AuthError::user_not_found("no such user"));
    }
    tracing::info!(user = %current.username, by = %admin.user.username, "user deleted");
    Ok(StatusCode::NO_CONTENT)
}
