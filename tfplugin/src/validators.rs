//! Attribute validators: values that check one known, non-null configuration value.
//!
//! The framework never calls a validator with an unknown or null value: unknown values are
//! checked again once they are known, and null means "not set".

use crate::diag::{AttributePath, Diagnostic, Diagnostics};
use crate::value::Value;

mod cross;

pub use cross::{AlsoRequires, BlockValidator, ConflictsWith, ExactlyOneOf};

/// Checks one attribute value.
pub trait Validator: Send + Sync {
    /// What the validator accepts, in words shown to users (e.g. "a string of at least 30 characters").
    fn description(&self) -> String;

    /// Checks `value` (known, not null) found at `path`.
    fn validate(&self, path: &AttributePath, value: &Value, diagnostics: &mut Diagnostics);
}

fn invalid(path: &AttributePath, detail: String) -> Diagnostic {
    Diagnostic::error(format!("Invalid value for {path}"), detail).at(path.clone())
}

/// String length bounds, counted in characters.
#[derive(Debug, Clone)]
pub struct StringLength {
    /// Fewest characters accepted.
    pub min: Option<usize>,
    /// Most characters accepted.
    pub max: Option<usize>,
}

impl StringLength {
    /// At least `min` characters.
    pub fn at_least(min: usize) -> Self {
        StringLength {
            min: Some(min),
            max: None,
        }
    }

    /// At most `max` characters.
    pub fn at_most(max: usize) -> Self {
        StringLength {
            min: None,
            max: Some(max),
        }
    }
}

impl Validator for StringLength {
    fn description(&self) -> String {
        match (self.min, self.max) {
            (Some(min), Some(max)) => format!("a string of {min} to {max} characters"),
            (Some(min), None) => format!("a string of at least {min} characters"),
            (None, Some(max)) => format!("a string of at most {max} characters"),
            (None, None) => "a string".into(),
        }
    }

    fn validate(&self, path: &AttributePath, value: &Value, diagnostics: &mut Diagnostics) {
        let Some(text) = value.as_str() else { return };
        let length = text.chars().count();
        let too_short = self.min.is_some_and(|min| length < min);
        let too_long = self.max.is_some_and(|max| length > max);
        if too_short || too_long {
            // The value itself is not echoed: it may be a secret.
            diagnostics.push(invalid(
                path,
                format!("Expected {}, got {length} characters.", self.description()),
            ));
        }
    }
}

/// A regular expression the whole string must match.
#[derive(Debug, Clone)]
pub struct StringPattern {
    pattern: Result<regex::Regex, String>,
    description: String,
}

impl StringPattern {
    /// A validator for `pattern`, described to users as `description`.
    pub fn new(pattern: &str, description: impl Into<String>) -> Self {
        StringPattern {
            pattern: regex::Regex::new(pattern).map_err(|e| e.to_string()),
            description: description.into(),
        }
    }
}

impl Validator for StringPattern {
    fn description(&self) -> String {
        self.description.clone()
    }

    fn validate(&self, path: &AttributePath, value: &Value, diagnostics: &mut Diagnostics) {
        let Some(text) = value.as_str() else { return };
        match &self.pattern {
            Ok(regex) if regex.is_match(text) => {}
            Ok(_) => diagnostics.push(invalid(
                path,
                format!("Expected {}, got {text:?}.", self.description),
            )),
            Err(e) => diagnostics.push(
                Diagnostic::error("Invalid validator pattern (provider bug)", e.clone())
                    .at(path.clone()),
            ),
        }
    }
}

/// One of a fixed list of strings.
#[derive(Debug, Clone)]
pub struct OneOf {
    options: Vec<String>,
}

impl OneOf {
    /// Accepts exactly the given strings.
    pub fn new(options: impl IntoIterator<Item = impl Into<String>>) -> Self {
        OneOf {
            options: options.into_iter().map(Into::into).collect(),
        }
    }
}

impl Validator for OneOf {
    fn description(&self) -> String {
        let quoted: Vec<String> = self.options.iter().map(|o| format!("{o:?}")).collect();
        format!("one of {}", quoted.join(", "))
    }

    fn validate(&self, path: &AttributePath, value: &Value, diagnostics: &mut Diagnostics) {
        let Some(text) = value.as_str() else { return };
        if !self.options.iter().any(|o| o == text) {
            diagnostics.push(invalid(
                path,
                format!("Expected {}, got {text:?}.", self.description()),
            ));
        }
    }
}

/// Number bounds (inclusive).
#[derive(Debug, Clone)]
pub struct NumberRange {
    /// Smallest accepted.
    pub min: Option<f64>,
    /// Largest accepted.
    pub max: Option<f64>,
}

impl Validator for NumberRange {
    fn description(&self) -> String {
        match (self.min, self.max) {
            (Some(min), Some(max)) => format!("a number from {min} to {max}"),
            (Some(min), None) => format!("a number of at least {min}"),
            (None, Some(max)) => format!("a number of at most {max}"),
            (None, None) => "a number".into(),
        }
    }

    fn validate(&self, path: &AttributePath, value: &Value, diagnostics: &mut Diagnostics) {
        let Value::Number(number) = value else { return };
        let n = number.as_f64();
        if self.min.is_some_and(|min| n < min) || self.max.is_some_and(|max| n > max) {
            diagnostics.push(invalid(
                path,
                format!("Expected {}, got {number}.", self.description()),
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(validator: &dyn Validator, value: Value) -> Diagnostics {
        let mut diagnostics = Diagnostics::new();
        validator.validate(&AttributePath::root("password"), &value, &mut diagnostics);
        diagnostics
    }

    #[test]
    fn length_names_attribute_and_hides_value() {
        let diags = run(
            &StringLength {
                min: Some(30),
                max: None,
            },
            Value::String("short-secret".into()),
        );
        assert!(diags.has_errors());
        let d = &diags.0[0];
        assert_eq!(d.attribute, Some(AttributePath::root("password")));
        assert!(d.detail.contains("at least 30"));
        assert!(!d.detail.contains("short-secret"));
        assert!(!run(
            &StringLength {
                min: Some(3),
                max: Some(5)
            },
            Value::String("abcd".into())
        )
        .has_errors());
    }

    #[test]
    fn one_of_lists_options() {
        let diags = run(&OneOf::new(["a", "b"]), Value::String("c".into()));
        assert!(diags.0[0].detail.contains("one of \"a\", \"b\""));
    }

    #[test]
    fn pattern_matches() {
        let v = StringPattern::new("^[a-z]+$", "lower-case letters");
        assert!(!run(&v, Value::String("abc".into())).has_errors());
        assert!(run(&v, Value::String("aBc".into())).has_errors());
    }
}
