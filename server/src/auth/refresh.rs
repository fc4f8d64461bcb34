//! Refresh tokens: one family per login, rotated on every use; a reused old token revokes the
//! family, because only a thief or a replay can present a token that was already exchanged.
//!
//! A token reads `FAMILY.GENERATION.SECRET`. Only SHA-256 of the secret is stored.
use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine};
use rand::RngCore;
use sha2::{Digest, Sha256};
use uuid::Uuid;

use super::{
    error::{AuthError, AuthResult},
    storage::{Family, Storage, User},
};

pub struct RefreshPolicy {
    /// Lifetime of a family (of a login) in seconds.
    pub ttl: u64,
    /// How long after a rotation the previous token still works, without rotating again. Two tabs
    /// that refresh with the same cookie at the same moment would otherwise look like a theft.
    pub reuse_grace: u64,
    pub clock: crate::clock::Clock,
}

fn new_secret() -> (String, String) {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    let secret = URL_SAFE_NO_PAD.encode(bytes);
    let hash = hash(&secret);
    (secret, hash)
}

fn hash(secret: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(secret.as_bytes()))
}

fn token(family: Uuid, generation: u64, secret: &str) -> String {
    format!("{}.{generation}.{secret}", family.simple())
}

fn parse(token: &str) -> Option<(Uuid, u64, &str)> {
    let mut parts = token.splitn(3, '.');
    let family = Uuid::try_parse(parts.next()?).ok()?;
    let generation = parts.next()?.parse().ok()?;
    let secret = parts.next().filter(|s| !s.is_empty())?;
    Some((family, generation, secret))
}

/// What a refresh gave.
pub struct Refreshed {
    pub user: User,
    /// The next refresh token, or `None` inside the grace period (the cookie already holds it).
    pub next_token: Option<String>,
}

fn invalid() -> AuthError {
    AuthError::unauthorized(
        "invalid_refresh_token",
        "the session has ended; sign in again",
    )
}

impl RefreshPolicy {
    /// Starts a family for a fresh login; returns the first refresh token.
    pub async fn start(&self, storage: &Storage, user: &User) -> AuthResult<String> {
        let (secret, hash) = new_secret();
        let t = self.clock.now();
        let family = Family {
            id: Uuid::new_v4(),
            user_id: user.id,
            generation: 0,
            secret_hash: hash,
            previous_hash: None,
            rotated_at: t,
            expires: t + self.ttl as i64,
            revoked: false,
        };
        storage.insert_family(family.clone()).await?;
        Ok(token(family.id, 0, &secret))
    }

    pub async fn refresh(&self, storage: &Storage, presented: &str) -> AuthResult<Refreshed> {
        let (id, generation, secret) = parse(presented).ok_or_else(invalid)?;
        let family = storage.family(id).await?.ok_or_else(invalid)?;
        let t = self.clock.now();
        if family.revoked || family.expires <= t {
            return Err(invalid());
        }
        let presented_hash = hash(secret);
        let user_of = |f: &Family| f.user_id;
        if generation == family.generation && presented_hash == family.secret_hash {
            let (next_secret, next_hash) = new_secret();
            if storage.rotate_family(id, generation, next_hash, t).await? {
                let user = self.live_user(storage, id, user_of(&family)).await?;
                return Ok(Refreshed {
                    user,
                    next_token: Some(token(id, generation + 1, &next_secret)),
                });
            }
            // Someone rotated this family between our read and our write: it is now the
            // previous token, and the grace rule below decides.
            let family = storage.family(id).await?.ok_or_else(invalid)?;
            return self
                .previous_or_reuse(storage, &family, generation, &presented_hash, t)
                .await;
        }
        self.previous_or_reuse(storage, &family, generation, &presented_hash, t)
            .await
    }

    async fn previous_or_reuse(
        &self,
        storage: &Storage,
        family: &Family,
        generation: u64,
        presented_hash: &str,
        t: i64,
    ) -> AuthResult<Refreshed> {
        let is_previous = generation + 1 == family.generation
            && family.previous_hash.as_deref() == Some(presented_hash);
        if is_previous && !family.revoked && t - family.rotated_at < self.reuse_grace as i64 {
            let user = self.live_user(storage, family.id, family.user_id).await?;
            return Ok(Refreshed {
                user,
                next_token: None,
            });
        }
        tracing::warn!(family = %family.id, user = %family.user_id, "refresh token reused; revoking its family");
        storage.revoke_family(family.id).await?;
        Err(AuthError::unauthorized(
            "refresh_token_reused",
            "this session was ended because an old sign-in token was used again; sign in again",
        ))
    }

    async fn live_user(&self, storage: &Storage, family: Uuid, user: Uuid) -> AuthResult<User> {
        match storage.user(user).await? {
            Some(u) => Ok(u),
            None => {
                storage.revoke_family(family).await?;
                Err(invalid())
            }
        }
    }

    /// Ends the family the token belongs to, whichever generation it is.
    pub async fn revoke(&self, storage: &Storage, presented: &str) -> AuthResult<()> {
        if let Some((id, _, _)) = parse(presented) {
            if let Some(f) = storage.family(id).await? {
                if !f.revoked {
                    storage.revoke_family(f.id).await?;
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_format_round_trips_and_rejects_junk() {
        let id = Uuid::new_v4();
        let (secret, h) = new_secret();
        let t = token(id, 7, &secret);
        assert_eq!(parse(&t), Some((id, 7, secret.as_str())));
        assert_eq!(hash(&secret), h);
        for junk in [
            "",
            "x",
            "a.b.c",
            &format!("{}.x.s", id.simple()),
            &format!("{}.1.", id.simple()),
        ] {
            assert_eq!(parse(junk), None, "{junk:?}");
        }
    }
}
