//! Proves the acceptance harness against the real Terraform without any provider (1.0.3, and
//! 1.11.4 in `make test`'s second run): init, apply, state checks, the empty-plan rules,
//! expected errors, plan checks, destroy and the secret scan (including that it catches a
//! leak), and that [`TestCase::terraform_latest`] runs Terraform >= 1.11.
//!
//! Needs `.tools/bin/terraform` and, for the latter, `$TREEHERDER_TERRAFORM_LATEST` (both from
//! `make tools`); without them the tests fail with that hint.

use acceptance::harness::case_without_providers;
use acceptance::harness::{Problem, Step};
use regex::Regex;
use serde_json::json;

const SECRET: &str = "smoke-secret-7f3a9c1e5b2d";

fn outputs_config(greeting: &str) -> String {
    format!(
        r#"
locals {{
  greeting = "{greeting}"
  secret   = "{SECRET}"
}}

output "greeting" {{
  value = local.greeting
}}

output "length" {{
  value = length(local.greeting)
}}

output "token" {{
  value     = local.secret
  sensitive = true
}}
"#
    )
}

#[tokio::test]
async fn applies_checks_plans_empty_destroys_and_scans_logs() {
    let report = case_without_providers()
        .sensitive(SECRET)
        .step(Step::config(outputs_config("hello")).check(|state| {
            if state.output("greeting") != Some(json!("hello")) {
                return Err(format!("greeting output is {:?}", state.output("greeting")));
            }
            if state.output("length") != Some(json!(5)) {
                return Err(format!("length output is {:?}", state.output("length")));
            }
            Ok(())
        }))
        .step(
            Step::config(outputs_config("hello, world"))
                .plan_check(|plan| {
                    let actions = &plan.raw()["output_changes"]["greeting"]["actions"];
                    if actions == &json!(["update"]) {
                        Ok(())
                    } else {
                        Err(format!("greeting output change actions: {actions}"))
                    }
                })
                .check(|state| match state.output("greeting") {
                    Some(v) if v == json!("hello, world") => Ok(()),
                    other => Err(format!("greeting output is {other:?}")),
                }),
        )
        .step(Step::refresh())
        .run()
        .await;
    assert_eq!(report.steps, 3);
    assert_eq!(report.secrets_checked, 1);
    // init/apply/plan/plan per step plus destroy, each with a TRACE log, stdout and stderr.
    assert!(
        report.files_scanned >= 30,
        "scanned only {} files",
        report.files_scanned
    );
    assert!(
        report.bytes_scanned > 10_000,
        "scanned only {} bytes",
        report.bytes_scanned
    );
}

#[tokio::test]
async fn secret_scan_catches_a_value_printed_in_plain_output() {
    let leaking = format!("output \"leaked\" {{\n  value = \"{SECRET}\"\n}}\n");
    let failure = case_without_providers()
        .sensitive(SECRET)
        .step(Step::config(leaking))
        .try_run()
        .await
        .expect_err("a non-sensitive output holding the secret must fail the scan");
    assert!(!failure.has_step_failure(), "{failure}");
    let leaks = failure.leaks();
    assert!(!leaks.is_empty(), "{failure}");
    assert!(
        leaks
            .iter()
            .any(|l| l.file.to_string_lossy().ends_with("-apply.stdout")),
        "the apply output prints the value: {failure}"
    );
    let message = failure.to_string();
    assert!(
        !message.contains(SECRET),
        "the report must not quote the secret"
    );
    assert!(message.contains("sensitive value #0"), "{message}");
    let kept = failure.kept_dir.expect("a failed case keeps its files");
    assert!(kept.join("logs").is_dir());
    std::fs::remove_dir_all(kept).unwrap();
}

#[tokio::test]
async fn expected_errors_pass_and_unexpected_success_fails() {
    case_without_providers()
        .step(
            Step::config("output \"x\" {\n  value = local.missing\n}\n")
                .expect_error(Regex::new("undeclared local value").unwrap()),
        )
        .step(
            Step::config("output \"broken\" {\n  value = \n").expect_error(
                Regex::new("(?i)argument or block definition required|invalid expression").unwrap(),
            ),
        )
        .step(Step::config(outputs_config("after the error")))
        .run()
        .await;

    let failure = case_without_providers()
        .step(
            Step::config(outputs_config("fine")).expect_error(Regex::new("never printed").unwrap()),
        )
        .try_run()
        .await
        .expect_err("a step expecting an error must fail when apply succeeds");
    assert!(
        matches!(&failure.problems[0], Problem::Step { step: 1, reason } if reason.contains("succeeded")),
        "{failure}"
    );
    if let Some(dir) = failure.kept_dir {
        std::fs::remove_dir_all(dir).unwrap();
    }
}

#[tokio::test]
async fn plan_only_steps_enforce_the_non_empty_plan_expectation() {
    // A changed output is a pending change, so a plan-only step sees a non-empty plan.
    case_without_providers()
        .step(Step::config(outputs_config("one")))
        .step(
            Step::config(outputs_config("two"))
                .plan_only()
                .expect_non_empty_plan(),
        )
        .step(Step::config(outputs_config("one")).plan_only())
        .run()
        .await;

    let failure = case_without_providers()
        .step(Step::config(outputs_config("one")))
        .step(Step::config(outputs_config("two")).plan_only())
        .try_run()
        .await
        .expect_err("an unexpected pending change must fail a plan-only step");
    assert!(
        matches!(&failure.problems[0], Problem::Step { step: 2, reason } if reason.contains("not empty")),
        "{failure}"
    );
    if let Some(dir) = failure.kept_dir {
        std::fs::remove_dir_all(dir).unwrap();
    }
}

#[tokio::test]
async fn a_panicking_check_fails_the_step_and_still_destroys() {
    let failure = case_without_providers()
        .step(
            Step::config(outputs_config("x")).check(|_| -> Result<(), String> {
                panic!("check exploded");
            }),
        )
        .check_destroy(|state| {
            // The destroy check receives the last state: outputs existed before destroy.
            match state.output("greeting") {
                Some(_) => Err("destroy check ran".to_string()),
                None => Ok(()),
            }
        })
        .try_run()
        .await
        .expect_err("a panicking check must fail the case");
    let text = failure.to_string();
    assert!(text.contains("check exploded"), "{text}");
    assert!(
        text.contains("destroy check ran"),
        "destroy and its check must still run: {text}"
    );
    if let Some(dir) = failure.kept_dir {
        std::fs::remove_dir_all(dir).unwrap();
    }
}

/// An ephemeral input variable is Terraform >= 1.10 syntax (1.0.3 rejects the argument), so
/// this passes only when `terraform_latest` really runs the recent Terraform, whatever
/// TREEHERDER_TERRAFORM says.
#[tokio::test]
async fn terraform_latest_runs_a_terraform_that_knows_ephemeral_variables() {
    let config = r#"
variable "session_token" {
  type      = string
  default   = "not-a-secret"
  ephemeral = true
}

output "ready" {
  value = "yes"
}
"#;
    case_without_providers()
        .terraform_latest()
        .step(
            Step::config(config).check(|state| match state.output("ready") {
                Some(value) if value == json!("yes") => Ok(()),
                other => Err(format!("ready output is {other:?}")),
            }),
        )
        .run()
        .await;
}
