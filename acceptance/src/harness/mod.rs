//! End-to-end acceptance harness driving the real Terraform CLI against a locally built
//! provider, modelled on terraform-plugin-testing's `TestCase`/`TestStep`.
//!
//! Terraform is [`terraform_binary`] (`$TREEHERDER_TERRAFORM`, by default the 1.0.3 of
//! `make tools`); `make test` runs the acceptance tests with 1.0.3 and again with 1.11.4.
//! A case that needs Terraform >= 1.11 (write-only attributes, ephemeral resources) calls
//! [`TestCase::terraform_latest`] (or [`Terraform::latest`]): it then runs with
//! `$TREEHERDER_TERRAFORM_LATEST` in both runs, and fails when that is unset or too old.
//!
//! A [`TestCase`] installs each [`ProviderUnderTest`] into a private filesystem mirror, runs every
//! [`Step`] in a fresh working directory (init, apply, state checks, then an empty
//! non-refresh plan and an empty refreshed plan), destroys everything at the end, runs the
//! destroy check and finally scans every Terraform TRACE log and every captured stdout/stderr
//! for the case's sensitive values.
//!
//! Tests that need the local services (MariaDB, moto, the sandbox) load them with [`World`],
//! which fails with a message naming `make up` when they are not running. [`MotoControl`]
//! dates and adds RDS snapshots in the world's moto and reads its seed's expected answers.
//!
//! ```no_run
//! use acceptance::harness::{CheckResult, ProviderUnderTest, Service, Step, TestCase, World};
//!
//! # async fn example() {
//! let world = World::require(&[Service::Sandbox]);
//! let config = r#"
//! terraform {
//!   required_providers {
//!     treeherder = { source = "treeherder/treeherder" }
//!   }
//! }
//! resource "treeherder_heroku_app" "web" { name = "treeherder-demo" }
//! "#;
//! TestCase::new(ProviderUnderTest::treeherder())
//!     .envs(world.env().clone())
//!     .step(Step::config(config).check(|state| {
//!         state.expect_attr("treeherder_heroku_app.web", "name", "treeherder-demo")
//!     }))
//!     .step(Step::import("treeherder_heroku_app.web").verify_import(["api_key"]))
//!     .step(
//!         Step::config(config.replace("demo", "demo2"))
//!             .plan_check(|plan| -> CheckResult {
//!                 let change = plan.change("treeherder_heroku_app.web").ok_or("no change")?;
//!                 match change.changed_attributes().into_iter().collect::<Vec<_>>().as_slice() {
//!                     [only] if only == "name" => Ok(()),
//!                     other => Err(format!("unexpected changes: {other:?}").into()),
//!                 }
//!             }),
//!     )
//!     .check_destroy_async(|_last_state| async move {
//!         // e.g. ask the sandbox's control API that the app is gone
//!         Ok::<(), String>(())
//!     })
//!     .run()
//!     .await;
//! # }
//! ```

mod error;
mod moto_world;
mod paths;
mod plan;
mod provider;
mod sandbox_world;
mod secrets;
mod state;
mod terraform;
mod testcase;
mod world;

pub use error::{HarnessError, Problem, TestFailure};
pub use moto_world::{
    xml_element, xml_elements, MotoControl, MotoError, MotoSnapshot, SnapshotSeed, SnapshotStatus,
    SnapshotType, RDS_PROVIDER_CONFIG,
};
pub use paths::{
    repo_root, target_dir, terraform_binary, terraform_latest_binary, terraform_version,
    TERRAFORM_LATEST_MINIMUM,
};
pub use plan::{plan_json, Plan, ResourceChange};
pub use provider::{heroku_provider_config, ProviderUnderTest, PROVIDER_CONFIG};
pub use sandbox_world::{SandboxControl, SandboxWorld};
pub use secrets::{scan_for_secrets, Leak, SecretScan};
pub use state::{flatten_attributes, ResourceState, State};
pub use terraform::{Background, CommandOutput, PlanOutcome, Terraform, Workspace};
pub use testcase::{
    CheckError, CheckResult, Hook, ImportStep, PlanCheck, RunReport, StateCheck, Step,
    TerraformVersion, TestCase,
};
pub use world::{Service, World, WorldError};
