//! Heroku Scheduler jobs, through the JSON:API service behind the dashboard
//! (`{scheduler_url}/apps/{app_uuid}/jobs`). Jobs are keyed by app UUID; there is no GET
//! for one job, so reads list the app's jobs (cached, see `coalesce.rs`).

use std::collections::HashSet;
use std::sync::{Arc, Mutex};

use reqwest::Method;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use tokio::sync::{OnceCell, RwLock};
use uuid::Uuid;

use super::coalesce::{Reuse, Scope};
use super::transport::{Api, RequestSpec};
use super::{decode, log, parse_body, HerokuClient, HerokuError, LogLevel, RequestContext};

/// A scheduled job as Heroku reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SchedulerJob {
    /// Job id (a string of digits in practice).
    pub id: String,
    /// Command run in a one-off dyno.
    pub command: String,
    /// Dyno size name ("Standard-1X").
    pub dyno_size: String,
    /// Period in minutes: 10, 60 or 1440.
    pub every: u32,
    /// Offset in minutes: past the hour for hourly jobs, since 00:00 UTC for daily ones.
    pub at: Option<u32>,
    /// Last run time (ISO 8601), if the job ran.
    pub ran_at: Option<String>,
    /// Creation time (ISO 8601).
    pub created_at: Option<String>,
}

/// Desired attributes of a job, for create and update. `at` is always sent (0 for jobs
/// running every ten minutes), as the Scheduler expects.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewSchedulerJob {
    /// Command run in a one-off dyno.
    pub command: String,
    /// Dyno size name.
    pub dyno_size: String,
    /// Period in minutes: 10, 60 or 1440.
    pub every: u32,
    /// Offset in minutes (see [`SchedulerJob::at`]).
    pub at: u32,
}

impl NewSchedulerJob {
    /// True when `job` has exactly these attributes (an absent `at` counts as 0).
    pub fn matches(&self, job: &SchedulerJob) -> bool {
        job.command == self.command
            && job.dyno_size == self.dyno_size
            && job.every == self.every
            && job.at.unwrap_or(0) == self.at
    }
}

/// JSON:API ids and numbers are strings in some services and numbers in others.
#[derive(Deserialize)]
#[serde(untagged)]
enum StringOrNumber {
    Text(String),
    Number(serde_json::Number),
}

impl StringOrNumber {
    fn into_string(self) -> String {
        match self {
            StringOrNumber::Text(s) => s,
            StringOrNumber::Number(n) => n.to_string(),
        }
    }

    fn to_u32(&self) -> Option<u32> {
        match self {
            StringOrNumber::Text(s) => s.trim().parse().ok(),
            StringOrNumber::Number(n) => n.as_u64().and_then(|v| u32::try_from(v).ok()),
        }
    }
}

#[derive(Deserialize)]
struct JobResource {
    id: StringOrNumber,
    attributes: JobAttributes,
}

#[derive(Deserialize)]
#[serde(rename_all = "kebab-case")]
struct JobAttributes {
    command: String,
    #[serde(default)]
    dyno_size: Option<String>,
    every: StringOrNumber,
    #[serde(default)]
    at: Option<StringOrNumber>,
    #[serde(default)]
    ran_at: Option<String>,
    #[serde(default)]
    created_at: Option<String>,
}

#[derive(Deserialize)]
struct JobListDocument {
    #[serde(default)]
    data: Vec<JobResource>,
}

#[derive(Deserialize)]
struct JobDocument {
    data: JobResource,
}

impl JobResource {
    fn into_job(self) -> Result<SchedulerJob, String> {
        let id = self.id.into_string();
        let every = self
            .attributes
            .every
            .to_u32()
            .ok_or_else(|| format!("job {id}: `every` is not a whole number of minutes"))?;
        let at = match &self.attributes.at {
            None => None,
            Some(at) => Some(
                at.to_u32()
                    .ok_or_else(|| format!("job {id}: `at` is not a whole number of minutes"))?,
            ),
        };
        Ok(SchedulerJob {
            id,
            command: self.attributes.command,
            dyno_size: self.attributes.dyno_size.unwrap_or_default(),
            every,
            at,
            ran_at: self.attributes.ran_at,
            created_at: self.attributes.created_at,
        })
    }
}

#[derive(Serialize)]
struct JobWriteDocument<'a> {
    data: JobWriteResource<'a>,
}

#[derive(Serialize)]
struct JobWriteResource<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    id: Option<&'a str>,
    #[serde(rename = "type")]
    kind: &'static str,
    attributes: JobWriteAttributes<'a>,
}

#[derive(Serialize)]
#[serde(rename_all = "kebab-case")]
struct JobWriteAttributes<'a> {
    command: &'a str,
    dyno_size: &'a str,
    every: u32,
    at: u32,
}

fn write_document<'a>(id: Option<&'a str>, job: &'a NewSchedulerJob) -> JobWriteDocument<'a> {
    JobWriteDocument {
        data: JobWriteResource {
            id,
            kind: "jobs",
            attributes: JobWriteAttributes {
                command: &job.command,
                dyno_size: &job.dyno_size,
                every: job.every,
                at: job.at,
            },
        },
    }
}

fn decode_job_list(
    value: &Value,
    context: &RequestContext,
) -> Result<Vec<SchedulerJob>, HerokuError> {
    let document: JobListDocument = decode(value, context, 200)?;
    document
        .data
        .into_iter()
        .map(|r| {
            r.into_job().map_err(|detail| HerokuError::Decode {
                context: context.clone(),
                status: 200,
                detail,
            })
        })
        .collect()
}

fn decode_job(
    value: &Value,
    context: &RequestContext,
    status: u16,
) -> Result<SchedulerJob, HerokuError> {
    let document: JobDocument = decode(value, context, status)?;
    document
        .data
        .into_job()
        .map_err(|detail| HerokuError::Decode {
            context: context.clone(),
            status,
            detail,
        })
}

impl HerokuClient {
    /// All scheduler jobs of an app. Concurrent calls share one request and the result
    /// is reused until this client writes to the app.
    pub async fn scheduler_jobs(&self, app_id: Uuid) -> Result<Vec<SchedulerJob>, HerokuError> {
        let url = self.scheduler_url(&["apps", &app_id.to_string(), "jobs"])?;
        let context = RequestContext::on_app("listing scheduler jobs", self.app_label(app_id));
        let value: Value = self
            .get_object(
                Api::Scheduler,
                url,
                Scope::App(app_id),
                Reuse::Cache,
                context.clone(),
            )
            .await?;
        decode_job_list(&value, &context)
    }

    /// One job of an app, or `None` when the app has no job with that id.
    pub async fn scheduler_job(
        &self,
        app_id: Uuid,
        job_id: &str,
    ) -> Result<Option<SchedulerJob>, HerokuError> {
        Ok(self
            .scheduler_jobs(app_id)
            .await?
            .into_iter()
            .find(|job| job.id == job_id))
    }

    /// Lists jobs straight from the server, bypassing cache and in-flight requests.
    async fn scheduler_jobs_fresh(&self, app_id: Uuid) -> Result<Vec<SchedulerJob>, HerokuError> {
        let url = self.scheduler_url(&["apps", &app_id.to_string(), "jobs"])?;
        let context = RequestContext::on_app("listing scheduler jobs", self.app_label(app_id));
        let spec = RequestSpec::get(Api::Scheduler, url, context.clone());
        let response = self.inner.transport.send(&spec).await?;
        let value = parse_body(&response.body, &context, response.status)?;
        decode_job_list(&value, &context)
    }

    /// The ids of the app's jobs that are not the answer to a create of ours still to be
    /// verified: listed once per app and process, then kept up to date by our own writes.
    async fn known_job_ids(&self, app_id: Uuid) -> Result<Arc<JobSnapshot>, HerokuError> {
        let snapshot = self.job_snapshot(app_id);
        snapshot
            .known
            .get_or_try_init(|| async {
                let ids = self
                    .scheduler_jobs(app_id)
                    .await?
                    .into_iter()
                    .map(|j| j.id)
                    .collect::<HashSet<_>>();
                Ok::<_, HerokuError>(Mutex::new(ids))
            })
            .await?;
        Ok(snapshot)
    }

    /// Creates a job without ever leaving a duplicate behind, in one request when the
    /// answer arrives.
    ///
    /// A POST is not idempotent. When its outcome is unknown (5xx, timeout, broken
    /// connection, unreadable answer) the app's jobs are listed and a job that matches
    /// exactly and is not in the app's snapshot (the jobs that existed before, taken once
    /// per app and process, plus those our own creates made) is adopted. Only when the
    /// listing shows that nothing was created is the POST sent again; when the listing
    /// itself fails it is retried (never the POST) within `max_retries`, after which the
    /// error says that the job may exist and how to import it. Our POSTs to an app run in
    /// parallel, but none is in flight while one is being verified, so a job of ours is
    /// always in the snapshot before another create looks for its own.
    pub async fn create_scheduler_job(
        &self,
        app_id: Uuid,
        job: &NewSchedulerJob,
    ) -> Result<SchedulerJob, HerokuError> {
        let context = RequestContext::on_app("creating scheduler job", self.app_label(app_id));
        let snapshot = self
            .known_job_ids(app_id)
            .await
            .map_err(|e| e.with_context(context.clone()))?;
        let url = self.scheduler_url(&["apps", &app_id.to_string(), "jobs"])?;
        let body = write_document(None, job);
        let max_retries = self.inner.transport.max_retries();
        let mut attempt: u32 = 0;
        loop {
            // `created`: Heroku said 2xx, so the job exists even if its answer is unreadable.
            let (error, created) = {
                let _posting = snapshot.posting.read().await;
                let result = self
                    .send_write(
                        Api::Scheduler,
                        Method::POST,
                        url.clone(),
                        Some(&body),
                        false,
                        &context,
                    )
                    .await;
                self.invalidate_app_data(app_id);
                match result {
                    Ok(response) => match parse_body(&response.body, &context, response.status)
                        .and_then(|v| decode_job(&v, &context, response.status))
                    {
                        Ok(created) => {
                            // Recorded before the guard drops, so no verification misses it.
                            snapshot.record(&created.id);
                            return Ok(created);
                        }
                        Err(e) => (e, true),
                    },
                    Err(e) if e.outcome_unknown() => (e, false),
                    Err(e) => return Err(e),
                }
            };
            // Verify, retrying the listing (not the POST) while it fails.
            loop {
                let listed = {
                    let _verifying = snapshot.posting.write().await;
                    match self.scheduler_jobs_fresh(app_id).await {
                        Ok(jobs) => Ok(snapshot.adopt(jobs, job)),
                        Err(e) => Err(e),
                    }
                };
                match listed {
                    Ok(Some(found)) => {
                        log(
                            LogLevel::Warn,
                            &format!(
                                "{context}: the answer was lost ({error}); adopted job {} that the request created",
                                found.id
                            ),
                        );
                        return Ok(found);
                    }
                    Ok(None) if created => {
                        return Err(self.unverified(
                            app_id,
                            &context,
                            &error,
                            "no new job is listed",
                        ));
                    }
                    Ok(None) => break,
                    Err(list_error) if attempt >= max_retries => {
                        return Err(self.unverified(
                            app_id,
                            &context,
                            &error,
                            &list_error.to_string(),
                        ));
                    }
                    Err(list_error) => {
                        let delay = self.inner.transport.backoff(attempt);
                        log(
                            LogLevel::Warn,
                            &format!(
                                "{error}; cannot list the jobs to check whether it created one ({list_error}), retry {} of {max_retries} in {delay:?}",
                                attempt + 1
                            ),
                        );
                        tokio::time::sleep(delay).await;
                        attempt += 1;
                    }
                }
            }
            // The listing shows that the POST created nothing: sending it again is safe.
            if attempt >= max_retries {
                return Err(error);
            }
            let delay = self.inner.transport.backoff(attempt);
            log(
                LogLevel::Warn,
                &format!(
                    "{error}; the job was not created, retry {} of {max_retries} in {delay:?}",
                    attempt + 1
                ),
            );
            tokio::time::sleep(delay).await;
            attempt += 1;
        }
    }

    fn unverified(
        &self,
        app_id: Uuid,
        context: &RequestContext,
        error: &HerokuError,
        check: &str,
    ) -> HerokuError {
        HerokuError::CreateUnverified {
            context: context.clone(),
            app: self.app_label(app_id),
            cause: format!("{error}; then {check}"),
        }
    }

    /// Replaces a job's attributes. The body sets absolute values, so the PATCH is
    /// retried like an idempotent request.
    pub async fn update_scheduler_job(
        &self,
        app_id: Uuid,
        job_id: &str,
        job: &NewSchedulerJob,
    ) -> Result<SchedulerJob, HerokuError> {
        let write_lock = self.write_lock(app_id);
        let _guard = write_lock.lock().await;
        let context = RequestContext::on_app(
            format!("updating scheduler job {job_id}"),
            self.app_label(app_id),
        );
        let url = self.scheduler_url(&["apps", &app_id.to_string(), "jobs", job_id])?;
        let body = write_document(Some(job_id), job);
        let result = self
            .send_write(
                Api::Scheduler,
                Method::PATCH,
                url,
                Some(&body),
                true,
                &context,
            )
            .await;
        self.invalidate_app_data(app_id);
        let response = result?;
        let value = parse_body(&response.body, &context, response.status)?;
        if value.is_null() {
            // No body: the update took effect as sent.
            return Ok(SchedulerJob {
                id: job_id.to_string(),
                command: job.command.clone(),
                dyno_size: job.dyno_size.clone(),
                every: job.every,
                at: Some(job.at),
                ran_at: None,
                created_at: None,
            });
        }
        decode_job(&value, &context, response.status)
    }

    /// Deletes a job. A job that is already gone yields an error for which
    /// [`HerokuError::is_not_found`] is true (also when a retried DELETE finds that its
    /// first, lost attempt succeeded); callers deleting treat that as done.
    pub async fn delete_scheduler_job(
        &self,
        app_id: Uuid,
        job_id: &str,
    ) -> Result<(), HerokuError> {
        let write_lock = self.write_lock(app_id);
        let _guard = write_lock.lock().await;
        let context = RequestContext::on_app(
            format!("deleting scheduler job {job_id}"),
            self.app_label(app_id),
        );
        let url = self.scheduler_url(&["apps", &app_id.to_string(), "jobs", job_id])?;
        let result = self
            .send_write::<()>(Api::Scheduler, Method::DELETE, url, None, true, &context)
            .await;
        self.invalidate_app_data(app_id);
        if result.as_ref().is_ok() || result.as_ref().is_err_and(HerokuError::is_not_found) {
            self.job_snapshot(app_id).forget(job_id);
        }
        result.map(|_| ())
    }
}

/// Per app: the jobs known not to be the answer of a create of ours still to be verified,
/// and the lock that keeps POSTs (shared) and verifications (exclusive) apart.
#[derive(Default)]
pub(crate) struct JobSnapshot {
    known: OnceCell<Mutex<HashSet<String>>>,
    posting: RwLock<()>,
}

impl JobSnapshot {
    fn ids(&self) -> Option<std::sync::MutexGuard<'_, HashSet<String>>> {
        self.known
            .get()
            .map(|m| m.lock().unwrap_or_else(|poisoned| poisoned.into_inner()))
    }

    fn record(&self, id: &str) {
        if let Some(mut ids) = self.ids() {
            ids.insert(id.to_string());
        }
    }

    fn forget(&self, id: &str) {
        if let Some(mut ids) = self.ids() {
            ids.remove(id);
        }
    }

    /// The first listed job that matches and is not known, now recorded as ours.
    fn adopt(&self, jobs: Vec<SchedulerJob>, job: &NewSchedulerJob) -> Option<SchedulerJob> {
        let mut ids = self.ids()?;
        let found = jobs
            .into_iter()
            .find(|j| !ids.contains(&j.id) && job.matches(j))?;
        ids.insert(found.id.clone());
        Some(found)
    }
}
