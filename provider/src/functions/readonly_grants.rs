//! `provider::treeherder::readonly_grants(user, host, database, tables)`: the GRANT statements
//! `treeherder_readonly_user` runs for an account and a list of tables, for review in plans
//! and outputs (the runbook's "updated set of grant statements" when tables are added).

use tfplugin::function::{Arguments, Function, FunctionError, Parameter, Signature};
use tfplugin::value::Type;

use crate::clients::mysql::identifiers::{DatabaseName, HostPattern, UserName};
use crate::clients::mysql::privileges::readonly_grant_statements;
use crate::clients::mysql::{Account, Identifier};

/// The `readonly_grants` function.
pub struct ReadonlyGrantsFunction;

const USER: usize = 0;
const HOST: usize = 1;
const DATABASE: usize = 2;
const TABLES: usize = 3;

impl Function for ReadonlyGrantsFunction {
    type Output = Vec<String>;

    fn name(&self) -> &'static str {
        "readonly_grants"
    }

    fn signature(&self) -> Signature {
        Signature {
            summary: "The runbook's GRANT statements for a read-only account and a list of tables",
            description: "Returns the `GRANT SELECT` statements `treeherder_readonly_user` runs \
                for a new account, exactly as it shows them in `grant_statements`: `SELECT` on \
                every table but those starting with `django_` or `auth_`, and `SELECT (id, \
                username, email)` on `auth_user` when it is listed. Nothing connects to a \
                server: the tables are the ones given (for example from the \
                `treeherder_mysql_tables` data source).",
            parameters: vec![
                Parameter::new(
                    "user",
                    Type::String,
                    "The account's user name, e.g. `redash`.",
                ),
                Parameter::new(
                    "host",
                    Type::String,
                    "The account's host pattern, e.g. `%`.",
                ),
                Parameter::new("database", Type::String, "The database, e.g. `treeherder`."),
                Parameter::new("tables", Type::list(Type::String), "The database's tables."),
            ],
            returns: Type::list(Type::String),
        }
    }

    fn call(&self, arguments: &Arguments) -> Result<Vec<String>, FunctionError> {
        let user: String = arguments.get(USER)?;
        let host: String = arguments.get(HOST)?;
        let database: String = arguments.get(DATABASE)?;
        let tables: Vec<String> = arguments.get(TABLES)?;
        fn at(
            position: usize,
            name: &'static str,
        ) -> impl Fn(crate::clients::mysql::IdentifierError) -> FunctionError {
            move |e| FunctionError::at(position, format!("{name}: {e}"))
        }
        let user = UserName::parse(&user).map_err(at(USER, "user"))?;
        let host = HostPattern::parse(&host).map_err(at(HOST, "host"))?;
        let database = DatabaseName::parse(&database).map_err(at(DATABASE, "database"))?;
        let tables = tables
            .iter()
            .map(|t| Identifier::table(t))
            .collect::<Result<Vec<_>, _>>()
            .map_err(at(TABLES, "tables"))?;
        readonly_grant_statements(
            &Account::of(&user, &host),
            database.identifier(),
            &tables,
            true,
        )
        .map_err(|e| FunctionError::new(e.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use tfplugin::function::function;
    use tfplugin::value::Value;

    use super::*;

    fn call(user: &str, tables: &[&str]) -> Result<Value, FunctionError> {
        let s = |t: &str| Value::String(t.into());
        function(ReadonlyGrantsFunction).call_value(&Arguments::new(vec![
            (s(user), Type::String),
            (s("%"), Type::String),
            (s("treeherder"), Type::String),
            (
                Value::List(tables.iter().map(|t| s(t)).collect()),
                Type::list(Type::String),
            ),
        ]))
    }

    #[test]
    fn the_runbook_shape_skips_django_and_auth_and_grants_columns_of_auth_user() {
        let Value::List(statements) = call(
            "redash",
            &["job", "django_migrations", "auth_user", "auth_group"],
        )
        .unwrap() else {
            panic!("a list");
        };
        let texts: Vec<String> = statements
            .into_iter()
            .map(|v| match v {
                Value::String(s) => s,
                other => panic!("{other:?}"),
            })
            .collect();
        assert_eq!(texts.len(), 2, "{texts:?}");
        assert!(texts.iter().any(|t| t.contains("`job`")), "{texts:?}");
        assert!(
            texts
                .iter()
                .any(|t| t.contains("`auth_user`") && t.contains("`username`")),
            "{texts:?}"
        );
        assert!(!texts
            .iter()
            .any(|t| t.contains("django_") || t.contains("auth_group")));
    }

    #[test]
    fn bad_names_are_refused_at_their_argument() {
        assert_eq!(call("", &["job"]).unwrap_err().argument, Some(USER));
        let too_long = "t".repeat(65);
        assert_eq!(
            call("redash", &[&too_long]).unwrap_err().argument,
            Some(TABLES)
        );
    }
}
