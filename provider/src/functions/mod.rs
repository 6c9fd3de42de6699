//! Provider-defined functions (Terraform ≥ 1.8): `provider::treeherder::<name>(…)`.

pub mod database_url;
pub mod readonly_grants;
