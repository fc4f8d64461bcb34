//! A readable diff of two JSON documents: one line per path, added, removed or changed.
//!
//! Each line carries a marker (`+` added, `−` removed, `~` changed) so that it reads without
//! colour. The paths come from [`json_patch::diff`]: objects key by key, arrays index by index
//! with the extra elements of the longer one added or removed at the end.

use std::collections::HashMap;

use json_patch::PatchOperation;
use serde_json::Value;

/// What happened at one path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Added,
    Removed,
    Changed,
}

impl Kind {
    /// The marker that stands for the kind without colour.
    pub fn marker(self) -> char {
        match self {
            Kind::Added => '+',
            Kind::Removed => '−',
            Kind::Changed => '~',
        }
    }

    /// A CSS class name for colouring, e.g. `diff-added`.
    pub fn class(self) -> &'static str {
        match self {
            Kind::Added => "diff-added",
            Kind::Removed => "diff-removed",
            Kind::Changed => "diff-changed",
        }
    }
}

/// One path's change.
#[derive(Debug, Clone, PartialEq)]
pub struct Line {
    pub kind: Kind,
    /// JSON Pointer, e.g. `/meta/author`.
    pub path: String,
    /// The value in the old document (`None` when added).
    pub old: Option<Value>,
    /// The value in the new document (`None` when removed).
    pub new: Option<Value>,
}

impl Line {
    /// `~ /meta/author: "ann" → "bob"`, with long values shortened to `max` characters.
    pub fn render(&self, max: usize) -> String {
        let path = if self.path.is_empty() {
            "(document)"
        } else {
            &self.path
        };
        let show = |v: &Option<Value>| v.as_ref().map(|v| shorten(v, max)).unwrap_or_default();
        match self.kind {
            Kind::Added => format!("+ {path}: {}", show(&self.new)),
            Kind::Removed => format!("− {path}: {}", show(&self.old)),
            Kind::Changed => format!("~ {path}: {} → {}", show(&self.old), show(&self.new)),
        }
    }
}

/// The changes that turn `old` into `new`, in document order.
pub fn diff(old: &Value, new: &Value) -> Vec<Line> {
    // json_patch numbers trailing array removals as they apply one after another (all at the
    // same index); count them back to the index each element had in `old`.
    let mut removed_at: HashMap<String, usize> = HashMap::new();
    json_patch::diff(old, new)
        .0
        .into_iter()
        .map(|op| match op {
            PatchOperation::Add(op) => Line {
                kind: Kind::Added,
                path: op.path.to_string(),
                old: None,
                new: Some(op.value),
            },
            PatchOperation::Remove(op) => {
                let path = op.path.to_string();
                let shift = removed_at.entry(path.clone()).or_default();
                let path = match (op.path.parent(), op.path.last()) {
                    (Some(parent), Some(last)) if *shift > 0 => {
                        match last.decoded().parse::<usize>() {
                            Ok(index) => format!("{parent}/{}", index + *shift),
                            Err(_) => path,
                        }
                    }
                    _ => path,
                };
                *shift += 1;
                let old_value = old.pointer(&path).cloned();
                Line {
                    kind: Kind::Removed,
                    path,
                    old: old_value,
                    new: None,
                }
            }
            other => {
                let path = other.path().to_string();
                let new_value = new.pointer(&path).cloned();
                Line {
                    kind: Kind::Changed,
                    old: old.pointer(&path).cloned(),
                    new: new_value,
                    path,
                }
            }
        })
        .collect()
}

/// The whole diff as text, one rendered line each.
pub fn render(lines: &[Line], max: usize) -> String {
    lines
        .iter()
        .map(|l| l.render(max))
        .collect::<Vec<_>>()
        .join("\n")
}

fn shorten(value: &Value, max: usize) -> String {
    let text = value.to_string();
    if text.chars().count() <= max {
        return text;
    }
    let mut cut: String = text.chars().take(max.saturating_sub(1)).collect();
    cut.push('…');
    cut
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn lists_added_removed_and_changed_paths_with_markers() {
        let old = json!({"meta": {"author": "ann", "old": 1}, "tags": ["x"]});
        let new = json!({"meta": {"author": "bob"}, "tags": ["x", "y"], "extra": true});
        let text = render(&diff(&old, &new), 40);
        let mut lines: Vec<&str> = text.lines().collect();
        lines.sort();
        assert_eq!(
            lines,
            vec![
                "+ /extra: true",
                "+ /tags/1: \"y\"",
                "~ /meta/author: \"ann\" → \"bob\"",
                "− /meta/old: 1",
            ]
        );
    }

    #[test]
    fn removed_array_elements_keep_their_old_index() {
        let old = json!({"a": [1, 2, 3, 4]});
        let new = json!({"a": [1]});
        let lines = diff(&old, &new);
        let paths: Vec<_> = lines
            .iter()
            .map(|l| (l.path.as_str(), l.old.clone()))
            .collect();
        assert_eq!(
            paths,
            vec![
                ("/a/1", Some(json!(2))),
                ("/a/2", Some(json!(3))),
                ("/a/3", Some(json!(4)))
            ]
        );
        assert!(lines
            .iter()
            .all(|l| l.kind == Kind::Removed && l.new.is_none()));
    }

    #[test]
    fn identical_documents_have_no_lines() {
        let doc = json!({"a": [1, {"b": null}]});
        assert!(diff(&doc, &doc).is_empty());
    }

    #[test]
    fn long_values_are_shortened_and_the_root_is_named() {
        let lines = diff(&json!(1), &json!("a very long string indeed"));
        assert_eq!(lines[0].render(10), "~ (document): 1 → \"a very l…");
        assert_eq!(lines[0].kind.class(), "diff-changed");
    }
}
