//! Domain values for models: each parses (and so validates) in one place, keeps the user's
//! spelling, and carries its JSON Schema. A value that does not parse is reported at its
//! attribute with the type's message, the same at validate, plan and apply.

use std::borrow::Cow;
use std::fmt;

use schemars::{json_schema, JsonSchema, Schema, SchemaGenerator};
use serde::de::Error as _;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::framework::Field;

/// Implements `Serialize` (as the text written) and `Deserialize` (through `parse`).
macro_rules! text_value {
    ($type:ty) => {
        impl Serialize for $type {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(self.as_str())
            }
        }

        impl<'de> Deserialize<'de> for $type {
            fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                let text = String::deserialize(deserializer)?;
                <$type>::parse(&text).map_err(D::Error::custom)
            }
        }

        impl fmt::Display for $type {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

/// How much of a rejected value a message quotes: values echoed in errors are cut.
pub const QUOTE_LIMIT: usize = 80;

/// `text` quoted for a message, cut to [`QUOTE_LIMIT`] characters.
pub fn quote(text: &str) -> String {
    if text.chars().count() <= QUOTE_LIMIT {
        return format!("{text:?}");
    }
    let cut: String = text.chars().take(QUOTE_LIMIT).collect();
    format!("{cut:?}… ({} characters)", text.chars().count())
}

/// A duration written like Terraform's timeouts: `"90s"`, `"30m"`, `"1h30m"`, `"250ms"`.
/// Longer than zero: every duration a model holds is a limit or an interval, where zero can
/// only do harm (a timeout that fails at once, a poll that never pauses).
#[derive(Clone, PartialEq, Eq)]
pub struct Duration {
    text: String,
    value: std::time::Duration,
}

/// Why a duration was rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DurationError {
    /// Not whole numbers with units.
    #[error("invalid duration {}: expected whole numbers each followed by a unit (ms, s, m or h), e.g. \"90s\", \"30m\", \"1h\" or \"1h30m\"", quote(.0))]
    Syntax(String),
    /// Zero.
    #[error("invalid duration {}: it must be longer than zero, e.g. \"90s\", \"30m\" or \"1h\" (a zero limit fails at once)", quote(.0))]
    Zero(String),
}

impl Duration {
    /// Parses `text`.
    pub fn parse(text: &str) -> Result<Self, DurationError> {
        let error = || DurationError::Syntax(text.to_string());
        let mut rest = text;
        if rest.is_empty() {
            return Err(error());
        }
        let mut total = std::time::Duration::ZERO;
        while !rest.is_empty() {
            let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
            if digits == 0 {
                return Err(error());
            }
            let number: u64 = rest[..digits].parse().map_err(|_| error())?;
            rest = &rest[digits..];
            let unit_len = rest.bytes().take_while(u8::is_ascii_alphabetic).count();
            let (unit, tail) = rest.split_at(unit_len);
            let seconds = |factor: u64| number.checked_mul(factor).ok_or_else(error);
            let part = match unit {
                "ms" => std::time::Duration::from_millis(number),
                "s" => std::time::Duration::from_secs(number),
                "m" => std::time::Duration::from_secs(seconds(60)?),
                "h" => std::time::Duration::from_secs(seconds(3600)?),
                _ => return Err(error()),
            };
            total = total.checked_add(part).ok_or_else(error)?;
            rest = tail;
        }
        if total.is_zero() {
            return Err(DurationError::Zero(text.to_string()));
        }
        Ok(Duration {
            text: text.to_string(),
            value: total,
        })
    }

    /// The duration.
    pub fn get(&self) -> std::time::Duration {
        self.value
    }

    /// The text as written.
    pub fn as_str(&self) -> &str {
        &self.text
    }
}

impl fmt::Debug for Duration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Duration({:?})", self.text)
    }
}

text_value!(Duration);

impl JsonSchema for Duration {
    fn schema_name() -> Cow<'static, str> {
        "Duration".into()
    }

    fn inline_schema() -> bool {
        true
    }

    fn json_schema(_generator: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "type": "string",
            "pattern": "^([0-9]+(ms|s|m|h))+$",
            "not": { "pattern": "^(0+(ms|s|m|h))+$" },
            "examples": ["90s", "30m", "1h30m"]
        })
    }
}

/// The `timeouts` block of a resource whose only long operation is create.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct CreateTimeout {
    /// How long create may take, e.g. `"30m"` (units ms, s, m, h).
    #[serde(default)]
    pub create: Field<Duration>,
}

impl CreateTimeout {
    /// The create limit an optional `timeouts` block sets, with its text for messages; else
    /// `default`, written `default_text` (e.g. `"30m"`).
    pub fn limit(
        block: Option<&CreateTimeout>,
        default: std::time::Duration,
        default_text: &str,
    ) -> (std::time::Duration, String) {
        match block.and_then(|t| t.create.get()) {
            Some(limit) => (limit.get(), limit.as_str().to_string()),
            None => (default, default_text.to_string()),
        }
    }
}

/// The `triggers` of an operation resource (see [`Operation`](crate::framework::Operation)):
/// arbitrary values, declared `requires_replace`, whose change runs the operation again
/// (e.g. `{ commit = var.commit_sha }`).
pub type Triggers = std::collections::BTreeMap<String, String>;

/// The `timeouts` block of a resource with long creates, updates and deletes.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Timeouts {
    /// How long create may take, e.g. `"30m"` (units ms, s, m, h).
    #[serde(default)]
    pub create: Field<Duration>,
    /// How long update may take.
    #[serde(default)]
    pub update: Field<Duration>,
    /// How long delete may take.
    #[serde(default)]
    pub delete: Field<Duration>,
}

/// The limit a `timeouts` attribute sets, or `default`.
pub fn timeout_or(limit: &Field<Duration>, default: std::time::Duration) -> std::time::Duration {
    limit.get().map_or(default, Duration::get)
}

/// A UUID as written (any case, hyphenated).
#[derive(Clone, PartialEq, Eq)]
pub struct Uuid {
    text: String,
    value: uuid::Uuid,
}

/// Why a UUID was rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("expected a UUID such as \"01234567-89ab-cdef-0123-456789abcdef\", got {}", quote(.0))]
pub struct UuidError(String);

impl Uuid {
    /// Parses `text`.
    pub fn parse(text: &str) -> Result<Self, UuidError> {
        // Only the hyphenated form: braces, URNs and bare hex are not what APIs print.
        let value = match text.len() {
            36 => uuid::Uuid::try_parse(text).map_err(|_| UuidError(text.to_string()))?,
            _ => return Err(UuidError(text.to_string())),
        };
        Ok(Uuid {
            text: text.to_string(),
            value,
        })
    }

    /// The UUID.
    pub fn get(&self) -> uuid::Uuid {
        self.value
    }

    /// The text as written.
    pub fn as_str(&self) -> &str {
        &self.text
    }
}

impl From<uuid::Uuid> for Uuid {
    fn from(value: uuid::Uuid) -> Self {
        Uuid {
            text: value.to_string(),
            value,
        }
    }
}

impl fmt::Debug for Uuid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Uuid({})", self.text)
    }
}

text_value!(Uuid);

impl JsonSchema for Uuid {
    fn schema_name() -> Cow<'static, str> {
        "Uuid".into()
    }

    fn inline_schema() -> bool {
        true
    }

    fn json_schema(_generator: &mut SchemaGenerator) -> Schema {
        json_schema!({ "type": "string", "format": "uuid" })
    }
}

/// A regular expression, compiled once when the configuration is read.
#[derive(Clone)]
pub struct Pattern {
    regex: regex::Regex,
}

/// Why a regular expression was rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid regular expression {}: {reason}", quote(.text))]
pub struct PatternError {
    text: String,
    reason: String,
}

impl Pattern {
    /// Compiles `text` (Rust `regex` syntax, RE2-like).
    pub fn parse(text: &str) -> Result<Self, PatternError> {
        regex::Regex::new(text)
            .map(|regex| Pattern { regex })
            .map_err(|e| PatternError {
                text: text.to_string(),
                // The regex crate's message spans lines and repeats the pattern: keep its gist.
                reason: e
                    .to_string()
                    .lines()
                    .last()
                    .unwrap_or_default()
                    .trim_start_matches("error: ")
                    .to_string(),
            })
    }

    /// The compiled expression.
    pub fn regex(&self) -> &regex::Regex {
        &self.regex
    }

    /// The expression as written.
    pub fn as_str(&self) -> &str {
        self.regex.as_str()
    }
}

impl PartialEq for Pattern {
    fn eq(&self, other: &Self) -> bool {
        self.as_str() == other.as_str()
    }
}

impl Eq for Pattern {}

impl fmt::Debug for Pattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Pattern({:?})", self.as_str())
    }
}

text_value!(Pattern);

impl JsonSchema for Pattern {
    fn schema_name() -> Cow<'static, str> {
        "Pattern".into()
    }

    fn inline_schema() -> bool {
        true
    }

    fn json_schema(_generator: &mut SchemaGenerator) -> Schema {
        json_schema!({ "type": "string", "format": "regex" })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_parse_and_keep_their_spelling() {
        let secs = |s| std::time::Duration::from_secs(s);
        assert_eq!(Duration::parse("90s").unwrap().get(), secs(90));
        assert_eq!(Duration::parse("30m").unwrap().get(), secs(1800));
        assert_eq!(Duration::parse("1h30m").unwrap().get(), secs(5400));
        assert_eq!(
            Duration::parse("250ms").unwrap().get(),
            std::time::Duration::from_millis(250)
        );
        assert_eq!(Duration::parse("1h30m").unwrap().as_str(), "1h30m");
        for bad in [
            "",
            "30",
            "m",
            "1d",
            "-5s",
            "1.5h",
            "5 m",
            " 5m",
            "99999999999999999999h",
        ] {
            let err = Duration::parse(bad).unwrap_err().to_string();
            assert!(err.contains("\"30m\""), "{bad}: {err}");
        }
        for zero in ["0s", "0ms", "0h0m", "00m"] {
            let err = Duration::parse(zero).unwrap_err().to_string();
            assert!(err.contains("longer than zero"), "{zero}: {err}");
        }
        assert_eq!(
            Duration::parse("0h1ms").unwrap().get(),
            std::time::Duration::from_millis(1)
        );
    }

    #[test]
    fn uuids_and_patterns_parse_once() {
        let id = "01234567-89AB-cdef-0123-456789abcdef";
        assert_eq!(Uuid::parse(id).unwrap().as_str(), id);
        for bad in [
            "",
            "v12",
            "0123456789abcdef0123456789abcdef",
            "{01234567-89ab-cdef-0123-456789abcdef}",
        ] {
            assert!(Uuid::parse(bad)
                .unwrap_err()
                .to_string()
                .contains("expected a UUID"));
        }
        assert!(Pattern::parse("^job_.*$")
            .unwrap()
            .regex()
            .is_match("job_log"));
        let err = Pattern::parse("job_(").unwrap_err().to_string();
        assert!(
            err.contains("invalid regular expression \"job_(\""),
            "{err}"
        );
        assert!(!err.contains('\n'), "{err}");
    }

    #[test]
    fn create_limits_come_from_the_block_or_the_default() {
        let default = std::time::Duration::from_secs(1800);
        let block = CreateTimeout {
            create: Field::Known(Duration::parse("1h30m").unwrap()),
        };
        assert_eq!(
            CreateTimeout::limit(Some(&block), default, "30m"),
            (std::time::Duration::from_secs(5400), "1h30m".to_string())
        );
        let empty = CreateTimeout::default();
        for block in [None, Some(&empty)] {
            assert_eq!(
                CreateTimeout::limit(block, default, "30m"),
                (default, "30m".to_string())
            );
        }
    }

    #[test]
    fn quoted_values_are_cut() {
        let long = "x".repeat(1_000_000);
        let message = Duration::parse(&long).unwrap_err().to_string();
        assert!(message.len() < 400, "{} bytes", message.len());
        assert!(message.contains("1000000 characters"));
    }
}
