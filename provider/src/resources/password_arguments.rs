//! The password arguments `treeherder_readonly_user` and `treeherder_database_password` share:
//! `password` (kept in state as a sensitive value), or the write-only `password_wo`, sent again
//! when `password_wo_version` changes. One set of rules, reported at each resource's attributes.

use tfplugin::{AttributePath, Diagnostic, Diagnostics, Field, WriteOnly};

use crate::clients::mysql::Password;
use crate::resources::readonly_user::AccountPassword;

/// A configuration's password arguments and where they are.
pub(crate) struct PasswordArguments<'a> {
    pub password: (&'a Field<AccountPassword>, AttributePath),
    pub password_wo: (&'a Field<WriteOnly>, AttributePath),
    pub password_wo_version: (&'a Field<u64>, AttributePath),
}

/// `password_wo` checked against the password rules, at `at`.
pub(crate) fn write_only_password(
    secret: &WriteOnly,
    at: AttributePath,
) -> Result<Password, Diagnostics> {
    // PasswordError names the rule broken, never the password.
    Password::new(secret.expose()).map_err(|e| {
        Diagnostic::error("Invalid password", e.to_string())
            .at(at)
            .into()
    })
}

impl PasswordArguments<'_> {
    /// At most one of `password` and `password_wo` (`conflict_hint` ends the message with what
    /// the resource advises), a valid `password_wo`, and `password_wo_version` exactly with it.
    pub(crate) fn validate(&self, conflict_hint: &str, diagnostics: &mut Diagnostics) {
        let (password, password_path) = &self.password;
        let (password_wo, wo_path) = &self.password_wo;
        let (version, version_path) = &self.password_wo_version;
        let has_wo = !password_wo.is_null();
        if !password.is_null() && has_wo {
            diagnostics.push(
                Diagnostic::error(
                    "Conflicting password arguments",
                    format!("Set only one of `{password_path}` and `{wo_path}`{conflict_hint}"),
                )
                .at(wo_path.clone()),
            );
        }
        if let Field::Known(secret) = password_wo {
            if let Err(errors) = write_only_password(secret, wo_path.clone()) {
                diagnostics.extend(errors);
            }
        }
        match (has_wo, version.is_null()) {
            (true, true) => diagnostics.push(
                Diagnostic::error(
                    "Missing password_wo_version",
                    format!(
                        "`{wo_path}` needs `{version_path}` (a number, e.g. 1): the write-only \
                         value is not stored, so changing `{version_path}` is how a new one is sent."
                    ),
                )
                .at(version_path.clone()),
            ),
            (false, false) => diagnostics.push(
                Diagnostic::error(
                    "password_wo_version without password_wo",
                    format!(
                        "`{version_path}` only applies to `{wo_path}`; remove it or set `{wo_path}`."
                    ),
                )
                .at(version_path.clone()),
            ),
            _ => {}
        }
    }
}
