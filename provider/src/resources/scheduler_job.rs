//! `treeherder_scheduler_job`: one Heroku Scheduler job of an app.
//!
//! The Scheduler stores a job's period as `every`/`at` minutes; users write a `frequency`
//! string (`every_day_at_4:30`). Read keeps the user's spelling (`4:30` vs `04:30`, dyno
//! size case) whenever the remote value means the same thing, so plans stay empty.

use std::sync::LazyLock;

use async_trait::async_trait;
use regex::{Match, Regex};
use schemars::{json_schema, JsonSchema};
use serde::{Deserialize, Serialize};
use tfplugin::framework::{Context, Resource, ResourcePlan};
use tfplugin::types::{quote, Uuid};
use tfplugin::{attr, Diagnostic, Diagnostics, Field};

use crate::clients::heroku::{AppIdentity, HerokuClient, NewSchedulerJob, SchedulerJob};
use crate::clients::Clients;
use crate::diagnostics::app_error_at;

/// The accepted frequency forms, as shown in diagnostics and docs.
pub const FREQUENCY_FORMS: &str = "every_ten_minutes, every_hour_at_<0|10|20|30|40|50>, or every_day_at_<H>:<00|30> with H from 0 to 23 (UTC), e.g. every_day_at_4:30";

/// The frequency grammar, also the attribute's JSON Schema `pattern`. Groups: the minute of
/// an hourly job; the hour and minute of a daily one. Hours and minutes take one or two
/// digits (`4`, `04`, `00`), never `+4` or `004`.
const FREQUENCY_PATTERN: &str =
    r"^(?:every_ten_minutes|every_hour_at_([0-5]?0)|every_day_at_([01]?[0-9]|2[0-3]):(00|30))$";

// `expect` on a constant, which every unit test of parsing compiles.
static FREQUENCY_REGEX: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(FREQUENCY_PATTERN).expect("FREQUENCY_PATTERN compiles"));

/// Dyno sizes the Scheduler accepts, in Heroku's spelling; a size written in another case is
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

fn default_dyno_size() -> Field<DynoSize> {
    Field::known("Standard-1X")
}

/// A Heroku Scheduler job: a command run in a one-off dyno every ten minutes, hourly or daily.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema, tfplugin::Model)]
pub struct SchedulerJobModel {
    /// The app running the job, by name (`treeherder-prod`) or UUID. Moving the job to another
    /// app replaces it; naming the same app differently (name ↔ UUID) changes nothing remotely.
    pub app: Field<AppIdentity>,
    /// The command run in a one-off dyno, e.g. `./manage.py cycle_data` (not blank).
    #[schemars(length(min = 1))]
    pub command: Field<String>,
    /// When the job runs (UTC): `every_ten_minutes`, `every_hour_at_<0|10|20|30|40|50>`
    /// (minutes past the hour) or `every_day_at_<H>:<00|30>` (H from 0 to 23, e.g.
    /// `every_day_at_4:30`; `04:30` is accepted and kept as written).
    pub frequency: Field<Frequency>,
    /// Dyno size of the one-off dyno: one of Heroku's sizes (`Free`, `Hobby`, `Basic`, `Eco`,
    /// `Standard-1X`, `Standard-2X`, `Performance-M`, `Performance-L`, `Private-S|M|L`,
    /// `Shield-S|M|L`; case as written is kept). Default `Standard-1X`.
    #[serde(default = "default_dyno_size")]
    pub dyno_size: Field<DynoSize>,
    /// The Scheduler's job id.
    #[tf(computed, use_state_for_unknown)]
    #[serde(default)]
    pub id: Field<String>,
    /// UUID of the app.
    #[tf(computed, use_state_for_unknown)]
    #[serde(default)]
    pub app_id: Field<Uuid>,
}

/// How often a job runs, as the Scheduler stores it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Schedule {
    /// Period in minutes: 10, 60 or 1440.
    pub every: u32,
    /// Minutes past the hour (hourly) or since 00:00 UTC (daily); 0 for every ten minutes.
    pub at: u32,
}

impl Schedule {
    /// The Scheduler's `every`/`at` as a schedule, if it is one the Scheduler offers.
    pub fn from_remote(every: u32, at: u32) -> Option<Schedule> {
        let valid = match every {
            10 => at == 0,
            60 => at < 60 && at.is_multiple_of(10),
            1440 => at < 1440 && at.is_multiple_of(30),
            _ => false,
        };
        valid.then_some(Schedule { every, at })
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

/// A job's frequency as the user wrote it (one of [`FREQUENCY_FORMS`]), with its schedule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Frequency {
    text: String,
    schedule: Schedule,
}

/// Why a frequency was rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("Expected {FREQUENCY_FORMS}; got {}.", quote(.0))]
pub struct FrequencyError(String);

impl Frequency {
    /// Parses one of [`FREQUENCY_FORMS`].
    pub fn parse(text: &str) -> Result<Frequency, FrequencyError> {
        let caps = FREQUENCY_REGEX
            .captures(text)
            .ok_or_else(|| FrequencyError(text.to_string()))?;
        let schedule = match (caps.get(1), caps.get(2), caps.get(3)) {
            (Some(minute), _, _) => Schedule {
                every: 60,
                at: digits(minute),
            },
            (None, Some(hour), Some(minute)) => Schedule {
                every: 1440,
                at: digits(hour) * 60 + digits(minute),
            },
            _ => Schedule { every: 10, at: 0 },
        };
        Ok(Frequency {
            text: text.to_string(),
            schedule,
        })
    }

    /// When the job runs.
    pub fn schedule(&self) -> Schedule {
        self.schedule
    }

    /// The text as written.
    pub fn as_str(&self) -> &str {
        &self.text
    }
}

/// The value of a group of ASCII digits matched by [`FREQUENCY_PATTERN`].
fn digits(group: Match<'_>) -> u32 {
    group
        .as_str()
        .bytes()
        .fold(0, |n, b| n * 10 + u32::from(b - b'0'))
}

impl From<Schedule> for Frequency {
    /// The schedule in its canonical spelling.
    fn from(schedule: Schedule) -> Self {
        Frequency {
            text: schedule.canonical(),
            schedule,
        }
    }
}

tfplugin::text_value!(
    Frequency,
    schema = json_schema!({
        "type": "string",
        "pattern": FREQUENCY_PATTERN,
        "examples": ["every_ten_minutes", "every_hour_at_30", "every_day_at_4:30"]
    })
);

/// A dyno size as written; a known one written in another case is sent in Heroku's spelling.
/// The configuration accepts only [`DYNO_SIZES`] (checked by `validate`); a size Heroku
/// reports is stored whatever it is, so that a state stays readable.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(transparent)]
pub struct DynoSize(String);

impl DynoSize {
    /// The size in Heroku's spelling when it is a known size written in another case.
    pub fn canonical(&self) -> &str {
        DYNO_SIZES
            .iter()
            .copied()
            .find(|known| known.eq_ignore_ascii_case(&self.0))
            .unwrap_or(&self.0)
    }

    /// True when this is one of [`DYNO_SIZES`], whatever the case.
    pub fn is_known(&self) -> bool {
        DYNO_SIZES
            .iter()
            .any(|known| known.eq_ignore_ascii_case(&self.0))
    }

    /// True when Heroku's `size` is this one, whatever the case.
    pub fn is(&self, size: &str) -> bool {
        self.0.eq_ignore_ascii_case(size)
    }

    /// The text as written.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl From<&str> for DynoSize {
    fn from(size: &str) -> Self {
        DynoSize(size.to_string())
    }
}

impl SchedulerJobModel {
    fn desired(&self) -> Result<NewSchedulerJob, Diagnostics> {
        let schedule = self.frequency.value()?.schedule();
        Ok(NewSchedulerJob {
            command: self.command.value()?.clone(),
            dyno_size: self.dyno_size.value()?.canonical().to_string(),
            every: schedule.every,
            at: schedule.at,
        })
    }

    /// Copies the remote job into the model, keeping equivalent spellings. A period the
    /// Scheduler should never report leaves `frequency` null (so the next plan sets it) and
    /// returns a warning.
    fn absorb(&mut self, app_id: uuid::Uuid, job: &SchedulerJob) -> Option<Diagnostic> {
        self.id.set(job.id.clone());
        self.app_id.set(app_id);
        self.command.set(job.command.clone());
        if !self
            .dyno_size
            .get()
            .is_some_and(|size| size.is(&job.dyno_size))
        {
            self.dyno_size.set(job.dyno_size.as_str());
        }
        let at = job.at.unwrap_or(0);
        match Schedule::from_remote(job.every, at) {
            Some(remote) if self.frequency.get().map(Frequency::schedule) == Some(remote) => None,
            Some(remote) => {
                self.frequency.set(remote);
                None
            }
            None => {
                self.frequency = Field::Null;
                Some(
                    Diagnostic::warning(
                        "Unsupported Scheduler frequency",
                        format!(
                            "The Scheduler runs job {} every {} minutes at minute {at}, which is none of {FREQUENCY_FORMS}; the next apply sets the configured frequency.",
                            job.id, job.every
                        ),
                    )
                    .at(attr!(SchedulerJobModel, frequency)),
                )
            }
        }
    }
}

/// The `treeherder_scheduler_job` resource.
pub struct SchedulerJobResource;

/// The app UUID stored in state, else the app resolved by name or UUID.
async fn app_id_of(
    clients: &Clients,
    model: &SchedulerJobModel,
) -> Result<uuid::Uuid, Diagnostics> {
    if let Some(id) = model.app_id.get() {
        return Ok(id.get());
    }
    Ok(clients
        .heroku()?
        .resolve_app_id(model.app.value()?.as_str())
        .await?)
}

/// The UUID of an existing app, or an error at `app` when Heroku does not know it.
async fn existing_app(heroku: &HerokuClient, app: &AppIdentity) -> Result<uuid::Uuid, Diagnostics> {
    let found = match app.uuid() {
        // A UUID needs no lookup to be used, but must name an app.
        Some(_) => heroku.app(app.as_str()).await.map(|a| a.id),
        None => heroku.resolve_app_id(app.as_str()).await,
    };
    found.map_err(|e| app_error_at(e, app.as_str(), attr!(SchedulerJobModel, app)))
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

    fn validate(&self, config: &SchedulerJobModel, diagnostics: &mut Diagnostics) {
        if config.command.as_str().is_some_and(|c| c.trim().is_empty()) {
            let path = attr!(SchedulerJobModel, command);
            diagnostics.push(
                Diagnostic::error(
                    format!("Invalid value for {path}"),
                    "The command is blank; give the command the one-off dyno runs, e.g. `./manage.py cycle_data`.",
                )
                .at(path),
            );
        }
        if let Some(size) = config.dyno_size.get().filter(|s| !s.is_known()) {
            let path = attr!(SchedulerJobModel, dyno_size);
            diagnostics.push(
                Diagnostic::error(
                    format!("Invalid value for {path}"),
                    format!(
                        "Expected one of Heroku's dyno sizes ({}; any case); got {}.",
                        DYNO_SIZES.join(", "),
                        quote(size.as_str())
                    ),
                )
                .at(path),
            );
        }
    }

    /// `app` forces a replacement only when it names another app: the same app by its
    /// other identifier (or a renamed app) keeps the job.
    async fn modify_plan(
        &self,
        ctx: &Context<'_, Clients>,
        plan: &mut ResourcePlan<SchedulerJobModel>,
    ) -> Result<(), Diagnostics> {
        let heroku = ctx.try_client().and_then(|c| c.heroku().ok());
        let Some(prior) = &plan.prior else {
            // A new job: its app must exist (checked when the provider is configured).
            if let (Some(heroku), Some(app)) = (heroku, plan.config.app.get()) {
                existing_app(heroku, app).await?;
            }
            return Ok(());
        };
        let Some(prior_app) = prior.app.get() else {
            return Ok(());
        };
        let prior_id = prior.app_id.get().map(Uuid::get);
        let same_app = match plan.config.app.get() {
            Some(new_app) if new_app == prior_app => return Ok(()),
            Some(new_app) => match (prior_id, heroku) {
                // Resolved once per name and process; an unknown app fails the plan here.
                (Some(prior_id), Some(heroku)) => existing_app(heroku, new_app).await? == prior_id,
                _ => false,
            },
            // Not known until apply: it may be another app.
            None => false,
        };
        if !same_app {
            plan.require_replace(attr!(SchedulerJobModel, app));
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
        let app = plan.app.value()?;
        let app_id = heroku.resolve_app_id(app.as_str()).await?;
        let job = heroku.create_scheduler_job(app_id, &desired).await?;
        tfplugin::debug!("created scheduler job {} on {app}", job.id);
        plan.id.set(job.id);
        plan.app_id.set(app_id);
        Ok(plan)
    }

    async fn read(
        &self,
        ctx: &Context<'_, Clients>,
        mut state: SchedulerJobModel,
    ) -> Result<Option<SchedulerJobModel>, Diagnostics> {
        let clients = ctx.client()?;
        let heroku = clients.heroku()?;
        let job_id = state.id.get().cloned().ok_or_else(missing_id)?;
        let app_id = app_id_of(clients, &state).await?;
        // Every job of the app is read through one shared, cached listing.
        let job = match heroku.scheduler_job(app_id, &job_id).await {
            Ok(job) => job,
            // The app itself is gone, and with it the job.
            Err(e) if e.is_not_found() => None,
            Err(e) => return Err(e.into()),
        };
        match job {
            Some(job) => {
                if let Some(warning) = state.absorb(app_id, &job) {
                    ctx.add(warning);
                }
                Ok(Some(state))
            }
            None => {
                tfplugin::debug!(
                    "scheduler job {job_id} of {} is gone",
                    state.app.get().map(AppIdentity::as_str).unwrap_or_default()
                );
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
        let job_id = prior.id.get().cloned().ok_or_else(missing_id)?;
        let app_id = app_id_of(clients, &prior).await?;
        let desired = plan.desired()?;
        // A change of spelling only (`04:30` for `4:30`, `app` by UUID) needs no request.
        if prior.desired().ok().as_ref() != Some(&desired) {
            heroku
                .update_scheduler_job(app_id, &job_id, &desired)
                .await?;
        }
        plan.id.set(job_id);
        plan.app_id.set(app_id);
        Ok(plan)
    }

    async fn delete(
        &self,
        ctx: &Context<'_, Clients>,
        state: SchedulerJobModel,
    ) -> Result<(), Diagnostics> {
        let clients = ctx.client()?;
        let heroku = clients.heroku()?;
        let Some(job_id) = state.id.get() else {
            return Ok(());
        };
        let app_id = app_id_of(clients, &state).await?;
        match heroku.delete_scheduler_job(app_id, job_id).await {
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
            .filter(|(_, job)| !job.is_empty() && !job.contains(':'))
            .and_then(|(app, job)| Some((AppIdentity::parse(app).ok()?, job)));
        let Some((app, job)) = parsed else {
            return Err(Diagnostic::error(
                "Invalid import id",
                format!(
                    "Expected `<app name or UUID>:<job id>`, e.g. `treeherder-prod:1007`; got {}.",
                    quote(id)
                ),
            )
            .into());
        };
        // Read fills in the rest from the app's job list.
        Ok(SchedulerJobModel {
            app: Field::known(app),
            command: Field::Null,
            frequency: Field::Null,
            dyno_size: Field::Null,
            id: Field::known(job),
            app_id: Field::Null,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn schedule(text: &str) -> Option<Schedule> {
        Frequency::parse(text).ok().map(|f| f.schedule())
    }

    fn job(every: u32, at: Option<u32>, dyno_size: &str) -> SchedulerJob {
        SchedulerJob {
            id: "7".into(),
            command: "y".into(),
            dyno_size: dyno_size.into(),
            every,
            at,
            ran_at: None,
            created_at: None,
        }
    }

    fn model(frequency: &str, dyno_size: &str) -> SchedulerJobModel {
        SchedulerJobModel {
            app: Field::known(AppIdentity::parse("treeherder-prod").unwrap()),
            command: Field::known("x"),
            frequency: Field::known(Frequency::parse(frequency).unwrap()),
            dyno_size: Field::known(dyno_size),
            id: Field::Null,
            app_id: Field::Null,
        }
    }

    #[test]
    fn parses_every_form_and_rejects_the_rest() {
        assert_eq!(
            schedule("every_ten_minutes"),
            Some(Schedule { every: 10, at: 0 })
        );
        for minute in [0, 10, 20, 30, 40, 50] {
            assert_eq!(
                schedule(&format!("every_hour_at_{minute}")),
                Some(Schedule {
                    every: 60,
                    at: minute
                })
            );
        }
        assert_eq!(schedule("every_hour_at_00"), schedule("every_hour_at_0"));
        assert_eq!(
            schedule("every_day_at_4:30"),
            Some(Schedule {
                every: 1440,
                at: 270
            })
        );
        assert_eq!(
            schedule("every_day_at_04:30"),
            schedule("every_day_at_4:30")
        );
        assert_eq!(
            schedule("every_day_at_23:00"),
            Some(Schedule {
                every: 1440,
                at: 1380
            })
        );
        assert_eq!(
            schedule("every_day_at_00:00"),
            Some(Schedule { every: 1440, at: 0 })
        );
        for bad in [
            "",
            "hourly",
            "every_hour_at_5",
            "every_hour_at_05",
            "every_hour_at_60",
            "every_hour_at_",
            "every_hour_at_010",
            "every_day_at_24:00",
            "every_day_at_4:15",
            "every_day_at_4:3",
            "every_day_at_4",
            "every_day_at_+4:00",
            "every_day_at_004:00",
            "every_ten_minutes ",
            "every_ten_minutes\n",
            " every_ten_minutes",
        ] {
            assert_eq!(schedule(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn keeps_the_spelling_and_lists_the_forms_when_rejecting() {
        let written = Frequency::parse("every_day_at_04:30").unwrap();
        assert_eq!(written.as_str(), "every_day_at_04:30");
        assert_eq!(
            serde_json::to_value(&written).unwrap(),
            serde_json::json!("every_day_at_04:30")
        );
        let err = serde_json::from_value::<Frequency>(serde_json::json!("daily")).unwrap_err();
        assert!(
            err.to_string()
                .contains("every_hour_at_<0|10|20|30|40|50>, or every_day_at_<H>:<00|30>"),
            "{err}"
        );
        assert!(err.to_string().ends_with("got \"daily\"."), "{err}");
        let long = Frequency::parse(&"x".repeat(10_000))
            .unwrap_err()
            .to_string();
        assert!(long.len() < 500, "{} bytes", long.len());
    }

    #[test]
    fn canonical_round_trips_through_remote_values() {
        for (every, at) in [
            (10, 0),
            (60, 0),
            (60, 50),
            (1440, 0),
            (1440, 270),
            (1440, 1410),
        ] {
            let remote = Schedule::from_remote(every, at).unwrap();
            assert_eq!(schedule(&remote.canonical()), Some(remote));
        }
        assert_eq!(
            Schedule::from_remote(1440, 300).unwrap().canonical(),
            "every_day_at_5:00"
        );
        assert_eq!(Schedule::from_remote(60, 5), None);
        assert_eq!(Schedule::from_remote(30, 0), None);
    }

    #[test]
    fn state_keeps_the_users_spelling_only_when_equivalent() {
        let app = uuid::Uuid::nil();
        let mut m = model("every_day_at_04:30", "Standard-1X");
        assert!(m
            .absorb(app, &job(1440, Some(270), "Standard-1X"))
            .is_none());
        assert_eq!(m.frequency.get().unwrap().as_str(), "every_day_at_04:30");
        assert!(m
            .absorb(app, &job(1440, Some(300), "Standard-1X"))
            .is_none());
        assert_eq!(m.frequency.get().unwrap().as_str(), "every_day_at_5:00");
        // Imported: no spelling yet.
        m.frequency = Field::Null;
        m.absorb(app, &job(60, Some(10), "Standard-1X"));
        assert_eq!(m.frequency.get().unwrap().as_str(), "every_hour_at_10");
        // A period the Scheduler should never report: null (a change at the next plan) and a warning.
        let warning = m.absorb(app, &job(15, None, "Standard-1X")).unwrap();
        assert!(m.frequency.is_null());
        assert!(
            warning.detail.contains("every 15 minutes"),
            "{}",
            warning.detail
        );
        assert_eq!(
            warning.attribute,
            Some(tfplugin::AttributePath::root("frequency"))
        );
    }

    #[test]
    fn dyno_size_keeps_case_as_written_but_reports_real_changes() {
        let mut m = model("every_ten_minutes", "standard-2x");
        assert_eq!(m.desired().unwrap().dyno_size, "Standard-2X");
        let app = uuid::Uuid::nil();
        m.absorb(app, &job(10, None, "Standard-2X"));
        assert_eq!(m.dyno_size.get().unwrap().as_str(), "standard-2x");
        assert_eq!(m.command.as_str(), Some("y"));
        assert_eq!(m.id.as_str(), Some("7"));
        assert_eq!(m.app_id.get().map(Uuid::get), Some(app));
        m.absorb(app, &job(10, None, "Performance-M"));
        assert_eq!(m.dyno_size.get().unwrap().as_str(), "Performance-M");
        assert_eq!(DynoSize::from("Custom-9X").canonical(), "Custom-9X");
    }

    #[test]
    fn blank_commands_unknown_sizes_and_bad_app_names_are_refused() {
        let mut diagnostics = Diagnostics::new();
        SchedulerJobResource.validate(&model("every_ten_minutes", "standard-2x"), &mut diagnostics);
        assert!(!diagnostics.has_errors());
        let mut bad = model("every_ten_minutes", "Huge-9X");
        bad.command = Field::known(" \t".to_string());
        SchedulerJobResource.validate(&bad, &mut diagnostics);
        let texts: Vec<String> = diagnostics
            .iter()
            .map(|d| format!("{}: {}", d.summary, d.detail))
            .collect();
        assert_eq!(texts.len(), 2, "{texts:?}");
        assert!(texts[0].starts_with("Invalid value for command: The command is blank"));
        assert!(
            texts[1].contains("Standard-1X, Standard-2X"),
            "{}",
            texts[1]
        );
        assert!(texts[1].ends_with("got \"Huge-9X\"."), "{}", texts[1]);
        for app in ["", "..", "Treeherder"] {
            let config =
                serde_json::json!({"app": app, "command": "x", "frequency": "every_ten_minutes"});
            let err = serde_json::from_value::<SchedulerJobModel>(config).unwrap_err();
            assert!(
                err.to_string().contains("lowercase letters"),
                "{app:?}: {err}"
            );
        }
    }

    #[test]
    fn schema_derives_with_the_frequency_pattern_and_default_size() {
        let schema = SchedulerJobResource.schema().unwrap();
        let frequency = schema.block.attribute("frequency").unwrap();
        assert!(frequency.required);
        assert_eq!(frequency.validators.len(), 1, "the pattern");
        let size = schema.block.attribute("dyno_size").unwrap();
        assert_eq!(
            size.default,
            Some(tfplugin::value::Value::String("Standard-1X".into()))
        );
        for name in ["id", "app_id"] {
            assert!(schema.block.attribute(name).unwrap().computed, "{name}");
        }
    }
}
