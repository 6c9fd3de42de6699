//! Unit tests of the docs generator.

use super::*;
use crate::schema::NestedAttributes;
use crate::validators::OneOf;
use crate::value::Value;
use std::sync::Arc;

fn sample() -> Schema {
    let mut on_destroy = Attribute::new("on_destroy", Type::String)
        .description("What destroy does.")
        .default_value(Value::String("keep".into()));
    on_destroy
        .validators
        .push(Arc::new(OneOf::new(["keep", "scale_to_zero"])));
    let mut wo = Attribute::new("password_wo", Type::String).write_only();
    wo.description = "New password.".into();
    let mut items =
        Attribute::new("items", Type::Map(Box::new(Type::Object(BTreeMap::new())))).computed_only();
    items.nested = Some(NestedAttributes {
        nesting: Nesting::Map,
        attributes: vec![Attribute::new("value", Type::String).sensitive()],
    });
    Schema {
        version: 0,
        block: Block {
            description: "A thing.".into(),
            attributes: vec![
                Attribute::new("app", Type::String)
                    .required()
                    .description("The app,\nby name."),
                on_destroy,
                wo,
                Attribute::new("id", Type::String).computed_only(),
                items,
            ],
            block_types: vec![NestedBlock {
                type_name: "timeouts".into(),
                nesting: Nesting::Single,
                min_items: 0,
                max_items: 0,
                block: Block {
                    attributes: vec![Attribute::new("create", Type::String)],
                    ..Block::default()
                },
            }],
            deprecated: false,
            validators: Vec::new(),
        },
    }
}

#[test]
fn schema_section_groups_marks_and_links_nested_schemas() {
    let text = schema_section(&sample().block);
    let required = text.find("### Required").expect("required");
    let optional = text.find("### Optional").expect("optional");
    let read_only = text.find("### Read-Only").expect("read-only");
    assert!(required < optional && optional < read_only, "{text}");
    assert!(
        text.contains("- `app` (String) The app, by name.\n"),
        "{text}"
    );
    assert!(
            text.contains("`on_destroy` (String) What destroy does. Default: `\"keep\"`. Accepts one of \"keep\", \"scale_to_zero\"."),
            "{text}"
        );
    assert!(
        text.contains("`password_wo` (String, Sensitive, Write-only) New password."),
        "{text}"
    );
    assert!(
        text.contains("`timeouts` (Block) (see [below for nested schema](#nestedblock--timeouts))"),
        "{text}"
    );
    assert!(
        text.contains("<a id=\"nestedblock--timeouts\"></a>\n### Nested Schema for `timeouts`"),
        "{text}"
    );
    assert!(
        text.contains("<a id=\"nestedatttype--items\"></a>"),
        "{text}"
    );
    assert!(text.contains("- `value` (String, Sensitive)"), "{text}");
}

#[test]
fn templates_place_sections_and_reject_unknown_placeholders() {
    let dir = std::env::temp_dir().join(format!("tfplugin-docs-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("examples/resources/demo_thing")).expect("mkdir");
    std::fs::create_dir_all(dir.join("examples/provider")).expect("mkdir");
    std::fs::create_dir_all(dir.join("templates/resources")).expect("mkdir");
    std::fs::write(
        dir.join("examples/provider/provider.tf"),
        "provider \"demo\" {}\n",
    )
    .expect("write");
    std::fs::write(
        dir.join("examples/resources/demo_thing/resource.tf"),
        "resource \"demo_thing\" \"x\" {}\n",
    )
    .expect("write");
    std::fs::write(
        dir.join("examples/resources/demo_thing/import.sh"),
        "terraform import demo_thing.x a\n",
    )
    .expect("write");
    let schema = sample();
    let provider = Schema::default();
    let catalog = Catalog {
        provider_name: "demo",
        display_name: "Demo",
        provider: &provider,
        functions: Vec::new(),
        types: vec![(PageKind::Resource, "demo_thing", &schema)],
    };

    let pages = generate(&catalog, &dir).expect("default layout");
    let page = &pages[1];
    assert_eq!(page.path, PathBuf::from("resources/thing.md"));
    assert!(page.text.starts_with("---\npage_title: \"demo_thing Resource - terraform-provider-demo\"\nsubcategory: \"\"\ndescription: |-\n  A thing.\n---\n\n# demo_thing (Resource)\n\nA thing.\n\n## Example Usage\n\n```terraform\nresource \"demo_thing\" \"x\" {}\n```\n"), "{}", page.text);
    assert!(
        page.text
            .ends_with("## Import\n\n```shell\nterraform import demo_thing.x a\n```\n"),
        "{}",
        page.text
    );

    std::fs::write(
            dir.join("templates/resources/thing.md.tmpl"),
            "---\nsubcategory: \"Heroku\"\n---\n\nProse first.\n\n{{ example }}\n\n## Behaviour\n\nOn destroy.\n\n{{ schema }}\n\n## Import\n\nBy name:\n\n{{ import }}\n",
        )
        .expect("write");
    let pages = generate(&catalog, &dir).expect("template");
    let text = &pages[1].text;
    assert!(text.contains("subcategory: \"Heroku\""), "{text}");
    assert!(
        text.contains("# demo_thing (Resource)\n\nProse first.\n\n```terraform"),
        "{text}"
    );
    assert!(text.find("## Behaviour") < text.find("## Schema"), "{text}");

    write(&pages, &dir.join("docs")).expect("write docs");
    assert!(compare(&pages, &dir.join("docs"))
        .expect("compare")
        .is_empty());
    std::fs::write(dir.join("docs/resources/old.md"), "stale").expect("write");
    std::fs::write(dir.join("docs/resources/thing.md"), "edited by hand").expect("write");
    let problems = compare(&pages, &dir.join("docs")).expect("compare");
    assert_eq!(problems.len(), 2, "{problems:?}");

    std::fs::write(
        dir.join("templates/resources/thing.md.tmpl"),
        "{{ example }} {{ schema }} {{ import }} {{ exmaple }}",
    )
    .expect("write");
    let error = generate(&catalog, &dir).expect_err("unknown placeholder");
    assert!(
        error
            .to_string()
            .contains("unknown placeholder {{ exmaple }}"),
        "{error}"
    );
    std::fs::write(
        dir.join("templates/resources/thing.md.tmpl"),
        "{{ example }} {{ import }}",
    )
    .expect("write");
    let error = generate(&catalog, &dir).expect_err("no schema");
    assert!(error.to_string().contains("has no {{ schema }}"), "{error}");
    let _ = std::fs::remove_dir_all(&dir);
}
