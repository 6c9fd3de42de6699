//! An app's `DATABASE_URL` (`mysql://user:password@host[:port]/database`) as Django reads it:
//! parsing, and replacing its password part without touching any other byte.

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
}
