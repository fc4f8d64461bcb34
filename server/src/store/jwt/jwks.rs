//! One issuer's public keys: from a file (read once) or a URL (fetched, cached, and fetched again
//! when a token names a `kid` we don't have, at most once per `MIN_REFETCH`).
use std::{
    net::SocketAddr,
    sync::Arc,
    time::{Duration, Instant},
};

use jsonwebtoken::{
    jwk::{AlgorithmParameters, EllipticCurve, Jwk, JwkSet},
    Algorithm, DecodingKey,
};
use parking_lot::RwLock;

/// A flood of tokens with made-up `kid`s must not turn into a flood of JWKS fetches.
const MIN_REFETCH: Duration = Duration::from_secs(10);
/// Until the first fetch succeeds (the issuer may start after us, as in `sa-server dev`), retry
/// sooner: no key is cached, so every request fails until then anyway.
const MIN_RETRY_UNFETCHED: Duration = Duration::from_secs(1);
/// Keys removed from the issuer's JWKS stop working after at most this long.
const MAX_KEY_AGE: Duration = Duration::from_secs(15 * 60);
const FETCH_TIMEOUT: Duration = Duration::from_secs(5);

pub struct Key {
    kid: Option<String>,
    alg: Option<Algorithm>,
    curve: Option<EllipticCurve>,
    pub key: DecodingKey,
}

impl Key {
    fn from_jwk(jwk: &Jwk) -> Option<Key> {
        let curve = match &jwk.algorithm {
            AlgorithmParameters::EllipticCurve(p) => Some(p.curve.clone()),
            AlgorithmParameters::RSA(_) => None,
            // Symmetric keys never verify anything here, and other kinds we don't support.
            _ => return None,
        };
        let alg = match jwk.common.key_algorithm {
            Some(a) => Some(a.to_string().parse::<Algorithm>().ok()?),
            None => None,
        };
        let key = DecodingKey::from_jwk(jwk).ok()?;
        Some(Key {
            kid: jwk.common.key_id.clone(),
            alg,
            curve,
            key,
        })
    }

    /// Whether this key may verify a token signed with `alg`: same family, same curve, and the
    /// JWK's own `alg` when it states one.
    fn fits(&self, alg: Algorithm) -> bool {
        if self.alg.is_some_and(|a| a != alg) || !self.key.family().algorithms().contains(&alg) {
            return false;
        }
        match (&self.curve, alg) {
            (Some(EllipticCurve::P256), Algorithm::ES256)
            | (Some(EllipticCurve::P384), Algorithm::ES384) => true,
            (Some(_), _) => false,
            (None, _) => true,
        }
    }
}

pub fn parse_set(text: &str) -> anyhow::Result<Vec<Key>> {
    let set: JwkSet = serde_json::from_str(text).map_err(|e| anyhow::anyhow!("not a JWKS: {e}"))?;
    Ok(set.keys.iter().filter_map(Key::from_jwk).collect())
}

pub enum Lookup {
    Found(Arc<Vec<Key>>, usize),
    UnknownKid,
    /// The kid exists but its key is for another algorithm.
    AlgorithmMismatch,
    /// The JWKS has never been fetched successfully.
    Unavailable(String),
}

struct Remote {
    url: String,
    host_header: Option<String>,
    client: reqwest::Client,
    /// When we last tried to fetch, and when we last succeeded.
    attempts: tokio::sync::Mutex<(Option<Instant>, Option<Instant>)>,
}

pub struct KeySet {
    keys: RwLock<Arc<Vec<Key>>>,
    remote: Option<Remote>,
}

impl KeySet {
    pub fn fixed(keys: Vec<Key>) -> KeySet {
        KeySet {
            keys: RwLock::new(Arc::new(keys)),
            remote: None,
        }
    }

    /// `connect_to` sends the request to that address with the URL's host in the `Host` header.
    pub fn remote(
        url: &str,
        connect_to: Option<SocketAddr>,
        client: reqwest::Client,
    ) -> anyhow::Result<KeySet> {
        let parsed =
            reqwest::Url::parse(url).map_err(|e| anyhow::anyhow!("bad JWKS URL {url:?}: {e}"))?;
        let (url, host_header) = match connect_to {
            Some(addr) => {
                let host = match parsed.port() {
                    Some(p) => format!("{}:{p}", parsed.host_str().unwrap_or_default()),
                    None => parsed.host_str().unwrap_or_default().to_string(),
                };
                let mut direct = parsed.clone();
                let _ = direct.set_ip_host(addr.ip());
                let _ = direct.set_port(Some(addr.port()));
                (direct.to_string(), Some(host))
            }
            None => (parsed.to_string(), None),
        };
        Ok(KeySet {
            keys: RwLock::new(Arc::new(Vec::new())),
            remote: Some(Remote {
                url,
                host_header,
                client,
                attempts: tokio::sync::Mutex::new((None, None)),
            }),
        })
    }

    fn find(keys: &[Key], kid: Option<&str>, alg: Algorithm) -> Result<usize, bool> {
        let mut kid_seen = false;
        for (i, k) in keys.iter().enumerate() {
            if kid.is_some() && k.kid.as_deref() != kid {
                continue;
            }
            kid_seen = true;
            if k.fits(alg) {
                return Ok(i);
            }
        }
        Err(kid_seen)
    }

    pub async fn lookup(&self, kid: Option<&str>, alg: Algorithm) -> Lookup {
        let keys = self.keys.read().clone();
        let found = Self::find(&keys, kid, alg);
        let Some(remote) = &self.remote else {
            return match found {
                Ok(i) => Lookup::Found(keys, i),
                Err(true) => Lookup::AlgorithmMismatch,
                Err(false) => Lookup::UnknownKid,
            };
        };
        let stale = {
            let a = remote.attempts.lock().await;
            a.1.is_none_or(|ok| ok.elapsed() > MAX_KEY_AGE)
        };
        if let (Ok(i), false) = (found, stale) {
            return Lookup::Found(keys, i);
        }
        let error = self.refetch(remote).await;
        let keys = self.keys.read().clone();
        match Self::find(&keys, kid, alg) {
            Ok(i) => Lookup::Found(keys, i),
            Err(true) => Lookup::AlgorithmMismatch,
            Err(false) => match error {
                Some(e) if keys.is_empty() => Lookup::Unavailable(e),
                _ => Lookup::UnknownKid,
            },
        }
    }

    /// Fetches the JWKS unless another fetch happened within `MIN_REFETCH`. Returns the error of
    /// a failed fetch.
    async fn refetch(&self, remote: &Remote) -> Option<String> {
        let mut attempts = remote.attempts.lock().await;
        let interval = if attempts.1.is_some() {
            MIN_REFETCH
        } else {
            MIN_RETRY_UNFETCHED
        };
        if attempts.0.is_some_and(|t| t.elapsed() < interval) {
            return if attempts.1.is_none() {
                Some("the issuer's JWKS could not be fetched recently".into())
            } else {
                None
            };
        }
        attempts.0 = Some(Instant::now());
        match self.fetch(remote).await {
            Ok(keys) => {
                tracing::info!(url = %remote.url, keys = keys.len(), "fetched JWKS");
                *self.keys.write() = Arc::new(keys);
                attempts.1 = Some(Instant::now());
                None
            }
            Err(e) => {
                tracing::warn!(url = %remote.url, error = %e, "JWKS fetch failed");
                Some(e)
            }
        }
    }

    async fn fetch(&self, remote: &Remote) -> Result<Vec<Key>, String> {
        let mut req = remote.client.get(&remote.url).timeout(FETCH_TIMEOUT);
        if let Some(h) = &remote.host_header {
            req = req.header(reqwest::header::HOST, h);
        }
        let res = req
            .send()
            .await
            .map_err(|e| format!("GET {}: {}", remote.url, chain(&e)))?;
        if !res.status().is_success() {
            return Err(format!("GET {} answered {}", remote.url, res.status()));
        }
        let text = res
            .text()
            .await
            .map_err(|e| format!("GET {}: {e}", remote.url))?;
        parse_set(&text).map_err(|e| format!("{}: {e}", remote.url))
    }
}

/// An error with its causes ("error sending request" alone says little).
fn chain(e: &dyn std::error::Error) -> String {
    let mut out = e.to_string();
    let mut cause = e.source();
    while let Some(c) = cause {
        out.push_str(": ");
        out.push_str(&c.to_string());
        cause = c.source();
    }
    out
}

/// Resolves `*.localhost` to loopback, as browsers do; the system resolver here does not.
struct LocalhostResolver;

impl reqwest::dns::Resolve for LocalhostResolver {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let host = name.as_str().trim_end_matches('.').to_ascii_lowercase();
        Box::pin(async move {
            if host == "localhost" || host.ends_with(".localhost") {
                let addrs: reqwest::dns::Addrs =
                    Box::new(vec![SocketAddr::from(([127, 0, 0, 1], 0))].into_iter());
                return Ok(addrs);
            }
            let found: Vec<SocketAddr> =
                tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            let addrs: reqwest::dns::Addrs = Box::new(found.into_iter());
            Ok(addrs)
        })
    }
}

pub fn http_client() -> anyhow::Result<reqwest::Client> {
    reqwest::Client::builder()
        .dns_resolver(Arc::new(LocalhostResolver))
        .connect_timeout(Duration::from_secs(3))
        .user_agent(concat!("sa-store/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|e| anyhow::anyhow!("cannot build the JWKS HTTP client: {e}"))
}
