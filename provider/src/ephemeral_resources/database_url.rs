//! `treeherder_database_url`: an app's `DATABASE_URL` config var and its parts, only while
//! Terraform runs, to hand the app's MySQL credentials to write-only attributes without a copy
//! at rest.

use async_trait::async_trait;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use tfplugin::framework::{Context, EphemeralResource, Opened};
use tfplugin::types::quote;
use tfplugin::{attr, Diagnostic, Diagnostics, Field, Sensitive};

use crate::clients::heroku::AppIdentity;
use crate::clients::Clients;

/// The config var read.
pub const DATABASE_URL: &str = "DATABASE_URL";

/// MySQL's port when the URL names none.
const DEFAULT_PORT: u16 = 3306;

/// The app's `DATABASE_URL` and its parts (percent-decoded), never stored.
#[derive(Debug, Serialize, Deserialize, JsonSchema)]
pub struct DatabaseUrlModel {
    /// The Heroku app, by name (`treeherder-stage`) or UUID.
    pub app: Field<AppIdentity>,
    /// The whole `DATABASE_URL`, as the app holds it.
    #[serde(default)]
    #[schemars(extend("x-terraform" = { "computed": true }))]
    pub url: Field<Sensitive>,
    /// Host name of the database server.
    #[serde(default)]
    #[schemars(extend("x-terraform" = { "computed": true }))]
    pub host: Field<String>,
    /// Port; 3306 when the URL names none.
    #[serde(default)]
    #[schemars(extend("x-terraform" = { "computed": true }))]
    pub port: Field<u64>,
    /// MySQL user name (percent-decoded).
    #[serde(default)]
    #[schemars(extend("x-terraform" = { "computed": true }))]
    pub username: Field<String>,
    /// MySQL password (percent-decoded).
    #[serde(default)]
    #[schemars(extend("x-terraform" = { "computed": true }))]
    pub password: Field<Sensitive>,
    /// Database name (the URL's path without its `/`, percent-decoded).
    #[serde(default)]
    #[schemars(extend("x-terraform" = { "computed": true }))]
    pub database: Field<String>,
}

/// A parsed `DATABASE_URL`.
#[derive(PartialEq, Eq)]
pub struct DatabaseUrl {
    /// Host name.
    pub host: String,
    /// Port.
    pub port: u16,
    /// User name, decoded.
    pub username: String,
    /// Password, decoded.
    pub password: String,
    /// Database, decoded.
    pub database: String,
}

/// Why a `DATABASE_URL` could not be parsed; never holds any part of the URL but its scheme.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum DatabaseUrlError {
    /// Not a URL at all.
    #[error("it is not a valid URL ({0})")]
    Invalid(url::ParseError),
    /// A scheme other than mysql.
    #[error("its scheme is {0}, not mysql://")]
    Scheme(String),
    /// A part is missing.
    #[error("it has no {0}")]
    Missing(&'static str),
    /// A percent-escape does not decode to UTF-8.
    #[error("its {0} is not UTF-8 once percent-decoded")]
    NotUtf8(&'static str),
}

fn decode(text: &str, part: &'static str) -> Result<String, DatabaseUrlError> {
    percent_decode(text).ok_or(DatabaseUrlError::NotUtf8(part))
}

/// Percent-decoding as Django's `dj-database-url` does (`urllib.parse.unquote`: `%XX` only,
/// `+` stays `+`); `None` when the bytes are not UTF-8.
fn percent_decode(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        match (bytes[i], bytes.get(i + 1), bytes.get(i + 2)) {
            (b'%', Some(&h), Some(&l)) if hex(h).is_some() && hex(l).is_some() => {
                out.push((hex(h)? * 16 + hex(l)?) as u8);
                i += 3;
            }
            (b, _, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8(out).ok()
}

impl DatabaseUrl {
    /// Parses `mysql://user:password@host[:port]/database[?options]`.
    pub fn parse(text: &str) -> Result<DatabaseUrl, DatabaseUrlError> {
        let url = url::Url::parse(text).map_err(DatabaseUrlError::Invalid)?;
        if !matches!(url.scheme(), "mysql" | "mysql2") {
            return Err(DatabaseUrlError::Scheme(quote(url.scheme())));
        }
        let host = url
            .host_str()
            .filter(|h| !h.is_empty())
            .ok_or(DatabaseUrlError::Missing("host"))?;
        if url.username().is_empty() {
            return Err(DatabaseUrlError::Missing("user name"));
        }
        let password = url
            .password()
            .ok_or(DatabaseUrlError::Missing("password"))?;
        let database = url.path().trim_start_matches('/');
        if database.is_empty() {
            return Err(DatabaseUrlError::Missing("database"));
        }
        Ok(DatabaseUrl {
            host: host.to_string(),
            port: url.port().unwrap_or(DEFAULT_PORT),
            username: decode(url.username(), "user name")?,
            password: decode(password, "password")?,
            database: decode(database, "database")?,
        })
    }
}

/// The `treeherder_database_url` ephemeral resource.
pub struct DatabaseUrlEphemeral;

#[async_trait]
impl EphemeralResource for DatabaseUrlEphemeral {
    type Model = DatabaseUrlModel;
    type Client = Clients;

    fn type_name(&self) -> &'static str {
        "treeherder_database_url"
    }

    async fn open(
        &self,
        ctx: &Context<'_, Clients>,
        mut config: DatabaseUrlModel,
    ) -> Result<Opened<DatabaseUrlModel>, Diagnostics> {
        let heroku = ctx.client()?.heroku()?;
        let app = config.app.value()?.clone();
        let app_id = heroku.resolve_app_id(&app).await?;
        // Fresh: an ephemeral value is read when needed, not from a cache of this run.
        let vars = heroku.read_config_vars(app_id, true).await?;
        let Some(text) = vars.get(DATABASE_URL) else {
            return Err(Diagnostic::error(
                "No DATABASE_URL",
                format!("The app {} has no {DATABASE_URL} config var.", quote(&app)),
            )
            .at(attr!(DatabaseUrlModel, app))
            .into());
        };
        tfplugin::log::register_secret(text);
        let parsed = DatabaseUrl::parse(text).map_err(|e| {
            Diagnostic::error(
                "Unusable DATABASE_URL",
                format!(
                    "The {DATABASE_URL} of {} cannot be used: {e}. Expected \
                     mysql://user:password@host:port/database.",
                    quote(&app)
                ),
            )
            .at(attr!(DatabaseUrlModel, app))
        })?;
        tfplugin::log::register_secret(&parsed.password);
        config.url.set(Sensitive::new(text.as_str()));
        config.host.set(parsed.host);
        config.port.set(u64::from(parsed.port));
        config.username.set(parsed.username);
        config.password.set(Sensitive::new(parsed.password));
        config.database.set(parsed.database);
        Ok(Opened::new(config))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_heroku_style_urls_and_decodes_each_part() {
        let url = DatabaseUrl::parse(
            "mysql://th_admin:sandbox-db-password@treeherder-stage.abc.us-east-1.rds.amazonaws.com:3306/treeherder",
        )
        .unwrap();
        assert_eq!(url.host, "treeherder-stage.abc.us-east-1.rds.amazonaws.com");
        assert_eq!(url.port, 3306);
        assert_eq!(url.username, "th_admin");
        assert_eq!(url.password, "sandbox-db-password");
        assert_eq!(url.database, "treeherder");

        let url = DatabaseUrl::parse(
            "mysql://us%40er:p%25ss%2Fw%3Ard+x@db.example:3307/tree%20herder?ssl=1",
        )
        .unwrap();
        assert_eq!(url.username, "us@er");
        assert_eq!(url.password, "p%ss/w:rd+x");
        assert_eq!(url.database, "tree herder");
        assert_eq!(url.port, 3307);
        assert_eq!(
            DatabaseUrl::parse("mysql://u:p@h/d").unwrap().port,
            DEFAULT_PORT
        );
    }

    #[test]
    fn unusable_urls_are_refused_without_echoing_them() {
        for (text, expected) in [
            ("not a url SECRET", "not a valid URL"),
            ("postgres://u:SECRET@h/d", "scheme"),
            ("mysql://u@h/d", "no password"),
            ("mysql://:SECRET@h/d", "no user name"),
            ("mysql://u:SECRET@h:3306", "no database"),
            ("mysql://u:%ff%feSECRET@h/d", "not UTF-8"),
        ] {
            let err = DatabaseUrl::parse(text).err().unwrap().to_string();
            assert!(err.contains(expected), "{text}: {err}");
            assert!(!err.contains("SECRET"), "{err}");
        }
    }

    #[test]
    fn schema_marks_the_secrets_sensitive() {
        let schema = DatabaseUrlEphemeral.schema().unwrap();
        for name in ["url", "password"] {
            let a = schema.block.attribute(name).unwrap();
            assert!(a.sensitive && a.computed, "{name}");
        }
        for name in ["host", "port", "username", "database"] {
            assert!(!schema.block.attribute(name).unwrap().sensitive, "{name}");
        }
        assert!(schema.block.attribute("app").unwrap().required);
    }
}
