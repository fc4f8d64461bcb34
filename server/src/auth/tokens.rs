//! Access and share tokens: what they claim, how they are signed and checked.
use sa_shared::auth::{Claims, Role, AUDIENCE};
use uuid::Uuid;

use super::{
    error::{AuthError, AuthResult},
    keys::{KeyRing, ALGORITHM},
    storage::User,
};

/// A share token lives at most this long, whatever the configuration says.
pub const MAX_SHARE_TTL: u64 = 600;

pub struct TokenIssuer {
    pub issuer: String,
    pub access_ttl: u64,
    pub share_ttl: u64,
    pub clock: crate::clock::Clock,
}

impl TokenIssuer {
    fn claims(&self, user: &User, roles: Vec<String>, ttl: u64, model: Option<String>) -> Claims {
        let iat = self.clock.now();
        Claims {
            iss: self.issuer.clone(),
            aud: AUDIENCE.to_string(),
            sub: user.id.to_string(),
            name: user.username.clone(),
            roles,
            iat,
            nbf: iat,
            exp: iat + ttl as i64,
            jti: Uuid::new_v4().to_string(),
            model,
        }
    }

    fn sign(keys: &KeyRing, claims: &Claims) -> AuthResult<String> {
        keys.sign(claims)
            .map_err(|e| AuthError::internal(format!("cannot sign a token: {e:#}")))
    }

    /// A token with the user's current roles; returns it and its lifetime in seconds.
    pub fn access(&self, keys: &KeyRing, user: &User) -> AuthResult<(String, u64)> {
        let claims = self.claims(user, user.role_names(), self.access_ttl, None);
        Ok((Self::sign(keys, &claims)?, self.access_ttl))
    }

    /// A read-only token for one model, on behalf of `user`.
    pub fn share(&self, keys: &KeyRing, user: &User, model: Uuid) -> AuthResult<(String, u64)> {
        let ttl = self.share_ttl.min(MAX_SHARE_TTL);
        let claims = self.claims(
            user,
            vec![Role::Reader.as_str().to_string()],
            ttl,
            Some(model.to_string()),
        );
        Ok((Self::sign(keys, &claims)?, ttl))
    }

    /// Checks a bearer token of ours: signature by a published key, issuer, audience, time.
    pub fn verify(&self, keys: &KeyRing, token: &str) -> AuthResult<Claims> {
        let invalid = |why: &str| {
            AuthError::unauthorized(
                "invalid_token",
                format!("the access token is not valid ({why}); sign in again"),
            )
        };
        let header = jsonwebtoken::decode_header(token).map_err(|_| invalid("malformed"))?;
        if header.alg != ALGORITHM {
            return Err(invalid("unexpected algorithm"));
        }
        let kid = header.kid.ok_or_else(|| invalid("no key id"))?;
        let key = keys
            .decoding_key(&kid)
            .ok_or_else(|| invalid("unknown or retired key"))?;
        let mut v = jsonwebtoken::Validation::new(ALGORITHM);
        v.set_audience(&[AUDIENCE]);
        v.set_issuer(&[&self.issuer]);
        v.set_required_spec_claims(&["exp", "nbf", "aud", "iss", "sub"]);
        // Time is checked below against our own clock, which tests can move.
        v.validate_exp = false;
        v.validate_nbf = false;
        let claims = jsonwebtoken::decode::<Claims>(token, &key, &v)
            .map_err(|_| invalid("signature or claims"))?
            .claims;
        let now = self.clock.now();
        if claims.exp <= now {
            return Err(AuthError::unauthorized(
                "token_expired",
                "the access token has expired; refresh it or sign in again",
            ));
        }
        if claims.nbf > now {
            return Err(invalid("not valid yet"));
        }
        Ok(claims)
    }
}
