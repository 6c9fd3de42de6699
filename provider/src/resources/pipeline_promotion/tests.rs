//! Unit tests of the promotion's model, limits and identity comparisons.
use tfplugin::framework::{OperationResource, Resource};

use super::plan::{same_apps, same_pipeline};
use super::*;
use crate::clients::heroku::PromotionStatus;
use serde_json::json;

fn config(extra: serde_json::Value) -> serde_json::Value {
    let mut config = json!({
        "pipeline": "treeherder",
        "source_app": "treeherder-stage",
        "targets": ["treeherder-prod"],
        "release_id": null,
        "triggers": null,
        "id": null,
        "status": null,
        "source_release_id": null,
        "promoted_releases": null,
        "timeouts": null,
    });
    if let (Some(config), Some(extra)) = (config.as_object_mut(), extra.as_object()) {
        config.extend(extra.clone());
    }
    config
}

fn model(extra: serde_json::Value) -> Result<PipelinePromotionModel, serde_json::Error> {
    serde_json::from_value(config(extra))
}

#[test]
fn create_timeout_is_parsed_once_and_defaults_to_30m() {
    let m = model(json!({ "timeouts": { "create": "1h30m" } })).unwrap();
    let default = PipelinePromotionResource::DEFAULT_TIMEOUT;
    let limit = TimeLimit::of(PipelinePromotionResource::timeouts(&m), default);
    assert_eq!(limit.limit, Duration::from_secs(5400));
    assert_eq!(limit.text, "1h30m");
    let m = model(json!({ "timeouts": { "create": null } })).unwrap();
    let limit = TimeLimit::of(PipelinePromotionResource::timeouts(&m), default);
    assert_eq!((limit.limit, limit.text.as_str()), (default, "30m"));
    assert_eq!(
        TimeLimit::of(None, default).limit,
        Duration::from_secs(1800)
    );
    // A bad limit is rejected by the model (at timeouts.create, by the framework).
    let err = model(json!({ "timeouts": { "create": "soon" } })).unwrap_err();
    assert!(
        err.to_string().contains("invalid duration \"soon\""),
        "{err}"
    );
}

#[test]
fn targets_and_release_id_are_checked_by_the_model() {
    let err = model(json!({ "targets": [] })).unwrap_err();
    assert!(err.to_string().contains("at least one app"), "{err}");
    let err = model(json!({ "release_id": "v42" })).unwrap_err();
    assert!(err.to_string().contains("expected a UUID"), "{err}");
    let id = "01234567-89AB-cdef-0123-456789abcdef";
    let m = model(json!({ "release_id": id })).unwrap();
    assert_eq!(m.release_id.get().map(Uuid::as_str), Some(id));
    assert_eq!(serde_json::to_value(&m).unwrap()["release_id"], json!(id));
    assert_eq!(target_path(1).to_string(), "targets[1]");
}

#[test]
fn schema_leaves_replacement_to_modify_plan() {
    let schema = OperationResource(PipelinePromotionResource)
        .schema()
        .unwrap();
    // Replacement is decided by identity in modify_plan, not by spelling.
    for name in [
        "pipeline",
        "source_app",
        "targets",
        "release_id",
        "triggers",
    ] {
        let attribute = schema.block.attribute(name).unwrap();
        assert!(!attribute.computed, "{name}");
    }
    for name in ["id", "status", "source_release_id", "promoted_releases"] {
        assert!(schema.block.attribute(name).unwrap().computed, "{name}");
    }
    let timeouts = schema.block.block_type("timeouts").unwrap();
    assert!(timeouts.block.attribute("create").unwrap().optional);
    let err = model(json!({ "targets": [".."] })).unwrap_err();
    assert!(err.to_string().contains("lowercase letters"), "{err}");
    let err = model(json!({ "source_app": "" })).unwrap_err();
    assert!(err.to_string().contains("app UUID"), "{err}");
}

#[tokio::test]
async fn without_a_client_only_the_same_spelling_is_the_same() {
    assert!(same_pipeline(None, Some("treeherder"), Some("treeherder"))
        .await
        .unwrap());
    assert!(!same_pipeline(None, Some("treeherder"), Some("other"))
        .await
        .unwrap());
    let app = |s: &str| AppIdentity::parse(s).unwrap();
    let (a, b) = ([app("treeherder-prod")], [app("treeherder-stage")]);
    assert!(same_apps(None, Some(&a), Some(&a)).await.unwrap());
    assert!(!same_apps(None, Some(&a), Some(&b)).await.unwrap());
    assert!(!same_apps(None, Some(&a), None).await.unwrap());
}

#[test]
fn status_text_is_herokus_spelling() {
    assert_eq!(status_text(&PromotionTargetStatus::Succeeded), "succeeded");
    assert_eq!(status_text(&PromotionStatus::Completed), "completed");
}
