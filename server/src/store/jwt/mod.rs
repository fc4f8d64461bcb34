//! Bearer token verification and the access rules.
//!
//! A token names its issuer in `iss`; we pick that issuer's entry and verify with *its* keys
//! only, so one issuer's key can never vouch for a token that names another. Only asymmetric
//! algorithms are accepted (no `none`, no HS256 signed with a public key), and the key must be
//! one the issuer published for that algorithm. Verified tokens are cached until they expire.
use std::{collections::HashMap, sync::Arc, time::Duration};

use axum::http::Method;
use jsonwebtoken::{errors::ErrorKind, Algorithm, Validation};
use serde::Deserialize;
use uuid::Uuid;

use super::error::StoreError;

pub mod issuers;
pub mod jwks;

pub use issuers::IssuerConfig;

const ASYMMETRIC: &[Algorithm] = &[
    Algorithm::ES256,
    Algorithm::ES384,
    Algorithm::RS256,
    Algorithm::RS384,
    Algorithm::RS512,
    Algorithm::PS256,
    Algorithm::PS384,
    Algorithm::PS512,
    Algorithm::EdDSA,
];
/// Clock skew we forgive on `exp` and `nbf`.
const LEEWAY_SECS: u64 = 30;
const CACHE_ENTRIES: u64 = 10_000;

/// Who is calling, once the token checked out.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Principal {
    pub issuer: String,
    pub subject: String,
    /// The display name from the `name` claim (empty when the issuer sends none).
    pub name: String,
    pub roles: Vec<String>,
    /// Share tokens: the one model they may read.
    pub model: Option<String>,
    pub exp: i64,
}

impl Principal {
    /// Who a write is recorded as.
    pub fn author(&self) -> sa_shared::history::Author {
        sa_shared::history::Author {
            sub: self.subject.clone(),
            name: self.name.clone(),
        }
    }

    /// The caller when `--auth off`.
    pub fn anonymous_writer() -> Principal {
        Principal {
            issuer: String::new(),
            subject: "anonymous".into(),
            name: "anonymous".into(),
            roles: vec!["writer".into()],
            model: None,
            exp: i64::MAX,
        }
    }
}

/// The claims we read. Roles may be missing (outside issuers); `aud`, `nbf` and `iss` are
/// checked by jsonwebtoken's `Validation`.
#[derive(Deserialize)]
struct TokenClaims {
    #[serde(default)]
    sub: Option<String>,
    /// Required; `Validation` reports it missing with a clearer error than serde would.
    #[serde(default)]
    exp: Option<i64>,
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    roles: Option<Vec<String>>,
    #[serde(default)]
    model: Option<String>,
}

#[derive(Deserialize)]
struct IssuerOnly {
    #[serde(default)]
    iss: Option<String>,
}

struct Issuer {
    config: IssuerConfig,
    keys: jwks::KeySet,
}

pub struct Verifier {
    issuers: HashMap<String, Arc<Issuer>>,
    cache: moka::sync::Cache<String, Arc<Principal>>,
}

fn invalid(code: &'static str, message: impl Into<String>) -> StoreError {
    StoreError::unauthorized(code, message)
}

impl Verifier {
    pub fn new(configs: Vec<IssuerConfig>) -> anyhow::Result<Verifier> {
        // If another crate in the build also enables aws_lc_rs, jsonwebtoken can't pick by itself.
        let _ = jsonwebtoken::crypto::rust_crypto::DEFAULT_PROVIDER.install_default();
        let client = jwks::http_client()?;
        let mut issuers = HashMap::new();
        for config in configs {
            let keys = if let Some(url) = &config.jwks_uri {
                jwks::KeySet::remote(url, config.connect_to, client.clone())?
            } else if let Some(path) = &config.jwks_file {
                let text = std::fs::read_to_string(path).map_err(|e| {
                    anyhow::anyhow!(
                        "cannot read the JWKS file {} of issuer {:?}: {e}",
                        path.display(),
                        config.issuer
                    )
                })?;
                jwks::KeySet::fixed(jwks::parse_set(&text)?)
            } else {
                jwks::KeySet::fixed(jwks::parse_set(config.jwks.as_deref().unwrap_or_default())?)
            };
            issuers.insert(config.issuer.clone(), Arc::new(Issuer { config, keys }));
        }
        let cache = moka::sync::Cache::builder()
            .max_capacity(CACHE_ENTRIES)
            .time_to_live(Duration::from_secs(3600))
            .build();
        Ok(Verifier { issuers, cache })
    }

    /// The caller behind `token`, and whether it came from the cache of verified tokens.
    pub async fn verify(&self, token: &str) -> Result<(Arc<Principal>, bool), StoreError> {
        let now = jsonwebtoken::get_current_timestamp() as i64;
        if let Some(p) = self.cache.get(token) {
            if p.exp + (LEEWAY_SECS as i64) > now {
                return Ok((p, true));
            }
            self.cache.invalidate(token);
        }
        let principal = Arc::new(self.verify_uncached(token).await?);
        self.cache.insert(token.to_string(), principal.clone());
        Ok((principal, false))
    }

    async fn verify_uncached(&self, token: &str) -> Result<Principal, StoreError> {
        let header = jsonwebtoken::decode_header(token).map_err(|e| {
            invalid(
                "malformed_token",
                format!("the bearer token is not a JWT we accept ({e}); sign in again"),
            )
        })?;
        if !ASYMMETRIC.contains(&header.alg) {
            return Err(invalid("algorithm_not_allowed", format!("tokens signed with {:?} are not accepted; only asymmetric algorithms (ES256, RS256, …) are", header.alg)));
        }
        // The signature is checked below with this issuer's keys; reading `iss` first only picks them.
        let iss = jsonwebtoken::dangerous::insecure_decode_claims::<IssuerOnly>(token)
            .map_err(|e| {
                invalid(
                    "malformed_token",
                    format!("the token's claims are not readable ({e})"),
                )
            })?
            .iss
            .ok_or_else(|| invalid("unknown_issuer", "the token has no iss claim"))?;
        let issuer = self.issuers.get(&iss).ok_or_else(|| {
            invalid(
                "unknown_issuer",
                format!("tokens from issuer {iss:?} are not trusted here"),
            )
        })?;
        let (keys, index) = match issuer.keys.lookup(header.kid.as_deref(), header.alg).await {
            jwks::Lookup::Found(keys, i) => (keys, i),
            jwks::Lookup::UnknownKid => {
                return Err(invalid(
                    "unknown_key",
                    format!(
                        "issuer {iss:?} has no key {:?}",
                        header.kid.unwrap_or_default()
                    ),
                ))
            }
            jwks::Lookup::AlgorithmMismatch => {
                return Err(invalid(
                    "algorithm_mismatch",
                    format!(
                        "key {:?} of issuer {iss:?} is not for {:?}",
                        header.kid.unwrap_or_default(),
                        header.alg
                    ),
                ))
            }
            jwks::Lookup::Unavailable(e) => {
                return Err(StoreError::unavailable(format!(
                    "the keys of issuer {iss:?} can't be fetched ({e}); try again shortly"
                )))
            }
        };
        let mut validation = Validation::new(header.alg);
        validation.leeway = LEEWAY_SECS;
        validation.validate_nbf = true;
        validation.set_issuer(&[&iss]);
        let mut required = vec!["exp", "iss"];
        if issuer.config.audiences.is_empty() {
            validation.validate_aud = false;
        } else {
            validation.set_audience(&issuer.config.audiences);
            required.push("aud");
        }
        validation.set_required_spec_claims(&required);
        let data = jsonwebtoken::decode::<TokenClaims>(token, &keys[index].key, &validation)
            .map_err(|e| match e.kind() {
                ErrorKind::ExpiredSignature => {
                    invalid("token_expired", "the token has expired; sign in again")
                }
                ErrorKind::ImmatureSignature => invalid(
                    "token_not_yet_valid",
                    "the token is not valid yet (nbf is in the future)",
                ),
                ErrorKind::InvalidAudience => invalid(
                    "wrong_audience",
                    format!(
                        "the token is not meant for this service (aud must be one of {:?})",
                        issuer.config.audiences
                    ),
                ),
                ErrorKind::MissingRequiredClaim(c) => {
                    invalid("missing_claim", format!("the token has no {c} claim"))
                }
                ErrorKind::InvalidSignature => {
                    invalid("bad_signature", "the token's signature does not verify")
                }
                _ => invalid("invalid_token", format!("the token is not valid ({e})")),
            })?;
        let claims = data.claims;
        let model = match claims.model {
            Some(m) => Some(
                Uuid::parse_str(&m)
                    .map(|u| u.hyphenated().to_string())
                    .map_err(|_| {
                        invalid(
                            "invalid_token",
                            "the share token's model claim is not a model id",
                        )
                    })?,
            ),
            None => None,
        };
        Ok(Principal {
            issuer: iss,
            subject: claims.sub.unwrap_or_default(),
            name: claims.name.unwrap_or_default(),
            roles: claims
                .roles
                .unwrap_or_else(|| issuer.config.default_roles.clone()),
            model,
            exp: claims.exp.unwrap_or(0),
        })
    }
}

/// The access rules: `reader` GETs, `writer` (or `admin`) also writes, and a share token reads
/// only its one model. `model_id` is the `{id}` of `/api/model/{id}`, when the path has one.
pub fn authorize(p: &Principal, method: &Method, model_id: Option<Uuid>) -> Result<(), StoreError> {
    let reads = method == Method::GET || method == Method::HEAD;
    if let Some(shared) = &p.model {
        let same = model_id.is_some_and(|id| id.hyphenated().to_string() == *shared);
        if !(reads && same) {
            return Err(StoreError::forbidden(
                "share_token_scope",
                "this share link only reads the one model it was made for",
            ));
        }
        return Ok(());
    }
    if !sa_shared::auth::can_read(&p.roles) {
        return Err(StoreError::forbidden(
            "no_role",
            "your account has no role on the store; ask an admin for reader or writer",
        ));
    }
    if !reads && !sa_shared::auth::can_write(&p.roles) {
        return Err(StoreError::forbidden(
            "read_only",
            "changing models needs the writer role; ask an admin for it",
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(roles: &[&str], model: Option<&str>) -> Principal {
        Principal {
            issuer: "i".into(),
            subject: "s".into(),
            name: "n".into(),
            roles: roles.iter().map(|r| r.to_string()).collect(),
            model: model.map(str::to_string),
            exp: 0,
        }
    }

    #[test]
    fn roles_and_share_scope() {
        let id = Uuid::nil();
        assert!(authorize(&p(&["reader"], None), &Method::GET, None).is_ok());
        assert_eq!(
            authorize(&p(&["reader"], None), &Method::PUT, Some(id))
                .unwrap_err()
                .code,
            "read_only"
        );
        assert!(authorize(&p(&["writer"], None), &Method::DELETE, Some(id)).is_ok());
        assert!(authorize(&p(&["admin"], None), &Method::POST, None).is_ok());
        assert_eq!(
            authorize(&p(&[], None), &Method::GET, None)
                .unwrap_err()
                .code,
            "no_role"
        );
        let shared = p(&["reader"], Some(&id.hyphenated().to_string()));
        assert!(authorize(&shared, &Method::GET, Some(id)).is_ok());
        assert!(authorize(&shared, &Method::GET, Some(Uuid::max())).is_err());
        assert!(authorize(&shared, &Method::GET, None).is_err());
        assert!(authorize(&shared, &Method::PUT, Some(id)).is_err());
    }
}
