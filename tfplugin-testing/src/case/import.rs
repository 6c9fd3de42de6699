//! Import steps: into a fresh working directory (compared with the previous state), or in
//! place (`state rm`, `import`, then plans that must be empty).

use serde_json::Value;

use crate::plan::Plan;
use crate::state::{flatten_attributes, State};
use crate::workspace::Workspace;

use super::run::{expect_failure, run_state_checks, StepRunner};
use super::step::{ImportStep, Step};

impl StepRunner<'_> {
    pub(super) async fn adopt(
        &mut self,
        work: &Workspace<'_>,
        step: &Step,
        config: &str,
    ) -> Result<(), String> {
        work.write_config(config).map_err(|e| e.to_string())?;
        work.init().await.map_err(|e| e.to_string())?;
        self.initialized = true;
        self.last_config = Some(config.to_string());
        for (address, id) in &step.adopt {
            let out = work.import(address, id).await.map_err(|e| e.to_string())?;
            if let Some(pattern) = &step.expect_error {
                if !out.success() {
                    return expect_failure(self.tf, &out, pattern);
                }
            }
            self.tf
                .require_success(out)
                .map_err(|e| format!("importing {address} as {id:?}: {e}"))?;
        }
        if let Some(pattern) = &step.expect_error {
            return Err(format!(
                "expected an error matching /{pattern}/, but every import succeeded"
            ));
        }
        for refresh in [false, true] {
            let plan = work.plan(refresh).await.map_err(|e| e.to_string())?;
            if plan.has_changes {
                return Err(format!(
                    "after adopting {} objects, the plan (refresh: {refresh}) was not empty:\n{}",
                    step.adopt.len(),
                    plan.text
                ));
            }
        }
        let state = work.state().await.map_err(|e| e.to_string())?;
        self.last_state = Some(state.clone());
        run_state_checks(step, state).await
    }

    pub(super) async fn import_in_place(
        &mut self,
        work: &Workspace<'_>,
        step: &Step,
        import: &ImportStep,
        config: &str,
    ) -> Result<(), String> {
        let address = &import.resource_address;
        let previous = self.last_state.clone().unwrap_or_default();
        let id = import_id(&previous, import)?;
        work.write_config(config).map_err(|e| e.to_string())?;
        work.init().await.map_err(|e| e.to_string())?;
        self.initialized = true;
        self.last_config = Some(config.to_string());
        let removed = work
            .run(&["state", "rm", address])
            .await
            .map_err(|e| e.to_string())?;
        self.tf
            .require_success(removed)
            .map_err(|e| e.to_string())?;
        let out = work.import(address, &id).await.map_err(|e| e.to_string())?;
        if let Some(pattern) = &step.expect_error {
            return expect_failure(self.tf, &out, pattern);
        }
        self.tf.require_success(out).map_err(|e| e.to_string())?;
        let imported = work.state().await.map_err(|e| e.to_string())?;
        self.last_state = Some(imported.clone());
        if import.verify {
            verify_import(&previous, &imported, import)?;
        }
        run_state_checks(step, imported).await?;
        if import.plan_may_change.is_empty() {
            for refresh in [false, true] {
                let plan = work.plan(refresh).await.map_err(|e| e.to_string())?;
                if plan.has_changes {
                    return Err(format!(
                        "after importing {address} as {id:?}, the plan (refresh: {refresh}) was not empty:\n{}",
                        plan.text
                    ));
                }
            }
            return Ok(());
        }
        let plan = work.plan_json(true).await.map_err(|e| e.to_string())?;
        only_updates_of(&plan, address, &import.plan_may_change)
            .map_err(|e| format!("after importing {address} as {id:?}: {e}"))
    }

    pub(super) async fn import_step(
        &mut self,
        index: usize,
        step: &Step,
        import: &ImportStep,
        config: &str,
    ) -> Result<(), String> {
        let dir = self
            .tf
            .workspace(&format!("import-{}", index + 1))
            .map_err(|e| e.to_string())?;
        dir.write_config(config).map_err(|e| e.to_string())?;
        dir.init().await.map_err(|e| e.to_string())?;
        let previous = self.last_state.clone().unwrap_or_default();
        let id = import_id(&previous, import)?;
        let out = dir
            .import(&import.resource_address, &id)
            .await
            .map_err(|e| e.to_string())?;
        if let Some(pattern) = &step.expect_error {
            return expect_failure(self.tf, &out, pattern);
        }
        self.tf.require_success(out).map_err(|e| e.to_string())?;
        let imported = dir.state().await.map_err(|e| e.to_string())?;
        if import.verify {
            verify_import(&previous, &imported, import)?;
        }
        run_state_checks(step, imported).await?;
        // The imported copy is discarded, not destroyed: it is the same real object the main
        // working directory destroys at the end.
        Ok(())
    }
}

/// The id an import step imports by: the given one, or the prefix and the previous `id`.
fn import_id(previous: &State, import: &ImportStep) -> Result<String, String> {
    if let Some(id) = &import.id {
        return Ok(id.clone());
    }
    let address = &import.resource_address;
    let id = previous.attr_str(address, "id").ok_or_else(|| {
        format!("no import id given and {address} has no id in the previous state")
    })?;
    Ok(format!("{}{id}", import.id_prefix))
}

/// Checks that `plan` changes nothing but `allowed` attributes of `address`, in place.
fn only_updates_of(plan: &Plan, address: &str, allowed: &[String]) -> Result<(), String> {
    for change in plan.effective_changes() {
        if change.address != address {
            return Err(format!(
                "the plan changes {} ({:?})",
                change.address, change.actions
            ));
        }
        if change.actions != ["update"] {
            return Err(format!(
                "the plan does {:?} to {address}, not an update in place",
                change.actions
            ));
        }
        let unexpected: Vec<String> = change
            .changed_attributes()
            .into_iter()
            .filter(|a| !allowed.contains(a))
            .collect();
        if !unexpected.is_empty() {
            return Err(format!(
                "the plan changes {unexpected:?} of {address}; only {allowed:?} may change"
            ));
        }
    }
    Ok(())
}

/// Compares the imported instance with the previous state's, attribute by attribute.
fn verify_import(previous: &State, imported: &State, import: &ImportStep) -> Result<(), String> {
    let address = &import.resource_address;
    let before = previous
        .resource(address)
        .ok_or_else(|| format!("import verify: {address} is not in the previous state"))?;
    let after = imported
        .resource(address)
        .ok_or_else(|| format!("import verify: {address} is not in the imported state"))?;
    let ignored = |key: &str| {
        import
            .ignore
            .iter()
            .map(String::as_str)
            .chain(["timeouts"])
            .any(|ign| key == ign || key.starts_with(&format!("{ign}.")))
    };
    let sensitive = flatten_attributes(&before.sensitive_values);
    let is_sensitive = |key: &str| {
        sensitive.iter().any(|(k, v)| {
            v == &Value::Bool(true) && (key == k || key.starts_with(&format!("{k}.")))
        })
    };
    let expected = flatten_attributes(&before.values);
    let actual = flatten_attributes(&after.values);
    let mut diffs = Vec::new();
    for key in expected.keys().chain(actual.keys()) {
        if ignored(key) || diffs.iter().any(|(k, _): &(String, String)| k == key) {
            continue;
        }
        let e = expected.get(key);
        let a = actual.get(key);
        if e != a {
            let show = |v: Option<&Value>| match v {
                None => "(absent)".to_string(),
                Some(_) if is_sensitive(key) => "(sensitive)".to_string(),
                Some(v) => v.to_string(),
            };
            diffs.push((
                key.clone(),
                format!("  {key}: state {} / imported {}", show(e), show(a)),
            ));
        }
    }
    if diffs.is_empty() {
        Ok(())
    } else {
        let lines: Vec<String> = diffs.into_iter().map(|(_, line)| line).collect();
        Err(format!(
            "import verify: imported {address} differs from the state (ignore list: {:?}):\n{}",
            import.ignore,
            lines.join("\n")
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn state(values: Value, sensitive: Value) -> State {
        State::from_json(json!({"values": {"root_module": {"resources": [
            {"address": "t.x", "mode": "managed", "type": "t", "values": values, "sensitive_values": sensitive}
        ]}}}))
    }

    #[test]
    fn import_verify_reports_differences_but_not_ignored_or_sensitive_values() {
        let previous = state(
            json!({"id": "1", "name": "a", "password": "pw-secret-1", "tags": {"k": "v"}}),
            json!({"password": true}),
        );
        let imported = state(
            json!({"id": "1", "name": "b", "password": "pw-secret-2", "tags": {}}),
            json!({"password": true}),
        );
        let import = ImportStep {
            resource_address: "t.x".into(),
            verify: true,
            ..ImportStep::default()
        };
        let err = verify_import(&previous, &imported, &import).unwrap_err();
        assert!(err.contains("name: state \"a\" / imported \"b\""), "{err}");
        assert!(err.contains("tags.%"), "{err}");
        assert!(err.contains("password: state (sensitive)"), "{err}");
        assert!(!err.contains("pw-secret"), "{err}");

        let import = ImportStep {
            ignore: vec!["name".into(), "password".into(), "tags".into()],
            ..import
        };
        verify_import(&previous, &imported, &import).unwrap();
    }

    #[test]
    fn the_plan_after_an_in_place_import_may_update_only_the_allowed_attributes() {
        let plan = |address: &str, actions: Value, after: Value| {
            Plan::from_json(json!({"resource_changes": [
                {"address": address, "change": {"actions": actions,
                    "before": {"id": "1", "password": null, "size": 1},
                    "after": after, "after_unknown": {}}},
                {"address": "t.other", "change": {"actions": ["no-op"], "before": {}, "after": {}, "after_unknown": {}}}
            ]}))
        };
        let allowed = vec!["password".to_string()];
        let password_only = json!({"id": "1", "password": "x", "size": 1});
        only_updates_of(
            &plan("t.x", json!(["update"]), password_only.clone()),
            "t.x",
            &allowed,
        )
        .unwrap();
        let err = only_updates_of(
            &plan(
                "t.x",
                json!(["update"]),
                json!({"id": "1", "password": "x", "size": 2}),
            ),
            "t.x",
            &allowed,
        )
        .unwrap_err();
        assert!(err.contains("[\"size\"]"), "{err}");
        let err = only_updates_of(
            &plan("t.x", json!(["delete", "create"]), password_only.clone()),
            "t.x",
            &allowed,
        )
        .unwrap_err();
        assert!(err.contains("not an update in place"), "{err}");
        let err = only_updates_of(
            &plan("t.y", json!(["update"]), password_only),
            "t.x",
            &allowed,
        )
        .unwrap_err();
        assert!(err.contains("t.y"), "{err}");
    }
}
