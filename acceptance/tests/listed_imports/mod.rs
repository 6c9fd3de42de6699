//! Shared by the data source tests that adopt what a data source lists: apply the listing and
//! check its output, then adopt every listed id into a configuration written from the listed
//! values (empty plans, no write to the sandbox), through a [`TestCase`], which also scans every
//! log for the API key.

use acceptance::harness::{treeherder_case, SandboxControl, SandboxWorld, Step};
use serde_json::Value;

/// Applies `header` and expects each `(output, value)`, then adopts `imports` with `config`:
/// the plans after the imports are empty and nothing but GETs reached the sandbox. `what`
/// names the imported objects in the failure message.
pub async fn list_then_adopt(
    world: &SandboxWorld,
    header: &str,
    outputs: Vec<(&'static str, Value)>,
    config: String,
    imports: Vec<(String, String)>,
    what: &'static str,
) {
    let control = world.handle();
    let clear = control.clone();
    treeherder_case()
        .envs(world.env())
        .step(Step::config(header).check(move |state| {
            for (name, expected) in &outputs {
                let listed = state.output(name);
                if listed.as_ref() != Some(expected) {
                    return Err(format!(
                        "output {name}: expected {expected}, got {listed:?}"
                    ));
                }
            }
            Ok(())
        }))
        .step(
            Step::adopt(config, imports)
                .pre_step_async(move || {
                    let control = clear.clone();
                    async move {
                        control.clear_requests().await;
                        Ok::<(), String>(())
                    }
                })
                .check_async(move |_| {
                    let control = control.clone();
                    async move { no_writes(&control, what).await }
                }),
        )
        .run()
        .await;
}

async fn no_writes(control: &SandboxControl, what: &str) -> Result<(), String> {
    let writes = control.writes().await;
    if writes.is_empty() {
        Ok(())
    } else {
        Err(format!("adopting the listed {what} wrote: {writes:?}"))
    }
}
