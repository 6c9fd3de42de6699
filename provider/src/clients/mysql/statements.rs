//! SQL generation.
//!
//! Every statement has two texts: the one executed and the one displayed (in plans, logs and
//! errors). They differ only for password-bearing statements, whose display text shows
//! `'<password>'`. Statements are built so that re-running them after a lost connection
//! converges (see [`Statement::kind`] and [`StatementKind`]).

use std::fmt;

use super::identifiers::{quote_identifier, quote_string, Account, Identifier};
use super::password::{Password, SecretString};
use super::privileges::{DesiredUser, GrantDiff, UserState};

/// Placeholder shown instead of a password.
pub const PASSWORD_PLACEHOLDER: &str = "'<password>'";

/// What a statement does; decides how a retry after an uncertain failure is interpreted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatementKind {
    /// `CREATE USER`. Deliberately without `IF NOT EXISTS`: that would silently keep an
    /// existing account's password and REQUIRE setting. If the first attempt's outcome is
    /// unknown and the retry gets 1396 (exists), the client runs the statement's converge
    /// SQL (`ALTER USER … IDENTIFIED BY … REQUIRE …`) so the account ends up as specified.
    CreateUser,
    /// `ALTER USER … IDENTIFIED BY`; idempotent.
    SetPassword,
    /// `ALTER USER … REQUIRE SSL|NONE`; idempotent.
    SetRequire,
    /// `GRANT SELECT …`; idempotent.
    Grant,
    /// `REVOKE SELECT …`; error 1147 (no such grant) means the goal is reached.
    Revoke,
    /// `DROP USER`; error 1396 (no such account) means the goal is reached.
    DropUser,
}

/// One SQL statement, with a display text that never contains a password.
#[derive(Clone)]
pub struct Statement {
    kind: StatementKind,
    account: Account,
    sql: SecretString,
    display: String,
    converge_sql: Option<SecretString>,
    has_secret: bool,
}

impl Statement {
    fn plain(kind: StatementKind, account: &Account, sql: String) -> Self {
        Statement {
            kind,
            account: account.clone(),
            display: sql.clone(),
            sql: SecretString::new(sql),
            converge_sql: None,
            has_secret: false,
        }
    }

    /// What the statement does.
    pub fn kind(&self) -> StatementKind {
        self.kind
    }

    /// The account the statement is about.
    pub fn account(&self) -> &Account {
        &self.account
    }

    /// The text to show (password replaced by `'<password>'`).
    pub fn display_text(&self) -> &str {
        &self.display
    }

    /// Whether the executed text contains a password.
    pub fn has_secret(&self) -> bool {
        self.has_secret
    }

    /// The text to execute. Never log it.
    pub(crate) fn sql(&self) -> &str {
        self.sql.expose()
    }

    /// SQL that brings an already-existing account to this statement's intent (CREATE only).
    pub(crate) fn converge_sql(&self) -> Option<&str> {
        self.converge_sql.as_ref().map(SecretString::expose)
    }
}

impl fmt::Display for Statement {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.display)
    }
}

impl fmt::Debug for Statement {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Statement")
            .field("kind", &self.kind)
            .field("display", &self.display)
            .finish()
    }
}

fn require_clause(require_ssl: bool) -> &'static str {
    if require_ssl {
        "REQUIRE SSL"
    } else {
        "REQUIRE NONE"
    }
}

/// `CREATE USER 'u'@'h' IDENTIFIED BY '…' REQUIRE SSL|NONE`.
pub fn create_user(account: &Account, password: &Password, require_ssl: bool) -> Statement {
    let render = |pw: &str| {
        format!(
            "CREATE USER {} IDENTIFIED BY {} {}",
            account.quoted(),
            pw,
            require_clause(require_ssl)
        )
    };
    let converge = format!(
        "ALTER USER {} IDENTIFIED BY {} {}",
        account.quoted(),
        quote_string(password.expose()),
        require_clause(require_ssl)
    );
    Statement {
        kind: StatementKind::CreateUser,
        account: account.clone(),
        sql: SecretString::new(render(&quote_string(password.expose()))),
        display: render(PASSWORD_PLACEHOLDER),
        converge_sql: Some(SecretString::new(converge)),
        has_secret: true,
    }
}

/// `ALTER USER 'u'@'h' IDENTIFIED BY '…'` (works on MySQL ≥ 5.7.6 and MariaDB ≥ 10.2, unlike
/// `SET PASSWORD`, whose meaning differs between them).
pub fn alter_password(account: &Account, password: &Password) -> Statement {
    let render = |pw: &str| format!("ALTER USER {} IDENTIFIED BY {}", account.quoted(), pw);
    Statement {
        kind: StatementKind::SetPassword,
        account: account.clone(),
        sql: SecretString::new(render(&quote_string(password.expose()))),
        display: render(PASSWORD_PLACEHOLDER),
        converge_sql: None,
        has_secret: true,
    }
}

/// `ALTER USER 'u'@'h' REQUIRE SSL|NONE`. Never put REQUIRE on GRANT: it is removed in MySQL 8
/// and on MariaDB `GRANT … REQUIRE NONE` silently resets the account.
pub fn set_require_ssl(account: &Account, require_ssl: bool) -> Statement {
    Statement::plain(
        StatementKind::SetRequire,
        account,
        format!(
            "ALTER USER {} {}",
            account.quoted(),
            require_clause(require_ssl)
        ),
    )
}

fn on_table(database: &Identifier, table: &str) -> String {
    format!("{}.{}", database.quoted(), quote_identifier(table))
}

fn column_list<'a>(columns: impl IntoIterator<Item = &'a str>) -> String {
    columns
        .into_iter()
        .map(quote_identifier)
        .collect::<Vec<_>>()
        .join(", ")
}

/// `GRANT SELECT ON db.t TO 'u'@'h'`.
pub fn grant_select_table(database: &Identifier, account: &Account, table: &str) -> Statement {
    Statement::plain(
        StatementKind::Grant,
        account,
        format!(
            "GRANT SELECT ON {} TO {}",
            on_table(database, table),
            account.quoted()
        ),
    )
}

/// `REVOKE SELECT ON db.t FROM 'u'@'h'` (also removes that table's column grants).
pub fn revoke_select_table(database: &Identifier, account: &Account, table: &str) -> Statement {
    Statement::plain(
        StatementKind::Revoke,
        account,
        format!(
            "REVOKE SELECT ON {} FROM {}",
            on_table(database, table),
            account.quoted()
        ),
    )
}

/// `GRANT SELECT (c1, c2) ON db.t TO 'u'@'h'`.
pub fn grant_select_columns<'a>(
    database: &Identifier,
    account: &Account,
    table: &str,
    columns: impl IntoIterator<Item = &'a str>,
) -> Statement {
    Statement::plain(
        StatementKind::Grant,
        account,
        format!(
            "GRANT SELECT ({}) ON {} TO {}",
            column_list(columns),
            on_table(database, table),
            account.quoted()
        ),
    )
}

/// `REVOKE SELECT (c1, c2) ON db.t FROM 'u'@'h'`.
pub fn revoke_select_columns<'a>(
    database: &Identifier,
    account: &Account,
    table: &str,
    columns: impl IntoIterator<Item = &'a str>,
) -> Statement {
    Statement::plain(
        StatementKind::Revoke,
        account,
        format!(
            "REVOKE SELECT ({}) ON {} FROM {}",
            column_list(columns),
            on_table(database, table),
            account.quoted()
        ),
    )
}

/// `DROP USER 'u'@'h'` (removes its grants too).
pub fn drop_user(account: &Account) -> Statement {
    Statement::plain(
        StatementKind::DropUser,
        account,
        format!("DROP USER {}", account.quoted()),
    )
}

/// Renders a [`GrantDiff`]: account statements first, then revokes (least privilege while the
/// change is in flight), then grants. Order within each group is by table name.
pub fn render_diff(diff: &GrantDiff, desired: &DesiredUser) -> Vec<Statement> {
    let account = &desired.account;
    let db = &desired.database;
    let mut out = Vec::new();
    if diff.create {
        out.push(create_user(account, &desired.password, desired.require_ssl));
    }
    if diff.set_password {
        out.push(alter_password(account, &desired.password));
    }
    if let Some(require) = diff.set_require_ssl {
        out.push(set_require_ssl(account, require));
    }
    for table in &diff.revoke_tables {
        out.push(revoke_select_table(db, account, table));
    }
    for (table, columns) in &diff.revoke_columns {
        out.push(revoke_select_columns(
            db,
            account,
            table,
            columns.iter().map(String::as_str),
        ));
    }
    for table in &diff.grant_tables {
        out.push(grant_select_table(db, account, table.as_str()));
    }
    for (table, columns) in &diff.grant_columns {
        out.push(grant_select_columns(
            db,
            account,
            table.as_str(),
            columns.iter().map(Identifier::as_str),
        ));
    }
    out
}

/// The exact statements that take the account from `current` (None: it does not exist) to
/// `desired`. Pure; an empty result means the account is in sync.
pub fn plan_statements(current: Option<&UserState>, desired: &DesiredUser) -> Vec<Statement> {
    render_diff(&GrantDiff::between(current, desired), desired)
}

/// The display texts of statements, e.g. for a `grant_statements` attribute.
pub fn display_texts(statements: &[Statement]) -> Vec<String> {
    statements.iter().map(|s| s.display.clone()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clients::mysql::privileges::runbook_grants;

    fn desired(password_changed: bool) -> DesiredUser {
        let tables: Vec<Identifier> = ["auth_user", "django_migrations", "group", "job"]
            .iter()
            .map(|t| Identifier::table(t).unwrap())
            .collect();
        let (table_grants, column_grants) = runbook_grants(&tables);
        DesiredUser {
            account: Account::new("reader", "%").unwrap(),
            database: Identifier::database("treeherder").unwrap(),
            password: Password::new("S3cretS3cretS3cretS3cretS3cret!!").unwrap(),
            password_changed,
            require_ssl: true,
            table_grants,
            column_grants,
        }
    }

    #[test]
    fn plans_the_runbook_statements_without_the_password() {
        let plan = plan_statements(None, &desired(false));
        let texts = display_texts(&plan);
        assert_eq!(
            texts,
            [
                "CREATE USER 'reader'@'%' IDENTIFIED BY '<password>' REQUIRE SSL",
                "GRANT SELECT ON `treeherder`.`group` TO 'reader'@'%'",
                "GRANT SELECT ON `treeherder`.`job` TO 'reader'@'%'",
                "GRANT SELECT (`email`, `id`, `username`) ON `treeherder`.`auth_user` TO 'reader'@'%'",
            ]
        );
        for s in &plan {
            assert!(!s.display_text().contains("S3cret"));
            assert!(!format!("{s:?}").contains("S3cret"));
        }
        assert!(plan[0].sql().contains("'S3cretS3cretS3cretS3cretS3cret!!'"));
        assert!(plan[0]
            .converge_sql()
            .unwrap()
            .starts_with("ALTER USER 'reader'@'%' IDENTIFIED BY 'S3cret"));
        assert!(plan[0].has_secret() && !plan[1].has_secret());
    }

    #[test]
    fn rotation_and_require_repair() {
        let state = UserState {
            require_ssl: false,
            table_grants: ["group", "job"].iter().map(|s| s.to_string()).collect(),
            column_grants: [(
                "auth_user".to_string(),
                ["email", "id", "username"]
                    .iter()
                    .map(|s| s.to_string())
                    .collect(),
            )]
            .into_iter()
            .collect(),
            ..UserState::default()
        };
        let texts = display_texts(&plan_statements(Some(&state), &desired(true)));
        assert_eq!(
            texts,
            [
                "ALTER USER 'reader'@'%' IDENTIFIED BY '<password>'",
                "ALTER USER 'reader'@'%' REQUIRE SSL",
            ]
        );
    }

    #[test]
    fn revokes_before_grants() {
        let state = UserState {
            require_ssl: true,
            table_grants: ["old"].iter().map(|s| s.to_string()).collect(),
            ..UserState::default()
        };
        let kinds: Vec<StatementKind> = plan_statements(Some(&state), &desired(false))
            .iter()
            .map(Statement::kind)
            .collect();
        assert_eq!(
            kinds,
            [
                StatementKind::Revoke,
                StatementKind::Grant,
                StatementKind::Grant,
                StatementKind::Grant
            ]
        );
    }
}
