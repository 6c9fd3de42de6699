//! `treeherder_scheduler_job`: one Heroku Scheduler job of an app.
//!
//! The Scheduler stores a job's period as `every`/`at` minutes; users write a `frequency`
//! string (`every_day_at_4:30`). Read keeps the user's spelling (`4:30` vs `04:30`, dyno
//! size case) whenever the remote value means the same thing, so plans stay empty.

use async_trait::async_trait;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use tfplugin::framework::{Context, Resource, ResourcePlan};
use tfplugin::schema::{Schema, SchemaDeriveError};
use tfplugin::validators::CheckFn;
use tfplugin::value::Value;
use tfplugin::{AttributePath, Diagnostic, Diagnostics};
use uuid::Uuid;

use crate::clients::heroku::{NewSchedulerJob, SchedulerJob};
use crate::clients::Clients;

/// The accepted frequency forms, as shown in diagnostics and docs.
pub const FREQUENCY_FORMS: &str = "every_ten_minutes, every_hour_at_<0|10|20|30|40|50>, or every_day_at_<H>:<00|30> with H from 0 to 23 (UTC), e.g. every_day_at_4:30";

/// Dyno sizes the Scheduler knows, in Heroku's spelling; a size written in another case is
/// sent in this spelling (the API is case-sensitive) and kept as written in state.
const DYNO_SIZES: &[&str] = &[
    "Free",
    "Hobby",
    "Basic",
    "Eco",
    "Standard-1X",
    "Standard-2X",
    "Performance-M",
    "Performance-L",
    "Private-S",
    "Private-M",
    "Private-L",
    "Shield-S",
    "Shield-M",
    "Shield-L",
];

fn default_dyno_size() -> String {
    "Standard-1X".into()
}

/// A Heroku Scheduler job: a command run in a one-off dyno every ten minutes, hourly or daily.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct SchedulerJobModel {
    /// The app running the job, by name (`treeherder-prod`) or UUID. Moving the job to another
    /// app replaces it; naming the same app differently (name ↔ UUID) changes nothing remotely.
    pub app: String,
    /// The command run in a one-off dyno, e.g. `./manage.py cycle_data`.
    #[schemars(length(min = 1))]
    pub command: String,
    /// When the job runs (UTC): `every_ten_minutes`, `every_hour_at_<0|10|20|30|40|50>`
    /// (minutes past the hour) or `every_day_at_<H>:<00|30>` (H from 0 to 23, e.g.
    /// `every_day_at_4:30`; `04:30` is accepted and kept as written).
    pub frequency: String,
    /// Dyno size of the one-off dyno, e.g. `Standard-1X` (case as written is kept). Default `Standard-1X`.
    #[serde(default = "default_dyno_size")]
    pub dyno_size: String,
    /// The Scheduler's job id.
    #[schemars(extend("x-terraform" = { "computed": true, "use_state_for_unknown": true }))]
    pub id: Option<String>,
    /// UUID of the app.
    #[schemars(extend("x-terraform" = { "computed": true, "use_state_for_unknown": true }))]
    pub app_id: Option<String>,
}

/// How often a job runs, as the Scheduler stores it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Frequency {
    /// Period in minutes: 10, 60 or 1440.
    pub every: u32,
    /// Minutes past the hour (hourly) or since 00:00 UTC (daily); 0 for every ten minutes.
    pub at: u32,
}

impl Frequency {
    /// Parses a user's frequency string; `None` when it is not one of [`FREQUENCY_FORMS`].
    pub fn parse(text: &str) -> Option<Frequency> {
        if text == "every_ten_minutes" {
            return Some(Frequency { every: 10, at: 0 });
        }
        if let Some(minute) = text.strip_prefix("every_hour_at_") {
            let minute = small_number(minute)?;
            return (minute < 60 && minute.is_multiple_of(10)).then_some(Frequency {
                every: 60,
                at: minute,
            });
        }
        let time = text.strip_prefix("every_day_at_")?;
        let (hour, minute) = time.split_once(':')?;
        let hour = small_number(hour)?;
        let minute = match minute {
            "00" => 0,
            "30" => 30,
            _ => return None,
        };
        (hour < 24).then_some(Frequency {
            every: 1440,
            at: hour * 60 + minute,
        })
    }

    /// The Scheduler's `every`/`at` as a frequency, if it is one the Scheduler offers.
    pub fn from_remote(every: u32, at: u32) -> Option<Frequency> {
        let valid = match every {
            10 => at == 0,
            60 => at < 60 && at.is_multiple_of(10),
            1440 => at < 1440 && at.is_multiple_of(30),
            _ => false,
        };
        valid.then_some(Frequency { every, at })
    }

    /// The canonical spelling (`every_day_at_5:00`, no leading zero on the hour).
    pub fn canonical(&self) -> String {
        match self.every {
            10 => "every_ten_minutes".to_string(),
            60 => format!("every_hour_at_{}", self.at),
            _ => format!("every_day_at_{}:{:02}", self.at / 60, self.at % 60),
        }
    }
}

/// One or two ASCII digits (so `4`, `04` and `00` parse, but not `+4` or `004`).
fn small_number(text: &str) -> Option<u32> {
    if text.is_empty() || text.len() > 2 || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse().ok()
}

/// The spelling of a remote `every`/`at` for state: the prior spelling when it means the
/// same, else the canonical one (or a descriptive one the Scheduler should never produce,
/// which then shows as a change in the plan).
fn frequency_for_state(prior: &str, every: u32, at: u32) -> String {
    match Frequency::from_remote(every, at) {
        Some(remote) if Frequency::parse(prior) == Some(remote) => prior.to_string(),
        Some(remote) => remote.canonical(),
        None => format!("unsupported_every_{every}_minutes_at_{at}"),
    }
}

/// The size in Heroku's spelling when it is a known size written in another case.
fn canonical_dyno_size(size: &str) -> String {
    DYNO_SIZES
        .iter()
        .find(|known| known.eq_ignore_ascii_case(size))
        .map_or_else(|| size.to_string(), |known| (*known).to_string())
}

fn invalid_frequency(frequency: &str) -> Diagnostics {
    Diagnostic::error(
        "Invalid value for frequency",
        format!("Expected {FREQUENCY_FORMS}; got {frequency:?}."),
    )
    .at(AttributePath::root("frequency"))
    .into()
}

impl SchedulerJobModel {
    fn desired(&self) -> Result<NewSchedulerJob, Diagnostics> {
        let frequency =
            Frequency::parse(&self.frequency).ok_or_else(|| invalid_frequency(&self.frequency))?;
        Ok(NewSchedulerJob {
            command: self.command.clone(),
            dyno_size: canonical_dyno_size(&self.dyno_size),
            every: frequency.every,
            at: frequency.at,
        })
    }

    /// Copies the remote job into the model, keeping equivalent spellings.
    fn absorb(&mut self, app_id: Uuid, job: &SchedulerJob) {
        self.id = Some(job.id.clone());
        self.app_id = Some(app_id.to_string());
        self.command = job.command.clone();
        self.frequency = frequency_for_state(&self.frequency, job.every, job.at.unwrap_or(0));
        if !self.dyno_size.eq_ignore_ascii_case(&job.dyno_size) {
            self.dyno_size = job.dyno_size.clone();
        }
    }
}

/// The `treeherder_scheduler_job` resource.
pub struct SchedulerJobResource;

/// The app UUID stored in state, else the app resolved by name or UUID.
async fn app_id_of(clients: &Clients, model: &SchedulerJobModel) -> Result<Uuid, Diagnostics> {
    if let Some(id) = model
        .app_id
        .as_deref()
        .and_then(|s| Uuid::parse_str(s).ok())
    {
        return Ok(id);
    }
    Ok(clients.heroku()?.resolve_app_id(&model.app).await?)
}

fn missing_id() -> Diagnostics {
    Diagnostic::error(
        "Scheduler job without an id",
        "The state has no job id; remove the resource from the state and import the job (`terraform import ADDRESS <app>:<job id>`).",
    )
    .into()
}

#[async_trait]
impl Resource for SchedulerJobResource {
    type Model = SchedulerJobModel;
    type Client = Clients;

    fn type_name(&self) -> &'static str {
        "treeherder_scheduler_job"
    }

    fn schema(&self) -> Result<Schema, SchemaDeriveError> {
        Schema::from_model::<SchedulerJobModel>()?.with_validator(
            "frequency",
            CheckFn::new(FREQUENCY_FORMS, |value: &Value| match value.as_str() {
                Some(text) if Frequency::parse(text).is_some() => Ok(()),
                Some(text) => Err(format!("Expected {FREQUENCY_FORMS}; got {text:?}.")),
                None => Err(format!("Expected a string: {FREQUENCY_FORMS}.")),
            }),
        )
    }

    /// `app` forces a replacement only when it names another app: the same app by its
    /// other identifier (or a renamed app) keeps the job.
    async fn modify_plan(
        &self,
        ctx: &Context<'_, Clients>,
        plan: &mut ResourcePlan,
    ) -> Result<(), Diagnostics> {
        let Some(prior_app) = plan
            .prior("app")
            .and_then(Value::as_str)
            .map(str::to_string)
        else {
            return Ok(());
        };
        let Some(new_app) = plan.config("app").as_str().map(str::to_string) else {
            // Not known until apply: it may be another app.
            plan.require_replace("app");
            return Ok(());
        };
        if new_app == prior_app {
            return Ok(());
        }
        let prior_id = plan
            .prior("app_id")
            .and_then(Value::as_str)
            .and_then(|s| Uuid::parse_str(s).ok());
        let heroku = ctx.try_client().and_then(|c| c.heroku().ok());
        let same_app = match (prior_id, heroku) {
            // Resolved once per name and process; an unknown app fails the plan here.
            (Some(prior_id), Some(heroku)) => heroku.resolve_app_id(&new_app).await? == prior_id,
            _ => false,
        };
        if !same_app {
            plan.require_replace("app");
        }
        Ok(())
    }

    async fn create(
        &self,
        ctx: &Context<'_, Clients>,
        mut plan: SchedulerJobModel,
    ) -> Result<SchedulerJobModel, Diagnostics> {
        let clients = ctx.client()?;
        let heroku = clients.heroku()?;
        let desired = plan.desired()?;
        let app_id = heroku.resolve_app_id(&plan.app).await?;
        let job = heroku.create_scheduler_job(app_id, &desired).await?;
        tfplugin::debug!("created scheduler job {} on {}", job.id, plan.app);
        plan.id = Some(job.id);
        plan.app_id = Some(app_id.to_string());
        Ok(plan)
    }

    async fn read(
        &self,
        ctx: &Context<'_, Clients>,
        mut state: SchedulerJobModel,
    ) -> Result<Option<SchedulerJobModel>, Diagnostics> {
        let clients = ctx.client()?;
        let heroku = clients.heroku()?;
        let job_id = state.id.clone().ok_or_else(missing_id)?;
        let app_id = match app_id_of(clients, &state).await {
            Ok(id) => id,
            Err(diags) => return Err(diags),
        };
        // Every job of the app is read through one shared, cached listing.
        let job = match heroku.scheduler_job(app_id, &job_id).await {
            Ok(job) => job,
            // The app itself is gone, and with it the job.
            Err(e) if e.is_not_found() => None,
            Err(e) => return Err(e.into()),
        };
        match job {
            Some(job) => {
                state.absorb(app_id, &job);
                Ok(Some(state))
            }
            None => {
                tfplugin::debug!("scheduler job {job_id} of {} is gone", state.app);
                Ok(None)
            }
        }
    }

    async fn update(
        &self,
        ctx: &Context<'_, Clients>,
        prior: SchedulerJobModel,
        mut plan: SchedulerJobModel,
    ) -> Result<SchedulerJobModel, Diagnostics> {
        let clients = ctx.client()?;
        let heroku = clients.heroku()?;
        let job_id = prior.id.clone().ok_or_else(missing_id)?;
        let app_id = app_id_of(clients, &prior).await?;
        let desired = plan.desired()?;
        // A change of spelling only (`04:30` for `4:30`, `app` by UUID) needs no request.
        if prior.desired().ok().as_ref() != Some(&desired) {
            heroku
                .update_scheduler_job(app_id, &job_id, &desired)
                .await?;
        }
        plan.id = Some(job_id);
        plan.app_id = Some(app_id.to_string());
        Ok(plan)
    }

    async fn delete(
        &self,
        ctx: &Context<'_, Clients>,
        state: SchedulerJobModel,
    ) -> Result<(), Diagnostics> {
        let clients = ctx.client()?;
        let heroku = clients.heroku()?;
        let Some(job_id) = state.id.clone() else {
            return Ok(());
        };
        let app_id = match app_id_of(clients, &state).await {
            Ok(id) => id,
            Err(diags) => return Err(diags),
        };
        match heroku.delete_scheduler_job(app_id, &job_id).await {
            Ok(()) => Ok(()),
            // Already deleted (in the dashboard, or by a lost first attempt): done.
            Err(e) if e.is_not_found() => Ok(()),
            Err(e) => Err(e.into()),
        }
    }

    async fn import(
        &self,
        _ctx: &Context<'_, Clients>,
        id: &str,
    ) -> Result<SchedulerJobModel, Diagnostics> {
        let parsed = id
            .split_once(':')
            .filter(|(app, job)| !app.is_empty() && !job.is_empty() && !job.contains(':'));
        let Some((app, job)) = parsed else {
            return Err(Diagnostic::error(
                "Invalid import id",
                format!("Expected `<app name or UUID>:<job id>`, e.g. `treeherder-prod:1007`; got {id:?}."),
            )
            .into());
        };
        // Read fills in the rest from the app's job list.
        Ok(SchedulerJobModel {
            app: app.to_string(),
            command: String::new(),
            frequency: String::new(),
            dyno_size: String::new(),
            id: Some(job.to_string()),
            app_id: None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_every_form_and_rejects_the_rest() {
        assert_eq!(
            Frequency::parse("every_ten_minutes"),
            Some(Frequency { every: 10, at: 0 })
        );
        for minute in [0, 10, 20, 30, 40, 50] {
            assert_eq!(
                Frequency::parse(&format!("every_hour_at_{minute}")),
                Some(Frequency {
                    every: 60,
                    at: minute
                })
            );
        }
        assert_eq!(
            Frequency::parse("every_day_at_4:30"),
            Some(Frequency {
                every: 1440,
                at: 270
            })
        );
        assert_eq!(
            Frequency::parse("every_day_at_04:30"),
            Frequency::parse("every_day_at_4:30")
        );
        assert_eq!(
            Frequency::parse("every_day_at_23:00"),
            Some(Frequency {
                every: 1440,
                at: 1380
            })
        );
        for bad in [
            "",
            "hourly",
            "every_hour_at_5",
            "every_hour_at_60",
            "every_hour_at_",
            "every_day_at_24:00",
            "every_day_at_4:15",
            "every_day_at_4:3",
            "every_day_at_4",
            "every_day_at_+4:00",
            "every_day_at_004:00",
            "every_ten_minutes ",
        ] {
            assert_eq!(Frequency::parse(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn canonical_round_trips_through_remote_values() {
        for every_at in [
            (10, 0),
            (60, 0),
            (60, 50),
            (1440, 0),
            (1440, 270),
            (1440, 1410),
        ] {
            let f = Frequency::from_remote(every_at.0, every_at.1).unwrap();
            assert_eq!(Frequency::parse(&f.canonical()), Some(f));
        }
        assert_eq!(
            Frequency::from_remote(1440, 300).unwrap().canonical(),
            "every_day_at_5:00"
        );
        assert_eq!(Frequency::from_remote(60, 5), None);
        assert_eq!(Frequency::from_remote(30, 0), None);
    }

    #[test]
    fn state_keeps_the_users_spelling_only_when_equivalent() {
        assert_eq!(
            frequency_for_state("every_day_at_04:30", 1440, 270),
            "every_day_at_04:30"
        );
        assert_eq!(
            frequency_for_state("every_day_at_04:30", 1440, 300),
            "every_day_at_5:00"
        );
        assert_eq!(frequency_for_state("", 60, 10), "every_hour_at_10");
        assert_eq!(
            frequency_for_state("every_ten_minutes", 15, 0),
            "unsupported_every_15_minutes_at_0"
        );
    }

    #[test]
    fn dyno_size_keeps_case_as_written_but_reports_real_changes() {
        let mut model = SchedulerJobModel {
            app: "treeherder-prod".into(),
            command: "x".into(),
            frequency: "every_ten_minutes".into(),
            dyno_size: "standard-2x".into(),
            id: None,
            app_id: None,
        };
        assert_eq!(model.desired().unwrap().dyno_size, "Standard-2X");
        let mut job = SchedulerJob {
            id: "7".into(),
            command: "y".into(),
            dyno_size: "Standard-2X".into(),
            every: 10,
            at: None,
            ran_at: None,
            created_at: None,
        };
        let app = Uuid::nil();
        model.absorb(app, &job);
        assert_eq!(model.dyno_size, "standard-2x");
        assert_eq!(model.command, "y");
        assert_eq!(model.id.as_deref(), Some("7"));
        job.dyno_size = "Performance-M".into();
        model.absorb(app, &job);
        assert_eq!(model.dyno_size, "Performance-M");
    }

    #[test]
    fn schema_derives_and_invalid_frequency_lists_the_forms() {
        SchedulerJobResource.schema().unwrap();
        let model = SchedulerJobModel {
            app: "a".into(),
            command: "c".into(),
            frequency: "daily".into(),
            dyno_size: default_dyno_size(),
            id: None,
            app_id: None,
        };
        let diags = model.desired().unwrap_err();
        let d = &diags.0[0];
        assert!(d.detail.contains("every_hour_at_<0|10|20|30|40|50>"));
        assert_eq!(d.attribute, Some(AttributePath::root("frequency")));
    }
}
