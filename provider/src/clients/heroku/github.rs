//! Heroku's GitHub integration service (the dashboard's Deploy tab, `kolkrabbi.heroku.com`,
//! authorized by the Heroku API key) and the few GitHub API calls a deploy needs, authorized
//! by the token of the GitHub account linked to the Heroku account, which the integration
//! service hands out (never configured, never logged).
//!
//! The service has no public schema; paths and shapes follow the clients that use it (the
//! Heroku CLI, herokux). An app is linked by `POST /apps/{uuid}/github {"repo"}`, its
//! settings changed by `PATCH` (only the fields sent), unlinked by `DELETE`; an app without a
//! link answers 404. An account without a linked GitHub account answers 401, which is told
//! apart from a bad API key by asking the Platform API whether the key is good.

use reqwest::header::HeaderValue;
use reqwest::{Method, Url};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use uuid::Uuid;

use super::coalesce::{Reuse, Scope};
use super::transport::{Api, RequestSpec};
use super::{decode, parse_body, HerokuClient, HerokuError, RequestContext};

/// What the provider says when the Heroku account has no GitHub account linked.
pub const GITHUB_NOT_LINKED: &str = "The Heroku account of the API key has no GitHub account linked: Heroku's GitHub integration answered 401 (\"Account not connected to GitHub\"). The API key itself is valid. Link a GitHub account that can read the repository to this Heroku account (Heroku Dashboard: Account settings > Applications > Third-party Services > GitHub > Connect, or an app's Deploy tab > Deployment method > GitHub > Connect to GitHub), then run Terraform again.";

/// An error of the GitHub integration service or of GitHub's API.
#[derive(Debug, Clone, thiserror::Error)]
pub enum GitHubError {
    /// The Heroku account has no GitHub account linked (the service answered 401 while the
    /// API key works on the Platform API).
    #[error("{GITHUB_NOT_LINKED}")]
    NotLinked,
    /// GitHub refused the linked account's token.
    #[error("GitHub refused the token of the GitHub account linked to the Heroku account (HTTP {status}): {message}. Reconnect GitHub in the Heroku Dashboard (Account settings > Applications > Third-party Services > GitHub), then run Terraform again.")]
    TokenRefused {
        /// GitHub's status.
        status: u16,
        /// GitHub's message.
        message: String,
    },
    /// The repository is unknown to GitHub or invisible to the linked account.
    #[error("GitHub has no repository {repo} that the GitHub account linked to Heroku can read")]
    UnknownRepo {
        /// `owner/name`.
        repo: String,
    },
    /// No branch, tag or commit of the repository has this name.
    #[error("{repo} has no branch, tag or commit {}", tfplugin::types::quote(.reference))]
    UnknownRef {
        /// `owner/name`.
        repo: String,
        /// The ref as given.
        reference: String,
    },
    /// Any other failure, with the action that failed.
    #[error(transparent)]
    Heroku(#[from] HerokuError),
}

impl GitHubError {
    /// True for a 404 of the integration service (an app without a link).
    pub fn is_not_found(&self) -> bool {
        matches!(self, GitHubError::Heroku(e) if e.is_not_found())
    }
}

/// An app's link to a GitHub repository (the Deploy tab).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct AppGitHubLink {
    /// The link's UUID.
    pub id: Option<Uuid>,
    /// `owner/name`.
    pub repo: String,
    /// GitHub's numeric id of the repository.
    #[serde(default)]
    pub repo_id: Option<i64>,
    /// The branch automatic deploys follow.
    #[serde(default)]
    pub branch: Option<String>,
    /// Whether pushes to the branch deploy.
    #[serde(default)]
    pub auto_deploy: bool,
    /// Whether automatic deploys wait for the commit's checks to pass.
    #[serde(default)]
    pub wait_for_ci: bool,
}

/// Deploy-tab settings to change; absent ones are left as they are.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct GitHubLinkSettings {
    /// The branch automatic deploys follow.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub branch: Option<String>,
    /// Whether pushes to the branch deploy.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub auto_deploy: Option<bool>,
    /// Whether automatic deploys wait for checks.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub wait_for_ci: Option<bool>,
}

#[derive(Deserialize)]
struct TokenAnswer {
    github: GitHubAccountAnswer,
}

#[derive(Deserialize)]
struct GitHubAccountAnswer {
    token: String,
}

#[derive(Deserialize)]
struct ArchiveAnswer {
    archive_link: String,
}

#[derive(Deserialize)]
struct CommitAnswer {
    sha: String,
}

/// `owner/name` split in two, both non-empty.
pub fn split_repo(repo: &str) -> Option<(&str, &str)> {
    let (owner, name) = repo.split_once('/')?;
    (!owner.is_empty() && !name.is_empty() && !name.contains('/')).then_some((owner, name))
}

impl HerokuClient {
    /// A 401 of the integration service: a missing GitHub link when the key works on the
    /// Platform API, else the Platform API's own answer (a bad key).
    async fn integration_refused(&self, error: HerokuError) -> GitHubError {
        if error.status() != Some(401) {
            return error.into();
        }
        match self.account().await {
            Ok(_) => GitHubError::NotLinked,
            Err(platform) => platform.into(),
        }
    }

    async fn integration_get(
        &self,
        segments: &[&str],
        reuse: Reuse,
        context: RequestContext,
    ) -> Result<Value, GitHubError> {
        let url = self.github_integration_url(segments)?;
        match self
            .get_value(
                Api::GitHubIntegration,
                url,
                Scope::Unscoped,
                reuse,
                &context,
            )
            .await
        {
            Ok(value) => Ok((*value).clone()),
            Err(e) => Err(self.integration_refused(e).await),
        }
    }

    async fn integration_write<B: Serialize>(
        &self,
        method: Method,
        segments: &[&str],
        body: Option<&B>,
        idempotent: bool,
        context: &RequestContext,
    ) -> Result<Value, GitHubError> {
        let url = self.github_integration_url(segments)?;
        match self
            .send_write(
                Api::GitHubIntegration,
                method,
                url,
                body,
                idempotent,
                context,
            )
            .await
        {
            Ok(response) => Ok(parse_body(&response.body, context, response.status)?),
            Err(e) => Err(self.integration_refused(e).await),
        }
    }

    /// The linked GitHub account's token (registered as a secret, so no log shows it).
    async fn github_token(&self) -> Result<HeaderValue, GitHubError> {
        let value = self
            .integration_get(
                &["account", "github", "token"],
                Reuse::Cache,
                RequestContext::new("reading the GitHub account linked to Heroku"),
            )
            .await?;
        let context = RequestContext::new("reading the GitHub account linked to Heroku");
        let answer: TokenAnswer = decode(&value, &context, 200)?;
        tfplugin::log::register_secret(&answer.github.token);
        let mut header =
            HeaderValue::from_str(&format!("token {}", answer.github.token)).map_err(|_| {
                HerokuError::Config("the GitHub token is not a valid header value".into())
            })?;
        header.set_sensitive(true);
        Ok(header)
    }

    /// A GET on GitHub's API with the linked account's token.
    async fn github_get(&self, url: Url, context: RequestContext) -> Result<Value, GitHubError> {
        let mut spec = RequestSpec::get(Api::GitHub, url, context.clone());
        spec.authorization = Some(self.github_token().await?);
        match self.inner.transport.send(&spec).await {
            Ok(response) => Ok(parse_body(&response.body, &context, response.status)?),
            Err(e) if matches!(e.status(), Some(401 | 403)) => Err(GitHubError::TokenRefused {
                status: e.status().unwrap_or(401),
                message: e.api_message().unwrap_or_default().to_string(),
            }),
            Err(e) => Err(e.into()),
        }
    }

    /// The app's link to a repository; `None` when the app is not linked. Read fresh.
    pub async fn app_github_link(
        &self,
        app_id: Uuid,
    ) -> Result<Option<AppGitHubLink>, GitHubError> {
        let context = RequestContext::on_app("reading the GitHub link", self.app_label(app_id));
        let app = app_id.to_string();
        match self
            .integration_get(
                &["apps", &app, "github"],
                Reuse::InFlightOnly,
                context.clone(),
            )
            .await
        {
            Ok(value) => Ok(Some(decode(&value, &context, 200)?)),
            Err(e) if e.is_not_found() => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Links the app to `repo`. A lost answer is checked by reading the link, never posted
    /// twice.
    pub async fn link_app_to_github(
        &self,
        app_id: Uuid,
        repo: &str,
    ) -> Result<AppGitHubLink, GitHubError> {
        let context = RequestContext::on_app(
            format!("linking to GitHub repository {repo}"),
            self.app_label(app_id),
        );
        let app = app_id.to_string();
        let body = serde_json::json!({ "repo": repo });
        match self
            .integration_write(
                Method::POST,
                &["apps", &app, "github"],
                Some(&body),
                false,
                &context,
            )
            .await
        {
            Ok(value) => Ok(decode(&value, &context, 201)?),
            Err(GitHubError::Heroku(e)) if e.outcome_unknown() => {
                tfplugin::warn!("{context}: the answer was lost; reading the link instead");
                match self.app_github_link(app_id).await? {
                    Some(link) if link.repo.eq_ignore_ascii_case(repo) => Ok(link),
                    _ => Err(GitHubError::Heroku(e)),
                }
            }
            Err(e) => Err(e),
        }
    }

    /// Changes Deploy-tab settings (absolute values, so repeating it is harmless).
    pub async fn update_app_github(
        &self,
        app_id: Uuid,
        settings: &GitHubLinkSettings,
    ) -> Result<AppGitHubLink, GitHubError> {
        let context = RequestContext::on_app(
            "changing the GitHub deploy settings",
            self.app_label(app_id),
        );
        let app = app_id.to_string();
        let value = self
            .integration_write(
                Method::PATCH,
                &["apps", &app, "github"],
                Some(settings),
                true,
                &context,
            )
            .await?;
        Ok(decode(&value, &context, 200)?)
    }

    /// Removes the app's link; false when it had none.
    pub async fn unlink_app_from_github(&self, app_id: Uuid) -> Result<bool, GitHubError> {
        let context = RequestContext::on_app("unlinking from GitHub", self.app_label(app_id));
        let app = app_id.to_string();
        match self
            .integration_write::<Value>(
                Method::DELETE,
                &["apps", &app, "github"],
                None,
                true,
                &context,
            )
            .await
        {
            Ok(_) => Ok(true),
            Err(e) if e.is_not_found() => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// Whether `repo` has `branch`; `Err(UnknownRepo)` when the repository is not readable.
    pub async fn github_branch_exists(
        &self,
        repo: &str,
        branch: &str,
    ) -> Result<bool, GitHubError> {
        let (owner, name) = split_repo(repo).ok_or_else(|| GitHubError::UnknownRepo {
            repo: repo.to_string(),
        })?;
        let url = self.github_api_url(&["repos", owner, name, "branches", branch])?;
        let context = RequestContext::new(format!("reading branch {branch} of {repo}"));
        match self.github_get(url, context).await {
            Ok(_) => Ok(true),
            Err(GitHubError::Heroku(e)) if e.is_not_found() => {
                // Either the branch or the whole repository is missing.
                let url = self.github_api_url(&["repos", owner, name])?;
                match self
                    .github_get(url, RequestContext::new(format!("reading {repo}")))
                    .await
                {
                    Ok(_) => Ok(false),
                    Err(GitHubError::Heroku(e)) if e.is_not_found() => {
                        Err(GitHubError::UnknownRepo {
                            repo: repo.to_string(),
                        })
                    }
                    Err(e) => Err(e),
                }
            }
            Err(e) => Err(e),
        }
    }

    /// The commit SHA a branch, tag or SHA of `repo` names now.
    pub async fn resolve_github_ref(
        &self,
        repo: &str,
        reference: &str,
    ) -> Result<String, GitHubError> {
        let (owner, name) = split_repo(repo).ok_or_else(|| GitHubError::UnknownRepo {
            repo: repo.to_string(),
        })?;
        let url = self.github_api_url(&["repos", owner, name, "commits", reference])?;
        let context = RequestContext::new(format!("resolving {reference} of {repo}"));
        match self.github_get(url, context.clone()).await {
            Ok(value) => {
                let commit: CommitAnswer = decode(&value, &context, 200)?;
                Ok(commit.sha.to_ascii_lowercase())
            }
            Err(GitHubError::Heroku(e)) if matches!(e.status(), Some(404 | 422)) => {
                let url = self.github_api_url(&["repos", owner, name])?;
                match self
                    .github_get(url, RequestContext::new(format!("reading {repo}")))
                    .await
                {
                    Ok(_) => Err(GitHubError::UnknownRef {
                        repo: repo.to_string(),
                        reference: reference.to_string(),
                    }),
                    Err(GitHubError::Heroku(e)) if e.is_not_found() => {
                        Err(GitHubError::UnknownRepo {
                            repo: repo.to_string(),
                        })
                    }
                    Err(e) => Err(e),
                }
            }
            Err(e) => Err(e),
        }
    }

    /// A short-lived link to the tarball of `repo` at `sha`, from the integration service
    /// (so private repositories work without a token in the URL). The link is a credential:
    /// registered as a secret.
    pub async fn github_tarball_link(&self, repo: &str, sha: &str) -> Result<String, GitHubError> {
        let (owner, name) = split_repo(repo).ok_or_else(|| GitHubError::UnknownRepo {
            repo: repo.to_string(),
        })?;
        let context = RequestContext::new(format!("getting the tarball link of {repo}@{sha}"));
        let value = self
            .integration_get(
                &["github", "repos", owner, name, "tarball", sha],
                Reuse::InFlightOnly,
                context.clone(),
            )
            .await?;
        let answer: ArchiveAnswer = decode(&value, &context, 200)?;
        tfplugin::log::register_secret(&answer.archive_link);
        Ok(answer.archive_link)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repos_are_owner_slash_name() {
        assert_eq!(
            split_repo("mozilla/treeherder"),
            Some(("mozilla", "treeherder"))
        );
        for bad in ["treeherder", "/x", "x/", "a/b/c", ""] {
            assert!(split_repo(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn settings_send_only_what_changes() {
        let only_branch = GitHubLinkSettings {
            branch: Some("production".into()),
            ..GitHubLinkSettings::default()
        };
        assert_eq!(
            serde_json::to_value(&only_branch).unwrap(),
            serde_json::json!({ "branch": "production" })
        );
    }

    #[test]
    fn not_linked_says_what_to_do_and_that_the_key_is_fine() {
        let text = GitHubError::NotLinked.to_string();
        assert!(text.contains("no GitHub account linked"), "{text}");
        assert!(text.contains("API key itself is valid"), "{text}");
        assert!(text.contains("Connect"), "{text}");
    }
}
