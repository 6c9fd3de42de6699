//! Connection settings and the TLS policy.
//!
//! The policy is pure ([`MysqlConfig::validate`]) and runs before any socket is opened: the
//! runbook warns that a non-TLS connection to RDS fails "but not before having already leaked
//! the credentials over plain-text".

use std::collections::BTreeMap;
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
    /// Endpoints reached through a local address (SSH tunnel, bastion). Copies of this
    /// configuration for other logins or endpoints keep them, so any endpoint is dialled the
    /// same way.
    pub tunnels: Tunnels,
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
            tunnels: Tunnels::default(),
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
            // Decided on the real host: a tunnel to RDS is still RDS. The local address must
            // be loopback too, or plaintext would cross the network to the tunnel.
            let local = self.tunnels.local_address(&endpoint);
            if let Some(host) = std::iter::once(&endpoint)
                .chain(local)
                .map(|e| &e.host)
                .find(|h| !is_loopback_host(h))
            {
                return Err(ConfigError::TlsRequired { host: host.clone() });
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

impl MysqlConfig {
    /// Where to open the TCP connection and which name the server certificate must carry,
    /// after [`MysqlConfig::validate`] (so the TLS policy is decided on the real host).
    pub fn dial_target(&self) -> Result<DialTarget, ConfigError> {
        let endpoint = self.validate()?;
        Ok(match self.tunnels.local_address(&endpoint) {
            Some(local) => DialTarget {
                host: local.host.clone(),
                port: local.port,
                tls_name: Some(endpoint.host),
            },
            None => DialTarget {
                host: endpoint.host,
                port: endpoint.port,
                tls_name: None,
            },
        })
    }
}

/// Where a connection is opened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DialTarget {
    /// Host name or IP address to connect to (the tunnel's local address when tunnelled).
    pub host: String,
    /// TCP port to connect to.
    pub port: u16,
    /// When tunnelled, the real host name, which the server certificate is verified against
    /// instead of [`DialTarget::host`].
    pub tls_name: Option<String>,
}

impl DialTarget {
    /// `detail` of a connection failure, naming the local address when tunnelled (the
    /// endpoint itself is named by the caller's error).
    pub fn describe(&self, detail: impl std::fmt::Display) -> String {
        match &self.tls_name {
            Some(_) => format!(
                "{detail} (through the tunnel at {})",
                format_endpoint(&self.host, self.port)
            ),
            None => detail.to_string(),
        }
    }
}

/// The `host:port` form of a host and port (IPv6 in brackets).
fn format_endpoint(host: &str, port: u16) -> String {
    if host.contains(':') {
        format!("[{host}]:{port}")
    } else {
        format!("{host}:{port}")
    }
}

/// Endpoints reached through local addresses: `mysql.tunnels`.
///
/// Keys are normalised (host lower-cased, a trailing dot dropped, port defaulting to 3306), so
/// `DB.example.com`, `db.example.com.` and `db.example.com:3306` are one key.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Tunnels(BTreeMap<EndpointKey, ValidatedEndpoint>);

/// A normalised endpoint, for looking up tunnels.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct EndpointKey {
    host: String,
    port: u16,
}

impl EndpointKey {
    fn of(endpoint: &ValidatedEndpoint) -> Self {
        EndpointKey {
            host: endpoint.host.trim_end_matches('.').to_ascii_lowercase(),
            port: endpoint.port,
        }
    }
}

impl Tunnels {
    /// Parses `endpoint => local address` pairs, both `host:port` (see [`parse_endpoint`]).
    pub fn parse<'a>(
        pairs: impl IntoIterator<Item = (&'a str, &'a str)>,
    ) -> Result<Self, ConfigError> {
        let mut tunnels = BTreeMap::new();
        let mut keys: BTreeMap<EndpointKey, &str> = BTreeMap::new();
        for (endpoint, local) in pairs {
            let invalid = |reason: String| ConfigError::InvalidTunnel {
                endpoint: endpoint.to_owned(),
                local: local.to_owned(),
                reason,
            };
            let key = parse_endpoint(endpoint).map_err(|e| {
                invalid(format!("the endpoint (key) is not valid: {}", reason_of(e)))
            })?;
            let address = parse_endpoint(local).map_err(|e| {
                invalid(format!(
                    "the local address (value) is not valid: {}",
                    reason_of(e)
                ))
            })?;
            let key = EndpointKey::of(&key);
            if let Some(previous) = keys.insert(key.clone(), endpoint) {
                return Err(invalid(format!(
                    "it names the same endpoint as {previous:?} (the port defaults to {DEFAULT_PORT} \
                     and host names are case-insensitive)"
                )));
            }
            tunnels.insert(key, address);
        }
        Ok(Tunnels(tunnels))
    }

    /// Parses the environment form, comma-separated `endpoint=local` pairs.
    pub fn parse_list(list: &str) -> Result<Self, ConfigError> {
        let pairs = list
            .split(',')
            .map(str::trim)
            .filter(|p| !p.is_empty())
            .map(|pair| {
                pair.split_once('=')
                    .map(|(e, l)| (e.trim(), l.trim()))
                    .ok_or_else(|| ConfigError::InvalidTunnel {
                        endpoint: pair.to_owned(),
                        local: String::new(),
                        reason: "it is not of the form endpoint=local".to_owned(),
                    })
            })
            .collect::<Result<Vec<_>, _>>()?;
        Tunnels::parse(pairs)
    }

    /// Whether no tunnel is configured.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The local address that reaches `endpoint`, if it is tunnelled.
    pub fn local_address(&self, endpoint: &ValidatedEndpoint) -> Option<&ValidatedEndpoint> {
        self.0.get(&EndpointKey::of(endpoint))
    }
}

/// The reason of an [`ConfigError::InvalidEndpoint`], with the offending text.
fn reason_of(error: ConfigError) -> String {
    match error {
        ConfigError::InvalidEndpoint { endpoint, reason } => format!("{endpoint:?}: {reason}"),
        other => other.to_string(),
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

    const RDS: &str = "treeherder-dev-x.aaaaaaaaaa.us-east-1.rds.amazonaws.com";

    fn tunnelled(endpoint: &str, mode: TlsMode, pairs: &[(&str, &str)]) -> MysqlConfig {
        MysqlConfig {
            tunnels: Tunnels::parse(pairs.iter().copied()).unwrap(),
            ..config(endpoint, mode)
        }
    }

    #[test]
    fn tunnel_keys_are_normalised() {
        let local = "127.0.0.1:13306";
        let expected = DialTarget {
            host: "127.0.0.1".into(),
            port: 13306,
            tls_name: Some(RDS.into()),
        };
        for key in [
            RDS.to_owned(),
            format!("{RDS}:3306"),
            format!("{}.:3306", RDS.to_uppercase()),
        ] {
            for endpoint in [RDS.to_owned(), format!("{RDS}:3306")] {
                let c = tunnelled(&endpoint, TlsMode::VerifyIdentity, &[(&key, local)]);
                assert_eq!(c.dial_target().unwrap(), expected, "{key} / {endpoint}");
            }
        }
        // The certificate name is the endpoint as configured, not the key's spelling.
        let c = tunnelled(
            &format!("{RDS}:3306"),
            TlsMode::VerifyIdentity,
            &[(&RDS.to_uppercase(), local)],
        );
        assert_eq!(c.dial_target().unwrap().tls_name.as_deref(), Some(RDS));
        // Another port is another endpoint.
        let c = tunnelled(
            &format!("{RDS}:3307"),
            TlsMode::VerifyIdentity,
            &[(RDS, local)],
        );
        assert_eq!(c.dial_target().unwrap().port, 3307);
        // `host` and `host:3306` together are one key given twice.
        let err = Tunnels::parse([(RDS, local), (&format!("{RDS}:3306")[..], local)]).unwrap_err();
        assert!(matches!(err, ConfigError::InvalidTunnel { .. }), "{err}");
        assert!(err.to_string().contains("same endpoint"), "{err}");
    }

    #[test]
    fn an_unmapped_endpoint_dials_itself() {
        let c = tunnelled(
            "db.example.com:3307",
            TlsMode::VerifyIdentity,
            &[(RDS, "127.0.0.1:1")],
        );
        assert_eq!(
            c.dial_target().unwrap(),
            DialTarget {
                host: "db.example.com".into(),
                port: 3307,
                tls_name: None
            }
        );
        assert_eq!(c.dial_target().unwrap().describe("refused"), "refused");
        let c = tunnelled(RDS, TlsMode::VerifyIdentity, &[(RDS, "[::1]:13306")]);
        let text = c.dial_target().unwrap().describe("refused");
        assert_eq!(text, "refused (through the tunnel at [::1]:13306)");
    }

    #[test]
    fn bad_tunnel_entries_name_the_attribute_and_the_entry() {
        for (key, local, part) in [
            ("", "127.0.0.1:1", "endpoint (key)"),
            ("mysql://db:3306", "127.0.0.1:1", "endpoint (key)"),
            ("db:x", "127.0.0.1:1", "endpoint (key)"),
            (RDS, "127.0.0.1:0", "local address (value)"),
            (RDS, "", "local address (value)"),
            (RDS, "::1", "local address (value)"),
        ] {
            let err = Tunnels::parse([(key, local)]).unwrap_err();
            assert_eq!(err.attribute(), "tunnels", "{err}");
            let text = err.to_string();
            assert!(text.contains(&format!("{key:?} = {local:?}")), "{text}");
            assert!(text.contains(part) && text.contains("host:port"), "{text}");
        }
        let parsed = Tunnels::parse_list(&format!(
            " {RDS}=127.0.0.1:13306 , db.example.com=localhost:2,"
        ))
        .unwrap();
        assert_eq!(
            parsed,
            Tunnels::parse([(RDS, "127.0.0.1:13306"), ("db.example.com", "localhost:2")]).unwrap()
        );
        assert!(Tunnels::parse_list("").unwrap().is_empty());
        let err = Tunnels::parse_list(&format!("{RDS}:127.0.0.1:1")).unwrap_err();
        assert_eq!(err.attribute(), "tunnels");
        assert!(err.to_string().contains("endpoint=local"), "{err}");
    }

    #[test]
    fn disabled_tls_is_decided_on_the_real_host() {
        // A tunnel to a remote RDS name over loopback is still RDS.
        let c = tunnelled(RDS, TlsMode::Disabled, &[(RDS, "127.0.0.1:13306")]);
        let err = c.dial_target().unwrap_err();
        assert!(
            matches!(&err, ConfigError::TlsRequired { host } if host == RDS),
            "{err}"
        );
        assert_eq!(err.attribute(), "tls_mode");
        // A loopback endpoint tunnelled to a remote address would send plaintext over the net.
        let c = tunnelled(
            "127.0.0.1:3306",
            TlsMode::Disabled,
            &[("127.0.0.1", "10.0.0.5:3306")],
        );
        assert!(
            matches!(c.validate().unwrap_err(), ConfigError::TlsRequired { host } if host == "10.0.0.5")
        );
        // Loopback on both sides stays allowed (local tests).
        let c = tunnelled(
            "localhost:3306",
            TlsMode::Disabled,
            &[("localhost", "127.0.0.1:13306")],
        );
        assert_eq!(c.dial_target().unwrap().port, 13306);
    }
}
