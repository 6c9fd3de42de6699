//! The provider block: `heroku {}` and `mysql {}`, each falling back to environment variables.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::Deserialize;
use tfplugin::Sensitive;

/// Configuration of the Treeherder provider. Each setting may instead come from an
/// environment variable, so CI can keep secrets out of configuration files.
#[derive(Debug, Default, Deserialize, JsonSchema, tfplugin::Model)]
pub struct ProviderConfig {
    /// Heroku Platform API and Heroku Scheduler settings.
    #[tf(block = single)]
    pub heroku: Option<HerokuSettings>,
    /// The admin connection to the **primary** RDS MySQL instance (never the read-only replica).
    #[tf(block = single)]
    pub mysql: Option<MysqlSettings>,
    /// Amazon RDS settings (`treeherder_rds_snapshot`, `treeherder_rds_snapshot_instance`).
    /// Credentials come from the standard AWS chain: `AWS_ACCESS_KEY_ID` /
    /// `AWS_SECRET_ACCESS_KEY` / `AWS_SESSION_TOKEN`, the shared config and credentials files,
    /// web identity, container and instance metadata.
    #[tf(block = single)]
    pub aws: Option<AwsSettings>,
}

/// Heroku settings.
#[derive(Debug, Default, Deserialize, JsonSchema, tfplugin::Model)]
pub struct HerokuSettings {
    /// Heroku API key (`heroku auth:token`). Environment: `HEROKU_API_KEY`.
    pub api_key: Option<Sensitive>,
    /// Platform API base URL. Default `https://api.heroku.com`. Environment: `HEROKU_API_URL`.
    pub api_url: Option<String>,
    /// Scheduler API base URL. Default `https://particleboard.heroku.com`. Environment: `HEROKU_SCHEDULER_URL`.
    pub scheduler_url: Option<String>,
    /// Heroku's GitHub integration service (the dashboard's Deploy tab) base URL. Default
    /// `https://kolkrabbi.heroku.com`. Environment: `HEROKU_GITHUB_INTEGRATION_URL`. The GitHub
    /// token for the API below comes from this service (the GitHub account linked to the
    /// Heroku account), never from configuration.
    pub github_integration_url: Option<String>,
    /// GitHub API base URL, to resolve branches and tags to commits. Default
    /// `https://api.github.com`. Environment: `HEROKU_GITHUB_API_URL`.
    pub github_api_url: Option<String>,
    /// Retries after a rate limit (429), a server error or a lost connection. Default 5.
    #[schemars(range(min = 0, max = 20))]
    pub max_retries: Option<u32>,
    /// First retry delay in milliseconds, doubled on each retry. Default 2000.
    #[schemars(range(min = 1, max = 600000))]
    pub retry_base_delay_ms: Option<u64>,
}

/// MySQL settings.
#[derive(Debug, Default, Deserialize, JsonSchema, tfplugin::Model)]
pub struct MysqlSettings {
    /// `host:port` of the primary instance. Environment: `TREEHERDER_MYSQL_ENDPOINT`.
    pub endpoint: Option<String>,
    /// Admin user, e.g. `th_admin`. Environment: `TREEHERDER_MYSQL_USERNAME`.
    pub username: Option<String>,
    /// Admin password. Environment: `TREEHERDER_MYSQL_PASSWORD`.
    pub password: Option<Sensitive>,
    /// Database whose tables are granted. Default `treeherder`. Environment: `TREEHERDER_MYSQL_DATABASE`.
    pub database: Option<String>,
    /// PEM bundle of CAs to trust, e.g. AWS's `global-bundle.pem`. Environment: `TREEHERDER_MYSQL_TLS_CA_FILE`.
    pub tls_ca_file: Option<String>,
    /// `verify_identity` (default), `verify_ca`, or `disabled` (loopback hosts only: TLS is
    /// required for every other host, checked before any credentials are sent).
    /// Environment: `TREEHERDER_MYSQL_TLS_MODE`.
    #[schemars(extend("enum" = ["verify_identity", "verify_ca", "disabled"]))]
    pub tls_mode: Option<String>,
    /// Endpoints reached through a local address, such as an SSH tunnel or bastion: a map from
    /// the endpoint `host:port`, as RDS reports it and as it appears in `DATABASE_URL` (port
    /// 3306 by default), to the local `host:port` that reaches it, e.g.
    /// `{ "db.abc.us-east-1.rds.amazonaws.com:3306" = "127.0.0.1:13306" }`. Connections to a
    /// mapped endpoint go to the local address, but the server certificate is still verified
    /// against the endpoint's host name, and `tls_mode = "disabled"` stays refused for it.
    /// Environment: `TREEHERDER_MYSQL_TUNNELS`, comma-separated `endpoint=local` pairs.
    pub tunnels: Option<BTreeMap<String, String>>,
}

/// Amazon RDS settings.
#[derive(Debug, Default, Deserialize, JsonSchema, tfplugin::Model)]
pub struct AwsSettings {
    /// AWS region. Default `us-east-1`. Environment: `AWS_REGION`, `AWS_DEFAULT_REGION`.
    pub region: Option<String>,
    /// Another RDS endpoint than AWS's, e.g. a local emulator: https://, or http:// to a
    /// loopback host. Environment: `AWS_ENDPOINT_URL_RDS`, `AWS_ENDPOINT_URL`.
    pub endpoint_url: Option<String>,
    /// Profile of the shared AWS config files to take credentials from. Environment:
    /// `AWS_PROFILE`.
    pub profile: Option<String>,
    /// Retries after throttling, a server error or a lost connection. Default 5.
    #[schemars(range(min = 0, max = 20))]
    pub max_retries: Option<u32>,
    /// Time between two polls of an instance being restored, modified, rebooted or deleted,
    /// e.g. `15s` (the default) or `500ms`.
    pub poll_interval: Option<tfplugin::types::Duration>,
}

/// The configured value, else the environment variable `name` (empty counts as unset).
pub(crate) fn setting(configured: Option<&String>, name: &str) -> Option<String> {
    configured
        .filter(|v| !v.is_empty())
        .cloned()
        .or_else(|| std::env::var(name).ok().filter(|v| !v.is_empty()))
}

/// [`setting`] for a secret.
pub(crate) fn secret_setting(configured: Option<&Sensitive>, name: &str) -> Option<String> {
    setting(configured.map(|s| s.expose().to_string()).as_ref(), name)
}
