//! `example_token` ephemeral resource: a random token that exists only while Terraform runs,
//! to feed write-only attributes such as `example_file.token_wo`.

use async_trait::async_trait;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use tfplugin::framework::{Context, EphemeralResource, Opened};
use tfplugin::{Diagnostics, Field, Sensitive};

use crate::FileRoot;

/// A random token, never stored.
#[derive(Debug, Serialize, Deserialize, JsonSchema, tfplugin::Model)]
pub struct TokenModel {
    /// Characters in the token.
    #[schemars(range(min = 8, max = 128))]
    length: Field<u64>,
    /// The token.
    #[tf(computed)]
    #[serde(default)]
    result: Field<Sensitive>,
}

pub struct Token;

#[async_trait]
impl EphemeralResource for Token {
    type Model = TokenModel;
    type Client = FileRoot;

    fn type_name(&self) -> &'static str {
        "example_token"
    }

    async fn open(
        &self,
        _ctx: &Context<'_, FileRoot>,
        mut config: TokenModel,
    ) -> Result<Opened<TokenModel>, Diagnostics> {
        let length = *config.length.value()? as usize;
        let mut token = String::new();
        while token.len() < length {
            token.push_str(&uuid::Uuid::new_v4().simple().to_string());
        }
        token.truncate(length);
        tfplugin::log::register_secret(&token);
        config.result.set(Sensitive::new(token));
        Ok(Opened::new(config))
    }
}
