//! `treeherder_database_password` through real Terraform (1.11.4 for `password_wo`, 1.0.3 for
//! `password` and sync) against an in-process sandbox (one per test) and the world's TLS
//! MariaDB. Each test makes its own `th_admin`-like account, points `treeherder-stage`'s
//! `DATABASE_URL` at it, and checks the server with real TLS logins: the old password fails,
//! the new one works, `DATABASE_URL` differs only in its password part, one release per
//! change, and no password reaches the state (with `password_wo`), saved plans or logs.

mod mysql_common;

use std::sync::Arc;

use acceptance::harness::{
    heroku_provider_config, SandboxControl, SandboxWorld, Service, State, Step, World,
    PROVIDER_CONFIG,
};
use acceptance::harness::{treeherder_case, treeherder_provider};
use mysql_async::prelude::Queryable;
use mysql_async::Conn;
use mysql_common::{admin, admin_sql, opts, password, unique};
use regex::Regex;
use reqwest::Method;
use serde_json::{json, Value};

const API_KEY: &str = "database-password-acceptance-key-8e1f03";
const APP: &str = "treeherder-stage";
const ADDR: &str = "treeherder_database_password.stage";

/// Logs in as `user` over TLS: `Ok` only for an encrypted session, else the server's code.
async fn login(world: &World, user: &str, pass: &str) -> Result<(), String> {
    let mut conn = match Conn::new(opts(world, user, pass, true)).await {
        Ok(conn) => conn,
        Err(mysql_async::Error::Server(e)) => return Err(format!("server error {}", e.code)),
        Err(other) => return Err(format!("login as {user}: {other}")),
    };
    let cipher: Option<(String, String)> = conn
        .query_first("SHOW SESSION STATUS LIKE 'Ssl_cipher'")
        .await
        .map_err(|e| e.to_string())?;
    conn.disconnect().await.ok();
    match cipher {
        Some((_, c)) if !c.is_empty() => Ok(()),
        _ => Err(format!("{user}'s session is not encrypted")),
    }
}

async fn must_log_in(world: &World, user: &str, pass: &str, what: &str) -> Result<(), String> {
    login(world, user, pass)
        .await
        .map_err(|e| format!("{what} does not log in over TLS: {e}"))
}

async fn must_not_log_in(world: &World, user: &str, pass: &str, what: &str) -> Result<(), String> {
    match login(world, user, pass).await {
        Err(e) if e == "server error 1045" => Ok(()),
        Err(e) => Err(format!("{what}: expected access denied, got {e}")),
        Ok(()) => Err(format!("{what} still logs in")),
    }
}

/// `password_last_changed` of the account (MariaDB's `mysql.global_priv`), in seconds.
async fn password_last_changed(world: &World, user: &str) -> Option<i64> {
    let mut conn = admin(world).await;
    let value: Option<Option<i64>> = conn
        .exec_first(
            "SELECT CAST(JSON_VALUE(Priv, '$.password_last_changed') AS SIGNED) \
             FROM mysql.global_priv WHERE User = ? AND Host = '%'",
            (user,),
        )
        .await
        .expect("mysql.global_priv");
    conn.disconnect().await.ok();
    value.flatten()
}

/// The test's account and the app's `DATABASE_URL` pointing at it with `old`.
struct Fixture {
    mysql: Arc<World>,
    sandbox: SandboxWorld,
    user: String,
    /// `DATABASE_URL` as first set.
    url: String,
}

impl Fixture {
    async fn new(old: &str) -> Fixture {
        let mysql = Arc::new(World::require(&[Service::Mysql]));
        let sandbox = SandboxWorld::start(API_KEY).await;
        let user = unique("dbpw");
        admin_sql(
            &mysql,
            [format!(
                "CREATE USER '{user}'@'%' IDENTIFIED BY '{old}' REQUIRE SSL"
            )],
        )
        .await
        .expect("admin statement");
        let endpoint = mysql.get("TREEHERDER_MYSQL_ENDPOINT").expect("endpoint");
        // A query string and a port, to see them kept byte for byte.
        let url = format!("mysql://{user}:{old}@{endpoint}/treeherder?ssl=true&charset=utf8mb4");
        set_url(&sandbox.handle(), &url).await;
        Fixture {
            mysql,
            sandbox,
            user,
            url,
        }
    }

    fn env(&self) -> std::collections::BTreeMap<String, String> {
        let mut env = self.mysql.env().clone();
        env.extend(self.sandbox.env());
        env
    }

    async fn drop_account(&self) {
        admin_sql(
            &self.mysql,
            [format!("DROP USER IF EXISTS '{}'@'%'", self.user)],
        )
        .await
        .expect("admin statement");
    }
}

async fn set_url(control: &SandboxControl, url: &str) {
    control
        .heroku(
            Method::PATCH,
            &format!("/apps/{APP}/config-vars"),
            Some(json!({ "DATABASE_URL": url })),
        )
        .await;
}

async fn current_url(control: &SandboxControl) -> String {
    let vars = control
        .heroku(Method::GET, &format!("/apps/{APP}/config-vars"), None)
        .await;
    vars["DATABASE_URL"]
        .as_str()
        .unwrap_or_default()
        .to_string()
}

async fn newest_release(control: &SandboxControl) -> u64 {
    let releases = control
        .heroku(Method::GET, &format!("/apps/{APP}/releases"), None)
        .await;
    releases
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|r| r["version"].as_u64())
        .max()
        .unwrap_or(0)
}

fn absent(what: &str, value: &Value, secrets: &[&str]) -> Result<(), String> {
    let text = value.to_string();
    match secrets.iter().position(|s| text.contains(s)) {
        Some(i) => Err(format!("password #{i} is in the {what}")),
        None => Ok(()),
    }
}

fn config(user: &str, arguments: &str) -> String {
    format!(
        r#"{PROVIDER_CONFIG}
resource "treeherder_database_password" "stage" {{
  app      = "{APP}"
  username = "{user}"
{arguments}
}}
"#
    )
}

/// What a finished rotation to `new` from `old` must look like.
async fn rotated(
    world: &World,
    control: &SandboxControl,
    user: &str,
    old: &str,
    new: &str,
    expected_url: &str,
    releases_before: u64,
) -> Result<(), String> {
    must_log_in(world, user, new, "the new password").await?;
    must_not_log_in(world, user, old, "the old password").await?;
    let url = current_url(control).await;
    if url != expected_url {
        return Err("DATABASE_URL is not the old one with only its password replaced".to_string());
    }
    let newest = newest_release(control).await;
    if newest != releases_before + 1 {
        return Err(format!(
            "{} releases were made, expected one",
            newest - releases_before
        ));
    }
    Ok(())
}

fn in_sync(state: &State) -> Result<(), String> {
    state.expect_attr(ADDR, "in_sync", true)?;
    state.expect_attr_set(ADDR, "rotated_at")
}

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
                            .control_post(
                                "/faults",
                                json!({"api": "heroku", "status": 422, "method": "PATCH",
                                       "path_prefix": format!("/apps/{id}/config-vars"),
                                       "message": "injected: config vars cannot be changed"}),
                            )
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
        .control_post(
            "/faults",
            json!({"api": "heroku", "status": 503, "method": "PATCH", "count": HEROKU_ATTEMPTS,
                   "path_prefix": format!("/apps/{id}/config-vars"),
                   "message": "injected: service unavailable"}),
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
