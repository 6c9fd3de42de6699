//! [`Sensitive`] and [`WriteOnly`]: the model field types for secrets, the only way a
//! schema declares one.

use std::borrow::Cow;
use std::fmt;

use schemars::{json_schema, JsonSchema, Schema, SchemaGenerator};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A secret string in a model. Its schema marks the attribute sensitive (no extension needed),
/// its `Debug` never shows the value, and it has no `Display`: reading it takes an explicit
/// [`Sensitive::expose`].
#[derive(Clone, PartialEq, Eq, Default)]
pub struct Sensitive(String);

impl Sensitive {
    /// Wraps a secret.
    pub fn new(secret: impl Into<String>) -> Self {
        Sensitive(secret.into())
    }

    /// The secret itself, for the one place that must send it.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// True for the empty string.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Debug for Sensitive {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Sensitive(<redacted>)")
    }
}

impl Serialize for Sensitive {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for Sensitive {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        String::deserialize(deserializer).map(Sensitive)
    }
}

impl JsonSchema for Sensitive {
    fn schema_name() -> Cow<'static, str> {
        "Sensitive".into()
    }

    fn inline_schema() -> bool {
        true
    }

    fn json_schema(_generator: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "type": "string",
            "x-tfplugin-sensitive": true
        })
    }
}

/// A secret that Terraform ≥ 1.11 passes to `create` and `update` from the configuration
/// and never stores: the attribute is write-only (and sensitive), null in every plan and
/// state. Pair it with a plain `*_version` attribute whose change triggers a rotation.
/// Older Terraform cannot send it: setting it there is a validation error naming it.
#[derive(Clone, PartialEq, Eq, Default)]
pub struct WriteOnly(Sensitive);

impl WriteOnly {
    /// Wraps a secret.
    pub fn new(secret: impl Into<String>) -> Self {
        WriteOnly(Sensitive::new(secret))
    }

    /// The secret itself, for the one place that must send it.
    pub fn expose(&self) -> &str {
        self.0.expose()
    }

    /// The secret as a [`Sensitive`].
    pub fn into_sensitive(self) -> Sensitive {
        self.0
    }
}

impl fmt::Debug for WriteOnly {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("WriteOnly(<redacted>)")
    }
}

impl Serialize for WriteOnly {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.0.serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for WriteOnly {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Sensitive::deserialize(deserializer).map(WriteOnly)
    }
}

impl JsonSchema for WriteOnly {
    fn schema_name() -> Cow<'static, str> {
        "WriteOnly".into()
    }

    fn inline_schema() -> bool {
        true
    }

    fn json_schema(_generator: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "type": "string",
            "x-tfplugin-write-only": true
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::Schema as TfSchema;

    #[allow(dead_code)]
    #[derive(Deserialize, JsonSchema, crate::Model)]
    struct Login {
        /// User.
        user: crate::Field<String>,
        /// Password.
        password: crate::Field<Sensitive>,
        /// Token, if any.
        #[serde(default)]
        token: crate::Field<Sensitive>,
        /// A write-only secret.
        #[serde(default)]
        rotate_wo: crate::Field<WriteOnly>,
    }

    #[test]
    fn marks_attributes_sensitive_and_hides_the_value() {
        let schema = TfSchema::from_model::<Login>().expect("derive");
        let password = schema.block.attribute("password").expect("password");
        assert!(password.sensitive && password.required);
        let token = schema.block.attribute("token").expect("token");
        assert!(token.sensitive && token.optional);
        assert!(!schema.block.attribute("user").expect("user").sensitive);
        let rotate = schema.block.attribute("rotate_wo").expect("rotate_wo");
        assert!(rotate.write_only && rotate.sensitive && rotate.optional && !rotate.computed);
        assert!(!format!("{:?}", WriteOnly::new("hunter2-hunter2")).contains("hunter2"));

        let secret = Sensitive::new("hunter2-hunter2");
        assert!(!format!("{secret:?}").contains("hunter2"));
        assert_eq!(secret.expose(), "hunter2-hunter2");
        let login: Login = serde_json::from_str(
            r#"{"user":"u","password":"p4ss-word","token":null,"rotate_wo":null}"#,
        )
        .expect("json");
        assert_eq!(
            login.password.get().map(Sensitive::expose),
            Some("p4ss-word")
        );
    }
}
