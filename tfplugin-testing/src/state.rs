//! The state as `terraform show -json` prints it, with look-ups by resource address.

use std::collections::BTreeMap;

use serde_json::Value;

/// A parsed `terraform show -json` document (state format 0.2 in Terraform 1.0.3).
#[derive(Debug, Clone, Default)]
pub struct State {
    raw: Value,
}

/// One resource instance of the state.
#[derive(Debug, Clone, PartialEq)]
pub struct ResourceState {
    /// Full address, e.g. `example_thing.web` or `module.m.x.y["k"]`.
    pub address: String,
    /// `managed` or `data`.
    pub mode: String,
    /// Resource type name.
    pub type_name: String,
    /// The attribute values object.
    pub values: Value,
    /// Terraform's sensitivity mask for `values` (true where an attribute is sensitive).
    pub sensitive_values: Value,
}

impl State {
    /// Wraps the parsed JSON document.
    pub fn from_json(raw: Value) -> Self {
        State { raw }
    }

    /// The raw JSON document.
    pub fn raw(&self) -> &Value {
        &self.raw
    }

    /// Every resource instance, root module first, then child modules depth-first.
    pub fn resources(&self) -> Vec<ResourceState> {
        let mut out = Vec::new();
        if let Some(root) = self.raw.pointer("/values/root_module") {
            collect_resources(root, &mut out);
        }
        out
    }

    /// The resource instance at `address`, if present.
    pub fn resource(&self, address: &str) -> Option<ResourceState> {
        self.resources().into_iter().find(|r| r.address == address)
    }

    /// The value at a dotted `path` (`name`, `config_vars.KEY`, `tags.0`) of resource `address`.
    pub fn attr(&self, address: &str, path: &str) -> Option<Value> {
        let resource = self.resource(address)?;
        lookup(&resource.values, path).cloned()
    }

    /// The string value at `path` of resource `address`.
    pub fn attr_str(&self, address: &str, path: &str) -> Option<String> {
        self.attr(address, path)
            .and_then(|v| v.as_str().map(str::to_string))
    }

    /// The value of root output `name`.
    pub fn output(&self, name: &str) -> Option<Value> {
        self.raw
            .pointer("/values/outputs")?
            .get(name)?
            .get("value")
            .cloned()
    }

    /// Checks that resource `address` has `expected` at `path`, with a message naming both when
    /// not. Values of sensitive attributes are not printed.
    pub fn expect_attr(
        &self,
        address: &str,
        path: &str,
        expected: impl Into<Value>,
    ) -> Result<(), String> {
        let expected = expected.into();
        let resource = self
            .resource(address)
            .ok_or_else(|| format!("resource {address} is not in the state"))?;
        let actual = lookup(&resource.values, path);
        if actual == Some(&expected) {
            return Ok(());
        }
        if lookup(&resource.sensitive_values, path).is_some_and(|v| v != &Value::Bool(false)) {
            return Err(format!(
                "{address}.{path}: sensitive value differs from the expected one"
            ));
        }
        match actual {
            Some(actual) => Err(format!(
                "{address}.{path}: expected {expected}, got {actual}"
            )),
            None => Err(format!(
                "{address}.{path}: expected {expected}, but the attribute is absent"
            )),
        }
    }

    /// Checks that `path` of resource `address` is present, not null and not an empty string.
    pub fn expect_attr_set(&self, address: &str, path: &str) -> Result<(), String> {
        match self.attr(address, path) {
            None | Some(Value::Null) => Err(format!("{address}.{path} is not set")),
            Some(Value::String(s)) if s.is_empty() => Err(format!("{address}.{path} is empty")),
            Some(_) => Ok(()),
        }
    }

    /// Checks that no resource instance has `address`.
    pub fn expect_no_resource(&self, address: &str) -> Result<(), String> {
        match self.resource(address) {
            Some(_) => Err(format!("resource {address} is still in the state")),
            None => Ok(()),
        }
    }
}

fn collect_resources(module: &Value, out: &mut Vec<ResourceState>) {
    if let Some(resources) = module.get("resources").and_then(Value::as_array) {
        for r in resources {
            let text = |key: &str| {
                r.get(key)
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_string()
            };
            out.push(ResourceState {
                address: text("address"),
                mode: text("mode"),
                type_name: text("type"),
                values: r.get("values").cloned().unwrap_or(Value::Null),
                sensitive_values: r.get("sensitive_values").cloned().unwrap_or(Value::Null),
            });
        }
    }
    if let Some(children) = module.get("child_modules").and_then(Value::as_array) {
        for child in children {
            collect_resources(child, out);
        }
    }
}

/// Follows a dotted path through objects (by key) and arrays (by index).
pub(crate) fn lookup<'a>(value: &'a Value, path: &str) -> Option<&'a Value> {
    if path.is_empty() {
        return Some(value);
    }
    path.split('.').try_fold(value, |v, part| match v {
        Value::Object(map) => map.get(part),
        Value::Array(items) => part.parse::<usize>().ok().and_then(|i| items.get(i)),
        _ => None,
    })
}

/// Flattens attribute values into Terraform's flatmap shape: `a.0.b` leaves, plus `x.#` (list
/// length) and `x.%` (map size) entries so an empty collection differs from a null one.
pub fn flatten_attributes(values: &Value) -> BTreeMap<String, Value> {
    let mut out = BTreeMap::new();
    if let Value::Object(map) = values {
        for (k, v) in map {
            flatten_into(k, v, &mut out);
        }
    }
    out
}

fn flatten_into(prefix: &str, value: &Value, out: &mut BTreeMap<String, Value>) {
    match value {
        Value::Array(items) => {
            out.insert(format!("{prefix}.#"), Value::from(items.len()));
            for (i, item) in items.iter().enumerate() {
                flatten_into(&format!("{prefix}.{i}"), item, out);
            }
        }
        Value::Object(map) => {
            out.insert(format!("{prefix}.%"), Value::from(map.len()));
            for (k, v) in map {
                flatten_into(&format!("{prefix}.{k}"), v, out);
            }
        }
        leaf => {
            out.insert(prefix.to_string(), leaf.clone());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn sample() -> State {
        State::from_json(json!({
            "format_version": "0.2",
            "values": {
                "outputs": {"o": {"sensitive": false, "value": "x"}},
                "root_module": {
                    "resources": [{
                        "address": "t_app.web", "mode": "managed", "type": "t_app", "name": "web",
                        "values": {"name": "web", "vars": {"A": "1"}, "list": [1, 2], "pw": "s3cret", "none": null},
                        "sensitive_values": {"pw": true, "vars": {}}
                    }],
                    "child_modules": [{"resources": [{
                        "address": "module.m.t_app.x[0]", "mode": "managed", "type": "t_app",
                        "values": {"name": "x"}, "sensitive_values": {}
                    }]}]
                }
            }
        }))
    }

    #[test]
    fn looks_up_resources_attributes_and_outputs() {
        let s = sample();
        assert_eq!(s.resources().len(), 2);
        assert_eq!(s.attr_str("t_app.web", "vars.A").as_deref(), Some("1"));
        assert_eq!(s.attr("t_app.web", "list.1"), Some(json!(2)));
        assert_eq!(
            s.attr_str("module.m.t_app.x[0]", "name").as_deref(),
            Some("x")
        );
        assert_eq!(s.output("o"), Some(json!("x")));
        assert!(s.expect_attr("t_app.web", "name", "web").is_ok());
        assert!(s
            .expect_attr("t_app.web", "name", "api")
            .unwrap_err()
            .contains("expected \"api\""));
        assert!(s.expect_attr_set("t_app.web", "none").is_err());
        assert!(s.expect_no_resource("t_app.gone").is_ok());
        assert!(s.expect_no_resource("t_app.web").is_err());
        assert_eq!(State::default().resources(), vec![]);
    }

    #[test]
    fn mismatch_on_a_sensitive_attribute_does_not_print_it() {
        let err = sample()
            .expect_attr("t_app.web", "pw", "other")
            .unwrap_err();
        assert!(!err.contains("s3cret"), "{err}");
    }

    #[test]
    fn flatten_distinguishes_empty_from_null() {
        let flat = flatten_attributes(&json!({"a": [], "b": null, "c": {"k": [true]}}));
        assert_eq!(flat.get("a.#"), Some(&json!(0)));
        assert_eq!(flat.get("b"), Some(&Value::Null));
        assert_eq!(flat.get("c.%"), Some(&json!(1)));
        assert_eq!(flat.get("c.k.0"), Some(&json!(true)));
    }
}
