//! `docs/` is generated (`make docs`) from the schemas, `examples/` and `templates/`; these tests
//! fail when it is stale, and when a schema leaves something for the docs to guess.

use std::path::{Path, PathBuf};

use terraform_provider_treeherder::provider::TreeherderProvider;
use tfplugin::schema::Block;
use tfplugin::service::ProviderService;

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

#[test]
fn docs_are_what_the_generator_writes() {
    let service = ProviderService::new(TreeherderProvider);
    let catalog = service.docs_catalog("treeherder", "Treeherder");
    let pages = tfplugin::docs::generate(&catalog, &repo()).expect("generate docs");
    let problems = tfplugin::docs::compare(&pages, &repo().join("docs")).expect("read docs/");
    assert!(
        problems.is_empty(),
        "docs/ is not what `make docs` generates (run it and commit the result):\n{}",
        problems.join("\n")
    );
    let kinds = ["resources", "data-sources", "ephemeral-resources"];
    for kind in kinds {
        assert!(
            pages.iter().any(|p| p.path.starts_with(kind)),
            "no {kind} pages generated"
        );
    }
}

/// Names of attributes and blocks of `block` (nested ones as `outer.inner`) without a
/// description.
fn undocumented(block: &Block, prefix: &str, out: &mut Vec<String>) {
    for attribute in &block.attributes {
        if attribute.description.trim().is_empty() {
            out.push(format!("{prefix}{}", attribute.name));
        }
        if let Some(nested) = &attribute.nested {
            for inner in &nested.attributes {
                if inner.description.trim().is_empty() {
                    out.push(format!("{prefix}{}.{}", attribute.name, inner.name));
                }
            }
        }
    }
    for nested in &block.block_types {
        if nested.block.description.trim().is_empty() {
            out.push(format!("{prefix}{}", nested.type_name));
        }
        undocumented(
            &nested.block,
            &format!("{prefix}{}.", nested.type_name),
            out,
        );
    }
}

#[test]
fn every_attribute_has_a_description() {
    let service = ProviderService::new(TreeherderProvider);
    let catalog = service.docs_catalog("treeherder", "Treeherder");
    let mut problems = Vec::new();
    let mut missing = Vec::new();
    undocumented(&catalog.provider.block, "", &mut missing);
    problems.extend(missing.into_iter().map(|m| format!("provider: {m}")));
    for (_, type_name, schema) in &catalog.types {
        if schema.block.description.trim().is_empty() {
            problems.push(format!("{type_name}: no description"));
        }
        let mut missing = Vec::new();
        undocumented(&schema.block, "", &mut missing);
        problems.extend(missing.into_iter().map(|m| format!("{type_name}: {m}")));
    }
    assert!(
        problems.is_empty(),
        "attributes without a doc comment:\n{}",
        problems.join("\n")
    );
}
