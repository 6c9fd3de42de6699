//! Heroku's GitHub integration service (the dashboard's Deploy tab, "kolkrabbi") under
//! [`INTEGRATION_BASE`], a minimal GitHub API under [`API_BASE`] and the tarballs both hand
//! out under [`ARCHIVE_BASE`], following `heroku-github-deploy.md`:
//!
//! * integration (Bearer Heroku API key): `GET /account/github/token` (401 when the account
//!   has no GitHub account linked), `GET|POST|PATCH|DELETE /apps/{app_uuid}/github` (404
//!   `{"message":"Not found."}` when the app is not linked), `GET /apps/{app_uuid}/github/branches`,
//!   `GET /github/repos/{owner}/{repo}/tarball/{ref}` → `{"archive_link": ...}`. Everything
//!   that needs the user's GitHub token answers 401 while no GitHub account is linked.
//! * GitHub API (`Authorization: token|Bearer <the linked account's token>`; anything else
//!   is 401 "Bad credentials", even for a public repository, so tests prove the token came
//!   from the integration service): `GET /repos/{o}/{r}`, `GET /repos/{o}/{r}/commits/{ref}`
//!   (422 "No commit found for SHA: ref" for an unknown ref), `GET /repos/{o}/{r}/branches/{b}`,
//!   `GET /repos/{o}/{r}/tarball/{ref}` (302 to the archive).
//! * control (`/__control/github/...`): `POST push {"repo","branch"}` (a new commit on the
//!   branch, its SHA returned), `POST unlink-account`, `POST link-account`, `POST app-link
//!   {"app", "repo"?, "branch"?, "auto_deploy"?, "wait_for_ci"?}` (a dashboard change),
//!   `DELETE app-link/{app}`.

use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use uuid::Uuid;

use super::http::{json_object, ApiRequest};
use super::state::{now, SandboxState};

/// Base path of the GitHub integration service.
pub const INTEGRATION_BASE: &str = "/github-integration";
/// Base path of the GitHub API.
pub const API_BASE: &str = "/github-api";
/// Base path of the tarball links (no authentication: the link is the secret).
pub const ARCHIVE_BASE: &str = "/github-archive";

/// Which GitHub-side service a request is for.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Service {
    Integration,
    Api,
}

/// The GitHub side of the world.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct GitHubWorld {
    /// The Heroku account's linked GitHub account; `None` when not linked.
    pub account: Option<GitHubAccount>,
    pub repos: Vec<Repo>,
    /// Apps linked to a repository (the Deploy tab).
    pub app_links: Vec<AppLink>,
    /// Tarball links handed out: id → repo and commit.
    pub archives: Vec<Archive>,
    /// Commits made so far, to number new ones.
    pub next_commit: u64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct GitHubAccount {
    pub id: Uuid,
    pub github_user_id: i64,
    pub login: String,
    pub token: String,
    pub created_at: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Repo {
    pub id: i64,
    pub full_name: String,
    pub private: bool,
    pub default_branch: String,
    /// Branch → head commit SHA.
    pub branches: std::collections::BTreeMap<String, String>,
    /// Tag → commit SHA.
    pub tags: std::collections::BTreeMap<String, String>,
    /// Every commit SHA, oldest first.
    pub commits: Vec<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AppLink {
    pub id: Uuid,
    pub app_id: Uuid,
    pub repo: String,
    pub repo_id: i64,
    pub branch: String,
    pub auto_deploy: bool,
    pub wait_for_ci: bool,
    pub created_at: String,
    pub updated_at: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Archive {
    pub id: Uuid,
    pub repo: String,
    pub sha: String,
}

/// The linked account's GitHub token in the seed.
pub const SEED_GITHUB_TOKEN: &str = "gho_sandboxGitHubToken0000000000000000";

/// A stable 40-hex commit SHA for commit `n`, whose first characters differ between commits
/// (so abbreviated SHAs name one commit).
pub fn commit_sha(n: u64) -> String {
    let spread = (n as u32).wrapping_mul(0x9e37_79b9);
    let rest = Uuid::from_u128(0x7e4e_c0de_0000_4000_8000_0000_0000_0000 | u128::from(n));
    format!("{spread:08x}{}", rest.simple())
}

/// The seed: the Heroku account linked to GitHub, `mozilla/treeherder` with `master`,
/// `production` and a tag, the private `mozilla/treeherder-private` with `main`, no app
/// linked.
pub fn seed() -> GitHubWorld {
    let commits: Vec<String> = (1..=3).map(commit_sha).collect();
    GitHubWorld {
        account: Some(seed_account()),
        repos: vec![
            Repo {
                id: 19_977_831,
                full_name: "mozilla/treeherder".to_string(),
                private: false,
                default_branch: "master".to_string(),
                branches: [
                    ("master".to_string(), commits[2].clone()),
                    ("production".to_string(), commits[1].clone()),
                ]
                .into(),
                tags: [("v2021.03.01".to_string(), commits[0].clone())].into(),
                commits,
            },
            Repo {
                id: 19_977_832,
                full_name: "mozilla/treeherder-private".to_string(),
                private: true,
                default_branch: "main".to_string(),
                branches: [("main".to_string(), commit_sha(100))].into(),
                tags: Default::default(),
                commits: vec![commit_sha(100)],
            },
        ],
        app_links: Vec::new(),
        archives: Vec::new(),
        next_commit: 4,
    }
}

fn seed_account() -> GitHubAccount {
    GitHubAccount {
        id: super::seed::seed_id(11, 1),
        github_user_id: 4_242_424,
        login: "treeherder-deployer".to_string(),
        token: SEED_GITHUB_TOKEN.to_string(),
        created_at: "2021-03-01T12:00:00Z".to_string(),
    }
}

impl Default for GitHubWorld {
    fn default() -> Self {
        seed()
    }
}

/// An answer: status and JSON body (none for 204), plus extra headers.
pub struct Answer {
    pub status: StatusCode,
    pub body: Option<Value>,
    pub headers: Vec<(String, String)>,
}

fn answer(status: StatusCode, body: Value) -> Answer {
    Answer {
        status,
        body: Some(body),
        headers: Vec::new(),
    }
}

fn message(status: StatusCode, text: &str) -> Answer {
    answer(status, json!({ "message": text }))
}

fn not_linked() -> Answer {
    // What the service says when the Heroku account has no GitHub account (CLI:
    // "Account not connected to GitHub.").
    answer(
        StatusCode::UNAUTHORIZED,
        json!({ "id": "unauthorized", "message": "Account not connected to GitHub." }),
    )
}

impl GitHubWorld {
    fn repo(&self, full_name: &str) -> Option<&Repo> {
        self.repos
            .iter()
            .find(|r| r.full_name.eq_ignore_ascii_case(full_name))
    }

    fn repo_mut(&mut self, full_name: &str) -> Option<&mut Repo> {
        self.repos
            .iter_mut()
            .find(|r| r.full_name.eq_ignore_ascii_case(full_name))
    }

    /// The commit a branch, tag or (full or abbreviated, at least 7 characters) SHA names.
    pub fn resolve(&self, full_name: &str, reference: &str) -> Option<String> {
        let repo = self.repo(full_name)?;
        if let Some(sha) = repo.branches.get(reference).or(repo.tags.get(reference)) {
            return Some(sha.clone());
        }
        let lower = reference.to_ascii_lowercase();
        if lower.len() >= 7 && lower.bytes().all(|b| b.is_ascii_hexdigit()) {
            return repo.commits.iter().find(|c| c.starts_with(&lower)).cloned();
        }
        None
    }

    /// The archive behind a tarball link path (`/{id}`), if the sandbox handed it out.
    pub fn archive(&self, id: &str) -> Option<&Archive> {
        let id = id.trim_matches('/').trim_end_matches(".tar.gz");
        let id = id.parse::<Uuid>().ok()?;
        self.archives.iter().find(|a| a.id == id)
    }
}

fn link_json(state: &SandboxState, link: &AppLink) -> Value {
    let account = state.github.account.as_ref();
    json!({
        "id": link.id,
        "app_id": link.app_id,
        "repo": link.repo,
        "repo_id": link.repo_id,
        "branch": link.branch,
        "auto_deploy": link.auto_deploy,
        "wait_for_ci": link.wait_for_ci,
        "created_at": link.created_at,
        "updated_at": link.updated_at,
        "stale_days": 5,
        "owner": {
            "id": account.map(|a| a.id),
            "heroku": { "user_id": state.account.id },
            "github": { "user_id": account.map(|a| a.github_user_id) },
        },
        "organization": null,
    })
}

/// The app a kolkrabbi path names: its UUID only (the service keys apps by UUID).
fn app_by_uuid(state: &SandboxState, ident: &str) -> Option<Uuid> {
    let id = ident.parse::<Uuid>().ok()?;
    state.app_index_by_id(id).map(|_| id)
}

fn host_of(req: &ApiRequest) -> String {
    req.header("host").unwrap_or("127.0.0.1").to_string()
}

/// Routes one GitHub integration request (path relative to [`INTEGRATION_BASE`]).
pub fn integration(state: &mut SandboxState, req: &ApiRequest) -> Answer {
    let segs = req.segments();
    let segs: Vec<&str> = segs.iter().map(String::as_str).collect();
    let linked = state.github.account.is_some();
    match (req.method.as_str(), segs.as_slice()) {
        ("GET", ["account", "github", "token"]) => {
            let Some(account) = &state.github.account else {
                return not_linked();
            };
            answer(
                StatusCode::OK,
                json!({
                    "id": account.id,
                    "heroku": { "user_id": state.account.id },
                    "github": { "user_id": account.github_user_id, "token": account.token },
                    "created_at": account.created_at,
                    "updated_at": account.created_at,
                }),
            )
        }
        ("GET", ["github", "user"]) => match &state.github.account {
            Some(a) => answer(
                StatusCode::OK,
                json!({ "login": a.login, "id": a.github_user_id }),
            ),
            None => message(StatusCode::NOT_FOUND, "Not found."),
        },
        ("GET", ["apps", app, "github"]) => {
            let Some(app_id) = app_by_uuid(state, app) else {
                return message(StatusCode::NOT_FOUND, "Not found.");
            };
            match state.github.app_links.iter().find(|l| l.app_id == app_id) {
                Some(link) => answer(StatusCode::OK, link_json(state, link)),
                None => message(StatusCode::NOT_FOUND, "Not found."),
            }
        }
        ("POST", ["apps", app, "github"]) => {
            if !linked {
                return not_linked();
            }
            let Some(app_id) = app_by_uuid(state, app) else {
                return message(StatusCode::NOT_FOUND, "Not found.");
            };
            let Ok(body) = json_object(&req.body) else {
                return message(StatusCode::BAD_REQUEST, "Invalid JSON.");
            };
            let Some(repo_name) = body.get("repo").and_then(Value::as_str) else {
                return message(StatusCode::UNPROCESSABLE_ENTITY, "repo is required.");
            };
            if let Some(existing) = state.github.app_links.iter().find(|l| l.app_id == app_id) {
                return message(
                    StatusCode::CONFLICT,
                    &format!("App is already connected to {}.", existing.repo),
                );
            }
            let Some(repo) = state.github.repo(repo_name).cloned() else {
                return message(StatusCode::NOT_FOUND, "Repository not found.");
            };
            let now = now();
            let link = AppLink {
                id: Uuid::new_v4(),
                app_id,
                repo: repo.full_name.clone(),
                repo_id: repo.id,
                branch: repo.default_branch.clone(),
                auto_deploy: false,
                wait_for_ci: false,
                created_at: now.clone(),
                updated_at: now,
            };
            let out = link_json(state, &link);
            state.github.app_links.push(link);
            answer(StatusCode::CREATED, out)
        }
        ("PATCH", ["apps", app, "github"]) => {
            if !linked {
                return not_linked();
            }
            let Some(app_id) = app_by_uuid(state, app) else {
                return message(StatusCode::NOT_FOUND, "Not found.");
            };
            let Ok(body) = json_object(&req.body) else {
                return message(StatusCode::BAD_REQUEST, "Invalid JSON.");
            };
            let Some(index) = state
                .github
                .app_links
                .iter()
                .position(|l| l.app_id == app_id)
            else {
                return message(StatusCode::NOT_FOUND, "Not found.");
            };
            if let Err(problem) = apply_settings(&mut state.github.app_links[index], &body) {
                return message(StatusCode::UNPROCESSABLE_ENTITY, &problem);
            }
            answer(
                StatusCode::OK,
                link_json(state, &state.github.app_links[index]),
            )
        }
        ("DELETE", ["apps", app, "github"]) => {
            let Some(app_id) = app_by_uuid(state, app) else {
                return message(StatusCode::NOT_FOUND, "Not found.");
            };
            let before = state.github.app_links.len();
            state.github.app_links.retain(|l| l.app_id != app_id);
            if state.github.app_links.len() == before {
                return message(StatusCode::NOT_FOUND, "Not found.");
            }
            Answer {
                status: StatusCode::NO_CONTENT,
                body: None,
                headers: Vec::new(),
            }
        }
        ("GET", ["apps", app, "github", "branches"]) => {
            if !linked {
                return not_linked();
            }
            let link = app_by_uuid(state, app)
                .and_then(|id| state.github.app_links.iter().find(|l| l.app_id == id));
            let Some(repo) = link.and_then(|l| state.github.repo(&l.repo)) else {
                return message(StatusCode::NOT_FOUND, "Not found.");
            };
            answer(
                StatusCode::OK,
                json!(repo.branches.keys().collect::<Vec<_>>()),
            )
        }
        ("GET", ["github", "repos", owner, name, "tarball", reference]) => {
            if !linked {
                return not_linked();
            }
            let full_name = format!("{owner}/{name}");
            let Some(sha) = state.github.resolve(&full_name, reference) else {
                return message(StatusCode::NOT_FOUND, "Not found.");
            };
            let archive = Archive {
                id: Uuid::new_v4(),
                repo: full_name,
                sha,
            };
            let link = format!(
                "http://{}{ARCHIVE_BASE}/{}.tar.gz",
                host_of(req),
                archive.id
            );
            state.github.archives.push(archive);
            answer(StatusCode::OK, json!({ "archive_link": link }))
        }
        _ => message(StatusCode::NOT_FOUND, "Not found."),
    }
}

/// Applies `branch`, `auto_deploy` and `wait_for_ci` from a body (absent fields unchanged).
fn apply_settings(link: &mut AppLink, body: &serde_json::Map<String, Value>) -> Result<(), String> {
    if let Some(v) = body.get("branch").filter(|v| !v.is_null()) {
        link.branch = v
            .as_str()
            .filter(|s| !s.is_empty())
            .ok_or("branch must be a non-empty string.")?
            .to_string();
    }
    for (field, slot) in [
        ("auto_deploy", &mut link.auto_deploy),
        ("wait_for_ci", &mut link.wait_for_ci),
    ] {
        if let Some(v) = body.get(field).filter(|v| !v.is_null()) {
            *slot = v.as_bool().ok_or(format!("{field} must be a boolean."))?;
        }
    }
    link.updated_at = now();
    Ok(())
}

/// True when the request carries the linked account's GitHub token.
fn github_authorized(state: &SandboxState, req: &ApiRequest) -> bool {
    let Some(account) = &state.github.account else {
        return false;
    };
    let Some(value) = req.header("authorization") else {
        return false;
    };
    let (scheme, token) = value.trim().split_once(' ').unwrap_or(("", ""));
    (scheme.eq_ignore_ascii_case("token") || scheme.eq_ignore_ascii_case("bearer"))
        && token.trim() == account.token
}

/// Routes one GitHub API request (path relative to [`API_BASE`]).
pub fn api(state: &mut SandboxState, req: &ApiRequest) -> Answer {
    if !github_authorized(state, req) {
        return answer(
            StatusCode::UNAUTHORIZED,
            json!({ "message": "Bad credentials", "documentation_url": "https://docs.github.com/rest" }),
        );
    }
    let segs = req.segments();
    let segs: Vec<&str> = segs.iter().map(String::as_str).collect();
    let gh_not_found = || {
        answer(
            StatusCode::NOT_FOUND,
            json!({ "message": "Not Found", "documentation_url": "https://docs.github.com/rest" }),
        )
    };
    let (owner, name, rest) = match segs.as_slice() {
        ["repos", owner, name, rest @ ..] => (*owner, *name, rest),
        _ => return gh_not_found(),
    };
    let full_name = format!("{owner}/{name}");
    let Some(repo) = state.github.repo(&full_name).cloned() else {
        return gh_not_found();
    };
    match (req.method.as_str(), rest) {
        ("GET", []) => answer(
            StatusCode::OK,
            json!({
                "id": repo.id,
                "full_name": repo.full_name,
                "private": repo.private,
                "default_branch": repo.default_branch,
            }),
        ),
        ("GET", ["commits", reference]) => match state.github.resolve(&full_name, reference) {
            Some(sha) => answer(
                StatusCode::OK,
                json!({
                    "sha": sha,
                    "commit": { "message": format!("Commit {}", &sha[..8]) },
                    "html_url": format!("https://github.com/{full_name}/commit/{sha}"),
                }),
            ),
            None => answer(
                StatusCode::UNPROCESSABLE_ENTITY,
                json!({ "message": format!("No commit found for SHA: {reference}") }),
            ),
        },
        ("GET", ["branches", branch]) => match repo.branches.get(*branch) {
            Some(sha) => answer(
                StatusCode::OK,
                json!({ "name": branch, "commit": { "sha": sha } }),
            ),
            None => answer(
                StatusCode::NOT_FOUND,
                json!({ "message": "Branch not found" }),
            ),
        },
        ("GET", ["tarball", reference]) => {
            let Some(sha) = state.github.resolve(&full_name, reference) else {
                return gh_not_found();
            };
            let archive = Archive {
                id: Uuid::new_v4(),
                repo: full_name,
                sha,
            };
            let location = format!(
                "http://{}{ARCHIVE_BASE}/{}.tar.gz",
                host_of(req),
                archive.id
            );
            state.github.archives.push(archive);
            Answer {
                status: StatusCode::FOUND,
                body: Some(json!({})),
                headers: vec![("Location".to_string(), location)],
            }
        }
        _ => gh_not_found(),
    }
}

/// `GET /github-archive/{id}.tar.gz`: the bytes of a handed-out tarball (a stand-in: the
/// sandbox's builds never unpack it).
pub fn archive_bytes(state: &SandboxState, rest: &str) -> Option<Vec<u8>> {
    let archive = state.github.archive(rest)?;
    Some(format!("sandbox tarball of {}@{}\n", archive.repo, archive.sha).into_bytes())
}

/// `POST /__control/github/push`: a new commit at the head of `branch` of `repo`.
#[derive(Debug, Clone, serde::Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PushRequest {
    /// `owner/name`.
    pub repo: String,
    /// The branch that moves.
    pub branch: String,
}

/// `POST /__control/github/app-link`: Deploy-tab settings changed out of band (as in the
/// dashboard); the fields left out keep their value.
#[derive(Debug, Clone, Default, serde::Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AppLinkRequest {
    /// The app, by name or id.
    pub app: String,
    /// Links (or relinks) the app to this repository.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub repo: Option<String>,
    /// The auto-deploy branch.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub branch: Option<String>,
    /// Auto-deploy on push.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub auto_deploy: Option<bool>,
    /// Wait for CI before deploying.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub wait_for_ci: Option<bool>,
}

/// `/__control/github/...`; `None` when the path is not one of them.
pub fn control(
    state: &mut SandboxState,
    method: &str,
    path: &str,
    body: &[u8],
) -> Option<Result<Value, String>> {
    let parse = |body: &[u8]| -> Result<Value, String> {
        serde_json::from_slice(body).map_err(|e| format!("invalid control request: {e}"))
    };
    Some(match (method, path) {
        ("POST", "/push") => parse(body)
            .and_then(|v| serde_json::from_value::<PushRequest>(v).map_err(|e| e.to_string()))
            .and_then(|r| push(state, &r.repo, &r.branch)),
        ("POST", "/unlink-account") => {
            state.github.account = None;
            Ok(json!({}))
        }
        ("POST", "/link-account") => {
            state.github.account = Some(seed_account());
            Ok(json!({}))
        }
        ("POST", "/app-link") => parse(body)
            .and_then(|v| serde_json::from_value::<AppLinkRequest>(v).map_err(|e| e.to_string()))
            .and_then(|r| dashboard_link(state, r)),
        _ => match path.strip_prefix("/app-link/") {
            Some(app) if method == "DELETE" => {
                let Some(i) = state.app_index(app) else {
                    return Some(Err(format!("no app {app}")));
                };
                let id = state.apps[i].id;
                state.github.app_links.retain(|l| l.app_id != id);
                Ok(json!({}))
            }
            _ => return None,
        },
    })
}

/// A new commit at the head of `branch`.
fn push(state: &mut SandboxState, repo: &str, branch: &str) -> Result<Value, String> {
    let n = state.github.next_commit;
    let sha = commit_sha(n);
    let repo = state
        .github
        .repo_mut(repo)
        .ok_or_else(|| format!("no repository {repo}"))?;
    repo.commits.push(sha.clone());
    repo.branches.insert(branch.to_string(), sha.clone());
    state.github.next_commit += 1;
    Ok(json!({ "sha": sha }))
}

/// A change made in the dashboard's Deploy tab: links the app when needed, sets settings.
fn dashboard_link(state: &mut SandboxState, r: AppLinkRequest) -> Result<Value, String> {
    let i = state
        .app_index(&r.app)
        .ok_or_else(|| format!("no app {}", r.app))?;
    let app_id = state.apps[i].id;
    let existing = state
        .github
        .app_links
        .iter()
        .position(|l| l.app_id == app_id);
    let index = match (existing, &r.repo) {
        (Some(index), None) => index,
        (existing, Some(name)) => {
            let repo = state
                .github
                .repo(name)
                .cloned()
                .ok_or_else(|| format!("no repository {name}"))?;
            if let Some(index) = existing {
                state.github.app_links.remove(index);
            }
            let now = now();
            state.github.app_links.push(AppLink {
                id: Uuid::new_v4(),
                app_id,
                repo: repo.full_name,
                repo_id: repo.id,
                branch: repo.default_branch,
                auto_deploy: false,
                wait_for_ci: false,
                created_at: now.clone(),
                updated_at: now,
            });
            state.github.app_links.len() - 1
        }
        (None, None) => return Err(format!("{} is not linked: give a repo", r.app)),
    };
    let link = &mut state.github.app_links[index];
    if let Some(branch) = r.branch {
        link.branch = branch;
    }
    if let Some(v) = r.auto_deploy {
        link.auto_deploy = v;
    }
    if let Some(v) = r.wait_for_ci {
        link.wait_for_ci = v;
    }
    link.updated_at = now();
    Ok(link_json(state, &state.github.app_links[index]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refs_resolve_to_commits() {
        let world = seed();
        let master = world.resolve("mozilla/treeherder", "master").unwrap();
        assert_eq!(master.len(), 40);
        assert_eq!(
            world.resolve("mozilla/treeherder", &master[..7]),
            Some(master.clone())
        );
        assert!(world.resolve("mozilla/treeherder", "nope").is_none());
        assert!(world.resolve("mozilla/other", "master").is_none());
        assert_ne!(commit_sha(1), commit_sha(2));
    }
}
