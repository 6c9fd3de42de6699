//! The runbook's accounts: created as the runbook says, rotated, imported, twenty at once.

use super::*;

/// The runbook's two accounts: privileges equal the runbook's exactly, TLS-only logins, then a
/// password rotation (new password works, old one fails), destroy drops both.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn runbook_accounts_match_the_runbook_and_rotate() {
    let world = World::require(&[Service::Mysql]);
    let activedata = unique("activedata");
    let redash = unique("redash");
    let (pw_a, pw_r, pw_r2) = (password("a", 'Z'), password("r", 'Z'), password("n", 'Z'));
    let world = Arc::new(world);

    let check_runbook = {
        let (world, activedata, redash, pw_a, pw_r) = (
            world.clone(),
            activedata.clone(),
            redash.clone(),
            pw_a.clone(),
            pw_r.clone(),
        );
        move |state: acceptance::harness::State| {
            let (world, activedata, redash, pw_a, pw_r) = (
                world.clone(),
                activedata.clone(),
                redash.clone(),
                pw_a.clone(),
                pw_r.clone(),
            );
            async move {
                let mut conn = admin(&world).await;
                let expected = runbook_privileges(&mut conn, "treeherder").await;
                for user in [&activedata, &redash] {
                    let actual = privileges(&mut conn, user)
                        .await
                        .ok_or(format!("{user} does not exist"))?;
                    if actual != expected {
                        return Err(format!(
                            "{user}: privileges differ from the runbook's\n actual: {actual:?}\n expected: {expected:?}"
                        ));
                    }
                }
                conn.disconnect().await.ok();
                for (user, pw) in [(&activedata, &pw_a), (&redash, &pw_r)] {
                    login(&world, user, pw, true)
                        .await
                        .map_err(|code| format!("{user} cannot log in over TLS: {code}"))?;
                    assert_eq!(
                        login(&world, user, pw, false).await,
                        Err(1045),
                        "{user} must not log in without TLS"
                    );
                }
                let granted = strings(
                    &state
                        .attr("treeherder_readonly_user.redash", "granted_tables")
                        .unwrap_or(Value::Null),
                );
                let mut sorted = granted.clone();
                sorted.sort();
                assert_eq!(granted, sorted, "granted_tables is sorted");
                assert_eq!(granted.len(), expected.tables.len() - 1);
                assert_eq!(
                    state.attr_str("treeherder_readonly_user.redash", "id"),
                    Some(format!("{redash}@%"))
                );
                let statements = strings(
                    &state
                        .attr("treeherder_readonly_user.activedata", "grant_statements")
                        .unwrap_or(Value::Null),
                );
                assert_eq!(
                    statements.first().map(String::as_str),
                    Some(
                        format!(
                            "CREATE USER '{activedata}'@'%' IDENTIFIED BY '<password>' REQUIRE SSL"
                        )
                        .as_str()
                    )
                );
                assert!(statements.contains(&format!(
                    "GRANT SELECT ON `treeherder`.`group` TO '{activedata}'@'%'"
                )));
                Ok::<(), String>(())
            }
        }
    };

    let rotated_check = {
        let (world, redash, pw_r, pw_r2) =
            (world.clone(), redash.clone(), pw_r.clone(), pw_r2.clone());
        move |_state: acceptance::harness::State| {
            let (world, redash, pw_r, pw_r2) =
                (world.clone(), redash.clone(), pw_r.clone(), pw_r2.clone());
            async move {
                login(&world, &redash, &pw_r2, true)
                    .await
                    .map_err(|c| format!("new password refused: {c}"))?;
                if login(&world, &redash, &pw_r, true).await != Err(1045) {
                    return Err("the old password still works".to_string());
                }
                Ok::<(), String>(())
            }
        }
    };

    let destroyed = {
        let (world, activedata, redash) = (world.clone(), activedata.clone(), redash.clone());
        move |_state: acceptance::harness::State| {
            let (world, activedata, redash) = (world.clone(), activedata.clone(), redash.clone());
            async move {
                let mut conn = admin(&world).await;
                for user in [&activedata, &redash] {
                    if privileges(&mut conn, user).await.is_some() {
                        return Err(format!("{user} still exists after destroy"));
                    }
                }
                Ok::<(), String>(())
            }
        }
    };

    let redash_addr = "treeherder_readonly_user.redash";
    let expected_alter = format!("ALTER USER '{redash}'@'%' IDENTIFIED BY '<password>'");
    let result = treeherder_case()
        .envs(world.env().clone())
        .sensitive(pw_a.clone())
        .sensitive(pw_r.clone())
        .sensitive(pw_r2.clone())
        .step(
            Step::config(runbook_config(&activedata, &pw_a, &redash, &pw_r))
                .check_async(check_runbook),
        )
        .step(
            Step::config(runbook_config(&activedata, &pw_a, &redash, &pw_r2))
                .plan_check(move |plan| -> CheckResult {
                    let change = change_of(plan, redash_addr)?;
                    only_changes(&change, &["grant_statements", "password"])?;
                    let statements = strings(&change.after["grant_statements"]);
                    if statements != [expected_alter.clone()] {
                        return Err(format!("planned SQL: {statements:?}").into());
                    }
                    if !change_of(plan, "treeherder_readonly_user.activedata")?.is_no_op() {
                        return Err("activedata must not change".into());
                    }
                    Ok(())
                })
                .check_async(rotated_check),
        )
        .check_destroy_async(destroyed)
        .try_run()
        .await;
    drop_accounts(&world, &[activedata, redash]).await;
    if let Err(failure) = result {
        panic!("{failure}");
    }
}

/// An account made by hand with the runbook's SQL, imported by `name@host`: the next plan
/// changes only the password (and shows the one ALTER USER it will run); after the apply the
/// configured password works.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn import_of_a_runbook_account_plans_only_the_password() {
    let world = World::require(&[Service::Mysql]);
    let user = unique("imported");
    let (pw_hand, pw_tf) = (password("h", 'Z'), password("i", 'Z'));

    // The runbook's statements, verbatim apart from the names.
    let mut conn = admin(&world).await;
    conn.query_drop(format!(
        "CREATE USER '{user}' IDENTIFIED BY '{pw_hand}' REQUIRE SSL"
    ))
    .await
    .expect("CREATE USER");
    conn.query_drop(format!(
        "GRANT SELECT (id, username, email) ON treeherder.auth_user to '{user}'"
    ))
    .await
    .expect("column grant");
    let grants: Vec<String> = conn
        .query(format!(
            "SELECT CONCAT('GRANT SELECT ON ', table_schema, '.`', table_name, '` to ''{user}'';') \
             FROM information_schema.TABLES WHERE table_schema = 'treeherder' \
             AND table_name NOT REGEXP 'django_|auth_'"
        ))
        .await
        .expect("runbook generator query");
    for grant in &grants {
        conn.query_drop(grant).await.expect("runbook GRANT");
    }
    conn.disconnect().await.ok();

    let config = format!(
        r#"{PROVIDER_CONFIG}
resource "treeherder_readonly_user" "imported" {{
  name     = "{user}"
  password = "{pw_tf}"
}}
"#
    );
    let mut secrets: Vec<String> = world.secrets().to_vec();
    secrets.extend([pw_hand.clone(), pw_tf.clone()]);
    let outcome = async {
        let tf = terraform_for(
            &[treeherder_provider()],
            world.env().clone(),
            secrets.clone(),
        )
        .map_err(|e| e.to_string())?;
        let work = tf.workspace("work").map_err(|e| e.to_string())?;
        work.write_config(&config).map_err(|e| e.to_string())?;
        work.init().await.map_err(|e| e.to_string())?;
        let out = work
            .import("treeherder_readonly_user.imported", &format!("{user}@%"))
            .await
            .map_err(|e| e.to_string())?;
        tf.require_success(out).map_err(|e| e.to_string())?;
        let result = async {
            let state = work.state().await.map_err(|e| e.to_string())?;
            let address = "treeherder_readonly_user.imported";
            if state.attr(address, "password") != Some(Value::Null) {
                return Err("the imported password must be null in state".to_string());
            }
            let plan = work.plan_json(true).await.map_err(|e| e.to_string())?;
            let change = change_of(&plan, address)?;
            only_changes(&change, &["grant_statements", "password"])?;
            let sql = strings(&change.after["grant_statements"]);
            if sql
                != [format!(
                    "ALTER USER '{user}'@'%' IDENTIFIED BY '<password>'"
                )]
            {
                return Err(format!("planned SQL {sql:?}"));
            }
            let out = work.apply().await.map_err(|e| e.to_string())?;
            tf.require_success(out).map_err(|e| e.to_string())?;
            login(&world, &user, &pw_tf, true)
                .await
                .map_err(|c| format!("configured password refused: {c}"))?;
            if login(&world, &user, &pw_hand, true).await != Err(1045) {
                return Err("the hand-made password still works".into());
            }
            let again = work.plan(true).await.map_err(|e| e.to_string())?;
            if again.has_changes {
                return Err(format!(
                    "plan after apply not empty:\n{}",
                    tf.redact(&again.text)
                ));
            }
            Ok(())
        }
        .await;
        let destroyed = work.destroy().await.map(|_| ()).map_err(|e| e.to_string());
        let scan = tf.scan(&secrets).map_err(|e| e.to_string())?;
        if scan.files_scanned == 0 {
            return Err("the secret scan read no files".to_string());
        }
        if !scan.leaks.is_empty() {
            return Err(format!("secrets leaked: {:?}", scan.leaks));
        }
        result?;
        destroyed
    }
    .await;
    let mut conn = admin(&world).await;
    let exists = privileges(&mut conn, &user).await.is_some();
    conn.disconnect().await.ok();
    drop_accounts(&world, std::slice::from_ref(&user)).await;
    if let Err(e) = outcome {
        panic!("{e}");
    }
    assert!(!exists, "destroy must drop the imported account");
}

/// Twenty accounts applied and destroyed with `-parallelism=20`: no errors, all created with
/// their grants, all dropped.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn twenty_accounts_in_parallel() {
    let world = Arc::new(World::require(&[Service::Mysql]));
    let prefix = unique("par");
    let pw_prefix = password("p", 'Z');
    let names: Vec<String> = (0..20).map(|i| format!("{prefix}_{i}")).collect();
    let config = format!(
        r#"{PROVIDER_CONFIG}
resource "treeherder_readonly_user" "many" {{
  count    = 20
  name     = "{prefix}_${{count.index}}"
  password = "{pw_prefix}${{count.index}}"
}}
"#
    );
    let check = {
        let (world, names) = (world.clone(), names.clone());
        move |_state: acceptance::harness::State| {
            let (world, names) = (world.clone(), names.clone());
            async move {
                let mut conn = admin(&world).await;
                let expected = runbook_privileges(&mut conn, "treeherder").await;
                for name in &names {
                    let p = privileges(&mut conn, name)
                        .await
                        .ok_or(format!("{name} missing"))?;
                    if p != expected {
                        return Err(format!("{name} has other privileges: {p:?}"));
                    }
                }
                Ok::<(), String>(())
            }
        }
    };
    let gone = {
        let (world, names) = (world.clone(), names.clone());
        move |_state: acceptance::harness::State| {
            let (world, names) = (world.clone(), names.clone());
            async move {
                let mut conn = admin(&world).await;
                for name in &names {
                    if privileges(&mut conn, name).await.is_some() {
                        return Err(format!("{name} survived destroy"));
                    }
                }
                Ok::<(), String>(())
            }
        }
    };
    let mut case = treeherder_case()
        .envs(world.env().clone())
        .env("TF_CLI_ARGS_apply", "-parallelism=20")
        .env("TF_CLI_ARGS_plan", "-parallelism=20")
        .env("TF_CLI_ARGS_destroy", "-parallelism=20")
        .step(Step::config(config).check_async(check))
        .check_destroy_async(gone);
    for i in 0..20 {
        case = case.sensitive(format!("{pw_prefix}{i}"));
    }
    let result = case.try_run().await;
    drop_accounts(&world, &names).await;
    if let Err(failure) = result {
        panic!("{failure}");
    }
}

/// `mysql.tunnels`: the provider is configured with an RDS endpoint name (which is never
/// resolved) mapped to the world's MariaDB, and the certificate is verified against that name
/// (the world's certificate carries `*.aaaaaaaaaa.us-east-1.rds.amazonaws.com`).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_rds_endpoint_through_a_tunnel() {
    let world = World::require(&[Service::Mysql]);
    let local = world
        .get("TREEHERDER_MYSQL_ENDPOINT")
        .expect("endpoint")
        .to_owned();
    let rds = "treeherder-dev-x.aaaaaaaaaa.us-east-1.rds.amazonaws.com:3306";
    let name = unique("tunnel");
    let pw = password("tn", 'Z');
    let config = |endpoint: &str| {
        format!(
            r#"
terraform {{
  required_providers {{
    treeherder = {{ source = "treeherder/treeherder" }}
  }}
}}
provider "treeherder" {{
  mysql {{
    endpoint = "{endpoint}"
    tls_mode = "verify_identity"
    tunnels  = {{ "{endpoint}" = "{local}" }}
  }}
}}
resource "treeherder_readonly_user" "ro" {{
  name     = "{name}"
  password = "{pw}"
}}
"#
        )
    };
    let check = move |state: &acceptance::harness::State| -> Result<(), String> {
        let granted = strings(
            &state
                .attr("treeherder_readonly_user.ro", "granted_tables")
                .unwrap_or(Value::Null),
        );
        if granted.contains(&"job".to_string()) {
            Ok(())
        } else {
            Err(format!("granted_tables {granted:?}"))
        }
    };
    let result = treeherder_case()
        .envs(world.env().clone())
        .sensitive(pw.clone())
        // The same tunnel under a name the certificate lacks is refused: the name verified
        // is the endpoint's, not the local address's.
        .step(
            Step::config(config("db.example.invalid:3306"))
                .plan_only()
                .expect_error(Regex::new(r"not valid for name").unwrap()),
        )
        .step(Step::config(config(rds)).check(check))
        .try_run()
        .await;
    let mut conn = admin(&world).await;
    let left: Vec<String> = conn
        .exec("SELECT User FROM mysql.user WHERE User = ?", (&name,))
        .await
        .expect("mysql.user");
    conn.query_drop(format!("DROP USER IF EXISTS '{name}'@'%'"))
        .await
        .expect("cleanup");
    conn.disconnect().await.ok();
    if let Err(failure) = result {
        panic!("{failure}");
    }
    assert!(left.is_empty(), "destroy left {left:?}");
}
