//! `terraform plan -generate-config-out` (Terraform ≥ 1.5) of an imported resource writes a
//! configuration from its state. Values that cannot be read back (a readonly user's password)
//! come out as `null`; the generated configuration must then plan with zero changes and
//! apply without touching what it cannot read (the password stays the server's).

mod mysql_common;

use acceptance::harness::{terraform_latest_for, treeherder_provider};
use acceptance::harness::{Service, World, PROVIDER_CONFIG};
use mysql_common::password_hash;

const PASSWORD: &str = "Generated-config-probe-password-4821";

fn config(name: &str, body: &str) -> String {
    format!("{PROVIDER_CONFIG}\n{body}\n").replace("NAME", name)
}

#[tokio::test]
async fn a_generated_readonly_user_plans_only_the_import_and_keeps_the_password() {
    let world = World::require(&[Service::Mysql]);
    let mut secrets = world.secrets().to_vec();
    secrets.push(PASSWORD.to_string());
    let tf = terraform_latest_for(&[treeherder_provider()], world.env().clone(), secrets)
        .expect("terraform");
    let ws = tf.workspace("work").expect("workspace");
    let name = format!("gen_{}", std::process::id());
    let resource = format!(
        "resource \"treeherder_readonly_user\" \"x\" {{\n  name     = \"NAME\"\n  password = \"{PASSWORD}\"\n}}"
    );
    let import = "import {\n  to = treeherder_readonly_user.x\n  id = \"NAME@%\"\n}";

    ws.write_config(&config(&name, &resource)).expect("config");
    tf.require_success(ws.init().await.expect("init"))
        .expect("init");
    tf.require_success(ws.apply().await.expect("apply"))
        .expect("apply");
    let removed = ws
        .run(&["state", "rm", "treeherder_readonly_user.x"])
        .await
        .expect("state rm");
    tf.require_success(removed).expect("state rm");
    let hash = password_hash(&world, &name).await.ok();

    ws.write_config(&config(&name, import)).expect("config");
    let generated = ws
        .run(&[
            "plan",
            "-no-color",
            "-input=false",
            "-generate-config-out=generated.tf",
        ])
        .await
        .expect("plan");
    let text = std::fs::read_to_string(ws.dir().join("generated.tf")).unwrap_or_default();
    // The generated configuration as written, with its import block.
    let adopted = ws.apply().await.expect("apply");
    let after = password_hash(&world, &name).await.ok();
    let again = ws.plan(true).await;
    // Whatever happened, adopt the account with its password so that destroy removes it.
    ws.write_config(&config(&name, &format!("{resource}\n\n{import}")))
        .expect("config");
    std::fs::remove_file(ws.dir().join("generated.tf")).ok();
    let readopted = ws.apply().await.expect("apply");
    let destroyed = ws.destroy().await.expect("destroy");

    assert!(
        generated.success(),
        "the generated configuration failed to plan: {}",
        generated.stderr
    );
    assert!(
        generated
            .stdout
            .contains("Plan: 1 to import, 0 to add, 0 to change, 0 to destroy."),
        "the generated configuration must plan only the import: {}",
        generated.stdout
    );
    assert!(
        text.contains("password") && text.contains("null"),
        "generated.tf: {text}"
    );
    tf.require_success(adopted)
        .expect("applying the generated configuration");
    assert!(hash.is_some(), "no password hash before the import");
    assert_eq!(hash, after, "importing changed the password");
    let again = again.expect("plan after the import");
    assert!(!again.has_changes, "plan after the import: {}", again.text);
    tf.require_success(readopted)
        .expect("re-adopting the account");
    tf.require_success(destroyed).expect("destroy");
}
