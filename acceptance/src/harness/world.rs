//! The local services the acceptance tests run against, as `make up` leaves them: MariaDB
//! (`.run/mysql/env`), moto (`.run/moto/env`) and the Heroku sandbox (`.run/sandbox/env`).

use std::collections::BTreeMap;
use std::net::{SocketAddr, TcpStream, ToSocketAddrs};
use std::path::PathBuf;
use std::time::Duration;

use super::paths::repo_root;

/// One service of the acceptance world.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Service {
    /// MariaDB with TLS and the treeherder schema (`TREEHERDER_MYSQL_*`).
    Mysql,
    /// moto's RDS/EC2 emulator (`AWS_*`, `TREEHERDER_MOTO_URL`).
    Moto,
    /// treeherder-sandbox: Heroku Platform + Scheduler APIs (`HEROKU_*`, control URL).
    Sandbox,
}

impl Service {
    /// Folder name under `.run/`.
    pub fn name(self) -> &'static str {
        match self {
            Service::Mysql => "mysql",
            Service::Moto => "moto",
            Service::Sandbox => "sandbox",
        }
    }

    /// The variable whose presence in the process environment overrides the env file, and
    /// whose value locates the service for the liveness check.
    fn locator(self) -> &'static str {
        match self {
            Service::Mysql => "TREEHERDER_MYSQL_ENDPOINT",
            Service::Moto => "TREEHERDER_MOTO_URL",
            Service::Sandbox => "HEROKU_API_URL",
        }
    }

    /// Variables read from the process environment when the locator is set there.
    fn variables(self) -> &'static [&'static str] {
        match self {
            Service::Mysql => &[
                "TREEHERDER_MYSQL_ENDPOINT",
                "TREEHERDER_MYSQL_USERNAME",
                "TREEHERDER_MYSQL_PASSWORD",
                "TREEHERDER_MYSQL_TLS_CA_FILE",
                "TREEHERDER_MYSQL_TLS_MODE",
            ],
            Service::Moto => &[
                "TREEHERDER_MOTO_URL",
                "AWS_ENDPOINT_URL",
                "AWS_ENDPOINT_URL_RDS",
                "AWS_ENDPOINT_URL_EC2",
                "AWS_ACCESS_KEY_ID",
                "AWS_SECRET_ACCESS_KEY",
                "AWS_REGION",
                "AWS_DEFAULT_REGION",
                "AWS_EC2_METADATA_DISABLED",
            ],
            Service::Sandbox => &[
                "HEROKU_API_URL",
                "HEROKU_SCHEDULER_URL",
                "HEROKU_GITHUB_INTEGRATION_URL",
                "HEROKU_GITHUB_API_URL",
                "HEROKU_API_KEY",
                "TREEHERDER_SANDBOX_CONTROL_URL",
            ],
        }
    }
}

/// Why the world could not be loaded. The message always says how to start it.
#[derive(Debug, thiserror::Error)]
pub enum WorldError {
    /// The service's env file is missing or unreadable.
    #[error("the acceptance world is not running: {service} has no {path} ({reason}); run `make up` first")]
    NotStarted {
        /// Service name.
        service: &'static str,
        /// The env file looked for.
        path: PathBuf,
        /// The I/O error.
        reason: String,
    },
    /// The env file lacks a required variable.
    #[error("{service}: {variable} is missing from its environment; run `make down && make up`")]
    MissingVariable {
        /// Service name.
        service: &'static str,
        /// The variable.
        variable: &'static str,
    },
    /// The recorded address does not accept connections.
    #[error("the acceptance world is not running: {service} does not answer at {address}; run `make up` first")]
    NotAnswering {
        /// Service name.
        service: &'static str,
        /// The address tried.
        address: String,
    },
}

/// The environment of the requested services, checked to be reachable.
#[derive(Clone, Default)]
pub struct World {
    vars: BTreeMap<String, String>,
    secrets: Vec<String>,
}

impl World {
    /// Loads `services` from the process environment (when their locator variable is set
    /// there) or from `.run/<service>/env`, and checks each accepts TCP connections.
    pub fn load(services: &[Service]) -> Result<World, WorldError> {
        let mut world = World::default();
        for &service in services {
            let vars = if std::env::var_os(service.locator()).is_some() {
                service
                    .variables()
                    .iter()
                    .filter_map(|k| std::env::var(k).ok().map(|v| (k.to_string(), v)))
                    .collect()
            } else {
                let path = repo_root().join(".run").join(service.name()).join("env");
                let text = std::fs::read_to_string(&path).map_err(|e| WorldError::NotStarted {
                    service: service.name(),
                    path: path.clone(),
                    reason: e.to_string(),
                })?;
                parse_env(&text)
            };
            let locator = vars
                .get(service.locator())
                .ok_or(WorldError::MissingVariable {
                    service: service.name(),
                    variable: service.locator(),
                })?;
            check_reachable(service, locator)?;
            for (key, value) in &vars {
                let secret_name =
                    key.contains("PASSWORD") || key.contains("SECRET") || key.ends_with("API_KEY");
                // Short dummies such as moto's "testing" would match ordinary words in logs.
                if secret_name && value.len() >= 8 {
                    world.secrets.push(value.clone());
                }
            }
            world.vars.extend(vars);
        }
        Ok(world)
    }

    /// Like [`World::load`], panicking with the reason (and the `make up` hint) on failure,
    /// so a test without its world fails loudly instead of passing.
    #[track_caller]
    pub fn require(services: &[Service]) -> World {
        match World::load(services) {
            Ok(world) => world,
            Err(e) => panic!("{e}"),
        }
    }

    /// All variables, to pass to a [`super::TestCase`] with `envs`.
    pub fn env(&self) -> &BTreeMap<String, String> {
        &self.vars
    }

    /// One variable.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.vars.get(key).map(String::as_str)
    }

    /// The passwords and keys of the world (8 characters or more), for a case's
    /// `sensitive_values`.
    pub fn secrets(&self) -> &[String] {
        &self.secrets
    }
}

/// Lists variable names only: values include passwords and API keys.
impl std::fmt::Debug for World {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("World")
            .field("variables", &self.vars.keys().collect::<Vec<_>>())
            .finish_non_exhaustive()
    }
}

/// Parses `KEY=VALUE` lines (blank lines and `#` comments skipped; no quoting).
fn parse_env(text: &str) -> BTreeMap<String, String> {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k.trim().to_string(), v.to_string()))
        .collect()
}

/// `host:port` of an endpoint or URL.
fn host_port(locator: &str) -> &str {
    let rest = locator.split_once("://").map_or(locator, |(_, rest)| rest);
    rest.split('/').next().unwrap_or(rest)
}

fn check_reachable(service: Service, locator: &str) -> Result<(), WorldError> {
    let address = host_port(locator).to_string();
    let not_answering = || WorldError::NotAnswering {
        service: service.name(),
        address: address.clone(),
    };
    let addrs: Vec<SocketAddr> = address
        .to_socket_addrs()
        .map_err(|_| not_answering())?
        .collect();
    if addrs
        .iter()
        .any(|a| TcpStream::connect_timeout(a, Duration::from_secs(2)).is_ok())
    {
        Ok(())
    } else {
        Err(not_answering())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_output_hides_values() {
        let world = World {
            vars: parse_env("TREEHERDER_MYSQL_PASSWORD=hunter2-hunter2\n"),
            secrets: vec!["hunter2-hunter2".into()],
        };
        let text = format!("{world:?}");
        assert!(text.contains("TREEHERDER_MYSQL_PASSWORD"), "{text}");
        assert!(!text.contains("hunter2"), "{text}");
    }

    #[test]
    fn parses_env_files() {
        let vars = parse_env("# c\nA=1\n\nB=x=y\nnot a var\n");
        assert_eq!(vars.get("A").map(String::as_str), Some("1"));
        assert_eq!(vars.get("B").map(String::as_str), Some("x=y"));
        assert_eq!(vars.len(), 2);
    }

    #[test]
    fn extracts_host_and_port() {
        assert_eq!(host_port("127.0.0.1:3306"), "127.0.0.1:3306");
        assert_eq!(
            host_port("http://127.0.0.1:8080/scheduler"),
            "127.0.0.1:8080"
        );
    }

    #[test]
    fn a_closed_port_is_reported_with_the_make_up_hint() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        drop(listener);
        let err = check_reachable(Service::Mysql, &addr.to_string()).unwrap_err();
        assert!(err.to_string().contains("make up"), "{err}");
    }
}
