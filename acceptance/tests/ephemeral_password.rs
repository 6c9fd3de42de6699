//! Ephemeral `treeherder_password` through real Terraform 1.11.4: a password is produced at
//! every run, satisfies the provider's password rules (checked by the configuration's own
//! postconditions), and nothing of it reaches the state or the saved plan. Feeding it to a
//! write-only attribute is proven in `readonly_user.rs`.

use acceptance::harness::treeherder_case;
use acceptance::harness::{Step, PROVIDER_CONFIG};
use regex::Regex;

/// Two passwords, checked by preconditions of a `terraform_data` (Terraform 1.11.4's
/// `show -json` crashes on check results of ephemeral resources' own postconditions): length,
/// alphabet, each character class, and that two draws differ.
const CONFIG: &str = r#"
ephemeral "treeherder_password" "default" {}

ephemeral "treeherder_password" "long" {
  length = 64
}

locals {
  a = ephemeral.treeherder_password.default.result
  b = ephemeral.treeherder_password.long.result
}

resource "terraform_data" "probe" {
  lifecycle {
    precondition {
      condition     = length(local.a) == 40 && length(local.b) == 64
      error_message = "the default length is 40, and 64 was asked"
    }
    precondition {
      condition     = can(regex("^[A-Za-z0-9._~-]+$", local.a)) && can(regex("^[A-Za-z0-9._~-]+$", local.b))
      error_message = "only letters, digits and - . _ ~"
    }
    precondition {
      condition = alltrue([
        for re in ["[A-Z]", "[a-z]", "[0-9]", "[._~-]"] : can(regex(re, local.a)) && can(regex(re, local.b))
      ])
      error_message = "one of every class"
    }
    precondition {
      condition     = local.a != substr(local.b, 0, 40)
      error_message = "two draws gave the same password"
    }
  }
}
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn passwords_are_generated_valid_and_never_stored() {
    treeherder_case()
        .terraform_latest()
        .step(
            Step::config(format!("{PROVIDER_CONFIG}{CONFIG}"))
                .plan_check(|plan| {
                    // Ephemeral resources have no place in a plan: only the probe is planned.
                    let changes = plan.resource_changes();
                    if changes.len() != 1 || plan.change("terraform_data.probe").is_none() {
                        return Err(format!("planned changes: {changes:?}"));
                    }
                    Ok(())
                })
                .check(|state| {
                    let raw = state.raw();
                    let resources = raw["values"]["root_module"]["resources"]
                        .as_array()
                        .cloned()
                        .unwrap_or_default();
                    if resources.len() != 1 || resources[0]["type"] != "terraform_data" {
                        return Err(format!("state resources: {resources:?}"));
                    }
                    if raw["checks"][0]["status"] != "pass" {
                        return Err(format!("preconditions: {}", raw["checks"]));
                    }
                    Ok(())
                }),
        )
        .run()
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lengths_below_thirty_are_refused_at_the_attribute() {
    let config = format!(
        "{PROVIDER_CONFIG}\nephemeral \"treeherder_password\" \"short\" {{\n  length = 29\n}}\n"
    );
    treeherder_case()
        .terraform_latest()
        .step(Step::config(config).plan_only().expect_error(
            Regex::new(r"(?s)Invalid value for length.*from 30 to 256, got 29").expect("regex"),
        ))
        // A valid configuration after the refused one, so the final destroy can run.
        .step(Step::config(format!(
            "{PROVIDER_CONFIG}\nephemeral \"treeherder_password\" \"short\" {{\n  length = 30\n}}\n"
        )))
        .run()
        .await;
}
