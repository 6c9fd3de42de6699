//! Inputs that can only do harm are refused by `terraform plan`, at their attribute, saying
//! what is accepted: a zero duration in a `timeouts` block (of a `CreateTimeout` resource and
//! of a `Timeouts` one), and passwords longer than MySQL accepts.

use acceptance::harness::treeherder_case;
use acceptance::harness::{SandboxWorld, Service, Step, World, PROVIDER_CONFIG};
use regex::Regex;

const API_KEY: &str = "refused-at-plan-acceptance-key-5c21";

/// The Heroku sandbox's and MariaDB's settings, so only the refused value can fail the plan.
async fn env() -> (SandboxWorld, std::collections::BTreeMap<String, String>) {
    let sandbox = SandboxWorld::start(API_KEY).await;
    let mysql = World::require(&[Service::Mysql]);
    let mut env = mysql.env().clone();
    env.extend(sandbox.env());
    (sandbox, env)
}

/// The plan fails with `message` at the line `attribute = value`.
fn refused(hcl: String, attribute: &str, value: &str, message: &str) -> Step {
    Step::config(hcl).plan_only().expect_error(
        Regex::new(&format!(
            r"(?si){}\s*=\s*{}.*{message}",
            regex::escape(attribute),
            regex::escape(value)
        ))
        .expect("a valid pattern"),
    )
}

const ZERO: &str =
    r#"invalid\s+duration\s+"[0hms]+":\s+it\s+must\s+be\s+longer\s+than\s+zero,\s+e\.g\.\s+"90s""#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn zero_durations_are_refused_at_plan_at_the_attribute() {
    let (_sandbox, env) = env().await;
    let rollback = format!(
        r#"{PROVIDER_CONFIG}
resource "treeherder_release_rollback" "stage" {{
  app     = "treeherder-stage"
  release = "v1"
  timeouts {{
    create = "0s"
  }}
}}
"#
    );
    let password = format!(
        r#"{PROVIDER_CONFIG}
resource "treeherder_database_password" "stage" {{
  app = "treeherder-stage"
  timeouts {{
    update = "0h0m"
  }}
}}
"#
    );
    treeherder_case()
        .envs(env)
        .step(refused(rollback, "create", "\"0s\"", ZERO))
        .step(refused(password, "update", "\"0h0m\"", ZERO))
        .step(Step::config(PROVIDER_CONFIG))
        .run()
        .await;
}

const TOO_LONG: &str = r"at\s+most\s+256\s+are\s+accepted:\s+MySQL\s+8's\s+default\s+authentication\s+\(caching_sha2_password";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn passwords_longer_than_mysql_accepts_are_refused_at_plan_at_the_attribute() {
    let (_sandbox, env) = env().await;
    let mut case = treeherder_case().envs(env);
    for length in [257, 200_000] {
        let long = "x".repeat(length);
        let prefix = &long[..40];
        let message = format!(r"password\s+is\s+{length}\s+characters\s+long;\s+{TOO_LONG}");
        case = case
            .step(refused(
                format!(
                    r#"{PROVIDER_CONFIG}
resource "treeherder_database_password" "stage" {{
  app      = "treeherder-stage"
  password = "{long}"
}}
"#
                ),
                "password",
                &format!("\"{prefix}"),
                &message,
            ))
            .step(refused(
                format!(
                    r#"{PROVIDER_CONFIG}
resource "treeherder_readonly_user" "ro" {{
  name     = "refused_at_plan"
  password = "{long}"
}}
"#
                ),
                "password",
                &format!("\"{prefix}"),
                &message,
            ));
    }
    case.step(Step::config(PROVIDER_CONFIG)).run().await;
}
