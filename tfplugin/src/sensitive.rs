//! [`Sensitive`]: a model field type for secrets.

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
            "x-terraform": { "sensitive": true }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::Schema as TfSchema;

    #[allow(dead_code)]
    #[derive(Deserialize, JsonSchema)]
    struct Login {
        /// User.
        user: String,
        /// Password.
        password: Sensitive,
        /// Token, if any.
        token: Option<Sensitive>,
    }

    #[test]
    fn marks_attributes_sensitive_and_hides_the_value() {
        let schema = TfSchema::from_model::<Login>().expect("derive");
        let password = schema.block.attribute("password").expect("password");
        assert!(password.sensitive && password.required);
        let token = schema.block.attribute("token").expect("token");
        assert!(token.sensitive && token.optional);
        assert!(!schema.block.attribute("user").expect("user").sensitive);

        let secret = Sensitive::new("hunter2-hunter2");
        assert!(!format!("{secret:?}").contains("hunter2"));
        assert_eq!(secret.expose(), "hunter2-hunter2");
        let login: Login =
            serde_json::from_str(r#"{"user":"u","password":"p4ss-word","token":null}"#)
                .expect("json");
        assert_eq!(login.password.expose(), "p4ss-word");
    }
}
