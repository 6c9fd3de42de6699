//! The password arguments `treeherder_readonly_user` and `treeherder_database_password` share:
//! `password` (kept in state as a sensitive value), or the write-only `password_wo`, sent again
//! when `password_wo_version` changes. The rules between them are tfplugin's rules over several
//! attributes, declared once here as one value each model attaches; what is Treeherder's own
//! is the password's content ([`Password`]'s rules).

use std::collections::BTreeMap;

use tfplugin::validators::{AlsoRequires, BlockValidator, ConflictsWith, Validator};
use tfplugin::value::Value;
use tfplugin::{AttributePath, Diagnostic, Diagnostics, WriteOnly};

use crate::clients::mysql::Password;

/// `password_wo` checked against the password rules, at `at`.
pub(crate) fn write_only_password(
    secret: &WriteOnly,
    at: AttributePath,
) -> Result<Password, Diagnostics> {
    // PasswordError names the rule broken, never the password.
    Password::new(secret.expose()).map_err(|e| invalid_password(e.to_string(), at).into())
}

fn invalid_password(detail: String, at: AttributePath) -> Diagnostic {
    Diagnostic::error("Invalid password", detail).at(at)
}

/// The password rules as an attribute validator, for `password_wo` (whose type accepts any
/// string; `password`'s type checks them when it is read).
pub(crate) struct PasswordRules;

impl Validator for PasswordRules {
    fn description(&self) -> String {
        "a password of 30 to 256 characters of `A-Z a-z 0-9 - _ . ~ ! $ & ( ) * + , ; =`".into()
    }

    fn validate(&self, path: &AttributePath, value: &Value, diagnostics: &mut Diagnostics) {
        let Some(text) = value.as_str() else { return };
        if let Err(e) = Password::new(text) {
            diagnostics.push(invalid_password(e.to_string(), path.clone()));
        }
    }
}

/// At most one of `password` and `password_wo`, and `password_wo_version` exactly with
/// `password_wo`: one value, attached with `#[tf(validator = PasswordArguments::rules(hint))]`.
pub(crate) struct PasswordArguments {
    rules: [Box<dyn BlockValidator>; 3],
}

impl PasswordArguments {
    /// The rules; `conflict_hint` ends the conflict's message with what the resource advises.
    pub(crate) fn rules(conflict_hint: &str) -> Self {
        let mut conflict = ConflictsWith::new(&["password", "password_wo"]);
        conflict
            .summary("Conflicting password arguments")
            .hint(conflict_hint);
        let mut version = AlsoRequires::new(&["password_wo"], &["password_wo_version"]);
        version.hint(
            "It is a number, e.g. 1: the write-only value is not stored, so changing \
             `password_wo_version` is how a new one is sent.",
        );
        let mut stray = AlsoRequires::new(&["password_wo_version"], &["password_wo"]);
        stray
            .summary("password_wo_version without password_wo")
            .hint(
            "`password_wo_version` only applies to `password_wo`; remove it or set `password_wo`.",
        );
        PasswordArguments {
            rules: [Box::new(conflict), Box::new(version), Box::new(stray)],
        }
    }
}

impl BlockValidator for PasswordArguments {
    fn description(&self) -> String {
        let rules: Vec<String> = self.rules.iter().map(|r| r.description()).collect();
        rules.join("; ")
    }

    fn validate(
        &self,
        path: &AttributePath,
        attributes: &BTreeMap<String, Value>,
        diagnostics: &mut Diagnostics,
    ) {
        for rule in &self.rules {
            rule.validate(path, attributes, diagnostics);
        }
    }
}
