#![warn(missing_docs)]
//! `tfplugin`: a Rust SDK for Terraform provider plugins (protocol 6).
//!
//! - [`server`]: the go-plugin handshake, mutual TLS and the gRPC services Terraform expects.
//! - [`value`]: cty values and their msgpack/JSON codecs.
//! - [`schema`]: schemas, derived from typed models.
//! - [`framework`]: the resource, data source and provider traits and the plan pipeline.
//! - [`validators`], [`modifiers`]: attribute behaviour as values.
//! - [`docs`]: Terraform Registry pages generated from the schemas, examples and templates.
//! - [`log`]: Terraform-style log lines with secrets masked.

// The `Model` derive names this crate `::tfplugin`, also in its own tests.
extern crate self as tfplugin;

pub mod cli;
pub mod diag;
pub mod docs;
pub mod framework;
pub mod function;
pub mod log;
pub mod modifiers;
pub mod proto;
pub mod schema;
mod sensitive;
pub mod server;
pub mod service;
pub mod types;
pub mod validators;
pub mod value;

pub use diag::{AttributePath, Diagnostic, Diagnostics, Severity};
pub use framework::Field;
pub use schema::model_json_schema;
pub use schema::ModelSettings;
pub use sensitive::{Sensitive, WriteOnly};
/// Derives [`ModelSettings`]: the Terraform-only facts of a model as `#[tf(...)]` flags the
/// compiler checks (see [`schema::AttributeSettings`] and [`schema::BlockSettings`] for each
/// flag, and the `tfplugin-derive` crate for the syntax).
pub use tfplugin_derive::Model;

/// What exported macros name, so a provider's own dependencies need not match.
#[doc(hidden)]
pub mod __private {
    pub use schemars;
    pub use serde;
}
