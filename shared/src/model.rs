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
}

/// A model's display name: its `name` field when that is a string, otherwise its id.
pub fn display_name(doc: &serde_json::Value, id: &str) -> String {
    match doc.get("name") {
        Some(serde_json::Value::String(s)) => s.clone(),
        _ => id.to_string(),
    }
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
        let p = SummaryPage { items: vec![], next: None, total: 0 };
        assert_eq!(serde_json::to_value(p).unwrap(), json!({"items":[],"next":null,"total":0}));
    }
}
