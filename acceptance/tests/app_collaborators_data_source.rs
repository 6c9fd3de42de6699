//! Data source `treeherder_app_collaborators` through real Terraform against an in-process
//! sandbox: it lists every collaborator of a team app (with permissions) and of a personal
//! app (without), and a configuration written from the lists, imported by the listed ids,
//! plans empty with no write to Heroku.
//!
//! Needs `.tools/bin/terraform` (`make tools`) and the provider binary
//! (`cargo build -p terraform-provider-treeherder`); without them the tests fail saying so.

mod listed_imports;

use acceptance::harness::{SandboxControl, SandboxWorld};
use listed_imports::list_then_adopt;
use reqwest::Method;
use serde_json::{json, Value};

/// Long enough for the harness to treat it as a secret and scan every log for it.
const API_KEY: &str = "collab-list-acceptance-key-7c2d88";
const TEAM_APP: &str = "treeherder-prod";
const PERSONAL_APP: &str = "treeherder-personal";

const HEADER: &str = r#"
terraform {
  required_providers {
    treeherder = { source = "treeherder/treeherder" }
  }
}

provider "treeherder" {}

data "treeherder_app_collaborators" "team" {
  app = "treeherder-prod"
}

data "treeherder_app_collaborators" "personal" {
  app = "treeherder-personal"
}

output "team" {
  value = data.treeherder_app_collaborators.team.collaborators
}

output "personal" {
  value = data.treeherder_app_collaborators.personal.collaborators
}
"#;

/// What the listing must say for `app`, from the sandbox's own records.
async fn expected(control: &SandboxControl, app: &str, team: bool) -> Vec<Value> {
    let mut out: Vec<Value> = control.app(app).await["collaborators"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .iter()
        .map(|c| {
            let email = c["email"].as_str().expect("email");
            let permissions = if team {
                let mut p: Vec<String> = c["permissions"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(|p| p.as_str().map(str::to_string))
                    .collect();
                p.sort();
                json!(p)
            } else {
                Value::Null
            };
            json!({"email": email, "permissions": permissions, "import_id": format!("{app}:{email}")})
        })
        .collect();
    out.sort_by(|a, b| a["email"].as_str().cmp(&b["email"].as_str()));
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lists_every_collaborator_and_the_listed_ids_import_with_an_empty_plan() {
    let world = SandboxWorld::start(API_KEY).await;
    let control = world.handle();
    // Invited by hand, with fewer permissions than the seeded admins.
    for (email, permissions) in [
        ("alice@mozilla.example", json!(["view"])),
        ("carol@contractor.example", json!(["view", "deploy"])),
    ] {
        control
            .heroku(
                Method::POST,
                &format!("/teams/apps/{TEAM_APP}/collaborators"),
                Some(json!({"user": email, "permissions": permissions})),
            )
            .await;
    }
    control
        .heroku(Method::POST, "/apps", Some(json!({"name": PERSONAL_APP})))
        .await;
    control
        .heroku(
            Method::POST,
            &format!("/apps/{PERSONAL_APP}/collaborators"),
            Some(json!({"user": "bob@mozilla.example"})),
        )
        .await;
    let team = expected(&control, TEAM_APP, true).await;
    let personal = expected(&control, PERSONAL_APP, false).await;
    assert_eq!(team.len(), 4, "two seeded admins and two invited: {team:?}");
    assert!(!personal.is_empty());

    // A configuration written from the listed values, imported by the listed ids.
    let mut config = HEADER.to_string();
    let mut imports = Vec::new();
    for (app, listed) in [(TEAM_APP, &team), (PERSONAL_APP, &personal)] {
        for (n, c) in listed.iter().enumerate() {
            let name = format!("{}_{n}", app.replace('-', "_"));
            let permissions = match &c["permissions"] {
                Value::Null => String::new(),
                p => format!("  permissions = {p}\n"),
            };
            config.push_str(&format!(
                "\nresource \"treeherder_app_collaborator\" \"{name}\" {{\n  app   = \"{app}\"\n  email = {}\n{permissions}}}\n",
                c["email"],
            ));
            imports.push((
                format!("treeherder_app_collaborator.{name}"),
                c["import_id"].as_str().unwrap_or_default().to_string(),
            ));
        }
    }
    list_then_adopt(
        &world,
        HEADER,
        vec![
            ("team", Value::Array(team.clone())),
            ("personal", Value::Array(personal.clone())),
        ],
        config,
        imports,
        "collaborators",
    )
    .await;
}
