//! Turns a request path into the key of an in-memory file, refusing every traversal spelling.
//!
//! Files only exist as keys loaded from under the root at start, so no spelling can reach the
//! disk. Refusing the odd spellings outright still matters: it keeps `/..%2f..%2fetc/passwd`
//! from being taken as an app navigation and answered with `index.html`.
use percent_encoding::percent_decode_str;

#[derive(Debug, PartialEq, Eq)]
pub struct BadPath;

/// The root-relative key for `path` (`/a/b.js` -> `a/b.js`, `/` -> ``), with each segment
/// percent-decoded. Refuses `.` and `..` segments (raw or encoded), encoded `/`, any `\`,
/// NUL and other control bytes, empty inner segments and non-UTF-8.
pub fn to_key(path: &str) -> Result<String, BadPath> {
    let rest = path.strip_prefix('/').ok_or(BadPath)?;
    let mut key = String::with_capacity(rest.len());
    let mut segments = rest.split('/').peekable();
    while let Some(raw) = segments.next() {
        let seg = percent_decode_str(raw).decode_utf8().map_err(|_| BadPath)?;
        let is_last = segments.peek().is_none();
        if seg.is_empty() && !is_last {
            return Err(BadPath);
        }
        if seg == "." || seg == ".." || seg.chars().any(|c| c == '/' || c == '\\' || c.is_control())
        {
            return Err(BadPath);
        }
        key.push_str(&seg);
        if !is_last {
            key.push('/');
        }
    }
    Ok(key)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_paths() {
        assert_eq!(to_key("/"), Ok(String::new()));
        assert_eq!(to_key("/index.html"), Ok("index.html".into()));
        assert_eq!(to_key("/a/b%20c.js"), Ok("a/b c.js".into()));
        assert_eq!(to_key("/models/"), Ok("models/".into()));
    }

    #[test]
    fn traversal_spellings() {
        for p in [
            "/../etc/passwd",
            "/a/../../x",
            "/%2e%2e/x",
            "/%2E%2E/x",
            "/.%2e/x",
            "/a%2f..%2f..%2fx",
            "/..%5cx",
            "/a\\..\\x",
            "/x%00.html",
            "/./x",
            "//etc/passwd",
            "/a//b",
            "/%c0%ae%c0%ae/x",
            "relative",
        ] {
            assert_eq!(to_key(p), Err(BadPath), "{p}");
        }
    }
}
