//! The Treeherder Terraform provider: API clients, resources and data sources.
//! It knows nothing of gRPC or msgpack: `tfplugin` serves it.

pub mod clients;
pub mod config;
pub mod data_sources;
pub mod ephemeral_resources;
mod diagnostics;
pub mod provider;
pub mod resources;
