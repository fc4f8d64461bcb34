//! `/.well-known/openid-configuration` and `/.well-known/jwks.json`.
use axum::{
    extract::State,
    response::{IntoResponse, Response},
};
use headers::HeaderMapExt;
use http::{header, HeaderMap, HeaderValue, StatusCode};

use super::{AppState, Config};

/// The OIDC discovery document. sa has no authorization-code flow: the "authorization endpoint"
/// is the client app's sign-in page, and tokens come from `/api/login` and `/api/token`.
pub fn discovery_document(config: &Config) -> bytes::Bytes {
    let iss = &config.issuer;
    let login_page = config
        .allowed_origins
        .first()
        .map(|o| format!("{o}/login"))
        .unwrap_or_else(|| format!("{iss}/api/login"));
    let doc = serde_json::json!({
        "issuer": iss,
        "authorization_endpoint": login_page,
        "token_endpoint": format!("{iss}/api/token"),
        "userinfo_endpoint": format!("{iss}/api/me"),
        "jwks_uri": format!("{iss}/.well-known/jwks.json"),
        "registration_endpoint": config.registration.then(|| format!("{iss}/api/register")),
        "response_types_supported": ["token"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["ES256"],
        "token_endpoint_auth_methods_supported": ["none"],
        "grant_types_supported": ["password", "refresh_token"],
        "scopes_supported": ["openid"],
        "claims_supported": ["iss", "aud", "sub", "name", "roles", "iat", "nbf", "exp", "jti", "model"],
    });
    let mut doc = doc;
    if let Some(map) = doc.as_object_mut() {
        map.retain(|_, v| !v.is_null());
    }
    serde_json::to_vec_pretty(&doc).unwrap_or_default().into()
}

pub async fn openid_configuration(State(state): State<AppState>) -> Response {
    (
        [
            (header::CONTENT_TYPE, "application/json"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        state.discovery.clone(),
    )
        .into_response()
}

/// The JWKS with a strong ETag: verifiers that poll it get a 304 while no key changed.
pub async fn jwks(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let doc = state.keys.jwks_document();
    let etag =
        HeaderValue::from_str(&doc.etag).unwrap_or_else(|_| HeaderValue::from_static("\"jwks\""));
    // Short enough that a rotated-in key is seen soon; verifiers refetch on an unknown kid anyway.
    let cache = (
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=300"),
    );
    let current = doc.etag.parse::<headers::ETag>().ok();
    let matches = match (headers.typed_get::<headers::IfNoneMatch>(), current) {
        (Some(inm), Some(c)) => !inm.precondition_passes(&c),
        _ => false,
    };
    if matches {
        return (StatusCode::NOT_MODIFIED, [(header::ETAG, etag), cache]).into_response();
    }
    (
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            ),
            (header::ETAG, etag),
            cache,
        ],
        doc.body.clone(),
    )
        .into_response()
}
