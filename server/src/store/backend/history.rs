//! What every backend keeps besides the models: versions, deleted models, and the change feed.
//!
//! A change cursor orders the writes of one store. It is also the key of the version the write
//! made, so a model's versions page by cursor too. PostgreSQL and the file store count with an
//! integer (`hi`); Redis uses its stream ids (`hi-lo`).
use std::{fmt, time::Duration};

use sa_shared::history::{Author, Op};
use time::OffsetDateTime;
use uuid::Uuid;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Cursor {
    pub hi: u64,
    /// Only on Redis: the sequence part of a stream id.
    pub lo: Option<u64>,
}

impl Cursor {
    pub fn int(n: u64) -> Cursor {
        Cursor { hi: n, lo: None }
    }

    /// `n` or `hi-lo`; anything else is not a cursor.
    pub fn parse(s: &str) -> Option<Cursor> {
        let digits = |p: &str| -> Option<u64> {
            (!p.is_empty() && p.len() <= 20 && p.bytes().all(|b| b.is_ascii_digit()))
                .then(|| p.parse().ok())
                .flatten()
        };
        match s.split_once('-') {
            None => Some(Cursor::int(digits(s)?)),
            Some((hi, lo)) => Some(Cursor {
                hi: digits(hi)?,
                lo: Some(digits(lo)?),
            }),
        }
    }
}

impl fmt::Display for Cursor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.lo {
            None => write!(f, "{}", self.hi),
            Some(lo) => write!(f, "{}-{lo}", self.hi),
        }
    }
}

/// One kept version of a model.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VersionMeta {
    /// The cursor of the write that made it.
    pub cursor: Cursor,
    pub etag: String,
    pub updated: OffsetDateTime,
    pub by: Author,
    pub size: u64,
    pub op: Op,
}

/// One event of the change feed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChangeEvent {
    pub cursor: Cursor,
    pub id: Uuid,
    pub etag: String,
    pub op: Op,
    pub by: Author,
    pub updated: OffsetDateTime,
}

impl ChangeEvent {
    pub fn wire(&self) -> sa_shared::history::Change {
        sa_shared::history::Change {
            cursor: self.cursor.to_string(),
            id: self.id.hyphenated().to_string(),
            etag: format!("\"{}\"", self.etag),
            op: self.op,
            by: self.by.clone(),
            updated: rfc3339(self.updated),
        }
    }
}

pub fn rfc3339(t: OffsetDateTime) -> String {
    t.format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

/// A read of the feed after a cursor.
#[derive(Clone, Debug, Default)]
pub struct ChangeRead {
    /// In cursor order.
    pub events: Vec<ChangeEvent>,
    /// The cursor is older than what the store keeps (or not one of its cursors): the reader
    /// missed events and must reload.
    pub reset: bool,
}

/// How much history a store keeps.
#[derive(Clone, Copy, Debug)]
pub struct Retention {
    /// Versions per model; 0 keeps none (and then nothing can be restored).
    pub versions: usize,
    /// How long a deleted model's history stays restorable.
    pub deleted: Duration,
    /// Events the feed keeps; a subscriber further behind gets `event: reset`.
    pub changes: usize,
}

impl Retention {
    /// The moment before which deleted models are gone for good.
    pub fn deleted_cutoff(&self, now: OffsetDateTime) -> OffsetDateTime {
        now - self.deleted
    }
}

impl Default for Retention {
    fn default() -> Self {
        Retention {
            versions: 100,
            deleted: Duration::from_secs(30 * 24 * 3600),
            changes: 100_000,
        }
    }
}

/// The op a write records: `restored` when asked for, else whether the model existed.
pub fn op_of(restored: bool, existed: bool) -> Op {
    match (restored, existed) {
        (true, _) => Op::Restored,
        (false, true) => Op::Updated,
        (false, false) => Op::Created,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_parse_print_and_order() {
        assert_eq!(Cursor::parse("42"), Some(Cursor::int(42)));
        let r = Cursor::parse("1733043600000-3").unwrap();
        assert_eq!(r.to_string(), "1733043600000-3");
        assert!(Cursor::parse("1733043600000-4").unwrap() > r);
        assert!(Cursor::parse("1733043600001-0").unwrap() > r);
        for bad in [
            "",
            "-",
            "x",
            "1-",
            "-1",
            "1-2-3",
            "+5",
            " 5",
            "99999999999999999999999",
        ] {
            assert_eq!(Cursor::parse(bad), None, "{bad:?}");
        }
    }
}
