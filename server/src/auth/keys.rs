//! ES256 signing keys: generated at first start, rotated on demand, published as a JWKS.
//!
//! Layout in `DATA/keys/` (directory 0700, files 0600):
//! - `keys.json`: which key signs now and when the others were retired;
//! - `KID.key.pem`: the PKCS#8 private key, only for the active key (a retired key never signs
//!   again, so its private half is deleted at rotation);
//! - `KID.jwk.json`: the public JWK, kept so the JWKS can list retired keys until every token they
//!   signed has expired.
//!
//! `sa-server auth rotate-key` edits these files while the service runs; the service notices the
//! changed manifest (see [`KeyRing::reload_if_changed`]).
use std::{
    path::{Path, PathBuf},
    sync::RwLock,
    time::SystemTime,
};

use anyhow::Context;
use jsonwebtoken::{
    jwk::{Jwk, JwkSet, PublicKeyUse, ThumbprintHash},
    Algorithm, DecodingKey, EncodingKey,
};
use serde::{Deserialize, Serialize};

use super::fsutil::{create_private_dir, write_private_atomic};

pub const ALGORITHM: Algorithm = Algorithm::ES256;
const MANIFEST: &str = "keys.json";

#[derive(Clone, Debug, Serialize, Deserialize)]
struct Manifest {
    active: String,
    keys: Vec<KeyEntry>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
struct KeyEntry {
    kid: String,
    /// Unix seconds.
    created: i64,
    /// Unix seconds when this key stopped signing; `None` for the active key.
    retired: Option<i64>,
}

pub fn keys_dir(data_dir: &Path) -> PathBuf {
    data_dir.join("keys")
}

/// Creates the first key when the data dir has none. Returns whether it created one.
pub fn ensure(data_dir: &Path) -> anyhow::Result<bool> {
    let dir = keys_dir(data_dir);
    if dir.join(MANIFEST).exists() {
        return Ok(false);
    }
    create_private_dir(&dir).with_context(|| format!("cannot create the key directory {}", dir.display()))?;
    let kid = generate(&dir)?;
    let manifest = Manifest { active: kid.clone(), keys: vec![KeyEntry { kid, created: now(), retired: None }] };
    write_manifest(&dir, &manifest)?;
    Ok(true)
}

/// Starts a new signing key and retires the active one. Returns the new `kid`.
pub fn rotate(data_dir: &Path) -> anyhow::Result<String> {
    ensure(data_dir)?;
    let dir = keys_dir(data_dir);
    let mut manifest = read_manifest(&dir)?;
    let kid = generate(&dir)?;
    let t = now();
    let old = manifest.active.clone();
    for k in manifest.keys.iter_mut().filter(|k| k.kid == old) {
        k.retired = Some(t);
    }
    manifest.keys.push(KeyEntry { kid: kid.clone(), created: t, retired: None });
    manifest.active = kid.clone();
    write_manifest(&dir, &manifest)?;
    // Only after the manifest names the new key: a crash before this leaves an unused private
    // key behind, never a manifest whose active key has no private half.
    let _ = std::fs::remove_file(dir.join(format!("{old}.key.pem")));
    Ok(kid)
}

fn generate(dir: &Path) -> anyhow::Result<String> {
    use p256::pkcs8::{EncodePrivateKey, LineEnding};
    let secret = p256::SecretKey::random(&mut rand::rngs::OsRng);
    let pem = secret.to_pkcs8_pem(LineEnding::LF).context("cannot encode the new key")?;
    let encoding = EncodingKey::from_ec_pem(pem.as_bytes()).context("cannot load the new key")?;
    let mut jwk = Jwk::from_encoding_key(&encoding, ALGORITHM).context("cannot derive the public JWK")?;
    // RFC 7638 thumbprint: stable, derived from the key itself, nothing to keep in sync.
    let kid = jwk.thumbprint(ThumbprintHash::SHA256).context("cannot compute the key thumbprint")?;
    jwk.common.key_id = Some(kid.clone());
    jwk.common.public_key_use = Some(PublicKeyUse::Signature);
    write_private_atomic(&dir.join(format!("{kid}.key.pem")), pem.as_bytes())?;
    write_private_atomic(&dir.join(format!("{kid}.jwk.json")), &serde_json::to_vec_pretty(&jwk)?)?;
    Ok(kid)
}

fn read_manifest(dir: &Path) -> anyhow::Result<Manifest> {
    let path = dir.join(MANIFEST);
    let bytes = std::fs::read(&path).with_context(|| format!("cannot read {}", path.display()))?;
    serde_json::from_slice(&bytes).with_context(|| format!("{} is not a valid key manifest", path.display()))
}

fn write_manifest(dir: &Path, m: &Manifest) -> anyhow::Result<()> {
    let path = dir.join(MANIFEST);
    write_private_atomic(&path, &serde_json::to_vec_pretty(m)?).with_context(|| format!("cannot write {}", path.display()))
}

fn now() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

struct PublicKey {
    kid: String,
    retired: Option<i64>,
    jwk: Jwk,
    decoding: DecodingKey,
}

struct Loaded {
    /// Identifies the manifest file version these keys came from.
    stamp: Option<(SystemTime, u64)>,
    active_kid: String,
    active: EncodingKey,
    public: Vec<PublicKey>,
}

/// The keys in memory: the one that signs and the public keys that verify.
pub struct KeyRing {
    dir: PathBuf,
    /// How long a retired key stays published: the longest token lifetime plus clock skew.
    retention: i64,
    loaded: RwLock<Loaded>,
    /// The serialized JWKS for the set of kids it was built from.
    jwks_cache: RwLock<Option<(Vec<String>, std::sync::Arc<JwksDocument>)>>,
}

/// The JWKS as served: JSON bytes and their strong ETag.
pub struct JwksDocument {
    pub body: bytes::Bytes,
    pub etag: String,
}

impl KeyRing {
    pub fn open(data_dir: &Path, retention_secs: u64) -> anyhow::Result<KeyRing> {
        ensure(data_dir)?;
        let dir = keys_dir(data_dir);
        let loaded = load(&dir)?;
        Ok(KeyRing { dir, retention: retention_secs as i64, loaded: RwLock::new(loaded), jwks_cache: RwLock::new(None) })
    }

    /// Re-reads the keys when the manifest changed on disk (after `rotate-key`).
    pub fn reload_if_changed(&self) -> anyhow::Result<bool> {
        let stamp = manifest_stamp(&self.dir);
        if stamp == self.read().stamp {
            return Ok(false);
        }
        let loaded = load(&self.dir)?;
        *self.loaded.write().unwrap_or_else(|p| p.into_inner()) = loaded;
        Ok(true)
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, Loaded> {
        self.loaded.read().unwrap_or_else(|p| p.into_inner())
    }

    /// Signs `claims` with the active key, naming it in the header's `kid`.
    pub fn sign<T: Serialize>(&self, claims: &T) -> jsonwebtoken::errors::Result<String> {
        let l = self.read();
        let mut header = jsonwebtoken::Header::new(ALGORITHM);
        header.kid = Some(l.active_kid.clone());
        jsonwebtoken::encode(&header, claims, &l.active)
    }

    pub fn active_kid(&self) -> String {
        self.read().active_kid.clone()
    }

    fn published(&self, k: &PublicKey, now: i64) -> bool {
        k.retired.is_none_or(|r| now < r + self.retention)
    }

    /// The public key with this `kid`, if it is still published.
    pub fn decoding_key(&self, kid: &str) -> Option<DecodingKey> {
        let t = now();
        self.read().public.iter().find(|k| k.kid == kid && self.published(k, t)).map(|k| k.decoding.clone())
    }

    /// The JWKS: the active key and every retired key whose tokens may still be unexpired.
    pub fn jwks(&self) -> JwkSet {
        let t = now();
        JwkSet { keys: self.read().public.iter().filter(|k| self.published(k, t)).map(|k| k.jwk.clone()).collect() }
    }

    /// The JWKS serialized, rebuilt only when the set of published keys changes.
    pub fn jwks_document(&self) -> std::sync::Arc<JwksDocument> {
        let t = now();
        let kids: Vec<String> = self.read().public.iter().filter(|k| self.published(k, t)).map(|k| k.kid.clone()).collect();
        if let Some((cached_kids, doc)) = self.jwks_cache.read().unwrap_or_else(|p| p.into_inner()).as_ref() {
            if *cached_kids == kids {
                return doc.clone();
            }
        }
        use base64::Engine;
        use sha2::Digest;
        let body = serde_json::to_vec(&self.jwks()).unwrap_or_else(|_| b"{\"keys\":[]}".to_vec());
        let digest = sha2::Sha256::digest(&body);
        let etag = format!("\"{}\"", base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(&digest[..16]));
        let doc = std::sync::Arc::new(JwksDocument { body: body.into(), etag });
        *self.jwks_cache.write().unwrap_or_else(|p| p.into_inner()) = Some((kids, doc.clone()));
        doc
    }
}

fn manifest_stamp(dir: &Path) -> Option<(SystemTime, u64)> {
    let meta = std::fs::metadata(dir.join(MANIFEST)).ok()?;
    #[cfg(unix)]
    let ino = std::os::unix::fs::MetadataExt::ino(&meta);
    #[cfg(not(unix))]
    let ino = meta.len();
    Some((meta.modified().ok()?, ino))
}

fn load(dir: &Path) -> anyhow::Result<Loaded> {
    let stamp = manifest_stamp(dir);
    let manifest = read_manifest(dir)?;
    let pem_path = dir.join(format!("{}.key.pem", manifest.active));
    let pem = std::fs::read(&pem_path).with_context(|| format!("the active signing key {} is missing", pem_path.display()))?;
    let active = EncodingKey::from_ec_pem(&pem).with_context(|| format!("{} is not an EC private key", pem_path.display()))?;
    let mut public = Vec::new();
    for entry in &manifest.keys {
        let path = dir.join(format!("{}.jwk.json", entry.kid));
        let jwk: Jwk = match std::fs::read(&path).map_err(anyhow::Error::from).and_then(|b| Ok(serde_json::from_slice(&b)?)) {
            Ok(j) => j,
            Err(e) if entry.retired.is_some() => {
                tracing::warn!(kid = %entry.kid, error = %e, "retired public key unreadable; leaving it out of the JWKS");
                continue;
            }
            Err(e) => return Err(e.context(format!("cannot read the public key {}", path.display()))),
        };
        let decoding = DecodingKey::from_jwk(&jwk).with_context(|| format!("{} is not a usable JWK", path.display()))?;
        public.push(PublicKey { kid: entry.kid.clone(), retired: entry.retired, jwk, decoding });
    }
    Ok(Loaded { stamp, active_kid: manifest.active, active, public })
}
