//! Three-way merge of JSON documents.
//!
//! `base` is the version an edit started from, `theirs` is the version stored now, and `mine`
//! is the edit. Each side's changes against `base` come from [`json_patch::diff`] and are
//! applied onto `theirs`.
//!
//! # The merge rule
//! - A change is a value added, removed or replaced at one JSON path (a JSON Pointer such as
//!   `/meta/author`). Objects are compared key by key, so edits at different keys merge.
//! - Changes whose paths do not overlap merge by themselves. Two paths overlap when they are
//!   equal or one lies inside the other (`/meta` and `/meta/author`).
//! - Overlapping changes are one conflict at the shorter path, unless both sides leave the same
//!   value there (the same edit made twice is not a conflict).
//! - **Arrays merge by index only where a side kept the array's length.** A side that made an
//!   array longer or shorter changed the whole array: its change is the whole array at the
//!   array's path. So when both sides kept the length, edits at different indices merge; when
//!   one side inserted or removed an element and the other touched the same array, that array
//!   is one conflict. Indices never shift under a merged change.
//! - A conflict lists its path with the `base`, `theirs` and `mine` values (`None` where the
//!   value is absent, e.g. deleted). [`resolve`] settles each one by a [`Choice`].

use std::collections::BTreeMap;

use json_patch::jsonptr::{Pointer, PointerBuf};
use json_patch::{AddOperation, PatchOperation, RemoveOperation, ReplaceOperation};
use serde_json::Value;

/// One side's change at one path: the new value, or `None` for a removal.
#[derive(Debug, Clone, PartialEq)]
struct Change {
    path: PointerBuf,
    value: Option<Value>,
}

/// The same path changed differently on both sides.
#[derive(Debug, Clone, PartialEq)]
pub struct Conflict {
    /// JSON Pointer of the conflicting value, e.g. `/meta/author`.
    pub path: String,
    pub base: Option<Value>,
    pub theirs: Option<Value>,
    pub mine: Option<Value>,
}

/// Which side a conflict takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Choice {
    Mine,
    Theirs,
    Base,
}

/// The outcome of [`merge`].
#[derive(Debug, Clone, PartialEq)]
pub struct Merged {
    /// `theirs` with every non-conflicting change of `mine` applied. At a conflict's path it
    /// holds `theirs`' value until [`resolve`] picks another.
    pub value: Value,
    /// How many changes of `mine` were combined into `value`.
    pub mine: usize,
    /// How many changes of `theirs` were kept alongside.
    pub theirs: usize,
    /// Paths changed differently on both sides, in path order.
    pub conflicts: Vec<Conflict>,
}

impl Merged {
    /// True when nothing is left for the user to decide.
    pub fn is_clean(&self) -> bool {
        self.conflicts.is_empty()
    }

    /// "2 changes of yours and 1 of theirs were combined". When one side changed nothing, it
    /// names only the other: "1 change of yours was kept".
    pub fn summary(&self) -> String {
        let changes = |n: usize| if n == 1 { "change" } else { "changes" };
        let mut text = match (self.mine, self.theirs) {
            (0, 0) => "Nothing to combine: neither side changed anything".to_string(),
            (m, 0) => format!("{m} {} of yours {} kept", changes(m), were(m)),
            (0, t) => format!("{t} {} of theirs {} kept", changes(t), were(t)),
            (m, t) => format!(
                "{m} {} of yours and {t} of theirs were combined",
                changes(m)
            ),
        };
        match self.conflicts.len() {
            0 => {}
            1 => text.push_str("; 1 conflict needs a choice"),
            n => text.push_str(&format!("; {n} conflicts need a choice")),
        }
        text
    }
}

fn were(n: usize) -> &'static str {
    if n == 1 {
        "was"
    } else {
        "were"
    }
}

/// A conflict [`resolve`] was given no choice for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unresolved {
    pub paths: Vec<String>,
}

impl std::fmt::Display for Unresolved {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "no choice for {}", self.paths.join(", "))
    }
}

impl std::error::Error for Unresolved {}

/// Merges `mine` and `theirs`, both edited from `base`. See the module doc for the rule.
pub fn merge(base: &Value, theirs: &Value, mine: &Value) -> Merged {
    let mine_changes = changes(base, mine);
    let theirs_changes = changes(base, theirs);

    // Each overlapping pair is a conflict at its shorter path; nested roots fold into the
    // outermost one so that no change is judged twice.
    let mut roots: Vec<PointerBuf> = Vec::new();
    for m in &mine_changes {
        for t in &theirs_changes {
            if let Some(root) = overlap(&m.path, &t.path) {
                roots.push(root.to_buf());
            }
        }
    }
    roots.sort_by(|a, b| a.count().cmp(&b.count()).then_with(|| a.cmp(b)));
    let mut outer: Vec<PointerBuf> = Vec::new();
    for root in roots {
        if !outer.iter().any(|o| root.starts_with(o)) {
            outer.push(root);
        }
    }

    let mut conflicts = Vec::new();
    for root in &outer {
        let at = |doc: &Value| doc.pointer(root.as_str()).cloned();
        let (m, t) = (at(mine), at(theirs));
        if m != t {
            conflicts.push(Conflict {
                path: root.to_string(),
                base: at(base),
                theirs: t,
                mine: m,
            });
        }
    }
    conflicts.sort_by(|a, b| a.path.cmp(&b.path));

    let inside_root = |c: &Change| outer.iter().any(|o| c.path.starts_with(o));
    let mut value = theirs.clone();
    let mut mine_count = 0;
    for change in mine_changes.iter().filter(|c| !inside_root(c)) {
        set(&mut value, &change.path, change.value.clone());
        mine_count += 1;
    }
    let theirs_count = theirs_changes.iter().filter(|c| !inside_root(c)).count();

    Merged {
        value,
        mine: mine_count,
        theirs: theirs_count,
        conflicts,
    }
}

/// The merge of three JSON texts, as the apps run it on a refused save: `Ok(Some((text,
/// summary)))` when it is clean (the text pretty-printed, to save with the current ETag),
/// `Ok(None)` when paths conflict (the user chooses, in a `MergeView`), and an error naming
/// the text that is not JSON.
pub fn merge_texts(
    base: &str,
    theirs: &str,
    mine: &str,
) -> Result<Option<(String, String)>, String> {
    let parse = |t: &str, what: &str| {
        serde_json::from_str::<Value>(t).map_err(|e| format!("{what} is not JSON: {e}"))
    };
    let (base, theirs, mine) = (
        parse(base, "The version your edit started from")?,
        parse(theirs, "The stored version")?,
        parse(mine, "Your edit")?,
    );
    let merged = merge(&base, &theirs, &mine);
    Ok(merged.is_clean().then(|| {
        (
            serde_json::to_string_pretty(&merged.value).unwrap_or_default(),
            merged.summary(),
        )
    }))
}

/// Settles every conflict of `merged` with the choice given for its path.
pub fn resolve(merged: &Merged, choices: &BTreeMap<String, Choice>) -> Result<Value, Unresolved> {
    let missing: Vec<String> = merged
        .conflicts
        .iter()
        .filter(|c| !choices.contains_key(&c.path))
        .map(|c| c.path.clone())
        .collect();
    if !missing.is_empty() {
        return Err(Unresolved { paths: missing });
    }
    let mut value = merged.value.clone();
    for conflict in &merged.conflicts {
        let chosen = match choices[&conflict.path] {
            Choice::Mine => &conflict.mine,
            Choice::Theirs => &conflict.theirs,
            Choice::Base => &conflict.base,
        };
        let path = PointerBuf::parse(conflict.path.as_str())
            .expect("conflict paths come from json_patch and are valid pointers");
        set(&mut value, &path, chosen.clone());
    }
    Ok(value)
}

/// `side`'s changes against `base`, with any change inside an array whose length `side`
/// changed widened to the whole array.
fn changes(base: &Value, side: &Value) -> Vec<Change> {
    let mut out: Vec<Change> = Vec::new();
    for op in json_patch::diff(base, side).0 {
        let path = widen(base, side, op.path());
        if out.last().is_some_and(|last| path.starts_with(&last.path)) {
            // The rest of a widened array's changes: already covered.
            continue;
        }
        let value = side.pointer(path.as_str()).cloned();
        out.push(Change { path, value });
    }
    out
}

/// The outermost array on `path` whose length differs between `base` and `side`, or `path`.
fn widen(base: &Value, side: &Value, path: &Pointer) -> PointerBuf {
    let mut prefix = PointerBuf::new();
    let (mut b, mut s) = (Some(base), Some(side));
    for token in path.tokens() {
        if let (Some(Value::Array(ba)), Some(Value::Array(sa))) = (b, s) {
            if ba.len() != sa.len() {
                return prefix;
            }
        }
        let key = token.decoded();
        b = child(b, &key);
        s = child(s, &key);
        prefix.push_back(token);
    }
    prefix
}

fn child<'v>(value: Option<&'v Value>, key: &str) -> Option<&'v Value> {
    match value? {
        Value::Object(map) => map.get(key),
        Value::Array(items) => items.get(key.parse::<usize>().ok()?),
        _ => None,
    }
}

/// The shorter of two paths when one lies inside the other.
fn overlap<'a>(a: &'a Pointer, b: &'a Pointer) -> Option<&'a Pointer> {
    if b.starts_with(a) {
        Some(a)
    } else if a.starts_with(b) {
        Some(b)
    } else {
        None
    }
}

/// Puts `value` at `path` (or removes what is there for `None`). The parent exists: a change
/// whose parent the other side removed overlaps that removal and is a conflict instead.
fn set(doc: &mut Value, path: &Pointer, value: Option<Value>) {
    let exists = doc.pointer(path.as_str()).is_some();
    let op = match (value, exists) {
        (Some(value), true) => PatchOperation::Replace(ReplaceOperation {
            path: path.to_buf(),
            value,
        }),
        (Some(value), false) => PatchOperation::Add(AddOperation {
            path: path.to_buf(),
            value,
        }),
        (None, true) => PatchOperation::Remove(RemoveOperation {
            path: path.to_buf(),
        }),
        (None, false) => return,
    };
    json_patch::patch(doc, &[op]).expect("the parent of a merged change exists");
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn merge_texts_saves_a_clean_merge_and_leaves_conflicts_to_the_user() {
        let base = r#"{"a": 1, "b": 1}"#;
        let (text, summary) = merge_texts(base, r#"{"a": 2, "b": 1}"#, r#"{"a": 1, "b": 3}"#)
            .unwrap()
            .expect("different paths merge");
        assert_eq!(
            serde_json::from_str::<Value>(&text).unwrap(),
            json!({"a": 2, "b": 3})
        );
        assert_eq!(summary, "1 change of yours and 1 of theirs were combined");
        assert_eq!(
            merge_texts(base, r#"{"a": 2, "b": 1}"#, r#"{"a": 3, "b": 1}"#),
            Ok(None),
            "the same path changed on both sides"
        );
        let err = merge_texts(base, "{", base).unwrap_err();
        assert!(err.starts_with("The stored version is not JSON"), "{err}");
    }

    fn model() -> Value {
        json!({
            "meta": {"author": "ann", "title": "Flows"},
            "layers": [
                {"label": "a"}, {"label": "b"}, {"label": "c"}, {"label": "d"}
            ],
            "tags": ["x", "y"]
        })
    }

    fn with(mut doc: Value, path: &str, value: Value) -> Value {
        *doc.pointer_mut(path).unwrap() = value;
        doc
    }

    #[test]
    fn disjoint_edits_are_both_kept() {
        let base = model();
        let mine = with(base.clone(), "/meta/author", json!("me"));
        let theirs = with(base.clone(), "/layers/3/label", json!("D"));
        let merged = merge(&base, &theirs, &mine);
        assert!(merged.is_clean());
        assert_eq!(merged.value["meta"]["author"], "me");
        assert_eq!(merged.value["layers"][3]["label"], "D");
        assert_eq!((merged.mine, merged.theirs), (1, 1));
        assert_eq!(
            merged.summary(),
            "1 change of yours and 1 of theirs were combined"
        );
    }

    #[test]
    fn counts_each_side_in_the_summary() {
        let base = model();
        let mine = with(base.clone(), "/meta/author", json!("me"));
        let mine = with(mine, "/tags/0", json!("z"));
        let theirs = with(base.clone(), "/layers/3/label", json!("D"));
        let merged = merge(&base, &theirs, &mine);
        assert_eq!(
            merged.summary(),
            "2 changes of yours and 1 of theirs were combined"
        );
        assert_eq!(merged.value["tags"], json!(["z", "y"]));
        let only_theirs = merge(&base, &theirs, &base);
        assert_eq!(only_theirs.summary(), "1 change of theirs was kept");
        let only_mine = merge(&base, &base, &mine);
        assert_eq!(only_mine.summary(), "2 changes of yours were kept");
    }

    #[test]
    fn same_path_changed_differently_is_a_conflict() {
        let base = model();
        let mine = with(base.clone(), "/meta/author", json!("me"));
        let mine = with(mine, "/meta/title", json!("Mine"));
        let theirs = with(base.clone(), "/meta/author", json!("them"));
        let theirs = with(theirs, "/layers/0/label", json!("A"));
        let merged = merge(&base, &theirs, &mine);
        assert_eq!(
            merged.conflicts,
            vec![Conflict {
                path: "/meta/author".into(),
                base: Some(json!("ann")),
                theirs: Some(json!("them")),
                mine: Some(json!("me")),
            }]
        );
        assert_eq!((merged.mine, merged.theirs), (1, 1));
        assert_eq!(
            merged.value["meta"]["author"], "them",
            "theirs until resolved"
        );

        let mut choices = BTreeMap::new();
        assert_eq!(
            resolve(&merged, &choices),
            Err(Unresolved {
                paths: vec!["/meta/author".into()]
            })
        );
        choices.insert("/meta/author".to_string(), Choice::Mine);
        let resolved = resolve(&merged, &choices).unwrap();
        assert_eq!(resolved["meta"], json!({"author": "me", "title": "Mine"}));
        assert_eq!(
            resolved["layers"][0]["label"], "A",
            "other paths keep theirs"
        );

        choices.insert("/meta/author".to_string(), Choice::Base);
        assert_eq!(resolve(&merged, &choices).unwrap()["meta"]["author"], "ann");
        choices.insert("/meta/author".to_string(), Choice::Theirs);
        assert_eq!(
            resolve(&merged, &choices).unwrap()["meta"]["author"],
            "them"
        );
    }

    #[test]
    fn identical_changes_are_not_a_conflict() {
        let base = model();
        let edit = with(base.clone(), "/meta/author", json!("same"));
        let merged = merge(&base, &edit, &edit);
        assert!(merged.is_clean());
        assert_eq!(merged.value, edit);
        assert_eq!((merged.mine, merged.theirs), (0, 0));
    }

    #[test]
    fn delete_against_edit_is_a_conflict() {
        let base = model();
        let mut mine = base.clone();
        mine["meta"].as_object_mut().unwrap().remove("author");
        let theirs = with(base.clone(), "/meta/author", json!("them"));
        let merged = merge(&base, &theirs, &mine);
        assert_eq!(merged.conflicts.len(), 1);
        let conflict = &merged.conflicts[0];
        assert_eq!(conflict.path, "/meta/author");
        assert_eq!(conflict.mine, None);
        assert_eq!(conflict.theirs, Some(json!("them")));

        let choices = BTreeMap::from([("/meta/author".to_string(), Choice::Mine)]);
        let resolved = resolve(&merged, &choices).unwrap();
        assert_eq!(resolved["meta"], json!({"title": "Flows"}));
    }

    #[test]
    fn deleting_a_parent_conflicts_with_an_edit_inside_it() {
        let base = model();
        let mut mine = base.clone();
        mine.as_object_mut().unwrap().remove("meta");
        let theirs = with(base.clone(), "/meta/title", json!("New"));
        let merged = merge(&base, &theirs, &mine);
        assert_eq!(merged.conflicts.len(), 1);
        assert_eq!(merged.conflicts[0].path, "/meta");
        assert_eq!(merged.conflicts[0].mine, None);
    }

    #[test]
    fn arrays_of_kept_length_merge_by_index() {
        let base = model();
        let mine = with(base.clone(), "/layers/0/label", json!("A"));
        let theirs = with(base.clone(), "/layers/2/label", json!("C"));
        let merged = merge(&base, &theirs, &mine);
        assert!(merged.is_clean());
        let labels: Vec<_> = merged.value["layers"]
            .as_array()
            .unwrap()
            .iter()
            .map(|l| l["label"].clone())
            .collect();
        assert_eq!(labels, vec![json!("A"), json!("b"), json!("C"), json!("d")]);
    }

    #[test]
    fn an_array_length_change_makes_the_array_one_value() {
        let base = model();
        let mut mine = base.clone();
        mine["layers"]
            .as_array_mut()
            .unwrap()
            .insert(0, json!({"label": "new"}));
        let theirs = with(base.clone(), "/layers/3/label", json!("D"));
        let merged = merge(&base, &theirs, &mine);
        assert_eq!(merged.conflicts.len(), 1);
        let conflict = &merged.conflicts[0];
        assert_eq!(conflict.path, "/layers");
        assert_eq!(conflict.mine.as_ref(), mine.get("layers"));
        assert_eq!(conflict.theirs.as_ref(), theirs.get("layers"));
        assert_eq!(conflict.base.as_ref(), base.get("layers"));
        assert_eq!((merged.mine, merged.theirs), (0, 0));
    }

    #[test]
    fn an_array_length_change_merges_when_the_other_side_left_the_array_alone() {
        let base = model();
        let mut mine = base.clone();
        mine["tags"].as_array_mut().unwrap().push(json!("z"));
        let theirs = with(base.clone(), "/meta/title", json!("T"));
        let merged = merge(&base, &theirs, &mine);
        assert!(merged.is_clean());
        assert_eq!(merged.value["tags"], json!(["x", "y", "z"]));
        assert_eq!(merged.value["meta"]["title"], "T");
        assert_eq!(
            (merged.mine, merged.theirs),
            (1, 1),
            "the whole array is one change"
        );
    }

    #[test]
    fn nested_objects_merge_key_by_key() {
        let base = json!({"a": {"b": {"c": 1, "d": 2}, "e": {"f": 3}}});
        let mine = json!({"a": {"b": {"c": 10, "d": 2, "new": true}, "e": {"f": 3}}});
        let theirs = json!({"a": {"b": {"c": 1, "d": 20}, "e": {}}});
        let merged = merge(&base, &theirs, &mine);
        assert!(merged.is_clean());
        assert_eq!(
            merged.value,
            json!({"a": {"b": {"c": 10, "d": 20, "new": true}, "e": {}}})
        );
        assert_eq!((merged.mine, merged.theirs), (2, 2));
    }

    #[test]
    fn keys_with_slashes_and_tildes_are_escaped_in_paths() {
        let base = json!({"a/b": 1, "c~d": 1});
        let mine = json!({"a/b": 2, "c~d": 1});
        let theirs = json!({"a/b": 3, "c~d": 1});
        let merged = merge(&base, &theirs, &mine);
        assert_eq!(merged.conflicts[0].path, "/a~1b");
        let choices = BTreeMap::from([("/a~1b".to_string(), Choice::Mine)]);
        assert_eq!(resolve(&merged, &choices).unwrap(), mine);
    }

    #[test]
    fn a_key_prefix_is_not_a_path_prefix() {
        let base = json!({"ab": 1, "abc": 1});
        let mine = json!({"ab": 2, "abc": 1});
        let theirs = json!({"ab": 1, "abc": 2});
        let merged = merge(&base, &theirs, &mine);
        assert!(merged.is_clean());
        assert_eq!(merged.value, json!({"ab": 2, "abc": 2}));
    }

    #[test]
    fn a_changed_root_type_conflicts_with_any_other_change() {
        let base = json!({"a": 1});
        let mine = json!([1, 2]);
        let theirs = json!({"a": 2});
        let merged = merge(&base, &theirs, &mine);
        assert_eq!(merged.conflicts.len(), 1);
        assert_eq!(merged.conflicts[0].path, "");
    }
}
