//! The highlight layer as HTML, for the lines on screen only.
//!
//! Kept free of the browser so that what the editor draws is tested natively: which lines
//! are visible for a scroll position, each line's token spans, and the error marker on the
//! right character.

use std::ops::Range;

use crate::tokens::{tokenize, Kind};

/// Byte offsets where each line starts; the first is always 0.
pub fn line_starts(text: &str) -> Vec<usize> {
    let mut starts = Vec::with_capacity(text.len() / 32 + 1);
    starts.push(0);
    starts.extend(
        text.bytes()
            .enumerate()
            .filter(|&(_, b)| b == b'\n')
            .map(|(i, _)| i + 1),
    );
    starts
}

/// The byte range of line `index` (0-based), without its newline.
pub fn line_range(text: &str, starts: &[usize], index: usize) -> Range<usize> {
    let start = starts[index];
    let end = starts.get(index + 1).map_or(text.len(), |next| next - 1);
    start..end
}

/// The 0-based line the byte `offset` is on.
pub fn line_of(starts: &[usize], offset: usize) -> usize {
    starts.partition_point(|&s| s <= offset).saturating_sub(1)
}

/// Lines to draw for a viewport `height` px tall scrolled to `scroll_top`, with `overscan`
/// extra lines each side so that fast scrolling does not show blank rows.
pub fn visible_lines(
    scroll_top: f64,
    height: f64,
    line_height: f64,
    total: usize,
    overscan: usize,
) -> Range<usize> {
    let line_height = line_height.max(1.0);
    let first = (scroll_top.max(0.0) / line_height).floor() as usize;
    let shown = (height.max(0.0) / line_height).ceil() as usize + 1;
    let start = first.saturating_sub(overscan).min(total);
    let end = (first + shown + overscan).min(total);
    start..end
}

/// `v` as a CSS length, e.g. `-12.5px`, to 1/100 px. Written with integer formatting: `f64`'s
/// `Display` would bring Rust's float printer (about 6 KB of code and tables) into the editor's
/// chunk.
pub fn css_px(v: f64) -> String {
    let hundredths = (v * 100.0).round() as i64;
    let sign = if hundredths < 0 { "-" } else { "" };
    let abs = hundredths.unsigned_abs();
    format!("{sign}{}.{:02}px", abs / 100, abs % 100)
}

/// One line as token spans. `error` is a byte offset into the line (its length when the error
/// sits at the end of the line, or past the end of the text): that character is wrapped in a
/// `<mark class="tok-error">`, or an empty mark is placed at the line's end.
pub fn line_html(line: &str, error: Option<usize>) -> String {
    let mut out = String::with_capacity(line.len() * 2 + 16);
    for token in tokenize(line) {
        let text = token.text(line);
        match error.filter(|&e| token.start <= e && e < token.end) {
            Some(e) => {
                let at = e - token.start;
                let len = text[at..].chars().next().map_or(0, char::len_utf8);
                span(&mut out, token.kind, &text[..at]);
                out.push_str("<mark class=\"tok-error\">");
                span(&mut out, token.kind, &text[at..at + len]);
                out.push_str("</mark>");
                span(&mut out, token.kind, &text[at + len..]);
            }
            None => span(&mut out, token.kind, text),
        }
    }
    if error.is_some_and(|e| e >= line.len()) {
        // Past the last character: an early end of the text, or a missing value at the end.
        out.push_str("<mark class=\"tok-error tok-error-end\"> </mark>");
    }
    out
}

/// The line numbers `lines` (0-based), one `<div>` each.
pub fn gutter_html(lines: Range<usize>) -> String {
    let mut out = String::with_capacity(lines.len() * 16);
    for n in lines {
        out.push_str("<div>");
        out.push_str(&(n + 1).to_string());
        out.push_str("</div>");
    }
    out
}

fn span(out: &mut String, kind: Kind, text: &str) {
    if text.is_empty() {
        return;
    }
    if kind == Kind::Whitespace {
        escape(out, text);
        return;
    }
    out.push_str("<span class=\"");
    out.push_str(kind.class());
    out.push_str("\">");
    escape(out, text);
    out.push_str("</span>");
}

fn escape(out: &mut String, text: &str) {
    for ch in text.chars() {
        match ch {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '"' => out.push_str("&quot;"),
            _ => out.push(ch),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tokens::check;

    #[test]
    fn writes_css_lengths_without_the_float_printer() {
        assert_eq!(css_px(0.0), "0.00px");
        assert_eq!(css_px(-0.0), "0.00px");
        assert_eq!(css_px(120.0), "120.00px");
        assert_eq!(css_px(-12.5), "-12.50px");
        assert_eq!(css_px(19.25), "19.25px");
        assert_eq!(css_px(0.05), "0.05px");
        assert_eq!(css_px(-0.4), "-0.40px");
        assert_eq!(css_px(1.004), "1.00px");
        // Each agrees with `f64`'s own printing to 1/100 px.
        for v in [3.0, -7.75, 1234.5, 0.01, -0.99, 58_320.0] {
            assert_eq!(css_px(v), format!("{v:.2}px"));
        }
    }

    #[test]
    fn finds_lines_and_their_ranges() {
        let text = "a\nbc\n\nd";
        let starts = line_starts(text);
        assert_eq!(starts, vec![0, 2, 5, 6]);
        assert_eq!(&text[line_range(text, &starts, 1)], "bc");
        assert_eq!(&text[line_range(text, &starts, 2)], "");
        assert_eq!(&text[line_range(text, &starts, 3)], "d");
        assert_eq!(line_of(&starts, 0), 0);
        assert_eq!(line_of(&starts, 3), 1);
        assert_eq!(line_of(&starts, 4), 1, "the newline belongs to its line");
        assert_eq!(line_of(&starts, 6), 3);
        assert_eq!(line_of(&starts, 99), 3);
    }

    #[test]
    fn draws_only_the_lines_in_view() {
        // 20 px lines, a 200 px viewport scrolled to line 1000 of 50,000.
        assert_eq!(visible_lines(20_000.0, 200.0, 20.0, 50_000, 5), 995..1016);
        assert_eq!(visible_lines(0.0, 200.0, 20.0, 50_000, 5), 0..16);
        assert_eq!(visible_lines(0.0, 200.0, 20.0, 3, 5), 0..3);
        assert_eq!(visible_lines(1e9, 200.0, 20.0, 3, 5), 3..3);
    }

    #[test]
    fn colours_tokens_and_escapes_html() {
        assert_eq!(
            line_html(r#"  "k": "<b>&","#, None),
            "  <span class=\"tok-key\">&quot;k&quot;</span><span class=\"tok-punct\">:</span> \
             <span class=\"tok-string\">&quot;&lt;b&gt;&amp;&quot;</span>\
             <span class=\"tok-punct\">,</span>"
        );
    }

    #[test]
    fn marks_the_character_of_a_parse_error_in_a_multi_line_document() {
        let text = "{\n  \"a\": 1,\n  \"b\": tx,\n  \"c\": 3\n}";
        let err = check(text).unwrap_err();
        let starts = line_starts(text);
        let line = line_of(&starts, err.byte_offset);
        assert_eq!(line + 1, err.line);
        let range = line_range(text, &starts, line);
        let html = line_html(&text[range.clone()], Some(err.byte_offset - range.start));
        // serde_json reads `t` as the start of `true` and stops at `x`.
        assert!(
            html.contains("<mark class=\"tok-error\"><span class=\"tok-invalid\">x</span></mark>"),
            "{html}"
        );
    }

    #[test]
    fn marks_the_end_of_a_line_for_an_early_end() {
        let text = "[1,\n2,";
        let err = check(text).unwrap_err();
        let starts = line_starts(text);
        let line = line_of(&starts, err.byte_offset);
        let range = line_range(text, &starts, line);
        let html = line_html(&text[range.clone()], Some(err.byte_offset - range.start));
        assert!(
            html.ends_with("<mark class=\"tok-error tok-error-end\"> </mark>"),
            "{html}"
        );
    }

    #[test]
    fn numbers_the_gutter_from_one() {
        assert_eq!(gutter_html(9..11), "<div>10</div><div>11</div>");
    }
}
