//! `treeherder_app_collaborator`: one account's access to a Heroku app.
//!
//! Apps owned by a team (Treeherder's are) give each collaborator permissions, through
//! Heroku's team-app collaborator endpoints; changing them is an update in place. Personal
//! apps have no permissions, so giving some is a plan-time error. Another e-mail replaces
//! the collaborator. Destroy removes it and waits until Heroku no longer lists it.

use std::collections::BTreeSet;
use std::time::Duration;

use async_trait::async_trait;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use tfplugin::framework::{Context, Resource, ResourcePlan};
use tfplugin::types::{quote, timeout_or, Timeouts, Uuid};
use tfplugin::{attr, Diagnostic, Diagnostics, Field};

use crate::clients::heroku::{Collaborator, CollaboratorApp, HerokuClient, NewCollaborator};
use crate::clients::Clients;
use crate::diagnostics::collaborator_error_at;

/// Team-app permissions Heroku knows, in its order.
pub const PERMISSIONS: &[&str] = &["view", "deploy", "operate", "manage"];

/// How long destroy waits by default for Heroku to stop listing a deleted collaborator
/// (it usually takes a few seconds).
const DEFAULT_DELETE_TIMEOUT: Duration = Duration::from_secs(2 * 60);

fn default_silent() -> Field<bool> {
    Field::known(false)
}

/// An account's access to a Heroku app.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema, tfplugin::Model)]
pub struct AppCollaboratorModel {
    /// The app, by name (`treeherder-prod`) or UUID. Another app replaces the resource;
    /// naming the same app differently (name ↔ UUID) changes nothing remotely.
    pub app: Field<crate::clients::heroku::AppIdentity>,
    /// E-mail of the collaborator's Heroku account. Another address replaces the resource
    /// (the same address in other letter case changes nothing). The account must exist.
    pub email: Field<String>,
    /// What the collaborator may do on an app owned by a team: a set of `view`, `deploy`,
    /// `operate` and `manage`, which must include `view`. Changed in place. Required for team
    /// apps; personal apps have no permissions, so it must be left out for them.
    #[serde(default)]
    pub permissions: Field<BTreeSet<String>>,
    /// Do not send Heroku's invitation e-mail (default `false`). Only used when the
    /// collaborator is added; changing it later changes nothing on Heroku.
    #[serde(default = "default_silent")]
    pub silent: Field<bool>,
    /// The collaborator's UUID.
    #[tf(computed, use_state_for_unknown)]
    #[serde(default)]
    pub id: Field<String>,
    /// The account's role: `admin` or `member` of the app's team, `collaborator` for an
    /// account outside it (or on a personal app), `owner` for a personal app's owner.
    #[tf(computed, use_state_for_unknown)]
    #[serde(default)]
    pub role: Field<String>,
    /// UUID of the app.
    #[tf(computed, use_state_for_unknown)]
    #[serde(default)]
    pub app_id: Field<Uuid>,
    /// `delete` (default 2m): how long destroy waits until Heroku no longer lists the
    /// collaborator. `create` and `update` are not used.
    #[tf(block = single)]
    pub timeouts: Option<Timeouts>,
}

impl AppCollaboratorModel {
    /// The permissions to send, sorted in Heroku's order.
    fn permission_list(&self) -> Option<Vec<String>> {
        let set = self.permissions.get()?;
        Some(
            PERMISSIONS
                .iter()
                .filter(|p| set.contains(**p))
                .map(|p| (*p).to_string())
                .collect(),
        )
    }

    /// Copies Heroku's view of the collaborator in, keeping the user's spelling of the e-mail.
    fn absorb(&mut self, app: &CollaboratorApp, remote: &Collaborator) {
        self.id.set(remote.id.to_string());
        self.app_id.set(app.id);
        self.role = remote.role.clone().into();
        if !self
            .email
            .as_str()
            .is_some_and(|e| e.eq_ignore_ascii_case(&remote.user.email))
        {
            self.email.set(remote.user.email.clone());
        }
        self.permissions = if app.team.is_some() {
            Field::known(remote.permission_names())
        } else {
            Field::Null
        };
    }

    fn delete_timeout(&self) -> Duration {
        self.timeouts.as_ref().map_or(DEFAULT_DELETE_TIMEOUT, |t| {
            timeout_or(&t.delete, DEFAULT_DELETE_TIMEOUT)
        })
    }
}

/// The plan-time rule tying permissions to the app's owner: required on team apps, absent on
/// personal ones.
fn check_permissions_for(
    app: &CollaboratorApp,
    permissions: &Field<BTreeSet<String>>,
) -> Result<(), Diagnostics> {
    // An unknown value may turn out right; create checks again once it is known.
    match (&app.team, permissions.is_null()) {
        (Some(team), true) => Err(Diagnostic::error(
            "Missing permissions",
            format!(
                "App {} belongs to the team {team}, whose collaborators have permissions: set permissions to a set of {} that includes \"view\", e.g. [\"view\", \"deploy\"].",
                app.name,
                PERMISSIONS.join(", ")
            ),
        )
        .at(attr!(AppCollaboratorModel, permissions))
        .into()),
        (None, false) if !permissions.is_unknown() => Err(Diagnostic::error(
            "Permissions on a personal app",
            format!(
                "App {} is a personal app (it belongs to no team): its collaborators get full access and Heroku has no permissions for them. Remove permissions, or move the app to a team first.",
                app.name
            ),
        )
        .at(attr!(AppCollaboratorModel, permissions))
        .into()),
        _ => Ok(()),
    }
}

/// The app UUID stored in state, else the app resolved by name or UUID, with its team.
async fn app_of(
    heroku: &HerokuClient,
    model: &AppCollaboratorModel,
) -> Result<CollaboratorApp, crate::clients::heroku::HerokuError> {
    let ident = match model.app_id.get() {
        Some(id) => id.get().to_string(),
        None => model.app.as_str().map(str::to_string).unwrap_or_default(),
    };
    Ok(CollaboratorApp::of(&heroku.app(&ident).await?))
}

fn missing_email() -> Diagnostics {
    Diagnostic::error(
        "Collaborator without its e-mail",
        "The state has no e-mail; remove the resource from the state and import it (`terraform import ADDRESS <app>:<email>`).",
    )
    .into()
}

/// Finds a collaborator by e-mail in a listing (Heroku compares addresses without case).
fn find<'a>(collaborators: &'a [Collaborator], email: &str) -> Option<&'a Collaborator> {
    collaborators
        .iter()
        .find(|c| c.user.email.eq_ignore_ascii_case(email))
}

/// The `treeherder_app_collaborator` resource.
pub struct AppCollaboratorResource;

#[async_trait]
impl Resource for AppCollaboratorResource {
    type Model = AppCollaboratorModel;
    type Client = Clients;

    fn type_name(&self) -> &'static str {
        "treeherder_app_collaborator"
    }

    fn validate(&self, config: &AppCollaboratorModel, diagnostics: &mut Diagnostics) {
        if let Some(email) = config.email.as_str() {
            let valid = email
                .split_once('@')
                .is_some_and(|(user, host)| !user.is_empty() && host.contains('.'))
                && !email.chars().any(|c| c.is_whitespace() || c == '/');
            if !valid {
                diagnostics.push(
                    Diagnostic::error(
                        "Invalid e-mail",
                        format!(
                            "Expected the e-mail address of a Heroku account, e.g. \"alice@example.com\"; got {}.",
                            quote(email)
                        ),
                    )
                    .at(attr!(AppCollaboratorModel, email)),
                );
            }
        }
        let Some(permissions) = config.permissions.get() else {
            return;
        };
        let unknown: Vec<&str> = permissions
            .iter()
            .map(String::as_str)
            .filter(|p| !PERMISSIONS.contains(p))
            .collect();
        if !unknown.is_empty() {
            diagnostics.push(
                Diagnostic::error(
                    "Unknown permission",
                    format!(
                        "Heroku has no permission {}; team-app permissions are {}.",
                        unknown
                            .iter()
                            .map(|p| quote(p))
                            .collect::<Vec<_>>()
                            .join(", "),
                        PERMISSIONS.join(", ")
                    ),
                )
                .at(attr!(AppCollaboratorModel, permissions)),
            );
        } else if !permissions.contains("view") {
            diagnostics.push(
                Diagnostic::error(
                    "Permissions without view",
                    "Every collaborator of a team app can view it: include \"view\" in permissions (with any of deploy, operate, manage).",
                )
                .at(attr!(AppCollaboratorModel, permissions)),
            );
        }
    }

    async fn modify_plan(
        &self,
        ctx: &Context<'_, Clients>,
        plan: &mut ResourcePlan<AppCollaboratorModel>,
    ) -> Result<(), Diagnostics> {
        if let Some(prior) = &plan.prior {
            let same_email = match (prior.email.as_str(), plan.config.email.as_str()) {
                (Some(old), Some(new)) => old.eq_ignore_ascii_case(new),
                _ => false,
            };
            if !same_email {
                plan.require_replace(attr!(AppCollaboratorModel, email));
            }
        }
        let Some(heroku) = ctx.try_client().and_then(|c| c.heroku().ok()) else {
            return Ok(());
        };
        let Some(app) = plan.config.app.as_str().map(str::to_string) else {
            // Not known until apply: it may be another app.
            if plan.prior.is_some() {
                plan.require_replace(attr!(AppCollaboratorModel, app));
            }
            return Ok(());
        };
        let prior = plan
            .prior
            .as_ref()
            .and_then(|p| Some((p.app.as_str()?.to_string(), p.app_id.get()?.get())));
        let app_id = match &prior {
            Some((prior_app, prior_id)) if *prior_app == app => *prior_id,
            _ => heroku.resolve_app_id(&app).await?,
        };
        if let Some((_, prior_id)) = prior {
            if prior_id != app_id {
                plan.require_replace(attr!(AppCollaboratorModel, app));
            }
        }
        let target = CollaboratorApp::of(&heroku.app(&app_id.to_string()).await?);
        check_permissions_for(&target, &plan.config.permissions)
    }

    async fn create(
        &self,
        ctx: &Context<'_, Clients>,
        mut plan: AppCollaboratorModel,
    ) -> Result<AppCollaboratorModel, Diagnostics> {
        let heroku = ctx.client()?.heroku()?;
        let app = CollaboratorApp::of(&heroku.app(plan.app.value()?).await?);
        check_permissions_for(&app, &plan.permissions)?;
        let email = plan.email.value()?.clone();
        let wanted = plan.permission_list();
        let new = NewCollaborator {
            user: email.clone(),
            permissions: wanted.clone().filter(|_| app.team.is_some()),
            silent: *plan.silent.value()?,
        };
        let email_path = attr!(AppCollaboratorModel, email);
        let mut added = heroku
            .add_collaborator(&app, &new)
            .await
            .map_err(|e| collaborator_error_at(e, email_path))?;
        // A collaborator found after a lost answer may hold other permissions.
        if let Some(wanted) = wanted.filter(|_| app.team.is_some()) {
            let held = added.permission_names();
            if held != wanted.iter().cloned().collect::<BTreeSet<_>>() {
                added = heroku
                    .set_collaborator_permissions(&app, &added.user.email, &wanted)
                    .await?;
            }
        }
        tfplugin::debug!(
            "collaborator {email} added to {} with role {}",
            app.name,
            added.role.as_deref().unwrap_or("none")
        );
        plan.id.set(added.id.to_string());
        plan.role = added.role.clone().into();
        plan.app_id.set(app.id);
        Ok(plan)
    }

    async fn read(
        &self,
        ctx: &Context<'_, Clients>,
        mut state: AppCollaboratorModel,
    ) -> Result<Option<AppCollaboratorModel>, Diagnostics> {
        let heroku = ctx.client()?.heroku()?;
        let email = state.email.as_str().ok_or_else(missing_email)?.to_string();
        let app = match app_of(heroku, &state).await {
            Ok(app) => app,
            Err(e) if e.is_not_found() => return Ok(None),
            Err(e) => return Err(e.into()),
        };
        // Every collaborator of the app is read through one shared, cached listing.
        let listing = match heroku.collaborators(&app).await {
            Ok(listing) => listing,
            Err(e) if e.is_not_found() => return Ok(None),
            Err(e) => return Err(e.into()),
        };
        let Some(remote) = find(&listing, &email) else {
            tfplugin::debug!("collaborator {email} of {} is gone", app.name);
            return Ok(None);
        };
        state.absorb(&app, remote);
        if state.silent.is_null() {
            state.silent = default_silent();
        }
        Ok(Some(state))
    }

    async fn update(
        &self,
        ctx: &Context<'_, Clients>,
        prior: AppCollaboratorModel,
        mut plan: AppCollaboratorModel,
    ) -> Result<AppCollaboratorModel, Diagnostics> {
        let heroku = ctx.client()?.heroku()?;
        let app = app_of(heroku, &prior).await?;
        check_permissions_for(&app, &plan.permissions)?;
        let email = prior.email.as_str().ok_or_else(missing_email)?.to_string();
        if app.team.is_some() && plan.permissions.get() != prior.permissions.get() {
            let wanted = plan.permission_list().unwrap_or_default();
            let updated = heroku
                .set_collaborator_permissions(&app, &email, &wanted)
                .await?;
            plan.role = updated.role.clone().into();
            plan.id.set(updated.id.to_string());
        }
        // silent, the e-mail's letter case and the app's spelling change nothing remotely.
        if plan.id.is_unknown() {
            plan.id = prior.id.clone();
        }
        if plan.role.is_unknown() {
            plan.role = prior.role.clone();
        }
        plan.app_id.set(app.id);
        Ok(plan)
    }

    async fn delete(
        &self,
        ctx: &Context<'_, Clients>,
        state: AppCollaboratorModel,
    ) -> Result<(), Diagnostics> {
        let heroku = ctx.client()?.heroku()?;
        let Some(email) = state.email.as_str() else {
            return Ok(());
        };
        let app = match app_of(heroku, &state).await {
            Ok(app) => app,
            // The app is gone, and its collaborators with it.
            Err(e) if e.is_not_found() => return Ok(()),
            Err(e) => return Err(e.into()),
        };
        if !heroku.remove_collaborator(&app, email).await? {
            tfplugin::debug!("collaborator {email} of {} was already gone", app.name);
        }
        heroku
            .wait_collaborator_gone(&app, email, state.delete_timeout(), || ctx.is_stopping())
            .await
            .map_err(|e| collaborator_error_at(e, attr!(AppCollaboratorModel, email)))
    }

    /// `<app>:<email>`.
    async fn import(
        &self,
        ctx: &Context<'_, Clients>,
        id: &str,
    ) -> Result<AppCollaboratorModel, Diagnostics> {
        let parsed = id
            .split_once(':')
            .filter(|(app, email)| !app.is_empty() && email.contains('@') && !email.contains(':'))
            .and_then(|(app, email)| {
                Some((crate::clients::heroku::AppIdentity::parse(app).ok()?, email))
            });
        let Some((app_ident, email)) = parsed else {
            return Err(Diagnostic::error(
                "Invalid import id",
                format!(
                    "Expected `<app name or UUID>:<e-mail>`, e.g. `treeherder-prod:alice@example.com`; got {}.",
                    quote(id)
                ),
            )
            .into());
        };
        let heroku = ctx.client()?.heroku()?;
        let app = CollaboratorApp::of(&heroku.app(&app_ident).await?);
        let listing = heroku.collaborators(&app).await?;
        let Some(remote) = find(&listing, email) else {
            let mut emails: Vec<&str> = listing.iter().map(|c| c.user.email.as_str()).collect();
            emails.sort_unstable();
            return Err(Diagnostic::error(
                "Collaborator not found",
                format!(
                    "App {} has no collaborator {}; its collaborators are: {}.",
                    app.name,
                    quote(email),
                    emails.join(", ")
                ),
            )
            .into());
        };
        let mut model = AppCollaboratorModel {
            app: Field::known(app_ident),
            email: Field::known(email),
            permissions: Field::Null,
            silent: default_silent(),
            id: Field::Null,
            role: Field::Null,
            app_id: Field::Null,
            timeouts: None,
        };
        model.absorb(&app, remote);
        Ok(model)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn model(email: &str, permissions: Option<&[&str]>) -> AppCollaboratorModel {
        AppCollaboratorModel {
            app: Field::known(
                crate::clients::heroku::AppIdentity::parse("treeherder-prod").unwrap(),
            ),
            email: Field::known(email),
            permissions: match permissions {
                Some(p) => Field::known(p.iter().map(|s| s.to_string()).collect::<BTreeSet<_>>()),
                None => Field::Null,
            },
            silent: default_silent(),
            id: Field::Null,
            role: Field::Null,
            app_id: Field::Null,
            timeouts: None,
        }
    }

    fn errors(m: &AppCollaboratorModel) -> Vec<String> {
        let mut diagnostics = Diagnostics::new();
        AppCollaboratorResource.validate(m, &mut diagnostics);
        diagnostics
            .iter()
            .map(|d| format!("{}: {}", d.summary, d.detail))
            .collect()
    }

    fn app(team: Option<&str>) -> CollaboratorApp {
        CollaboratorApp {
            id: uuid::Uuid::nil(),
            name: "treeherder-prod".to_string(),
            team: team.map(str::to_string),
        }
    }

    #[test]
    fn permissions_are_herokus_four_and_include_view() {
        assert!(errors(&model("alice@example.com", Some(&["view", "deploy"]))).is_empty());
        let e = errors(&model("alice@example.com", Some(&["view", "admin"])));
        assert!(
            e[0].contains("\"admin\"") && e[0].contains("view, deploy, operate, manage"),
            "{e:?}"
        );
        let e = errors(&model("alice@example.com", Some(&["deploy"])));
        assert!(e[0].contains("include \"view\""), "{e:?}");
    }

    #[test]
    fn emails_must_look_like_addresses() {
        for bad in [
            "alice",
            "@example.com",
            "alice@localhost",
            "a b@example.com",
        ] {
            let e = errors(&model(bad, None));
            assert!(
                e.len() == 1 && e[0].contains("Invalid e-mail"),
                "{bad}: {e:?}"
            );
        }
    }

    #[test]
    fn team_apps_need_permissions_and_personal_apps_refuse_them() {
        let some = model("a@example.com", Some(&["view"])).permissions;
        let none = model("a@example.com", None).permissions;
        assert!(check_permissions_for(&app(Some("mozilla")), &some).is_ok());
        assert!(check_permissions_for(&app(None), &none).is_ok());
        let missing = check_permissions_for(&app(Some("mozilla")), &none).unwrap_err();
        assert!(
            format!("{missing:?}").contains("team mozilla"),
            "{missing:?}"
        );
        let refused = check_permissions_for(&app(None), &some).unwrap_err();
        assert!(
            format!("{refused:?}").contains("personal app"),
            "{refused:?}"
        );
    }

    #[test]
    fn permissions_are_sent_in_herokus_order() {
        let m = model("a@example.com", Some(&["manage", "view", "deploy"]));
        assert_eq!(
            m.permission_list().unwrap(),
            vec![
                "view".to_string(),
                "deploy".to_string(),
                "manage".to_string()
            ]
        );
    }

    #[test]
    fn read_keeps_the_emails_letter_case() {
        let mut m = model("Alice@Example.com", Some(&["view"]));
        let remote: Collaborator = serde_json::from_value(serde_json::json!({
            "id": "7e4e0000-0005-4000-8000-000000000001",
            "user": {"email": "alice@example.com", "id": null},
            "permissions": [{"name": "view"}, {"name": "operate"}],
            "role": "member",
        }))
        .unwrap();
        m.absorb(&app(Some("mozilla")), &remote);
        assert_eq!(m.email.as_str(), Some("Alice@Example.com"));
        assert_eq!(m.role.as_str(), Some("member"));
        assert_eq!(m.permissions.get().unwrap().len(), 2);
        m.absorb(&app(None), &remote);
        assert!(m.permissions.is_null());
    }

    #[test]
    fn schema_derives_with_computed_id_and_role() {
        let schema = AppCollaboratorResource.schema().unwrap();
        for name in ["id", "role", "app_id"] {
            assert!(schema.block.attribute(name).unwrap().computed, "{name}");
        }
        assert!(schema.block.attribute("email").unwrap().required);
        assert!(schema.block.attribute("permissions").unwrap().optional);
        assert_eq!(
            schema.block.attribute("silent").unwrap().default,
            Some(tfplugin::value::Value::Bool(false))
        );
    }
}
