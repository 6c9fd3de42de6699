//! Which tables an account reads: new and dropped tables, grant statements, columns.

use super::*;

/// A table created after the apply shows up in the plan as one added grant, is granted by the
/// apply; dropping it shows the grant going away. Runs in its own scratch database so other
/// tests' plans never see the new table.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn new_and_dropped_tables_show_up_in_the_plan() {
    let world = Arc::new(World::require(&[Service::Mysql]));
    let db = unique("thscratch");
    let user = unique("ro");
    let pw = password("t", 'Z');
    create_scratch_database(&world, &db).await;
    let config = format!(
        r#"{PROVIDER_CONFIG}
resource "treeherder_readonly_user" "ro" {{
  name     = "{user}"
  password = "{pw}"
  database = "{db}"
}}
"#
    );
    let address = "treeherder_readonly_user.ro";
    let grant = format!("GRANT SELECT ON `{db}`.`new_table` TO '{user}'@'%'");
    let revoke = format!("REVOKE SELECT ON `{db}`.`new_table` FROM '{user}'@'%'");

    let has_new_grant = |expected: bool| {
        let (world, user, db) = (world.clone(), user.clone(), db.clone());
        move |state: acceptance::harness::State| {
            let (world, user, db) = (world.clone(), user.clone(), db.clone());
            async move {
                let mut conn = admin(&world).await;
                let p = privileges(&mut conn, &user).await.ok_or("no account")?;
                let granted = p.tables.get(&(db.clone(), "new_table".to_string()))
                    == Some(&("Select".into(), String::new()));
                if granted != expected {
                    return Err(format!("new_table granted: {granted}, expected {expected}"));
                }
                let in_state = strings(
                    &state
                        .attr("treeherder_readonly_user.ro", "granted_tables")
                        .unwrap_or(Value::Null),
                );
                let expected_state: Vec<String> = if expected {
                    vec!["group".into(), "job".into(), "new_table".into()]
                } else {
                    vec!["group".into(), "job".into()]
                };
                if in_state != expected_state {
                    return Err(format!("granted_tables in state: {in_state:?}"));
                }
                Ok::<(), String>(())
            }
        }
    };
    let create_table = {
        let (world, db) = (world.clone(), db.clone());
        move || {
            let (world, db) = (world.clone(), db.clone());
            async move {
                admin_sql(
                    &world,
                    [format!(
                        "CREATE TABLE `{db}`.`new_table` (id int PRIMARY KEY)"
                    )],
                )
                .await
            }
        }
    };
    let drop_table = {
        let (world, db) = (world.clone(), db.clone());
        move || {
            let (world, db) = (world.clone(), db.clone());
            async move { admin_sql(&world, [format!("DROP TABLE `{db}`.`new_table`")]).await }
        }
    };

    let result = treeherder_case()
        .envs(world.env().clone())
        .sensitive(pw.clone())
        .step(Step::config(config.clone()).check_async(has_new_grant(false)))
        .step(
            Step::config(config.clone())
                .pre_step_async(create_table)
                .plan_check(move |plan| -> CheckResult {
                    let change = change_of(plan, address)?;
                    only_changes(&change, &["grant_statements", "granted_tables"])?;
                    let before: BTreeSet<String> = strings(&change.before["granted_tables"])
                        .into_iter()
                        .collect();
                    let after: BTreeSet<String> = strings(&change.after["granted_tables"])
                        .into_iter()
                        .collect();
                    let added: Vec<&String> = after.difference(&before).collect();
                    if added != [&"new_table".to_string()] || !before.is_subset(&after) {
                        return Err(format!("granted_tables {before:?} -> {after:?}").into());
                    }
                    let sql = strings(&change.after["grant_statements"]);
                    if sql != [grant.clone()] {
                        return Err(format!("planned SQL {sql:?}").into());
                    }
                    Ok(())
                })
                .check_async(has_new_grant(true)),
        )
        .step(
            Step::config(config.clone())
                .pre_step_async(drop_table)
                .plan_check(move |plan| -> CheckResult {
                    let change = change_of(plan, address)?;
                    only_changes(&change, &["grant_statements", "granted_tables"])?;
                    let after = strings(&change.after["granted_tables"]);
                    if after != ["group", "job"] {
                        return Err(format!("granted_tables after: {after:?}").into());
                    }
                    let sql = strings(&change.after["grant_statements"]);
                    if sql != [revoke.clone()] {
                        return Err(format!("planned SQL {sql:?}").into());
                    }
                    Ok(())
                })
                .check_async(has_new_grant(false)),
        )
        .try_run()
        .await;
    drop_accounts(&world, std::slice::from_ref(&user)).await;
    admin_sql(&world, [format!("DROP DATABASE IF EXISTS `{db}`")])
        .await
        .expect("drop scratch database");
    if let Err(failure) = result {
        panic!("{failure}");
    }
}

/// Issue 9 finding 3: column names are checked at plan like table names, and a column listed
/// twice is refused; nothing is created.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_and_repeated_columns_fail_the_plan() {
    let world = World::require(&[Service::Mysql]);
    let user = unique("cols");
    let pw = password("c", 'Z');
    let config = |columns: &str| {
        format!(
            r#"{PROVIDER_CONFIG}
resource "treeherder_readonly_user" "ro" {{
  name          = "{user}"
  password      = "{pw}"
  column_grants = {{ auth_user = [{columns}] }}
}}
"#
        )
    };
    let result = treeherder_case()
        .envs(world.env().clone())
        .sensitive(pw.clone())
        .step(
            Step::config(config(r#""id", "no_such_column""#))
                .expect_error(
                    Regex::new(
                        r#"column_grants\s*=[\s\S]*no\s+column\s+"no_such_column";\s+its\s+columns\s+are[\s\S]*"username""#,
                    )
                    .unwrap(),
                ),
        )
        .step(
            Step::config(config(r#""id", "email", "id""#))
                .plan_only()
                .expect_error(Regex::new(r#"column_grants\s*=[\s\S]*"id"\s+more\s+than\s+once"#).unwrap()),
        )
        .step(Step::config(PROVIDER_CONFIG))
        .try_run()
        .await;
    let mut conn = admin(&world).await;
    let created = privileges(&mut conn, &user).await;
    conn.disconnect().await.ok();
    drop_accounts(&world, std::slice::from_ref(&user)).await;
    if let Err(failure) = result {
        panic!("{failure}");
    }
    assert!(created.is_none(), "a refused plan must create nothing");
}

/// Issue 9 finding 11: after a refresh `grant_statements` holds no statement, so a plan shows
/// exactly the statements its apply runs (nothing "removed" from the previous apply), and an
/// unchanged account shows no diff.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn grant_statements_show_only_the_coming_statements() {
    let world = Arc::new(World::require(&[Service::Mysql]));
    let user = unique("stmts");
    let (pw, pw2) = (password("s", 'Z'), password("s2", 'Z'));
    let config = |pw: &str| {
        format!(
            r#"{PROVIDER_CONFIG}
resource "treeherder_readonly_user" "ro" {{
  name     = "{user}"
  password = "{pw}"
}}
"#
        )
    };
    let address = "treeherder_readonly_user.ro";
    let revoke = |table: &'static str| {
        let (world, user) = (world.clone(), user.clone());
        move || {
            let (world, user) = (world.clone(), user.clone());
            async move {
                admin_sql(
                    &world,
                    [format!(
                        "REVOKE SELECT ON treeherder.`{table}` FROM '{user}'@'%'"
                    )],
                )
                .await
            }
        }
    };
    let expect = |expected: Vec<String>| {
        move |plan: &Plan| -> CheckResult {
            let change = change_of(plan, address)?;
            let before = strings(&change.before["grant_statements"]);
            let after = strings(&change.after["grant_statements"]);
            if !before.is_empty() || after != expected {
                return Err(format!("grant_statements {before:?} -> {after:?}").into());
            }
            Ok(())
        }
    };
    let grant_job = format!("GRANT SELECT ON `treeherder`.`job` TO '{user}'@'%'");
    let grant_group = format!("GRANT SELECT ON `treeherder`.`group` TO '{user}'@'%'");
    let alter = format!("ALTER USER '{user}'@'%' IDENTIFIED BY '<password>'");
    let result = treeherder_case()
        .envs(world.env().clone())
        .sensitive(pw.clone())
        .sensitive(pw2.clone())
        .step(Step::config(config(&pw)))
        .step(
            Step::config(config(&pw))
                .pre_step_async(revoke("job"))
                .plan_check(expect(vec![grant_job])),
        )
        .step(
            Step::config(config(&pw2))
                .pre_step_async(revoke("group"))
                .plan_check(expect(vec![alter, grant_group])),
        )
        .try_run()
        .await;
    drop_accounts(&world, std::slice::from_ref(&user)).await;
    if let Err(failure) = result {
        panic!("{failure}");
    }
}
