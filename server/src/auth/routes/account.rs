//! `POST /api/register` and `GET /api/me`, and the rules for usernames and passwords.
use axum::{extract::State, response::IntoResponse, Json};
use http::StatusCode;
use sa_shared::auth::{Credentials, Role, UserView};

use super::extract::{Authenticated, ClientIp, JsonBody};
use crate::auth::{
    error::{AuthError, AuthResult},
    AppState,
};

pub use sa_shared::account::MAX_PASSWORD_BYTES;

/// The canonical (lower-case) form of a username that follows `sa_shared::account`'s rules.
pub fn validate_username(name: &str) -> AuthResult<String> {
    sa_shared::account::canonical_username(name).map_err(|_| {
        AuthError::bad_request(
            "invalid_username",
            "a username has 3 to 32 characters: letters, digits, '.', '_' or '-', starting with \
             a letter or digit",
        )
    })
}

pub fn validate_password(username: &str, password: &str) -> AuthResult<()> {
    match sa_shared::account::password_problem(password, username) {
        None => Ok(()),
        Some(p) => Err(AuthError::bad_request(p.code(), p.to_string())),
    }
}

pub async fn register(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    JsonBody(creds): JsonBody<Credentials>,
) -> AuthResult<impl IntoResponse> {
    if !state.config.registration {
        return Err(AuthError::forbidden(
            "registration_closed",
            "registration is switched off here; ask an admin for an account",
        ));
    }
    let username = validate_username(&creds.username)?;
    state.limits.check(ip, &username)?;
    validate_password(&username, &creds.password)?;
    if state.storage.user_by_name(&username).await?.is_some() {
        return Err(AuthError::conflict(
            "username_taken",
            "that username is taken; choose another",
        ));
    }
    let user = crate::auth::add_user(
        &state.storage,
        &state.passwords,
        &username,
        &creds.password,
        vec![Role::Reader],
    )
    .await?;
    tracing::info!(user = %user.username, "registered");
    Ok((StatusCode::CREATED, Json::<UserView>(user.view())))
}

pub async fn me(auth: Authenticated) -> Json<UserView> {
    Json(auth.user.view())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usernames_and_passwords() {
        assert_eq!(validate_username(" Alice.B ").unwrap(), "alice.b");
        for bad in ["ab", "-alice", "al ice", "alice!", "ålice", &"a".repeat(33)] {
            assert!(validate_username(bad).is_err(), "{bad:?}");
        }
        assert!(validate_password("alice", "ten-chars!").is_ok());
        assert!(validate_password("alice", "nine-char").is_err());
        assert!(validate_password("alice", "my-ALICE-password").is_err());
        assert!(validate_password("alice", &"x".repeat(MAX_PASSWORD_BYTES + 1)).is_err());
    }
}
