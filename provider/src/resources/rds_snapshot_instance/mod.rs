//! `treeherder_rds_snapshot_instance`: an RDS instance restored from a snapshot, set up as the
//! runbook's "Creating a temporary instance" says, in one apply; and the dev/stage reset, by
//! changing `reset_triggers`.
//!
//! "Latest" is resolved once, when the instance is planned for creation, and kept in
//! `restored_snapshot_id`: a newer nightly snapshot never plans a replacement, and the plan a
//! reviewer approves names the snapshot the apply restores.

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, SystemTime};

use async_trait::async_trait;
use tfplugin::framework::{Context, Resource, ResourcePlan};
use tfplugin::types::{quote, timeout_or, Timeouts};
use tfplugin::{attr, Diagnostic, Diagnostics, Field, Sensitive};

use crate::clients::mysql::Password;
use crate::clients::rds::{
    restore_token, Instance, ModifyRequest, RdsClient, RdsError, RestoreRequest, Settled,
    WaitLimits, RESTORE_TOKEN_TAG,
};
use crate::clients::timestamp::utc_seconds;
use crate::clients::Clients;
use crate::data_sources::rds_snapshot::{latest_snapshot, snapshot_type};

mod model;

pub use model::RdsSnapshotInstanceModel;
use model::{default_skip_final_snapshot, default_snapshot_type};

const DEFAULT_CREATE: Duration = Duration::from_secs(40 * 60);
const DEFAULT_UPDATE: Duration = Duration::from_secs(80 * 60);
const DEFAULT_DELETE: Duration = Duration::from_secs(60 * 60);
/// RDS for MySQL refuses longer master passwords.
const MAX_MASTER_PASSWORD: usize = 41;
/// Tags recording what forces a replacement, so an import can recover it.
const RESTORED_FROM_TAG: &str = "treeherder:restored-from";
const SOURCE_TAG: &str = "treeherder:source-instance";
const SNAPSHOT_TYPE_TAG: &str = "treeherder:snapshot-type";
const TRIGGERS_TAG: &str = "treeherder:reset-triggers";
/// The runbook's reminder to delete a temporary instance when its bug is closed.
const BUG_TAG: &str = "bug";
/// RDS's limit on a tag value.
const MAX_TAG_VALUE: usize = 256;

/// The `treeherder_rds_snapshot_instance` resource.
pub struct RdsSnapshotInstanceResource;

type Model = RdsSnapshotInstanceModel;

fn error_at(summary: &str, detail: String, at: tfplugin::AttributePath) -> Diagnostics {
    Diagnostic::error(summary, detail).at(at).into()
}

/// The password to set, if any: `master_password`, else `master_password_wo` (checked here
/// against the same rules, at its attribute).
fn configured_password(model: &Model) -> Result<Option<String>, Diagnostics> {
    if let Some(password) = model.master_password.get() {
        return Ok(Some(password.password().expose().to_owned()));
    }
    let Some(secret) = model.master_password_wo.get() else {
        return Ok(None);
    };
    let password = Password::new(secret.expose()).map_err(|e| {
        error_at(
            "Invalid password",
            e.to_string(),
            attr!(Model, master_password_wo),
        )
    })?;
    Ok(Some(password.expose().to_owned()))
}

fn limit(
    model: &Model,
    which: fn(&Timeouts) -> &Field<tfplugin::types::Duration>,
    default: Duration,
) -> Duration {
    model
        .timeouts
        .as_ref()
        .map_or(default, |t| timeout_or(which(t), default))
}

/// The tags that let an import recover what forces a replacement.
fn tags_of(model: &Model, snapshot: &str) -> BTreeMap<String, String> {
    let mut tags = BTreeMap::from([(RESTORED_FROM_TAG.to_owned(), snapshot.to_owned())]);
    if let Some(source) = model.source_instance.get() {
        tags.insert(SOURCE_TAG.to_owned(), source.clone());
        if let Some(kind) = model.snapshot_type.get() {
            tags.insert(SNAPSHOT_TYPE_TAG.to_owned(), kind.clone());
        }
    }
    if let Some(triggers) = model.reset_triggers.get() {
        // Too long for a tag: an import then shows the triggers as a change.
        if let Ok(json) = serde_json::to_string(triggers) {
            if json.len() <= MAX_TAG_VALUE {
                tags.insert(TRIGGERS_TAG.to_owned(), json);
            }
        }
    }
    if let Some(bug) = model.bug.get() {
        tags.insert(BUG_TAG.to_owned(), bug.to_string());
    }
    tags
}

/// The URL form of an endpoint for `DATABASE_URL`.
fn database_url(instance: &Instance, password: Option<&str>) -> Option<String> {
    let endpoint = instance.endpoint()?;
    let user = instance.master_username.as_deref()?;
    let database = instance.db_name.as_deref().unwrap_or("treeherder");
    Some(match password {
        Some(password) => format!("mysql://{user}:{password}@{endpoint}/{database}"),
        None => format!("mysql://{user}@{endpoint}/{database}"),
    })
}

/// Copies what RDS says into the model (configured settings included: a change made by hand
/// shows as drift).
fn fill(model: &mut Model, instance: &Instance) {
    model.id.set(instance.identifier.clone());
    model.arn.set(instance.arn.clone());
    model.status.set(instance.status.clone());
    model.instance_class.set(instance.class.clone());
    model.publicly_accessible.set(instance.publicly_accessible);
    model.db_subnet_group_name = instance.subnet_group.clone().into();
    model.parameter_group_name = instance
        .parameter_groups
        .first()
        .map(|g| g.name.clone())
        .into();
    model.vpc_security_group_ids.set(
        instance
            .security_group_ids
            .iter()
            .cloned()
            .collect::<BTreeSet<_>>(),
    );
    model.endpoint = instance.endpoint().into();
    model.address = instance.address.clone().into();
    model.port = instance.port.map(i64::from).into();
    model.master_username = instance.master_username.clone().into();
    if model.restored_snapshot_id.is_null() || model.restored_snapshot_id.is_unknown() {
        model.restored_snapshot_id = instance.tags.get(RESTORED_FROM_TAG).cloned().into();
    }
    let password = model
        .master_password
        .get()
        .map(|p| p.password().expose().to_owned());
    model.database_url = database_url(instance, password.as_deref())
        .map(Sensitive::new)
        .into();
}

/// What must change for `instance` to match `model`: only settings the model knows and RDS
/// differs on, plus `password` when one is to be set.
fn changes(model: &Model, instance: &Instance, password: Option<String>) -> ModifyRequest {
    let differs = |wanted: Option<&String>, actual: Option<&str>| {
        wanted.filter(|w| Some(w.as_str()) != actual).cloned()
    };
    let groups: Option<Vec<String>> = model
        .vpc_security_group_ids
        .get()
        .filter(|wanted| wanted.iter().cloned().collect::<Vec<_>>() != instance.security_group_ids)
        .map(|set| set.iter().cloned().collect());
    ModifyRequest {
        class: differs(model.instance_class.get(), Some(&instance.class)),
        security_group_ids: groups,
        publicly_accessible: model
            .publicly_accessible
            .get()
            .copied()
            .filter(|p| *p != instance.publicly_accessible),
        parameter_group: differs(
            model.parameter_group_name.get(),
            instance.parameter_groups.first().map(|g| g.name.as_str()),
        ),
        master_password: password,
    }
}

/// An error while the instance exists: returned as state plus an error, so Terraform records
/// the instance (tainted on create) instead of losing it.
fn keep_with_error(ctx: &Context<'_, Clients>, model: &mut Model, error: RdsError) {
    ctx.add(Diagnostic::error(
        "Amazon RDS error",
        tfplugin::log::mask(&error.to_string()),
    ));
    // Terraform takes no unknown value after an apply: what could not be read is null.
    fn known_or_null<T>(field: &mut Field<T>) {
        if field.is_unknown() {
            *field = Field::Null;
        }
    }
    for field in [
        &mut model.status,
        &mut model.id,
        &mut model.arn,
        &mut model.endpoint,
        &mut model.address,
        &mut model.master_username,
        &mut model.instance_class,
        &mut model.db_subnet_group_name,
        &mut model.parameter_group_name,
        &mut model.restored_snapshot_id,
    ] {
        known_or_null(field);
    }
    known_or_null(&mut model.port);
    known_or_null(&mut model.publicly_accessible);
    known_or_null(&mut model.vpc_security_group_ids);
    known_or_null(&mut model.database_url);
}

/// The snapshot to restore: the planned one, `snapshot_identifier`, or the latest of
/// `source_instance`.
async fn snapshot_to_restore(rds: &RdsClient, model: &Model) -> Result<String, Diagnostics> {
    if let Some(id) = model.restored_snapshot_id.get() {
        return Ok(id.clone());
    }
    if let Some(id) = model.snapshot_identifier.get() {
        return Ok(id.clone());
    }
    let source = model.source_instance.value()?;
    let kind = snapshot_type(model.snapshot_type.as_str().unwrap_or("automated"));
    let snapshot = latest_snapshot(rds, source, kind, attr!(Model, source_instance)).await?;
    Ok(snapshot.id)
}

impl RdsSnapshotInstanceResource {
    /// Restores `snapshot` as the planned instance, tagged with `token`.
    async fn restore(
        &self,
        rds: &RdsClient,
        plan: &Model,
        snapshot: &str,
        token: &str,
    ) -> Result<(), Diagnostics> {
        let id = plan.identifier.value()?.clone();
        let request = RestoreRequest {
            identifier: id.clone(),
            snapshot: snapshot.to_owned(),
            class: plan.instance_class.get().cloned(),
            subnet_group: plan.db_subnet_group_name.get().cloned(),
            publicly_accessible: plan.publicly_accessible.get().copied(),
            parameter_group: plan.parameter_group_name.get().cloned(),
            security_group_ids: plan
                .vpc_security_group_ids
                .get()
                .map(|s| s.iter().cloned().collect()),
            tags: tags_of(plan, snapshot),
        };
        tfplugin::info!("restoring {id} from the snapshot {snapshot}");
        match rds.restore(&request, token).await {
            Err(RdsError::AlreadyExists { .. }) => Err(error_at(
                "DB instance already exists",
                format!(
                    "Another RDS instance named {} appeared during the apply.",
                    quote(&id)
                ),
                attr!(Model, identifier),
            )),
            other => other.map_err(Into::into),
        }
    }

    /// Waits until the instance settles (rebooting it for a parameter group when needed)
    /// and copies it into `model`; an error leaves the model saying what exists.
    async fn settle(
        &self,
        ctx: &Context<'_, Clients>,
        rds: &RdsClient,
        model: &mut Model,
        limits: WaitLimits,
    ) -> Result<Option<Instance>, ()> {
        let id = model.identifier.as_str().unwrap_or_default().to_owned();
        let stop = || ctx.stopped();
        match rds.wait_available(&id, limits, &stop).await {
            Ok(instance) => {
                fill(model, &instance);
                Ok(Some(instance))
            }
            Err(error) => {
                if let Ok(Some(instance)) = rds.instance(&id).await {
                    fill(model, &instance);
                }
                keep_with_error(ctx, model, error);
                Err(())
            }
        }
    }
}

#[async_trait]
impl Resource for RdsSnapshotInstanceResource {
    type Model = Model;
    type Client = Clients;

    fn type_name(&self) -> &'static str {
        "treeherder_rds_snapshot_instance"
    }

    fn validate(&self, config: &Model, diagnostics: &mut Diagnostics) {
        let unset = |f: &Field<String>| f.is_null();
        // Neither is refused only when the instance is to be restored (modify_plan): an
        // instance restored by hand and adopted has no recorded source.
        if !unset(&config.source_instance) && !unset(&config.snapshot_identifier) {
            diagnostics.push(
                Diagnostic::error(
                    "Conflicting snapshot settings",
                    "Set only one of `source_instance` and `snapshot_identifier`.",
                )
                .at(attr!(Model, snapshot_identifier)),
            );
        }
        if !config.master_password.is_null() && !config.master_password_wo.is_null() {
            diagnostics.push(
                Diagnostic::error(
                    "Conflicting passwords",
                    "Set only one of `master_password` and `master_password_wo`.",
                )
                .at(attr!(Model, master_password_wo)),
            );
        }
        if config.master_password_wo.is_null() != config.master_password_wo_version.is_null() {
            diagnostics.push(
                Diagnostic::error(
                    "master_password_wo and master_password_wo_version go together",
                    "Set `master_password_wo_version` with `master_password_wo`, and change it \
                     to set the password again.",
                )
                .at(attr!(Model, master_password_wo_version)),
            );
        }
        let lengths = [
            (
                config
                    .master_password
                    .get()
                    .map(|p| p.password().expose().len()),
                attr!(Model, master_password),
            ),
            (
                config.master_password_wo.get().map(|p| p.expose().len()),
                attr!(Model, master_password_wo),
            ),
        ];
        for (_, at) in lengths
            .into_iter()
            .filter(|(len, _)| len.is_some_and(|n| n > MAX_MASTER_PASSWORD))
        {
            diagnostics.push(
                Diagnostic::error(
                    "Password too long",
                    format!(
                        "RDS for MySQL takes master passwords of at most \
                         {MAX_MASTER_PASSWORD} characters."
                    ),
                )
                .at(at),
            );
        }
    }

    async fn modify_plan(
        &self,
        ctx: &Context<'_, Clients>,
        plan: &mut ResourcePlan<Model>,
    ) -> Result<(), Diagnostics> {
        if let Some(prior) = &plan.prior {
            // A new password changes the URL that holds it.
            if prior.master_password != plan.config.master_password {
                plan.planned.database_url.set_unknown();
            }
            return Ok(());
        }
        if plan.config.source_instance.is_null() && plan.config.snapshot_identifier.is_null() {
            return Err(error_at(
                "No snapshot to restore",
                "Creating (or replacing) the instance restores a snapshot: set `source_instance` \
                 (restore its latest available snapshot) or `snapshot_identifier` (restore that \
                 snapshot). Only an imported instance may have neither."
                    .to_string(),
                attr!(Model, source_instance),
            ));
        }
        plan.planned.id = plan.config.identifier.clone();
        // Resolve the snapshot now, so the plan shows which one the apply restores.
        if let Some(id) = plan.config.snapshot_identifier.get() {
            plan.planned.restored_snapshot_id.set(id.clone());
            return Ok(());
        }
        let (Some(source), Some(kind)) = (
            plan.config.source_instance.as_str(),
            plan.planned.snapshot_type.as_str(),
        ) else {
            return Ok(());
        };
        let Some(rds) = ctx.try_client() else {
            return Ok(());
        };
        let rds = rds.rds().await?;
        let snapshot = latest_snapshot(
            rds,
            source,
            snapshot_type(kind),
            attr!(Model, source_instance),
        )
        .await?;
        plan.planned.restored_snapshot_id.set(snapshot.id);
        Ok(())
    }

    async fn plan_destroy(
        &self,
        ctx: &Context<'_, Clients>,
        prior: &Model,
    ) -> Result<(), Diagnostics> {
        if prior.skip_final_snapshot.get() == Some(&true) {
            ctx.add(Diagnostic::warning(
                "No final snapshot",
                format!(
                    "Destroying deletes the RDS instance {} without a final snapshot \
                     (skip_final_snapshot = true).",
                    quote(prior.identifier.as_str().unwrap_or_default())
                ),
            ));
        }
        Ok(())
    }

    async fn create(
        &self,
        ctx: &Context<'_, Clients>,
        mut plan: Model,
    ) -> Result<Model, Diagnostics> {
        let rds = ctx.client()?.rds().await?;
        let id = plan.identifier.value()?.clone();
        let password = configured_password(&plan)?;
        let limits = WaitLimits::from_now(limit(&plan, |t| &t.create, DEFAULT_CREATE));
        let snapshot = snapshot_to_restore(rds, &plan).await?;
        let token = restore_token(&id, &snapshot);
        match rds.instance(&id).await? {
            None => self.restore(rds, &plan, &snapshot, &token).await?,
            // An earlier apply of this configuration restored it and was killed before
            // Terraform saved the state: carry on with that instance, never restore again.
            Some(existing) if existing.restored_with(&token) => tfplugin::info!(
                "{id} was restored from {snapshot} by an earlier apply of this configuration \
                 that did not finish; adopting it"
            ),
            Some(_) => {
                return Err(error_at(
                    "DB instance already exists",
                    format!(
                        "An RDS instance named {} already exists, and it was not restored from \
                         {} by this resource (its {RESTORE_TOKEN_TAG} tag is missing or is \
                         another identifier's or snapshot's). To manage it here, import it: \
                         terraform import <address> {id}",
                        quote(&id),
                        quote(&snapshot)
                    ),
                    attr!(Model, identifier),
                ));
            }
        }
        plan.restored_snapshot_id.set(snapshot);
        let Ok(Some(instance)) = self.settle(ctx, rds, &mut plan, limits).await else {
            return Ok(plan);
        };
        // The restore keeps the snapshot's password; whatever the restore did not take (moto,
        // for one, drops `publicly_accessible = false`) is set now too.
        let request = changes(&plan, &instance, password);
        if !request.is_empty() {
            if let Err(e) = rds.modify(&id, request).await {
                keep_with_error(ctx, &mut plan, e);
                return Ok(plan);
            }
            if self.settle(ctx, rds, &mut plan, limits).await.is_err() {
                return Ok(plan);
            }
        }
        Ok(plan)
    }

    async fn read(
        &self,
        ctx: &Context<'_, Clients>,
        mut state: Model,
    ) -> Result<Option<Model>, Diagnostics> {
        let rds = ctx.client()?.rds().await?;
        let id = state.identifier.value()?.clone();
        let Some(instance) = rds.instance(&id).await? else {
            return Ok(None);
        };
        fill(&mut state, &instance);
        Ok(Some(state))
    }

    async fn update(
        &self,
        ctx: &Context<'_, Clients>,
        prior: Model,
        mut plan: Model,
    ) -> Result<Model, Diagnostics> {
        let rds = ctx.client()?.rds().await?;
        let id = plan.identifier.value()?.clone();
        let limits = WaitLimits::from_now(limit(&plan, |t| &t.update, DEFAULT_UPDATE));
        let new_password = prior.master_password != plan.master_password
            || prior.master_password_wo_version != plan.master_password_wo_version;
        let password = if new_password {
            configured_password(&plan)?
        } else {
            None
        };
        let Some(instance) = rds.instance(&id).await? else {
            return Err(error_at(
                "DB instance not found",
                format!("The RDS instance {} no longer exists.", quote(&id)),
                attr!(Model, identifier),
            ));
        };
        if prior.bug != plan.bug {
            let result = match plan.bug.get() {
                Some(bug) => {
                    rds.tag(
                        &instance.arn,
                        &BTreeMap::from([(BUG_TAG.to_owned(), bug.to_string())]),
                    )
                    .await
                }
                None => rds.untag(&instance.arn, &[BUG_TAG]).await,
            };
            result?;
        }
        let request = changes(&plan, &instance, password);
        if request.is_empty() {
            fill(&mut plan, &instance);
            return Ok(plan);
        }
        if let Err(e) = rds.modify(&id, request).await {
            fill(&mut plan, &instance);
            keep_with_error(ctx, &mut plan, e);
            return Ok(plan);
        }
        // Errors are on ctx; the state says what exists either way.
        let _ = self.settle(ctx, rds, &mut plan, limits).await;
        Ok(plan)
    }

    async fn delete(&self, ctx: &Context<'_, Clients>, state: Model) -> Result<(), Diagnostics> {
        let rds = ctx.client()?.rds().await?;
        let id = state.identifier.value()?.clone();
        let limits = WaitLimits::from_now(limit(&state, |t| &t.delete, DEFAULT_DELETE));
        let final_snapshot = (state.skip_final_snapshot.get() != Some(&true)).then(|| {
            // `2026-12-02T10:00:00Z` → `20261202100000`: snapshot names take no colons.
            let at: String = utc_seconds(SystemTime::now())
                .chars()
                .filter(char::is_ascii_digit)
                .collect();
            format!("{id}-final-{at}")
        });
        match &final_snapshot {
            Some(name) => tfplugin::info!("deleting {id}, final snapshot {name}"),
            None => tfplugin::info!("deleting {id} without a final snapshot"),
        }
        if !rds.delete(&id, final_snapshot.as_deref()).await? {
            return Ok(());
        }
        let stop = || ctx.stopped();
        rds.wait(&id, Settled::Gone, limits, &stop).await?;
        Ok(())
    }

    async fn import(&self, ctx: &Context<'_, Clients>, id: &str) -> Result<Model, Diagnostics> {
        let rds = ctx.client()?.rds().await?;
        let Some(instance) = rds.instance(id).await? else {
            return Err(Diagnostic::error(
                "DB instance not found",
                format!("RDS has no instance named {}.", quote(id)),
            )
            .into());
        };
        let tag = |key: &str| instance.tags.get(key).cloned();
        let source = tag(SOURCE_TAG);
        let mut model = Model {
            identifier: Field::known(instance.identifier.clone()),
            snapshot_identifier: if source.is_none() {
                tag(RESTORED_FROM_TAG).into()
            } else {
                Field::Null
            },
            source_instance: source.into(),
            snapshot_type: tag(SNAPSHOT_TYPE_TAG).map_or_else(default_snapshot_type, Field::known),
            instance_class: Field::Null,
            db_subnet_group_name: Field::Null,
            publicly_accessible: Field::Null,
            parameter_group_name: Field::Null,
            vpc_security_group_ids: Field::Null,
            master_password: Field::Null,
            master_password_wo: Field::Null,
            master_password_wo_version: Field::Null,
            bug: tag(BUG_TAG).and_then(|b| b.parse().ok()).into(),
            reset_triggers: tag(TRIGGERS_TAG)
                .and_then(|t| serde_json::from_str(&t).ok())
                .into(),
            skip_final_snapshot: default_skip_final_snapshot(),
            id: Field::Null,
            restored_snapshot_id: Field::Null,
            arn: Field::Null,
            endpoint: Field::Null,
            address: Field::Null,
            port: Field::Null,
            master_username: Field::Null,
            status: Field::Null,
            database_url: Field::Null,
            timeouts: None,
        };
        fill(&mut model, &instance);
        Ok(model)
    }
}

#[cfg(test)]
mod tests;
