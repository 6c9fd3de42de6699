//! Provider-defined functions (protocol 6.5, Terraform ≥ 1.8): `provider::<name>::<function>(…)`.
//!
//! A function is a value implementing [`Function`]: a [`Signature`] (typed parameters and
//! return type, documented) and a pure `call`. Terraform checks argument types and nulls
//! against the signature before calling, and carries sensitivity from the arguments to the
//! result itself, so a function never sees marks. Errors name the argument at fault
//! ([`FunctionError::at`]), which Terraform shows under that argument.

use std::sync::Arc;

use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::value::{json, Type, Value};

/// One parameter of a function.
#[derive(Debug, Clone)]
pub struct Parameter {
    /// The name shown in documentation and diagnostics.
    pub name: &'static str,
    /// The argument's type; Terraform converts the argument to it before the call.
    pub ty: Type,
    /// What the argument means (Markdown).
    pub description: &'static str,
    /// Whether `null` is accepted (otherwise Terraform refuses the call).
    pub allow_null: bool,
}

impl Parameter {
    /// A parameter that must not be null.
    pub fn new(name: &'static str, ty: Type, description: &'static str) -> Self {
        Parameter {
            name,
            ty,
            description,
            allow_null: false,
        }
    }

    /// Accepts `null` for this parameter.
    pub fn nullable(mut self) -> Self {
        self.allow_null = true;
        self
    }
}

/// What a function takes and returns, and its documentation.
#[derive(Debug, Clone)]
pub struct Signature {
    /// One line, shown by `terraform console` and in the docs' title.
    pub summary: &'static str,
    /// The full description (Markdown).
    pub description: &'static str,
    /// The parameters, in order.
    pub parameters: Vec<Parameter>,
    /// The type of the result.
    pub returns: Type,
}

/// Why a call failed: the text Terraform shows, and the zero-based position of the
/// argument at fault, if one is.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{text}")]
pub struct FunctionError {
    /// What went wrong and what is accepted.
    pub text: String,
    /// The argument at fault (zero-based).
    pub argument: Option<usize>,
}

impl FunctionError {
    /// An error not tied to one argument.
    pub fn new(text: impl Into<String>) -> Self {
        FunctionError {
            text: text.into(),
            argument: None,
        }
    }

    /// An error at the argument in position `argument` (zero-based).
    pub fn at(argument: usize, text: impl Into<String>) -> Self {
        FunctionError {
            text: text.into(),
            argument: Some(argument),
        }
    }
}

/// A call's arguments, decoded against the signature's parameter types.
#[derive(Debug, Clone)]
pub struct Arguments {
    values: Vec<(Value, Type)>,
}

impl Arguments {
    /// Arguments with their parameter types (the service decodes them; tests build them).
    pub fn new(values: Vec<(Value, Type)>) -> Self {
        Arguments { values }
    }

    /// The argument at `position` as `T` (`Option<T>` for a nullable parameter); an argument
    /// that does not fit `T` is an error at that argument.
    pub fn get<T: DeserializeOwned>(&self, position: usize) -> Result<T, FunctionError> {
        let (value, ty) = self
            .values
            .get(position)
            .ok_or_else(|| FunctionError::new(format!("argument {} is missing", position + 1)))?;
        let json = json::to_serde(value, ty)
            .map_err(|e| FunctionError::at(position, format!("unreadable argument: {e}")))?;
        serde_json::from_value(json)
            .map_err(|e| FunctionError::at(position, format!("unexpected argument: {e}")))
    }
}

/// A provider-defined function.
pub trait Function: Send + Sync + 'static {
    /// The result's Rust type; serialised to the signature's return type.
    type Output: Serialize;

    /// The name after `provider::<provider>::`, e.g. `database_url`.
    fn name(&self) -> &'static str;

    /// Parameters, return type and documentation.
    fn signature(&self) -> Signature;

    /// Computes the result. Must be pure: Terraform calls it at validate, plan and apply.
    fn call(&self, arguments: &Arguments) -> Result<Self::Output, FunctionError>;
}

/// A function behind a uniform interface, as the service holds it.
pub trait DynFunction: Send + Sync {
    /// The function's name.
    fn name(&self) -> &'static str;
    /// Its signature.
    fn signature(&self) -> Signature;
    /// Calls it and encodes the result as a value of the return type.
    fn call_value(&self, arguments: &Arguments) -> Result<Value, FunctionError>;
}

struct Registered<F>(F);

impl<F: Function> DynFunction for Registered<F> {
    fn name(&self) -> &'static str {
        self.0.name()
    }

    fn signature(&self) -> Signature {
        self.0.signature()
    }

    fn call_value(&self, arguments: &Arguments) -> Result<Value, FunctionError> {
        let output = self.0.call(arguments)?;
        let returns = self.0.signature().returns;
        let encode_error =
            |e: String| FunctionError::new(format!("cannot encode the result (provider bug): {e}"));
        let json = serde_json::to_value(&output).map_err(|e| encode_error(e.to_string()))?;
        json::from_serde(&json, &returns).map_err(|e| encode_error(e.to_string()))
    }
}

/// Wraps a function for [`crate::framework::Provider::functions`].
pub fn function<F: Function>(function: F) -> Arc<dyn DynFunction> {
    Arc::new(Registered(function))
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Join;

    impl Function for Join {
        type Output = String;

        fn name(&self) -> &'static str {
            "join"
        }

        fn signature(&self) -> Signature {
            Signature {
                summary: "Joins words",
                description: "Joins words with a separator.",
                parameters: vec![
                    Parameter::new("separator", Type::String, "The separator.").nullable(),
                    Parameter::new("words", Type::list(Type::String), "The words."),
                ],
                returns: Type::String,
            }
        }

        fn call(&self, arguments: &Arguments) -> Result<String, FunctionError> {
            let separator: Option<String> = arguments.get(0)?;
            let words: Vec<String> = arguments.get(1)?;
            if words.is_empty() {
                return Err(FunctionError::at(1, "at least one word is needed"));
            }
            Ok(words.join(separator.as_deref().unwrap_or(" ")))
        }
    }

    fn words(list: &[&str]) -> (Value, Type) {
        (
            Value::List(list.iter().map(|w| Value::String(w.to_string())).collect()),
            Type::list(Type::String),
        )
    }

    #[test]
    fn arguments_decode_to_their_types_and_the_result_to_the_return_type() {
        let join = function(Join);
        let args = Arguments::new(vec![(Value::Null, Type::String), words(&["a", "b"])]);
        assert_eq!(join.call_value(&args), Ok(Value::String("a b".into())));
        let args = Arguments::new(vec![
            (Value::String("-".into()), Type::String),
            words(&["a", "b"]),
        ]);
        assert_eq!(join.call_value(&args), Ok(Value::String("a-b".into())));
    }

    #[test]
    fn errors_name_the_argument_at_fault() {
        let join = function(Join);
        let args = Arguments::new(vec![(Value::Null, Type::String), words(&[])]);
        assert_eq!(join.call_value(&args).unwrap_err().argument, Some(1));
        let args = Arguments::new(vec![(Value::Null, Type::String)]);
        assert_eq!(join.call_value(&args).unwrap_err().argument, None);
        // A value of the wrong shape for the Rust type is blamed on its argument.
        let args = Arguments::new(vec![(Value::Bool(true), Type::Bool), words(&["a"])]);
        assert_eq!(join.call_value(&args).unwrap_err().argument, Some(0));
    }
}
