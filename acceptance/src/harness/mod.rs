//! Treeherder's acceptance world over the generic harness of [`tfplugin_testing`] (re-exported
//! here, so tests import one module): the provider under test and this project's settings
//! ([`treeherder_case`], [`settings`]: `TREEHERDER_TERRAFORM`, by default the 1.0.3 of
//! `make tools`; `make test` runs the acceptance tests with 1.0.3 and again with 1.11.4), the
//! local services ([`World`]: MariaDB, moto, the sandbox, failing with a message naming
//! `make up` when they are not running), an in-process sandbox per test ([`SandboxWorld`])
//! and moto's control ([`MotoControl`]).
//!
//! A case that needs Terraform >= 1.11 (write-only attributes, ephemeral resources) calls
//! [`TestCase::terraform_latest`] (or [`terraform_latest_for`]): it then runs with
//! `$TREEHERDER_TERRAFORM_LATEST` in both runs, and fails when that is unset or too old.
//!
//! ```no_run
//! use acceptance::harness::plancheck::{expect_resource_action, ExpectedAction};
//! use acceptance::harness::{treeherder_case, Service, Step, World};
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
//! treeherder_case()
//!     .envs(world.env().clone())
//!     .step(Step::config(config).check(|state| {
//!         state.expect_attr("treeherder_heroku_app.web", "name", "treeherder-demo")
//!     }))
//!     .step(Step::import("treeherder_heroku_app.web").verify_import(["api_key"]))
//!     .step(
//!         Step::config(config.replace("demo", "demo2")).plan_checks([expect_resource_action(
//!             "treeherder_heroku_app.web",
//!             ExpectedAction::Update,
//!         )]),
//!     )
//!     .run()
//!     .await;
//! # }
//! ```

mod moto_world;
mod paths;
mod provider;
mod sandbox_world;
mod world;

pub use tfplugin_testing::*;

pub use moto_world::{
    xml_element, xml_elements, MotoControl, MotoError, MotoSnapshot, SnapshotSeed, SnapshotStatus,
    SnapshotType, RDS_PROVIDER_CONFIG,
};
pub use paths::{repo_root, settings, target_dir, terraform_binary, terraform_latest_binary};
pub use provider::{
    case_for, case_without_providers, heroku_provider_config, terraform_for, terraform_latest_for,
    treeherder_case, treeherder_provider, treeherder_provider_from, PROVIDER_CONFIG,
    TREEHERDER_SOURCE,
};
pub use sandbox_world::{SandboxControl, SandboxWorld};
pub use world::{Service, World, WorldError};
