//! Words and checks for JSON text that the browser apps parse with the browser's parser
//! (`web::doc`); plain functions, so they are tested here on the host.

/// `Line 2, column 5: expected ':' after property name.` from the browser's message, which
/// gives a position (in UTF-16 units) rather than a line.
pub fn explain(text: &str, msg: &str) -> String {
    if msg.contains("end of JSON input") {
        let (line, col) = line_col(text, usize::MAX);
        return format!(
            "Line {line}, column {col}: the text ends too early: a closing }}, ] or \" is missing."
        );
    }
    let cut = msg
        .find(" in JSON at position ")
        .or_else(|| msg.find(" at position "));
    let Some(i) = cut else {
        return format!("{}.", msg.trim_end_matches('.'));
    };
    let digits: String = msg[i..]
        .chars()
        .skip_while(|c| !c.is_ascii_digit())
        .take_while(char::is_ascii_digit)
        .collect();
    let (line, col) = line_col(text, digits.parse().unwrap_or(usize::MAX));
    let what = &msg[..i];
    // The browser's messages are ASCII; `to_lowercase` would bring Unicode's case tables along.
    let mut what = what.chars();
    let first = what
        .next()
        .map(|c| c.to_ascii_lowercase())
        .map(String::from)
        .unwrap_or_default();
    format!("Line {line}, column {col}: {first}{}.", what.as_str())
}

/// 1-based line and column of the UTF-16 offset `pos` (or of the end of `text`).
fn line_col(text: &str, pos: usize) -> (usize, usize) {
    let (mut line, mut col, mut at) = (1, 1, 0);
    for c in text.chars() {
        if at >= pos {
            break;
        }
        at += c.len_utf16();
        if c == '\n' {
            line += 1;
            col = 1;
        } else {
            col += 1;
        }
    }
    (line, col)
}

/// JSON text without the whitespace between tokens (what `JSON.stringify` writes, provided
/// the strings and numbers are written the same way).
pub fn without_space(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let (mut in_string, mut escaped) = (false, false);
    for c in text.chars() {
        if in_string {
            if escaped {
                escaped = false;
            } else if c == '\\' {
                escaped = true;
            } else if c == '"' {
                in_string = false;
            }
        } else if c == '"' {
            in_string = true;
        } else if c.is_ascii_whitespace() {
            continue;
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_become_lines_and_columns() {
        let text = "{\n  \"a\" 1}";
        assert_eq!(
            explain(
                text,
                "Expected ':' after property name in JSON at position 8"
            ),
            "Line 2, column 7: expected ':' after property name."
        );
        assert_eq!(
            explain(
                "{\"name\": \"Pump station\",",
                "Expected double-quoted property name in JSON at position 24 (line 1 column 25)"
            ),
            "Line 1, column 25: expected double-quoted property name."
        );
    }

    #[test]
    fn the_end_of_the_text_is_named() {
        assert_eq!(
            explain("{\"a\":\n[1", "Unexpected end of JSON input"),
            "Line 2, column 3: the text ends too early: a closing }, ] or \" is missing."
        );
    }

    #[test]
    fn messages_without_a_position_pass_through() {
        assert_eq!(
            explain("abc", "Unexpected token 'a', \"abc\" is not valid JSON"),
            "Unexpected token 'a', \"abc\" is not valid JSON."
        );
    }

    #[test]
    fn whitespace_goes_but_strings_keep_theirs() {
        assert_eq!(
            without_space("{ \"a b\" : [ 1, 2 ],\n \"c\\\" d\": null }"),
            "{\"a b\":[1,2],\"c\\\" d\":null}"
        );
    }
}
