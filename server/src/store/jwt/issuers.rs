//! Trusted issuers, configured like Istio's `jwtRules`.
use std::{net::SocketAddr, path::PathBuf};

use serde::Deserialize;

use crate::store::args::Args;

/// One entry of `--issuers-file` (Istio's camelCase names are accepted too).
#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
pub struct IssuerConfig {
    /// The exact `iss` of this issuer's tokens.
    pub issuer: String,
    /// JWKS fetched over HTTP(S), cached, and fetched again when a token names an unknown `kid`.
    #[serde(default, alias = "jwksUri")]
    pub jwks_uri: Option<String>,
    /// JWKS read once from a file.
    #[serde(default, alias = "jwksFile")]
    pub jwks_file: Option<PathBuf>,
    /// JWKS inline, as a JSON string (Istio's `jwks`).
    #[serde(default)]
    pub jwks: Option<String>,
    /// When not empty, a token's `aud` must name one of these.
    #[serde(default)]
    pub audiences: Vec<String>,
    /// Roles of tokens that carry no `roles` claim. Empty: such tokens get 403.
    #[serde(default, alias = "defaultRoles")]
    pub default_roles: Vec<String>,
    /// Connect here for `jwks_uri` whatever its host resolves to (the dev gateway's listener).
    #[serde(skip)]
    pub connect_to: Option<SocketAddr>,
}

impl IssuerConfig {
    pub fn with_jwks_uri(
        issuer: impl Into<String>,
        jwks_uri: impl Into<String>,
        audiences: Vec<String>,
    ) -> Self {
        IssuerConfig {
            issuer: issuer.into(),
            jwks_uri: Some(jwks_uri.into()),
            jwks_file: None,
            jwks: None,
            audiences,
            default_roles: Vec::new(),
            connect_to: None,
        }
    }

    fn check(&self) -> anyhow::Result<()> {
        let sources = [
            self.jwks_uri.is_some(),
            self.jwks_file.is_some(),
            self.jwks.is_some(),
        ]
        .iter()
        .filter(|s| **s)
        .count();
        if self.issuer.is_empty() {
            anyhow::bail!("an issuer entry has an empty \"issuer\"");
        }
        if sources != 1 {
            anyhow::bail!(
                "issuer {:?} needs exactly one of \"jwks_uri\", \"jwks_file\" or \"jwks\"",
                self.issuer
            );
        }
        Ok(())
    }
}

/// The issuers from `--issuers-file` plus the `--issuer/--jwks-url/--audience` shortcut.
pub fn from_args(args: &Args) -> anyhow::Result<Vec<IssuerConfig>> {
    let mut issuers = Vec::new();
    if let Some(path) = &args.issuers_file {
        let text = std::fs::read_to_string(path)
            .map_err(|e| anyhow::anyhow!("cannot read --issuers-file {}: {e}", path.display()))?;
        let mut list: Vec<IssuerConfig> = serde_json::from_str(&text).map_err(|e| {
            anyhow::anyhow!(
                "--issuers-file {} is not a JSON array of issuers: {e}",
                path.display()
            )
        })?;
        // A relative jwks_file is relative to the issuers file.
        for i in &mut list {
            if let (Some(f), Some(dir)) = (&i.jwks_file, path.parent()) {
                if f.is_relative() {
                    i.jwks_file = Some(dir.join(f));
                }
            }
        }
        issuers.extend(list);
    }
    match (&args.issuer, &args.jwks_url) {
        (Some(iss), Some(jwks)) => issuers.push(IssuerConfig::with_jwks_uri(
            iss,
            jwks,
            args.audience.iter().cloned().collect(),
        )),
        (None, None) => {}
        _ => anyhow::bail!("--issuer and --jwks-url go together"),
    }
    for i in &issuers {
        i.check()?;
    }
    let mut names: Vec<&str> = issuers.iter().map(|i| i.issuer.as_str()).collect();
    names.sort_unstable();
    if names.windows(2).any(|w| w[0] == w[1]) {
        anyhow::bail!("an issuer is configured twice; each issuer needs one entry");
    }
    Ok(issuers)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn istio_style_entries_parse() {
        let v: Vec<IssuerConfig> = serde_json::from_str(r#"[{"issuer":"testing@secure.istio.io","jwksUri":"https://x/jwks.json","defaultRoles":["reader"],"forwardOriginalToken":true},{"issuer":"a","jwks_file":"k.json","audiences":["sa"]}]"#).unwrap();
        assert_eq!(v[0].default_roles, ["reader"]);
        assert_eq!(v[0].jwks_uri.as_deref(), Some("https://x/jwks.json"));
        assert_eq!(v[1].audiences, ["sa"]);
        assert!(v.iter().all(|i| i.check().is_ok()));
        let both = IssuerConfig {
            jwks_file: Some("x".into()),
            ..v[0].clone()
        };
        assert!(both.check().is_err());
    }
}
