//! A JSON tokenizer for highlighting, and the place of a parse error.
//!
//! The tokenizer never fails: broken JSON still gets tokens, with what it cannot read marked
//! [`Kind::Invalid`]. A string stops at the end of its line, since JSON strings cannot hold a
//! raw newline; so every line can be tokenized on its own, which is what lets the editor
//! highlight only the lines on screen. A string is a [`Kind::Key`] when a `:` follows it on
//! the same line.

use serde_json::Value;

/// What a token is, for colouring.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A string followed by `:`.
    Key,
    /// Any other string, quotes included.
    String,
    Number,
    /// `true`, `false`, `null`.
    Literal,
    /// `{ } [ ] : ,`
    Punct,
    Whitespace,
    /// Anything JSON has no place for, including an unterminated string or a misspelt word.
    Invalid,
}

impl Kind {
    /// The CSS class of the highlight layer, e.g. `tok-key`.
    pub fn class(self) -> &'static str {
        match self {
            Kind::Key => "tok-key",
            Kind::String => "tok-string",
            Kind::Number => "tok-number",
            Kind::Literal => "tok-literal",
            Kind::Punct => "tok-punct",
            Kind::Whitespace => "tok-ws",
            Kind::Invalid => "tok-invalid",
        }
    }
}

/// One token: its kind and its byte range in the tokenized text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Token {
    pub kind: Kind,
    /// Byte offset of the first byte.
    pub start: usize,
    /// Byte offset just past the last byte.
    pub end: usize,
}

impl Token {
    /// The token's text.
    pub fn text<'a>(&self, source: &'a str) -> &'a str {
        &source[self.start..self.end]
    }
}

/// Splits `text` into tokens that cover it completely, in order.
pub fn tokenize(text: &str) -> Vec<Token> {
    let bytes = text.as_bytes();
    let mut tokens = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        let start = i;
        let kind = match bytes[i] {
            b' ' | b'\t' | b'\n' | b'\r' => {
                while i < bytes.len() && matches!(bytes[i], b' ' | b'\t' | b'\n' | b'\r') {
                    i += 1;
                }
                Kind::Whitespace
            }
            b'{' | b'}' | b'[' | b']' | b':' | b',' => {
                i += 1;
                Kind::Punct
            }
            b'"' => {
                let (end, closed) = scan_string(bytes, i);
                i = end;
                if !closed {
                    Kind::Invalid
                } else if followed_by_colon(bytes, i) {
                    Kind::Key
                } else {
                    Kind::String
                }
            }
            b'-' | b'0'..=b'9' => {
                while i < bytes.len()
                    && matches!(bytes[i], b'-' | b'+' | b'.' | b'e' | b'E' | b'0'..=b'9')
                {
                    i += 1;
                }
                if is_number(&text[start..i]) {
                    Kind::Number
                } else {
                    Kind::Invalid
                }
            }
            _ => {
                // A word (a literal or a typo) runs to the next delimiter; one stray char
                // otherwise. Stepping a whole char keeps the range on char boundaries.
                while i < bytes.len() && !is_delimiter(bytes[i]) {
                    i += utf8_len(bytes[i]);
                }
                if i == start {
                    i += utf8_len(bytes[i]);
                }
                i = i.min(bytes.len());
                match &text[start..i] {
                    "true" | "false" | "null" => Kind::Literal,
                    _ => Kind::Invalid,
                }
            }
        };
        tokens.push(Token {
            kind,
            start,
            end: i,
        });
    }
    tokens
}

/// The end of the string opening at `start`, and whether its closing quote was found.
fn scan_string(bytes: &[u8], start: usize) -> (usize, bool) {
    let mut i = start + 1;
    while i < bytes.len() {
        match bytes[i] {
            b'"' => return (i + 1, true),
            b'\\' if i + 1 < bytes.len() && bytes[i + 1] != b'\n' => i += 2,
            b'\n' => return (i, false),
            _ => i += 1,
        }
    }
    (bytes.len(), false)
}

fn followed_by_colon(bytes: &[u8], mut i: usize) -> bool {
    while i < bytes.len() && matches!(bytes[i], b' ' | b'\t' | b'\r') {
        i += 1;
    }
    bytes.get(i) == Some(&b':')
}

fn is_number(text: &str) -> bool {
    serde_json::from_str::<serde_json::Number>(text).is_ok()
}

fn is_delimiter(b: u8) -> bool {
    matches!(
        b,
        b' ' | b'\t' | b'\n' | b'\r' | b'{' | b'}' | b'[' | b']' | b':' | b',' | b'"'
    )
}

fn utf8_len(first: u8) -> usize {
    match first {
        0xF0..=0xFF => 4,
        0xE0..=0xEF => 3,
        0xC0..=0xDF => 2,
        _ => 1,
    }
}

/// Where and why a document is not JSON.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError {
    /// serde_json's message without its position, e.g. "expected value".
    pub message: String,
    /// 1-based line.
    pub line: usize,
    /// 1-based column, in characters.
    pub column: usize,
    /// Byte offset of the character the error is at (the end of the text for an early end).
    pub byte_offset: usize,
    /// The same place in characters from the start of the text.
    pub char_offset: usize,
}

impl std::fmt::Display for ParseError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} at line {}, column {}",
            self.message, self.line, self.column
        )
    }
}

impl std::error::Error for ParseError {}

/// Parses `text`, or says where it breaks.
pub fn check(text: &str) -> Result<Value, ParseError> {
    serde_json::from_str(text).map_err(|err| locate(text, &err))
}

/// Checks `text` without building a value, which is several times faster on a large
/// document: what the editor runs as the user types.
pub fn check_syntax(text: &str) -> Result<(), ParseError> {
    serde_json::from_str::<serde::de::IgnoredAny>(text)
        .map(|_| ())
        .map_err(|err| locate(text, &err))
}

/// Turns serde_json's line and (byte) column into a place in `text`.
pub fn locate(text: &str, err: &serde_json::Error) -> ParseError {
    let line = err.line().max(1);
    let line_start = if line == 1 {
        0
    } else {
        text.match_indices('\n')
            .nth(line - 2)
            .map_or(text.len(), |(i, _)| i + 1)
    };
    // serde_json counts the column in bytes up to and including the byte it stopped at.
    let mut byte_offset = (line_start + err.column().saturating_sub(1)).min(text.len());
    while !text.is_char_boundary(byte_offset) {
        byte_offset -= 1;
    }
    if err.is_eof() {
        byte_offset = text.len();
    }
    let column = text[line_start.min(byte_offset)..byte_offset]
        .chars()
        .count()
        + 1;
    let char_offset = text[..byte_offset].chars().count();
    let full = err.to_string();
    let suffix = format!(" at line {} column {}", err.line(), err.column());
    let message = full.strip_suffix(&suffix).unwrap_or(&full).to_string();
    ParseError {
        message,
        line,
        column,
        byte_offset,
        char_offset,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(text: &str) -> Vec<(Kind, &str)> {
        tokenize(text)
            .iter()
            .map(|t| (t.kind, t.text(text)))
            .collect()
    }

    #[test]
    fn tells_keys_from_values() {
        use Kind::*;
        assert_eq!(
            kinds(r#"{"a": "b", "n": -1.5e3, "t": [true, null]}"#),
            vec![
                (Punct, "{"),
                (Key, "\"a\""),
                (Punct, ":"),
                (Whitespace, " "),
                (String, "\"b\""),
                (Punct, ","),
                (Whitespace, " "),
                (Key, "\"n\""),
                (Punct, ":"),
                (Whitespace, " "),
                (Number, "-1.5e3"),
                (Punct, ","),
                (Whitespace, " "),
                (Key, "\"t\""),
                (Punct, ":"),
                (Whitespace, " "),
                (Punct, "["),
                (Literal, "true"),
                (Punct, ","),
                (Whitespace, " "),
                (Literal, "null"),
                (Punct, "]"),
                (Punct, "}"),
            ]
        );
    }

    #[test]
    fn escaped_quotes_stay_inside_the_string() {
        assert_eq!(kinds(r#""a\"b" :"#)[0], (Kind::Key, r#""a\"b""#));
    }

    #[test]
    fn broken_json_still_tokenizes_and_covers_the_text() {
        let text = "{\"a\": tru, \"b\": 01x, \"é\": \"open\n  ~ 2 }";
        let tokens = tokenize(text);
        let joined: String = tokens.iter().map(|t| t.text(text)).collect();
        assert_eq!(joined, text);
        let k = kinds(text);
        assert!(k.contains(&(Kind::Invalid, "tru")));
        assert!(k.contains(&(Kind::Invalid, "01")));
        assert!(k.contains(&(Kind::Invalid, "x")));
        assert!(k.contains(&(Kind::Key, "\"é\"")));
        assert!(
            k.contains(&(Kind::Invalid, "\"open")),
            "an open string ends at its line"
        );
        assert!(k.contains(&(Kind::Invalid, "~")));
        assert!(k.contains(&(Kind::Number, "2")));
    }

    #[test]
    fn non_ascii_stray_chars_keep_char_boundaries() {
        let text = "[é,😀]";
        let k = kinds(text);
        assert_eq!(k[1], (Kind::Invalid, "é"));
        assert_eq!(k[3], (Kind::Invalid, "😀"));
    }

    #[test]
    fn locates_an_error_in_a_multi_line_document() {
        let text = "{\n  \"a\": 1,\n  \"b\": x\n}";
        let err = check(text).unwrap_err();
        assert_eq!((err.line, err.column), (3, 8));
        assert_eq!(err.message, "expected value");
        assert_eq!(&text[err.byte_offset..err.byte_offset + 1], "x");
        assert_eq!(text.chars().nth(err.char_offset), Some('x'));
        assert_eq!(err.to_string(), "expected value at line 3, column 8");
    }

    #[test]
    fn a_trailing_comma_points_at_the_closing_brace() {
        let text = "{\n  \"a\": 1,\n}";
        let err = check(text).unwrap_err();
        assert_eq!(err.line, 3);
        assert_eq!(text.chars().nth(err.char_offset), Some('}'));
    }

    #[test]
    fn columns_count_characters_not_bytes() {
        let text = "{\n  \"é😀\": x\n}";
        let err = check(text).unwrap_err();
        assert_eq!(err.line, 2);
        assert_eq!(text.chars().nth(err.char_offset), Some('x'));
        assert_eq!(err.column, 9, "`  \"é😀\": ` is eight characters");
    }

    #[test]
    fn an_early_end_points_past_the_last_character() {
        let text = "{\n  \"a\": [1,\n";
        let err = check(text).unwrap_err();
        assert_eq!(err.byte_offset, text.len());
        assert_eq!(err.char_offset, text.chars().count());
        assert!(
            err.message.starts_with("EOF while parsing"),
            "{}",
            err.message
        );
    }

    #[test]
    fn the_syntax_check_finds_the_same_errors_as_a_parse() {
        for text in [
            "{\n  \"a\": 1,\n  \"b\": x\n}",
            "[1,\n2,",
            "{\"a\": \"\\q\"}",
            "[01]",
            "[1] 2",
            "{}",
        ] {
            assert_eq!(check_syntax(text).err(), check(text).err(), "{text}");
        }
    }

    #[test]
    fn valid_json_parses() {
        assert_eq!(check("[1]").unwrap(), serde_json::json!([1]));
    }
}
