//! Heroku Platform API behaviour of the sandbox.

#[path = "../sandbox_common/mod.rs"]
mod sandbox_common;

use std::collections::BTreeSet;
use std::time::Duration;

use acceptance::sandbox::{SandboxConfig, DEFAULT_API_KEY};
use reqwest::Method;
use sandbox_common::*;
use serde_json::{json, Value};

/// The number of releases of `app`.
async fn release_count(f: &Fixture, app: &str) -> usize {
    f.get_json(&format!("/apps/{app}/releases"))
        .await
        .as_array()
        .unwrap()
        .len()
}

mod operations;
mod platform;
