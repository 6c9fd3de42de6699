//! Secrets and the read-only-user password policy.

use std::fmt;

use super::error::PasswordError;

/// Minimum password length from the runbook ("PASSWORD >=30 CHARACTERS LONG").
pub const MIN_PASSWORD_LENGTH: usize = 30;

/// Maximum password length: MySQL's `caching_sha2_password` (the default of MySQL 8 and RDS
/// MySQL 8) refuses passwords longer than 256 bytes (`MAX_PLAINTEXT_LENGTH`); Heroku's limit,
/// 32 KB for all of an app's config vars together, is far looser.
pub const MAX_PASSWORD_LENGTH: usize = 256;

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
/// Requires [`MIN_PASSWORD_LENGTH`] to [`MAX_PASSWORD_LENGTH`] characters, all from RFC 3986's userinfo set
/// minus `:` and `%`: ASCII letters, digits and `- _ . ~ ! $ & ( ) * + , ; =`. That excludes
/// `%` (runbook NOTE2: Django unquotes it), `@ : / ? #` and `[ ]` (they split or break the
/// `DATABASE_URL`), quotes, backslash and whitespace. As a side effect the password never
/// needs escaping inside a SQL string literal, whatever the server's sql_mode.
pub fn validate_password(password: &str) -> Result<(), PasswordError> {
    // Length first: a huge value is refused without a scan.
    let length = password.chars().count();
    if length > MAX_PASSWORD_LENGTH {
        return Err(PasswordError::TooLong {
            length,
            max: MAX_PASSWORD_LENGTH,
        });
    }
    for c in password.chars() {
        if let Some(description) = disallowed(c) {
            return Err(PasswordError::DisallowedCharacter { description });
        }
    }
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

/// Characters of generated passwords: RFC 3986's unreserved set (letters, digits, `- . _ ~`), a
/// subset of what [`validate_password`] accepts that no URL, shell or SQL quoting alters.
pub const GENERATED_ALPHABET: &[u8] =
    b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~";

/// Longest password [`generate_password`] makes: the longest accepted.
pub const MAX_GENERATED_LENGTH: usize = MAX_PASSWORD_LENGTH;

/// Why no password could be generated.
#[derive(Debug, thiserror::Error)]
pub enum GenerateError {
    /// The length is outside what is accepted.
    #[error(
        "a generated password must be {MIN_PASSWORD_LENGTH} to {MAX_GENERATED_LENGTH} characters \
         long, not {0}"
    )]
    Length(u64),
    /// The operating system's random source failed.
    #[error("the operating system's random number generator failed: {0}")]
    Random(getrandom::Error),
}

/// A new random password of `length` characters from the OS's CSPRNG (`getrandom`), drawn
/// uniformly from [`GENERATED_ALPHABET`] and holding at least one upper-case letter, one
/// lower-case letter, one digit and one symbol (so MySQL's `validate_password` policies accept
/// it too). It passes [`validate_password`].
pub fn generate_password(length: u64) -> Result<Password, GenerateError> {
    let n = usize::try_from(length)
        .ok()
        .filter(|n| (MIN_PASSWORD_LENGTH..=MAX_GENERATED_LENGTH).contains(n))
        .ok_or(GenerateError::Length(length))?;
    // Redraw until every class is present: rejection keeps the draw uniform over the
    // accepted passwords (about one draw in ten is redrawn at length 40).
    loop {
        let text = random_text(n)?;
        if has_every_class(&text) {
            return Password::new(text).map_err(|_| GenerateError::Length(length));
        }
    }
}

/// `n` characters of [`GENERATED_ALPHABET`], each uniform: bytes at or above the largest
/// multiple of the alphabet's size are dropped, so `%` introduces no bias.
fn random_text(n: usize) -> Result<String, GenerateError> {
    let size = GENERATED_ALPHABET.len();
    let limit = 256 - 256 % size;
    let mut out = String::with_capacity(n);
    let mut buf = [0u8; 64];
    while out.len() < n {
        getrandom::fill(&mut buf).map_err(GenerateError::Random)?;
        for &b in buf.iter().filter(|&&b| usize::from(b) < limit) {
            if out.len() == n {
                break;
            }
            out.push(char::from(GENERATED_ALPHABET[usize::from(b) % size]));
        }
    }
    Ok(out)
}

fn has_every_class(text: &str) -> bool {
    text.chars().any(|c| c.is_ascii_uppercase())
        && text.chars().any(|c| c.is_ascii_lowercase())
        && text.chars().any(|c| c.is_ascii_digit())
        && text.chars().any(|c| !c.is_ascii_alphanumeric())
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
    fn rejects_longer_than_mysql_accepts_naming_the_limit() {
        assert!(validate_password(&"a".repeat(MAX_PASSWORD_LENGTH)).is_ok());
        for length in [MAX_PASSWORD_LENGTH + 1, 200_000] {
            let err = validate_password(&"a".repeat(length)).unwrap_err();
            assert_eq!(
                err,
                PasswordError::TooLong {
                    length,
                    max: MAX_PASSWORD_LENGTH
                }
            );
            let text = err.to_string();
            assert!(text.contains("at most 256"), "{text}");
            assert!(text.contains("caching_sha2_password"), "{text}");
            assert!(!text.contains("aaaa"), "{text}");
        }
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
    fn generated_passwords_satisfy_every_rule_over_many_draws() {
        let mut seen = std::collections::BTreeSet::new();
        let mut counts = [0u32; 66];
        for i in 0..5000u64 {
            let length = MIN_PASSWORD_LENGTH as u64 + i % 60;
            let p = generate_password(length).unwrap();
            let text = p.expose();
            assert_eq!(text.chars().count() as u64, length);
            assert!(validate_password(text).is_ok());
            assert!(has_every_class(text));
            assert!(text.bytes().all(|b| GENERATED_ALPHABET.contains(&b)));
            // No character Django's URL parsing or percent-decoding would alter.
            assert!(!text.contains(['%', '@', ':', '/', '?', '#', '+', '&', '=']));
            for b in text.bytes() {
                if let Some(i) = GENERATED_ALPHABET.iter().position(|&a| a == b) {
                    counts[i] += 1;
                }
            }
            assert!(seen.insert(text.to_owned()), "a password repeated");
        }
        // Every character of the alphabet turns up (about 5000 of each are expected).
        assert_eq!(GENERATED_ALPHABET.len(), counts.len());
        assert!(counts.iter().all(|&c| c > 3000), "{counts:?}");
    }

    #[test]
    fn generated_lengths_outside_the_range_are_refused() {
        for bad in [0, 29, 257, u64::MAX] {
            let err = generate_password(bad).unwrap_err();
            assert!(err.to_string().contains("30 to 256"), "{err}");
        }
        assert_eq!(generate_password(30).unwrap().expose().len(), 30);
        assert_eq!(generate_password(256).unwrap().expose().len(), 256);
    }

    #[test]
    fn debug_is_redacted() {
        let p = Password::new("z".repeat(31)).unwrap();
        assert_eq!(format!("{p:?}"), "<redacted>");
        assert_eq!(format!("{:?}", SecretString::new("hunter2")), "<redacted>");
    }
}
