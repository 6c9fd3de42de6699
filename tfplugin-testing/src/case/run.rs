//! Running one [`Step`]: write the configuration, init, plan to a file, plan checks, apply that
//! saved plan, state checks, then an empty non-refresh plan and an empty refreshed plan.

use regex::Regex;

use crate::plan::Plan;
use crate::state::State;
use crate::terraform::{CommandOutput, Terraform};
use crate::workspace::Workspace;

use super::step::Step;

/// The mutable progress of a case through its steps.
pub(super) struct StepRunner<'a> {
    pub(super) tf: &'a Terraform,
    pub(super) last_state: Option<State>,
    pub(super) last_config: Option<String>,
    pub(super) initialized: bool,
}

impl StepRunner<'_> {
    pub(super) async fn run_step(
        &mut self,
        work: &Workspace<'_>,
        index: usize,
        step: &Step,
    ) -> Result<(), String> {
        if let Some(hook) = &step.pre_step {
            hook.run()
                .await
                .map_err(|e| format!("pre_step hook: {e}"))?;
        }
        let config = step
            .config
            .clone()
            .or_else(|| self.last_config.clone())
            .ok_or("the first step needs a config")?;
        if !step.adopt.is_empty() {
            return self.adopt(work, step, &config).await;
        }
        if let Some(import) = &step.import {
            if import.in_place {
                return self.import_in_place(work, step, import, &config).await;
            }
            return self.import_step(index, step, import, &config).await;
        }

        work.write_config(&config).map_err(|e| e.to_string())?;
        if let Err(e) = work.init().await {
            // A config that does not even parse fails at init; that can be the expected error.
            let text = e.to_string();
            return match &step.expect_error {
                Some(pattern) if pattern.is_match(&text) => Ok(()),
                Some(pattern) => Err(format!(
                    "expected an error matching /{pattern}/, got:\n{text}"
                )),
                None => Err(text),
            };
        }
        self.initialized = true;
        self.last_config = Some(config);

        if let Some(pattern) = &step.expect_error {
            let out = if step.plan_only {
                work.run(&["plan", "-input=false", "-no-color"]).await
            } else if step.refresh_only {
                work.apply_refresh_only().await
            } else {
                // As applying steps do: the error may come from planning (then no file is
                // applied) or from applying the saved plan.
                let (file, planned) = work.plan_file(true).await.map_err(|e| e.to_string())?;
                if planned.success() {
                    after_plan(step).await?;
                    work.apply_plan_file(&file).await
                } else {
                    Ok(planned)
                }
            }
            .map_err(|e| e.to_string())?;
            expect_failure(self.tf, &out, pattern)?;
            self.last_state = Some(work.state().await.map_err(|e| e.to_string())?);
            return Ok(());
        }

        if step.destroy_plan {
            let out = work
                .run(&[
                    "plan",
                    "-destroy",
                    "-refresh=false",
                    "-input=false",
                    "-no-color",
                ])
                .await
                .map_err(|e| e.to_string())?;
            let out = self.tf.require_success(out).map_err(|e| e.to_string())?;
            expect_plan_output(step, &out.stdout)?;
            return self.refreshed_plan(work, step).await;
        }

        if step.plan_only {
            let plain = work.plan(false).await.map_err(|e| e.to_string())?;
            expect_plan_output(step, &plain.text)?;
            if plain.has_changes && !step.expect_non_empty_plan {
                return Err(format!(
                    "plan-only step: the non-refresh plan was not empty:\n{}",
                    plain.text
                ));
            }
            if !step.plan_checks.is_empty() {
                let plan = work.plan_json(true).await.map_err(|e| e.to_string())?;
                run_plan_checks(step, plan).await?;
            }
            return self.refreshed_plan(work, step).await;
        }

        // Every applying step applies a saved plan (`plan -out`, then `apply FILE`), as a
        // reviewed plan is applied in CI: what apply does must match what was planned, with
        // values the provider computed at plan time and write-only values Terraform evaluates
        // again at apply. A refresh-only apply has no plan of changes to save.
        let applied = if step.refresh_only {
            work.apply_refresh_only().await
        } else if !step.plan_checks.is_empty() {
            let (file, plan) = work.plan_to_file(true).await.map_err(|e| e.to_string())?;
            run_plan_checks(step, plan).await?;
            after_plan(step).await?;
            work.apply_plan_file(&file).await
        } else {
            let (file, planned) = work.plan_file(true).await.map_err(|e| e.to_string())?;
            self.tf
                .require_success(planned)
                .map_err(|e| e.to_string())?;
            after_plan(step).await?;
            work.apply_plan_file(&file).await
        }
        .map_err(|e| e.to_string())?;
        self.tf
            .require_success(applied)
            .map_err(|e| e.to_string())?;

        let state = work.state().await.map_err(|e| e.to_string())?;
        self.last_state = Some(state.clone());
        run_state_checks(step, state).await?;
        if !step.refresh_only {
            // Read must return exactly what apply stored: without a refresh nothing may change.
            let plain = work.plan(false).await.map_err(|e| e.to_string())?;
            if plain.has_changes {
                return Err(format!(
                    "after applying this step, the non-refresh plan was not empty:\n{}",
                    plain.text
                ));
            }
        }
        self.refreshed_plan(work, step).await
    }

    async fn refreshed_plan(&self, work: &Workspace<'_>, step: &Step) -> Result<(), String> {
        let refreshed = work.plan(true).await.map_err(|e| e.to_string())?;
        match (refreshed.has_changes, step.expect_non_empty_plan) {
            (true, false) => Err(format!(
                "after this step and a refresh, the plan was not empty:\n{}",
                refreshed.text
            )),
            (false, true) => {
                Err("expected a non-empty plan, but the refreshed plan was empty".to_string())
            }
            _ => Ok(()),
        }
    }
}

/// Runs the step's hook between saving its plan and applying it, if any.
async fn after_plan(step: &Step) -> Result<(), String> {
    match &step.after_plan {
        Some(hook) => hook
            .run()
            .await
            .map_err(|e| format!("after_plan hook: {e}")),
        None => Ok(()),
    }
}

/// Checks a plan-only step's plan text against its expected output, if any.
fn expect_plan_output(step: &Step, text: &str) -> Result<(), String> {
    match &step.expect_plan_output {
        Some(pattern) if !pattern.is_match(text) => Err(format!(
            "expected the plan to match /{pattern}/, it says:\n{text}"
        )),
        _ => Ok(()),
    }
}

/// Runs the step's plan checks in order, stopping at the first failure.
async fn run_plan_checks(step: &Step, plan: Plan) -> Result<(), String> {
    for check in &step.plan_checks {
        check
            .run(plan.clone())
            .await
            .map_err(|e| format!("plan check: {e}"))?;
    }
    Ok(())
}

/// Runs the step's state checks in order, stopping at the first failure.
pub(super) async fn run_state_checks(step: &Step, state: State) -> Result<(), String> {
    for check in &step.checks {
        check
            .run(state.clone())
            .await
            .map_err(|e| format!("check: {e}"))?;
    }
    Ok(())
}

pub(super) fn expect_failure(
    tf: &Terraform,
    out: &CommandOutput,
    pattern: &Regex,
) -> Result<(), String> {
    let combined = format!("{}\n{}", out.stdout, out.stderr);
    if out.success() {
        return Err(format!(
            "expected an error matching /{pattern}/, but terraform {} succeeded",
            out.command
        ));
    }
    if pattern.is_match(&combined) {
        Ok(())
    } else {
        Err(format!(
            "expected an error matching /{pattern}/, got:\n{}",
            tf.redact(&combined)
        ))
    }
}
