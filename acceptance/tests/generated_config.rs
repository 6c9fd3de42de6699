//! `terraform plan -generate-config-out` (Terraform ≥ 1.5) of an imported resource writes a
//! configuration from its state. Values that cannot be read back (a readonly user's password)
//! come out as `null`; such a configuration must fail at plan saying what to fill in, never
//! pass plan and fail after the import completed.

use acceptance::harness::{ProviderUnderTest, Service, Terraform, World};

const PASSWORD: &str = "Generated-config-probe-password-4821";

fn config(name: &str, body: &str) -> String {
    format!(
        r#"
terraform {{
  required_providers {{
    treeherder = {{ source = "treeherder/treeherder" }}
  }}
}}

provider "treeherder" {{}}

{body}
"#
    )
    .replace("NAME", name)
}

#[tokio::test]
async fn a_generated_readonly_user_fails_at_plan_asking_for_its_password() {
    let world = World::require(&[Service::Mysql]);
    let mut secrets = world.secrets().to_vec();
    secrets.push(PASSWORD.to_string());
    let tf = Terraform::latest(
        &[ProviderUnderTest::treeherder()],
        world.env().clone(),
        secrets,
    )
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
    // Adopt the account again, whatever happened, so that destroy removes it.
    ws.write_config(&config(&name, &format!("{resource}\n\n{import}")))
        .expect("config");
    let adopted = ws.apply().await.expect("apply");
    let destroyed = ws.destroy().await.expect("destroy");

    assert!(
        !generated.success(),
        "the generated configuration passed plan"
    );
    assert!(
        generated.stderr.contains("Missing required argument")
            && generated.stderr.contains("password is required"),
        "the plan must say what to fill in: {}",
        generated.stderr
    );
    assert!(
        text.contains("password") && text.contains("null"),
        "generated.tf: {text}"
    );
    tf.require_success(adopted)
        .expect("re-adopting the account");
    tf.require_success(destroyed).expect("destroy");
}
