//! Heroku Scheduler jobs, through the JSON:API service behind the dashboard
//! (`{scheduler_url}/apps/{app_uuid}/jobs`). Jobs are keyed by app UUID; there is no GET
//! for one job, so reads list the app's jobs (cached, see `coalesce.rs`).

use std::collections::HashSet;

use reqwest::Method;
use serde::{Deserialize, Serialize};
use serde_json::Value;
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

    /// Creates a job without ever leaving a duplicate behind.
    ///
    /// A POST is not idempotent, so when its outcome is unknown (5xx, timeout, broken
    /// connection, unreadable answer) the app's jobs are listed again and a job that
    /// matches exactly and did not exist before the first attempt is adopted; only if
    /// there is none is the POST retried (up to `max_retries`). Our own writes to the app
    /// are serialised meanwhile so they cannot be mistaken for the lost job.
    pub async fn create_scheduler_job(
        &self,
        app_id: Uuid,
        job: &NewSchedulerJob,
    ) -> Result<SchedulerJob, HerokuError> {
        let write_lock = self.write_lock(app_id);
        let _guard = write_lock.lock().await;
        let context = RequestContext::on_app("creating scheduler job", self.app_label(app_id));
        let before: HashSet<String> = self
            .scheduler_jobs_fresh(app_id)
            .await
            .map_err(|e| e.with_context(context.clone()))?
            .into_iter()
            .map(|j| j.id)
            .collect();
        let url = self.scheduler_url(&["apps", &app_id.to_string(), "jobs"])?;
        let body = write_document(None, job);
        let mut attempt: u32 = 0;
        loop {
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
            let error = match result {
                Ok(response) => {
                    let decoded = parse_body(&response.body, &context, response.status)
                        .and_then(|v| decode_job(&v, &context, response.status));
                    match decoded {
                        Ok(created) => return Ok(created),
                        // The job exists but we cannot read its id from the answer;
                        // find it by listing rather than fail and invite a duplicate.
                        Err(e) => {
                            return match self.find_new_job(app_id, job, &before).await {
                                Some(found) => Ok(found),
                                None => Err(e),
                            }
                        }
                    }
                }
                Err(e) => e,
            };
            if !error.outcome_unknown() {
                return Err(error);
            }
            if let Some(found) = self.find_new_job(app_id, job, &before).await {
                log(
                    LogLevel::Warn,
                    &format!(
                        "{context}: the answer was lost ({error}); adopted job {} that the request created",
                        found.id
                    ),
                );
                return Ok(found);
            }
            if attempt >= self.inner.transport.max_retries() {
                return Err(error);
            }
            let delay = self.inner.transport.backoff(attempt);
            log(
                LogLevel::Warn,
                &format!(
                    "{context}: {error}; the job was not created, retry {} of {} in {delay:?}",
                    attempt + 1,
                    self.inner.transport.max_retries()
                ),
            );
            tokio::time::sleep(delay).await;
            attempt += 1;
        }
    }

    /// A job matching `job` that is not among `before`, from a fresh listing.
    async fn find_new_job(
        &self,
        app_id: Uuid,
        job: &NewSchedulerJob,
        before: &HashSet<String>,
    ) -> Option<SchedulerJob> {
        match self.scheduler_jobs_fresh(app_id).await {
            Ok(jobs) => jobs
                .into_iter()
                .find(|j| !before.contains(&j.id) && job.matches(j)),
            Err(e) => {
                log(
                    LogLevel::Warn,
                    &format!("could not list scheduler jobs to check a create: {e}"),
                );
                None
            }
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
        result.map(|_| ())
    }
}
