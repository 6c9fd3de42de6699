//! `treeherder_scheduler_jobs`: every Heroku Scheduler job of an app, each with the id that
//! imports it into `treeherder_scheduler_job`.

use async_trait::async_trait;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use tfplugin::framework::{Context, DataSource};
use tfplugin::{Diagnostics, Field};

use crate::clients::heroku::{AppIdentity, SchedulerJob};
use crate::clients::Clients;
use crate::resources::scheduler_job::Schedule;

/// The Scheduler jobs of a Heroku app, for adopting them: each with its import id and its
/// attributes spelled as `treeherder_scheduler_job` writes them after an import, so a
/// configuration made of these values plans no change.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema, tfplugin::Model)]
pub struct SchedulerJobsModel {
    /// The app, by name (`treeherder-prod`) or UUID. The import ids name it as written here.
    pub app: Field<AppIdentity>,
    /// The app's jobs, by id (numerically).
    // A list of plain objects, not nested attributes: Terraform 1.0.3 rejects references
    // into computed nested attributes.
    #[serde(default)]
    #[tf(computed)]
    pub jobs: Field<Vec<ListedJob>>,
}

/// One Scheduler job.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct ListedJob {
    /// The Scheduler's job id (the `job=` number of the dashboard's URL).
    pub id: Option<String>,
    /// The id `terraform import treeherder_scheduler_job.<name> <import_id>` takes:
    /// `<app>:<id>`, with `app` as written in this data source.
    pub import_id: Option<String>,
    /// The command run in a one-off dyno.
    pub command: Option<String>,
    /// When the job runs, in `treeherder_scheduler_job`'s canonical spelling
    /// (`every_ten_minutes`, `every_hour_at_10`, `every_day_at_5:00`); null for a period the
    /// Scheduler should never report.
    pub frequency: Option<String>,
    /// Dyno size, as Heroku reports it (`Standard-1X`).
    pub dyno_size: Option<String>,
}

impl ListedJob {
    /// The job as `treeherder_scheduler_job`'s import reads it.
    fn of(app: &AppIdentity, job: SchedulerJob) -> Self {
        let frequency =
            Schedule::from_remote(job.every, job.at.unwrap_or(0)).map(|s| s.canonical());
        ListedJob {
            import_id: Some(format!("{}:{}", app.as_str(), job.id)),
            id: Some(job.id),
            command: Some(job.command),
            frequency,
            dyno_size: Some(job.dyno_size),
        }
    }
}

/// The `treeherder_scheduler_jobs` data source.
pub struct SchedulerJobsDataSource;

#[async_trait]
impl DataSource for SchedulerJobsDataSource {
    type Model = SchedulerJobsModel;
    type Client = Clients;

    fn type_name(&self) -> &'static str {
        "treeherder_scheduler_jobs"
    }

    async fn read(
        &self,
        ctx: &Context<'_, Clients>,
        mut config: SchedulerJobsModel,
    ) -> Result<SchedulerJobsModel, Diagnostics> {
        let heroku = ctx.client()?.heroku()?;
        let app = config.app.value()?.clone();
        let app_id = heroku.resolve_app_id(app.as_str()).await?;
        let mut jobs = heroku.scheduler_jobs(app_id).await?;
        // Numeric ids in numeric order; the Scheduler's own order is not documented.
        jobs.sort_by(|a, b| (a.id.len(), &a.id).cmp(&(b.id.len(), &b.id)));
        config.jobs.set(
            jobs.into_iter()
                .map(|job| ListedJob::of(&app, job))
                .collect::<Vec<_>>(),
        );
        Ok(config)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn job(every: u32, at: Option<u32>) -> SchedulerJob {
        SchedulerJob {
            id: "1008".into(),
            command: "./manage.py cycle_data".into(),
            dyno_size: "Standard-2X".into(),
            every,
            at,
            ran_at: None,
            created_at: None,
        }
    }

    #[test]
    fn lists_the_import_id_and_the_resources_spelling() {
        let app = AppIdentity::parse("treeherder-prod").unwrap();
        let listed = ListedJob::of(&app, job(1440, Some(300)));
        assert_eq!(listed.import_id.as_deref(), Some("treeherder-prod:1008"));
        assert_eq!(listed.frequency.as_deref(), Some("every_day_at_5:00"));
        assert_eq!(listed.dyno_size.as_deref(), Some("Standard-2X"));
        assert_eq!(
            ListedJob::of(&app, job(10, None)).frequency.as_deref(),
            Some("every_ten_minutes")
        );
        assert_eq!(ListedJob::of(&app, job(15, None)).frequency, None);
    }

    #[test]
    fn schema_derives_with_a_computed_list() {
        let schema = SchedulerJobsDataSource.schema().unwrap();
        assert!(schema.block.attribute("app").unwrap().required);
        assert!(schema.block.attribute("jobs").unwrap().computed);
    }
}
