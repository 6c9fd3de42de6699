//! Every resource, data source and ephemeral resource has a docs page that documents each of its attributes, and
//! an example beside it, so the docs cannot silently drift from the schema.

use std::path::{Path, PathBuf};

use terraform_provider_treeherder::provider::{TreeherderProvider, ADDRESS};
use tfplugin::service::ProviderService;

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// Attribute and nested block names of a block, with nested ones as `outer.inner`.
fn names(block: &serde_json::Value, prefix: &str, out: &mut Vec<String>) {
    if let Some(attributes) = block["attributes"].as_object() {
        for (name, attribute) in attributes {
            out.push(format!("{prefix}{name}"));
            if let Some(nested) = attribute["nested_type"]["attributes"].as_object() {
                for inner in nested.keys() {
                    out.push(format!("{prefix}{name}.{inner}"));
                }
            }
        }
    }
    if let Some(blocks) = block["block_types"].as_object() {
        for (name, nested) in blocks {
            out.push(format!("{prefix}{name}"));
            names(&nested["block"], &format!("{prefix}{name}."), out);
        }
    }
}

fn check(kind: &str, schemas: &serde_json::Value, problems: &mut Vec<String>) {
    let (docs_dir, examples_dir, example_file) = match kind {
        "resource" => ("docs/resources", "examples/resources", "resource.tf"),
        "ephemeral resource" => (
            "docs/ephemeral-resources",
            "examples/ephemeral-resources",
            "ephemeral-resource.tf",
        ),
        _ => (
            "docs/data-sources",
            "examples/data-sources",
            "data-source.tf",
        ),
    };
    for (type_name, schema) in schemas.as_object().expect("schemas") {
        let short = type_name.trim_start_matches("treeherder_");
        let page_path = repo().join(docs_dir).join(format!("{short}.md"));
        let Ok(page) = std::fs::read_to_string(&page_path) else {
            problems.push(format!("{type_name}: no docs page {}", page_path.display()));
            continue;
        };
        let mut attributes = Vec::new();
        names(&schema["block"], "", &mut attributes);
        for attribute in attributes {
            let leaf = attribute.rsplit('.').next().unwrap_or(&attribute);
            if !page.contains(&format!("`{leaf}`")) {
                problems.push(format!(
                    "{type_name}: docs page does not document `{attribute}`"
                ));
            }
        }
        let example = repo().join(examples_dir).join(type_name).join(example_file);
        if !example.exists() {
            problems.push(format!("{type_name}: no example {}", example.display()));
        }
        if kind == "resource" {
            let import = repo().join(examples_dir).join(type_name).join("import.sh");
            if !import.exists() {
                problems.push(format!(
                    "{type_name}: no import example {}",
                    import.display()
                ));
            }
            if !page.contains("## Import") {
                problems.push(format!("{type_name}: docs page has no Import section"));
            }
        }
    }
}

#[test]
fn every_resource_and_data_source_is_documented_with_an_example() {
    let schema = ProviderService::new(TreeherderProvider).schema_json(ADDRESS);
    let provider = &schema["provider_schemas"][ADDRESS];
    let mut problems = Vec::new();
    check("resource", &provider["resource_schemas"], &mut problems);
    check(
        "data source",
        &provider["data_source_schemas"],
        &mut problems,
    );
    let ephemeral = &provider["ephemeral_resource_schemas"];
    assert!(
        ephemeral.as_object().is_some_and(|e| !e.is_empty()),
        "no ephemeral resources in the schema"
    );
    check("ephemeral resource", ephemeral, &mut problems);

    let index = std::fs::read_to_string(repo().join("docs/index.md")).expect("docs/index.md");
    let mut settings = Vec::new();
    names(&provider["provider"]["block"], "", &mut settings);
    for setting in settings {
        let leaf = setting.rsplit('.').next().unwrap_or(&setting);
        if !index.contains(&format!("`{leaf}`")) {
            problems.push(format!(
                "docs/index.md does not document provider setting `{setting}`"
            ));
        }
    }
    assert!(
        problems.is_empty(),
        "documentation gaps:\n{}",
        problems.join("\n")
    );
}
