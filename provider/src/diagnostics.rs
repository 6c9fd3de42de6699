//! The one place where client errors become Terraform diagnostics.

use tfplugin::{AttributePath, Diagnostic, Diagnostics};

use crate::clients::heroku::{CollaboratorError, GitHubError, HerokuError};
use crate::clients::mysql::MysqlError;
use crate::clients::rds::RdsError;

impl From<HerokuError> for Diagnostics {
    fn from(error: HerokuError) -> Self {
        // HerokuError's Display names the action, the app, Heroku's error id and message.
        Diagnostic::error("Heroku API error", tfplugin::log::mask(&error.to_string())).into()
    }
}

impl From<GitHubError> for Diagnostics {
    fn from(error: GitHubError) -> Self {
        github_error_at(error, None, None)
    }
}

/// A GitHub error, at `repo` when the repository is the problem and at `reference` when the
/// branch, tag or commit is.
pub(crate) fn github_error_at(
    error: GitHubError,
    repo: Option<AttributePath>,
    reference: Option<AttributePath>,
) -> Diagnostics {
    let (summary, at) = match &error {
        GitHubError::NotLinked => ("No GitHub account linked to Heroku", None),
        GitHubError::TokenRefused { .. } => ("GitHub refused the linked account's token", None),
        GitHubError::UnknownRepo { .. } => ("Unknown GitHub repository", repo),
        GitHubError::UnknownRef { .. } => ("Unknown branch, tag or commit", reference),
        GitHubError::Heroku(_) => ("Heroku GitHub integration error", None),
    };
    let diagnostic = Diagnostic::error(summary, tfplugin::log::mask(&error.to_string()));
    match at {
        Some(path) => diagnostic.at(path).into(),
        None => diagnostic.into(),
    }
}

impl From<MysqlError> for Diagnostics {
    fn from(error: MysqlError) -> Self {
        Diagnostic::error("MySQL error", tfplugin::log::mask(&error.to_string())).into()
    }
}

impl From<RdsError> for Diagnostics {
    fn from(error: RdsError) -> Self {
        Diagnostic::error("Amazon RDS error", tfplugin::log::mask(&error.to_string())).into()
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

/// A Heroku error of a request about `app`, at the attribute naming the app when Heroku has no
/// such app (or the API key cannot see it).
pub(crate) fn app_error_at(error: HerokuError, app: &str, at: AttributePath) -> Diagnostics {
    if error.is_not_found() {
        Diagnostic::error(
            "Unknown app",
            format!(
                "Heroku has no app {} (or this API key cannot see it).",
                tfplugin::types::quote(app)
            ),
        )
        .at(at)
        .into()
    } else {
        error.into()
    }
}

/// A collaborator error, at the collaborator's `email` attribute when the e-mail is the
/// problem (no such Heroku account, already a collaborator).
pub(crate) fn collaborator_error_at(error: CollaboratorError, email: AttributePath) -> Diagnostics {
    let (summary, at_email) = match &error {
        // Same words as any other Heroku error (Display is transparent).
        CollaboratorError::Heroku(_) => ("Heroku API error", false),
        CollaboratorError::UnknownUser { .. } => ("Unknown Heroku account", true),
        CollaboratorError::AlreadyCollaborator { .. } => ("Already a collaborator", true),
        CollaboratorError::StillListed { .. } => ("Collaborator still listed", false),
        CollaboratorError::Stopped { .. } => ("Stopped", false),
    };
    let diagnostic = Diagnostic::error(summary, tfplugin::log::mask(&error.to_string()));
    if at_email {
        diagnostic.at(email).into()
    } else {
        diagnostic.into()
    }
}
