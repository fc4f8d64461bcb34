//! History and change-feed messages: what `/api/model/{id}/versions` and `/api/changes` send.
use serde::{Deserialize, Serialize};

/// The response header of the first page of `GET /api/model?view=summary`: the change feed's
/// cursor as it was just before the page was read. A client that opens `/api/changes?after=`
/// this cursor misses no write made after its list, even one that landed before the feed was
/// open; the few it already shows come again, and are no-ops.
pub const FEED_CURSOR_HEADER: &str = "feed-cursor";

/// What a write did to a model.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Op {
    Created,
    Updated,
    Deleted,
    Restored,
}

impl Op {
    pub fn as_str(self) -> &'static str {
        match self {
            Op::Created => "created",
            Op::Updated => "updated",
            Op::Deleted => "deleted",
            Op::Restored => "restored",
        }
    }

    pub fn parse(s: &str) -> Option<Op> {
        [Op::Created, Op::Updated, Op::Deleted, Op::Restored]
            .into_iter()
            .find(|o| o.as_str() == s)
    }
}

/// Who made a write: the `sub` and `name` of the token that carried it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Author {
    pub sub: String,
    pub name: String,
}

/// One kept version of a model (`GET /api/model/{id}/versions`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Version {
    /// The ETag of the document this write left (for `deleted`: the document it removed).
    pub etag: String,
    /// RFC 3339 UTC time of the write.
    pub updated: String,
    pub by: Author,
    /// Size in bytes of the document this version holds.
    pub size: u64,
    pub op: Op,
}

/// A page of `GET /api/model/{id}/versions?limit=N&after=CURSOR`, newest first.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct VersionPage {
    pub items: Vec<Version>,
    /// Cursor for the next page, `null` on the last one.
    pub next: Option<String>,
}

/// The data of one `event: change` of `GET /api/changes`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Change {
    /// Opaque; the same string as the event's `id:`, to resume after this event.
    pub cursor: String,
    /// The model's id.
    pub id: String,
    /// The quoted ETag the write left, as the `ETag` header spells it.
    pub etag: String,
    pub op: Op,
    pub by: Author,
    /// RFC 3339 UTC time of the write.
    pub updated: String,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn wire_shapes() {
        let v = Version {
            etag: "abc".into(),
            updated: "2026-12-01T09:00:00Z".into(),
            by: Author {
                sub: "u1".into(),
                name: "marie".into(),
            },
            size: 12,
            op: Op::Restored,
        };
        assert_eq!(
            serde_json::to_value(&v).unwrap(),
            json!({"etag":"abc","updated":"2026-12-01T09:00:00Z","by":{"sub":"u1","name":"marie"},"size":12,"op":"restored"})
        );
        let page = VersionPage {
            items: vec![],
            next: None,
        };
        assert_eq!(
            serde_json::to_value(page).unwrap(),
            json!({"items":[],"next":null})
        );
        let c: Change = serde_json::from_value(json!({"cursor":"1842","id":"x","etag":"\"e\"","op":"updated","by":{"sub":"s","name":"n"},"updated":"2026-12-01T09:00:00Z"})).unwrap();
        assert_eq!(c.op, Op::Updated);
        assert_eq!(Op::parse("deleted"), Some(Op::Deleted));
        assert_eq!(Op::parse("nope"), None);
    }
}
