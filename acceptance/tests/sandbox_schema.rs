//! Checks the sandbox's resource shapes against Heroku's JSON hyper-schema: same set of
//! top-level keys as the definition's `properties`, and each value's JSON type allowed by
//! the property's `type` (following `$ref`s). The schema is read at test time from
//! `shared/heroku/platform-api-schema.json` beside the checkout (or $HEROKU_PLATFORM_SCHEMA);
//! it is never part of the project.

mod sandbox_common;

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::time::Duration;

use reqwest::Method;
use sandbox_common::*;
use serde_json::{json, Value};

fn schema() -> Value {
    let path = std::env::var_os("HEROKU_PLATFORM_SCHEMA")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            acceptance::harness::repo_root().join("../shared/heroku/platform-api-schema.json")
        });
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "Heroku platform schema not readable at {} ({e}); set HEROKU_PLATFORM_SCHEMA to its path",
            path.display()
        )
    });
    serde_json::from_str(&text).expect("schema is JSON")
}

/// Follows a `#/definitions/...` pointer.
fn resolve<'a>(schema: &'a Value, mut v: &'a Value) -> &'a Value {
    for _ in 0..10 {
        match v.get("$ref").and_then(Value::as_str) {
            Some(r) => match schema.pointer(r.trim_start_matches('#')) {
                Some(target) => v = target,
                None => return v,
            },
            None => return v,
        }
    }
    v
}

fn json_type(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(n) if n.is_i64() || n.is_u64() => "integer",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

fn check(schema: &Value, definition: &str, ours: &Value) -> Vec<String> {
    let mut problems = Vec::new();
    let def = &schema["definitions"][definition];
    let props = def["properties"]
        .as_object()
        .unwrap_or_else(|| panic!("schema has no definitions.{definition}.properties"));
    let theirs: BTreeSet<&str> = props.keys().map(String::as_str).collect();
    let mine: BTreeSet<&str> = ours
        .as_object()
        .unwrap_or_else(|| panic!("{definition}: not an object: {ours}"))
        .keys()
        .map(String::as_str)
        .collect();
    if theirs != mine {
        problems.push(format!(
            "{definition}: missing {:?}, extra {:?}",
            theirs.difference(&mine).collect::<Vec<_>>(),
            mine.difference(&theirs).collect::<Vec<_>>()
        ));
    }
    for (key, prop) in props {
        let Some(value) = ours.get(key) else { continue };
        let prop = resolve(schema, prop);
        let allowed: Vec<&str> = match &prop["type"] {
            Value::Array(types) => types.iter().filter_map(Value::as_str).collect(),
            Value::String(t) => vec![t.as_str()],
            _ => continue,
        };
        let actual = json_type(value);
        let ok = allowed.contains(&actual) || (actual == "integer" && allowed.contains(&"number"));
        if !ok {
            problems.push(format!(
                "{definition}.{key}: {actual} not in {allowed:?} ({value})"
            ));
        }
    }
    problems
}

#[tokio::test]
async fn resources_match_the_hyper_schema() {
    let schema = schema();
    let f = fixture().await;
    let app_id = f.app_id(STAGE).await;
    let pipeline = f.get_json("/pipelines/treeherder").await;
    let promotion: Value = f
        .heroku(Method::POST, "/pipeline-promotions")
        .json(&json!({
            "pipeline": { "id": pipeline["id"] },
            "source": { "app": { "id": app_id } },
            "targets": [ { "app": { "id": f.app_id(PROD).await } } ],
        }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let pid = promotion["id"].as_str().unwrap().to_string();
    eventually(Duration::from_secs(10), "promotion to complete", || async {
        let p = f.get_json(&format!("/pipeline-promotions/{pid}")).await;
        (p["status"] == "completed").then_some(())
    })
    .await;

    let samples = [
        ("app", f.get_json(&format!("/apps/{STAGE}")).await),
        (
            "release",
            f.get_json(&format!("/apps/{STAGE}/releases/3")).await,
        ),
        (
            "formation",
            f.get_json(&format!("/apps/{STAGE}/formation/web")).await,
        ),
        (
            "dyno",
            f.get_json(&format!("/apps/{STAGE}/dynos/web.1")).await,
        ),
        ("pipeline", pipeline.clone()),
        (
            "pipeline-coupling",
            f.get_json(&format!("/apps/{STAGE}/pipeline-couplings"))
                .await,
        ),
        (
            "pipeline-promotion",
            f.get_json(&format!("/pipeline-promotions/{pid}")).await,
        ),
        (
            "pipeline-promotion-target",
            f.get_json(&format!("/pipeline-promotions/{pid}/promotion-targets"))
                .await[0]
                .clone(),
        ),
        (
            "collaborator",
            f.get_json(&format!("/apps/{STAGE}/collaborators")).await[0].clone(),
        ),
        (
            "add-on",
            f.get_json(&format!("/apps/{STAGE}/addons")).await[0].clone(),
        ),
        ("account", f.get_json("/account").await),
        ("rate-limit", f.get_json("/account/rate-limits").await),
        ("dyno-size", f.get_json("/dyno-sizes/standard-1x").await),
    ];
    let problems: Vec<String> = samples
        .iter()
        .flat_map(|(def, value)| check(&schema, def, value))
        .collect();
    assert!(
        problems.is_empty(),
        "schema mismatches:\n{}",
        problems.join("\n")
    );
}
