//! Changes behind Terraform's back and replacement: hand-made drift, replace / taint / rename,
//! a create failing halfway.

use super::*;

/// Changes made by hand show up in the plan: a revoked grant and a lost REQUIRE SSL are
/// repaired by an update (running exactly the two statements shown), and an account dropped by
/// hand is planned for creation again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hand_made_drift_shows_up_in_the_plan() {
    let world = Arc::new(World::require(&[Service::Mysql]));
    let user = unique("drift");
    let pw = password("d", 'Z');
    let config = format!(
        r#"{PROVIDER_CONFIG}
resource "treeherder_readonly_user" "ro" {{
  name     = "{user}"
  password = "{pw}"
}}
"#
    );
    let address = "treeherder_readonly_user.ro";
    let revoke_and_unrequire = {
        let (world, user) = (world.clone(), user.clone());
        move || {
            let (world, user) = (world.clone(), user.clone());
            async move {
                admin_sql(
                    &world,
                    [format!("REVOKE SELECT ON treeherder.job FROM '{user}'@'%'")],
                )
                .await?;
                admin_sql(&world, [format!("ALTER USER '{user}'@'%' REQUIRE NONE")]).await
            }
        }
    };
    let drop_user = {
        let (world, user) = (world.clone(), user.clone());
        move || {
            let (world, user) = (world.clone(), user.clone());
            async move { admin_sql(&world, [format!("DROP USER '{user}'@'%'")]).await }
        }
    };
    let repaired = {
        let (world, user) = (world.clone(), user.clone());
        move |_state: acceptance::harness::State| {
            let (world, user) = (world.clone(), user.clone());
            async move {
                let mut conn = admin(&world).await;
                let expected = runbook_privileges(&mut conn, "treeherder").await;
                let actual = privileges(&mut conn, &user)
                    .await
                    .ok_or("account missing")?;
                if actual != expected {
                    return Err(format!("not repaired: {actual:?}"));
                }
                Ok::<(), String>(())
            }
        }
    };
    let expected_sql = [
        format!("ALTER USER '{user}'@'%' REQUIRE SSL"),
        format!("GRANT SELECT ON `treeherder`.`job` TO '{user}'@'%'"),
    ];
    let result = treeherder_case()
        .envs(world.env().clone())
        .sensitive(pw.clone())
        .step(Step::config(config.clone()))
        .step(
            Step::config(config.clone())
                .pre_step_async(revoke_and_unrequire)
                .plan_check(move |plan| -> CheckResult {
                    let change = change_of(plan, address)?;
                    only_changes(
                        &change,
                        &["grant_statements", "granted_tables", "require_ssl"],
                    )?;
                    if change.before["require_ssl"] != Value::Bool(false) {
                        return Err("the lost REQUIRE SSL was not read".into());
                    }
                    let sql = strings(&change.after["grant_statements"]);
                    if sql != expected_sql {
                        return Err(format!("planned SQL {sql:?}").into());
                    }
                    Ok(())
                })
                .check_async(repaired),
        )
        .step(
            Step::config(config.clone())
                .pre_step_async(drop_user)
                .plan_check(move |plan| -> CheckResult {
                    let change = change_of(plan, address)?;
                    if change.actions != ["create"] {
                        return Err(format!("expected a create, got {:?}", change.actions).into());
                    }
                    Ok(())
                }),
        )
        .try_run()
        .await;
    drop_accounts(&world, std::slice::from_ref(&user)).await;
    if let Err(failure) = result {
        panic!("{failure}");
    }
}

/// A low-level Terraform root (for commands the step runner does not issue: `-replace`,
/// `taint`, applies that are expected to fail halfway).
struct Root {
    tf: acceptance::harness::Terraform,
    secrets: Vec<String>,
}

impl Root {
    fn new(env: BTreeMap<String, String>, secrets: Vec<String>) -> Result<Root, String> {
        let tf = acceptance::harness::terraform_for(&[treeherder_provider()], env, secrets.clone())
            .map_err(|e| e.to_string())?;
        Ok(Root { tf, secrets })
    }

    /// Runs `args`, failing with the redacted output unless it succeeds.
    async fn ok(
        &self,
        work: &acceptance::harness::Workspace<'_>,
        args: &[&str],
    ) -> Result<(), String> {
        let out = work.run(args).await.map_err(|e| e.to_string())?;
        self.tf.require_success(out).map_err(|e| e.to_string())?;
        Ok(())
    }

    /// `plan -detailed-exitcode` (refreshed) must be empty.
    async fn empty_plan(&self, work: &acceptance::harness::Workspace<'_>) -> Result<(), String> {
        let plan = work.plan(true).await.map_err(|e| e.to_string())?;
        if plan.has_changes {
            return Err(format!(
                "the plan is not empty:\n{}",
                self.tf.redact(&plan.text)
            ));
        }
        Ok(())
    }

    fn no_leaks(&self) -> Result<(), String> {
        let scan = self.tf.scan(&self.secrets).map_err(|e| e.to_string())?;
        if scan.leaks.is_empty() {
            Ok(())
        } else {
            Err(format!("secrets leaked: {:?}", scan.leaks))
        }
    }
}

const APPLY: &[&str] = &["apply", "-auto-approve", "-input=false", "-no-color"];

/// Issue 9 finding 2: `-replace`, `taint` and a changed `name` replace the account (the old
/// one is dropped first, so the create-time existence check must not refuse it), and each
/// new account has the runbook's privileges.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replacement_by_replace_taint_and_a_new_name_works() {
    let world = World::require(&[Service::Mysql]);
    let (first, second) = (unique("repl"), unique("repl2"));
    let pw = password("rp", 'Z');
    let address = "treeherder_readonly_user.ro";
    let config = |name: &str| {
        format!(
            r#"{PROVIDER_CONFIG}
resource "treeherder_readonly_user" "ro" {{
  name     = "{name}"
  password = "{pw}"
}}
"#
        )
    };
    let mut secrets = world.secrets().to_vec();
    secrets.push(pw.clone());
    let outcome = async {
        let root = Root::new(world.env().clone(), secrets)?;
        let work = root.tf.workspace("work").map_err(|e| e.to_string())?;
        work.write_config(&config(&first))
            .map_err(|e| e.to_string())?;
        work.init().await.map_err(|e| e.to_string())?;
        let runbook = |user: String| {
            let world = &world;
            async move {
                let mut conn = admin(world).await;
                let expected = runbook_privileges(&mut conn, "treeherder").await;
                let actual = privileges(&mut conn, &user).await;
                conn.disconnect().await.ok();
                if actual.as_ref() != Some(&expected) {
                    return Err(format!("{user} after the replacement: {actual:?}"));
                }
                Ok(())
            }
        };
        let result = async {
            root.ok(&work, APPLY).await?;
            let replace = format!("-replace={address}");
            let mut args = APPLY.to_vec();
            args.push(&replace);
            root.ok(&work, &args)
                .await
                .map_err(|e| format!("-replace: {e}"))?;
            runbook(first.clone()).await?;
            login(&world, &first, &pw, true)
                .await
                .map_err(|c| format!("login after -replace: {c}"))?;
            root.empty_plan(&work).await?;

            root.ok(&work, &["taint", "-no-color", address]).await?;
            root.ok(&work, APPLY)
                .await
                .map_err(|e| format!("after taint: {e}"))?;
            runbook(first.clone()).await?;
            root.empty_plan(&work).await?;

            work.write_config(&config(&second))
                .map_err(|e| e.to_string())?;
            root.ok(&work, APPLY)
                .await
                .map_err(|e| format!("new name: {e}"))?;
            runbook(second.clone()).await?;
            let mut conn = admin(&world).await;
            let old = privileges(&mut conn, &first).await;
            conn.disconnect().await.ok();
            if old.is_some() {
                return Err(format!("{first} survived the rename"));
            }
            root.empty_plan(&work).await
        }
        .await;
        let destroyed = work.destroy().await.map(|_| ()).map_err(|e| e.to_string());
        root.no_leaks()?;
        result?;
        destroyed
    }
    .await;
    drop_accounts(&world, &[first, second]).await;
    if let Err(e) = outcome {
        panic!("{e}");
    }
}

/// The `tainted` flag of `address` in `terraform show -json`.
fn tainted(state: &acceptance::harness::State, address: &str) -> Option<bool> {
    state.raw()["values"]["root_module"]["resources"]
        .as_array()?
        .iter()
        .find(|r| r["address"] == address)
        .map(|r| r["tainted"].as_bool().unwrap_or(false))
}

/// Issue 9 finding 3: a create that fails after CREATE USER (here a GRANT the admin may not
/// give) keeps the account in state, tainted; the next apply replaces it and destroy drops it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_create_failing_halfway_is_saved_tainted_and_replaced() {
    let world = World::require(&[Service::Mysql]);
    let db = unique("thhalf");
    let limited = unique("half_admin");
    let limited_pw = password("ha", 'Z');
    let user = unique("half");
    let pw = password("hu", 'Z');
    let setup = [
        format!("CREATE DATABASE `{db}`"),
        format!("CREATE TABLE `{db}`.`group` (id int PRIMARY KEY)"),
        format!("CREATE TABLE `{db}`.`job` (id int PRIMARY KEY)"),
        format!("CREATE USER '{limited}'@'%' IDENTIFIED BY '{limited_pw}' REQUIRE SSL"),
        format!("GRANT CREATE USER ON *.* TO '{limited}'@'%'"),
        format!("GRANT SELECT ON mysql.* TO '{limited}'@'%'"),
        format!("GRANT SELECT ON `{db}`.`group` TO '{limited}'@'%' WITH GRANT OPTION"),
        // SELECT without GRANT OPTION: visible, so planned, but the GRANT fails (1142).
        format!("GRANT SELECT ON `{db}`.`job` TO '{limited}'@'%'"),
    ];
    for sql in setup {
        admin_sql(&world, [sql]).await.expect("setup");
    }
    let config = format!(
        r#"{PROVIDER_CONFIG}
resource "treeherder_readonly_user" "ro" {{
  name          = "{user}"
  password      = "{pw}"
  database      = "{db}"
  column_grants = {{}}
}}
"#
    );
    let address = "treeherder_readonly_user.ro";
    let mut env = world.env().clone();
    env.insert("TREEHERDER_MYSQL_USERNAME".into(), limited.clone());
    env.insert("TREEHERDER_MYSQL_PASSWORD".into(), limited_pw.clone());
    let mut secrets = world.secrets().to_vec();
    secrets.extend([pw.clone(), limited_pw.clone()]);
    let outcome = async {
        let root = Root::new(env, secrets)?;
        let work = root.tf.workspace("work").map_err(|e| e.to_string())?;
        work.write_config(&config).map_err(|e| e.to_string())?;
        work.init().await.map_err(|e| e.to_string())?;
        let result = async {
            let out = work.run(APPLY).await.map_err(|e| e.to_string())?;
            if out.success() {
                return Err("the apply was expected to fail at GRANT ON job".to_string());
            }
            let text = root.tf.redact(&format!("{}\n{}", out.stdout, out.stderr));
            if !Regex::new(r"GRANT SELECT ON `[^`]+`\.`job`[\s\S]*1142")
                .unwrap()
                .is_match(&text)
            {
                return Err(format!("unexpected failure:\n{text}"));
            }
            let state = work.state().await.map_err(|e| e.to_string())?;
            if tainted(&state, address) != Some(true) {
                return Err(format!(
                    "the half-created account must be in state, tainted; got {:?}\n{text}",
                    tainted(&state, address)
                ));
            }
            let mut conn = admin(&world).await;
            let half = privileges(&mut conn, &user).await;
            conn.disconnect().await.ok();
            if half.is_none() {
                return Err("the account should exist after the failed create".into());
            }

            admin_sql(
                &world,
                [format!(
                    "GRANT SELECT ON `{db}`.`job` TO '{limited}'@'%' WITH GRANT OPTION"
                )],
            )
            .await?;
            let plan = work.plan_json(true).await.map_err(|e| e.to_string())?;
            let change = change_of(&plan, address)?;
            if change.actions != ["delete", "create"] {
                return Err(format!("expected a replacement, got {:?}", change.actions));
            }
            root.ok(&work, APPLY)
                .await
                .map_err(|e| format!("replacing: {e}"))?;
            let mut conn = admin(&world).await;
            let p = privileges(&mut conn, &user)
                .await
                .ok_or("account missing")?;
            conn.disconnect().await.ok();
            let granted: Vec<&str> = p.tables.keys().map(|(_, t)| t.as_str()).collect();
            if granted != ["group", "job"] {
                return Err(format!("grants after the replacement: {granted:?}"));
            }
            root.empty_plan(&work).await
        }
        .await;
        let destroyed = work.destroy().await.map(|_| ()).map_err(|e| e.to_string());
        root.no_leaks()?;
        result?;
        destroyed?;
        let mut conn = admin(&world).await;
        let left = privileges(&mut conn, &user).await;
        conn.disconnect().await.ok();
        match left {
            Some(_) => Err("destroy must drop the account".to_string()),
            None => Ok(()),
        }
    }
    .await;
    drop_accounts(&world, &[user, limited]).await;
    admin_sql(&world, [format!("DROP DATABASE IF EXISTS `{db}`")])
        .await
        .expect("drop scratch database");
    if let Err(e) = outcome {
        panic!("{e}");
    }
}
