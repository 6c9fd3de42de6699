//! Every importable resource type, imported into the configuration that made it, plans empty
//! (terraform-plugin-testing's ImportStateVerify rule, as a plan): create with a realistic
//! configuration, `terraform state rm`, `terraform import`, then plans with and without
//! refresh. Where a configured value cannot be read back (a password, `silent`, `triggers`,
//! `on_destroy`, `timeouts`…), the plan may update only that value in place, exactly as the
//! type's import docs say.
//!
//! Heroku types run against an in-process sandbox; `treeherder_readonly_user` and
//! `treeherder_database_password` need the world's MariaDB and the RDS type its moto
//! (`make up`). Run once with each Terraform (`TREEHERDER_TERRAFORM`).

mod mysql_common;

use acceptance::harness::treeherder_case;
use acceptance::harness::{
    heroku_provider_config, MotoControl, SandboxWorld, Service, SnapshotSeed, SnapshotStatus,
    SnapshotType, Step, TestCase, World, PROVIDER_CONFIG, RDS_PROVIDER_CONFIG,
};
use mysql_common::{admin_sql, password, unique};
use reqwest::Method;
use serde_json::{json, Value};

const API_KEY: &str = "import-verify-acceptance-key-6c20e9d4";

fn heroku_case(world: &SandboxWorld, resources: &str) -> (TestCase, String) {
    let config = format!("{}\n{resources}", heroku_provider_config(3, 5));
    let case = treeherder_case().envs(world.env());
    (case, config)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn formation_imports_web_concurrency() {
    let world = SandboxWorld::start(API_KEY).await;
    // The seed's WEB_CONCURRENCY is 5; the configuration sets another value.
    let (case, config) = heroku_case(
        &world,
        r#"
resource "treeherder_formation" "web" {
  app             = "treeherder-stage"
  type            = "web"
  quantity        = 3
  size            = "Standard-2X"
  web_concurrency = 4
}

resource "treeherder_formation" "log_parser" {
  app        = "treeherder-stage"
  type       = "worker_log_parser"
  quantity   = 3
  size       = "Performance-M"
  on_destroy = "scale_to_zero"
}
"#,
    );
    case.step(Step::config(config))
        .step(Step::reimport("treeherder_formation.web").import_id("treeherder-stage:web"))
        // `on_destroy` is this resource's choice, not Heroku's: import writes the default.
        .step(
            Step::reimport("treeherder_formation.log_parser")
                .import_id("treeherder-stage:worker_log_parser")
                .plan_may_change(["on_destroy"]),
        )
        .run()
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scheduler_job_imports() {
    let world = SandboxWorld::start(API_KEY).await;
    let (case, config) = heroku_case(
        &world,
        r#"
resource "treeherder_scheduler_job" "cycle_data" {
  app       = "treeherder-prod"
  command   = "./manage.py cycle_data"
  frequency = "every_day_at_4:30"
  dyno_size = "Standard-2X"
}

resource "treeherder_scheduler_job" "update_bugscache" {
  app       = "treeherder-prod"
  command   = "./manage.py update_bugscache"
  frequency = "every_hour_at_0"
}
"#,
    );
    case.step(Step::config(config))
        .step(
            Step::reimport("treeherder_scheduler_job.cycle_data")
                .import_id_prefix("treeherder-prod:"),
        )
        .step(
            Step::reimport("treeherder_scheduler_job.update_bugscache")
                .import_id_prefix("treeherder-prod:"),
        )
        .run()
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn config_vars_import() {
    const PULSE_AUTH: &str = "import-verify-pulse-secret-3e8a";
    let world = SandboxWorld::start(API_KEY).await;
    let vars = r#"
resource "treeherder_config_vars" "stage" {
  app = "treeherder-stage"
  vars = {
    NEW_RELIC_APP_NAME = "treeherder-stage"
    LOG_LEVEL          = "INFO"
  }
  sensitive_vars = {
    PULSE_AUTH = { value = "PULSE" }
  }
"#
    .replace("PULSE\"", &format!("{PULSE_AUTH}\""));
    let (case, config) = heroku_case(&world, &format!("{vars}}}\n"));
    let (_, with_timeouts) = heroku_case(
        &world,
        &format!("{vars}  timeouts {{\n    update = \"30m\"\n  }}\n}}\n"),
    );
    const ADDR: &str = "treeherder_config_vars.stage";
    case.sensitive(PULSE_AUTH)
        .step(Step::config(config))
        .step(Step::reimport(ADDR))
        // A timeouts block is the configuration's, never the remote object's.
        .step(Step::config(with_timeouts))
        .step(Step::reimport(ADDR).plan_may_change(["timeouts"]))
        .run()
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn app_collaborator_imports() {
    let world = SandboxWorld::start(API_KEY).await;
    let (case, config) = heroku_case(
        &world,
        r#"
resource "treeherder_app_collaborator" "alice" {
  app         = "treeherder-prod"
  email       = "alice@mozilla.example"
  permissions = ["view", "deploy", "operate"]
  silent      = true
}

resource "treeherder_app_collaborator" "bob" {
  app         = "treeherder-prod"
  email       = "bob@mozilla.example"
  permissions = ["view", "deploy", "operate", "manage"]
}
"#,
    );
    case.step(Step::config(config))
        .step(
            Step::reimport("treeherder_app_collaborator.bob")
                .import_id("treeherder-prod:bob@mozilla.example"),
        )
        // `silent` only matters when adding; Heroku does not record it.
        .step(
            Step::reimport("treeherder_app_collaborator.alice")
                .import_id("treeherder-prod:alice@mozilla.example")
                .plan_may_change(["silent"]),
        )
        .run()
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pipeline_promotion_imports() {
    let world = SandboxWorld::start(API_KEY).await;
    let resource = |triggers: &str| {
        format!(
            r#"
resource "treeherder_pipeline_promotion" "prod" {{
  pipeline   = "treeherder"
  source_app = "treeherder-stage"
  targets    = ["treeherder-prod"]
{triggers}}}
"#
        )
    };
    let (case, config) = heroku_case(&world, &resource(""));
    let (_, with_triggers) = heroku_case(
        &world,
        &resource(
            "  triggers = { commit = \"6e1b7c2a\" }\n  timeouts {\n    create = \"30m\"\n  }\n",
        ),
    );
    const ADDR: &str = "treeherder_pipeline_promotion.prod";
    case.step(Step::config(config))
        .step(Step::reimport(ADDR))
        // Triggers and timeouts are the configuration's: after an import they are set in
        // state only.
        .step(
            Step::reimport(ADDR)
                .with_config(with_triggers)
                .plan_may_change(["triggers", "timeouts"]),
        )
        .run()
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn readonly_user_imports_all_but_the_password() {
    let world = World::require(&[Service::Mysql]);
    let user = unique("iv");
    let pass = password("ro", '-');
    let config = format!(
        r#"{PROVIDER_CONFIG}
resource "treeherder_readonly_user" "redash" {{
  name           = "{user}"
  password       = "{pass}"
  host           = "%"
  require_ssl    = true
  exclude_tables = "^(django_|auth_)"
  column_grants  = {{ auth_user = ["id", "username", "email"] }}
}}
"#
    );
    let result = treeherder_case()
        .envs(world.env().clone())
        .sensitive(pass)
        .step(Step::config(config))
        // The password cannot be read back: the plan sets it again (ALTER USER).
        .step(
            Step::reimport("treeherder_readonly_user.redash")
                .plan_may_change(["password", "grant_statements"]),
        )
        .try_run()
        .await;
    let dropped = admin_sql(&world, [format!("DROP USER IF EXISTS '{user}'@'%'")]).await;
    result.unwrap_or_else(|failure| panic!("{failure}"));
    dropped.expect("drop the test account");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn database_password_imports_in_sync_mode() {
    let mysql = World::require(&[Service::Mysql]);
    let sandbox = SandboxWorld::start(API_KEY).await;
    let user = unique("ivdb");
    let pass = password("db", '-');
    admin_sql(
        &mysql,
        [format!(
            "CREATE USER '{user}'@'%' IDENTIFIED BY '{pass}' REQUIRE SSL"
        )],
    )
    .await
    .expect("create the test account");
    let endpoint = mysql.get("TREEHERDER_MYSQL_ENDPOINT").unwrap_or_default();
    sandbox
        .handle()
        .heroku(
            Method::PATCH,
            "/apps/treeherder-stage/config-vars",
            Some(json!({ "DATABASE_URL": format!("mysql://{user}:{pass}@{endpoint}/treeherder") })),
        )
        .await;
    let config = format!(
        r#"{PROVIDER_CONFIG}
resource "treeherder_database_password" "stage" {{
  app      = "treeherder-stage"
  username = "{user}"
}}
"#
    );
    let result = treeherder_case()
        .envs(mysql.env().clone())
        .envs(sandbox.env())
        .sensitive(pass)
        .step(Step::config(config))
        .step(Step::reimport("treeherder_database_password.stage"))
        .try_run()
        .await;
    let dropped = admin_sql(&mysql, [format!("DROP USER IF EXISTS '{user}'@'%'")]).await;
    result.unwrap_or_else(|failure| panic!("{failure}"));
    dropped.expect("drop the test account");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rds_snapshot_instance_imports() {
    const PASSWORD: &str = "Import-verify-instance-password-0123456";
    let world = World::require(&[Service::Moto]);
    let moto = MotoControl::from_world(&world).expect("moto in the world");
    let seed: Value = moto.seed().expect("the seed summary");
    let text = |key: &str| seed[key].as_str().unwrap_or_default().to_string();
    let suffix = uuid::Uuid::new_v4().simple().to_string()[..8].to_string();
    let source = format!("th-iv-source-{suffix}");
    moto.rds_query(
        "CreateDBInstance",
        &[
            ("DBInstanceIdentifier", &source),
            ("DBInstanceClass", "db.m4.xlarge"),
            ("Engine", "mysql"),
            ("EngineVersion", "5.7.23"),
            ("DBName", "treeherder"),
            ("AllocatedStorage", "20"),
            ("MasterUsername", "th_admin"),
            ("MasterUserPassword", "the-source-instance-password"),
            ("DBSubnetGroupName", &text("db_subnet_group")),
            ("PubliclyAccessible", "true"),
        ],
    )
    .await
    .expect("moto creates the source instance");
    moto.put_snapshot(SnapshotSeed {
        instance: source.clone(),
        id: format!("{source}-2026-11-01"),
        snapshot_type: SnapshotType::Manual,
        status: SnapshotStatus::Available,
        created_at: Some("2026-11-01T03:00:00Z".to_string()),
    })
    .await
    .expect("moto takes the snapshot");
    let resource = |extra: &str| {
        format!(
            r#"{RDS_PROVIDER_CONFIG}
resource "treeherder_rds_snapshot_instance" "tmp" {{
  identifier             = "treeherder-dev-iv{suffix}"
  source_instance        = "{source}"
  snapshot_type          = "manual"
  instance_class         = "db.m4.xlarge"
  db_subnet_group_name   = "treeherder-dbgrp"
  publicly_accessible    = true
  parameter_group_name   = "treeherder-mysql57"
  vpc_security_group_ids = ["{sg}"]
  bug                    = 1469837
  reset_triggers         = {{ requested = "2026-12-01" }}
{extra}}}
"#,
            sg = text("security_group_id"),
        )
    };
    const ADDR: &str = "treeherder_rds_snapshot_instance.tmp";
    treeherder_case()
        .envs(world.env().clone())
        .sensitive(PASSWORD)
        // Without a password the instance keeps the snapshot's: everything reads back.
        .step(Step::config(resource("")))
        .step(Step::reimport(ADDR).import_id(format!("treeherder-dev-iv{suffix}")))
        // The runbook's throwaway copy: a password, no final snapshot, longer timeouts; none
        // of these can be read back from RDS.
        .step(Step::config(resource(&format!(
            "  master_password        = \"{PASSWORD}\"\n  skip_final_snapshot    = true\n  timeouts {{\n    create = \"5m\"\n  }}\n"
        ))))
        .step(
            Step::reimport(ADDR)
                .import_id(format!("treeherder-dev-iv{suffix}"))
                // `database_url` gets the password; `status` is unknown in any update's plan.
                .plan_may_change([
                    "master_password",
                    "database_url",
                    "skip_final_snapshot",
                    "timeouts",
                    "status",
                ]),
        )
        .run()
        .await;
}
