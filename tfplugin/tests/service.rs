//! The tfplugin6 service over the framework, called directly (no network): the protocol
//! behaviour Terraform relies on, including RPCs and fields Terraform 1.0.3 never uses.

use std::collections::BTreeMap;
use std::sync::Arc;

use async_trait::async_trait;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use tfplugin::framework::{
    data_source, resource, Context, DataSource, DynDataSource, DynResource, Provider, Resource,
};
use tfplugin::proto::tfplugin6 as pb;
use tfplugin::proto::tfplugin6::provider_server::Provider as _;
use tfplugin::schema::{Schema, SchemaDeriveError};
use tfplugin::service::ProviderService;
use tfplugin::validators::CheckFn;
use tfplugin::value::{msgpack, Type, Value};
use tfplugin::Diagnostics;
use tonic::Request;

#[derive(Debug, Deserialize, JsonSchema)]
struct Config {
    /// Anything.
    label: Option<String>,
}

fn default_size() -> String {
    "small".into()
}

/// A thing.
#[derive(Debug, Serialize, Deserialize, JsonSchema)]
struct ThingModel {
    /// Its name; changing it replaces the thing.
    #[schemars(extend("x-terraform" = { "requires_replace": true }))]
    name: String,
    /// A secret.
    #[schemars(extend("x-terraform" = { "sensitive": true }))]
    secret: Option<String>,
    /// Size, defaulted.
    #[serde(default = "default_size")]
    size: String,
    /// Set by the server.
    #[schemars(extend("x-terraform" = { "computed": true, "use_state_for_unknown": true }))]
    id: Option<String>,
}

struct Thing;

#[async_trait]
impl Resource for Thing {
    type Model = ThingModel;
    type Client = String;

    fn type_name(&self) -> &'static str {
        "test_thing"
    }

    fn schema(&self) -> Result<Schema, SchemaDeriveError> {
        Schema::from_model::<ThingModel>()?.with_validator(
            "name",
            CheckFn::new("a name without spaces", |v| match v.as_str() {
                Some(s) if s.contains(' ') => Err("names have no spaces".into()),
                _ => Ok(()),
            }),
        )
    }

    async fn create(
        &self,
        ctx: &Context<'_, String>,
        mut plan: ThingModel,
    ) -> Result<ThingModel, Diagnostics> {
        if plan.name == "panic" {
            panic!("boom");
        }
        plan.id = Some(format!("{}-{}", ctx.client()?, plan.name));
        Ok(plan)
    }

    async fn read(
        &self,
        _ctx: &Context<'_, String>,
        state: ThingModel,
    ) -> Result<Option<ThingModel>, Diagnostics> {
        Ok(Some(state))
    }

    async fn update(
        &self,
        _ctx: &Context<'_, String>,
        _prior: ThingModel,
        plan: ThingModel,
    ) -> Result<ThingModel, Diagnostics> {
        Ok(plan)
    }

    async fn delete(
        &self,
        _ctx: &Context<'_, String>,
        _state: ThingModel,
    ) -> Result<(), Diagnostics> {
        Ok(())
    }

    async fn import(
        &self,
        _ctx: &Context<'_, String>,
        id: &str,
    ) -> Result<ThingModel, Diagnostics> {
        Ok(ThingModel {
            name: id.into(),
            secret: None,
            size: default_size(),
            id: Some(id.into()),
        })
    }
}

/// An echo.
#[derive(Debug, Serialize, Deserialize, JsonSchema)]
struct EchoModel {
    /// Input.
    input: String,
    /// Output.
    #[schemars(extend("x-terraform" = { "computed": true }))]
    output: Option<String>,
}

struct Echo;

#[async_trait]
impl DataSource for Echo {
    type Model = EchoModel;
    type Client = String;

    fn type_name(&self) -> &'static str {
        "test_echo"
    }

    async fn read(
        &self,
        _ctx: &Context<'_, String>,
        mut config: EchoModel,
    ) -> Result<EchoModel, Diagnostics> {
        config.output = Some(config.input.to_uppercase());
        Ok(config)
    }
}

struct TestProvider;

#[async_trait]
impl Provider for TestProvider {
    type Config = Config;
    type Client = String;

    fn type_name(&self) -> &'static str {
        "test"
    }

    async fn configure(&self, config: Config, _version: &str) -> Result<String, Diagnostics> {
        Ok(config.label.unwrap_or_else(|| "default".into()))
    }

    fn resources(&self) -> Result<Vec<Arc<dyn DynResource<String>>>, SchemaDeriveError> {
        Ok(vec![resource(Thing)?])
    }

    fn data_sources(&self) -> Result<Vec<Arc<dyn DynDataSource<String>>>, SchemaDeriveError> {
        Ok(vec![data_source(Echo)?])
    }
}

fn thing_type() -> Type {
    Type::object([
        ("name".to_string(), Type::String),
        ("secret".to_string(), Type::String),
        ("size".to_string(), Type::String),
        ("id".to_string(), Type::String),
    ])
}

fn thing(name: Value, secret: Value, size: Value, id: Value) -> Value {
    Value::Object(BTreeMap::from([
        ("name".to_string(), name),
        ("secret".to_string(), secret),
        ("size".to_string(), size),
        ("id".to_string(), id),
    ]))
}

fn s(text: &str) -> Value {
    Value::String(text.into())
}

fn dv(value: &Value, ty: &Type) -> Option<pb::DynamicValue> {
    Some(pb::DynamicValue {
        msgpack: msgpack::encode(value, ty).unwrap(),
        json: Vec::new(),
    })
}

fn decode(value: &Option<pb::DynamicValue>, ty: &Type) -> Value {
    msgpack::decode(&value.as_ref().unwrap().msgpack, ty).unwrap()
}

async fn configured() -> ProviderService<TestProvider> {
    let service = ProviderService::new(TestProvider);
    let config = Value::Object(BTreeMap::from([("label".to_string(), s("srv"))]));
    let ty = Type::object([("label".to_string(), Type::String)]);
    let response = service
        .configure_provider(Request::new(pb::configure_provider::Request {
            terraform_version: "1.0.3".into(),
            config: dv(&config, &ty),
            ..Default::default()
        }))
        .await
        .unwrap()
        .into_inner();
    assert!(
        response.diagnostics.is_empty(),
        "{:?}",
        response.diagnostics
    );
    service
}

#[tokio::test]
async fn metadata_and_schema_advertise_capabilities_without_call_order() {
    // No GetProviderSchema first: newer Terraform may skip it (get_provider_schema_optional).
    let service = ProviderService::new(TestProvider);
    let metadata = service
        .get_metadata(Request::new(pb::get_metadata::Request {}))
        .await
        .unwrap()
        .into_inner();
    let caps = metadata.server_capabilities.unwrap();
    assert!(caps.plan_destroy && caps.get_provider_schema_optional);
    assert_eq!(metadata.resources[0].type_name, "test_thing");
    assert_eq!(metadata.data_sources[0].type_name, "test_echo");

    let schema = service
        .get_provider_schema(Request::new(pb::get_provider_schema::Request {}))
        .await
        .unwrap()
        .into_inner();
    assert!(
        schema.provider.is_some(),
        "Terraform 1.0.3 needs a provider schema"
    );
    let block = schema.resource_schemas["test_thing"].block.clone().unwrap();
    let secret = block
        .attributes
        .iter()
        .find(|a| a.name == "secret")
        .unwrap();
    assert!(secret.sensitive && secret.optional && !secret.required);
    let size = block.attributes.iter().find(|a| a.name == "size").unwrap();
    assert!(
        size.optional && size.computed,
        "a default makes the attribute optional+computed"
    );
    let id = block.attributes.iter().find(|a| a.name == "id").unwrap();
    assert!(id.computed && !id.optional);
    assert_eq!(id.r#type, b"\"string\"");
    assert_eq!(id.description_kind, pb::StringKind::Markdown as i32);
}

#[tokio::test]
async fn validators_name_the_attribute_and_skip_unknowns() {
    let service = ProviderService::new(TestProvider);
    let validate = |config: Value| {
        let service = &service;
        async move {
            service
                .validate_resource_config(Request::new(pb::validate_resource_config::Request {
                    type_name: "test_thing".into(),
                    config: dv(&config, &thing_type()),
                    ..Default::default()
                }))
                .await
                .unwrap()
                .into_inner()
                .diagnostics
        }
    };
    let bad = validate(thing(s("a b"), Value::Null, Value::Null, Value::Null)).await;
    assert_eq!(bad.len(), 1);
    assert_eq!(bad[0].severity, pb::diagnostic::Severity::Error as i32);
    let step = &bad[0].attribute.as_ref().unwrap().steps[0];
    assert_eq!(
        step.selector,
        Some(pb::attribute_path::step::Selector::AttributeName(
            "name".into()
        ))
    );
    assert!(bad[0].detail.contains("names have no spaces"));
    assert!(
        validate(thing(Value::Unknown, Value::Null, Value::Null, Value::Null))
            .await
            .is_empty()
    );
}

#[tokio::test]
async fn plan_create_then_apply_then_unchanged_plan_is_a_no_op() {
    let service = configured().await;
    let ty = thing_type();
    let config = thing(s("a"), s("hunter2-secret"), Value::Null, Value::Null);
    let plan = service
        .plan_resource_change(Request::new(pb::plan_resource_change::Request {
            type_name: "test_thing".into(),
            prior_state: dv(&Value::Null, &ty),
            proposed_new_state: dv(&config, &ty),
            config: dv(&config, &ty),
            ..Default::default()
        }))
        .await
        .unwrap()
        .into_inner();
    assert!(plan.diagnostics.is_empty(), "{:?}", plan.diagnostics);
    let planned = decode(&plan.planned_state, &ty);
    assert_eq!(
        planned,
        thing(s("a"), s("hunter2-secret"), s("small"), Value::Unknown)
    );

    let applied = service
        .apply_resource_change(Request::new(pb::apply_resource_change::Request {
            type_name: "test_thing".into(),
            prior_state: dv(&Value::Null, &ty),
            planned_state: plan.planned_state.clone(),
            config: dv(&config, &ty),
            ..Default::default()
        }))
        .await
        .unwrap()
        .into_inner();
    let state = decode(&applied.new_state, &ty);
    assert_eq!(
        state,
        thing(s("a"), s("hunter2-secret"), s("small"), s("srv-a"))
    );

    // Same config against that state: planned must equal prior (no unknowns), or every plan shows a diff.
    let proposed = thing(s("a"), s("hunter2-secret"), s("small"), s("srv-a"));
    let replan = service
        .plan_resource_change(Request::new(pb::plan_resource_change::Request {
            type_name: "test_thing".into(),
            prior_state: dv(&state, &ty),
            proposed_new_state: dv(&proposed, &ty),
            config: dv(&config, &ty),
            ..Default::default()
        }))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(decode(&replan.planned_state, &ty), state);
    assert!(replan.requires_replace.is_empty());
}

#[tokio::test]
async fn renaming_requires_replacement_and_destroy_plans_null() {
    let service = configured().await;
    let ty = thing_type();
    let prior = thing(s("a"), Value::Null, s("small"), s("srv-a"));
    let config = thing(s("b"), Value::Null, Value::Null, Value::Null);
    let proposed = thing(s("b"), Value::Null, s("small"), s("srv-a"));
    let plan = service
        .plan_resource_change(Request::new(pb::plan_resource_change::Request {
            type_name: "test_thing".into(),
            prior_state: dv(&prior, &ty),
            proposed_new_state: dv(&proposed, &ty),
            config: dv(&config, &ty),
            ..Default::default()
        }))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(plan.requires_replace.len(), 1);

    // plan_destroy: Terraform >= 1.3 asks to plan a destroy with a null proposed state.
    let destroy = service
        .plan_resource_change(Request::new(pb::plan_resource_change::Request {
            type_name: "test_thing".into(),
            prior_state: dv(&prior, &ty),
            proposed_new_state: dv(&Value::Null, &ty),
            config: dv(&Value::Null, &ty),
            ..Default::default()
        }))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(decode(&destroy.planned_state, &ty), Value::Null);
}

#[tokio::test]
async fn a_panic_becomes_a_diagnostic_and_the_service_keeps_serving() {
    let service = configured().await;
    let ty = thing_type();
    let planned = thing(s("panic"), Value::Null, s("small"), Value::Unknown);
    let applied = service
        .apply_resource_change(Request::new(pb::apply_resource_change::Request {
            type_name: "test_thing".into(),
            prior_state: dv(&Value::Null, &ty),
            planned_state: dv(&planned, &ty),
            ..Default::default()
        }))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(applied.diagnostics.len(), 1);
    assert!(
        applied.diagnostics[0].detail.contains("boom"),
        "{:?}",
        applied.diagnostics
    );
    // Still serving.
    let metadata = service
        .get_metadata(Request::new(pb::get_metadata::Request {}))
        .await;
    assert!(metadata.is_ok());
}

#[tokio::test]
async fn upgrade_fills_missing_attributes_and_drops_removed_ones() {
    let service = ProviderService::new(TestProvider);
    let response = service
        .upgrade_resource_state(Request::new(pb::upgrade_resource_state::Request {
            type_name: "test_thing".into(),
            version: 0,
            raw_state: Some(pb::RawState {
                json: br#"{"name":"a","removed_attr":1}"#.to_vec(),
                ..Default::default()
            }),
        }))
        .await
        .unwrap()
        .into_inner();
    assert!(
        response.diagnostics.is_empty(),
        "{:?}",
        response.diagnostics
    );
    let ty = thing_type();
    assert_eq!(
        decode(&response.upgraded_state, &ty),
        thing(s("a"), Value::Null, Value::Null, Value::Null)
    );
}

#[tokio::test]
async fn import_carries_the_type_name_and_unknown_types_are_diagnostics() {
    let service = configured().await;
    let response = service
        .import_resource_state(Request::new(pb::import_resource_state::Request {
            type_name: "test_thing".into(),
            id: "x".into(),
            ..Default::default()
        }))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(response.imported_resources.len(), 1);
    assert_eq!(response.imported_resources[0].type_name, "test_thing");

    let unknown = service
        .read_resource(Request::new(pb::read_resource::Request {
            type_name: "test_nope".into(),
            ..Default::default()
        }))
        .await
        .unwrap()
        .into_inner();
    assert!(unknown.diagnostics[0]
        .summary
        .contains("Unknown resource type"));
}

#[tokio::test]
async fn data_source_fills_computed_attributes() {
    let service = configured().await;
    let ty = Type::object([
        ("input".to_string(), Type::String),
        ("output".to_string(), Type::String),
    ]);
    let config = Value::Object(BTreeMap::from([
        ("input".to_string(), s("hi")),
        ("output".to_string(), Value::Null),
    ]));
    let response = service
        .read_data_source(Request::new(pb::read_data_source::Request {
            type_name: "test_echo".into(),
            config: dv(&config, &ty),
            ..Default::default()
        }))
        .await
        .unwrap()
        .into_inner();
    assert!(
        response.diagnostics.is_empty(),
        "{:?}",
        response.diagnostics
    );
    assert_eq!(
        decode(&response.state, &ty).get_attr("output"),
        Some(&s("HI"))
    );
}
