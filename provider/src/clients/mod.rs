//! Clients for the remote APIs the provider manages, and [`Clients`], what the provider's
//! configuration builds for every resource.

pub mod database_url;
pub mod heroku;
pub mod mysql;
pub mod rds;
pub mod timestamp;

use std::collections::BTreeMap;
use std::time::Duration;

use tfplugin::{AttributePath, Diagnostic, Diagnostics};
use tokio::sync::OnceCell;

use crate::config::{
    secret_setting, setting, AwsSettings, HerokuSettings, MysqlSettings, ProviderConfig,
};
use heroku::{ApiKey, HerokuClient, HerokuConfig};
use mysql::{MysqlClient, MysqlConfig, TlsMode, Tunnels};
use rds::{RdsClient, RdsConfig};

/// What resources use: a Heroku client and a lazily opened MySQL connection pool.
pub struct Clients {
    heroku: Result<HerokuClient, Diagnostics>,
    mysql_config: Result<MysqlConfig, Diagnostics>,
    mysql: OnceCell<MysqlClient>,
    rds_config: RdsConfig,
    rds: OnceCell<RdsClient>,
}

impl Clients {
    /// The Heroku client, or why there is none.
    pub fn heroku(&self) -> Result<&HerokuClient, Diagnostics> {
        self.heroku.as_ref().map_err(provider_setting_problem)
    }

    /// The MySQL client, connecting on first use (so Heroku-only configurations need no database).
    pub async fn mysql(&self) -> Result<&MysqlClient, Diagnostics> {
        let config = self
            .mysql_config
            .as_ref()
            .map_err(provider_setting_problem)?;
        self.mysql
            .get_or_try_init(|| async {
                MysqlClient::connect(config.clone())
                    .await
                    .map_err(Diagnostics::from)
            })
            .await
    }

    /// The RDS client, made on first use (loading AWS credentials and config files is only
    /// worth it for the RDS resources).
    pub async fn rds(&self) -> Result<&RdsClient, Diagnostics> {
        self.rds
            .get_or_try_init(|| async {
                RdsClient::new(&self.rds_config)
                    .await
                    .map_err(Diagnostics::from)
            })
            .await
    }

    /// The database named in the provider configuration.
    pub fn default_database(&self) -> Option<&str> {
        self.mysql_config.as_ref().ok().map(|c| c.database.as_str())
    }

    /// The provider's MySQL settings (endpoint, admin login, TLS), or why there are none.
    pub fn mysql_config(&self) -> Result<&MysqlConfig, Diagnostics> {
        self.mysql_config.as_ref().map_err(provider_setting_problem)
    }
}

/// A provider-setting problem as a resource reports it: its paths name the provider's
/// attributes, which a resource's diagnostic would point at the resource's own attribute of
/// the same name (`password`), so they are dropped; the summary names the setting.
fn provider_setting_problem(diagnostics: &Diagnostics) -> Diagnostics {
    Diagnostics(
        diagnostics
            .iter()
            .cloned()
            .map(|mut d| {
                d.attribute = None;
                d
            })
            .collect(),
    )
}

fn missing(block: &str, attribute: &str, env: &str) -> Diagnostics {
    Diagnostic::error(
        format!("Missing provider setting {block}.{attribute}"),
        format!("Set `{attribute}` in the provider's `{block} {{}}` block, or the environment variable {env}."),
    )
    .at(AttributePath::root(block).attribute(attribute))
    .into()
}

/// A Heroku base URL from the configuration or `env`, refused (naming where it came from)
/// unless it is https:// or plain http:// to a loopback host.
fn heroku_url(
    configured: Option<&String>,
    attribute: &str,
    env: &str,
) -> Result<Option<String>, Diagnostics> {
    let from_config = configured.is_some_and(|v| !v.is_empty());
    let Some(url) = setting(configured, env) else {
        return Ok(None);
    };
    heroku::parse_base_url(&url).map_err(|e| {
        let source = if from_config {
            String::new()
        } else {
            format!(" (from the environment variable {env})")
        };
        Diagnostics::from(
            Diagnostic::error(
                format!("Invalid provider setting heroku.{attribute}"),
                format!("heroku.{attribute}{source}: {e}."),
            )
            .at(AttributePath::root("heroku").attribute(attribute)),
        )
    })?;
    Ok(Some(url))
}

fn heroku_client(settings: &HerokuSettings) -> Result<HerokuClient, Diagnostics> {
    let api_key = secret_setting(settings.api_key.as_ref(), "HEROKU_API_KEY")
        .ok_or_else(|| missing("heroku", "api_key", "HEROKU_API_KEY"))?;
    tfplugin::log::register_secret(&api_key);
    let mut config = HerokuConfig::new(ApiKey::new(api_key));
    if let Some(url) = heroku_url(settings.api_url.as_ref(), "api_url", "HEROKU_API_URL")? {
        config.api_url = url;
    }
    if let Some(url) = heroku_url(
        settings.scheduler_url.as_ref(),
        "scheduler_url",
        "HEROKU_SCHEDULER_URL",
    )? {
        config.scheduler_url = url;
    }
    if let Some(url) = heroku_url(
        settings.github_integration_url.as_ref(),
        "github_integration_url",
        "HEROKU_GITHUB_INTEGRATION_URL",
    )? {
        config.github_integration_url = url;
    }
    if let Some(url) = heroku_url(
        settings.github_api_url.as_ref(),
        "github_api_url",
        "HEROKU_GITHUB_API_URL",
    )? {
        config.github_api_url = url;
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

/// The RDS settings; the endpoint URL is checked now, before any request.
fn rds_config(settings: &AwsSettings) -> Result<RdsConfig, Diagnostics> {
    let mut config = RdsConfig::default();
    if let Some(region) = setting(settings.region.as_ref(), "AWS_REGION")
        .or_else(|| setting(None, "AWS_DEFAULT_REGION"))
    {
        config.region = region;
    }
    let from_config = settings
        .endpoint_url
        .as_ref()
        .is_some_and(|v| !v.is_empty());
    config.endpoint_url = setting(settings.endpoint_url.as_ref(), "AWS_ENDPOINT_URL_RDS")
        .or_else(|| setting(None, "AWS_ENDPOINT_URL"));
    if let Some(url) = &config.endpoint_url {
        heroku::parse_base_url(url).map_err(|e| {
            let source = if from_config {
                ""
            } else {
                " (from AWS_ENDPOINT_URL_RDS or AWS_ENDPOINT_URL)"
            };
            Diagnostics::from(
                Diagnostic::error(
                    "Invalid provider setting aws.endpoint_url",
                    format!("aws.endpoint_url{source}: {e}."),
                )
                .at(AttributePath::root("aws").attribute("endpoint_url")),
            )
        })?;
    }
    config.profile = settings.profile.clone().filter(|p| !p.is_empty());
    if let Some(retries) = settings.max_retries {
        config.max_retries = retries;
    }
    if let Some(interval) = &settings.poll_interval {
        config.poll_interval = interval.get();
    }
    Ok(config)
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
    config.tunnels = tunnels(settings)?;
    // Checked here, before any connection: a plaintext setting for a remote host must fail
    // before a byte of credentials leaves the process; an unusable CA file is the provider's
    // problem, reported once at its setting rather than by every resource.
    config
        .validate()
        .map(|_| ())
        .and_then(|()| config.check_ca_file())
        .map_err(|e| {
            let attribute = e.attribute();
            Diagnostics::from(
                Diagnostic::error(
                    format!("Invalid provider setting mysql.{attribute}"),
                    e.to_string(),
                )
                .at(AttributePath::root("mysql").attribute(attribute)),
            )
        })?;
    Ok(config)
}

const TUNNELS_ENV: &str = "TREEHERDER_MYSQL_TUNNELS";

/// `mysql.tunnels`, else `TREEHERDER_MYSQL_TUNNELS` (an empty map counts as unset).
fn tunnels(settings: &MysqlSettings) -> Result<Tunnels, Diagnostics> {
    tunnels_from(settings.tunnels.as_ref(), std::env::var(TUNNELS_ENV).ok())
}

/// [`tunnels`] with the environment variable's value passed in.
fn tunnels_from(
    configured: Option<&BTreeMap<String, String>>,
    env: Option<String>,
) -> Result<Tunnels, Diagnostics> {
    const ENV: &str = TUNNELS_ENV;
    let (parsed, source) = match configured.filter(|m| !m.is_empty()) {
        Some(map) => (
            Tunnels::parse(map.iter().map(|(k, v)| (k.as_str(), v.as_str()))),
            String::new(),
        ),
        None => match env.filter(|v| !v.trim().is_empty()) {
            Some(list) => (
                Tunnels::parse_list(&list),
                format!(" (from the environment variable {ENV})"),
            ),
            None => return Ok(Tunnels::default()),
        },
    };
    parsed.map_err(|e| {
        Diagnostics::from(
            Diagnostic::error(
                "Invalid provider setting mysql.tunnels",
                format!("mysql.tunnels{source}: {e}."),
            )
            .at(AttributePath::root("mysql").attribute("tunnels")),
        )
    })
}

impl Clients {
    /// The clients a provider configuration describes. A mysql block that was written but is
    /// invalid is an error now; an absent one only for the resources that need it.
    pub fn from_config(config: ProviderConfig) -> Result<Clients, Diagnostics> {
        let heroku_settings = config.heroku.unwrap_or_default();
        // An unusable URL is refused now, before any resource could use it.
        for (configured, attribute, env) in [
            (
                heroku_settings.api_url.as_ref(),
                "api_url",
                "HEROKU_API_URL",
            ),
            (
                heroku_settings.scheduler_url.as_ref(),
                "scheduler_url",
                "HEROKU_SCHEDULER_URL",
            ),
            (
                heroku_settings.github_integration_url.as_ref(),
                "github_integration_url",
                "HEROKU_GITHUB_INTEGRATION_URL",
            ),
            (
                heroku_settings.github_api_url.as_ref(),
                "github_api_url",
                "HEROKU_GITHUB_API_URL",
            ),
        ] {
            heroku_url(configured, attribute, env)?;
        }
        let heroku = heroku_client(&heroku_settings);
        let mysql_settings = config.mysql.unwrap_or_default();
        let mysql_config = mysql_config(&mysql_settings);
        // An endpoint, from the block or the environment, says MySQL is meant to be used: a
        // problem with the other settings is reported once, here, at the provider.
        if setting(
            mysql_settings.endpoint.as_ref(),
            "TREEHERDER_MYSQL_ENDPOINT",
        )
        .is_some()
        {
            if let Err(diagnostics) = &mysql_config {
                return Err(diagnostics.clone());
            }
        }
        let rds_config = rds_config(&config.aws.unwrap_or_default())?;
        Ok(Clients {
            heroku,
            mysql_config,
            mysql: OnceCell::new(),
            rds_config,
            rds: OnceCell::new(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn configure(api_url: &str, scheduler_url: &str) -> Result<Clients, Diagnostics> {
        Clients::from_config(ProviderConfig {
            heroku: Some(HerokuSettings {
                api_url: Some(api_url.to_string()),
                scheduler_url: Some(scheduler_url.to_string()),
                ..HerokuSettings::default()
            }),
            mysql: None,
            aws: None,
        })
    }

    fn error_text(result: Result<Clients, Diagnostics>) -> String {
        match result {
            Ok(_) => panic!("the configuration was accepted"),
            Err(d) => d
                .iter()
                .map(|d| format!("{}: {}", d.summary, d.detail))
                .collect(),
        }
    }

    #[test]
    fn plaintext_urls_are_refused_unless_loopback() {
        let ok = "https://api.heroku.invalid";
        let text = error_text(configure("http://api.heroku.invalid/x", ok));
        assert!(text.contains("heroku.api_url"), "{text}");
        assert!(text.contains("https://"), "{text}");
        assert!(
            !text.contains("HEROKU_API_URL"),
            "configured, not from env: {text}"
        );
        let text = error_text(configure(ok, "http://10.0.0.1:8080"));
        assert!(text.contains("heroku.scheduler_url"), "{text}");
        let long = format!("http://{}.invalid", "a".repeat(5000));
        assert!(error_text(configure(&long, ok)).len() < 1000);
        for url in [
            "http://localhost.invalid",
            "http://127.0.0.1.invalid",
            "http://[::ffff:10.0.0.1]",
            "ftp://127.0.0.1",
        ] {
            assert!(configure(url, ok).is_err(), "{url}");
        }
        for url in [
            "http://127.0.0.1:1",
            "http://127.9.9.9",
            "http://[::1]:8080/prefix",
            "http://localhost:5000",
            "http://LOCALHOST.",
            ok,
        ] {
            assert!(configure(url, ok).is_ok(), "{url}");
        }
    }

    #[test]
    fn github_urls_are_https_unless_loopback() {
        let github = |integration: &str, api: &str| {
            Clients::from_config(ProviderConfig {
                heroku: Some(HerokuSettings {
                    github_integration_url: Some(integration.to_string()),
                    github_api_url: Some(api.to_string()),
                    ..HerokuSettings::default()
                }),
                ..ProviderConfig::default()
            })
        };
        let ok = "https://kolkrabbi.heroku.com";
        let text = error_text(github("http://kolkrabbi.example.invalid", ok));
        assert!(text.contains("heroku.github_integration_url"), "{text}");
        assert!(text.contains("https://"), "{text}");
        let text = error_text(github(ok, "http://10.0.0.1/api"));
        assert!(text.contains("heroku.github_api_url"), "{text}");
        assert!(github("http://127.0.0.1:5000/github-integration", ok).is_ok());
        assert!(github(ok, "https://github.example.com/api/v3").is_ok());
    }

    #[test]
    fn an_rds_endpoint_must_be_https_or_loopback() {
        let aws = |url: &str| {
            Clients::from_config(ProviderConfig {
                aws: Some(AwsSettings {
                    endpoint_url: Some(url.to_string()),
                    ..AwsSettings::default()
                }),
                ..ProviderConfig::default()
            })
        };
        let text = error_text(aws("http://rds.example.invalid"));
        assert!(text.contains("aws.endpoint_url"), "{text}");
        assert!(text.contains("https://"), "{text}");
        assert!(aws("http://127.0.0.1:5555").is_ok());
        assert!(aws("https://rds.us-east-1.amazonaws.com").is_ok());
    }

    fn mysql(settings: MysqlSettings) -> Result<Clients, Diagnostics> {
        Clients::from_config(ProviderConfig {
            heroku: None,
            mysql: Some(settings),
            aws: None,
        })
    }

    fn endpoint() -> Option<String> {
        Some("127.0.0.1:3306".to_string())
    }

    #[test]
    fn an_unusable_ca_file_is_reported_once_at_the_provider_setting() {
        let dir = tempfile::tempdir().expect("tempdir");
        let garbage = dir.path().join("ca.pem");
        std::fs::write(&garbage, "not a certificate").expect("write");
        for path in [garbage, dir.path().join("missing.pem")] {
            let result = mysql(MysqlSettings {
                endpoint: endpoint(),
                username: Some("th_admin".into()),
                password: Some(tfplugin::Sensitive::new("admin-password-for-the-test")),
                tls_ca_file: Some(path.display().to_string()),
                ..MysqlSettings::default()
            });
            let Err(errors) = result else {
                panic!("{} was accepted", path.display());
            };
            let d = errors.iter().next().expect("a diagnostic");
            assert_eq!(d.summary, "Invalid provider setting mysql.tls_ca_file");
            assert_eq!(
                d.attribute.as_ref().map(ToString::to_string).as_deref(),
                Some("mysql.tls_ca_file")
            );
        }
    }

    #[tokio::test]
    async fn resources_see_provider_setting_problems_without_a_path_of_theirs() {
        // What configuring without any MySQL setting leaves for the resources.
        let clients = Clients {
            heroku: Err(missing("heroku", "api_key", "HEROKU_API_KEY")),
            mysql_config: Err(missing("mysql", "endpoint", "TREEHERDER_MYSQL_ENDPOINT")),
            mysql: OnceCell::new(),
            rds_config: RdsConfig::default(),
            rds: OnceCell::new(),
        };
        let Err(heroku) = clients.heroku() else {
            panic!("Heroku without settings worked");
        };
        assert!(heroku.iter().all(|d| d.attribute.is_none()));
        let Err(errors) = clients.mysql().await else {
            panic!("MySQL without settings worked");
        };
        let d = errors.iter().next().expect("a diagnostic");
        assert!(d.summary.contains("mysql.endpoint"), "{}", d.summary);
        assert!(d.attribute.is_none(), "{:?}", d.attribute);
    }

    #[test]
    fn tunnels_come_from_the_block_else_the_environment() {
        let rds = "treeherder-dev-x.aaaaaaaaaa.us-east-1.rds.amazonaws.com";
        let map = |pairs: &[(&str, &str)]| -> BTreeMap<String, String> {
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect()
        };
        let configured = map(&[(rds, "127.0.0.1:13306")]);
        let expected = Tunnels::parse([(rds, "127.0.0.1:13306")]).unwrap();
        let env = Some(format!("{rds}:3306=127.0.0.1:13306"));
        assert_eq!(
            tunnels_from(Some(&configured), Some("x".into())).unwrap(),
            expected
        );
        assert_eq!(tunnels_from(None, env.clone()).unwrap(), expected);
        assert_eq!(tunnels_from(Some(&map(&[])), env).unwrap(), expected);
        assert!(tunnels_from(None, None).unwrap().is_empty());

        let portless = map(&[(rds, "127.0.0.1")]);
        let ok = map(&[(rds, "127.0.0.1:13306"), ("db:x", "127.0.0.1:1")]);
        for (configured, env, from_env) in [
            (Some(&ok), None, false),
            (None, Some("nonsense".to_owned()), true),
        ] {
            let Err(errors) = tunnels_from(configured, env) else {
                panic!("accepted");
            };
            let d = errors.iter().next().expect("a diagnostic");
            assert_eq!(d.summary, "Invalid provider setting mysql.tunnels");
            assert_eq!(
                d.attribute.as_ref().map(ToString::to_string).as_deref(),
                Some("mysql.tunnels")
            );
            assert_eq!(d.detail.contains(TUNNELS_ENV), from_env, "{}", d.detail);
        }
        // A local address without a port is port 3306 on it, which is fine.
        assert!(tunnels_from(Some(&portless), None).is_ok());

        // Through the whole provider configuration: the config carries the tunnels, and
        // plaintext to the tunnelled RDS name is refused at mysql.tls_mode.
        let settings = |mode: &str| MysqlSettings {
            endpoint: Some(format!("{rds}:3306")),
            username: Some("th_admin".into()),
            password: Some(tfplugin::Sensitive::new("admin-password-for-the-test")),
            tls_mode: Some(mode.into()),
            tunnels: Some(configured.clone()),
            ..MysqlSettings::default()
        };
        let clients = mysql(settings("verify_identity")).unwrap_or_else(|_| panic!("refused"));
        let config = clients
            .mysql_config()
            .unwrap_or_else(|_| panic!("no config"));
        assert_eq!(config.tunnels, expected);
        let Err(errors) = mysql(settings("disabled")) else {
            panic!("plaintext through a tunnel to RDS was accepted");
        };
        let d = errors.iter().next().expect("a diagnostic");
        assert_eq!(d.summary, "Invalid provider setting mysql.tls_mode");
    }
}
