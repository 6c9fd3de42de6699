//! The sandbox's persistent world: apps and everything hanging off them, pipelines and
//! promotions. Serialized as one JSON document (the `--state-file`).

use std::collections::BTreeMap;
use std::io::Write;
use std::path::Path;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::SandboxError;

/// The whole persisted state.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SandboxState {
    pub account: Account,
    pub apps: Vec<App>,
    pub pipelines: Vec<Pipeline>,
    pub couplings: Vec<Coupling>,
    pub promotions: Vec<Promotion>,
    /// Next Scheduler job id (ids are numeric strings, unique across apps).
    pub next_job_id: u64,
    /// Next one-off dyno number (`run.N`).
    pub next_run_number: u64,
    /// Heroku accounts other than the API key's, by e-mail: who can become a collaborator.
    #[serde(default)]
    pub users: Vec<User>,
    /// How many more GETs show a just-deleted collaborator (Heroku can list one for a few
    /// seconds after its DELETE); set through `POST /__control/collaborator-linger`.
    #[serde(default)]
    pub collaborator_linger_gets: u32,
    /// What one-off dynos' commands do (see `heroku/one_off.rs`).
    #[serde(default = "super::heroku::one_off::seed_commands")]
    pub one_off_commands: BTreeMap<String, super::heroku::one_off::OneOffCommand>,
    /// Runs of one-off dynos, finished ones included (their logs).
    #[serde(default)]
    pub one_off_runs: Vec<super::heroku::one_off::OneOffRun>,
    /// Log sessions handed out.
    #[serde(default)]
    pub log_sessions: Vec<super::heroku::one_off::LogSession>,
    /// How a restart shows on dynos (see `heroku/dynos.rs`); set through
    /// `POST /__control/dyno-restart`.
    #[serde(default)]
    pub dyno_restart: super::heroku::dynos::RestartMode,
    /// GitHub: the account link, repositories, the apps' Deploy-tab links (see `github.rs`).
    #[serde(default)]
    pub github: super::github::GitHubWorld,
}

/// The account owning the API token.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Account {
    pub id: Uuid,
    pub email: String,
    pub name: String,
    pub created_at: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct App {
    pub id: Uuid,
    pub name: String,
    pub region: String,
    pub stack: String,
    pub build_stack: String,
    pub maintenance: bool,
    pub created_at: String,
    pub updated_at: String,
    pub released_at: Option<String>,
    pub config_vars: BTreeMap<String, String>,
    pub formations: Vec<Formation>,
    pub dynos: Vec<Dyno>,
    pub releases: Vec<Release>,
    pub slugs: Vec<Slug>,
    pub collaborators: Vec<Collaborator>,
    pub addons: Vec<Addon>,
    pub jobs: Vec<SchedulerJob>,
    /// The team owning the app; `None` for a personal app (owned by the account).
    #[serde(default)]
    pub team: Option<Team>,
    /// Builds, oldest first.
    #[serde(default)]
    pub builds: Vec<super::heroku::builds::Build>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Formation {
    pub id: Uuid,
    pub process_type: String,
    pub command: String,
    pub quantity: i64,
    /// Canonical dyno size name, e.g. `Standard-1X`.
    pub size: String,
    pub created_at: String,
    pub updated_at: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Dyno {
    pub id: Uuid,
    pub name: String,
    pub process_type: String,
    pub command: String,
    pub size: String,
    pub state: String,
    pub attach_url: Option<String>,
    pub release_id: Option<Uuid>,
    pub release_version: Option<i64>,
    pub created_at: String,
    pub updated_at: String,
    /// Reads of the dyno (list or info) still showing it `starting` after an in-place
    /// restart; the read that brings it to zero is the first to show it `up`.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub starting_reads: u32,
}

fn is_zero(n: &u32) -> bool {
    *n == 0
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Release {
    pub id: Uuid,
    pub version: i64,
    pub description: String,
    pub slug_id: Option<Uuid>,
    pub status: String,
    /// Config vars as of this release (used by rollback).
    pub config_vars: BTreeMap<String, String>,
    pub addon_plan_names: Vec<String>,
    pub created_at: String,
    pub updated_at: String,
    /// The release phase's output stream, served by the sandbox (releases made by builds).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output_stream_url: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Slug {
    pub id: Uuid,
    pub process_types: BTreeMap<String, String>,
    pub commit: Option<String>,
    pub commit_description: Option<String>,
    pub size: i64,
    pub created_at: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Collaborator {
    pub id: Uuid,
    pub user_id: Uuid,
    pub email: String,
    pub role: String,
    pub created_at: String,
    pub updated_at: String,
    /// Team-app permission names (`view`, `deploy`, `operate`, `manage`); empty on personal apps.
    #[serde(default)]
    pub permissions: Vec<String>,
    /// Set once deleted: the number of GETs that still show it.
    #[serde(default)]
    pub lingering_gets: Option<u32>,
}

/// A team (Heroku Enterprise) owning apps.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Team {
    pub id: Uuid,
    pub name: String,
}

/// A Heroku account that can be made a collaborator.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct User {
    pub id: Uuid,
    pub email: String,
    /// Team name → role in it (`admin`, `member`); a team not listed has the user as an
    /// outside collaborator at most.
    #[serde(default)]
    pub team_roles: BTreeMap<String, String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Addon {
    pub id: Uuid,
    pub name: String,
    pub service_id: Uuid,
    pub service_name: String,
    pub plan_id: Uuid,
    pub plan_name: String,
    pub config_vars: Vec<String>,
    pub cents: i64,
    pub created_at: String,
    pub updated_at: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SchedulerJob {
    pub id: String,
    pub command: String,
    pub dyno_size: String,
    pub every: i64,
    pub at: i64,
    pub created_at: String,
    pub updated_at: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Pipeline {
    pub id: Uuid,
    pub name: String,
    pub created_at: String,
    pub updated_at: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Coupling {
    pub id: Uuid,
    pub app_id: Uuid,
    pub pipeline_id: Uuid,
    pub stage: String,
    pub created_at: String,
    pub updated_at: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Promotion {
    pub id: Uuid,
    pub pipeline_id: Uuid,
    pub source_app_id: Uuid,
    pub source_release_id: Uuid,
    pub status: String,
    pub created_at: String,
    pub updated_at: Option<String>,
    pub targets: Vec<PromotionTarget>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PromotionTarget {
    pub id: Uuid,
    pub app_id: Uuid,
    pub release_id: Option<Uuid>,
    pub status: String,
    pub error_message: Option<String>,
}

impl App {
    /// The release currently running: the newest succeeded one.
    pub fn current_release(&self) -> Option<&Release> {
        self.releases
            .iter()
            .filter(|r| r.status == "succeeded")
            .max_by_key(|r| r.version)
    }

    /// Appends a succeeded release and points every dyno at it (Heroku restarts dynos on
    /// each release). Returns the new release's index.
    pub fn push_release(
        &mut self,
        description: String,
        slug_id: Option<Uuid>,
        config_vars: BTreeMap<String, String>,
    ) -> usize {
        let now = now();
        let version = self.releases.iter().map(|r| r.version).max().unwrap_or(0) + 1;
        let addon_plan_names = self.addons.iter().map(|a| a.plan_name.clone()).collect();
        let release = Release {
            id: Uuid::new_v4(),
            version,
            description,
            slug_id,
            status: "succeeded".to_string(),
            config_vars,
            addon_plan_names,
            created_at: now.clone(),
            updated_at: now.clone(),
            output_stream_url: None,
        };
        for dyno in &mut self.dynos {
            dyno.release_id = Some(release.id);
            dyno.release_version = Some(version);
            dyno.updated_at = now.clone();
        }
        self.released_at = Some(now.clone());
        self.updated_at = now;
        self.releases.push(release);
        self.releases.len() - 1
    }

    /// Adds formations for the slug's process types the app does not have yet (Heroku
    /// scales a new `web` to 1 and anything else to 0; `release` is not a formation).
    pub fn ensure_formations(&mut self, slug: &Slug) {
        let now = now();
        let mut added = Vec::new();
        for (process_type, command) in &slug.process_types {
            if process_type == "release"
                || self
                    .formations
                    .iter()
                    .any(|f| &f.process_type == process_type)
            {
                continue;
            }
            self.formations.push(Formation {
                id: Uuid::new_v4(),
                process_type: process_type.clone(),
                command: command.clone(),
                quantity: i64::from(process_type == "web"),
                size: "Standard-1X".to_string(),
                created_at: now.clone(),
                updated_at: now.clone(),
            });
            added.push(process_type.clone());
        }
        for process_type in added {
            self.sync_dynos(&process_type);
        }
    }

    /// Makes the formation dynos of `process_type` match its quantity (keeping existing
    /// dynos with small indexes, adding or dropping the rest).
    pub fn sync_dynos(&mut self, process_type: &str) {
        let Some(formation) = self
            .formations
            .iter()
            .find(|f| f.process_type == process_type)
            .cloned()
        else {
            return;
        };
        let wanted = usize::try_from(formation.quantity).unwrap_or(0);
        let prefix = format!("{process_type}.");
        let (release_id, release_version) = match self.current_release() {
            Some(r) => (Some(r.id), Some(r.version)),
            None => (None, None),
        };
        self.dynos.retain(|d| {
            !d.name.starts_with(&prefix)
                || d.name[prefix.len()..]
                    .parse::<usize>()
                    .is_ok_and(|n| n >= 1 && n <= wanted)
        });
        let now = now();
        for n in 1..=wanted {
            let name = format!("{process_type}.{n}");
            match self.dynos.iter_mut().find(|d| d.name == name) {
                Some(d) => {
                    if d.size != formation.size {
                        d.size = formation.size.clone();
                        d.updated_at = now.clone();
                    }
                }
                None => self.dynos.push(Dyno {
                    id: Uuid::new_v4(),
                    name,
                    process_type: process_type.to_string(),
                    command: formation.command.clone(),
                    size: formation.size.clone(),
                    state: "up".to_string(),
                    attach_url: None,
                    release_id,
                    release_version,
                    created_at: now.clone(),
                    updated_at: now.clone(),
                    starting_reads: 0,
                }),
            }
        }
    }
}

impl SandboxState {
    /// Index of the app whose id or name is `ident`.
    pub fn app_index(&self, ident: &str) -> Option<usize> {
        self.apps
            .iter()
            .position(|a| a.name == ident || a.id.to_string().eq_ignore_ascii_case(ident))
    }

    /// Index of the app with this id.
    pub fn app_index_by_id(&self, id: Uuid) -> Option<usize> {
        self.apps.iter().position(|a| a.id == id)
    }

    /// Finds a slug by id in any app (Heroku slug ids are global).
    pub fn find_slug(&self, id: Uuid) -> Option<&Slug> {
        self.apps
            .iter()
            .flat_map(|a| a.slugs.iter())
            .find(|s| s.id == id)
    }
}

/// Current UTC time in Heroku's timestamp format (`2012-01-01T12:00:00Z`).
pub fn now() -> String {
    let format =
        time::macros::format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]Z");
    time::OffsetDateTime::now_utc()
        .format(&format)
        .unwrap_or_else(|_| "1970-01-01T00:00:00Z".to_string())
}

/// Loads state from `path`.
pub fn load(path: &Path) -> Result<SandboxState, SandboxError> {
    let err = |message: String| SandboxError::StateFile {
        path: path.to_path_buf(),
        message,
    };
    let bytes = std::fs::read(path).map_err(|e| err(e.to_string()))?;
    serde_json::from_slice(&bytes).map_err(|e| err(format!("not a sandbox state: {e}")))
}

/// Saves state to `path` atomically.
pub fn save(path: &Path, state: &SandboxState) -> Result<(), SandboxError> {
    let err = |message: String| SandboxError::StateFile {
        path: path.to_path_buf(),
        message,
    };
    let bytes = serde_json::to_vec_pretty(state).map_err(|e| err(e.to_string()))?;
    write_atomically(path, &bytes).map_err(err)
}

/// Writes `bytes` to a temporary file next to `path`, then renames it over `path`, so
/// readers see either the old or the new content, never a partial one.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> Result<(), String> {
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => std::path::PathBuf::from("."),
    };
    let mut tmp = tempfile::NamedTempFile::new_in(&dir).map_err(|e| e.to_string())?;
    tmp.write_all(bytes).map_err(|e| e.to_string())?;
    tmp.as_file().sync_all().map_err(|e| e.to_string())?;
    tmp.persist(path).map_err(|e| e.error.to_string())?;
    Ok(())
}
