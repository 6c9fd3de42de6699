//! The `tfplugin6.Provider` gRPC service over a framework [`Provider`]: decoding and
//! encoding of values, diagnostics and schemas happen here and nowhere else.

use std::collections::BTreeMap;
use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::sync::Arc;

use futures::FutureExt;
use tokio::sync::{watch, RwLock};
use tonic::{Request, Response, Status};

use crate::diag::{Diagnostic, Diagnostics};
use crate::framework::{
    model, DynDataSource, DynEphemeralResource, DynResource, Private, Provider,
};
use crate::function::DynFunction;
use crate::proto::tfplugin6 as pb;
use crate::schema::Schema;
use crate::value::Type;

mod catalog;
mod convert;
mod functions;

use convert::*;

type Rpc<T> = Result<Response<T>, Status>;

/// Serves a framework [`Provider`] as `tfplugin6.Provider`.
pub struct ProviderService<P: Provider> {
    inner: Arc<Inner<P>>,
}

struct Inner<P: Provider> {
    provider: P,
    provider_schema: Schema,
    /// The provider block's object type, derived once.
    provider_type: Type,
    resources: BTreeMap<&'static str, Arc<dyn DynResource<P::Client>>>,
    data_sources: BTreeMap<&'static str, Arc<dyn DynDataSource<P::Client>>>,
    ephemeral_resources: BTreeMap<&'static str, Arc<dyn DynEphemeralResource<P::Client>>>,
    functions: BTreeMap<&'static str, Arc<dyn DynFunction>>,
    /// Problems found while deriving schemas: reported on every schema request.
    setup_errors: Diagnostics,
    client: RwLock<Option<Arc<P::Client>>>,
    stop: watch::Sender<bool>,
}

impl<P: Provider> ProviderService<P> {
    /// Derives every schema once and wraps the provider for serving.
    pub fn new(provider: P) -> Self {
        let mut setup_errors = Diagnostics::new();
        let mut setup = |what: &str, error: crate::schema::SchemaDeriveError| {
            setup_errors.error(
                format!("Invalid {what} schema (provider bug)"),
                error.to_string(),
            );
        };
        let provider_schema = provider.schema().unwrap_or_else(|e| {
            setup("provider", e);
            Schema::default()
        });
        let resources = provider
            .resources()
            .unwrap_or_else(|e| {
                setup("resource", e);
                Vec::new()
            })
            .into_iter()
            .map(|r| (r.type_name(), r))
            .collect();
        let data_sources = provider
            .data_sources()
            .unwrap_or_else(|e| {
                setup("data source", e);
                Vec::new()
            })
            .into_iter()
            .map(|d| (d.type_name(), d))
            .collect();
        let ephemeral_resources = provider
            .ephemeral_resources()
            .unwrap_or_else(|e| {
                setup("ephemeral resource", e);
                Vec::new()
            })
            .into_iter()
            .map(|e| (e.type_name(), e))
            .collect();
        let functions = provider
            .functions()
            .into_iter()
            .map(|f| (f.name(), f))
            .collect();
        let (stop, _) = watch::channel(false);
        ProviderService {
            inner: Arc::new(Inner {
                provider,
                provider_type: provider_schema.value_type(),
                provider_schema,
                resources,
                data_sources,
                ephemeral_resources,
                functions,
                setup_errors,
                client: RwLock::new(None),
                stop,
            }),
        }
    }
}

impl<P: Provider> Inner<P> {
    fn resource(&self, name: &str) -> Result<&Arc<dyn DynResource<P::Client>>, Diagnostics> {
        self.resources.get(name).ok_or_else(|| {
            Diagnostic::error(
                "Unknown resource type",
                format!("This provider has no resource type {name:?}."),
            )
            .into()
        })
    }

    fn data_source(&self, name: &str) -> Result<&Arc<dyn DynDataSource<P::Client>>, Diagnostics> {
        self.data_sources.get(name).ok_or_else(|| {
            Diagnostic::error(
                "Unknown data source",
                format!("This provider has no data source {name:?}."),
            )
            .into()
        })
    }

    fn ephemeral_resource(
        &self,
        name: &str,
    ) -> Result<&Arc<dyn DynEphemeralResource<P::Client>>, Diagnostics> {
        self.ephemeral_resources.get(name).ok_or_else(|| {
            Diagnostic::error(
                "Unknown ephemeral resource type",
                format!("This provider has no ephemeral resource type {name:?}."),
            )
            .into()
        })
    }

    async fn client(&self) -> Option<Arc<P::Client>> {
        self.client.read().await.clone()
    }
}

/// Runs a handler; a panic inside becomes an error diagnostic and the server keeps serving.
async fn guarded<T, F>(rpc: &str, handler: F) -> Result<T, Diagnostics>
where
    F: Future<Output = Result<T, Diagnostics>>,
{
    crate::trace!("{rpc} called");
    match AssertUnwindSafe(handler).catch_unwind().await {
        Ok(result) => result,
        Err(panic) => {
            let message = panic
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "unknown panic".into());
            let message = crate::log::mask(&message);
            crate::error!("{rpc} panicked: {message}");
            Err(Diagnostic::error(
                "Provider internal error",
                format!("{rpc} panicked: {message}. Please report this bug."),
            )
            .into())
        }
    }
}

fn split<T>(result: Result<T, Diagnostics>) -> (Option<T>, Diagnostics) {
    match result {
        Ok(value) => (Some(value), Diagnostics::new()),
        Err(diagnostics) => (None, diagnostics),
    }
}

#[tonic::async_trait]
impl<P: Provider> pb::provider_server::Provider for ProviderService<P> {
    async fn get_metadata(
        &self,
        _request: Request<pb::get_metadata::Request>,
    ) -> Rpc<pb::get_metadata::Response> {
        let inner = &self.inner;
        Ok(Response::new(pb::get_metadata::Response {
            server_capabilities: Some(capabilities()),
            diagnostics: diagnostics_pb(&inner.setup_errors),
            data_sources: inner
                .data_sources
                .keys()
                .map(|name| pb::get_metadata::DataSourceMetadata {
                    type_name: name.to_string(),
                })
                .collect(),
            resources: inner
                .resources
                .keys()
                .map(|name| pb::get_metadata::ResourceMetadata {
                    type_name: name.to_string(),
                })
                .collect(),
            ephemeral_resources: inner
                .ephemeral_resources
                .keys()
                .map(|name| pb::get_metadata::EphemeralMetadata {
                    type_name: name.to_string(),
                })
                .collect(),
            functions: inner
                .functions
                .keys()
                .map(|name| pb::get_metadata::FunctionMetadata {
                    name: name.to_string(),
                })
                .collect(),
        }))
    }

    async fn get_provider_schema(
        &self,
        _request: Request<pb::get_provider_schema::Request>,
    ) -> Rpc<pb::get_provider_schema::Response> {
        let inner = &self.inner;
        Ok(Response::new(pb::get_provider_schema::Response {
            provider: Some(schema_pb(&inner.provider_schema)),
            resource_schemas: inner
                .resources
                .iter()
                .map(|(name, r)| (name.to_string(), schema_pb(r.schema())))
                .collect(),
            data_source_schemas: inner
                .data_sources
                .iter()
                .map(|(name, d)| (name.to_string(), schema_pb(d.schema())))
                .collect(),
            ephemeral_resource_schemas: inner
                .ephemeral_resources
                .iter()
                .map(|(name, e)| (name.to_string(), schema_pb(e.schema())))
                .collect(),
            functions: self.functions_pb(),
            diagnostics: diagnostics_pb(&inner.setup_errors),
            server_capabilities: Some(capabilities()),
            ..Default::default()
        }))
    }

    async fn validate_provider_config(
        &self,
        request: Request<pb::validate_provider_config::Request>,
    ) -> Rpc<pb::validate_provider_config::Response> {
        let request = request.into_inner();
        let inner = &self.inner;
        let result = guarded("ValidateProviderConfig", async {
            let config = decode(request.config.as_ref(), &inner.provider_type)?;
            model::register_sensitive(&inner.provider_schema.block, &config);
            let mut diagnostics = Diagnostics::new();
            crate::framework::validate_block(
                &inner.provider_schema.block,
                &config,
                &mut diagnostics,
            );
            inner.provider.validate(&config, &mut diagnostics);
            Ok(diagnostics)
        })
        .await;
        let diagnostics = result.unwrap_or_else(|d| d);
        Ok(Response::new(pb::validate_provider_config::Response {
            diagnostics: diagnostics_pb(&diagnostics),
        }))
    }

    async fn validate_resource_config(
        &self,
        request: Request<pb::validate_resource_config::Request>,
    ) -> Rpc<pb::validate_resource_config::Response> {
        let request = request.into_inner();
        let inner = &self.inner;
        let result = guarded("ValidateResourceConfig", async {
            let resource = inner.resource(&request.type_name)?;
            let config = decode(request.config.as_ref(), resource.value_type())?;
            let write_only_allowed = request
                .client_capabilities
                .is_some_and(|c| c.write_only_attributes_allowed);
            Ok(resource.validate(&config, write_only_allowed))
        })
        .await;
        let diagnostics = result.unwrap_or_else(|d| d);
        Ok(Response::new(pb::validate_resource_config::Response {
            diagnostics: diagnostics_pb(&diagnostics),
        }))
    }

    async fn validate_data_resource_config(
        &self,
        request: Request<pb::validate_data_resource_config::Request>,
    ) -> Rpc<pb::validate_data_resource_config::Response> {
        let request = request.into_inner();
        let inner = &self.inner;
        let result = guarded("ValidateDataResourceConfig", async {
            let data_source = inner.data_source(&request.type_name)?;
            let config = decode(request.config.as_ref(), data_source.value_type())?;
            Ok(data_source.validate(&config, false))
        })
        .await;
        let diagnostics = result.unwrap_or_else(|d| d);
        Ok(Response::new(pb::validate_data_resource_config::Response {
            diagnostics: diagnostics_pb(&diagnostics),
        }))
    }

    async fn upgrade_resource_state(
        &self,
        request: Request<pb::upgrade_resource_state::Request>,
    ) -> Rpc<pb::upgrade_resource_state::Response> {
        let request = request.into_inner();
        let inner = &self.inner;
        let result = guarded("UpgradeResourceState", async {
            let resource = inner.resource(&request.type_name)?;
            let ty = resource.value_type();
            let raw = request.raw_state.unwrap_or_default();
            if raw.json.is_empty() {
                return Err(Diagnostic::error(
                    "Unsupported state format",
                    "The stored state has no JSON form (flatmap state predates Terraform 0.12 and is not supported).",
                )
                .into());
            }
            let json: serde_json::Value = serde_json::from_slice(&raw.json)
                .map_err(|e| Diagnostic::error("Stored state is not valid JSON", e.to_string()))?;
            let value = resource.upgrade(request.version, json)?;
            encode(&value, ty)
        })
        .await;
        let (upgraded_state, diagnostics) = split(result);
        Ok(Response::new(pb::upgrade_resource_state::Response {
            upgraded_state,
            diagnostics: diagnostics_pb(&diagnostics),
        }))
    }

    async fn configure_provider(
        &self,
        request: Request<pb::configure_provider::Request>,
    ) -> Rpc<pb::configure_provider::Response> {
        let request = request.into_inner();
        let inner = &self.inner;
        let result = guarded("ConfigureProvider", async {
            let ty = &inner.provider_type;
            let config = decode(request.config.as_ref(), ty)?;
            model::register_sensitive(&inner.provider_schema.block, &config);
            let typed = model::to_model::<P::Config>(&config, ty)?;
            let client = inner
                .provider
                .configure(typed, &request.terraform_version)
                .await?;
            *inner.client.write().await = Some(Arc::new(client));
            crate::debug!(
                "provider configured (Terraform {})",
                request.terraform_version
            );
            Ok(())
        })
        .await;
        let (_, diagnostics) = split(result);
        Ok(Response::new(pb::configure_provider::Response {
            diagnostics: diagnostics_pb(&diagnostics),
        }))
    }

    async fn read_resource(
        &self,
        request: Request<pb::read_resource::Request>,
    ) -> Rpc<pb::read_resource::Response> {
        let request = request.into_inner();
        let inner = &self.inner;
        let current = request.current_state.clone();
        let result = guarded("ReadResource", async {
            let resource = inner.resource(&request.type_name)?;
            let ty = resource.value_type();
            let state = decode(request.current_state.as_ref(), ty)?;
            let client = inner.client().await;
            let outcome = resource
                .read(
                    client.as_deref(),
                    inner.stop.subscribe(),
                    &state,
                    Private::from_bytes(&request.private),
                )
                .await;
            Ok((
                encode(&outcome.state, ty)?,
                outcome.private,
                outcome.diagnostics,
            ))
        })
        .await;
        let response = match result {
            Ok((new_state, private, diagnostics)) => pb::read_resource::Response {
                new_state: Some(new_state),
                private: private.to_bytes(),
                diagnostics: diagnostics_pb(&diagnostics),
                ..Default::default()
            },
            // Keep what Terraform had, so an error never reads as "gone".
            Err(diagnostics) => pb::read_resource::Response {
                new_state: current,
                private: request.private.clone(),
                diagnostics: diagnostics_pb(&diagnostics),
                ..Default::default()
            },
        };
        Ok(Response::new(response))
    }

    async fn plan_resource_change(
        &self,
        request: Request<pb::plan_resource_change::Request>,
    ) -> Rpc<pb::plan_resource_change::Response> {
        let request = request.into_inner();
        let inner = &self.inner;
        let result = guarded("PlanResourceChange", async {
            let resource = inner.resource(&request.type_name)?;
            let ty = resource.value_type();
            let prior = decode(request.prior_state.as_ref(), ty)?;
            let proposed = decode(request.proposed_new_state.as_ref(), ty)?;
            let config = decode(request.config.as_ref(), ty)?;
            let client = inner.client().await;
            let outcome = resource
                .plan(
                    client.as_deref(),
                    inner.stop.subscribe(),
                    &prior,
                    &proposed,
                    &config,
                    Private::from_bytes(&request.prior_private),
                )
                .await;
            Ok((encode(&outcome.planned, ty)?, outcome))
        })
        .await;
        let response = match result {
            Ok((planned_state, outcome)) => pb::plan_resource_change::Response {
                planned_state: Some(planned_state),
                requires_replace: outcome.requires_replace.iter().map(path_pb).collect(),
                planned_private: outcome.private.to_bytes(),
                diagnostics: diagnostics_pb(&outcome.diagnostics),
                ..Default::default()
            },
            Err(diagnostics) => pb::plan_resource_change::Response {
                planned_state: request.proposed_new_state,
                diagnostics: diagnostics_pb(&diagnostics),
                ..Default::default()
            },
        };
        Ok(Response::new(response))
    }

    async fn apply_resource_change(
        &self,
        request: Request<pb::apply_resource_change::Request>,
    ) -> Rpc<pb::apply_resource_change::Response> {
        let request = request.into_inner();
        let inner = &self.inner;
        let prior_state = request.prior_state.clone();
        let result = guarded("ApplyResourceChange", async {
            let resource = inner.resource(&request.type_name)?;
            let ty = resource.value_type();
            let prior = decode(request.prior_state.as_ref(), ty)?;
            let planned = decode(request.planned_state.as_ref(), ty)?;
            let config = decode(request.config.as_ref(), ty)?;
            let client = inner.client().await;
            let outcome = resource
                .apply(
                    client.as_deref(),
                    inner.stop.subscribe(),
                    &prior,
                    &planned,
                    &config,
                    Private::from_bytes(&request.planned_private),
                )
                .await;
            Ok((encode(&outcome.state, ty)?, outcome))
        })
        .await;
        let response = match result {
            Ok((new_state, outcome)) => pb::apply_resource_change::Response {
                new_state: Some(new_state),
                private: outcome.private.to_bytes(),
                diagnostics: diagnostics_pb(&outcome.diagnostics),
                ..Default::default()
            },
            Err(diagnostics) => pb::apply_resource_change::Response {
                new_state: prior_state,
                diagnostics: diagnostics_pb(&diagnostics),
                ..Default::default()
            },
        };
        Ok(Response::new(response))
    }

    async fn import_resource_state(
        &self,
        request: Request<pb::import_resource_state::Request>,
    ) -> Rpc<pb::import_resource_state::Response> {
        let request = request.into_inner();
        let inner = &self.inner;
        let result = guarded("ImportResourceState", async {
            let resource = inner.resource(&request.type_name)?;
            let ty = resource.value_type();
            let client = inner.client().await;
            let outcome = resource
                .import(client.as_deref(), inner.stop.subscribe(), &request.id)
                .await;
            if outcome.diagnostics.has_errors() {
                return Err(outcome.diagnostics);
            }
            Ok((encode(&outcome.state, ty)?, outcome))
        })
        .await;
        let response = match result {
            Ok((state, outcome)) => pb::import_resource_state::Response {
                imported_resources: vec![pb::import_resource_state::ImportedResource {
                    // Terraform 1.0 panics on an imported resource without its type name.
                    type_name: request.type_name.clone(),
                    state: Some(state),
                    private: outcome.private.to_bytes(),
                    ..Default::default()
                }],
                diagnostics: diagnostics_pb(&outcome.diagnostics),
                ..Default::default()
            },
            Err(diagnostics) => pb::import_resource_state::Response {
                diagnostics: diagnostics_pb(&diagnostics),
                ..Default::default()
            },
        };
        Ok(Response::new(response))
    }

    async fn read_data_source(
        &self,
        request: Request<pb::read_data_source::Request>,
    ) -> Rpc<pb::read_data_source::Response> {
        let request = request.into_inner();
        let inner = &self.inner;
        let result = guarded("ReadDataSource", async {
            let data_source = inner.data_source(&request.type_name)?;
            let ty = data_source.value_type();
            let config = decode(request.config.as_ref(), ty)?;
            let client = inner.client().await;
            let outcome = data_source
                .read(client.as_deref(), inner.stop.subscribe(), &config)
                .await;
            if outcome.diagnostics.has_errors() {
                return Err(outcome.diagnostics);
            }
            Ok((encode(&outcome.state, ty)?, outcome.diagnostics))
        })
        .await;
        let (state, diagnostics) = match result {
            Ok((state, diagnostics)) => (Some(state), diagnostics),
            Err(diagnostics) => (None, diagnostics),
        };
        Ok(Response::new(pb::read_data_source::Response {
            state,
            diagnostics: diagnostics_pb(&diagnostics),
            ..Default::default()
        }))
    }

    async fn validate_ephemeral_resource_config(
        &self,
        request: Request<pb::validate_ephemeral_resource_config::Request>,
    ) -> Rpc<pb::validate_ephemeral_resource_config::Response> {
        let request = request.into_inner();
        let inner = &self.inner;
        let result = guarded("ValidateEphemeralResourceConfig", async {
            let ephemeral = inner.ephemeral_resource(&request.type_name)?;
            let config = decode(request.config.as_ref(), ephemeral.value_type())?;
            Ok(ephemeral.validate(&config, false))
        })
        .await;
        let diagnostics = result.unwrap_or_else(|d| d);
        Ok(Response::new(
            pb::validate_ephemeral_resource_config::Response {
                diagnostics: diagnostics_pb(&diagnostics),
            },
        ))
    }

    async fn open_ephemeral_resource(
        &self,
        request: Request<pb::open_ephemeral_resource::Request>,
    ) -> Rpc<pb::open_ephemeral_resource::Response> {
        let request = request.into_inner();
        let inner = &self.inner;
        let result = guarded("OpenEphemeralResource", async {
            let ephemeral = inner.ephemeral_resource(&request.type_name)?;
            let ty = ephemeral.value_type();
            let config = decode(request.config.as_ref(), ty)?;
            let client = inner.client().await;
            let outcome = ephemeral
                .open(client.as_deref(), inner.stop.subscribe(), &config)
                .await;
            if outcome.diagnostics.has_errors() {
                return Err(outcome.diagnostics);
            }
            Ok((encode(&outcome.result, ty)?, outcome))
        })
        .await;
        let response = match result {
            Ok((value, outcome)) => pb::open_ephemeral_resource::Response {
                result: Some(value),
                renew_at: outcome.renew_at.map(prost_types::Timestamp::from),
                private: Some(outcome.private.to_bytes()),
                diagnostics: diagnostics_pb(&outcome.diagnostics),
                ..Default::default()
            },
            Err(diagnostics) => pb::open_ephemeral_resource::Response {
                diagnostics: diagnostics_pb(&diagnostics),
                ..Default::default()
            },
        };
        Ok(Response::new(response))
    }

    async fn renew_ephemeral_resource(
        &self,
        request: Request<pb::renew_ephemeral_resource::Request>,
    ) -> Rpc<pb::renew_ephemeral_resource::Response> {
        let request = request.into_inner();
        let inner = &self.inner;
        let result = guarded("RenewEphemeralResource", async {
            let ephemeral = inner.ephemeral_resource(&request.type_name)?;
            let client = inner.client().await;
            let private = Private::from_bytes(request.private.as_deref().unwrap_or_default());
            Ok(ephemeral
                .renew(client.as_deref(), inner.stop.subscribe(), private)
                .await)
        })
        .await;
        let response = match result {
            Ok(outcome) => pb::renew_ephemeral_resource::Response {
                renew_at: outcome.renew_at.map(prost_types::Timestamp::from),
                private: Some(outcome.private.to_bytes()),
                diagnostics: diagnostics_pb(&outcome.diagnostics),
            },
            Err(diagnostics) => pb::renew_ephemeral_resource::Response {
                diagnostics: diagnostics_pb(&diagnostics),
                ..Default::default()
            },
        };
        Ok(Response::new(response))
    }

    async fn close_ephemeral_resource(
        &self,
        request: Request<pb::close_ephemeral_resource::Request>,
    ) -> Rpc<pb::close_ephemeral_resource::Response> {
        let request = request.into_inner();
        let inner = &self.inner;
        let result = guarded("CloseEphemeralResource", async {
            let ephemeral = inner.ephemeral_resource(&request.type_name)?;
            let client = inner.client().await;
            let private = Private::from_bytes(request.private.as_deref().unwrap_or_default());
            Ok(ephemeral
                .close(client.as_deref(), inner.stop.subscribe(), private)
                .await)
        })
        .await;
        let diagnostics = result.unwrap_or_else(|d| d);
        Ok(Response::new(pb::close_ephemeral_resource::Response {
            diagnostics: diagnostics_pb(&diagnostics),
        }))
    }

    async fn get_functions(
        &self,
        _request: Request<pb::get_functions::Request>,
    ) -> Rpc<pb::get_functions::Response> {
        Ok(Response::new(pb::get_functions::Response {
            functions: self.functions_pb(),
            diagnostics: Vec::new(),
        }))
    }

    async fn call_function(
        &self,
        request: Request<pb::call_function::Request>,
    ) -> Rpc<pb::call_function::Response> {
        let request = request.into_inner();
        let outcome = self.call(&request);
        Ok(Response::new(match outcome {
            Ok(result) => pb::call_function::Response {
                result: Some(result),
                error: None,
            },
            Err(error) => pb::call_function::Response {
                result: None,
                error: Some(function_error_pb(&error)),
            },
        }))
    }

    async fn stop_provider(
        &self,
        _request: Request<pb::stop_provider::Request>,
    ) -> Rpc<pb::stop_provider::Response> {
        crate::info!("Terraform asked the provider to stop");
        self.inner.stop.send_replace(true);
        Ok(Response::new(pb::stop_provider::Response {
            error: String::new(),
        }))
    }
}
