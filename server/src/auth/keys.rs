//! ES256 signing keys: generated at first start, rotated on demand, published as a JWKS.
//!
//! Layout in `DATA/keys/` (directory 0700, files 0600):
//! - `keys.json`: every key with the time it starts signing (`activates`);
//! - `KID.key.pem`: the PKCS#8 private key, while the key signs or is about to;
//! - `KID.jwk.json`: the public JWK, kept so the JWKS can list a retired key until every token it
//!   signed has expired.
//!
//! A rotation publishes the new key at once but lets it sign only from `activates` on. Verifiers
//! cache the JWKS (Istio's istiod refreshes it every 20 minutes by default, the store refetches
//! at most every 10 seconds), so a key that signed the moment it was made would have its first
//! tokens refused. The key that signed before is retired when its successor activates; it stays
//! published for the longest token lifetime plus clock skew after that, then leaves the JWKS.
//!
//! `sa-server auth rotate-key` edits these files while the service runs; the service notices the
//! changed manifest (see [`KeyRing::reload_if_changed`]).
use std::{
    path::{Path, PathBuf},
    sync::{Arc, RwLock},
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
/// Default delay between `rotate-key` and the new key's first signature: longer than istiod's
/// default JWKS refresh interval (20 min), so the mesh knows the key before it sees a token.
pub const DEFAULT_ACTIVATE_IN: u64 = 30 * 60;

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
struct Manifest {
    keys: Vec<KeyEntry>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
struct KeyEntry {
    kid: String,
    /// Unix seconds.
    created: i64,
    /// Unix seconds from which this key signs (until a later key activates). Missing in
    /// manifests of the first version, where the newest key signed: 0 gives the same answer.
    #[serde(default)]
    activates: i64,
}

impl Manifest {
    /// The key that signs at `t`: the latest one already activated.
    fn signing_at(&self, t: i64) -> Option<&KeyEntry> {
        self.keys
            .iter()
            .filter(|k| k.activates <= t)
            .max_by_key(|k| (k.activates, k.created))
    }

    /// When `key` stopped signing (its successor's activation), if it has.
    fn retired_at(&self, key: &KeyEntry) -> Option<i64> {
        self.keys
            .iter()
            .filter(|k| (k.activates, k.created) > (key.activates, key.created))
            .map(|k| k.activates)
            .min()
    }
}

pub fn keys_dir(data_dir: &Path) -> PathBuf {
    data_dir.join("keys")
}

/// Creates the first key (signing at once) when the data dir has none. Returns whether it did.
pub fn ensure(data_dir: &Path) -> anyhow::Result<bool> {
    let dir = keys_dir(data_dir);
    if dir.join(MANIFEST).exists() {
        return Ok(false);
    }
    create_private_dir(&dir)
        .with_context(|| format!("cannot create the key directory {}", dir.display()))?;
    let kid = generate(&dir)?;
    let t = now();
    write_manifest(
        &dir,
        &Manifest {
            keys: vec![KeyEntry {
                kid,
                created: t,
                activates: t,
            }],
        },
    )?;
    Ok(true)
}

/// What a rotation did.
#[derive(Clone, Debug)]
pub struct Rotation {
    pub kid: String,
    /// Unix seconds from which the new key signs.
    pub activates: i64,
}

/// Adds a new key, published now and signing `activate_in_secs` from now; the current key
/// signs until then. Private keys of keys that no longer sign are deleted.
pub fn rotate(data_dir: &Path, activate_in_secs: u64) -> anyhow::Result<Rotation> {
    ensure(data_dir)?;
    let dir = keys_dir(data_dir);
    let mut manifest = read_manifest(&dir)?;
    let kid = generate(&dir)?;
    let t = now();
    let activates = t + activate_in_secs as i64;
    manifest.keys.push(KeyEntry {
        kid: kid.clone(),
        created: t,
        activates,
    });
    write_manifest(&dir, &manifest)?;
    // Only after the manifest names the new key: a crash before this point leaves an unused key
    // file behind, never a manifest whose signing key has no private half.
    remove_superseded_private_keys(&dir, &manifest, t);
    Ok(Rotation { kid, activates })
}

/// A key whose successor has activated never signs again: its private half goes.
fn remove_superseded_private_keys(dir: &Path, manifest: &Manifest, t: i64) {
    for k in &manifest.keys {
        if manifest.retired_at(k).is_some_and(|r| r <= t) {
            let path = dir.join(format!("{}.key.pem", k.kid));
            if path.exists() {
                match std::fs::remove_file(&path) {
                    Ok(()) => {
                        tracing::info!(kid = %k.kid, "retired signing key: private key deleted")
                    }
                    Err(e) => {
                        tracing::warn!(kid = %k.kid, error = %e, "cannot delete a retired private key")
                    }
                }
            }
        }
    }
}

fn generate(dir: &Path) -> anyhow::Result<String> {
    use p256::pkcs8::{EncodePrivateKey, LineEnding};
    let secret = p256::SecretKey::random(&mut rand::rngs::OsRng);
    let pem = secret
        .to_pkcs8_pem(LineEnding::LF)
        .context("cannot encode the new key")?;
    let encoding = EncodingKey::from_ec_pem(pem.as_bytes()).context("cannot load the new key")?;
    let mut jwk =
        Jwk::from_encoding_key(&encoding, ALGORITHM).context("cannot derive the public JWK")?;
    // RFC 7638 thumbprint: stable, derived from the key itself, nothing to keep in sync.
    let kid = jwk
        .thumbprint(ThumbprintHash::SHA256)
        .context("cannot compute the key thumbprint")?;
    jwk.common.key_id = Some(kid.clone());
    jwk.common.public_key_use = Some(PublicKeyUse::Signature);
    write_private_atomic(&dir.join(format!("{kid}.key.pem")), pem.as_bytes())?;
    write_private_atomic(
        &dir.join(format!("{kid}.jwk.json")),
        &serde_json::to_vec_pretty(&jwk)?,
    )?;
    Ok(kid)
}

fn read_manifest(dir: &Path) -> anyhow::Result<Manifest> {
    let path = dir.join(MANIFEST);
    let bytes = std::fs::read(&path).with_context(|| format!("cannot read {}", path.display()))?;
    serde_json::from_slice(&bytes)
        .with_context(|| format!("{} is not a valid key manifest", path.display()))
}

fn write_manifest(dir: &Path, m: &Manifest) -> anyhow::Result<()> {
    let path = dir.join(MANIFEST);
    write_private_atomic(&path, &serde_json::to_vec_pretty(m)?)
        .with_context(|| format!("cannot write {}", path.display()))
}

fn now() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

struct Key {
    entry: KeyEntry,
    jwk: Jwk,
    decoding: DecodingKey,
    /// Present while the key signs or will sign.
    encoding: Option<EncodingKey>,
}

struct Loaded {
    /// Identifies the manifest file version these keys came from.
    stamp: Option<(SystemTime, u64)>,
    manifest: Manifest,
    keys: Vec<Key>,
}

impl Loaded {
    fn signing(&self, t: i64) -> Option<&Key> {
        let entry = self.manifest.signing_at(t)?;
        self.keys.iter().find(|k| k.entry.kid == entry.kid)
    }
}

/// The JWKS as served: JSON bytes and their strong ETag.
pub struct JwksDocument {
    pub body: bytes::Bytes,
    pub etag: String,
}

/// The keys in memory: the one that signs and the public keys that verify.
pub struct KeyRing {
    dir: PathBuf,
    clock: crate::clock::Clock,
    /// How long a retired key stays published: the longest token lifetime plus clock skew.
    retention: i64,
    loaded: RwLock<Loaded>,
    /// The serialized JWKS for the set of kids it was built from.
    jwks_cache: RwLock<Option<(Vec<String>, Arc<JwksDocument>)>>,
}

impl KeyRing {
    pub fn open(
        data_dir: &Path,
        retention_secs: u64,
        clock: crate::clock::Clock,
    ) -> anyhow::Result<KeyRing> {
        ensure(data_dir)?;
        let dir = keys_dir(data_dir);
        let loaded = load(&dir, clock.now())?;
        Ok(KeyRing {
            dir,
            clock,
            retention: retention_secs as i64,
            loaded: RwLock::new(loaded),
            jwks_cache: RwLock::new(None),
        })
    }

    /// Re-reads the keys when the manifest changed on disk (after `rotate-key`), and deletes
    /// private keys that will never sign again.
    pub fn reload_if_changed(&self) -> anyhow::Result<bool> {
        let stamp = manifest_stamp(&self.dir);
        let changed = stamp != self.read().stamp;
        if changed {
            let loaded = load(&self.dir, self.clock.now())?;
            *self.loaded.write().unwrap_or_else(|p| p.into_inner()) = loaded;
        }
        let l = self.read();
        let t = self.clock.now();
        if l.keys.iter().any(|k| {
            k.encoding.is_some() && l.manifest.retired_at(&k.entry).is_some_and(|r| r <= t)
        }) {
            remove_superseded_private_keys(&self.dir, &l.manifest, t);
            drop(l);
            let loaded = load(&self.dir, self.clock.now())?;
            *self.loaded.write().unwrap_or_else(|p| p.into_inner()) = loaded;
        }
        Ok(changed)
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, Loaded> {
        self.loaded.read().unwrap_or_else(|p| p.into_inner())
    }

    /// Signs `claims` with the key that signs now, naming it in the header's `kid`.
    pub fn sign<T: Serialize>(&self, claims: &T) -> anyhow::Result<String> {
        let l = self.read();
        let key = l
            .signing(self.clock.now())
            .context("no signing key is active")?;
        let encoding = key
            .encoding
            .as_ref()
            .with_context(|| format!("the private key of {} is missing", key.entry.kid))?;
        let mut header = jsonwebtoken::Header::new(ALGORITHM);
        header.kid = Some(key.entry.kid.clone());
        Ok(jsonwebtoken::encode(&header, claims, encoding)?)
    }

    /// The `kid` of the key that signs now.
    pub fn active_kid(&self) -> String {
        self.read()
            .signing(self.clock.now())
            .map(|k| k.entry.kid.clone())
            .unwrap_or_default()
    }

    /// Published: not yet signing, signing, or retired for less than the retention time.
    fn published(&self, manifest: &Manifest, k: &KeyEntry, t: i64) -> bool {
        manifest
            .retired_at(k)
            .is_none_or(|r| t < r + self.retention)
    }

    fn published_keys(&self, t: i64) -> Vec<(String, Jwk, DecodingKey)> {
        let l = self.read();
        l.keys
            .iter()
            .filter(|k| self.published(&l.manifest, &k.entry, t))
            .map(|k| (k.entry.kid.clone(), k.jwk.clone(), k.decoding.clone()))
            .collect()
    }

    /// The public key with this `kid`, if it is still published.
    pub fn decoding_key(&self, kid: &str) -> Option<DecodingKey> {
        let t = self.clock.now();
        let l = self.read();
        l.keys
            .iter()
            .find(|k| k.entry.kid == kid && self.published(&l.manifest, &k.entry, t))
            .map(|k| k.decoding.clone())
    }

    /// The JWKS: keys about to sign, the signing key, and retired keys whose tokens may live.
    pub fn jwks(&self) -> JwkSet {
        JwkSet {
            keys: self
                .published_keys(self.clock.now())
                .into_iter()
                .map(|(_, jwk, _)| jwk)
                .collect(),
        }
    }

    /// The JWKS serialized, rebuilt only when the set of published keys changes.
    pub fn jwks_document(&self) -> Arc<JwksDocument> {
        let keys = self.published_keys(self.clock.now());
        let kids: Vec<String> = keys.iter().map(|(kid, _, _)| kid.clone()).collect();
        if let Some((cached_kids, doc)) = self
            .jwks_cache
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .as_ref()
        {
            if *cached_kids == kids {
                return doc.clone();
            }
        }
        use base64::Engine;
        use sha2::Digest;
        let set = JwkSet {
            keys: keys.into_iter().map(|(_, jwk, _)| jwk).collect(),
        };
        let body = serde_json::to_vec(&set).unwrap_or_else(|_| b"{\"keys\":[]}".to_vec());
        let digest = sha2::Sha256::digest(&body);
        let etag = format!(
            "\"{}\"",
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(&digest[..16])
        );
        let doc = Arc::new(JwksDocument {
            body: body.into(),
            etag,
        });
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

fn load(dir: &Path, t: i64) -> anyhow::Result<Loaded> {
    let stamp = manifest_stamp(dir);
    let manifest = read_manifest(dir)?;
    let signing = manifest
        .signing_at(t)
        .map(|k| k.kid.clone())
        .context("the key manifest has no key that signs now")?;
    let mut keys = Vec::new();
    for entry in &manifest.keys {
        let path = dir.join(format!("{}.jwk.json", entry.kid));
        let retired = manifest.retired_at(entry).is_some_and(|r| r <= t);
        let jwk: Jwk = match std::fs::read(&path)
            .map_err(anyhow::Error::from)
            .and_then(|b| Ok(serde_json::from_slice(&b)?))
        {
            Ok(j) => j,
            Err(e) if retired => {
                tracing::warn!(kid = %entry.kid, error = %e, "retired public key unreadable; leaving it out of the JWKS");
                continue;
            }
            Err(e) => {
                return Err(e.context(format!("cannot read the public key {}", path.display())))
            }
        };
        let decoding = DecodingKey::from_jwk(&jwk)
            .with_context(|| format!("{} is not a usable JWK", path.display()))?;
        let pem_path = dir.join(format!("{}.key.pem", entry.kid));
        let encoding = if retired {
            None
        } else {
            let pem = std::fs::read(&pem_path)
                .with_context(|| format!("the private key {} is missing", pem_path.display()))?;
            Some(
                EncodingKey::from_ec_pem(&pem)
                    .with_context(|| format!("{} is not an EC private key", pem_path.display()))?,
            )
        };
        keys.push(Key {
            entry: entry.clone(),
            jwk,
            decoding,
            encoding,
        });
    }
    if !keys.iter().any(|k| k.entry.kid == signing) {
        anyhow::bail!("the signing key {signing} has no readable public key");
    }
    Ok(Loaded {
        stamp,
        manifest,
        keys,
    })
}
