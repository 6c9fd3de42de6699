//! `treeherder_app_github`: an app's Deploy tab, i.e. its link to a GitHub repository and the
//! branch, automatic deploys and "wait for CI" of Heroku's GitHub integration.
//!
//! Create links the app when it is not linked, adopts the link when it is to the same
//! repository, and refuses (naming it) a link to another one; then it sets the settings.
//! Changes made in the dashboard show as drift. Destroy turns automatic deploys off and keeps
//! the link (`on_destroy = "disable"`), or removes the link (`"disconnect"`). Imported by app
//! name or UUID.

use async_trait::async_trait;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use tfplugin::framework::{Context, Resource, ResourcePlan};
use tfplugin::types::quote;
use tfplugin::{attr, Diagnostic, Diagnostics, Field};

use crate::clients::heroku::{
    split_repo, AppGitHubLink, AppIdentity, GitHubError, GitHubLinkSettings, HerokuClient,
};
use crate::clients::Clients;
use crate::diagnostics::{app_error_at, github_error_at};

fn default_false() -> Field<bool> {
    Field::known(false)
}

fn default_on_destroy() -> Field<OnDestroy> {
    Field::known(OnDestroy::Disable)
}

/// A Heroku app's link to a GitHub repository and its deploy settings (the Deploy tab).
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema, tfplugin::Model)]
pub struct AppGithubModel {
    /// The app, by name (`treeherder-prod`) or UUID. Another app replaces the resource.
    #[tf(requires_replace)]
    pub app: Field<AppIdentity>,
    /// The GitHub repository, `owner/name` (e.g. `mozilla/treeherder`; letter case is
    /// ignored). Another repository replaces the resource. The GitHub account linked to the
    /// Heroku account must be able to read it.
    #[tf(requires_replace)]
    pub repo: Field<String>,
    /// The branch automatic deploys follow, e.g. `master` or `production`. It must exist on
    /// the repository (checked when planning).
    pub branch: Field<String>,
    /// Deploy every push to `branch` (default `false`).
    #[serde(default = "default_false")]
    pub auto_deploy: Field<bool>,
    /// Deploy a push only once every check of its commit passed ("Wait for CI to pass before
    /// deploy"; default `false`).
    #[serde(default = "default_false")]
    pub wait_for_ci: Field<bool>,
    /// What destroying the resource does: `disable` (default: automatic deploys are turned
    /// off and the link is kept) or `disconnect` (the app is unlinked from the repository).
    #[serde(default = "default_on_destroy")]
    pub on_destroy: Field<OnDestroy>,
    /// UUID of the app.
    #[tf(computed, use_state_for_unknown)]
    #[serde(default)]
    pub id: Field<String>,
    /// GitHub's numeric id of the repository.
    #[tf(computed, use_state_for_unknown)]
    #[serde(default)]
    pub repo_id: Field<i64>,
}

/// What destroying the resource does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum OnDestroy {
    // Plain comments: doc comments would make the schema a `oneOf` without a type.
    // Automatic deploys off, link kept.
    Disable,
    // The link removed.
    Disconnect,
}

impl AppGithubModel {
    /// Copies the remote link in, keeping the user's spelling of the repository when it is
    /// the same one.
    fn absorb(&mut self, link: &AppGitHubLink) {
        if !self
            .repo
            .as_str()
            .is_some_and(|r| r.eq_ignore_ascii_case(&link.repo))
        {
            self.repo.set(link.repo.clone());
        }
        self.branch = link.branch.clone().into();
        self.auto_deploy.set(link.auto_deploy);
        self.wait_for_ci.set(link.wait_for_ci);
        self.repo_id = link.repo_id.into();
    }

    fn settings(&self) -> GitHubLinkSettings {
        GitHubLinkSettings {
            branch: self.branch.as_str().map(str::to_string),
            auto_deploy: self.auto_deploy.get().copied(),
            wait_for_ci: self.wait_for_ci.get().copied(),
        }
    }
}

/// The app's UUID: from the state when there, else the app resolved by name or UUID.
async fn app_id_of(
    heroku: &HerokuClient,
    model: &AppGithubModel,
) -> Result<uuid::Uuid, Diagnostics> {
    if let Some(id) = model.id.as_str().and_then(|id| id.parse().ok()) {
        return Ok(id);
    }
    let app = model.app.value()?;
    heroku
        .resolve_app_id(app.as_str())
        .await
        .map_err(|e| app_error_at(e, app.as_str(), attr!(AppGithubModel, app)))
}

fn github_error(error: GitHubError) -> Diagnostics {
    github_error_at(
        error,
        Some(attr!(AppGithubModel, repo)),
        Some(attr!(AppGithubModel, branch)),
    )
}

fn linked_elsewhere(app: &str, linked: &str, wanted: &str) -> Diagnostics {
    Diagnostic::error(
        "App linked to another repository",
        format!(
            "App {app} is linked to the GitHub repository {linked}, not {wanted}. Set repo = {} to manage that link, or disconnect it in the app's Deploy tab (or with `on_destroy = \"disconnect\"` on the resource that manages it) first.",
            quote(linked)
        ),
    )
    .at(attr!(AppGithubModel, repo))
    .into()
}

/// Plan-time checks: the repository is readable, the branch exists, the app is not linked
/// to another repository. Skipped for values unknown until apply.
async fn check_plan(heroku: &HerokuClient, config: &AppGithubModel) -> Result<(), Diagnostics> {
    let (Some(repo), Some(branch)) = (config.repo.as_str(), config.branch.as_str()) else {
        return Ok(());
    };
    if !heroku
        .github_branch_exists(repo, branch)
        .await
        .map_err(github_error)?
    {
        return Err(Diagnostic::error(
            "Unknown branch",
            format!(
                "The GitHub repository {repo} has no branch {}.",
                quote(branch)
            ),
        )
        .at(attr!(AppGithubModel, branch))
        .into());
    }
    let Some(app) = config.app.get() else {
        return Ok(());
    };
    let app_id = heroku
        .resolve_app_id(app.as_str())
        .await
        .map_err(|e| app_error_at(e, app.as_str(), attr!(AppGithubModel, app)))?;
    if let Some(link) = heroku.app_github_link(app_id).await.map_err(github_error)? {
        if !link.repo.eq_ignore_ascii_case(repo) {
            return Err(linked_elsewhere(app.as_str(), &link.repo, repo));
        }
    }
    Ok(())
}

/// The `treeherder_app_github` resource.
pub struct AppGithubResource;

#[async_trait]
impl Resource for AppGithubResource {
    type Model = AppGithubModel;
    type Client = Clients;

    fn type_name(&self) -> &'static str {
        "treeherder_app_github"
    }

    fn validate(&self, config: &AppGithubModel, diagnostics: &mut Diagnostics) {
        if let Some(repo) = config.repo.as_str() {
            if split_repo(repo).is_none() {
                diagnostics.push(
                    Diagnostic::error(
                        "Invalid repository",
                        format!(
                            "Expected a GitHub repository as `owner/name`, e.g. \"mozilla/treeherder\"; got {}.",
                            quote(repo)
                        ),
                    )
                    .at(attr!(AppGithubModel, repo)),
                );
            }
        }
        if config.branch.as_str().is_some_and(|b| b.trim().is_empty()) {
            diagnostics.push(
                Diagnostic::error(
                    "Invalid branch",
                    "Expected the name of a branch of the repository, e.g. \"master\"; got an empty string.",
                )
                .at(attr!(AppGithubModel, branch)),
            );
        }
    }

    async fn modify_plan(
        &self,
        ctx: &Context<'_, Clients>,
        plan: &mut ResourcePlan<AppGithubModel>,
    ) -> Result<(), Diagnostics> {
        if let Some(prior) = &plan.prior {
            // The same repository in other letter case is no new repository.
            if let (Some(old), Some(new)) = (prior.repo.as_str(), plan.config.repo.as_str()) {
                if old.eq_ignore_ascii_case(new) {
                    plan.planned.repo = prior.repo.clone();
                }
            }
        }
        let Some(heroku) = ctx.try_client().and_then(|c| c.heroku().ok()) else {
            return Ok(());
        };
        check_plan(heroku, &plan.config).await
    }

    async fn create(
        &self,
        ctx: &Context<'_, Clients>,
        mut plan: AppGithubModel,
    ) -> Result<AppGithubModel, Diagnostics> {
        let heroku = ctx.client()?.heroku()?;
        let app = plan.app.value()?.as_str().to_string();
        let repo = plan.repo.value()?.clone();
        let app_id = app_id_of(heroku, &plan).await?;
        match heroku.app_github_link(app_id).await.map_err(github_error)? {
            Some(link) if link.repo.eq_ignore_ascii_case(&repo) => {
                tfplugin::info!(
                    "{app} is already linked to {}: adopting the link",
                    link.repo
                );
            }
            Some(link) => return Err(linked_elsewhere(&app, &link.repo, &repo)),
            None => {
                heroku
                    .link_app_to_github(app_id, &repo)
                    .await
                    .map_err(github_error)?;
                tfplugin::info!("linked {app} to {repo}");
            }
        }
        let link = heroku
            .update_app_github(app_id, &plan.settings())
            .await
            .map_err(github_error)?;
        plan.id.set(app_id.to_string());
        plan.repo_id = link.repo_id.into();
        Ok(plan)
    }

    async fn read(
        &self,
        ctx: &Context<'_, Clients>,
        mut state: AppGithubModel,
    ) -> Result<Option<AppGithubModel>, Diagnostics> {
        let heroku = ctx.client()?.heroku()?;
        let app_id = match app_id_of(heroku, &state).await {
            Ok(id) => id,
            Err(_) if state.id.is_null() => return Ok(None),
            Err(e) => return Err(e),
        };
        match heroku.app_github_link(app_id).await {
            Ok(Some(link)) => {
                state.absorb(&link);
                state.id.set(app_id.to_string());
                Ok(Some(state))
            }
            Ok(None) => {
                tfplugin::debug!("app {app_id} is no longer linked to GitHub");
                Ok(None)
            }
            // The app itself is gone.
            Err(e) if e.is_not_found() => Ok(None),
            Err(e) => Err(github_error(e)),
        }
    }

    async fn update(
        &self,
        ctx: &Context<'_, Clients>,
        prior: AppGithubModel,
        mut plan: AppGithubModel,
    ) -> Result<AppGithubModel, Diagnostics> {
        let heroku = ctx.client()?.heroku()?;
        let app_id = app_id_of(heroku, &prior).await?;
        let wanted = plan.settings();
        let had = prior.settings();
        let change = GitHubLinkSettings {
            branch: wanted.branch.filter(|b| had.branch.as_ref() != Some(b)),
            auto_deploy: wanted.auto_deploy.filter(|v| had.auto_deploy != Some(*v)),
            wait_for_ci: wanted.wait_for_ci.filter(|v| had.wait_for_ci != Some(*v)),
        };
        let mut repo_id = prior.repo_id.clone();
        if change != GitHubLinkSettings::default() {
            let link = heroku
                .update_app_github(app_id, &change)
                .await
                .map_err(github_error)?;
            repo_id = link.repo_id.into();
        }
        // on_destroy and the app's or repository's spelling change nothing remotely.
        plan.id.set(app_id.to_string());
        plan.repo_id = repo_id;
        Ok(plan)
    }

    async fn delete(
        &self,
        ctx: &Context<'_, Clients>,
        state: AppGithubModel,
    ) -> Result<(), Diagnostics> {
        let heroku = ctx.client()?.heroku()?;
        let app_id = match app_id_of(heroku, &state).await {
            Ok(id) => id,
            // The app is gone, and its link with it.
            Err(_) => return Ok(()),
        };
        let app = state
            .app
            .as_str()
            .map_or_else(|| app_id.to_string(), str::to_string);
        match state
            .on_destroy
            .get()
            .copied()
            .unwrap_or(OnDestroy::Disable)
        {
            OnDestroy::Disconnect => {
                if heroku
                    .unlink_app_from_github(app_id)
                    .await
                    .map_err(github_error)?
                {
                    tfplugin::info!("unlinked {app} from GitHub");
                }
            }
            OnDestroy::Disable => {
                let off = GitHubLinkSettings {
                    auto_deploy: Some(false),
                    ..GitHubLinkSettings::default()
                };
                match heroku.update_app_github(app_id, &off).await {
                    Ok(_) => tfplugin::info!(
                        "automatic deploys of {app} turned off; the link to GitHub is kept"
                    ),
                    Err(e) if e.is_not_found() => {}
                    Err(e) => return Err(github_error(e)),
                }
            }
        }
        Ok(())
    }

    /// The app's name or UUID.
    async fn import(
        &self,
        ctx: &Context<'_, Clients>,
        id: &str,
    ) -> Result<AppGithubModel, Diagnostics> {
        let app = AppIdentity::parse(id).map_err(|e| {
            Diagnostics::from(Diagnostic::error(
                "Invalid import id",
                format!("Expected an app name or UUID, e.g. `treeherder-prod`: {e}"),
            ))
        })?;
        let heroku = ctx.client()?.heroku()?;
        let app_id = heroku
            .resolve_app_id(app.as_str())
            .await
            .map_err(Diagnostics::from)?;
        let Some(link) = heroku.app_github_link(app_id).await.map_err(github_error)? else {
            return Err(Diagnostic::error(
                "App not linked to GitHub",
                format!(
                    "App {} is not linked to a GitHub repository: there is nothing to import. Create the resource instead.",
                    app.as_str()
                ),
            )
            .into());
        };
        let mut model = AppGithubModel {
            app: Field::known(app),
            repo: Field::Null,
            branch: Field::Null,
            auto_deploy: default_false(),
            wait_for_ci: default_false(),
            on_destroy: default_on_destroy(),
            id: Field::known(app_id.to_string()),
            repo_id: Field::Null,
        };
        model.absorb(&link);
        Ok(model)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schema_derives_with_defaults_and_replacements() {
        let schema = AppGithubResource.schema().unwrap();
        for name in ["id", "repo_id"] {
            assert!(schema.block.attribute(name).unwrap().computed, "{name}");
        }
        for name in ["app", "repo", "branch"] {
            assert!(schema.block.attribute(name).unwrap().required, "{name}");
        }
        assert_eq!(
            schema.block.attribute("auto_deploy").unwrap().default,
            Some(tfplugin::value::Value::Bool(false))
        );
    }

    #[test]
    fn absorb_keeps_the_repository_spelling() {
        let mut m = AppGithubModel {
            app: Field::known(AppIdentity::parse("treeherder-prod").unwrap()),
            repo: Field::known("Mozilla/Treeherder".to_string()),
            branch: Field::known("master".to_string()),
            auto_deploy: default_false(),
            wait_for_ci: default_false(),
            on_destroy: default_on_destroy(),
            id: Field::Null,
            repo_id: Field::Null,
        };
        let link = AppGitHubLink {
            id: None,
            repo: "mozilla/treeherder".into(),
            repo_id: Some(7),
            branch: Some("production".into()),
            auto_deploy: true,
            wait_for_ci: true,
        };
        m.absorb(&link);
        assert_eq!(m.repo.as_str(), Some("Mozilla/Treeherder"));
        assert_eq!(m.branch.as_str(), Some("production"));
        assert_eq!(m.auto_deploy.get(), Some(&true));
        assert_eq!(m.repo_id.get(), Some(&7));
        let moved = AppGitHubLink {
            repo: "someone/fork".into(),
            ..link
        };
        m.absorb(&moved);
        assert_eq!(m.repo.as_str(), Some("someone/fork"));
    }
}
