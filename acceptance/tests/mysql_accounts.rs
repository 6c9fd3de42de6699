//! `treeherder_mysql_accounts` through real Terraform (run with 1.0.3 and 1.11.4) against the
//! TLS MariaDB of `make up`: a read-only account made with the runbook's SQL but missing a
//! table, and an account holding more than SELECT, in a scratch database.

mod mysql_common;

use std::time::{SystemTime, UNIX_EPOCH};

use acceptance::harness::{treeherder_case, Service, Step, World, PROVIDER_CONFIG};
use mysql_common::admin_sql;
use serde_json::{json, Value};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn accounts_show_what_adoption_would_take() {
    let world = World::require(&[Service::Mysql]);
    let tag = format!(
        "acc{:x}{:x}",
        std::process::id() % 0x1000,
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.subsec_nanos() % 0x10000)
            .unwrap_or(0)
    );
    let db = format!("{tag}_db");
    let (reader, writer) = (format!("{tag}_ro"), format!("{tag}_rw"));
    let pass = "Accounts-probe-password-0123456789-abc";
    let mut setup = vec![format!("CREATE DATABASE `{db}`")];
    for table in ["auth_user", "group", "job", "django_migrations"] {
        setup.push(format!(
            "CREATE TABLE `{db}`.`{table}` LIKE `treeherder`.`{table}`"
        ));
    }
    // The runbook's SQL, but `job` was created after the account and never granted.
    setup.extend([
        format!("CREATE USER '{reader}' IDENTIFIED BY '{pass}' REQUIRE SSL"),
        format!("GRANT SELECT (id, username, email) ON `{db}`.auth_user TO '{reader}'"),
        format!("GRANT SELECT ON `{db}`.`group` TO '{reader}'"),
        format!("CREATE USER '{writer}'@'localhost' IDENTIFIED BY '{pass}'"),
        format!("GRANT SELECT, INSERT ON `{db}`.`job` TO '{writer}'@'localhost'"),
    ]);
    let config = format!(
        r#"{PROVIDER_CONFIG}
data "treeherder_mysql_accounts" "x" {{
  name_regex = "^{tag}_"
  database   = "{db}"
}}

data "treeherder_mysql_accounts" "admin" {{
  name_regex = "^(root|mariadb\\.sys|{admin})$"
}}

output "accounts" {{
  value = data.treeherder_mysql_accounts.x.accounts
}}

output "system" {{
  value = data.treeherder_mysql_accounts.admin.accounts
}}
"#,
        admin = world.get("TREEHERDER_MYSQL_USERNAME").unwrap_or_default()
    );
    let expected = json!([
        {
            "name": reader, "host": "%", "import_id": format!("{reader}@%"),
            "require_ssl": true, "select_only": true,
            "granted_tables": ["group"], "missing_tables": ["job"]
        },
        {
            "name": writer, "host": "localhost", "import_id": format!("{writer}@localhost"),
            "require_ssl": false, "select_only": false,
            "granted_tables": ["job"], "missing_tables": ["group"]
        }
    ]);
    let outcome = async {
        admin_sql(&world, &setup).await?;
        let mut case = treeherder_case().envs(world.env().clone()).sensitive(pass);
        for secret in world.secrets() {
            case = case.sensitive(secret.clone());
        }
        case.step(Step::config(config).check(move |state| {
            let accounts = state.output("accounts").unwrap_or(Value::Null);
            if accounts != expected {
                return Err(format!("accounts: {accounts:#}\nexpected: {expected:#}"));
            }
            let system = state.output("system").unwrap_or(Value::Null);
            if system != json!([]) {
                return Err(format!("system accounts listed: {system}"));
            }
            Ok(())
        }))
        .try_run()
        .await
        .map(|_| ())
        .map_err(|failure| failure.to_string())
    }
    .await;
    let cleaned = admin_sql(
        &world,
        &[
            format!("DROP USER IF EXISTS '{reader}'@'%'"),
            format!("DROP USER IF EXISTS '{writer}'@'localhost'"),
            format!("DROP DATABASE IF EXISTS `{db}`"),
        ],
    )
    .await;
    if let Err(e) = outcome {
        panic!("{e}");
    }
    cleaned.expect("cleanup");
}
