//! Acceptance tests of Terraform providers driven by the real Terraform CLI, modelled on
//! terraform-plugin-testing's `TestCase`/`TestStep`, with what it lacks: an empty plan (without
//! and with refresh) after every step, and a scan of every TRACE log and captured output for
//! the case's sensitive values.
//!
//! A [`TestCase`] installs each [`ProviderUnderTest`] into a private filesystem mirror
//! ([`LocalMirror`]), runs every [`Step`] in one working directory (init, `plan -out` to a
//! file, plan checks, `apply` of that saved plan, state checks, then an empty non-refresh plan
//! and an empty refreshed plan), destroys
//! everything at the end, runs the destroy check and finally scans every log for secrets.
//! [`Settings`] say where Terraform is (`<PREFIX>_TERRAFORM`, `<PREFIX>_TERRAFORM_LATEST`) and
//! where case directories go; [`plancheck`], [`statecheck`] and [`CompareValue`] are the
//! library of checks. Tests that drive Terraform by hand use [`Terraform`] and [`Workspace`].
//!
//! Applying steps always apply a saved plan, as CI applies a plan reviewed on a pull request,
//! so every life-cycle test also shows the provider applies exactly what it planned. A step
//! that expects an error plans to a file and applies it only when planning succeeded, so an
//! error at plan and an error at apply are both caught. Refresh-only steps
//! (`apply -refresh-only`) and plan-only steps plan nothing to apply and run as before.
//!
//! ```no_run
//! use tfplugin_testing::plancheck::{expect_resource_action, ExpectedAction};
//! use tfplugin_testing::{statecheck, CompareValue, ProviderUnderTest, Settings, Step, TestCase};
//!
//! # async fn example() {
//! let config = r#"
//! terraform {
//!   required_providers {
//!     example = { source = "acme/example" }
//!   }
//! }
//! resource "example_thing" "web" { name = "demo" }
//! "#;
//! let id = CompareValue::same();
//! TestCase::new(ProviderUnderTest::new("acme/example", "target/debug/terraform-provider-example", "0.1.0"))
//!     .settings(Settings::with_prefix("ACME", ".run/tests"))
//!     .step(
//!         Step::config(config)
//!             .plan_checks([expect_resource_action("example_thing.web", ExpectedAction::Create)])
//!             .state_checks([
//!                 statecheck::expect_known_value("example_thing.web", "name", "demo"),
//!                 id.add("example_thing.web", "id"),
//!             ]),
//!     )
//!     .step(Step::import("example_thing.web").verify_import(["api_key"]))
//!     .step(
//!         Step::config(config.replace("demo", "demo2"))
//!             .plan_checks([expect_resource_action("example_thing.web", ExpectedAction::Update)])
//!             .state_checks([id.add("example_thing.web", "id")]),
//!     )
//!     .check_destroy(|state| state.expect_attr("example_thing.web", "name", "demo2"))
//!     .run()
//!     .await;
//! # }
//! ```

#![warn(missing_docs)]

mod case;
mod check;
mod diagnostics;
mod error;
mod mirror;
mod plan;
mod secrets;
mod settings;
mod state;
mod terraform;
mod workspace;

pub use case::{ImportStep, LogCheck, RunReport, Step, TestCase};
pub use check::{
    plancheck, statecheck, CheckError, CheckResult, CompareValue, Comparison, Hook, PlanCheck,
    StateCheck,
};
pub use diagnostics::{diagnostics_from_json_lines, Diagnostic, Severity, SourcePos, SourceRange};
pub use error::{HarnessError, Problem, TestFailure};
pub use mirror::{cli_config_text, LocalMirror, OtherProviders, ProviderUnderTest};
pub use plan::{plan_json, Action, Plan, ResourceChange};
pub use secrets::{scan_for_secrets, Leak, SecretScan};
pub use settings::{terraform_version, Settings, TerraformVersion, TERRAFORM_LATEST_MINIMUM};
pub use state::{flatten_attributes, ResourceState, State};
pub use terraform::{Background, CommandOutput, PlanOutcome, Terraform};
pub use workspace::Workspace;
