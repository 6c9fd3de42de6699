//! Validation and quoting of account names, hosts, database, table and column names.
//!
//! Schema object names are quoted with backticks (inner backticks doubled). Account parts
//! (user, host) are string literals in account statements (`'user'@'host'`), which MySQL does
//! not accept as placeholders, so they are escaped here. Escaping assumes the session sql_mode
//! has neither `ANSI_QUOTES` nor `NO_BACKSLASH_ESCAPES`; the client sets it on every connection.

use std::fmt;

use super::error::{IdentifierError, NameKind};

/// Longest user name MariaDB accepts (MariaDB 10.6+ documents 80 characters).
pub const MAX_USER_NAME_MARIADB: usize = 80;
/// Longest user name MySQL 5.7.8+ and 8.x accept.
pub const MAX_USER_NAME_MYSQL: usize = 32;
/// Longest host part of an account.
pub const MAX_HOST: usize = 255;
/// Longest database, table or column name.
pub const MAX_IDENTIFIER: usize = 64;

fn check_common(kind: NameKind, name: &str, max: usize) -> Result<(), IdentifierError> {
    if name.is_empty() {
        return Err(IdentifierError::Empty { kind });
    }
    if name.chars().any(char::is_control) {
        return Err(IdentifierError::ControlCharacter {
            kind,
            name: name.to_owned(),
        });
    }
    let length = name.chars().count();
    if length > max {
        return Err(IdentifierError::TooLong {
            kind,
            name: name.to_owned(),
            length,
            max,
            context: "",
        });
    }
    Ok(())
}

/// A validated database, table or column name.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Identifier(String);

impl Identifier {
    /// Validates `name` as a schema object name of the given kind: 1 to 64 characters, no NUL
    /// or control characters, only Basic Multilingual Plane characters, no trailing space.
    pub fn new(kind: NameKind, name: &str) -> Result<Self, IdentifierError> {
        check_common(kind, name, MAX_IDENTIFIER)?;
        if name.chars().any(|c| u32::from(c) > 0xFFFF) {
            return Err(IdentifierError::SupplementaryCharacter {
                kind,
                name: name.to_owned(),
            });
        }
        if name.ends_with(' ') {
            return Err(IdentifierError::TrailingSpace {
                kind,
                name: name.to_owned(),
            });
        }
        Ok(Identifier(name.to_owned()))
    }

    /// A database name.
    pub fn database(name: &str) -> Result<Self, IdentifierError> {
        Self::new(NameKind::Database, name)
    }

    /// A table name.
    pub fn table(name: &str) -> Result<Self, IdentifierError> {
        Self::new(NameKind::Table, name)
    }

    /// A column name.
    pub fn column(name: &str) -> Result<Self, IdentifierError> {
        Self::new(NameKind::Column, name)
    }

    /// The name as given.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The name quoted for SQL, e.g. `` `group` ``.
    pub fn quoted(&self) -> String {
        quote_identifier(&self.0)
    }
}

impl fmt::Display for Identifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Quotes a name with backticks, doubling inner backticks. Also used for names read back from
/// the server's catalog, which are valid by construction.
pub fn quote_identifier(name: &str) -> String {
    format!("`{}`", name.replace('`', "``"))
}

/// Quotes a string literal with single quotes, escaping backslashes and single quotes.
///
/// Valid because the client's sessions run without `NO_BACKSLASH_ESCAPES` and `ANSI_QUOTES`.
/// Callers only pass names free of control characters and validated passwords.
pub fn quote_string(value: &str) -> String {
    format!("'{}'", value.replace('\\', "\\\\").replace('\'', "''"))
}

/// A validated MySQL account (`'user'@'host'`).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Account {
    user: String,
    host: String,
}

impl Account {
    /// Validates a user name (1 to 80 characters, the MariaDB limit; MySQL's 32-character limit
    /// is checked once the server is known, see [`Account::check_mysql_limit`]) and a host
    /// pattern (1 to 255 characters, e.g. `%`). Neither may contain NUL or control characters.
    pub fn new(user: &str, host: &str) -> Result<Self, IdentifierError> {
        check_common(NameKind::User, user, MAX_USER_NAME_MARIADB)?;
        check_common(NameKind::Host, host, MAX_HOST)?;
        Ok(Account {
            user: user.to_owned(),
            host: host.to_owned(),
        })
    }

    /// Rejects user names longer than MySQL's 32 characters (MariaDB allows 80).
    pub fn check_mysql_limit(&self) -> Result<(), IdentifierError> {
        let length = self.user.chars().count();
        if length > MAX_USER_NAME_MYSQL {
            return Err(IdentifierError::TooLong {
                kind: NameKind::User,
                name: self.user.clone(),
                length,
                max: MAX_USER_NAME_MYSQL,
                context: " on MySQL",
            });
        }
        Ok(())
    }

    /// The user name.
    pub fn user(&self) -> &str {
        &self.user
    }

    /// The host pattern.
    pub fn host(&self) -> &str {
        &self.host
    }

    /// The account as SQL, e.g. `'reader'@'%'`.
    pub fn quoted(&self) -> String {
        format!("{}@{}", quote_string(&self.user), quote_string(&self.host))
    }
}

impl fmt::Display for Account {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.quoted())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quotes_identifiers_and_strings() {
        assert_eq!(Identifier::table("group").unwrap().quoted(), "`group`");
        assert_eq!(quote_identifier("a`b"), "`a``b`");
        assert_eq!(quote_string("it's"), "'it''s'");
        assert_eq!(quote_string(r"a\b"), r"'a\\b'");
        assert_eq!(
            Account::new("o'brien", "%").unwrap().quoted(),
            r"'o''brien'@'%'"
        );
    }

    #[test]
    fn rejects_unsafe_names() {
        assert!(matches!(
            Identifier::table(""),
            Err(IdentifierError::Empty { .. })
        ));
        assert!(matches!(
            Identifier::table("a\0b"),
            Err(IdentifierError::ControlCharacter { .. })
        ));
        assert!(matches!(
            Identifier::column("a\nb"),
            Err(IdentifierError::ControlCharacter { .. })
        ));
        assert!(matches!(
            Identifier::table(&"t".repeat(65)),
            Err(IdentifierError::TooLong { max: 64, .. })
        ));
        assert!(Identifier::table(&"t".repeat(64)).is_ok());
        assert!(matches!(
            Identifier::table("tab "),
            Err(IdentifierError::TrailingSpace { .. })
        ));
        assert!(matches!(
            Identifier::table("emoji😀"),
            Err(IdentifierError::SupplementaryCharacter { .. })
        ));
        assert!(matches!(
            Account::new(&"u".repeat(81), "%"),
            Err(IdentifierError::TooLong { max: 80, .. })
        ));
        assert!(matches!(
            Account::new("u", &"h".repeat(256)),
            Err(IdentifierError::TooLong { max: 255, .. })
        ));
        assert!(matches!(
            Account::new("u\u{7f}", "%"),
            Err(IdentifierError::ControlCharacter { .. })
        ));
        let long = Account::new(&"u".repeat(33), "%").unwrap();
        assert!(matches!(
            long.check_mysql_limit(),
            Err(IdentifierError::TooLong { max: 32, .. })
        ));
        assert!(Account::new(&"u".repeat(32), "%")
            .unwrap()
            .check_mysql_limit()
            .is_ok());
    }
}
