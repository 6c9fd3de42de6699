//! `data "treeherder_rds_instances"` through real Terraform against the world's moto: the
//! instances whose identifier starts with a prefix, each with its import id, status, endpoint
//! and class as moto describes them; an instance with another prefix is left out.
//!
//! Expectations come from a second client (moto's Query API), never from the provider. Run
//! with `TREEHERDER_TERRAFORM` set to 1.0.3 and to a recent Terraform.

use acceptance::harness::treeherder_case;
use acceptance::harness::{xml_element, MotoControl, Service, Step, World, RDS_PROVIDER_CONFIG};
use serde_json::{json, Value};

const ADDR: &str = "data.treeherder_rds_instances.dev";

async fn create_instance(moto: &MotoControl, identifier: &str, class: &str) {
    moto.rds_query(
        "CreateDBInstance",
        &[
            ("DBInstanceIdentifier", identifier),
            ("DBInstanceClass", class),
            ("Engine", "mysql"),
            ("EngineVersion", "5.7.23"),
            ("AllocatedStorage", "20"),
            ("MasterUsername", "th_admin"),
            ("MasterUserPassword", "moto-ignores-this"),
        ],
    )
    .await
    .expect("moto creates the instance");
}

/// The listing's entry for `identifier`, from moto's own description of it.
async fn described(moto: &MotoControl, identifier: &str) -> Value {
    let xml = moto
        .rds_query(
            "DescribeDBInstances",
            &[("DBInstanceIdentifier", identifier)],
        )
        .await
        .expect("moto describes the instance");
    let field = |name| xml_element(&xml, name).unwrap_or_else(|| panic!("{name} in {xml}"));
    json!({
        "identifier": identifier,
        "import_id": identifier,
        "status": field("DBInstanceStatus"),
        "endpoint": format!("{}:{}", field("Address"), field("Port")),
        "instance_class": field("DBInstanceClass"),
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lists_the_instances_with_the_prefix_and_their_import_ids() {
    let world = World::require(&[Service::Moto]);
    let moto = MotoControl::from_world(&world).expect("moto in the world");
    // Names of this run only, so other tests' instances never match.
    let run = &uuid::Uuid::new_v4().simple().to_string()[..8];
    let prefix = format!("th-list-{run}-bug");
    let mut expected = Vec::new();
    for (bug, class) in [("1700001", "db.m5.xlarge"), ("1600002", "db.t3.micro")] {
        create_instance(&moto, &format!("{prefix}{bug}"), class).await;
    }
    // Shares the start of the prefix but not all of it.
    create_instance(&moto, &format!("th-list-{run}-other"), "db.t3.micro").await;
    for bug in ["1600002", "1700001"] {
        expected.push(described(&moto, &format!("{prefix}{bug}")).await);
    }
    let config = format!(
        "{RDS_PROVIDER_CONFIG}\ndata \"treeherder_rds_instances\" \"dev\" {{\n  identifier_prefix = \"{}\"\n}}\n",
        prefix.to_uppercase()
    );
    treeherder_case()
        .envs(world.env().clone())
        .step(Step::config(config).check(move |state| {
            state.expect_attr(ADDR, "instances", Value::Array(expected.clone()))
        }))
        .run()
        .await;
}
