//! Rotations that stop halfway (the URL write fails after the MySQL change) and converge.

use super::*;
use acceptance::sandbox::{FaultApi, FaultSpec};

/// Heroku refuses the DATABASE_URL write after MySQL changed: the error says so, and the next
/// apply writes DATABASE_URL (one release) without changing MySQL again — the account's
/// `password_last_changed`, set far in the past between the applies, stays as it was.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_url_write_after_the_mysql_change_converges_without_a_second_change() {
    let (p0, p1) = (password("old", '-'), password("new", '-'));
    let fx = Fixture::new(&p0).await;
    let control = fx.sandbox.handle();
    let before = newest_release(&control).await;
    let cfg = config(
        &fx.user,
        &format!("  password_wo = \"{p1}\"\n  password_wo_version = 1"),
    );
    let c1 = control.clone();
    let (w2, u2, c2, url2, p1b) = (
        fx.mysql.clone(),
        fx.user.clone(),
        control.clone(),
        fx.url.clone(),
        p1.clone(),
    );
    let (w3, u3, c3, url3, p0c, p1c) = (
        fx.mysql.clone(),
        fx.user.clone(),
        control.clone(),
        fx.url.replace(&p0, &p1),
        p0.clone(),
        p1.clone(),
    );
    const LONG_AGO: i64 = 1_000_000_000;
    let result = treeherder_case()
        .terraform_latest()
        .envs(fx.env())
        .sensitive(p0.clone())
        .sensitive(p1.clone())
        .step(
            Step::config(cfg.clone())
                .pre_step_async(move || {
                    let control = c1.clone();
                    async move {
                        let id = control.app(APP).await["id"]
                            .as_str()
                            .unwrap_or_default()
                            .to_string();
                        control
                            .add_fault(FaultSpec::new(422, "PATCH", format!("/apps/{id}/config-vars")).api(FaultApi::Heroku).message("injected: config vars cannot be changed"))
                            .await;
                        Ok::<(), String>(())
                    }
                })
                .expect_error(
                    Regex::new(
                        r"(?s)MySQL has the new password, DATABASE_URL does not.*injected:\s+config\s+vars\s+cannot\s+be\s+changed.*without\s+changing\s+MySQL\s+again",
                    )
                    .expect("regex"),
                ),
        )
        .step(
            Step::config(cfg)
                .pre_step_async(move || {
                    let (world, user, control, url, p1) =
                        (w2.clone(), u2.clone(), c2.clone(), url2.clone(), p1b.clone());
                    async move {
                        must_log_in(&world, &user, &p1, "the new password after the failure")
                            .await?;
                        if current_url(&control).await != url {
                            return Err("DATABASE_URL changed although its write failed".into());
                        }
                        if newest_release(&control).await != before {
                            return Err("a release was made although the write failed".into());
                        }
                        if password_last_changed(&world, &user).await.is_none() {
                            return Err("no password_last_changed for the account".into());
                        }
                        // A SET PASSWORD in the next apply would overwrite this.
                        admin_sql(
                            &world,
                            [format!(
                                "UPDATE mysql.global_priv SET Priv = JSON_SET(Priv, \
                                 '$.password_last_changed', {LONG_AGO}) \
                                 WHERE User = '{user}' AND Host = '%'"
                            )],
                        )
                        .await.expect("admin statement");
                        admin_sql(&world, ["FLUSH PRIVILEGES".to_string()]).await.expect("admin statement");
                        Ok::<(), String>(())
                    }
                })
                .check_async(move |state| {
                    let (world, user, control, url, p0, p1) = (
                        w3.clone(),
                        u3.clone(),
                        c3.clone(),
                        url3.clone(),
                        p0c.clone(),
                        p1c.clone(),
                    );
                    async move {
                        absent("state", state.raw(), &[&p0, &p1])?;
                        state.expect_attr(ADDR, "in_sync", true)?;
                        rotated(&world, &control, &user, &p0, &p1, &url, before).await?;
                        match password_last_changed(&world, &user).await {
                            Some(LONG_AGO) => Ok(()),
                            other => Err(format!(
                                "MySQL's password was set again (password_last_changed {other:?})"
                            )),
                        }
                    }
                }),
        )
        .try_run()
        .await;
    fx.drop_account().await;
    result.unwrap_or_else(|failure| panic!("{failure}"));
}

/// Every attempt of one Heroku write: `max_retries` + 1.
const HEROKU_ATTEMPTS: u32 = 6;

fn quick_config(user: &str, password: &str) -> String {
    config(user, &format!("  password = \"{password}\"")).replacen(
        PROVIDER_CONFIG,
        // Quick retries: a fault of `HEROKU_ATTEMPTS` 503s uses them all up in milliseconds.
        &heroku_provider_config(5, 5),
        1,
    )
}

/// Makes every attempt of the next `DATABASE_URL` write answer 503.
async fn fail_every_url_write(control: &SandboxControl) {
    let id = control.app(APP).await["id"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    control
        .add_fault(
            FaultSpec::new(503, "PATCH", format!("/apps/{id}/config-vars"))
                .api(FaultApi::Heroku)
                .count(HEROKU_ATTEMPTS)
                .message("injected: service unavailable"),
        )
        .await;
}

/// Applies `cfg` while every `DATABASE_URL` write fails: the apply fails saying MySQL has the
/// new password, every injected fault was used, and the state says `in_sync = false`.
async fn half_done_rotation(
    work: &acceptance::harness::Workspace<'_>,
    control: &SandboxControl,
    cfg: &str,
) -> State {
    work.write_config(cfg).expect("config");
    fail_every_url_write(control).await;
    let out = work.apply().await.expect("apply runs");
    assert!(
        !out.success(),
        "the apply succeeded although every write failed"
    );
    let text = format!("{}\n{}", out.stdout, out.stderr);
    assert!(
        text.contains("MySQL has the new password, DATABASE_URL does not"),
        "{}",
        work.terraform().redact(&text)
    );
    assert!(control.faults().await.is_empty(), "faults left unused");
    let state = work.state().await.expect("state");
    state
        .expect_attr(ADDR, "in_sync", false)
        .unwrap_or_else(|e| panic!("after the half-done rotation: {e}"));
    state
}

/// `terraform apply` (with `-refresh=false` unless `refresh`) must succeed.
async fn apply_ok(work: &acceptance::harness::Workspace<'_>, refresh: bool) {
    let mut args = vec!["apply", "-auto-approve", "-input=false", "-no-color"];
    if !refresh {
        args.push("-refresh=false");
    }
    let out = work.run(&args).await.expect("apply runs");
    work.terraform()
        .require_success(out)
        .unwrap_or_else(|e| panic!("{e}"));
}

async fn plans_empty(work: &acceptance::harness::Workspace<'_>) {
    for refresh in [false, true] {
        let plan = work.plan(refresh).await.expect("plan");
        assert!(
            !plan.has_changes,
            "refresh={refresh}: the plan after converging is not empty:\n{}",
            work.terraform().redact(&plan.text)
        );
    }
}

/// Every `DATABASE_URL` write of a rotation fails (503 on every attempt) after MySQL took the
/// new password: the state says `in_sync = false`, so the next apply, with `-refresh=false`
/// (first rotation) or with a refresh (second one), plans an update and writes `DATABASE_URL`;
/// the plan after that is empty.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_half_done_rotation_is_out_of_sync_and_the_next_apply_writes_the_url() {
    let (p0, p1, p2, p3) = (
        password("old", '-'),
        password("new", '-'),
        password("newer", '-'),
        password("newest", '-'),
    );
    let fx = Fixture::new(&p0).await;
    let control = fx.sandbox.handle();
    let tf = acceptance::harness::terraform_for(
        &[treeherder_provider()],
        fx.env(),
        vec![
            API_KEY.into(),
            p0.clone(),
            p1.clone(),
            p2.clone(),
            p3.clone(),
        ],
    )
    .expect("terraform");
    let work = tf.workspace("work").expect("workspace");
    work.write_config(&quick_config(&fx.user, &p1))
        .expect("config");
    work.init().await.expect("init");
    apply_ok(&work, true).await;
    assert!(
        current_url(&control).await == fx.url.replace(&p0, &p1),
        "first rotation"
    );

    for (old, new, refresh) in [(&p1, &p2, false), (&p2, &p3, true)] {
        let cfg = quick_config(&fx.user, new);
        half_done_rotation(&work, &control, &cfg).await;
        must_log_in(&fx.mysql, &fx.user, new, "the new password")
            .await
            .unwrap();
        let stale = fx.url.replace(&p0, old);
        assert!(
            current_url(&control).await == stale,
            "DATABASE_URL was written"
        );
        let before = newest_release(&control).await;
        let plan = work.plan(refresh).await.expect("plan");
        assert!(
            plan.has_changes && plan.text.contains("in_sync"),
            "refresh={refresh}: no update planned after the half-done rotation:\n{}",
            tf.redact(&plan.text)
        );
        apply_ok(&work, refresh).await;
        assert!(
            current_url(&control).await == fx.url.replace(&p0, new),
            "refresh={refresh}: DATABASE_URL was not written"
        );
        assert_eq!(newest_release(&control).await, before + 1, "one release");
        work.state()
            .await
            .expect("state")
            .expect_attr(ADDR, "in_sync", true)
            .unwrap();
        plans_empty(&work).await;
    }
    work.destroy().await.expect("destroy");
    fx.drop_account().await;
}

/// The create path: the first apply's `DATABASE_URL` write fails after MySQL took the
/// password; the instance is saved tainted with `in_sync = false`, and the next apply
/// replaces it, writing `DATABASE_URL`; the plan after that is empty.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_half_done_create_is_tainted_and_out_of_sync_and_the_next_apply_writes_the_url() {
    let (p0, p1) = (password("old", '-'), password("new", '-'));
    let fx = Fixture::new(&p0).await;
    let control = fx.sandbox.handle();
    let tf = acceptance::harness::terraform_for(
        &[treeherder_provider()],
        fx.env(),
        vec![API_KEY.into(), p0.clone(), p1.clone()],
    )
    .expect("terraform");
    let work = tf.workspace("work").expect("workspace");
    let cfg = quick_config(&fx.user, &p1);
    work.write_config(&cfg).expect("config");
    work.init().await.expect("init");
    let state = half_done_rotation(&work, &control, &cfg).await;
    let tainted = state
        .raw()
        .pointer("/values/root_module/resources")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .any(|r| r["address"] == ADDR && r["tainted"] == true);
    assert!(tainted, "the half-made instance is not tainted");
    assert!(
        current_url(&control).await == fx.url,
        "DATABASE_URL was written"
    );
    for refresh in [false, true] {
        let plan = work.plan(refresh).await.expect("plan");
        assert!(plan.has_changes, "refresh={refresh}: nothing planned");
    }
    apply_ok(&work, false).await;
    assert!(
        current_url(&control).await == fx.url.replace(&p0, &p1),
        "DATABASE_URL was not written"
    );
    must_not_log_in(&fx.mysql, &fx.user, &p0, "the old password")
        .await
        .unwrap();
    plans_empty(&work).await;
    work.destroy().await.expect("destroy");
    fx.drop_account().await;
}
