//! argon2id password hashing, off the async threads and with bounded parallelism.
use std::sync::{
    atomic::{AtomicU64, Ordering},
    Arc,
};

use argon2::{
    password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString},
    Algorithm, Argon2, Params, Version,
};
use tokio::sync::Semaphore;

use super::error::{AuthError, AuthResult};

/// argon2id cost. The default is OWASP's recommendation: m = 19456 KiB (19 MiB), t = 2, p = 1.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Cost {
    pub memory_kib: u32,
    pub iterations: u32,
    pub parallelism: u32,
}

impl Default for Cost {
    fn default() -> Self {
        Cost {
            memory_kib: 19456,
            iterations: 2,
            parallelism: 1,
        }
    }
}

impl Cost {
    /// The cheapest cost argon2 accepts, for tests only.
    pub fn fast_for_tests() -> Self {
        Cost {
            memory_kib: 64,
            iterations: 1,
            parallelism: 1,
        }
    }

    fn params(self) -> anyhow::Result<Params> {
        Params::new(self.memory_kib, self.iterations, self.parallelism, None)
            .map_err(|e| anyhow::anyhow!("invalid argon2 parameters {self:?}: {e}"))
    }
}

#[derive(Clone)]
pub struct Passwords {
    argon: Argon2<'static>,
    /// A hash of a random password with the current cost: an unknown user is checked against it so
    /// that "no such user" costs as much time as "wrong password".
    dummy: Arc<str>,
    /// Each hash holds `memory_kib` of RAM; a burst of logins must not hold gigabytes.
    permits: Arc<Semaphore>,
    /// argon2 verifications that ran to the end (for tests: every login must run exactly one).
    verifications: Arc<AtomicU64>,
}

impl Passwords {
    pub fn new(cost: Cost) -> anyhow::Result<Passwords> {
        let argon = Argon2::new(Algorithm::Argon2id, Version::V0x13, cost.params()?);
        let dummy = hash_blocking(&argon, &uuid::Uuid::new_v4().to_string())?;
        let parallel = std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(2)
            * 2;
        Ok(Passwords {
            argon,
            dummy: dummy.into(),
            permits: Arc::new(Semaphore::new(parallel)),
            verifications: Arc::default(),
        })
    }

    pub async fn hash(&self, password: String) -> AuthResult<String> {
        let _permit = self
            .permits
            .acquire()
            .await
            .map_err(|e| AuthError::internal(e.to_string()))?;
        let argon = self.argon.clone();
        tokio::task::spawn_blocking(move || hash_blocking(&argon, &password))
            .await
            .map_err(|e| AuthError::internal(e.to_string()))?
            .map_err(|e| AuthError::internal(e.to_string()))
    }

    /// Whether `password` matches `hash`; with `None` (unknown user) it checks the dummy hash and
    /// answers false, taking the same time.
    pub async fn verify(&self, password: String, hash: Option<String>) -> AuthResult<bool> {
        let _permit = self
            .permits
            .acquire()
            .await
            .map_err(|e| AuthError::internal(e.to_string()))?;
        let argon = self.argon.clone();
        let known = hash.is_some();
        let hash = hash.unwrap_or_else(|| self.dummy.to_string());
        let runs = self.verifications.clone();
        let ok = tokio::task::spawn_blocking(move || match PasswordHash::new(&hash) {
            Ok(parsed) => {
                let ok = argon.verify_password(password.as_bytes(), &parsed).is_ok();
                runs.fetch_add(1, Ordering::Relaxed);
                ok
            }
            Err(_) => false,
        })
        .await
        .map_err(|e| AuthError::internal(e.to_string()))?;
        Ok(ok && known)
    }

    /// How many argon2 verifications have run.
    pub fn verifications(&self) -> u64 {
        self.verifications.load(Ordering::Relaxed)
    }
}

fn hash_blocking(argon: &Argon2<'_>, password: &str) -> anyhow::Result<String> {
    let salt = SaltString::generate(&mut rand::rngs::OsRng);
    argon
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| anyhow::anyhow!("cannot hash the password: {e}"))
}

/// A random password for generated accounts: 20 characters from an unambiguous alphabet.
pub fn generate() -> String {
    use rand::Rng;
    const ALPHABET: &[u8] = b"abcdefghjkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    let mut rng = rand::rngs::OsRng;
    (0..20)
        .map(|_| ALPHABET[rng.gen_range(0..ALPHABET.len())] as char)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params_of(phc: &str) -> String {
        let h = PasswordHash::new(phc).unwrap();
        format!("{:?} {:?}", h.algorithm, h.params)
    }

    /// "No such user" must cost what "wrong password" costs: both run one argon2 verification,
    /// against hashes with the same algorithm and parameters. Counted, not timed.
    #[tokio::test]
    async fn unknown_users_cost_one_full_verification() {
        let cost = Cost {
            memory_kib: 1024,
            iterations: 1,
            parallelism: 1,
        };
        let p = Passwords::new(cost).unwrap();
        let real = p.hash("the-right-password".into()).await.unwrap();
        assert_eq!(params_of(&real), params_of(&p.dummy));

        let before = p.verifications();
        assert!(!p.verify("wrong".into(), Some(real.clone())).await.unwrap());
        assert_eq!(p.verifications(), before + 1);
        assert!(!p.verify("wrong".into(), None).await.unwrap());
        assert_eq!(p.verifications(), before + 2);
        assert!(p
            .verify("the-right-password".into(), Some(real))
            .await
            .unwrap());
        assert_eq!(p.verifications(), before + 3);
    }
}
