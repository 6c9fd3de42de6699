//! App collaborators (Platform API). Apps owned by a team go through the team-app
//! collaborator endpoints (`/teams/apps/{app name}/collaborators`), which carry permissions;
//! personal apps through `/apps/{app}/collaborators`, which have none.
//!
//! Adding a collaborator is a POST and is not retried blindly after an unknown outcome: the
//! collaborator is read back by e-mail first, and only sent again when it is not there (a
//! lost answer whose retry meets "already a collaborator" is reconciled the same way). A
//! collaborator that is already there with exactly the requested permissions is taken (an
//! apply killed after adding it, before saving it); one with other permissions is an error
//! that says to import it. 429s are retried by the transport: Heroku acted on nothing. Heroku can still show a
//! just-deleted collaborator for a few seconds, so [`HerokuClient::wait_collaborator_gone`]
//! polls until it is really gone.

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use reqwest::Method;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::coalesce::{Reuse, Scope};
use super::transport::Api;
use super::{decode, log, parse_body, App, HerokuClient, HerokuError, LogLevel, RequestContext};

/// Longest pause between two checks whether a deleted collaborator is gone.
const MAX_GONE_POLL_INTERVAL: Duration = Duration::from_secs(2);

/// The app whose collaborators are managed, and which endpoints serve them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CollaboratorApp {
    /// App UUID (cache scope, personal endpoints).
    pub id: Uuid,
    /// App name (the team-app endpoints take names only).
    pub name: String,
    /// Owning team, `None` for a personal app.
    pub team: Option<String>,
}

impl CollaboratorApp {
    /// From an app as Heroku describes it.
    pub fn of(app: &App) -> Self {
        Self {
            id: app.id,
            name: app.name.clone(),
            team: app.team.as_ref().and_then(|t| t.name.clone()),
        }
    }

    fn base(&self) -> Vec<&str> {
        match self.team {
            Some(_) => vec!["teams", "apps", self.name.as_str(), "collaborators"],
            None => vec!["apps", self.name.as_str(), "collaborators"],
        }
    }
}

/// A collaborator's account.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CollaboratorUser {
    /// Account e-mail.
    pub email: String,
    /// Account UUID.
    #[serde(default)]
    pub id: Option<Uuid>,
}

/// A team-app permission as Heroku lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PermissionRef {
    /// `view`, `deploy`, `operate` or `manage`.
    pub name: String,
}

/// A collaborator (`collaborator` / `team-app-collaborator`); only the fields the provider uses.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Collaborator {
    /// Collaborator UUID.
    pub id: Uuid,
    /// The account.
    pub user: CollaboratorUser,
    /// Permissions (team apps only; empty on personal apps).
    #[serde(default)]
    pub permissions: Vec<PermissionRef>,
    /// Role: `admin`, `collaborator`, `member`, `owner` or none.
    #[serde(default)]
    pub role: Option<String>,
}

impl Collaborator {
    /// The permission names.
    pub fn permission_names(&self) -> BTreeSet<String> {
        self.permissions.iter().map(|p| p.name.clone()).collect()
    }
}

/// Body of a create: `permissions` only for team apps.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NewCollaborator {
    /// E-mail of the account to add.
    pub user: String,
    /// Permissions to give (team apps).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub permissions: Option<Vec<String>>,
    /// Do not send the invitation e-mail.
    pub silent: bool,
}

impl NewCollaborator {
    /// Whether `existing` is exactly this collaborator: its permissions are the requested
    /// ones (none asked, none held, on a personal app).
    pub fn is_held_by(&self, existing: &Collaborator) -> bool {
        let wanted: BTreeSet<String> = self.permissions.iter().flatten().cloned().collect();
        existing.permission_names() == wanted
    }
}

#[derive(Serialize)]
struct PermissionsUpdate<'a> {
    permissions: &'a [String],
}

/// Why a collaborator operation failed, beyond a plain API error.
#[derive(Debug, Clone, thiserror::Error)]
pub enum CollaboratorError {
    /// Heroku has no account with this e-mail.
    #[error("Heroku has no account with the e-mail {email}, so it cannot be a collaborator on app {app}; only existing Heroku accounts can be added (check the spelling, or have the person sign up first)")]
    UnknownUser {
        /// The e-mail as given.
        email: String,
        /// App name.
        app: String,
    },
    /// The account is a collaborator already, with other permissions (added by hand or by
    /// another configuration).
    #[error("{email} is already a collaborator on app {app}, with other permissions than configured; to manage it with Terraform, import it: `terraform import ADDRESS {app}:{email}`")]
    AlreadyCollaborator {
        /// The e-mail as given.
        email: String,
        /// App name.
        app: String,
    },
    /// The collaborator was deleted but Heroku still listed it when the time limit passed.
    #[error("collaborator {email} of app {app} was deleted but Heroku still listed it after {waited:?}; it should disappear shortly (raise the `timeouts` delete limit to wait longer)")]
    StillListed {
        /// The e-mail.
        email: String,
        /// App name.
        app: String,
        /// How long we waited.
        waited: Duration,
    },
    /// Terraform asked the provider to stop.
    #[error("stopped while waiting for collaborator {email} of app {app} to be gone")]
    Stopped {
        /// The e-mail.
        email: String,
        /// App name.
        app: String,
    },
    /// Any other Heroku failure.
    #[error(transparent)]
    Heroku(#[from] HerokuError),
}

impl HerokuClient {
    /// The app's collaborators, from one listing per app shared by every reader (cached until
    /// a write to the app), like formations.
    pub async fn collaborators(
        &self,
        app: &CollaboratorApp,
    ) -> Result<Vec<Collaborator>, HerokuError> {
        let url = self.platform_url(&app.base())?;
        let context = RequestContext::on_app("listing collaborators", app.name.clone());
        self.get_list(url, None, true, Scope::App(app.id), Reuse::Cache, context)
            .await
    }

    /// One collaborator by e-mail, read fresh from Heroku; `None` when Heroku does not list it.
    pub async fn collaborator(
        &self,
        app: &CollaboratorApp,
        email: &str,
    ) -> Result<Option<Collaborator>, HerokuError> {
        let mut segments = app.base();
        segments.push(email);
        let url = self.platform_url(&segments)?;
        let context =
            RequestContext::on_app(format!("reading collaborator {email}"), app.name.clone());
        let result = self
            .get_object(
                Api::Platform,
                url,
                Scope::App(app.id),
                Reuse::InFlightOnly,
                context,
            )
            .await;
        match result {
            Ok(c) => Ok(Some(c)),
            Err(e) if e.is_not_found() => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Adds a collaborator (see the module docs for lost answers). Returns it as Heroku holds
    /// it: after a reconciled lost answer its permissions may differ from the request, and the
    /// caller sets them.
    pub async fn add_collaborator(
        &self,
        app: &CollaboratorApp,
        new: &NewCollaborator,
    ) -> Result<Collaborator, CollaboratorError> {
        let email = new.user.as_str();
        let context =
            RequestContext::on_app(format!("adding collaborator {email}"), app.name.clone());
        let url = self.platform_url(&app.base())?;
        let max_attempts = self.inner.transport.max_retries() + 1;
        let mut attempt = 0;
        let mut maybe_sent = false;
        loop {
            attempt += 1;
            let result = self
                .send_write(
                    Api::Platform,
                    Method::POST,
                    url.clone(),
                    Some(new),
                    false,
                    &context,
                )
                .await;
            self.invalidate_app_data(app.id);
            let error = match result {
                Ok(response) => {
                    let value = parse_body(&response.body, &context, response.status)?;
                    return Ok(decode(&value, &context, response.status)?);
                }
                // The app was read just before, so a 404 is about the user.
                Err(e) if e.is_not_found() => {
                    return Err(CollaboratorError::UnknownUser {
                        email: email.to_string(),
                        app: app.name.clone(),
                    })
                }
                Err(e) if e.status() == Some(422) => {
                    return match self.collaborator(app, email).await? {
                        Some(existing) if maybe_sent => {
                            log(
                                LogLevel::Warn,
                                &format!("{context}: an earlier attempt added it; using that"),
                            );
                            Ok(existing)
                        }
                        // Exactly what is asked for: most likely this configuration's own,
                        // added by an apply killed before it saved the state.
                        Some(existing) if new.is_held_by(&existing) => {
                            log(
                                LogLevel::Warn,
                                &format!("{context}: already a collaborator with exactly the configured permissions (an earlier apply stopped before saving it?); taking it"),
                            );
                            Ok(existing)
                        }
                        Some(_) => Err(CollaboratorError::AlreadyCollaborator {
                            email: email.to_string(),
                            app: app.name.clone(),
                        }),
                        None => Err(e.into()),
                    };
                }
                Err(e) if e.outcome_unknown() => e,
                Err(e) => return Err(e.into()),
            };
            maybe_sent = true;
            log(
                LogLevel::Warn,
                &format!("{context}: no answer ({error}); reading the collaborator to see whether it was added"),
            );
            tokio::time::sleep(self.inner.transport.backoff(attempt - 1)).await;
            if let Some(existing) = self.collaborator(app, email).await? {
                log(
                    LogLevel::Warn,
                    &format!("{context}: it was added; not sending it again"),
                );
                return Ok(existing);
            }
            if attempt >= max_attempts {
                return Err(error.into());
            }
        }
    }

    /// Sets the permissions of a team-app collaborator. The body holds the whole set, so the
    /// PATCH is retried like an idempotent request.
    pub async fn set_collaborator_permissions(
        &self,
        app: &CollaboratorApp,
        email: &str,
        permissions: &[String],
    ) -> Result<Collaborator, HerokuError> {
        let url = self.platform_url(&["teams", "apps", &app.name, "collaborators", email])?;
        let context = RequestContext::on_app(
            format!("updating permissions of collaborator {email}"),
            app.name.clone(),
        );
        let result = self
            .send_write(
                Api::Platform,
                Method::PATCH,
                url,
                Some(&PermissionsUpdate { permissions }),
                true,
                &context,
            )
            .await;
        self.invalidate_app_data(app.id);
        let response = result?;
        let value = parse_body(&response.body, &context, response.status)?;
        decode(&value, &context, response.status)
    }

    /// Removes a collaborator; `false` when Heroku had no such collaborator.
    pub async fn remove_collaborator(
        &self,
        app: &CollaboratorApp,
        email: &str,
    ) -> Result<bool, HerokuError> {
        let mut segments = app.base();
        segments.push(email);
        let url = self.platform_url(&segments)?;
        let context =
            RequestContext::on_app(format!("removing collaborator {email}"), app.name.clone());
        let result = self
            .send_write::<()>(Api::Platform, Method::DELETE, url, None, true, &context)
            .await;
        self.invalidate_app_data(app.id);
        match result {
            Ok(_) => Ok(true),
            Err(e) if e.is_not_found() => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// Polls until Heroku no longer lists the collaborator, with growing pauses, for at most
    /// `limit`; `stopping` is checked between polls.
    pub async fn wait_collaborator_gone(
        &self,
        app: &CollaboratorApp,
        email: &str,
        limit: Duration,
        stopping: impl Fn() -> bool + Send,
    ) -> Result<(), CollaboratorError> {
        let started = Instant::now();
        let mut pause = Duration::from_millis(100);
        let mut polls = 0u32;
        loop {
            if self.collaborator(app, email).await?.is_none() {
                if polls > 0 {
                    tfplugin::info!(
                        "collaborator {email} of {} is gone after {:.1}s",
                        app.name,
                        started.elapsed().as_secs_f64()
                    );
                }
                self.invalidate_app_data(app.id);
                return Ok(());
            }
            polls += 1;
            let waited = started.elapsed();
            if waited >= limit {
                return Err(CollaboratorError::StillListed {
                    email: email.to_string(),
                    app: app.name.clone(),
                    waited,
                });
            }
            if stopping() {
                return Err(CollaboratorError::Stopped {
                    email: email.to_string(),
                    app: app.name.clone(),
                });
            }
            let next = pause.min(limit - waited);
            tfplugin::info!(
                "collaborator {email} of {} is still listed after deletion; next check in {:.1}s",
                app.name,
                next.as_secs_f64()
            );
            tokio::time::sleep(next).await;
            pause = (pause * 2).min(MAX_GONE_POLL_INTERVAL);
        }
    }
}
