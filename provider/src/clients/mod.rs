//! Clients for the remote APIs the provider manages, and [`Clients`], what the provider's
//! configuration builds for every resource.

pub mod heroku;
pub mod mysql;

use std::time::Duration;

use tfplugin::{AttributePath, Diagnostic, Diagnostics};
use tokio::sync::OnceCell;

use crate::config::{secret_setting, setting, HerokuSettings, MysqlSettings, ProviderConfig};
use heroku::{ApiKey, HerokuClient, HerokuConfig};
use mysql::{MysqlClient, MysqlConfig, TlsMode};

/// What resources use: a Heroku client and a lazily opened MySQL connection pool.
pub struct Clients {
    heroku: Result<HerokuClient, Diagnostics>,
    mysql_config: Result<MysqlConfig, Diagnostics>,
    mysql: OnceCell<MysqlClient>,
}

impl Clients {
    /// The Heroku client, or why there is none.
    pub fn heroku(&self) -> Result<&HerokuClient, Diagnostics> {
        self.heroku.as_ref().map_err(Clone::clone)
    }

    /// The MySQL client, connecting on first use (so Heroku-only configurations need no database).
    pub async fn mysql(&self) -> Result<&MysqlClient, Diagnostics> {
        let config = self.mysql_config.as_ref().map_err(Clone::clone)?;
        self.mysql
            .get_or_try_init(|| async {
                MysqlClient::connect(config.clone())
                    .await
                    .map_err(Diagnostics::from)
            })
            .await
    }

    /// The database named in the provider configuration.
    pub fn default_database(&self) -> Option<&str> {
        self.mysql_config.as_ref().ok().map(|c| c.database.as_str())
    }
}

fn missing(block: &str, attribute: &str, env: &str) -> Diagnostics {
    Diagnostic::error(
        format!("Missing provider setting {block}.{attribute}"),
        format!("Set `{attribute}` in the provider's `{block} {{}}` block, or the environment variable {env}."),
    )
    .at(AttributePath::root(block).attribute(attribute))
    .into()
}

fn heroku_client(settings: &HerokuSettings) -> Result<HerokuClient, Diagnostics> {
    let api_key = secret_setting(settings.api_key.as_ref(), "HEROKU_API_KEY")
        .ok_or_else(|| missing("heroku", "api_key", "HEROKU_API_KEY"))?;
    tfplugin::log::register_secret(&api_key);
    let mut config = HerokuConfig::new(ApiKey::new(api_key));
    if let Some(url) = setting(settings.api_url.as_ref(), "HEROKU_API_URL") {
        config.api_url = url;
    }
    if let Some(url) = setting(settings.scheduler_url.as_ref(), "HEROKU_SCHEDULER_URL") {
        config.scheduler_url = url;
    }
    if let Some(retries) = settings.max_retries {
        config.max_retries = retries;
    }
    if let Some(ms) = settings.retry_base_delay_ms {
        config.base_backoff = Duration::from_millis(ms);
    }
    config.user_agent = format!(
        "terraform-provider-treeherder/{}",
        env!("CARGO_PKG_VERSION")
    );
    HerokuClient::new(config).map_err(Diagnostics::from)
}

fn mysql_config(settings: &MysqlSettings) -> Result<MysqlConfig, Diagnostics> {
    let endpoint = setting(settings.endpoint.as_ref(), "TREEHERDER_MYSQL_ENDPOINT")
        .ok_or_else(|| missing("mysql", "endpoint", "TREEHERDER_MYSQL_ENDPOINT"))?;
    let username = setting(settings.username.as_ref(), "TREEHERDER_MYSQL_USERNAME")
        .ok_or_else(|| missing("mysql", "username", "TREEHERDER_MYSQL_USERNAME"))?;
    let password = secret_setting(settings.password.as_ref(), "TREEHERDER_MYSQL_PASSWORD")
        .ok_or_else(|| missing("mysql", "password", "TREEHERDER_MYSQL_PASSWORD"))?;
    tfplugin::log::register_secret(&password);
    let mut config = MysqlConfig::new(endpoint, username, password);
    if let Some(database) = setting(settings.database.as_ref(), "TREEHERDER_MYSQL_DATABASE") {
        config.database = database;
    }
    config.tls_ca_file = setting(
        settings.tls_ca_file.as_ref(),
        "TREEHERDER_MYSQL_TLS_CA_FILE",
    )
    .map(Into::into);
    if let Some(mode) = setting(settings.tls_mode.as_ref(), "TREEHERDER_MYSQL_TLS_MODE") {
        config.tls_mode = mode.parse::<TlsMode>().map_err(|e| {
            Diagnostics::from(
                Diagnostic::error("Invalid mysql.tls_mode", e.to_string())
                    .at(AttributePath::root("mysql").attribute("tls_mode")),
            )
        })?;
    }
    // Checked here, before any connection: a plaintext setting for a remote host must fail
    // before a byte of credentials leaves the process.
    config.validate().map_err(|e| {
        Diagnostics::from(
            Diagnostic::error("Invalid mysql configuration", e.to_string())
                .at(AttributePath::root("mysql")),
        )
    })?;
    Ok(config)
}

impl Clients {
    /// The clients a provider configuration describes. A mysql block that was written but is
    /// invalid is an error now; an absent one only for the resources that need it.
    pub fn from_config(config: ProviderConfig) -> Result<Clients, Diagnostics> {
        let heroku = heroku_client(&config.heroku.unwrap_or_default());
        let mysql_settings = config.mysql.unwrap_or_default();
        let mysql_config = mysql_config(&mysql_settings);
        if mysql_settings.endpoint.is_some() {
            if let Err(diagnostics) = &mysql_config {
                return Err(diagnostics.clone());
            }
        }
        Ok(Clients {
            heroku,
            mysql_config,
            mysql: OnceCell::new(),
        })
    }
}
