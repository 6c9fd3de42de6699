//! What Terraform tells a plugin through its environment when it starts it.

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::CertificateDer;

use super::ServeError;

/// Environment variable carrying the magic cookie.
pub const MAGIC_COOKIE_KEY: &str = "TF_PLUGIN_MAGIC_COOKIE";
/// The magic cookie value Terraform (and OpenTofu) sets for protocol 5 and 6 plugins.
pub const MAGIC_COOKIE_VALUE: &str =
    "d602bf8f470bc67ca7faa0386276bbdd4330efaf76d1a219cb4d6991ca9872b2";
/// Comma-separated major protocol versions the client accepts.
pub const PROTOCOL_VERSIONS_KEY: &str = "PLUGIN_PROTOCOL_VERSIONS";
/// Lowest TCP port the plugin may listen on.
pub const MIN_PORT_KEY: &str = "PLUGIN_MIN_PORT";
/// Highest TCP port the plugin may listen on.
pub const MAX_PORT_KEY: &str = "PLUGIN_MAX_PORT";
/// PEM certificate the client will present (AutoMTLS).
pub const CLIENT_CERT_KEY: &str = "PLUGIN_CLIENT_CERT";

/// The only major protocol version this server speaks.
pub const PROTOCOL_VERSION: u32 = 6;
/// go-plugin's default port range, used when the variables are absent.
pub const DEFAULT_MIN_PORT: u16 = 10000;
/// See [`DEFAULT_MIN_PORT`].
pub const DEFAULT_MAX_PORT: u16 = 25000;

/// How the plugin server was asked to run: normally read from the environment
/// Terraform sets ([`ServeConfig::from_env`]), or built directly in tests.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServeConfig {
    /// The magic cookie as received; anything but [`MAGIC_COOKIE_VALUE`] means
    /// the binary was not started by Terraform.
    pub magic_cookie: Option<String>,
    /// Major protocol versions the client offered, in the order given.
    /// `None` when the variable was absent: like go-plugin, the server then
    /// assumes its own version.
    pub protocol_versions: Option<Vec<u32>>,
    /// Lowest port to listen on (inclusive).
    pub min_port: u16,
    /// Highest port to listen on (inclusive).
    pub max_port: u16,
    /// PEM client certificate for mutual TLS. `None` only when the host turned
    /// TLS off (`TF_DISABLE_PLUGIN_TLS`): the server then speaks plaintext, as
    /// go-plugin does.
    pub client_cert_pem: Option<String>,
}

impl ServeConfig {
    /// Reads the configuration from the process environment.
    ///
    /// Fails with [`ServeError::NotLaunchedByTerraform`] before looking at
    /// anything else when the magic cookie is missing or wrong.
    pub fn from_env() -> Result<Self, ServeError> {
        Self::from_lookup(|key| std::env::var(key).ok())
    }

    /// Like [`ServeConfig::from_env`], with variables looked up through `lookup`
    /// (tests use a map instead of mutating the process environment).
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ServeError> {
        let magic_cookie = lookup(MAGIC_COOKIE_KEY);
        check_cookie(magic_cookie.as_deref())?;

        let protocol_versions = match lookup(PROTOCOL_VERSIONS_KEY) {
            None => None,
            Some(raw) => Some(parse_versions(&raw)?),
        };
        let min_port = parse_port(MIN_PORT_KEY, lookup(MIN_PORT_KEY), DEFAULT_MIN_PORT)?;
        let max_port = parse_port(MAX_PORT_KEY, lookup(MAX_PORT_KEY), DEFAULT_MAX_PORT)?;
        let client_cert_pem = lookup(CLIENT_CERT_KEY).filter(|pem| !pem.trim().is_empty());

        let config = ServeConfig {
            magic_cookie,
            protocol_versions,
            min_port,
            max_port,
            client_cert_pem,
        };
        config.check()?;
        Ok(config)
    }

    /// Checks that a server can run with this configuration: cookie, protocol
    /// version, port range and client certificate. [`super::serve`] calls it
    /// before listening.
    pub fn check(&self) -> Result<(), ServeError> {
        check_cookie(self.magic_cookie.as_deref())?;
        if let Some(offered) = &self.protocol_versions {
            if !offered.contains(&PROTOCOL_VERSION) {
                return Err(ServeError::UnsupportedProtocol {
                    offered: offered.clone(),
                });
            }
        }
        if self.min_port > self.max_port {
            return Err(ServeError::InvalidEnvironment {
                variable: MIN_PORT_KEY,
                reason: format!(
                    "the port range {}..{} is empty ({MIN_PORT_KEY} is above {MAX_PORT_KEY})",
                    self.min_port, self.max_port
                ),
            });
        }
        self.client_certificate()?;
        Ok(())
    }

    /// The DER bytes of the client certificate, if mutual TLS is on.
    pub fn client_certificate(&self) -> Result<Option<CertificateDer<'static>>, ServeError> {
        let Some(pem) = &self.client_cert_pem else {
            return Ok(None);
        };
        let der = CertificateDer::from_pem_slice(pem.as_bytes()).map_err(|err| {
            ServeError::InvalidEnvironment {
                variable: CLIENT_CERT_KEY,
                reason: format!("it does not hold a PEM certificate ({err})"),
            }
        })?;
        // Well-formed armour around garbage must fail here, at start-up, not at the first
        // connection Terraform makes.
        webpki::EndEntityCert::try_from(&der).map_err(|err| ServeError::InvalidEnvironment {
            variable: CLIENT_CERT_KEY,
            reason: format!("its PEM block is not an X.509 certificate ({err})"),
        })?;
        Ok(Some(der))
    }
}

fn check_cookie(cookie: Option<&str>) -> Result<(), ServeError> {
    if cookie == Some(MAGIC_COOKIE_VALUE) {
        Ok(())
    } else {
        Err(ServeError::NotLaunchedByTerraform)
    }
}

fn parse_versions(raw: &str) -> Result<Vec<u32>, ServeError> {
    raw.split(',')
        .map(str::trim)
        .filter(|part| !part.is_empty())
        .map(|part| {
            part.parse::<u32>()
                .map_err(|_| ServeError::InvalidEnvironment {
                    variable: PROTOCOL_VERSIONS_KEY,
                    reason: format!("{part:?} is not a protocol version number (value {raw:?})"),
                })
        })
        .collect()
}

fn parse_port(key: &'static str, raw: Option<String>, default: u16) -> Result<u16, ServeError> {
    match raw {
        None => Ok(default),
        Some(text) if text.trim().is_empty() => Ok(default),
        Some(text) => text
            .trim()
            .parse::<u16>()
            .map_err(|_| ServeError::InvalidEnvironment {
                variable: key,
                reason: format!("{text:?} is not a port number"),
            }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn lookup_in(vars: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        move |key| map.get(key).cloned()
    }

    #[test]
    fn reads_terraform_environment() {
        let config = ServeConfig::from_lookup(lookup_in(&[
            (MAGIC_COOKIE_KEY, MAGIC_COOKIE_VALUE),
            (PROTOCOL_VERSIONS_KEY, "6,5"),
            (MIN_PORT_KEY, "10000"),
            (MAX_PORT_KEY, "25000"),
        ]))
        .unwrap();
        assert_eq!(config.protocol_versions, Some(vec![6, 5]));
        assert_eq!((config.min_port, config.max_port), (10000, 25000));
        assert_eq!(config.client_cert_pem, None);
    }

    #[test]
    fn cookie_is_checked_first() {
        let err = ServeConfig::from_lookup(lookup_in(&[(MIN_PORT_KEY, "nonsense")])).unwrap_err();
        assert!(matches!(err, ServeError::NotLaunchedByTerraform));
    }

    #[test]
    fn bad_port_is_reported() {
        let err = ServeConfig::from_lookup(lookup_in(&[
            (MAGIC_COOKIE_KEY, MAGIC_COOKIE_VALUE),
            (MAX_PORT_KEY, "70000"),
        ]))
        .unwrap_err();
        assert!(err.to_string().contains(MAX_PORT_KEY), "{err}");
    }

    #[test]
    fn garbage_client_cert_is_reported() {
        let err = ServeConfig::from_lookup(lookup_in(&[
            (MAGIC_COOKIE_KEY, MAGIC_COOKIE_VALUE),
            (CLIENT_CERT_KEY, "not a certificate"),
        ]))
        .unwrap_err();
        assert!(err.to_string().contains(CLIENT_CERT_KEY), "{err}");
    }

    #[test]
    fn armoured_garbage_fails_at_start_up() {
        // Valid PEM armour and base64, but not a certificate inside.
        let pem = "-----BEGIN CERTIFICATE-----\nZ2FyYmFnZSBpbnNpZGUgYSBjZXJ0aWZpY2F0ZSBibG9jaw==\n-----END CERTIFICATE-----\n";
        let err = ServeConfig::from_lookup(lookup_in(&[
            (MAGIC_COOKIE_KEY, MAGIC_COOKIE_VALUE),
            (CLIENT_CERT_KEY, pem),
        ]))
        .unwrap_err()
        .to_string();
        assert!(
            err.contains(CLIENT_CERT_KEY) && err.contains("not an X.509 certificate"),
            "{err}"
        );
    }
}
