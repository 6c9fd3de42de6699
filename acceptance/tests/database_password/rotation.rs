//! Rotations: MySQL first, then the URL's password; sync after a reset; plan-time refusals; tunnels.

use super::*;

/// Terraform 1.11.4, `password_wo`: rotate, then rotate again by version. MySQL changes before
/// `DATABASE_URL`, which changes only in its password part with one release each time; no
/// password is in the state, the saved plans or the TRACE logs.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn write_only_rotation_changes_mysql_then_only_the_urls_password() {
    let (p0, p1, p2) = (
        password("old", '-'),
        password("new", '-'),
        password("newer", '-'),
    );
    let fx = Fixture::new(&p0).await;
    let control = fx.sandbox.handle();
    let before = newest_release(&control).await;
    let url1 = fx.url.replace(&p0, &p1);
    let url2 = fx.url.replace(&p0, &p2);
    let step = |new: &str, version: u64, url: String, releases_before: u64| {
        let (world, control, user) = (fx.mysql.clone(), control.clone(), fx.user.clone());
        let (old, new) = (
            if version == 1 { p0.clone() } else { p1.clone() },
            new.to_string(),
        );
        let secrets = [p0.clone(), p1.clone(), p2.clone()];
        let plan_secrets = secrets.clone();
        // From an ephemeral variable: a literal would be in the plan's configuration.
        Step::config(format!(
            "{}\nvariable \"new_password_{version}\" {{\n  type      = string\n  sensitive = true\n  ephemeral = true\n}}\n",
            config(
                &fx.user,
                &format!("  password_wo = var.new_password_{version}\n  password_wo_version = {version}"),
            )
        ))
        .plan_check(move |plan| {
            let s: Vec<&str> = plan_secrets.iter().map(String::as_str).collect();
            absent("saved plan", plan.raw(), &s)
        })
        .check_async(move |state| {
            let (world, control, user, old, new, url) = (
                world.clone(),
                control.clone(),
                user.clone(),
                old.clone(),
                new.clone(),
                url.clone(),
            );
            let secrets = secrets.clone();
            async move {
                let s: Vec<&str> = secrets.iter().map(String::as_str).collect();
                absent("state", state.raw(), &s)?;
                in_sync(&state)?;
                state.expect_attr(ADDR, "password_wo_version", version)?;
                rotated(&world, &control, &user, &old, &new, &url, releases_before).await
            }
        })
    };
    let result = treeherder_case()
        .terraform_latest()
        .envs(fx.env())
        .env("TF_VAR_new_password_1", p1.clone())
        .env("TF_VAR_new_password_2", p2.clone())
        .sensitive(p0.clone())
        .sensitive(p1.clone())
        .sensitive(p2.clone())
        .step(step(&p1, 1, url1, before))
        .step(step(&p2, 2, url2, before + 1))
        .try_run()
        .await;
    fx.drop_account().await;
    let report = result.unwrap_or_else(|failure| panic!("{failure}"));
    assert!(report.files_scanned > 0 && report.secrets_checked >= 3);
}

/// Terraform 1.0.3, `password`: the rotation works the same; the password is in the state
/// only as a sensitive value, and never in plan output or logs.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn password_rotation_keeps_it_in_state_only_as_a_sensitive_value() {
    let (p0, p1) = (password("old", '-'), password("new", '-'));
    let fx = Fixture::new(&p0).await;
    let control = fx.sandbox.handle();
    let before = newest_release(&control).await;
    let url1 = fx.url.replace(&p0, &p1);
    let (world, user, c) = (fx.mysql.clone(), fx.user.clone(), control.clone());
    let (old, new) = (p0.clone(), p1.clone());
    let result = treeherder_case()
        .envs(fx.env())
        .sensitive(p0.clone())
        .sensitive(p1.clone())
        .step(
            Step::config(config(&fx.user, &format!("  password = \"{p1}\"")))
                .plan_check(|plan| {
                    let change = plan
                        .raw()
                        .get("resource_changes")
                        .and_then(|c| c.get(0))
                        .cloned()
                        .unwrap_or_default();
                    if change["change"]["after_sensitive"]["password"] != json!(true) {
                        return Err(format!(
                            "password not marked sensitive in the plan: {change}"
                        ));
                    }
                    Ok(())
                })
                .check_async(move |state| {
                    let (world, user, c, old, new, url) = (
                        world.clone(),
                        user.clone(),
                        c.clone(),
                        old.clone(),
                        new.clone(),
                        url1.clone(),
                    );
                    async move {
                        let resource = state
                            .resource(ADDR)
                            .ok_or_else(|| "the resource is not in the state".to_string())?;
                        if resource.values["password"] != json!(new) {
                            return Err("the password is not in the state".to_string());
                        }
                        // Terraform 1.0's state JSON carries no schema sensitivity (the
                        // plan's after_sensitive above does); a mask it gives must hide it.
                        let mask = &resource.sensitive_values;
                        if mask.as_object().is_some_and(|m| !m.is_empty())
                            && mask["password"] != json!(true)
                        {
                            return Err(format!("the password is not masked in the state: {mask}"));
                        }
                        in_sync(&state)?;
                        rotated(&world, &c, &user, &old, &new, &url, before).await
                    }
                }),
        )
        .try_run()
        .await;
    fx.drop_account().await;
    let report = result.unwrap_or_else(|failure| panic!("{failure}"));
    assert!(report.files_scanned > 0);
}

/// Sync (no password): nothing to do while DATABASE_URL's password logs in; after a reset
/// changed the account's password behind Terraform's back, the plan shows `in_sync` going back
/// to true and one apply makes DATABASE_URL's password work again, DATABASE_URL unchanged.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sync_after_a_reset_makes_the_urls_password_work_again() {
    let (p0, prod) = (password("url", '-'), password("prod", '-'));
    let fx = Fixture::new(&p0).await;
    let control = fx.sandbox.handle();
    let before = newest_release(&control).await;
    let cfg = config(&fx.user, "");
    let (w1, u1, c1, url) = (
        fx.mysql.clone(),
        fx.user.clone(),
        control.clone(),
        fx.url.clone(),
    );
    let (w2, u2, prod2) = (fx.mysql.clone(), fx.user.clone(), prod.clone());
    let (w3, u3, c3, url3, p3, prod3) = (
        fx.mysql.clone(),
        fx.user.clone(),
        control.clone(),
        fx.url.clone(),
        p0.clone(),
        prod.clone(),
    );
    let result = treeherder_case()
        .envs(fx.env())
        .sensitive(p0.clone())
        .sensitive(prod.clone())
        .step(Step::config(cfg.clone()).check_async(move |state| {
            let (c, url) = (c1.clone(), url.clone());
            let _ = (&w1, &u1);
            async move {
                state.expect_attr(ADDR, "in_sync", true)?;
                if state.attr(ADDR, "rotated_at") != Some(Value::Null) {
                    return Err("sync changed a password that worked".to_string());
                }
                if current_url(&c).await != url || newest_release(&c).await != before {
                    return Err("sync touched DATABASE_URL".to_string());
                }
                Ok::<(), String>(())
            }
        }))
        .step(
            Step::config(cfg)
                .pre_step_async(move || {
                    let (world, user, prod) = (w2.clone(), u2.clone(), prod2.clone());
                    async move {
                        // The reset: the account now has "prod's" password.
                        admin_sql(
                            &world,
                            [format!("ALTER USER '{user}'@'%' IDENTIFIED BY '{prod}'")],
                        )
                        .await
                        .expect("admin statement");
                        Ok::<(), String>(())
                    }
                })
                .plan_check(|plan| {
                    let change = plan
                        .change(ADDR)
                        .ok_or_else(|| "the plan does not mention the resource".to_string())?;
                    if change.actions != ["update"]
                        || !change.changed_attributes().contains("in_sync")
                    {
                        return Err(format!(
                            "expected an update of in_sync, got {:?} of {:?}",
                            change.actions,
                            change.changed_attributes()
                        ));
                    }
                    Ok(())
                })
                .check_async(move |state| {
                    let (world, user, c, url, p0, prod) = (
                        w3.clone(),
                        u3.clone(),
                        c3.clone(),
                        url3.clone(),
                        p3.clone(),
                        prod3.clone(),
                    );
                    async move {
                        in_sync(&state)?;
                        must_log_in(&world, &user, &p0, "DATABASE_URL's password").await?;
                        must_not_log_in(&world, &user, &prod, "prod's password").await?;
                        if current_url(&c).await != url || newest_release(&c).await != before {
                            return Err("sync changed DATABASE_URL".to_string());
                        }
                        Ok::<(), String>(())
                    }
                }),
        )
        .try_run()
        .await;
    fx.drop_account().await;
    result.unwrap_or_else(|failure| panic!("{failure}"));
}

/// Passwords with characters that break Django's DATABASE_URL parsing fail the plan at the
/// attribute, saying why; nothing is connected to.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn url_breaking_passwords_fail_at_plan_at_the_attribute() {
    let sandbox = SandboxWorld::start(API_KEY).await;
    let mysql = World::require(&[Service::Mysql]);
    let mut env = mysql.env().clone();
    env.extend(sandbox.env());
    let mut case = treeherder_case().envs(env);
    for (c, name) in [
        ('%', "percent sign"),
        ('@', "'@'"),
        ('/', "'/'"),
        ('#', "'#'"),
    ] {
        let pw = format!("abcdefghij0123456789abcdefghij{c}x");
        case = case.step(
            Step::config(config("th_admin", &format!("  password = \"{pw}\"")))
                .plan_only()
                .expect_error(
                    Regex::new(&format!(
                        r"(?s)password = .*{}.*breaks\s+DATABASE_URL\s+parsing",
                        regex::escape(name)
                    ))
                    .expect("regex"),
                ),
        );
    }
    case.step(Step::config(PROVIDER_CONFIG)).run().await;
}

/// `DATABASE_URL` naming an RDS endpoint, reached through `TREEHERDER_MYSQL_TUNNELS` (the
/// name is never resolved; the world's certificate carries it): the rotation logs in through
/// the tunnel, verifying the RDS name, and the URL keeps the RDS name.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_database_url_naming_rds_is_reached_through_the_tunnels() {
    const RDS: &str = "treeherder-dev-x.aaaaaaaaaa.us-east-1.rds.amazonaws.com:3306";
    let (p0, p1) = (password("old", '-'), password("new", '-'));
    let fx = Fixture::new(&p0).await;
    let control = fx.sandbox.handle();
    let local = fx
        .mysql
        .get("TREEHERDER_MYSQL_ENDPOINT")
        .expect("endpoint")
        .to_owned();
    let url0 = fx.url.replace(&local, RDS);
    set_url(&control, &url0).await;
    let before = newest_release(&control).await;
    let url1 = url0.replace(&p0, &p1);
    let mut env = fx.env();
    env.insert("TREEHERDER_MYSQL_ENDPOINT".into(), RDS.into());
    env.insert("TREEHERDER_MYSQL_TUNNELS".into(), format!("{RDS}={local}"));
    let (world, user, c) = (fx.mysql.clone(), fx.user.clone(), control.clone());
    let (old, new) = (p0.clone(), p1.clone());
    let result = treeherder_case()
        .envs(env)
        .sensitive(p0.clone())
        .sensitive(p1.clone())
        .step(
            Step::config(config(&fx.user, &format!("  password = \"{p1}\""))).check_async(
                move |state| {
                    let (world, user, c, old, new, url) = (
                        world.clone(),
                        user.clone(),
                        c.clone(),
                        old.clone(),
                        new.clone(),
                        url1.clone(),
                    );
                    async move {
                        in_sync(&state)?;
                        rotated(&world, &c, &user, &old, &new, &url, before).await
                    }
                },
            ),
        )
        .try_run()
        .await;
    fx.drop_account().await;
    result.unwrap_or_else(|failure| panic!("{failure}"));
}
