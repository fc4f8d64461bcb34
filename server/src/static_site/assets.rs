//! The app's files, read once at start and served from memory.
//!
//! Per-request disk I/O costs about 3x against nginx on this machine (TOOLCHAIN.md), and a
//! Trunk `dist/` is a few hundred KB, so every file and its `.br`/`.gz` siblings become `Bytes`
//! at start. Only regular files under the canonical root exist afterwards: a symlink whose
//! target leaves the root is skipped, so no request can ever read outside it.
use std::{
    collections::HashMap,
    path::{Path, PathBuf},
};

use anyhow::Context;
use axum::http::HeaderValue;
use base64::Engine;
use bytes::Bytes;
use sha2::{Digest, Sha256};

use super::{cache_policy, encoding::Encoding};

/// One encoding of a file: its bytes and the headers that depend on them.
#[derive(Debug)]
pub struct Representation {
    pub bytes: Bytes,
    /// Strong, from the content hash: equal bytes give equal tags across restarts and replicas.
    pub etag: headers::ETag,
    pub etag_header: HeaderValue,
    pub content_length: HeaderValue,
}

impl Representation {
    fn new(bytes: Bytes) -> Self {
        let digest = Sha256::digest(&bytes);
        let tag = format!(
            "\"{}\"",
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(&digest[..18])
        );
        Representation {
            etag: tag
                .parse()
                .expect("a quoted base64url string is a valid entity tag"),
            etag_header: HeaderValue::from_str(&tag).expect("base64url is a valid header value"),
            content_length: HeaderValue::from(bytes.len()),
            bytes,
        }
    }
}

/// A file with its precompressed siblings, if the build wrote them.
#[derive(Debug)]
pub struct Asset {
    pub content_type: HeaderValue,
    pub cache_control: HeaderValue,
    pub identity: Representation,
    pub br: Option<Representation>,
    pub gzip: Option<Representation>,
}

impl Asset {
    pub fn representation(&self, encoding: Encoding) -> &Representation {
        match encoding {
            Encoding::Brotli => self.br.as_ref().unwrap_or(&self.identity),
            Encoding::Gzip => self.gzip.as_ref().unwrap_or(&self.identity),
            Encoding::Identity => &self.identity,
        }
    }
}

/// Every servable file, by root-relative key (`index.html`, `snippets/x/a.js`).
#[derive(Debug)]
pub struct Assets {
    files: HashMap<String, Asset>,
}

impl Assets {
    /// Reads `dir` recursively. Fails when it has no `index.html`.
    pub fn load(dir: &Path) -> anyhow::Result<Assets> {
        let root = dir.canonicalize().with_context(|| {
            format!(
                "cannot open {}: build the app first (cargo xtask dev builds both)",
                dir.display()
            )
        })?;
        let mut raw: HashMap<String, Bytes> = HashMap::new();
        let walker = walkdir::WalkDir::new(&root)
            .follow_links(true)
            .into_iter()
            .filter_entry(|e| stays_inside(&root, e));
        for entry in walker {
            let entry = match entry {
                Ok(e) => e,
                Err(e) => {
                    // Symlink loops and unreadable dirs: skip them, they can't be app files.
                    tracing::warn!(error = %e, "skipping an entry of the static root");
                    continue;
                }
            };
            if !entry.file_type().is_file() {
                continue;
            }
            let Some(key) = key_for(&root, entry.path()) else {
                tracing::warn!(path = %entry.path().display(), "skipping a file whose name can't be requested");
                continue;
            };
            let bytes = std::fs::read(entry.path())
                .with_context(|| format!("cannot read {}", entry.path().display()))?;
            raw.insert(key, Bytes::from(bytes));
        }
        anyhow::ensure!(
            raw.contains_key("index.html"),
            "{} has no index.html: build the app first (cargo xtask dev builds both)",
            dir.display()
        );

        let sibling_of = |key: &str, suffix: &str| {
            key.strip_suffix(suffix)
                .filter(|base| raw.contains_key(*base))
                .map(str::to_owned)
        };
        let mut files = HashMap::new();
        for (key, bytes) in &raw {
            // A `.br`/`.gz` next to its original is only served as that file's encoding.
            if sibling_of(key, ".br").is_some() || sibling_of(key, ".gz").is_some() {
                continue;
            }
            let asset = Asset {
                content_type: content_type(key),
                cache_control: cache_policy::for_path(key),
                identity: Representation::new(bytes.clone()),
                br: raw
                    .get(&format!("{key}.br"))
                    .cloned()
                    .map(Representation::new),
                gzip: raw
                    .get(&format!("{key}.gz"))
                    .cloned()
                    .map(Representation::new),
            };
            files.insert(key.clone(), asset);
        }
        Ok(Assets { files })
    }

    pub fn get(&self, key: &str) -> Option<&Asset> {
        self.files.get(key)
    }

    pub fn index(&self) -> &Asset {
        self.files
            .get("index.html")
            .expect("load() checked that index.html exists")
    }

    pub fn len(&self) -> usize {
        self.files.len()
    }

    pub fn is_empty(&self) -> bool {
        self.files.is_empty()
    }

    pub fn total_bytes(&self) -> usize {
        self.files
            .values()
            .map(|a| {
                a.identity.bytes.len()
                    + a.br.as_ref().map_or(0, |r| r.bytes.len())
                    + a.gzip.as_ref().map_or(0, |r| r.bytes.len())
            })
            .sum()
    }
}

/// Symlinks are followed only while their target stays under the root.
fn stays_inside(root: &Path, entry: &walkdir::DirEntry) -> bool {
    if !entry.path_is_symlink() {
        return true;
    }
    match entry.path().canonicalize() {
        Ok(target) if target.starts_with(root) => true,
        _ => {
            tracing::warn!(path = %entry.path().display(), "skipping a symlink that leaves the static root");
            false
        }
    }
}

/// The request key for a file, or `None` when no valid request path can name it.
fn key_for(root: &Path, path: &Path) -> Option<String> {
    let rel: PathBuf = path.strip_prefix(root).ok()?.to_path_buf();
    let parts: Option<Vec<&str>> = rel.components().map(|c| c.as_os_str().to_str()).collect();
    let parts = parts?;
    if parts
        .iter()
        .any(|p| p.is_empty() || p.contains('\\') || p.chars().any(char::is_control))
    {
        return None;
    }
    Some(parts.join("/"))
}

fn content_type(key: &str) -> HeaderValue {
    let mime = if key.ends_with(".wasm") {
        // Browsers only compile a module streamed with this exact type.
        "application/wasm"
    } else {
        mime_guess::from_path(key)
            .first_raw()
            .unwrap_or("application/octet-stream")
    };
    let textual = mime.starts_with("text/")
        || matches!(
            mime,
            "application/javascript"
                | "application/json"
                | "image/svg+xml"
                | "application/manifest+json"
        );
    let value = if textual {
        format!("{mime}; charset=utf-8")
    } else {
        mime.to_owned()
    };
    HeaderValue::from_str(&value).expect("mime types are valid header values")
}
