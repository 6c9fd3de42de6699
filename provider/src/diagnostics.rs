//! The one place where client errors become Terraform diagnostics.

use tfplugin::{AttributePath, Diagnostic, Diagnostics};

use crate::clients::heroku::HerokuError;
use crate::clients::mysql::MysqlError;

impl From<HerokuError> for Diagnostics {
    fn from(error: HerokuError) -> Self {
        // HerokuError's Display names the action, the app, Heroku's error id and message.
        Diagnostic::error("Heroku API error", tfplugin::log::mask(&error.to_string())).into()
    }
}

impl From<MysqlError> for Diagnostics {
    fn from(error: MysqlError) -> Self {
        Diagnostic::error("MySQL error", tfplugin::log::mask(&error.to_string())).into()
    }
}

/// A MySQL error of an operation on `database`, at the `database` attribute when that is the
/// problem (the provider's default database, or the resource's own, does not exist).
pub(crate) fn database_error_at(error: MysqlError, database: AttributePath) -> Diagnostics {
    match error {
        MysqlError::DatabaseNotFound { .. } => Diagnostic::error(
            "Unknown database",
            format!(
                "The {}. Name an existing database here, or fix the provider's mysql.database (TREEHERDER_MYSQL_DATABASE) that it defaults to.",
                tfplugin::log::mask(&error.to_string())
            ),
        )
        .at(database)
        .into(),
        other => other.into(),
    }
}
