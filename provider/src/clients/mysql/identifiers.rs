//! Validation and quoting of account names, hosts, database, table and column names.
//!
//! Schema object names are quoted with backticks (inner backticks doubled). Account parts
//! (user, host) are string literals in account statements (`'user'@'host'`), which MySQL does
//! not accept as placeholders, so they are escaped here. Escaping assumes the session sql_mode
//! has neither `ANSI_QUOTES` nor `NO_BACKSLASH_ESCAPES`; the client sets it on every connection.

use std::borrow::{Borrow, Cow};
use std::fmt;

use schemars::{json_schema, JsonSchema, Schema, SchemaGenerator};
use serde::de::Error as _;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use tfplugin::types::{quote, QUOTE_LIMIT};

use super::error::{IdentifierError, NameKind};

/// Longest user name MariaDB accepts (MariaDB 10.6+ documents 80 characters).
pub const MAX_USER_NAME_MARIADB: usize = 80;
/// Longest user name MySQL 5.7.8+ and 8.x accept.
pub const MAX_USER_NAME_MYSQL: usize = 32;
/// Longest host part of an account.
pub const MAX_HOST: usize = 255;
/// Longest database, table or column name.
pub const MAX_IDENTIFIER: usize = 64;

/// A rejected name as errors carry it: cut, since messages echo it.
fn shown(name: &str) -> String {
    if name.chars().count() <= QUOTE_LIMIT {
        return name.to_owned();
    }
    let mut cut: String = name.chars().take(QUOTE_LIMIT).collect();
    cut.push('…');
    cut
}

fn check_common(kind: NameKind, name: &str, max: usize) -> Result<(), IdentifierError> {
    if name.is_empty() {
        return Err(IdentifierError::Empty { kind });
    }
    if name.chars().any(char::is_control) {
        return Err(IdentifierError::ControlCharacter {
            kind,
            name: shown(name),
        });
    }
    let length = name.chars().count();
    if length > max {
        return Err(IdentifierError::TooLong {
            kind,
            name: shown(name),
            length,
            max,
            context: "",
        });
    }
    Ok(())
}

/// The privilege tables hold names as utf8mb3: comparing them with a character outside the
/// Basic Multilingual Plane fails with ERROR 1267 (illegal mix of collations).
fn check_bmp(kind: NameKind, name: &str) -> Result<(), IdentifierError> {
    if name.chars().any(|c| u32::from(c) > 0xFFFF) {
        return Err(IdentifierError::SupplementaryCharacter {
            kind,
            name: shown(name),
        });
    }
    Ok(())
}

/// Account names: the common rules plus [`check_bmp`].
fn check_account_part(kind: NameKind, name: &str, max: usize) -> Result<(), IdentifierError> {
    check_common(kind, name, max)?;
    check_bmp(kind, name)
}

/// A validated database, table or column name.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Identifier(String);

impl Identifier {
    /// Validates `name` as a schema object name of the given kind: 1 to 64 characters, no NUL
    /// or control characters, only Basic Multilingual Plane characters, no trailing space.
    pub fn new(kind: NameKind, name: &str) -> Result<Self, IdentifierError> {
        check_common(kind, name, MAX_IDENTIFIER)?;
        check_bmp(kind, name)?;
        if name.ends_with(' ') {
            return Err(IdentifierError::TrailingSpace {
                kind,
                name: shown(name),
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
    /// pattern (1 to 255 characters, e.g. `%`). Neither may contain NUL, control characters or
    /// characters outside the Basic Multilingual Plane.
    pub fn new(user: &str, host: &str) -> Result<Self, IdentifierError> {
        check_account_part(NameKind::User, user, MAX_USER_NAME_MARIADB)?;
        check_account_part(NameKind::Host, host, MAX_HOST)?;
        Ok(Account {
            user: user.to_owned(),
            host: host.to_owned(),
        })
    }

    /// The account of a parsed user name and host pattern.
    pub fn of(user: &UserName, host: &HostPattern) -> Self {
        Account {
            user: user.0.clone(),
            host: host.0.clone(),
        }
    }

    /// Rejects user names longer than MySQL's 32 characters (MariaDB allows 80).
    pub fn check_mysql_limit(&self) -> Result<(), IdentifierError> {
        let length = self.user.chars().count();
        if length > MAX_USER_NAME_MYSQL {
            return Err(IdentifierError::TooLong {
                kind: NameKind::User,
                name: shown(&self.user),
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

/// Serialize (the name as written), Deserialize (through `parse`, the message saying what is
/// accepted) and a string JSON Schema of the given length bounds, for a model's name type.
macro_rules! model_name {
    ($type:ident, $accepted:expr, $min:expr, $max:expr) => {
        impl Serialize for $type {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(self.as_str())
            }
        }

        impl<'de> Deserialize<'de> for $type {
            fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                let text = String::deserialize(deserializer)?;
                <$type>::parse(&text)
                    .map_err(|e| D::Error::custom(format!("{e}; expected {}", $accepted)))
            }
        }

        impl JsonSchema for $type {
            fn schema_name() -> Cow<'static, str> {
                stringify!($type).into()
            }

            fn inline_schema() -> bool {
                true
            }

            fn json_schema(_generator: &mut SchemaGenerator) -> Schema {
                json_schema!({ "type": "string", "minLength": $min, "maxLength": $max })
            }
        }

        impl fmt::Display for $type {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

/// A user name of an account, as a model holds it (see [`Account::new`] for the rules).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct UserName(String);

impl UserName {
    /// Validates a user name: 1 to 80 characters without control characters or characters
    /// outside the Basic Multilingual Plane.
    pub fn parse(name: &str) -> Result<Self, IdentifierError> {
        check_account_part(NameKind::User, name, MAX_USER_NAME_MARIADB)?;
        Ok(UserName(name.to_owned()))
    }

    /// The name as written.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

model_name!(
    UserName,
    "a user name of 1 to 80 characters (32 on MySQL) without control characters or characters \
     outside the Basic Multilingual Plane (such as emoji)",
    1,
    MAX_USER_NAME_MARIADB
);

/// The host pattern of an account, e.g. `%`, as a model holds it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct HostPattern(String);

impl HostPattern {
    /// Validates a host pattern: 1 to 255 characters without control characters or characters
    /// outside the Basic Multilingual Plane.
    pub fn parse(host: &str) -> Result<Self, IdentifierError> {
        check_account_part(NameKind::Host, host, MAX_HOST)?;
        Ok(HostPattern(host.to_owned()))
    }

    /// The pattern as written.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

model_name!(
    HostPattern,
    "a host pattern of 1 to 255 characters without control characters or characters outside \
     the Basic Multilingual Plane, e.g. \"%\"",
    1,
    MAX_HOST
);

/// Schema object names of one kind, as a model holds them.
macro_rules! kind_name {
    ($(#[$doc:meta])* $type:ident, $kind:ident, $what:literal) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub struct $type(Identifier);

        impl $type {
            /// Validates the name (see [`Identifier::new`]).
            pub fn parse(name: &str) -> Result<Self, IdentifierError> {
                Identifier::new(NameKind::$kind, name).map($type)
            }

            /// The name as written.
            pub fn as_str(&self) -> &str {
                self.0.as_str()
            }

            /// The validated identifier.
            pub fn identifier(&self) -> &Identifier {
                &self.0
            }
        }

        impl Borrow<str> for $type {
            fn borrow(&self) -> &str {
                self.as_str()
            }
        }

        model_name!(
            $type,
            concat!(
                "a ",
                $what,
                " of 1 to 64 characters, without control characters, characters outside the \
                 Basic Multilingual Plane or a trailing space"
            ),
            1,
            MAX_IDENTIFIER
        );
    };
}

kind_name!(
    /// A database name.
    DatabaseName,
    Database,
    "database name"
);
kind_name!(
    /// A table name.
    TableName,
    Table,
    "table name"
);
kind_name!(
    /// A column name.
    ColumnName,
    Column,
    "column name"
);

/// A regular expression (Rust `regex` syntax) over table names, compiled once when the
/// configuration is read.
#[derive(Clone)]
pub struct TablePattern(regex::Regex);

/// Why a table-name pattern was rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{} is not a valid regular expression (Rust regex syntax): {reason}", quote(.text))]
pub struct TablePatternError {
    text: String,
    reason: String,
}

impl TablePattern {
    /// Compiles `text`.
    pub fn parse(text: &str) -> Result<Self, TablePatternError> {
        regex::Regex::new(text)
            .map(TablePattern)
            .map_err(|e| TablePatternError {
                text: text.to_owned(),
                // The regex crate's message spans lines and repeats the pattern: keep its gist.
                reason: e
                    .to_string()
                    .lines()
                    .last()
                    .unwrap_or_default()
                    .trim_start_matches("error: ")
                    .to_owned(),
            })
    }

    /// True when `table` matches.
    pub fn is_match(&self, table: &str) -> bool {
        self.0.is_match(table)
    }

    /// The expression as written.
    pub fn as_str(&self) -> &str {
        self.0.as_str()
    }
}

impl PartialEq for TablePattern {
    fn eq(&self, other: &Self) -> bool {
        self.as_str() == other.as_str()
    }
}

impl Eq for TablePattern {}

impl fmt::Debug for TablePattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "TablePattern({:?})", self.as_str())
    }
}

tfplugin::text_value!(
    TablePattern,
    schema = json_schema!({ "type": "string", "format": "regex" })
);

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
    fn model_names_parse_once_and_cut_what_they_echo() {
        let long = "t".repeat(10_000);
        let err = TableName::parse(&long).unwrap_err().to_string();
        assert!(err.len() < 300 && err.contains("10000 characters"), "{err}");
        let err = serde_json::from_value::<TableName>(serde_json::json!("a\u{0}b")).unwrap_err();
        assert!(
            err.to_string().contains("expected a table name of 1 to 64"),
            "{err}"
        );
        let err = TablePattern::parse("(unclosed").unwrap_err().to_string();
        assert!(err.contains("not a valid regular expression"), "{err}");
        assert!(!err.contains('\n'), "{err}");
        assert!(TablePattern::parse("^job").unwrap().is_match("job_log"));
        let account = Account::of(
            &UserName::parse("reader").unwrap(),
            &HostPattern::parse("%").unwrap(),
        );
        assert_eq!(account.quoted(), "'reader'@'%'");
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
