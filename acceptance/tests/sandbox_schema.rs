//! Checks the sandbox's resource shapes against Heroku's Platform API as declared by the npm
//! package `@heroku-cli/schema` (TypeScript declarations generated from Heroku's JSON
//! hyper-schema): same set of top-level keys as the resource's interface, and each value's
//! JSON type allowed by the field's declared type (following type aliases). `make tools`
//! installs the package into `.tools/heroku-schema/` (scripts/install-heroku-schema.sh);
//! `TREEHERDER_HEROKU_SCHEMA` may name another copy of its `lib/index.d.ts`. The package is
//! never part of the project, and without it this test fails.

mod heroku_schema;
mod sandbox_common;

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::time::Duration;

use heroku_schema::Declarations;
use reqwest::Method;
use sandbox_common::*;
use serde_json::{json, Value};

/// Where `scripts/install-heroku-schema.sh` puts the declarations, under the repository root.
const DECLARATIONS: &str = ".tools/heroku-schema/node_modules/@heroku-cli/schema/lib/index.d.ts";

/// The interface listing every resource under its hyper-schema definition name.
const INDEX: &str = "HerokuPlatformAPI";

/// Where Heroku's Platform API has moved on since the declarations were generated (2.0.1 is
/// the package's latest release): fields the API returns today that they do not declare yet,
/// as (resource, field). The sandbox returns them; their types cannot be checked here. Each
/// entry must still be missing from the declarations, so a newer package prunes this list.
const NOT_YET_DECLARED: &[(&str, &str)] = &[
    ("app", "generation"),
    ("release", "artifacts"),
    ("release", "eligible_for_rollback"),
    ("formation", "dyno_size"),
    ("pipeline", "generation"),
    ("dyno-size", "architecture"),
    ("dyno-size", "generation"),
];

/// Fields the declarations still have that the Platform API no longer returns, as
/// (resource, field). Each entry must still be declared.
const NO_LONGER_RETURNED: &[(&str, &str)] = &[("dyno-size", "dyno_units")];

fn schema() -> Declarations {
    let path = std::env::var_os("TREEHERDER_HEROKU_SCHEMA")
        .map(PathBuf::from)
        .unwrap_or_else(|| acceptance::harness::repo_root().join(DECLARATIONS));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "Heroku Platform API declarations (npm package @heroku-cli/schema) not readable at {} \
             ({e}): run `make tools` to install them, or set TREEHERDER_HEROKU_SCHEMA to a copy \
             of the package's lib/index.d.ts",
            path.display()
        )
    });
    Declarations::parse(&text)
        .unwrap_or_else(|e| panic!("cannot read the declarations in {}: {e}", path.display()))
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

fn check(schema: &Declarations, definition: &str, ours: &Value) -> Vec<String> {
    let mut problems = Vec::new();
    let fields = schema
        .resource(INDEX, definition)
        .unwrap_or_else(|e| panic!("the declarations lack {definition}: {e}"));
    let declared: BTreeSet<&str> = fields.keys().map(String::as_str).collect();
    let listed = |list: &'static [(&str, &str)]| -> BTreeSet<&'static str> {
        list.iter()
            .filter(|(resource, _)| *resource == definition)
            .map(|(_, field)| *field)
            .collect()
    };
    let (not_yet, no_longer) = (listed(NOT_YET_DECLARED), listed(NO_LONGER_RETURNED));
    for field in not_yet.intersection(&declared) {
        problems.push(format!(
            "{definition}.{field} is declared now: remove it from NOT_YET_DECLARED"
        ));
    }
    for field in no_longer.difference(&declared) {
        problems.push(format!(
            "{definition}.{field} is no longer declared: remove it from NO_LONGER_RETURNED"
        ));
    }
    let theirs: BTreeSet<&str> = declared
        .difference(&no_longer)
        .chain(not_yet.iter())
        .copied()
        .collect();
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
    for (key, ty) in fields {
        let Some(value) = ours.get(key) else { continue };
        let Some(allowed) = schema.json_types(ty) else {
            continue;
        };
        let actual = json_type(value);
        if !allowed.contains(actual) {
            problems.push(format!(
                "{definition}.{key}: {actual} not in {allowed:?} ({value})"
            ));
        }
    }
    problems
}

#[tokio::test]
async fn resources_match_the_platform_api_declarations() {
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
            "team-app-collaborator",
            f.get_json(&format!("/teams/apps/{STAGE}/collaborators"))
                .await[0]
                .clone(),
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
