//! Schemas in the JSON form of `terraform providers schema -json`.

use serde_json::{json, Map, Value as Json};

use super::{Attribute, Block, Schema};

impl Schema {
    /// `{"version": N, "block": {...}}` as Terraform prints it.
    pub fn to_json(&self) -> Json {
        json!({ "version": self.version, "block": self.block.to_json() })
    }
}

impl Block {
    /// The block as Terraform prints it.
    pub fn to_json(&self) -> Json {
        let mut out = Map::new();
        if !self.attributes.is_empty() {
            out.insert("attributes".into(), attributes_json(&self.attributes));
        }
        if !self.block_types.is_empty() {
            let mut types = Map::new();
            for nested in &self.block_types {
                let mut entry = Map::new();
                entry.insert("nesting_mode".into(), json!(nested.nesting.name()));
                entry.insert("block".into(), nested.block.to_json());
                if nested.min_items > 0 {
                    entry.insert("min_items".into(), json!(nested.min_items));
                }
                if nested.max_items > 0 {
                    entry.insert("max_items".into(), json!(nested.max_items));
                }
                types.insert(nested.type_name.clone(), Json::Object(entry));
            }
            out.insert("block_types".into(), Json::Object(types));
        }
        if !self.description.is_empty() {
            out.insert("description".into(), json!(self.description));
        }
        out.insert(
            "description_kind".into(),
            json!(if self.description.is_empty() {
                "plain"
            } else {
                "markdown"
            }),
        );
        if self.deprecated {
            out.insert("deprecated".into(), json!(true));
        }
        Json::Object(out)
    }
}

fn attributes_json(attributes: &[Attribute]) -> Json {
    let mut out = Map::new();
    for attribute in attributes {
        let mut entry = Map::new();
        match &attribute.nested {
            Some(nested) => {
                entry.insert(
                    "nested_type".into(),
                    json!({ "attributes": attributes_json(&nested.attributes), "nesting_mode": nested.nesting.name() }),
                );
            }
            None => {
                entry.insert("type".into(), attribute.ty.to_json());
            }
        }
        if !attribute.description.is_empty() {
            entry.insert("description".into(), json!(attribute.description));
            entry.insert("description_kind".into(), json!("markdown"));
        } else {
            entry.insert("description_kind".into(), json!("plain"));
        }
        for (key, set) in [
            ("required", attribute.required),
            ("optional", attribute.optional),
            ("computed", attribute.computed),
            ("sensitive", attribute.sensitive),
            ("deprecated", attribute.deprecated),
            ("write_only", attribute.write_only),
        ] {
            if set {
                entry.insert(key.into(), json!(true));
            }
        }
        out.insert(attribute.name.clone(), Json::Object(entry));
    }
    Json::Object(out)
}
