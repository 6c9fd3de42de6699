//! The Treeherder Terraform provider: API clients, resources and data sources.
//! It knows nothing of gRPC or msgpack: `tfplugin` serves it.

pub mod clients;
pub mod config;
pub mod data_sources;
mod diagnostics;
pub mod ephemeral_resources;
pub mod functions;
pub mod provider;
pub mod resources;
