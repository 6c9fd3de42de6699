//! `provider::treeherder::database_url(url, parts)`: a MySQL `DATABASE_URL` built from parts
//! (the runbook's `mysql://th_admin:PASSWORD@HOSTNAME/treeherder` for a temporary instance), or
//! an existing one with some parts replaced.

use std::collections::BTreeMap;

use tfplugin::function::{Arguments, Function, FunctionError, Parameter, Signature};
use tfplugin::value::Type;

use crate::clients::database_url::{compose, ComposeError, UrlPart};

/// The `database_url` function.
pub struct DatabaseUrlFunction;

const URL: usize = 0;
const PARTS: usize = 1;

impl Function for DatabaseUrlFunction {
    type Output = String;

    fn name(&self) -> &'static str {
        "database_url"
    }

    fn signature(&self) -> Signature {
        Signature {
            summary: "Builds a MySQL DATABASE_URL from parts, or replaces parts of one",
            description: "Returns a `mysql://user:password@host[:port]/database` URL as Django \
                reads it. With `url` null it is built from `parts` (`username`, `password`, \
                `host` and `database` needed, `port` optional); with a `url` only the parts \
                given are replaced and every other part (scheme, port, options after `?`) is \
                kept. The password must follow the rule of `treeherder_database_password`: 30 \
                to 256 characters of ASCII letters, digits and `- _ . ~ ! $ & ( ) * + , ; =`, \
                so that Django reads back exactly what MySQL was given. Sensitive arguments \
                make the result sensitive; errors never quote the URL or the password.",
            parameters: vec![
                Parameter::new(
                    "url",
                    Type::String,
                    "The `DATABASE_URL` to change, or null to build one from `parts`.",
                )
                .nullable(),
                Parameter::new(
                    "parts",
                    Type::map(Type::String),
                    "The parts to set: any of `username`, `password`, `host`, `port`, \
                     `database`.",
                ),
            ],
            returns: Type::String,
        }
    }

    fn call(&self, arguments: &Arguments) -> Result<String, FunctionError> {
        let url: Option<String> = arguments.get(URL)?;
        let given: BTreeMap<String, String> = arguments.get(PARTS)?;
        let mut parts = BTreeMap::new();
        for (name, value) in given {
            let part = UrlPart::named(&name).ok_or_else(|| {
                FunctionError::at(
                    PARTS,
                    format!(
                        "parts: unknown key {name:?}; accepted: username, password, host, port, \
                         database"
                    ),
                )
            })?;
            parts.insert(part, value);
        }
        compose(url.as_deref(), &parts).map_err(|e| match e {
            ComposeError::Base(_) => FunctionError::at(URL, format!("url: {e}")),
            _ => FunctionError::at(PARTS, format!("parts: {e}")),
        })
    }
}

#[cfg(test)]
mod tests {
    use tfplugin::function::function;
    use tfplugin::value::Value;

    use super::*;

    fn call(url: Option<&str>, parts: &[(&str, &str)]) -> Result<Value, FunctionError> {
        let url = url.map_or(Value::Null, |u| Value::String(u.into()));
        let parts = Value::Map(
            parts
                .iter()
                .map(|(k, v)| (k.to_string(), Value::String(v.to_string())))
                .collect(),
        );
        function(DatabaseUrlFunction).call_value(&Arguments::new(vec![
            (url, Type::String),
            (parts, Type::map(Type::String)),
        ]))
    }

    #[test]
    fn builds_and_replaces() {
        assert_eq!(
            call(
                None,
                &[
                    ("username", "th_admin"),
                    ("password", "abcdefghijklmnopqrstuvwxyz0123"),
                    ("host", "db.example"),
                    ("database", "treeherder")
                ]
            ),
            Ok(Value::String(
                "mysql://th_admin:abcdefghijklmnopqrstuvwxyz0123@db.example/treeherder".into()
            ))
        );
        assert_eq!(
            call(
                Some("mysql://u:abcdefghijklmnopqrstuvwxyz0123@a/d"),
                &[("host", "b")]
            ),
            Ok(Value::String(
                "mysql://u:abcdefghijklmnopqrstuvwxyz0123@b/d".into()
            ))
        );
    }

    #[test]
    fn errors_point_at_the_argument_at_fault() {
        let e = call(Some("not a url"), &[]).unwrap_err();
        assert_eq!(e.argument, Some(URL));
        let e = call(
            Some("mysql://u:abcdefghijklmnopqrstuvwxyz0123@a/d"),
            &[("hots", "b")],
        )
        .unwrap_err();
        assert_eq!(e.argument, Some(PARTS));
        assert!(
            e.text.contains("\"hots\"") && e.text.contains("accepted"),
            "{}",
            e.text
        );
        let e = call(None, &[("password", "short")]).unwrap_err();
        assert_eq!(e.argument, Some(PARTS));
        assert!(!e.text.contains("short\""), "{}", e.text);
    }
}
