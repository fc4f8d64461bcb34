//! `POST /api/register` and `GET /api/me`, and the rules for usernames and passwords.
use axum::{extract::State, response::IntoResponse, Json};
use http::StatusCode;
use sa_shared::auth::{Credentials, Role, UserView};

use super::extract::{Authenticated, ClientIp, JsonBody};
use crate::auth::{
    error::{AuthError, AuthResult},
    AppState,
};

pub const MIN_PASSWORD_CHARS: usize = 10;
/// argon2 takes any length, but hashing megabytes per request is an easy denial of service.
pub const MAX_PASSWORD_BYTES: usize = 1024;

/// 3–32 characters: lower-case letters, digits, `.`, `_`, `-`, starting with a letter or digit.
/// Returns the canonical (lower-case) form.
pub fn validate_username(name: &str) -> AuthResult<String> {
    let name = name.trim().to_lowercase();
    let ok_len = (3..=32).contains(&name.chars().count());
    let ok_chars = name
        .chars()
        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '.' | '_' | '-'));
    let ok_start = name
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphanumeric());
    if ok_len && ok_chars && ok_start {
        Ok(name)
    } else {
        Err(AuthError::bad_request("invalid_username", "a username has 3 to 32 characters: letters, digits, '.', '_' or '-', starting with a letter or digit"))
    }
}

pub fn validate_password(username: &str, password: &str) -> AuthResult<()> {
    if password.chars().count() < MIN_PASSWORD_CHARS {
        return Err(AuthError::bad_request(
            "weak_password",
            format!("a password needs at least {MIN_PASSWORD_CHARS} characters"),
        ));
    }
    if password.len() > MAX_PASSWORD_BYTES {
        return Err(AuthError::bad_request(
            "password_too_long",
            format!("a password may have at most {MAX_PASSWORD_BYTES} bytes"),
        ));
    }
    if password.to_lowercase().contains(username) {
        return Err(AuthError::bad_request(
            "weak_password",
            "the password must not contain the username",
        ));
    }
    Ok(())
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
