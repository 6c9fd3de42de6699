//! Heroku builds (`/apps/{app}/builds`): creating one from a source tarball without ever
//! making two, reading one, and streaming its output.
//!
//! Never twice: a build is tied to its source by `source_blob.version` (the commit SHA). A
//! POST whose answer is lost is not repeated: the app's build list is read for a build of
//! that version that was not there before the POST. When the app's newest build is of that
//! version, started by this API key's account moments ago ([`ADOPTION_WINDOW`]), not failed
//! and held by no resource destroyed in this process, it is taken instead of posting at all:
//! an earlier apply was killed between the POST and saving the state.

use std::collections::HashSet;

use reqwest::Method;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::coalesce::{Reuse, Scope};
use super::own_objects::{is_recent, UserRef, ADOPTION_WINDOW};
use super::pipelines::IdRef;
use super::transport::Api;
use super::{decode, parse_body, HerokuClient, HerokuError, LogStream, RequestContext};

/// Status of a build.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum BuildStatus {
    /// Still building.
    Pending,
    /// Built; a release was created.
    Succeeded,
    /// The build failed.
    Failed,
    /// A status this client does not know.
    #[serde(other)]
    Unknown,
}

impl BuildStatus {
    /// Heroku's word for it.
    pub fn as_str(self) -> &'static str {
        match self {
            BuildStatus::Pending => "pending",
            BuildStatus::Succeeded => "succeeded",
            BuildStatus::Failed => "failed",
            BuildStatus::Unknown => "unknown",
        }
    }
}

/// The source of a build as Heroku reports it.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct BuildSource {
    /// The version given when creating it (our commit SHA).
    #[serde(default)]
    pub version: Option<String>,
}

/// A build.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Build {
    /// Build UUID.
    pub id: Uuid,
    /// Its status.
    pub status: BuildStatus,
    /// Where its output is streamed.
    #[serde(default)]
    pub output_stream_url: Option<String>,
    /// The release it created, once it succeeded.
    #[serde(default)]
    pub release: Option<IdRef>,
    /// Its source.
    pub source_blob: BuildSource,
    /// When it was created.
    #[serde(default)]
    pub created_at: Option<String>,
    /// Who started it.
    #[serde(default)]
    pub user: Option<UserRef>,
}

/// A build to create.
#[derive(Debug, Clone, Serialize)]
pub struct NewBuild {
    /// Its source.
    pub source_blob: NewBuildSource,
}

/// The source of a build to create.
#[derive(Debug, Clone, Serialize)]
pub struct NewBuildSource {
    /// The tarball URL (a credential when it is a signed link: never logged).
    pub url: String,
    /// The commit SHA: what ties the build to this source.
    pub version: String,
    /// Shown in the dashboard (`owner/repo@sha`).
    pub version_description: String,
}

/// How a build was obtained.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BuildOrigin {
    /// Posted now.
    Created,
    /// The answer was lost; found in the build list.
    Reconciled,
    /// An earlier, killed apply of this configuration started it.
    Adopted,
}

/// Builds of the app's list looked at when reconciling.
const RECENT_BUILDS: u32 = 100;

impl HerokuClient {
    /// One build, read fresh (its status is polled).
    pub async fn build(&self, app_id: Uuid, build_id: Uuid) -> Result<Build, HerokuError> {
        let url =
            self.platform_url(&["apps", &app_id.to_string(), "builds", &build_id.to_string()])?;
        let context =
            RequestContext::on_app(format!("reading build {build_id}"), self.app_label(app_id));
        self.get_object(
            Api::Platform,
            url,
            Scope::App(app_id),
            Reuse::InFlightOnly,
            context,
        )
        .await
    }

    /// The app's newest builds, newest first, read fresh.
    pub async fn recent_builds(&self, app_id: Uuid) -> Result<Vec<Build>, HerokuError> {
        let url = self.platform_url(&["apps", &app_id.to_string(), "builds"])?;
        let context = RequestContext::on_app("listing builds", self.app_label(app_id));
        self.get_list(
            url,
            Some(format!("started_at ..; max={RECENT_BUILDS},order=desc")),
            false,
            Scope::App(app_id),
            Reuse::InFlightOnly,
            context,
        )
        .await
    }

    /// The half-made build of a killed apply: the app's newest build (nothing was built
    /// since) is of `version`, this account started it within [`ADOPTION_WINDOW`], it did not
    /// fail (a failed one is built again, as a retry) and no resource destroyed in this
    /// process held it (a replacement builds again).
    pub async fn find_own_recent_build(
        &self,
        app_id: Uuid,
        version: &str,
    ) -> Result<Option<Build>, HerokuError> {
        let Some(newest) = self.recent_builds(app_id).await?.into_iter().next() else {
            return Ok(None);
        };
        let candidate = newest.source_blob.version.as_deref() == Some(version)
            && newest.status != BuildStatus::Failed
            && newest
                .created_at
                .as_deref()
                .is_some_and(|at| is_recent(at, ADOPTION_WINDOW))
            && !self.is_forgotten(&newest.id.to_string());
        if !candidate {
            return Ok(None);
        }
        let account = self.account().await?;
        Ok(newest
            .user
            .as_ref()
            .is_some_and(|u| account.is(u))
            .then_some(newest))
    }

    /// Creates a build, never two: see the module documentation.
    pub async fn create_build_once(
        &self,
        app_id: Uuid,
        new: &NewBuild,
    ) -> Result<(Build, BuildOrigin), HerokuError> {
        let version = new.source_blob.version.as_str();
        if let Some(build) = self.find_own_recent_build(app_id, version).await? {
            return Ok((build, BuildOrigin::Adopted));
        }
        let before: HashSet<Uuid> = self
            .recent_builds(app_id)
            .await?
            .into_iter()
            .map(|b| b.id)
            .collect();
        let url = self.platform_url(&["apps", &app_id.to_string(), "builds"])?;
        let context = RequestContext::on_app(
            format!("building {}", new.source_blob.version_description),
            self.app_label(app_id),
        );
        let error = match self
            .send_write(Api::Platform, Method::POST, url, Some(new), false, &context)
            .await
        {
            Ok(response) => {
                let value = parse_body(&response.body, &context, response.status)?;
                return Ok((
                    decode(&value, &context, response.status)?,
                    BuildOrigin::Created,
                ));
            }
            Err(e) if e.outcome_unknown() => e,
            Err(e) => return Err(e),
        };
        tfplugin::warn!(
            "{context}: the answer was lost; looking for the build in the app's build list"
        );
        // When even the list cannot be read, the POST's own error says the outcome is unknown.
        let found = self
            .recent_builds(app_id)
            .await
            .map_err(|_| error.clone())?;
        match found
            .into_iter()
            .filter(|b| !before.contains(&b.id))
            .find(|b| b.source_blob.version.as_deref() == Some(version))
        {
            Some(build) => Ok((build, BuildOrigin::Reconciled)),
            None => Err(error),
        }
    }

    /// Streams output from a build's or release's `output_stream_url`. The URL is its own
    /// credential: the API key is not sent to it.
    pub async fn open_output_stream(&self, url: &str) -> Result<LogStream, HerokuError> {
        self.open_stream_url(url, "opening the build output").await
    }
}
