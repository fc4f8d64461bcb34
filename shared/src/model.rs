//! Store messages: what `/api/model` and `/api/info` send and take.
use serde::{Deserialize, Serialize};

/// Answer to `POST /api/model`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ModelCreated {
    pub id: String,
    pub url: String,
}

/// One row of `GET /api/model?view=summary`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ModelSummary {
    pub id: String,
    pub url: String,
    pub name: String,
    /// RFC 3339 UTC time of the last write.
    pub updated: String,
    /// Size of the stored document in bytes.
    pub size: u64,
    pub etag: String,
}

/// A page of `GET /api/model?view=summary&limit=N&after=CURSOR&q=TEXT`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SummaryPage {
    pub items: Vec<ModelSummary>,
    /// Cursor for the next page, `null` on the last one.
    pub next: Option<String>,
    /// Number of models that match the query, across all pages.
    pub total: u64,
}

/// Answer to `GET /api/info`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoreInfo {
    /// `file`, `redis` or `postgres`.
    pub backend: String,
    pub name: String,
    pub version: String,
    /// `v1` or `v2`: the instance's `version` label, which the mesh's subsets select by.
    #[serde(default = "default_subset")]
    pub subset: String,
}

fn default_subset() -> String {
    "v1".into()
}

/// A model's display name: its `name` field when that is a string, otherwise its id.
pub fn display_name(doc: &serde_json::Value, id: &str) -> String {
    match doc.get("name") {
        Some(serde_json::Value::String(s)) => s.clone(),
        _ => id.to_string(),
    }
}

/// A size for people: `512 B`, `1.2 KB`, `3.4 MB` (binary units, one decimal).
pub fn human_size(bytes: u64) -> String {
    match bytes {
        b if b < 1024 => format!("{b} B"),
        b if b < 1024 * 1024 => tenths(b, 1024, "KB"),
        b => tenths(b, 1024 * 1024, "MB"),
    }
}

// Integer arithmetic: float formatting would add kilobytes to the apps' wasm for one decimal.
fn tenths(b: u64, unit: u64, name: &str) -> String {
    let t = (b * 10 + unit / 2) / unit;
    format!("{}.{} {name}", t / 10, t % 10)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn display_name_falls_back_to_id() {
        assert_eq!(display_name(&json!({"name":"Plant"}), "x"), "Plant");
        assert_eq!(display_name(&json!({"name":7}), "x"), "x");
        assert_eq!(display_name(&json!([1]), "x"), "x");
    }

    #[test]
    fn last_page_has_null_cursor() {
        let p = SummaryPage {
            items: vec![],
            next: None,
            total: 0,
        };
        assert_eq!(
            serde_json::to_value(p).unwrap(),
            json!({"items":[],"next":null,"total":0})
        );
    }

    #[test]
    fn sizes_read_as_people_expect() {
        assert_eq!(human_size(0), "0 B");
        assert_eq!(human_size(1023), "1023 B");
        assert_eq!(human_size(1024), "1.0 KB");
        assert_eq!(human_size(1536), "1.5 KB");
        assert_eq!(human_size(10 * 1024 * 1024 + 1), "10.0 MB");
    }
}
