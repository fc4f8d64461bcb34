//! Text edits the editor makes: Format, Tab and Shift-Tab, and the offset units between Rust
//! strings (bytes) and the browser's textarea (UTF-16 code units).

use std::{cell::Cell, rc::Rc};

use crate::{
    layout::{Column, Layout, Plan, Planned},
    tokens::{self, ParseError},
};

/// One level of indentation, as `serde_json::to_string_pretty` writes it.
pub const INDENT: &str = "  ";

/// Pretty-prints `text`, keeping its key order (a `serde_json::Value` would sort the keys).
/// A document whose full form would take more than [`crate::layout::LINE_BUDGET`] lines is laid out as
/// [`crate::layout`] explains: outer levels expanded, the level that would overflow packed.
pub fn pretty(text: &str) -> Result<String, ParseError> {
    // First pass: fully pretty, measured to plan the layout; the answer for most documents.
    let mut measured = Layout::new(Plan::FULL);
    let column = Rc::new(Cell::new(0));
    let mut full = Column {
        inner: Vec::with_capacity(text.len() + text.len() / 2),
        column: column.clone(),
    };
    let mut de = serde_json::Deserializer::from_str(text);
    let formatter = Planned {
        layout: &mut measured,
        column: column.clone(),
    };
    let mut ser = serde_json::Serializer::with_formatter(&mut full, formatter);
    if serde_transcode::transcode(&mut de, &mut ser)
        .and_then(|()| de.end())
        .is_err()
    {
        // Report the error as a plain parse would, with its position in `text`.
        return Err(tokens::check_syntax(text)
            .err()
            .unwrap_or_else(|| ParseError {
                message: "could not format".into(),
                line: 1,
                column: 1,
                byte_offset: 0,
                char_offset: 0,
            }));
    }
    // Planned by the compact size, so formatting a formatted text again changes nothing.
    let plan = Plan::for_layout(&measured, measured.compact_len(full.inner.len()));
    if plan == Plan::FULL {
        // The serializer writes only UTF-8.
        return Ok(String::from_utf8(full.inner).expect("serde_json writes UTF-8"));
    }
    let mut layout = Layout::new(plan);
    column.set(0);
    let mut out = Column {
        inner: Vec::with_capacity(text.len() + text.len() / 2),
        column: column.clone(),
    };
    let mut de = serde_json::Deserializer::from_str(text);
    let formatter = Planned {
        layout: &mut layout,
        column,
    };
    let mut ser = serde_json::Serializer::with_formatter(&mut out, formatter);
    serde_transcode::transcode(&mut de, &mut ser).expect("the text parsed a moment ago");
    // The serializer writes only UTF-8.
    Ok(String::from_utf8(out.inner).expect("serde_json writes UTF-8"))
}

/// The text and selection after an edit; offsets in bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Edited {
    pub text: String,
    pub start: usize,
    pub end: usize,
}

/// Tab: with no selection, inserts [`INDENT`] at the cursor; with a selection, indents every
/// line it touches. `start..end` is the selection in bytes.
pub fn indent(text: &str, start: usize, end: usize) -> Edited {
    if start == end {
        let mut out = String::with_capacity(text.len() + INDENT.len());
        out.push_str(&text[..start]);
        out.push_str(INDENT);
        out.push_str(&text[start..]);
        let at = start + INDENT.len();
        return Edited {
            text: out,
            start: at,
            end: at,
        };
    }
    let lines = line_starts(text, start, end);
    let mut out = String::with_capacity(text.len() + lines.len() * INDENT.len());
    let mut last = 0;
    for &line in &lines {
        out.push_str(&text[last..line]);
        out.push_str(INDENT);
        last = line;
    }
    out.push_str(&text[last..]);
    Edited {
        text: out,
        start: start + INDENT.len(),
        end: end + lines.len() * INDENT.len(),
    }
}

/// Shift-Tab: removes up to one [`INDENT`] of leading spaces from every line the selection
/// (or the cursor) touches.
pub fn outdent(text: &str, start: usize, end: usize) -> Edited {
    let lines = line_starts(text, start, end);
    let removable = |line: usize| {
        text[line..]
            .bytes()
            .take(INDENT.len())
            .take_while(|&b| b == b' ')
            .count()
    };
    let mut out = String::with_capacity(text.len());
    let mut last = 0;
    for &line in &lines {
        out.push_str(&text[last..line]);
        last = line + removable(line);
    }
    out.push_str(&text[last..]);
    // A selection edge moves back by the removed spaces before it; one inside a removed
    // indent lands where that indent was.
    let removed_before = |at: usize| -> usize {
        lines
            .iter()
            .filter(|&&l| l <= at)
            .map(|&l| (at - l).min(removable(l)))
            .sum()
    };
    Edited {
        text: out,
        start: start - removed_before(start),
        end: end - removed_before(end),
    }
}

/// Byte offsets of the starts of the lines that `start..end` touches. A selection that ends
/// at the very start of a line does not touch that line.
fn line_starts(text: &str, start: usize, end: usize) -> Vec<usize> {
    let first = text[..start].rfind('\n').map_or(0, |i| i + 1);
    let last_end = if end > start && text[..end].ends_with('\n') {
        end - 1
    } else {
        end
    };
    let mut starts = vec![first];
    starts.extend(
        text[first..last_end.max(first)]
            .match_indices('\n')
            .map(|(i, _)| first + i + 1),
    );
    starts
}

/// A UTF-16 offset (a textarea's `selectionStart`) as a byte offset into `text`.
pub fn utf16_to_byte(text: &str, utf16: usize) -> usize {
    let mut units = 0;
    for (byte, ch) in text.char_indices() {
        if units >= utf16 {
            return byte;
        }
        units += ch.len_utf16();
    }
    text.len()
}

/// A byte offset into `text` as a UTF-16 offset.
pub fn byte_to_utf16(text: &str, byte: usize) -> usize {
    text[..byte].chars().map(char::len_utf16).sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pretty_prints_and_keeps_key_order() {
        let text = r#"{"z":1,"a":[true,{"m":null}]}"#;
        assert_eq!(
            pretty(text).unwrap(),
            "{\n  \"z\": 1,\n  \"a\": [\n    true,\n    {\n      \"m\": null\n    }\n  ]\n}"
        );
    }

    #[test]
    fn a_document_within_the_budget_is_as_serde_json_pretty_prints_it() {
        let text = r#"{"a":[1,[2,{"b":{}}],[]],"c":{"d":null,"e":"x"}}"#;
        let v: serde_json::Value = serde_json::from_str(text).unwrap();
        assert_eq!(
            pretty(text).unwrap(),
            serde_json::to_string_pretty(&v).unwrap()
        );
    }

    #[test]
    fn a_long_document_packs_the_level_that_would_overflow_the_budget() {
        let layers: Vec<String> = (0..20_000)
            .map(|i| format!(r#"{{"z":"layer {i}","w":[0.25,0.5]}}"#))
            .collect();
        let text = format!(
            r#"{{"meta":{{"author":"ann"}},"layers":[{}]}}"#,
            layers.join(",")
        );
        let out = pretty(&text).unwrap();
        let lines: Vec<&str> = out.lines().collect();
        assert!(
            lines.len() <= crate::layout::LINE_BUDGET,
            "{} lines",
            lines.len()
        );
        assert!(
            lines.len() > 100,
            "still spread over lines: {}",
            lines.len()
        );
        // The outer levels as usual; the layers, compact, share lines.
        assert_eq!(
            &lines[..4],
            ["{", r#"  "meta": {"#, r#"    "author": "ann""#, "  },"]
        );
        assert_eq!(lines[4], r#"  "layers": ["#);
        assert!(
            lines[5].starts_with(r#"    {"z":"layer 0","w":[0.25,0.5]}, {"z":"layer 1""#),
            "{}",
            lines[5]
        );
        let width = crate::layout::packed_width(text.len());
        assert!(
            lines.iter().all(|l| l.len() < width + 40),
            "no line far past the width"
        );
        // Same document, same key order.
        let compact: String =
            serde_json::to_string(&serde_json::from_str::<serde_json::Value>(&out).unwrap())
                .unwrap();
        let expected: String =
            serde_json::to_string(&serde_json::from_str::<serde_json::Value>(&text).unwrap())
                .unwrap();
        assert!(compact == expected, "the same document");
        assert!(out.find("\"z\"").unwrap() < out.find("\"w\"").unwrap());
        // Formatting it again changes nothing.
        assert!(
            pretty(&out).unwrap() == out,
            "formatting again changed the text"
        );
    }

    #[test]
    fn pretty_reports_where_broken_json_breaks() {
        let err = pretty("{\n\"a\": }").unwrap_err();
        assert_eq!((err.line, err.column), (2, 6));
        let err = pretty("[1] 2").unwrap_err();
        assert_eq!(err.message, "trailing characters");
    }

    #[test]
    fn tab_without_selection_inserts_at_the_cursor() {
        assert_eq!(
            indent("ab", 1, 1),
            Edited {
                text: "a  b".into(),
                start: 3,
                end: 3
            }
        );
    }

    #[test]
    fn tab_indents_every_selected_line() {
        let text = "a\nb\nc\nd";
        // From inside "a" to inside "c".
        let e = indent(text, 0, 5);
        assert_eq!(e.text, "  a\n  b\n  c\nd");
        assert_eq!((e.start, e.end), (2, 11));
        assert_eq!(&e.text[e.start..e.end], "a\n  b\n  c");
    }

    #[test]
    fn a_selection_ending_at_a_line_start_leaves_that_line() {
        let e = indent("a\nb\nc", 0, 4);
        assert_eq!(e.text, "  a\n  b\nc");
        assert_eq!(&e.text[e.start..e.end], "a\n  b\n");
    }

    #[test]
    fn shift_tab_removes_one_level_where_there_is_one() {
        let text = "    a\n b\nc\n  d";
        let e = outdent(text, 0, text.len());
        assert_eq!(e.text, "  a\nb\nc\nd");
        assert_eq!((e.start, e.end), (0, e.text.len()));
    }

    #[test]
    fn shift_tab_on_the_cursor_line_keeps_the_cursor_on_its_character() {
        let text = "x\n    abc";
        let at = text.find('b').unwrap();
        let e = outdent(text, at, at);
        assert_eq!(e.text, "x\n  abc");
        assert_eq!(&e.text[e.start..e.start + 1], "b");
        assert_eq!(e.start, e.end);
    }

    #[test]
    fn shift_tab_with_the_cursor_inside_the_indent_moves_it_to_the_line_start() {
        let e = outdent("  a", 1, 1);
        assert_eq!(
            e,
            Edited {
                text: "a".into(),
                start: 0,
                end: 0
            }
        );
    }

    #[test]
    fn utf16_offsets_round_trip_over_non_ascii_text() {
        let text = "é😀x";
        assert_eq!(utf16_to_byte(text, 0), 0);
        assert_eq!(utf16_to_byte(text, 1), 2);
        assert_eq!(utf16_to_byte(text, 3), 6);
        assert_eq!(utf16_to_byte(text, 99), text.len());
        for byte in [0, 2, 6, 7] {
            assert_eq!(utf16_to_byte(text, byte_to_utf16(text, byte)), byte);
        }
    }
}
