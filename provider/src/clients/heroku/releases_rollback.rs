//! Rollbacks (`POST /apps/{app}/releases` with `{release: <uuid>}`): the target's
//! eligibility, finding a rollback whose answer was lost, and recognising the rollback a
//! killed apply made.

use serde::Deserialize;
use uuid::Uuid;

use super::coalesce::{Reuse, Scope};
use super::own_objects::{is_recent, ADOPTION_WINDOW};
use super::pipelines::{Release, ReleaseStatus};
use super::transport::Api;
use super::{HerokuClient, HerokuError, RequestContext};

/// A release as a rollback target: what `Release` has, plus whether Heroku allows rolling
/// back to it.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct RollbackCandidate {
    /// Release UUID.
    pub id: Uuid,
    /// Version number.
    pub version: u64,
    /// Release status.
    pub status: ReleaseStatus,
    /// Whether this is the app's current release.
    #[serde(default)]
    pub current: bool,
    /// Whether Heroku accepts a rollback to it (false for the current release and
    /// releases without code).
    #[serde(default)]
    pub eligible_for_rollback: bool,
}

/// The description Heroku gives the release a rollback to `version` creates.
pub fn rollback_description(version: u64) -> String {
    format!("Rollback to v{version}")
}

impl HerokuClient {
    /// A release by UUID or version (`12` or `v12`), with its eligibility for a rollback.
    /// Not cached.
    pub async fn rollback_candidate(
        &self,
        app_id: Uuid,
        release: &str,
    ) -> Result<RollbackCandidate, HerokuError> {
        let ident = release.strip_prefix('v').unwrap_or(release);
        let url = self.platform_url(&["apps", &app_id.to_string(), "releases", ident])?;
        let context =
            RequestContext::on_app(format!("reading release {release}"), self.app_label(app_id));
        self.get_object(
            Api::Platform,
            url,
            Scope::App(app_id),
            Reuse::InFlightOnly,
            context,
        )
        .await
    }

    /// The newest release version of the app (0 when it has none), read fresh.
    pub async fn latest_release_version(&self, app_id: Uuid) -> Result<u64, HerokuError> {
        self.invalidate_app_data(app_id);
        let newest = self.releases(app_id, 1).await?;
        Ok(newest.first().map_or(0, |r| r.version))
    }

    /// The rollback to `target_version` an earlier, killed apply of this configuration made:
    /// the app's newest release (nothing released since) is a rollback to that version,
    /// made by this API key's account within [`ADOPTION_WINDOW`], and not one whose resource
    /// this process just destroyed (a replacement rolls back again). Read fresh.
    pub async fn find_own_recent_rollback(
        &self,
        app_id: Uuid,
        target_version: u64,
    ) -> Result<Option<Release>, HerokuError> {
        self.invalidate_app_data(app_id);
        let Some(newest) = self.releases(app_id, 1).await?.into_iter().next() else {
            return Ok(None);
        };
        if newest.description.as_deref() != Some(rollback_description(target_version).as_str())
            || !newest
                .created_at
                .as_deref()
                .is_some_and(|at| is_recent(at, ADOPTION_WINDOW))
            || self.is_forgotten(&newest.id.to_string())
        {
            return Ok(None);
        }
        let account = self.account().await?;
        Ok(newest
            .user
            .as_ref()
            .is_some_and(|user| account.is(user))
            .then_some(newest))
    }

    /// A rollback to `target_version` made after release `after` (the newest before the
    /// POST), read fresh: how a rollback whose answer was lost is found instead of being
    /// posted again.
    pub async fn find_rollback_since(
        &self,
        app_id: Uuid,
        after: u64,
        target_version: u64,
    ) -> Result<Option<Release>, HerokuError> {
        self.invalidate_app_data(app_id);
        let description = rollback_description(target_version);
        let recent = self.releases(app_id, 50).await?;
        Ok(recent
            .into_iter()
            .filter(|r| r.version > after)
            .filter(|r| r.description.as_deref() == Some(description.as_str()))
            .min_by_key(|r| r.version))
    }
}
