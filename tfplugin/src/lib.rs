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
pub use sensitive::{Sensitive, WriteOnly};
