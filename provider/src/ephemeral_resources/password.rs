//! `treeherder_password`: a new random password that exists only while Terraform runs, for
//! write-only attributes such as `treeherder_readonly_user.password_wo` (the runbook's
//! "randomly generated 30+ character password").

use async_trait::async_trait;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use tfplugin::framework::{Context, EphemeralResource, Opened};
use tfplugin::{attr, Diagnostic, Diagnostics, Field, Sensitive};

use crate::clients::mysql::password::MIN_PASSWORD_LENGTH;
use crate::clients::mysql::password::{generate_password, MAX_GENERATED_LENGTH};
use crate::clients::Clients;

/// Length when `length` is not set.
pub const DEFAULT_LENGTH: u64 = 40;

/// A new random password from the operating system's CSPRNG, made of letters, digits and
/// `- . _ ~` with at least one of each kind, so it passes every password rule of this
/// provider and survives Django's `DATABASE_URL` parsing unchanged. Never stored.
#[derive(Debug, Serialize, Deserialize, JsonSchema, tfplugin::Model)]
pub struct PasswordModel {
    /// Characters in the password: 30 to 256, 40 by default.
    #[serde(default)]
    #[schemars(range(min = 30, max = 256))]
    pub length: Field<u64>,
    /// The password.
    #[serde(default)]
    #[tf(computed)]
    pub result: Field<Sensitive>,
}

/// The `treeherder_password` ephemeral resource.
pub struct PasswordEphemeralResource;

#[async_trait]
impl EphemeralResource for PasswordEphemeralResource {
    type Model = PasswordModel;
    type Client = Clients;

    fn type_name(&self) -> &'static str {
        "treeherder_password"
    }

    async fn open(
        &self,
        _ctx: &Context<'_, Clients>,
        mut config: PasswordModel,
    ) -> Result<Opened<PasswordModel>, Diagnostics> {
        let length = config.length.get().copied().unwrap_or(DEFAULT_LENGTH);
        let password = generate_password(length).map_err(|e| {
            Diagnostic::error("Cannot generate a password", e.to_string())
                .at(attr!(PasswordModel, length))
        })?;
        tfplugin::log::register_secret(password.expose());
        config.result.set(Sensitive::new(password.expose()));
        Ok(Opened::new(config))
    }
}

// The schema's range and the generator's must agree.
const _: () = assert!(MIN_PASSWORD_LENGTH == 30 && MAX_GENERATED_LENGTH == 256);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clients::mysql::validate_password;

    use tfplugin::value::Value;

    fn config(length: Value) -> Value {
        Value::Object(
            [
                ("length".to_string(), length),
                ("result".to_string(), Value::Null),
            ]
            .into_iter()
            .collect(),
        )
    }

    #[tokio::test]
    async fn open_gives_a_valid_password_of_the_length_asked_or_forty() {
        let registered =
            tfplugin::framework::ephemeral_resource(PasswordEphemeralResource).unwrap();
        let (_tx, stop) = tokio::sync::watch::channel(false);
        for (length, expected) in [
            (Value::Null, 40),
            (Value::Number(30i64.into()), 30),
            (Value::Number(99i64.into()), 99),
        ] {
            let opened = registered
                .open(None, stop.clone(), &config(length.clone()))
                .await;
            assert!(
                opened.diagnostics.iter().next().is_none(),
                "{:?}",
                opened.diagnostics
            );
            let result = opened
                .result
                .get_attr("result")
                .and_then(Value::as_str)
                .unwrap();
            assert_eq!(result.len(), expected);
            assert!(validate_password(result).is_ok());
            assert_eq!(opened.result.get_attr("length"), Some(&length));
            assert!(opened.renew_at.is_none());
        }
    }

    #[test]
    fn schema_marks_the_result_sensitive_and_the_length_optional() {
        let schema = PasswordEphemeralResource.schema().unwrap();
        let result = schema.block.attribute("result").unwrap();
        assert!(result.sensitive && result.computed && !result.optional);
        let length = schema.block.attribute("length").unwrap();
        assert!(length.optional && !length.computed);
    }

    #[test]
    fn lengths_outside_the_range_fail_at_the_attribute() {
        let registered =
            tfplugin::framework::ephemeral_resource(PasswordEphemeralResource).unwrap();
        let diagnostics = registered.validate(&config(Value::Number(29i64.into())), true);
        let d = diagnostics.iter().next().expect("an error");
        assert_eq!(d.attribute, Some(attr!(PasswordModel, length)));
        let fine = registered.validate(&config(Value::Number(30i64.into())), true);
        assert!(fine.iter().next().is_none());
    }
}
