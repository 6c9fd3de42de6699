//! Connection settings and the TLS policy.
//!
//! The policy is pure ([`MysqlConfig::validate`]) and runs before any socket is opened: the
//! runbook warns that a non-TLS connection to RDS fails "but not before having already leaked
//! the credentials over plain-text".

use std::net::IpAddr;
use std::path::PathBuf;
use std::str::FromStr;

use super::error::ConfigError;
use super::identifiers::Identifier;
use super::password::SecretString;

/// Default database name.
pub const DEFAULT_DATABASE: &str = "treeherder";
/// Port used when the endpoint has none.
pub const DEFAULT_PORT: u16 = 3306;

/// How the server certificate is checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum TlsMode {
    /// TLS with CA and host name verification (like `--ssl-mode=VERIFY_IDENTITY`).
    #[default]
    VerifyIdentity,
    /// TLS with CA verification only (like `--ssl-mode=VERIFY_CA`).
    VerifyCa,
    /// No TLS; only allowed for loopback hosts (local tests).
    Disabled,
}

impl FromStr for TlsMode {
    type Err = ConfigError;

    /// Parses the attribute values `verify_identity`, `verify_ca` and `disabled`.
    fn from_str(value: &str) -> Result<Self, Self::Err> {
        match value {
            "verify_identity" => Ok(TlsMode::VerifyIdentity),
            "verify_ca" => Ok(TlsMode::VerifyCa),
            "disabled" => Ok(TlsMode::Disabled),
            other => Err(ConfigError::UnknownTlsMode {
                value: other.to_owned(),
            }),
        }
    }
}

/// Settings of the admin connection.
#[derive(Debug, Clone)]
pub struct MysqlConfig {
    /// `host:port` (or `[ipv6]:port`; port defaults to 3306) of the primary instance.
    pub endpoint: String,
    /// Admin user name.
    pub username: String,
    /// Admin password.
    pub password: SecretString,
    /// Database whose tables are granted (default `treeherder`).
    pub database: String,
    /// PEM file with the CA certificate(s) to trust, e.g. RDS's `global-bundle.pem`. When set,
    /// only these CAs are trusted; otherwise the Mozilla root list (which lacks RDS's CAs).
    pub tls_ca_file: Option<PathBuf>,
    /// How the server certificate is checked.
    pub tls_mode: TlsMode,
}

impl MysqlConfig {
    /// A configuration with the default database and TLS mode.
    pub fn new(
        endpoint: impl Into<String>,
        username: impl Into<String>,
        password: impl Into<SecretString>,
    ) -> Self {
        MysqlConfig {
            endpoint: endpoint.into(),
            username: username.into(),
            password: password.into(),
            database: DEFAULT_DATABASE.to_owned(),
            tls_ca_file: None,
            tls_mode: TlsMode::default(),
        }
    }

    /// Checks the configuration without touching the network or the file system.
    pub fn validate(&self) -> Result<ValidatedEndpoint, ConfigError> {
        let endpoint = parse_endpoint(&self.endpoint)?;
        if self.username.is_empty() {
            return Err(ConfigError::InvalidUsername {
                reason: "it is empty".to_owned(),
            });
        }
        if self.username.chars().any(char::is_control) {
            return Err(ConfigError::InvalidUsername {
                reason: "it contains a control character".to_owned(),
            });
        }
        Identifier::database(&self.database).map_err(ConfigError::InvalidDatabase)?;
        if self.tls_mode == TlsMode::Disabled {
            if !is_loopback_host(&endpoint.host) {
                return Err(ConfigError::TlsRequired {
                    host: endpoint.host,
                });
            }
            if self.tls_ca_file.is_some() {
                return Err(ConfigError::CaFileWithoutTls);
            }
        }
        Ok(endpoint)
    }
}

impl MysqlConfig {
    /// Checks that `tls_ca_file`, when set, can be read and holds a PEM certificate.
    pub fn check_ca_file(&self) -> Result<(), ConfigError> {
        let Some(path) = &self.tls_ca_file else {
            return Ok(());
        };
        let unusable = |reason: String| ConfigError::CaFileUnusable {
            path: path.clone(),
            reason,
        };
        let pem = std::fs::read(path).map_err(|e| unusable(e.to_string()))?;
        if !pem
            .windows(PEM_CERTIFICATE.len())
            .any(|w| w == PEM_CERTIFICATE)
        {
            return Err(unusable("it holds no PEM certificate".to_owned()));
        }
        Ok(())
    }
}

/// The line that starts a PEM certificate.
pub(crate) const PEM_CERTIFICATE: &[u8] = b"-----BEGIN CERTIFICATE-----";

/// A parsed endpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidatedEndpoint {
    /// Host name or IP address (IPv6 without brackets).
    pub host: String,
    /// TCP port.
    pub port: u16,
}

/// Splits `host:port`, `[v6]:port`, `host` or `[v6]`.
pub fn parse_endpoint(endpoint: &str) -> Result<ValidatedEndpoint, ConfigError> {
    let invalid = |reason: &str| ConfigError::InvalidEndpoint {
        endpoint: endpoint.to_owned(),
        reason: reason.to_owned(),
    };
    if endpoint.is_empty() {
        return Err(invalid("it is empty"));
    }
    if endpoint
        .chars()
        .any(|c| c.is_whitespace() || c.is_control() || "/@?#".contains(c))
    {
        return Err(invalid(
            "it contains whitespace or one of / @ ? # (give only host and port, not a URL)",
        ));
    }
    let (host, port) = if let Some(rest) = endpoint.strip_prefix('[') {
        let (host, after) = rest
            .split_once(']')
            .ok_or_else(|| invalid("unterminated '[' of an IPv6 address"))?;
        if host.parse::<std::net::Ipv6Addr>().is_err() {
            return Err(invalid("the bracketed part is not an IPv6 address"));
        }
        let port = match after {
            "" => None,
            p => Some(
                p.strip_prefix(':')
                    .ok_or_else(|| invalid("expected ':' after ']'"))?,
            ),
        };
        (host, port)
    } else {
        match endpoint.split_once(':') {
            Some((_, p)) if p.contains(':') => {
                return Err(invalid("IPv6 addresses must be written as [address]:port"))
            }
            Some((h, p)) => (h, Some(p)),
            None => (endpoint, None),
        }
    };
    if host.is_empty() {
        return Err(invalid("the host is empty"));
    }
    let port = match port {
        None => DEFAULT_PORT,
        Some(p) => match p.parse::<u16>() {
            Ok(0) | Err(_) => return Err(invalid("the port is not a number from 1 to 65535")),
            Ok(n) => n,
        },
    };
    Ok(ValidatedEndpoint {
        host: host.to_owned(),
        port,
    })
}

/// Whether plaintext may be used: `localhost`, 127.0.0.0/8 or `::1`.
///
/// Names are not resolved: a DNS name that happens to resolve to loopback today is still
/// treated as remote, so the decision cannot change behind the operator's back.
pub fn is_loopback_host(host: &str) -> bool {
    if host.eq_ignore_ascii_case("localhost") {
        return true;
    }
    host.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(endpoint: &str, mode: TlsMode) -> MysqlConfig {
        MysqlConfig {
            tls_mode: mode,
            ..MysqlConfig::new(endpoint, "admin", "pw")
        }
    }

    #[test]
    fn parses_endpoints() {
        assert_eq!(
            parse_endpoint("db.example.com:3307").unwrap(),
            ValidatedEndpoint {
                host: "db.example.com".into(),
                port: 3307
            }
        );
        assert_eq!(parse_endpoint("db").unwrap().port, 3306);
        assert_eq!(parse_endpoint("[::1]:33").unwrap().host, "::1");
        assert!(parse_endpoint("::1").is_err());
        assert!(parse_endpoint("host:0").is_err());
        assert!(parse_endpoint("host:99999").is_err());
        assert!(parse_endpoint("mysql://u:p@host/db").is_err());
        assert!(parse_endpoint(":3306").is_err());
    }

    #[test]
    fn defaults() {
        let c = MysqlConfig::new("h:1", "u", "p");
        assert_eq!(c.database, "treeherder");
        assert_eq!(c.tls_mode, TlsMode::VerifyIdentity);
        assert_eq!(format!("{:?}", c.password), "<redacted>");
        assert!(!format!("{c:?}").contains("\"p\""));
    }

    #[test]
    fn plaintext_only_on_loopback() {
        for host in [
            "127.0.0.1:3306",
            "localhost:3306",
            "[::1]:3306",
            "127.8.9.1:1",
        ] {
            assert!(config(host, TlsMode::Disabled).validate().is_ok(), "{host}");
        }
        for host in [
            "db.example.com:3306",
            "10.0.0.1:3306",
            "localhost.example.com:3306",
            "treeherder-prod.abc.us-east-1.rds.amazonaws.com:3306",
        ] {
            let err = config(host, TlsMode::Disabled).validate().unwrap_err();
            assert!(matches!(err, ConfigError::TlsRequired { .. }), "{host}");
            assert_eq!(err.attribute(), "tls_mode");
            assert!(config(host, TlsMode::VerifyIdentity).validate().is_ok());
            assert!(config(host, TlsMode::VerifyCa).validate().is_ok());
        }
    }

    #[test]
    fn names_the_attribute() {
        let mut c = config("h:1", TlsMode::VerifyIdentity);
        c.database = "bad\0db".into();
        assert_eq!(c.validate().unwrap_err().attribute(), "database");
        let mut c = config("h:1", TlsMode::VerifyIdentity);
        c.username = String::new();
        assert_eq!(c.validate().unwrap_err().attribute(), "username");
        assert_eq!(
            config("h:x", TlsMode::VerifyIdentity)
                .validate()
                .unwrap_err()
                .attribute(),
            "endpoint"
        );
        let mut c = config("127.0.0.1:1", TlsMode::Disabled);
        c.tls_ca_file = Some("/ca.pem".into());
        assert_eq!(c.validate().unwrap_err().attribute(), "tls_ca_file");
        assert_eq!(
            "plain".parse::<TlsMode>().unwrap_err().attribute(),
            "tls_mode"
        );
        assert_eq!("verify_ca".parse::<TlsMode>().unwrap(), TlsMode::VerifyCa);
    }
}
