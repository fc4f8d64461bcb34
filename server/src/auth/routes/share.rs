//! `POST /api/share`: a read-only token for one model, as a link that opens in any tab.
use axum::{extract::State, Json};
use sa_shared::auth::{ShareRequest, ShareResponse};
use uuid::Uuid;

use super::extract::{Authenticated, JsonBody};
use crate::auth::{
    error::{AuthError, AuthResult},
    AppState,
};

/// The model id of an absolute model URL: its last path segment, which must be a UUID.
pub fn model_id(url: &str) -> AuthResult<Uuid> {
    let bad = |why: &str| {
        AuthError::bad_request("invalid_model_url", format!("{why}; send the absolute URL of one model, like https://store.example/api/model/<uuid>"))
    };
    let uri: http::Uri = url.parse().map_err(|_| bad("that is not a URL"))?;
    if !matches!(uri.scheme_str(), Some("http" | "https")) || uri.authority().is_none() {
        return Err(bad("the URL must be absolute (http or https)"));
    }
    let last = uri
        .path()
        .trim_end_matches('/')
        .rsplit('/')
        .next()
        .unwrap_or_default();
    Uuid::try_parse(last).map_err(|_| bad("the URL's last path segment is not a model id"))
}

pub async fn share(
    auth: Authenticated,
    State(state): State<AppState>,
    JsonBody(req): JsonBody<ShareRequest>,
) -> AuthResult<Json<ShareResponse>> {
    if !sa_shared::auth::can_read(&auth.user.role_names()) {
        return Err(AuthError::forbidden(
            "no_read_access",
            "your account may not read models, so it can't share them",
        ));
    }
    let model = model_id(&req.url)?;
    let (access_token, expires_in) = state.tokens.share(&state.keys, &auth.user, model)?;
    let sep = if req.url.contains('?') { '&' } else { '?' };
    let url = format!("{}{sep}access_token={access_token}", req.url);
    Ok(Json(ShareResponse {
        url,
        access_token,
        expires_in,
    }))
}

#[cfg(test)]
mod tests {
    use super::model_id;

    #[test]
    fn model_urls() {
        let id = "0b9c8a52-6a0e-4d4e-9a38-6f1f9d5f2c11";
        assert_eq!(
            model_id(&format!(
                "http://store.sa.localhost:8080/redis/api/model/{id}"
            ))
            .unwrap()
            .to_string(),
            id
        );
        assert_eq!(
            model_id(&format!("https://store.example/api/model/{id}/"))
                .unwrap()
                .to_string(),
            id
        );
        assert_eq!(
            model_id(&format!("https://store.example/api/model/{id}?x=1"))
                .unwrap()
                .to_string(),
            id
        );
        for bad in [
            "",
            "store/api/model/x",
            &format!("/api/model/{id}"),
            "https://store.example/api/model/latest",
            &format!("javascript://x/{id}"),
        ] {
            assert!(model_id(bad).is_err(), "{bad}");
        }
    }
}
