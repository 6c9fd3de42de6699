//! Conversions between the framework's types (values, diagnostics, schemas) and tfplugin6's
//! protobuf messages.

use crate::diag::{AttributePath, Diagnostic, Diagnostics, PathStep, Severity};
use crate::function::{FunctionError, Parameter, Signature};
use crate::proto::tfplugin6 as pb;
use crate::schema::{Attribute, Block, Nesting, Schema};
use crate::value::{msgpack, Type, Value};

pub(super) fn decode(value: Option<&pb::DynamicValue>, ty: &Type) -> Result<Value, Diagnostics> {
    let Some(value) = value else {
        return Ok(Value::Null);
    };
    let result = if !value.msgpack.is_empty() {
        msgpack::decode(&value.msgpack, ty).map_err(|e| e.to_string())
    } else if !value.json.is_empty() {
        crate::value::json::decode(&value.json, ty).map_err(|e| e.to_string())
    } else {
        Ok(Value::Null)
    };
    result.map_err(|e| Diagnostic::error("Cannot decode a value from Terraform", e).into())
}

pub(super) fn encode(value: &Value, ty: &Type) -> Result<pb::DynamicValue, Diagnostics> {
    msgpack::encode(value, ty)
        .map(|bytes| pb::DynamicValue {
            msgpack: bytes,
            json: Vec::new(),
        })
        .map_err(|e| {
            Diagnostic::error(
                "Cannot encode a value for Terraform (provider bug)",
                e.to_string(),
            )
            .into()
        })
}

pub(super) fn diagnostics_pb(diagnostics: &Diagnostics) -> Vec<pb::Diagnostic> {
    diagnostics
        .iter()
        .map(|d| pb::Diagnostic {
            severity: match d.severity {
                Severity::Error => pb::diagnostic::Severity::Error as i32,
                Severity::Warning => pb::diagnostic::Severity::Warning as i32,
            },
            summary: crate::log::mask(&d.summary),
            detail: crate::log::mask(&d.detail),
            attribute: d.attribute.as_ref().map(path_pb),
        })
        .collect()
}

pub(super) fn path_pb(path: &AttributePath) -> pb::AttributePath {
    use pb::attribute_path::step::Selector;
    pb::AttributePath {
        steps: path
            .0
            .iter()
            .map(|step| pb::attribute_path::Step {
                selector: Some(match step {
                    PathStep::Attribute(name) => Selector::AttributeName(name.clone()),
                    PathStep::Key(key) => Selector::ElementKeyString(key.clone()),
                    PathStep::Index(index) => Selector::ElementKeyInt(*index),
                }),
            })
            .collect(),
    }
}

pub(super) fn schema_pb(schema: &Schema) -> pb::Schema {
    pb::Schema {
        version: schema.version,
        block: Some(block_pb(&schema.block)),
    }
}

pub(super) fn kind(description: &str) -> i32 {
    if description.is_empty() {
        pb::StringKind::Plain as i32
    } else {
        pb::StringKind::Markdown as i32
    }
}

pub(super) fn block_pb(block: &Block) -> pb::schema::Block {
    pb::schema::Block {
        version: 0,
        attributes: block.attributes.iter().map(attribute_pb).collect(),
        block_types: block
            .block_types
            .iter()
            .map(|nested| pb::schema::NestedBlock {
                type_name: nested.type_name.clone(),
                block: Some(block_pb(&nested.block)),
                nesting: match nested.nesting {
                    Nesting::Single => pb::schema::nested_block::NestingMode::Single,
                    Nesting::List => pb::schema::nested_block::NestingMode::List,
                    Nesting::Set => pb::schema::nested_block::NestingMode::Set,
                    Nesting::Map => pb::schema::nested_block::NestingMode::Map,
                } as i32,
                min_items: nested.min_items,
                max_items: nested.max_items,
            })
            .collect(),
        description: block.description.clone(),
        description_kind: kind(&block.description),
        deprecated: block.deprecated,
    }
}

pub(super) fn attribute_pb(attribute: &Attribute) -> pb::schema::Attribute {
    let nested_type = attribute.nested.as_ref().map(|nested| pb::schema::Object {
        attributes: nested.attributes.iter().map(attribute_pb).collect(),
        nesting: match nested.nesting {
            Nesting::Single => pb::schema::object::NestingMode::Single,
            Nesting::List => pb::schema::object::NestingMode::List,
            Nesting::Set => pb::schema::object::NestingMode::Set,
            Nesting::Map => pb::schema::object::NestingMode::Map,
        } as i32,
        ..Default::default()
    });
    pb::schema::Attribute {
        name: attribute.name.clone(),
        // With nested attributes the type is implied by them and must be left empty.
        r#type: if nested_type.is_some() {
            Vec::new()
        } else {
            attribute.ty.to_json().to_string().into_bytes()
        },
        nested_type,
        description: attribute.description.clone(),
        required: attribute.required,
        optional: attribute.optional,
        computed: attribute.computed,
        sensitive: attribute.sensitive,
        description_kind: kind(&attribute.description),
        deprecated: attribute.deprecated,
        write_only: attribute.write_only,
    }
}

pub(super) fn capabilities() -> pb::ServerCapabilities {
    pb::ServerCapabilities {
        plan_destroy: true,
        get_provider_schema_optional: true,
        move_resource_state: false,
    }
}

fn parameter_pb(parameter: &Parameter) -> pb::function::Parameter {
    pb::function::Parameter {
        name: parameter.name.to_string(),
        r#type: parameter.ty.to_json().to_string().into_bytes(),
        allow_null_value: parameter.allow_null,
        // Terraform then returns an unknown result itself without calling.
        allow_unknown_values: false,
        description: parameter.description.to_string(),
        description_kind: kind(parameter.description),
    }
}

pub(super) fn function_pb(signature: &Signature) -> pb::Function {
    pb::Function {
        parameters: signature.parameters.iter().map(parameter_pb).collect(),
        variadic_parameter: None,
        r#return: Some(pb::function::Return {
            r#type: signature.returns.to_json().to_string().into_bytes(),
        }),
        summary: signature.summary.to_string(),
        description: signature.description.to_string(),
        description_kind: kind(signature.description),
        deprecation_message: String::new(),
    }
}

pub(super) fn function_error_pb(error: &FunctionError) -> pb::FunctionError {
    pb::FunctionError {
        text: crate::log::mask(&error.text),
        function_argument: error.argument.map(|position| position as i64),
    }
}
