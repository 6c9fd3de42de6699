//! What the service exports besides the RPCs: the schemas as JSON, each model's JSON Schema,
//! and the catalog the docs generator reads.

use std::collections::BTreeMap;

use crate::diag::Diagnostics;
use crate::framework::Provider;
use crate::schema::Schema;

use super::ProviderService;

impl<P: Provider> ProviderService<P> {
    /// The provider schema, resource and data source schemas in the JSON form of
    /// `terraform providers schema -json`, under `provider_address`.
    pub fn schema_json(&self, provider_address: &str) -> serde_json::Value {
        let inner = &self.inner;
        let resources: serde_json::Map<String, serde_json::Value> = inner
            .resources
            .iter()
            .map(|(name, r)| (name.to_string(), r.schema().to_json()))
            .collect();
        let data_sources: serde_json::Map<String, serde_json::Value> = inner
            .data_sources
            .iter()
            .map(|(name, d)| (name.to_string(), d.schema().to_json()))
            .collect();
        let ephemeral: serde_json::Map<String, serde_json::Value> = inner
            .ephemeral_resources
            .iter()
            .map(|(name, e)| (name.to_string(), e.schema().to_json()))
            .collect();
        let mut schemas = serde_json::json!({
            "provider": inner.provider_schema.to_json(),
            "resource_schemas": resources,
            "data_source_schemas": data_sources,
        });
        // Terraform prints this key only when the provider has ephemeral resources.
        if !ephemeral.is_empty() {
            schemas["ephemeral_resource_schemas"] = serde_json::Value::Object(ephemeral);
        }
        serde_json::json!({
            "format_version": "1.0",
            "provider_schemas": { provider_address: schemas }
        })
    }

    /// The JSON Schema of every resource and data source model, by type name.
    pub fn model_json_schemas(&self) -> BTreeMap<String, serde_json::Value> {
        let mut out = BTreeMap::new();
        for (name, r) in &self.inner.resources {
            out.insert(name.to_string(), r.json_schema());
        }
        for (name, d) in &self.inner.data_sources {
            out.insert(format!("data.{name}"), d.json_schema());
        }
        for (name, e) in &self.inner.ephemeral_resources {
            out.insert(format!("ephemeral.{name}"), e.json_schema());
        }
        out
    }

    /// Every schema, for the docs generator: `provider_name` is the prefix of the type names,
    /// `display_name` the provider's name in titles.
    pub fn docs_catalog<'a>(
        &'a self,
        provider_name: &'a str,
        display_name: &'a str,
    ) -> crate::docs::Catalog<'a> {
        use crate::docs::PageKind;
        let inner = &self.inner;
        let mut types: Vec<(PageKind, &str, &Schema)> = Vec::new();
        types.extend(
            inner
                .resources
                .iter()
                .map(|(name, r)| (PageKind::Resource, *name, r.schema())),
        );
        types.extend(
            inner
                .data_sources
                .iter()
                .map(|(name, d)| (PageKind::DataSource, *name, d.schema())),
        );
        types.extend(
            inner
                .ephemeral_resources
                .iter()
                .map(|(name, e)| (PageKind::EphemeralResource, *name, e.schema())),
        );
        crate::docs::Catalog {
            provider_name,
            display_name,
            provider: &inner.provider_schema,
            types,
            functions: inner
                .functions
                .iter()
                .map(|(name, f)| (*name, f.signature()))
                .collect(),
        }
    }

    /// Problems found while deriving schemas.
    pub fn setup_errors(&self) -> &Diagnostics {
        &self.inner.setup_errors
    }
}
