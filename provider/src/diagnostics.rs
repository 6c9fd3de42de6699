//! The one place where client errors become Terraform diagnostics.

use tfplugin::{Diagnostic, Diagnostics};

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
