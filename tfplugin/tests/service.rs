//! The tfplugin6 service over the framework, called directly (no network): the protocol
//! behaviour Terraform relies on, including RPCs and fields Terraform 1.0.3 never uses.

use std::collections::BTreeMap;
use std::sync::Arc;

use async_trait::async_trait;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use tfplugin::framework::{
    data_source, ephemeral_resource, resource, Context, DataSource, DynDataSource,
    DynEphemeralResource, DynResource, EphemeralResource, Opened, Provider, Resource,
};
use tfplugin::proto::tfplugin6 as pb;
use tfplugin::proto::tfplugin6::provider_server::Provider as _;
use tfplugin::schema::SchemaDeriveError;
use tfplugin::service::ProviderService;
use tfplugin::value::{msgpack, Type, Value};
use tfplugin::{Diagnostics, Field, Sensitive, WriteOnly};
use tonic::Request;

#[derive(Debug, Deserialize, JsonSchema, tfplugin::Model)]
struct Config {
    /// Anything.
    label: Option<String>,
}

fn default_size() -> Field<String> {
    Field::known("small")
}

/// A name without spaces: parsing it is its validation.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
struct Name(String);

impl<'de> Deserialize<'de> for Name {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        if text.contains(' ') {
            return Err(serde::de::Error::custom("names have no spaces"));
        }
        Ok(Name(text))
    }
}

/// A thing.
#[derive(Debug, Serialize, Deserialize, JsonSchema, tfplugin::Model)]
struct ThingModel {
    /// Its name; changing it replaces the thing.
    #[tf(requires_replace)]
    name: Field<Name>,
    /// A secret.
    #[serde(default)]
    secret: Field<Sensitive>,
    /// Size, defaulted.
    #[serde(default = "default_size")]
    size: Field<String>,
    /// Set by the server.
    #[tf(computed, use_state_for_unknown)]
    #[serde(default)]
    id: Field<String>,
    /// A write-only token, written to `TOKENS` (the test's view of what create received).
    #[serde(default)]
    token_wo: Field<WriteOnly>,
}

/// What create and update received as `token_wo`, per thing name.
static TOKENS: std::sync::Mutex<Vec<(String, String)>> = std::sync::Mutex::new(Vec::new());

struct Thing;

#[async_trait]
impl Resource for Thing {
    type Model = ThingModel;
    type Client = String;

    fn type_name(&self) -> &'static str {
        "test_thing"
    }

    async fn plan_destroy(
        &self,
        ctx: &Context<'_, String>,
        prior: &ThingModel,
    ) -> Result<(), Diagnostics> {
        let name = prior.name.value()?;
        ctx.add(tfplugin::Diagnostic::warning(
            "Destroy only forgets",
            format!("{} stays where it is.", name.0),
        ));
        Ok(())
    }

    async fn create(
        &self,
        ctx: &Context<'_, String>,
        mut plan: ThingModel,
    ) -> Result<ThingModel, Diagnostics> {
        let name = plan.name.value()?.0.clone();
        if name == "panic" {
            panic!("boom");
        }
        if let Some(token) = plan.token_wo.get() {
            TOKENS
                .lock()
                .unwrap()
                .push((name.clone(), token.expose().to_string()));
        }
        plan.id.set(format!("{}-{name}", ctx.client()?));
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
            name: Field::known(Name(id.into())),
            secret: Field::Null,
            size: default_size(),
            id: Field::known(id),
            token_wo: Field::Null,
        })
    }
}

/// An echo.
#[derive(Debug, Serialize, Deserialize, JsonSchema, tfplugin::Model)]
struct EchoModel {
    /// Input.
    input: Field<String>,
    /// Output.
    #[tf(computed)]
    #[serde(default)]
    output: Field<String>,
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
        config.output.set(config.input.value()?.to_uppercase());
        Ok(config)
    }
}

/// A short-lived token.
#[derive(Debug, Serialize, Deserialize, JsonSchema, tfplugin::Model)]
struct TokenModel {
    /// Who the token is for.
    subject: Field<String>,
    /// The token.
    #[tf(computed)]
    #[serde(default)]
    value: Field<Sensitive>,
}

struct Token;

/// Subjects whose token was closed.
static CLOSED: std::sync::Mutex<Vec<String>> = std::sync::Mutex::new(Vec::new());

#[async_trait]
impl EphemeralResource for Token {
    type Model = TokenModel;
    type Client = String;

    fn type_name(&self) -> &'static str {
        "test_token"
    }

    async fn open(
        &self,
        ctx: &Context<'_, String>,
        mut config: TokenModel,
    ) -> Result<Opened<TokenModel>, Diagnostics> {
        let subject = config.subject.value()?.clone();
        ctx.set_private("subject", &subject);
        config.value.set(Sensitive::new(format!("tok-{subject}")));
        Ok(Opened {
            result: config,
            renew_at: Some(std::time::UNIX_EPOCH + std::time::Duration::from_secs(4_000_000_000)),
        })
    }

    async fn renew(
        &self,
        ctx: &Context<'_, String>,
    ) -> Result<Option<std::time::SystemTime>, Diagnostics> {
        Ok(ctx
            .private::<String>("subject")
            .map(|_| std::time::UNIX_EPOCH))
    }

    async fn close(&self, ctx: &Context<'_, String>) -> Result<(), Diagnostics> {
        if let Some(subject) = ctx.private::<String>("subject") {
            CLOSED.lock().unwrap().push(subject);
        }
        Ok(())
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

    fn ephemeral_resources(
        &self,
    ) -> Result<Vec<Arc<dyn DynEphemeralResource<String>>>, SchemaDeriveError> {
        Ok(vec![ephemeral_resource(Token)?])
    }
}

fn thing_type() -> Type {
    Type::object([
        ("name".to_string(), Type::String),
        ("secret".to_string(), Type::String),
        ("size".to_string(), Type::String),
        ("id".to_string(), Type::String),
        ("token_wo".to_string(), Type::String),
    ])
}

fn thing(name: Value, secret: Value, size: Value, id: Value) -> Value {
    Value::Object(BTreeMap::from([
        ("name".to_string(), name),
        ("secret".to_string(), secret),
        ("size".to_string(), size),
        ("id".to_string(), id),
        ("token_wo".to_string(), Value::Null),
    ]))
}

fn with_token(mut thing: Value, token: &str) -> Value {
    if let Value::Object(entries) = &mut thing {
        entries.insert("token_wo".into(), s(token));
    }
    thing
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
    assert_eq!(bad[0].detail, "Names have no spaces.");
    assert_eq!(bad[0].summary, "Invalid value for name");
    let null_name = validate(thing(Value::Null, Value::Null, Value::Null, Value::Null)).await;
    assert_eq!(null_name.len(), 1, "{null_name:?}");
    assert_eq!(null_name[0].summary, "Missing required argument");
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

#[tokio::test]
async fn write_only_values_reach_create_but_never_plan_or_state() {
    let service = configured().await;
    let ty = thing_type();
    let validate = |config: Value, allowed: bool| {
        let service = &service;
        let ty = ty.clone();
        async move {
            service
                .validate_resource_config(Request::new(pb::validate_resource_config::Request {
                    type_name: "test_thing".into(),
                    config: dv(&config, &ty),
                    client_capabilities: Some(pb::ClientCapabilities {
                        write_only_attributes_allowed: allowed,
                        ..Default::default()
                    }),
                }))
                .await
                .unwrap()
                .into_inner()
                .diagnostics
        }
    };
    let config = with_token(
        thing(s("wo"), Value::Null, Value::Null, Value::Null),
        "t0ken-wo-secret",
    );
    let refused = validate(config.clone(), false).await;
    assert_eq!(refused.len(), 1, "{refused:?}");
    assert!(refused[0].summary.contains("Terraform 1.11"), "{refused:?}");
    assert!(refused[0].detail.contains("token_wo"), "{refused:?}");
    assert!(validate(config.clone(), true).await.is_empty());

    let schema = service
        .get_provider_schema(Request::new(pb::get_provider_schema::Request {}))
        .await
        .unwrap()
        .into_inner();
    let block = schema.resource_schemas["test_thing"].block.clone().unwrap();
    let token = block
        .attributes
        .iter()
        .find(|a| a.name == "token_wo")
        .unwrap();
    assert!(token.write_only && token.sensitive && token.optional && !token.computed);

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
    let planned = decode(&plan.planned_state, &ty);
    assert_eq!(planned.get_attr("token_wo"), Some(&Value::Null));
    let applied = service
        .apply_resource_change(Request::new(pb::apply_resource_change::Request {
            type_name: "test_thing".into(),
            prior_state: dv(&Value::Null, &ty),
            planned_state: dv(&planned, &ty),
            config: dv(&config, &ty),
            ..Default::default()
        }))
        .await
        .unwrap()
        .into_inner();
    assert!(applied.diagnostics.is_empty(), "{:?}", applied.diagnostics);
    let state = decode(&applied.new_state, &ty);
    assert_eq!(state.get_attr("token_wo"), Some(&Value::Null));
    assert!(TOKENS
        .lock()
        .unwrap()
        .contains(&("wo".to_string(), "t0ken-wo-secret".to_string())));
}

#[tokio::test]
async fn destroy_plans_run_the_resource_and_carry_its_warning() {
    let service = configured().await;
    let ty = thing_type();
    let prior = thing(s("kept"), Value::Null, s("small"), s("srv-kept"));
    let plan = service
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
    assert_eq!(decode(&plan.planned_state, &ty), Value::Null);
    assert_eq!(plan.diagnostics.len(), 1, "{:?}", plan.diagnostics);
    assert_eq!(
        plan.diagnostics[0].severity,
        pb::diagnostic::Severity::Warning as i32
    );
    assert!(plan.diagnostics[0].detail.contains("kept stays"));
}

#[tokio::test]
async fn ephemeral_resources_open_renew_and_close_with_private_data() {
    let service = configured().await;
    let metadata = service
        .get_metadata(Request::new(pb::get_metadata::Request {}))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(metadata.ephemeral_resources[0].type_name, "test_token");
    let schema = service
        .get_provider_schema(Request::new(pb::get_provider_schema::Request {}))
        .await
        .unwrap()
        .into_inner();
    let block = schema.ephemeral_resource_schemas["test_token"]
        .block
        .clone()
        .unwrap();
    assert!(block
        .attributes
        .iter()
        .any(|a| a.name == "value" && a.sensitive && a.computed));

    let ty = Type::object([
        ("subject".to_string(), Type::String),
        ("value".to_string(), Type::String),
    ]);
    let config = Value::Object(BTreeMap::from([
        ("subject".to_string(), s("ci")),
        ("value".to_string(), Value::Null),
    ]));
    let validated = service
        .validate_ephemeral_resource_config(Request::new(
            pb::validate_ephemeral_resource_config::Request {
                type_name: "test_token".into(),
                config: dv(&config, &ty),
            },
        ))
        .await
        .unwrap()
        .into_inner();
    assert!(validated.diagnostics.is_empty());
    let opened = service
        .open_ephemeral_resource(Request::new(pb::open_ephemeral_resource::Request {
            type_name: "test_token".into(),
            config: dv(&config, &ty),
            ..Default::default()
        }))
        .await
        .unwrap()
        .into_inner();
    assert!(opened.diagnostics.is_empty(), "{:?}", opened.diagnostics);
    let result = decode(&opened.result, &ty);
    assert_eq!(result.get_attr("value"), Some(&s("tok-ci")));
    assert_eq!(opened.renew_at.map(|t| t.seconds), Some(4_000_000_000));
    let private = opened.private.expect("private data");
    let renewed = service
        .renew_ephemeral_resource(Request::new(pb::renew_ephemeral_resource::Request {
            type_name: "test_token".into(),
            private: Some(private.clone()),
        }))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(renewed.renew_at.map(|t| t.seconds), Some(0));
    let closed = service
        .close_ephemeral_resource(Request::new(pb::close_ephemeral_resource::Request {
            type_name: "test_token".into(),
            private: Some(private),
        }))
        .await
        .unwrap()
        .into_inner();
    assert!(closed.diagnostics.is_empty());
    assert!(CLOSED.lock().unwrap().contains(&"ci".to_string()));
}
