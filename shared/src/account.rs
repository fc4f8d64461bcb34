//! The rules for usernames and passwords: the register page checks them as the user types, and
//! auth checks them again on every registration.
use std::fmt;

pub const USERNAME_CHARS: std::ops::RangeInclusive<usize> = 3..=32;
pub const MIN_PASSWORD_CHARS: usize = 10;
/// argon2 takes any length, but hashing megabytes per request is an easy denial of service.
pub const MAX_PASSWORD_BYTES: usize = 1024;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UsernameProblem {
    TooShort,
    TooLong,
    BadCharacter,
    BadStart,
}

impl fmt::Display for UsernameProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (min, max) = (USERNAME_CHARS.start(), USERNAME_CHARS.end());
        match self {
            UsernameProblem::TooShort => write!(f, "At least {min} characters."),
            UsernameProblem::TooLong => write!(f, "At most {max} characters."),
            UsernameProblem::BadCharacter => {
                f.write_str("Only letters, digits, dots, dashes and underscores.")
            }
            UsernameProblem::BadStart => f.write_str("Start with a letter or a digit."),
        }
    }
}

/// The canonical (trimmed, lower-case) form of a username that follows the rules: 3–32
/// characters, ASCII letters, digits, `.`, `_` and `-`, starting with a letter or a digit.
pub fn canonical_username(name: &str) -> Result<String, UsernameProblem> {
    let name = name.trim().to_ascii_lowercase();
    let count = name.chars().count();
    if count < *USERNAME_CHARS.start() {
        return Err(UsernameProblem::TooShort);
    }
    if count > *USERNAME_CHARS.end() {
        return Err(UsernameProblem::TooLong);
    }
    if !name
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
    {
        return Err(UsernameProblem::BadCharacter);
    }
    if !name.starts_with(|c: char| c.is_ascii_alphanumeric()) {
        return Err(UsernameProblem::BadStart);
    }
    Ok(name)
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PasswordProblem {
    TooShort { chars: usize },
    TooLong,
    ContainsUsername,
}

impl PasswordProblem {
    /// The error code auth answers with.
    pub fn code(&self) -> &'static str {
        match self {
            PasswordProblem::TooLong => "password_too_long",
            _ => "weak_password",
        }
    }
}

impl fmt::Display for PasswordProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PasswordProblem::TooShort { chars } => {
                write!(
                    f,
                    "At least {MIN_PASSWORD_CHARS} characters ({chars} so far)."
                )
            }
            PasswordProblem::TooLong => write!(f, "At most {MAX_PASSWORD_BYTES} bytes."),
            PasswordProblem::ContainsUsername => f.write_str("Must not contain your username."),
        }
    }
}

/// Whether `password` may go with `username` (compared case-insensitively).
pub fn password_problem(password: &str, username: &str) -> Option<PasswordProblem> {
    let chars = password.chars().count();
    if chars < MIN_PASSWORD_CHARS {
        return Some(PasswordProblem::TooShort { chars });
    }
    if password.len() > MAX_PASSWORD_BYTES {
        return Some(PasswordProblem::TooLong);
    }
    let username = username.trim().to_lowercase();
    if !username.is_empty() && password.to_lowercase().contains(&username) {
        return Some(PasswordProblem::ContainsUsername);
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usernames() {
        assert_eq!(canonical_username(" Alice.B ").unwrap(), "alice.b");
        assert_eq!(canonical_username("ab"), Err(UsernameProblem::TooShort));
        assert_eq!(
            canonical_username(&"a".repeat(33)),
            Err(UsernameProblem::TooLong)
        );
        assert_eq!(canonical_username("-alice"), Err(UsernameProblem::BadStart));
        for bad in ["al ice", "alice!", "ålice"] {
            assert_eq!(
                canonical_username(bad),
                Err(UsernameProblem::BadCharacter),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn passwords() {
        assert_eq!(password_problem("ten-chars!", "alice"), None);
        assert_eq!(
            password_problem("nine-char", "alice"),
            Some(PasswordProblem::TooShort { chars: 9 })
        );
        assert_eq!(
            password_problem("my-ALICE-password", "Alice"),
            Some(PasswordProblem::ContainsUsername)
        );
        assert_eq!(
            password_problem(&"x".repeat(MAX_PASSWORD_BYTES + 1), "alice"),
            Some(PasswordProblem::TooLong)
        );
        assert_eq!(PasswordProblem::TooLong.code(), "password_too_long");
    }
}
