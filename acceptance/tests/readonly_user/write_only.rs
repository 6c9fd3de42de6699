//! Write-only passwords (Terraform >= 1.11): out of the state, rotated by version; the password
//! arguments checked at validate.

use super::*;

/// Two write-only accounts (Terraform 1.11.4): one fed by an ephemeral variable (a known
/// password, for the login checks), one by `ephemeral.treeherder_password`.
fn write_only_config(known: &str, generated: &str, var: &str, version: u64) -> String {
    format!(
        r#"{PROVIDER_CONFIG}
variable "pw1" {{
  type      = string
  sensitive = true
  ephemeral = true
}}
variable "pw2" {{
  type      = string
  sensitive = true
  ephemeral = true
}}
ephemeral "treeherder_password" "generated" {{}}

resource "treeherder_readonly_user" "known" {{
  name                = "{known}"
  password_wo         = var.{var}
  password_wo_version = {version}
}}
resource "treeherder_readonly_user" "generated" {{
  name                = "{generated}"
  password_wo         = ephemeral.treeherder_password.generated.result
  password_wo_version = 1
}}
"#
    )
}

/// Fails when one of `secrets` occurs anywhere in `what`'s JSON.
fn absent(what: &str, json: &Value, secrets: &[&str]) -> Result<(), String> {
    let text = json.to_string();
    if secrets.iter().any(|s| text.contains(s)) {
        return Err(format!("a password appears in the {what}"));
    }
    Ok(())
}

/// No password attribute holds a value in a state's or plan's object.
fn no_password_values(values: &Value) -> Result<(), String> {
    for attribute in ["password", "password_wo"] {
        if values.get(attribute).is_some_and(|v| !v.is_null()) {
            return Err(format!("{attribute} holds a value: {}", values[attribute]));
        }
    }
    Ok(())
}

/// `password_wo`: the state and saved plans never hold the password, logins work over TLS
/// (only), a bump of `password_wo_version` rotates it (old refused, new accepted), a changed
/// write-only value without a bump changes nothing, and an account fed by
/// `ephemeral.treeherder_password` is created.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn write_only_passwords_stay_out_of_state_and_rotate_by_version() {
    let world = Arc::new(World::require(&[Service::Mysql]));
    let known = unique("wo_known");
    let generated = unique("wo_gen");
    let (pw1, pw2) = (password("w", 'Z'), password("v", 'Z'));
    let known_addr = "treeherder_readonly_user.known";
    let generated_addr = "treeherder_readonly_user.generated";

    let created = {
        let (world, known, generated, pw1, pw2) = (
            world.clone(),
            known.clone(),
            generated.clone(),
            pw1.clone(),
            pw2.clone(),
        );
        move |state: acceptance::harness::State| {
            let (world, known, generated, pw1, pw2) = (
                world.clone(),
                known.clone(),
                generated.clone(),
                pw1.clone(),
                pw2.clone(),
            );
            async move {
                absent("state", state.raw(), &[&pw1, &pw2])?;
                for address in [known_addr, generated_addr] {
                    let values = state
                        .resource(address)
                        .ok_or(format!("{address} is not in state"))?
                        .values;
                    no_password_values(&values)?;
                    state.expect_attr(address, "password_wo_version", 1)?;
                }
                login(&world, &known, &pw1, true)
                    .await
                    .map_err(|c| format!("{known} cannot log in over TLS: {c}"))?;
                if login(&world, &known, &pw1, false).await != Err(1045) {
                    return Err(format!("{known} logs in without TLS"));
                }
                let mut conn = admin(&world).await;
                let made = privileges(&mut conn, &generated)
                    .await
                    .ok_or(format!("{generated} was not created"))?;
                conn.disconnect().await.ok();
                if made.ssl_type != "ANY" || made.tables.is_empty() {
                    return Err(format!("{generated}: {made:?}"));
                }
                Ok::<(), String>(())
            }
        }
    };
    let rotated = {
        let (world, known, pw1, pw2) = (world.clone(), known.clone(), pw1.clone(), pw2.clone());
        move |state: acceptance::harness::State| {
            let (world, known, pw1, pw2) = (world.clone(), known.clone(), pw1.clone(), pw2.clone());
            async move {
                absent("state", state.raw(), &[&pw1, &pw2])?;
                state.expect_attr(known_addr, "password_wo_version", 2)?;
                login(&world, &known, &pw2, true)
                    .await
                    .map_err(|c| format!("the new password is refused: {c}"))?;
                if login(&world, &known, &pw1, true).await != Err(1045) {
                    return Err("the old password still works".to_string());
                }
                Ok::<(), String>(())
            }
        }
    };
    let (p1, p2) = (pw1.clone(), pw2.clone());
    let (q1, q2) = (pw1.clone(), pw2.clone());
    let expected_alter = format!("ALTER USER '{known}'@'%' IDENTIFIED BY '<password>'");
    let result = treeherder_case()
        .terraform_latest()
        .envs(world.env().clone())
        .env("TF_VAR_pw1", pw1.clone())
        .env("TF_VAR_pw2", pw2.clone())
        .sensitive(pw1.clone())
        .sensitive(pw2.clone())
        .step(
            Step::config(write_only_config(&known, &generated, "pw1", 1))
                .plan_check(move |plan| -> CheckResult {
                    absent("saved plan", plan.raw(), &[&p1, &p2])?;
                    for address in [known_addr, generated_addr] {
                        let change = change_of(plan, address)?;
                        if change.actions != ["create"] {
                            return Err(format!("{address}: {:?}", change.actions).into());
                        }
                        no_password_values(&change.after)?;
                    }
                    Ok(())
                })
                .check_async(created),
        )
        .step(
            Step::config(write_only_config(&known, &generated, "pw2", 2))
                .plan_check(move |plan| -> CheckResult {
                    absent("saved plan", plan.raw(), &[&q1, &q2])?;
                    let change = change_of(plan, known_addr)?;
                    only_changes(&change, &["grant_statements", "password_wo_version"])?;
                    no_password_values(&change.after)?;
                    let statements = strings(&change.after["grant_statements"]);
                    if statements != [expected_alter.clone()] {
                        return Err(format!("planned SQL: {statements:?}").into());
                    }
                    if !change_of(plan, generated_addr)?.is_no_op() {
                        return Err("the generated account must not change".into());
                    }
                    Ok(())
                })
                .check_async(rotated),
        )
        .step(
            // Another write-only value without a version bump: the plan (refreshed or not)
            // must be empty, so nothing is sent.
            Step::config(write_only_config(&known, &generated, "pw1", 2)).plan_only(),
        )
        .try_run()
        .await;
    drop_accounts(&world, &[known, generated]).await;
    if let Err(failure) = result {
        panic!("{failure}");
    }
}

/// Both passwords: an error at validate; neither, for a new account: an error at plan (an
/// imported one may omit both, see readonly_user_adopt.rs), each saying what to set;
/// Terraform 1.0.3 is told `password_wo` needs 1.11.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn password_arguments_are_checked_at_validate() {
    let world = World::require(&[Service::Mysql]);
    let name = unique("wo_bad");
    let resource = |body: &str| {
        format!("{PROVIDER_CONFIG}\nresource \"treeherder_readonly_user\" \"x\" {{\n  name = \"{name}\"\n{body}}}\n")
    };
    let pw = password("b", 'Z');
    // A variable, not a literal: Terraform quotes the configuration line of an error.
    let variable = "variable \"pw\" {\n  type      = string\n  sensitive = true\n}\n";
    let both = format!(
        "{}{variable}",
        resource("  password = var.pw\n  password_wo = var.pw\n  password_wo_version = 1\n")
    );
    treeherder_case()
        .terraform_latest()
        .envs(world.env().clone())
        .env("TF_VAR_pw", pw.clone())
        .sensitive(pw.clone())
        .step(
            Step::config(resource("")).plan_only().expect_error(
                Regex::new(r"(?s)Missing required argument.*password is required.*password_wo")
                    .expect("regex"),
            ),
        )
        .step(Step::config(both).plan_only().expect_error(
            Regex::new(r"(?s)Conflicting password arguments.*only one of").expect("regex"),
        ))
        .step(
            Step::config(resource(
                "  password_wo = \"short\"\n  password_wo_version = 1\n",
            ))
            .plan_only()
            .expect_error(Regex::new(r"(?s)Invalid password.*at least 30").expect("regex")),
        )
        .step(Step::config(PROVIDER_CONFIG))
        .run()
        .await;

    let old = acceptance::harness::repo_root().join(".tools/bin/terraform");
    treeherder_case()
        .terraform(acceptance::harness::TerraformVersion::Binary(old))
        .envs(world.env().clone())
        .env("TF_VAR_pw", pw.clone())
        .sensitive(pw.clone())
        .step(
            Step::config(format!(
                "{}{variable}",
                resource("  password_wo = var.pw\n  password_wo_version = 1\n")
            ))
            .plan_only()
            .expect_error(
                Regex::new(r"(?s)Write-only attribute needs Terraform 1\.11.*password_wo")
                    .expect("regex"),
            ),
        )
        .step(Step::config(PROVIDER_CONFIG))
        .run()
        .await;
}
