//! Secrets and the read-only-user password policy.

use std::fmt;

use super::error::PasswordError;

/// Minimum password length from the runbook ("PASSWORD >=30 CHARACTERS LONG").
pub const MIN_PASSWORD_LENGTH: usize = 30;

/// A secret string whose `Debug` output is `<redacted>`. It has no `Display`.
#[derive(Clone, PartialEq, Eq, Default)]
pub struct SecretString(String);

impl SecretString {
    /// Wraps a secret.
    pub fn new(value: impl Into<String>) -> Self {
        SecretString(value.into())
    }

    /// The secret itself; only for building connection options or statements.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for SecretString {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

impl From<String> for SecretString {
    fn from(value: String) -> Self {
        SecretString(value)
    }
}

impl From<&str> for SecretString {
    fn from(value: &str) -> Self {
        SecretString(value.to_owned())
    }
}

/// Checks a read-only-user password at plan time.
///
/// Requires at least [`MIN_PASSWORD_LENGTH`] characters, all from RFC 3986's userinfo set
/// minus `:` and `%`: ASCII letters, digits and `- _ . ~ ! $ & ( ) * + , ; =`. That excludes
/// `%` (runbook NOTE2: Django unquotes it), `@ : / ? #` and `[ ]` (they split or break the
/// `DATABASE_URL`), quotes, backslash and whitespace. As a side effect the password never
/// needs escaping inside a SQL string literal, whatever the server's sql_mode.
pub fn validate_password(password: &str) -> Result<(), PasswordError> {
    for c in password.chars() {
        if let Some(description) = disallowed(c) {
            return Err(PasswordError::DisallowedCharacter { description });
        }
    }
    let length = password.chars().count();
    if length < MIN_PASSWORD_LENGTH {
        return Err(PasswordError::TooShort {
            length,
            min: MIN_PASSWORD_LENGTH,
        });
    }
    Ok(())
}

/// Names the class of a rejected character without revealing anything else of the password.
fn disallowed(c: char) -> Option<&'static str> {
    if c.is_ascii_alphanumeric() || "-_.~!$&()*+,;=".contains(c) {
        return None;
    }
    Some(match c {
        '%' => "a percent sign '%' (Django percent-decodes DATABASE_URL)",
        '@' => "an at sign '@'",
        ':' => "a colon ':'",
        '/' => "a slash '/'",
        '?' => "a question mark '?'",
        '#' => "a hash '#'",
        '[' | ']' => "a square bracket",
        '\'' => "a single quote",
        '"' => "a double quote",
        '\\' => "a backslash",
        c if c.is_whitespace() => "whitespace",
        c if c.is_control() => "a control character",
        c if !c.is_ascii() => "a non-ASCII character",
        _ => "a symbol outside the accepted set",
    })
}

/// A password that passed [`validate_password`].
#[derive(Clone, PartialEq, Eq)]
pub struct Password(SecretString);

impl Password {
    /// Validates and wraps a password.
    pub fn new(password: impl Into<SecretString>) -> Result<Self, PasswordError> {
        let secret = password.into();
        validate_password(secret.expose())?;
        Ok(Password(secret))
    }

    /// The password itself.
    pub fn expose(&self) -> &str {
        self.0.expose()
    }
}

impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_long_hex_and_sub_delims() {
        assert!(validate_password(&"a1".repeat(30)).is_ok());
        assert!(validate_password("Abc-_.~!$&()*+,;=0123456789abcdefXYZ").is_ok());
    }

    #[test]
    fn rejects_short_and_lists_accepted() {
        let err = validate_password("short").unwrap_err();
        assert_eq!(err, PasswordError::TooShort { length: 5, min: 30 });
        let text = err.to_string();
        assert!(text.contains("at least 30"), "{text}");
        assert!(text.contains("Accepted characters"), "{text}");
        assert!(!text.contains("short"), "{text}");
    }

    #[test]
    fn rejects_url_breaking_characters_without_echoing_password() {
        let base = "x".repeat(40);
        for (c, word) in [
            ('%', "percent"),
            ('@', "at sign"),
            (':', "colon"),
            ('/', "slash"),
            ('?', "question"),
            ('#', "hash"),
            ('\'', "single quote"),
            ('"', "double quote"),
            ('\\', "backslash"),
            (' ', "whitespace"),
            ('\t', "whitespace"),
            ('é', "non-ASCII"),
            ('[', "bracket"),
        ] {
            let password = format!("{base}{c}SECRETTAIL");
            let err = validate_password(&password).unwrap_err();
            let text = err.to_string();
            assert!(text.contains(word), "{c:?}: {text}");
            assert!(!text.contains("SECRETTAIL"), "{text}");
        }
    }

    #[test]
    fn debug_is_redacted() {
        let p = Password::new("z".repeat(31)).unwrap();
        assert_eq!(format!("{p:?}"), "<redacted>");
        assert_eq!(format!("{:?}", SecretString::new("hunter2")), "<redacted>");
    }
}
