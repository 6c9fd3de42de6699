//! Generated protobuf messages and gRPC stubs for the protocols Terraform speaks
//! to a provider plugin.

/// Terraform's provider protocol, version 6.9 (package `tfplugin6`).
#[allow(missing_docs, clippy::all, clippy::pedantic)]
pub mod tfplugin6 {
    tonic::include_proto!("tfplugin6");
}

/// go-plugin's host-side services (package `plugin`): controller, stdio, broker.
#[allow(missing_docs, clippy::all, clippy::pedantic)]
pub mod plugin {
    tonic::include_proto!("plugin");
}
