//! An app's `DATABASE_URL` (`mysql://user:password@host[:port]/database`) as Django reads it:
//! parsing, and replacing its password part without touching any other byte.

use std::collections::BTreeMap;

use tfplugin::types::quote;

use crate::clients::mysql::config::parse_endpoint;

/// The config var read.
pub const DATABASE_URL: &str = "DATABASE_URL";

/// MySQL's port when the URL names none.
const DEFAULT_PORT: u16 = 3306;

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

/// Whether a byte may stay as it is in a URL's password: RFC 3986 unreserved characters and
/// sub-delimiters, which Django's parsing (`urllib.parse.unquote`) leaves unchanged.
fn url_safe(byte: u8) -> bool {
    byte.is_ascii_alphanumeric() || b"-._~!$&()*+,;=".contains(&byte)
}

fn percent_encode(text: &str) -> String {
    text.bytes()
        .map(|b| {
            if url_safe(b) {
                char::from(b).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// `url` with its password part replaced by `password` (percent-encoded where needed);
/// every other byte is kept. `None` when the URL has no `user:password@` part.
pub fn with_password(url: &str, password: &str) -> Option<String> {
    let authority_start = url.find("://")? + 3;
    let rest = &url[authority_start..];
    let authority_len = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let authority = &rest[..authority_len];
    // As URL parsers do: the user information ends at the last '@' of the authority.
    let userinfo_len = authority.rfind('@')?;
    let colon = authority[..userinfo_len].find(':')?;
    let start = authority_start + colon + 1;
    let end = authority_start + userinfo_len;
    Some(format!(
        "{}{}{}",
        &url[..start],
        percent_encode(password),
        &url[end..]
    ))
}

/// `host:port` as an endpoint setting writes it (IPv6 in brackets).
pub fn endpoint_of(url: &DatabaseUrl) -> String {
    if url.host.contains(':') {
        format!("[{}]:{}", url.host, url.port)
    } else {
        format!("{}:{}", url.host, url.port)
    }
}

/// Whether two endpoints name the same host (case-insensitively) and port.
pub fn same_endpoint(a: &str, b: &str) -> bool {
    match (parse_endpoint(a), parse_endpoint(b)) {
        (Ok(a), Ok(b)) => {
            let host = |h: &str| h.trim_end_matches('.').to_ascii_lowercase();
            host(&a.host) == host(&b.host) && a.port == b.port
        }
        _ => false,
    }
}

/// The parts of a `DATABASE_URL` a caller may set: what [`compose`] builds from or replaces.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum UrlPart {
    /// The user name.
    Username,
    /// The password (checked by the password rule).
    Password,
    /// The host name or address.
    Host,
    /// The port, 1 to 65535.
    Port,
    /// The database.
    Database,
}

impl UrlPart {
    /// Every part, by its name.
    pub const ALL: [(&'static str, UrlPart); 5] = [
        ("username", UrlPart::Username),
        ("password", UrlPart::Password),
        ("host", UrlPart::Host),
        ("port", UrlPart::Port),
        ("database", UrlPart::Database),
    ];

    /// The part named `name`.
    pub fn named(name: &str) -> Option<UrlPart> {
        Self::ALL.iter().find(|(n, _)| *n == name).map(|(_, p)| *p)
    }

    /// The part's name.
    pub fn name(self) -> &'static str {
        Self::ALL
            .iter()
            .find(|(_, p)| *p == self)
            .map_or("", |(n, _)| n)
    }
}

/// Why a `DATABASE_URL` could not be composed; never holds a password or the URL.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum ComposeError {
    /// The URL to change is unusable.
    #[error("the URL to change is unusable: {0}")]
    Base(DatabaseUrlError),
    /// A part needed to build a URL from parts is missing.
    #[error("{0} is needed to build a URL without one to change")]
    Missing(&'static str),
    /// The composed URL would not read back as set (a provider bug if it ever shows).
    #[error("the composed URL would not read back as the parts given")]
    ReadBack,
    /// A part's value is not accepted.
    #[error("{part}: {reason}")]
    Part {
        /// The part.
        part: &'static str,
        /// What is accepted.
        reason: String,
    },
}

fn part_error(part: UrlPart, reason: impl Into<String>) -> ComposeError {
    ComposeError::Part {
        part: part.name(),
        reason: reason.into(),
    }
}

/// A `mysql://` URL from `base` (when given) with `parts` replacing its parts, or from the
/// parts alone (username, password, host and database needed; the port only when not 3306).
/// The password must pass [`crate::clients::mysql::validate_password`], the rule the resources
/// apply, so that Django reads back exactly what MySQL was given. Other bytes of `base` (the
/// scheme, options after `?`) are kept. The result is parsed back as Django would and must
/// give every part as set.
pub fn compose(
    base: Option<&str>,
    parts: &BTreeMap<UrlPart, String>,
) -> Result<String, ComposeError> {
    if let Some(password) = parts.get(&UrlPart::Password) {
        crate::clients::mysql::validate_password(password)
            .map_err(|e| part_error(UrlPart::Password, e.to_string()))?;
    }
    let (scheme, mut current, query) = match base {
        Some(text) => {
            let parsed = DatabaseUrl::parse(text).map_err(ComposeError::Base)?;
            let url = url::Url::parse(text)
                .map_err(|e| ComposeError::Base(DatabaseUrlError::Invalid(e)))?;
            let explicit_port = url.port();
            (
                url.scheme().to_string(),
                Some((parsed, explicit_port)),
                url.query().map(str::to_string),
            )
        }
        None => ("mysql".to_string(), None, None),
    };
    let part = |p: UrlPart, from_base: Option<String>| -> Result<String, ComposeError> {
        parts
            .get(&p)
            .cloned()
            .or(from_base)
            .ok_or(ComposeError::Missing(p.name()))
    };
    let base_part = |f: fn(&DatabaseUrl) -> &String| current.as_ref().map(|(u, _)| f(u).clone());
    let username = part(UrlPart::Username, base_part(|u| &u.username))?;
    let password = part(UrlPart::Password, base_part(|u| &u.password))?;
    let host = part(UrlPart::Host, base_part(|u| &u.host))?;
    let database = part(UrlPart::Database, base_part(|u| &u.database))?;
    let port = match parts.get(&UrlPart::Port) {
        Some(text) => Some(
            text.parse::<u16>()
                .ok()
                .filter(|p| *p > 0)
                .ok_or_else(|| part_error(UrlPart::Port, "a port is a number from 1 to 65535"))?,
        ),
        None => current.take().and_then(|(_, port)| port),
    };
    for (p, value) in [
        (UrlPart::Username, &username),
        (UrlPart::Host, &host),
        (UrlPart::Database, &database),
    ] {
        if value.is_empty() {
            return Err(part_error(p, "must not be empty"));
        }
    }
    let host_ok = host
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b"-._".contains(&b))
        || (host.starts_with('[') && host.ends_with(']'));
    if !host_ok {
        return Err(part_error(
            UrlPart::Host,
            "a host is a name or address: letters, digits, '-', '.', '_' (IPv6 in brackets)",
        ));
    }
    let mut text = format!(
        "{scheme}://{}:{}@{host}",
        percent_encode(&username),
        percent_encode(&password)
    );
    if let Some(port) = port {
        text.push_str(&format!(":{port}"));
    }
    text.push('/');
    text.push_str(&percent_encode(&database));
    if let Some(query) = query {
        text.push('?');
        text.push_str(&query);
    }
    // Read back as Django would: every part must come out as it was set.
    let back = DatabaseUrl::parse(&text).map_err(|_| ComposeError::ReadBack)?;
    let host_back = host.trim_start_matches('[').trim_end_matches(']');
    if back.username != username || back.password != password || back.database != database {
        return Err(ComposeError::ReadBack);
    }
    if !back
        .host
        .trim_start_matches('[')
        .trim_end_matches(']')
        .eq_ignore_ascii_case(host_back)
    {
        return Err(part_error(
            UrlPart::Host,
            "Django would read another host from it",
        ));
    }
    Ok(text)
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
    fn only_the_password_part_of_the_url_changes() {
        let url = "mysql://th_admin:old-Pass@db.example.com:3306/treeherder?ssl=1&x=%2F#frag";
        let new = with_password(url, "N3w-pass.word~(x)*+,;=!$&").unwrap();
        assert_eq!(
            new,
            "mysql://th_admin:N3w-pass.word~(x)*+,;=!$&@db.example.com:3306/treeherder?ssl=1&x=%2F#frag"
        );
        let parsed = DatabaseUrl::parse(&new).unwrap();
        assert_eq!(parsed.password, "N3w-pass.word~(x)*+,;=!$&");
        assert_eq!(parsed.username, "th_admin");
        assert_eq!(parsed.database, "treeherder");
    }

    #[test]
    fn characters_urls_reserve_are_percent_encoded_and_decode_back() {
        let url = "mysql://us%40er:p%25w@h:3307/d";
        let new = with_password(url, "a%b@c/d#e:f g").unwrap();
        assert_eq!(new, "mysql://us%40er:a%25b%40c%2Fd%23e%3Af%20g@h:3307/d");
        let parsed = DatabaseUrl::parse(&new).unwrap();
        assert_eq!(parsed.password, "a%b@c/d#e:f g");
        assert_eq!(parsed.username, "us@er");
    }

    #[test]
    fn urls_without_a_password_part_are_refused() {
        assert_eq!(with_password("mysql://user@h/d", "x"), None);
        assert_eq!(with_password("mysql://h/d?u=a:b@c", "x"), None);
        assert_eq!(with_password("not a url", "x"), None);
    }

    #[test]
    fn endpoints_compare_by_host_case_and_port() {
        assert!(same_endpoint("DB.Example.com:3306", "db.example.com"));
        assert!(!same_endpoint("db.example.com:3307", "db.example.com:3306"));
        assert!(!same_endpoint(
            "prod.example.com:3306",
            "stage.example.com:3306"
        ));
        assert!(same_endpoint("[::1]:3306", "[::1]"));
    }

    fn parts(pairs: &[(UrlPart, &str)]) -> BTreeMap<UrlPart, String> {
        pairs.iter().map(|(p, v)| (*p, v.to_string())).collect()
    }

    #[test]
    fn a_url_is_built_from_parts_in_the_runbook_shape() {
        let url = compose(
            None,
            &parts(&[
                (UrlPart::Username, "th_admin"),
                (UrlPart::Password, "abcdefghijklmnopqrstuvwxyz0123"),
                (
                    UrlPart::Host,
                    "treeherder-tmp.abc.us-east-1.rds.amazonaws.com",
                ),
                (UrlPart::Database, "treeherder"),
            ]),
        )
        .unwrap();
        assert_eq!(
            url,
            "mysql://th_admin:abcdefghijklmnopqrstuvwxyz0123@treeherder-tmp.abc.us-east-1.rds.amazonaws.com/treeherder"
        );
        assert_eq!(
            compose(None, &parts(&[(UrlPart::Username, "u")])),
            Err(ComposeError::Missing("password"))
        );
    }

    #[test]
    fn replacing_parts_keeps_the_scheme_the_port_and_the_options() {
        let base = "mysql2://th_admin:old-password-0123456789abcdef@old.host:3307/treeherder?ssl=1";
        let url = compose(
            Some(base),
            &parts(&[
                (UrlPart::Host, "new.host"),
                (UrlPart::Password, "new-password-0123456789abcdefgh"),
            ]),
        )
        .unwrap();
        assert_eq!(
            url,
            "mysql2://th_admin:new-password-0123456789abcdefgh@new.host:3307/treeherder?ssl=1"
        );
        let url = compose(Some(base), &parts(&[(UrlPart::Port, "3306")])).unwrap();
        assert!(url.contains("@old.host:3306/"), "{url}");
    }

    #[test]
    fn passwords_django_would_misparse_and_bad_parts_are_refused_without_echoing() {
        let bad = compose(
            Some("mysql://u:p-0123456789abcdef0123456789@h/d"),
            &parts(&[(UrlPart::Password, "with%percent-0123456789abcdef")]),
        )
        .unwrap_err();
        assert!(
            matches!(
                bad,
                ComposeError::Part {
                    part: "password",
                    ..
                }
            ),
            "{bad}"
        );
        assert!(!bad.to_string().contains("with%percent"));
        let bad = compose(
            Some("mysql://u:p-0123456789abcdef0123456789@h/d"),
            &parts(&[(UrlPart::Host, "evil/host")]),
        )
        .unwrap_err();
        assert!(
            matches!(bad, ComposeError::Part { part: "host", .. }),
            "{bad}"
        );
        let bad = compose(Some("postgres://u:SECRET@h/d"), &BTreeMap::new()).unwrap_err();
        assert!(matches!(bad, ComposeError::Base(_)));
        assert!(!bad.to_string().contains("SECRET"));
        let bad = compose(
            Some("mysql://u:p-0123456789abcdef0123456789@h/d"),
            &parts(&[(UrlPart::Port, "99999")]),
        )
        .unwrap_err();
        assert!(matches!(bad, ComposeError::Part { part: "port", .. }));
    }
}
