//! Whether `treeherder_readonly_user` manages the account's password.
//!
//! With neither `password` nor `password_wo` it does not: an adopted account (ActiveData's,
//! Redash's) keeps the password that lives in its users' configuration, and only its TLS
//! requirement and grants are managed. A new account still needs one: `CREATE USER` without
//! a password would make an account anyone can log in to.

use tfplugin::{attr, Diagnostic, Diagnostics};

use super::ReadonlyUserModel;

/// Whether the configuration sets a password (an unknown value counts as set).
pub(super) fn manages_password(config: &ReadonlyUserModel) -> bool {
    !config.password.is_null() || !config.password_wo.is_null()
}

/// Whether the apply sets the password: always for a new account; for an existing one, when
/// `password` is set and changed, or `password_wo_version` is set and changed (the write-only
/// value itself is never compared: it is not stored). Removing both leaves the password alone.
pub(super) fn password_changes(
    prior: Option<&ReadonlyUserModel>,
    planned: &ReadonlyUserModel,
) -> bool {
    let Some(prior) = prior else {
        return true;
    };
    let password = !planned.password.is_null() && prior.password != planned.password;
    let version = !planned.password_wo_version.is_null()
        && prior.password_wo_version != planned.password_wo_version;
    password || version
}

/// Refuses, at plan, to create an account without a password (the create half of a
/// replacement included: the new account gets no password from the old one).
pub(super) fn require_password_to_create(
    prior: Option<&ReadonlyUserModel>,
    config: &ReadonlyUserModel,
) -> Result<(), Diagnostics> {
    if prior.is_some() || manages_password(config) {
        return Ok(());
    }
    Err(missing_password())
}

/// The error for a new account without a password.
pub(super) fn missing_password() -> Diagnostics {
    let (password, password_wo) = (
        attr!(ReadonlyUserModel, password),
        attr!(ReadonlyUserModel, password_wo),
    );
    let version = attr!(ReadonlyUserModel, password_wo_version);
    Diagnostic::error(
        "Missing required argument",
        format!(
            "A password is required to create an account: set `{password}` (stored in state as \
             a sensitive value; any Terraform), or, with Terraform 1.11 or later, \
             `{password_wo}` (write-only, never stored, e.g. \
             `ephemeral.treeherder_password.<name>.result`) with `{version}`. Only an existing \
             account, imported, may omit both: its password is then left as it is."
        ),
    )
    .at(password)
    .into()
}

#[cfg(test)]
mod tests {
    use super::*;
    use tfplugin::Field;

    fn model(overrides: serde_json::Value) -> ReadonlyUserModel {
        let mut json = serde_json::json!({
            "name": "r", "host": "%", "password": null, "require_ssl": true,
            "database": "treeherder", "exclude_tables": "^x", "column_grants": {},
            "id": null, "granted_tables": null, "grant_statements": null
        });
        for (k, v) in overrides.as_object().into_iter().flatten() {
            json[k] = v.clone();
        }
        serde_json::from_value(json).unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn without_a_password_an_existing_account_keeps_its_own() {
        let adopted = model(serde_json::json!({}));
        assert!(!manages_password(&adopted));
        assert!(!password_changes(Some(&adopted), &adopted));
        assert!(require_password_to_create(Some(&adopted), &adopted).is_ok());
        // Dropping a managed password stops managing it; it is not "changed to nothing".
        let managed = model(serde_json::json!({ "password": "p".repeat(30) }));
        assert!(!password_changes(Some(&managed), &adopted));
        let versioned = model(serde_json::json!({ "password_wo_version": 3 }));
        assert!(!password_changes(Some(&versioned), &adopted));
    }

    #[test]
    fn giving_a_password_to_an_adopted_account_sets_it() {
        let adopted = model(serde_json::json!({}));
        let managed = model(serde_json::json!({ "password": "p".repeat(30) }));
        assert!(password_changes(Some(&adopted), &managed));
        let mut wo = adopted.clone();
        wo.password_wo_version = Field::known(1u64);
        assert!(password_changes(Some(&adopted), &wo));
        assert!(!password_changes(Some(&wo), &wo.clone()));
    }

    #[test]
    fn a_new_account_needs_a_password_at_its_attribute() {
        let config = model(serde_json::json!({}));
        assert!(password_changes(None, &config));
        let err = require_password_to_create(None, &config).unwrap_err();
        let d = err.iter().next().expect("an error");
        assert_eq!(d.attribute, Some(attr!(ReadonlyUserModel, password)));
        assert!(d.detail.contains("password_wo_version"), "{}", d.detail);
        let mut unknown = config.clone();
        unknown.password_wo = Field::Unknown;
        assert!(require_password_to_create(None, &unknown).is_ok());
    }
}
