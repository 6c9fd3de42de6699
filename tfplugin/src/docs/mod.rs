//! Registry documentation generated from the schemas.
//!
//! The Terraform Registry reads `docs/index.md`, `docs/resources/<name>.md`,
//! `docs/data-sources/<name>.md` and `docs/ephemeral-resources/<name>.md`, where `<name>` is
//! the type name without the provider's prefix. Each page is put together from three sources,
//! so that nothing the schema already says is written twice:
//!
//! - the schema: the page's description and its "Schema" section (required, optional and
//!   read-only attributes, nested blocks and nested attributes with anchors, sensitive,
//!   write-only and deprecated marks, defaults, accepted values);
//! - `examples/`: `examples/provider/provider.tf`, `examples/resources/<type>/resource.tf`,
//!   `examples/data-sources/<type>/data-source.tf`,
//!   `examples/ephemeral-resources/<type>/ephemeral-resource.tf` and, for resources,
//!   `examples/resources/<type>/import.sh`;
//! - `templates/`: the hand-written prose, one file per page at the page's path with `.tmpl`
//!   appended (`templates/resources/<name>.md.tmpl`). A template is Markdown with the
//!   placeholders `{{ description }}`, `{{ example }}`, `{{ schema }}` and `{{ import }}`; it
//!   may start with a front-matter block whose `subcategory:` line is kept. A page without a
//!   template gets the registry's usual layout.
//!
//! Functions get `docs/functions/<name>.md` from their signature and
//! `examples/functions/<name>/function.tf`.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use crate::function::Signature;
use crate::schema::{Attribute, Block, NestedBlock, Nesting, Schema};
use crate::value::{json, Type};

/// What kind of thing a page documents.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum PageKind {
    /// A managed resource.
    Resource,
    /// A data source.
    DataSource,
    /// An ephemeral resource (Terraform ≥ 1.10).
    EphemeralResource,
}

impl PageKind {
    fn dir(self) -> &'static str {
        match self {
            PageKind::Resource => "resources",
            PageKind::DataSource => "data-sources",
            PageKind::EphemeralResource => "ephemeral-resources",
        }
    }

    fn example_file(self) -> &'static str {
        match self {
            PageKind::Resource => "resource.tf",
            PageKind::DataSource => "data-source.tf",
            PageKind::EphemeralResource => "ephemeral-resource.tf",
        }
    }

    fn title(self) -> &'static str {
        match self {
            PageKind::Resource => "Resource",
            PageKind::DataSource => "Data Source",
            PageKind::EphemeralResource => "Ephemeral Resource",
        }
    }
}

/// Everything the generator documents: the provider block and each type's schema.
pub struct Catalog<'a> {
    /// The provider's local name, e.g. `treeherder` (the prefix of its type names).
    pub provider_name: &'a str,
    /// The provider's display name, e.g. `Treeherder`.
    pub display_name: &'a str,
    /// The provider block's schema.
    pub provider: &'a Schema,
    /// Every resource, data source and ephemeral resource, by kind and type name.
    pub types: Vec<(PageKind, &'a str, &'a Schema)>,
    /// Every provider-defined function, by name.
    pub functions: Vec<(&'a str, Signature)>,
}

/// A generated page: its path below the docs directory and its content.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page {
    /// Relative path, e.g. `resources/formation.md`.
    pub path: PathBuf,
    /// The Markdown text.
    pub text: String,
}

/// Why pages could not be generated.
#[derive(Debug, thiserror::Error)]
pub enum DocsError {
    /// A required example file is missing or unreadable.
    #[error("{path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// A template uses a placeholder the generator does not know.
    #[error("{path}: unknown placeholder {{{{ {name} }}}} (known: description, example, schema, import)")]
    UnknownPlaceholder {
        /// The template.
        path: PathBuf,
        /// The placeholder's name.
        name: String,
    },
    /// A template of a resource leaves out a section every page must have.
    #[error("{path}: the template has no {{{{ {name} }}}}")]
    MissingPlaceholder {
        /// The template.
        path: PathBuf,
        /// The placeholder's name.
        name: &'static str,
    },
    /// A type name does not start with the provider's name.
    #[error("type {0} does not start with the provider's name")]
    TypeName(String),
}

/// Generates every page of `catalog`, reading `root/examples` and `root/templates`.
pub fn generate(catalog: &Catalog<'_>, root: &Path) -> Result<Vec<Page>, DocsError> {
    let mut pages = vec![index_page(catalog, root)?];
    for (kind, type_name, schema) in &catalog.types {
        pages.push(type_page(catalog, *kind, type_name, schema, root)?);
    }
    for (name, signature) in &catalog.functions {
        pages.push(function_page(catalog, name, signature, root)?);
    }
    Ok(pages)
}

/// Writes `pages` below `docs_dir`, removing Markdown files no page produced, so that a
/// deleted resource's page goes too.
pub fn write(pages: &[Page], docs_dir: &Path) -> std::io::Result<()> {
    let wanted: std::collections::BTreeSet<PathBuf> =
        pages.iter().map(|p| docs_dir.join(&p.path)).collect();
    for existing in markdown_files(docs_dir)? {
        if !wanted.contains(&existing) {
            std::fs::remove_file(&existing)?;
        }
    }
    for page in pages {
        let path = docs_dir.join(&page.path);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)?;
        }
        std::fs::write(path, &page.text)?;
    }
    Ok(())
}

/// The differences between `pages` and `docs_dir`: pages that are missing, differ, or are
/// stale (a Markdown file no page produced). Empty when `docs_dir` is up to date.
pub fn compare(pages: &[Page], docs_dir: &Path) -> std::io::Result<Vec<String>> {
    let mut problems = Vec::new();
    let mut wanted = std::collections::BTreeSet::new();
    for page in pages {
        let path = docs_dir.join(&page.path);
        match std::fs::read_to_string(&path) {
            Ok(text) if text == page.text => {}
            Ok(text) => problems.push(format!(
                "{} differs from the generated page (first difference at line {})",
                path.display(),
                first_difference(&text, &page.text)
            )),
            Err(_) => problems.push(format!("{} is missing", path.display())),
        }
        wanted.insert(path);
    }
    for existing in markdown_files(docs_dir)? {
        if !wanted.contains(&existing) {
            problems.push(format!(
                "{} is not generated from any schema",
                existing.display()
            ));
        }
    }
    Ok(problems)
}

fn first_difference(a: &str, b: &str) -> usize {
    a.lines()
        .zip(b.lines())
        .position(|(x, y)| x != y)
        .unwrap_or_else(|| a.lines().count().min(b.lines().count()))
        + 1
}

fn markdown_files(dir: &Path) -> std::io::Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(out),
        Err(e) => return Err(e),
    };
    for entry in entries {
        let path = entry?.path();
        if path.is_dir() {
            out.extend(markdown_files(&path)?);
        } else if path.extension().is_some_and(|e| e == "md") {
            out.push(path);
        }
    }
    Ok(out)
}

fn read(path: &Path) -> Result<String, DocsError> {
    std::fs::read_to_string(path).map_err(|source| DocsError::Read {
        path: path.to_path_buf(),
        source,
    })
}

fn read_optional(path: &Path) -> Result<Option<String>, DocsError> {
    match std::fs::read_to_string(path) {
        Ok(text) => Ok(Some(text)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(source) => Err(DocsError::Read {
            path: path.to_path_buf(),
            source,
        }),
    }
}

/// The sections a template can place.
struct Sections {
    description: String,
    example: String,
    schema: String,
    import: Option<String>,
}

const DEFAULT_BODY: &str =
    "{{ description }}\n\n## Example Usage\n\n{{ example }}\n\n{{ schema }}\n";
const DEFAULT_IMPORT: &str = "\n## Import\n\n{{ import }}\n";

fn index_page(catalog: &Catalog<'_>, root: &Path) -> Result<Page, DocsError> {
    let example = read(&root.join("examples/provider/provider.tf"))?;
    let sections = Sections {
        description: catalog.provider.block.description.clone(),
        example: code_block("terraform", &example),
        schema: schema_section(&catalog.provider.block),
        import: None,
    };
    let template_path = root.join("templates/index.md.tmpl");
    let (subcategory, body) = body(&template_path, &sections, DEFAULT_BODY)?;
    let mut text = front_matter(
        &format!("Provider: {}", catalog.display_name),
        subcategory.as_deref(),
        &sections.description,
    );
    let _ = writeln!(text, "# {} Provider\n", catalog.display_name);
    text.push_str(&body);
    Ok(Page {
        path: PathBuf::from("index.md"),
        text: tidy(&text),
    })
}

fn type_page(
    catalog: &Catalog<'_>,
    kind: PageKind,
    type_name: &str,
    schema: &Schema,
    root: &Path,
) -> Result<Page, DocsError> {
    let short = type_name
        .strip_prefix(catalog.provider_name)
        .and_then(|rest| rest.strip_prefix('_'))
        .ok_or_else(|| DocsError::TypeName(type_name.to_string()))?;
    let examples = root.join("examples").join(kind.dir()).join(type_name);
    let example = read(&examples.join(kind.example_file()))?;
    // An import.sh of comments only says why the resource cannot be imported: the
    // template's prose says it, and there is no command to show.
    let import = if kind == PageKind::Resource {
        let script = read(&examples.join("import.sh"))?;
        let has_command = script
            .lines()
            .any(|l| !l.trim().is_empty() && !l.trim_start().starts_with('#'));
        has_command.then(|| code_block("shell", &script))
    } else {
        None
    };
    let sections = Sections {
        description: schema.block.description.clone(),
        example: code_block("terraform", &example),
        schema: schema_section(&schema.block),
        import,
    };
    let page_path = PathBuf::from(kind.dir()).join(format!("{short}.md"));
    let template_path = root
        .join("templates")
        .join(format!("{}.tmpl", page_path.display()));
    let default = if sections.import.is_some() {
        format!("{DEFAULT_BODY}{DEFAULT_IMPORT}")
    } else {
        DEFAULT_BODY.to_string()
    };
    let (subcategory, body) = body(&template_path, &sections, &default)?;
    let mut text = front_matter(
        &format!(
            "{type_name} {} - terraform-provider-{}",
            kind.title(),
            catalog.provider_name
        ),
        subcategory.as_deref(),
        &sections.description,
    );
    let _ = writeln!(text, "# {type_name} ({})\n", kind.title());
    text.push_str(&body);
    Ok(Page {
        path: page_path,
        text: tidy(&text),
    })
}

/// A function's page: summary, example, signature and arguments (the Registry's layout).
fn function_page(
    catalog: &Catalog<'_>,
    name: &str,
    signature: &Signature,
    root: &Path,
) -> Result<Page, DocsError> {
    let example = read(
        &root
            .join("examples/functions")
            .join(name)
            .join("function.tf"),
    )?;
    let mut text = front_matter(
        &format!(
            "{name} function - terraform-provider-{}",
            catalog.provider_name
        ),
        None,
        signature.summary,
    );
    let _ = writeln!(
        text,
        "# function: {name}
"
    );
    let _ = writeln!(
        text,
        "{}
",
        signature.description.trim_end()
    );
    let _ = writeln!(
        text,
        "## Example Usage

{}
",
        code_block("terraform", &example)
    );
    let parameters: Vec<String> = signature
        .parameters
        .iter()
        .map(|p| format!("{} {}", p.name, hcl_type(&p.ty)))
        .collect();
    let _ = writeln!(
        text,
        "## Signature

{}
",
        code_block(
            "text",
            &format!(
                "{name}({}) {}",
                parameters.join(", "),
                hcl_type(&signature.returns)
            )
        )
    );
    text.push_str(
        "## Arguments

",
    );
    for (position, p) in signature.parameters.iter().enumerate() {
        let null = if p.allow_null { ", may be null" } else { "" };
        let _ = writeln!(
            text,
            "{}. `{}` ({}{null}) {}",
            position + 1,
            p.name,
            type_name(&p.ty),
            p.description
        );
    }
    let _ = writeln!(
        text,
        "
## Return Type

{}",
        type_name(&signature.returns)
    );
    Ok(Page {
        path: PathBuf::from("functions").join(format!("{name}.md")),
        text: tidy(&text),
    })
}

/// The template's subcategory and its body with the placeholders filled in.
fn body(
    template_path: &Path,
    sections: &Sections,
    default: &str,
) -> Result<(Option<String>, String), DocsError> {
    let template = read_optional(template_path)?;
    let (subcategory, text) = match &template {
        Some(text) => split_front_matter(text),
        None => (None, default),
    };
    for (name, needed) in [
        ("example", true),
        ("schema", true),
        ("import", sections.import.is_some()),
    ] {
        if needed && !text.contains(&format!("{{{{ {name} }}}}")) {
            return Err(DocsError::MissingPlaceholder {
                path: template_path.to_path_buf(),
                name,
            });
        }
    }
    let mut out = String::new();
    let mut rest = text;
    while let Some(start) = rest.find("{{") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let Some(end) = after.find("}}") else {
            out.push_str(&rest[start..]);
            rest = "";
            break;
        };
        let name = after[..end].trim();
        let filled = match name {
            "description" => sections.description.as_str(),
            "example" => sections.example.as_str(),
            "schema" => sections.schema.as_str(),
            "import" if sections.import.is_some() => sections.import.as_deref().unwrap_or(""),
            _ => {
                return Err(DocsError::UnknownPlaceholder {
                    path: template_path.to_path_buf(),
                    name: name.to_string(),
                })
            }
        };
        // A section is a block: it ends its line even when the template goes on right after.
        out.push_str(filled.trim_end_matches('\n'));
        out.push('\n');
        rest = &after[end + 2..];
    }
    out.push_str(rest);
    Ok((subcategory, out))
}

/// A template's leading `---` block: only `subcategory:` is taken from it.
fn split_front_matter(text: &str) -> (Option<String>, &str) {
    let Some(after) = text.strip_prefix("---\n") else {
        return (None, text);
    };
    let Some(end) = after.find("\n---\n") else {
        return (None, text);
    };
    let subcategory = after[..end].lines().find_map(|line| {
        line.strip_prefix("subcategory:")
            .map(|v| v.trim().trim_matches('"').to_string())
    });
    (subcategory, after[end + 5..].trim_start_matches('\n'))
}

fn front_matter(title: &str, subcategory: Option<&str>, description: &str) -> String {
    let mut text = format!("---\npage_title: \"{title}\"\n");
    let _ = writeln!(text, "subcategory: \"{}\"", subcategory.unwrap_or(""));
    text.push_str("description: |-\n");
    for line in description.lines() {
        if line.is_empty() {
            text.push('\n');
        } else {
            let _ = writeln!(text, "  {line}");
        }
    }
    text.push_str("---\n\n");
    text
}

fn code_block(language: &str, code: &str) -> String {
    format!("```{language}\n{}\n```", code.trim_end_matches('\n'))
}

/// Collapses runs of blank lines and ends the text with exactly one newline.
fn tidy(text: &str) -> String {
    let mut out = String::new();
    let mut blank = 0;
    let mut in_code = false;
    for line in text.lines() {
        if line.trim_start().starts_with("```") {
            in_code = !in_code;
        }
        let line = if in_code { line } else { line.trim_end() };
        if line.is_empty() && !in_code {
            blank += 1;
            if blank > 1 {
                continue;
            }
        } else {
            blank = 0;
        }
        out.push_str(line);
        out.push('\n');
    }
    let trimmed = out.trim_end_matches('\n').len();
    out.truncate(trimmed);
    out.push('\n');
    out
}

/// The "Schema" section of a block: its own lists, then one subsection per nested block or
/// nested attribute, depth first, each with an anchor the lists link to.
fn schema_section(block: &Block) -> String {
    let mut out = String::from("## Schema\n");
    let mut nested = Vec::new();
    render_lists(block, "", "###", &mut out, &mut nested);
    while !nested.is_empty() {
        let pending = std::mem::take(&mut nested);
        for item in pending {
            let _ = write!(
                out,
                "\n<a id=\"{}\"></a>\n### Nested Schema for `{}`\n",
                item.anchor, item.path
            );
            if !item.description.is_empty() {
                let _ = writeln!(out, "\n{}", one_line(&item.description));
            }
            render_lists(&item.block, &item.path, "", &mut out, &mut nested);
        }
    }
    out
}

/// A nested block or nested attribute still to document.
struct NestedItem {
    path: String,
    anchor: String,
    description: String,
    block: Block,
}

fn render_lists(
    block: &Block,
    path: &str,
    heading: &str,
    out: &mut String,
    nested: &mut Vec<NestedItem>,
) {
    let mut groups: BTreeMap<u8, Vec<String>> = BTreeMap::new();
    for attribute in &block.attributes {
        let (group, line) = attribute_line(attribute, path, nested);
        groups.entry(group).or_default().push(line);
    }
    for nested_block in &block.block_types {
        let (group, line) = block_line(nested_block, path, nested);
        groups.entry(group).or_default().push(line);
    }
    for (group, lines) in groups {
        let title = ["Required", "Optional", "Read-Only"][usize::from(group)];
        if heading.is_empty() {
            let _ = writeln!(out, "\n{title}:\n");
        } else {
            let _ = writeln!(out, "\n{heading} {title}\n");
        }
        for line in lines {
            let _ = writeln!(out, "- {line}");
        }
    }
}

fn anchor(kind: &str, path: &str) -> String {
    format!("nested{kind}--{}", path.replace('.', "--"))
}

fn joined(path: &str, name: &str) -> String {
    if path.is_empty() {
        name.to_string()
    } else {
        format!("{path}.{name}")
    }
}

/// 0 = required, 1 = optional, 2 = read-only, and the list line.
fn attribute_line(attribute: &Attribute, path: &str, nested: &mut Vec<NestedItem>) -> (u8, String) {
    let group = if attribute.required {
        0
    } else if attribute.optional {
        1
    } else {
        2
    };
    let mut marks = vec![match &attribute.nested {
        Some(n) => nesting_name(n.nesting, "Attributes"),
        None => type_name(&attribute.ty),
    }];
    if attribute.sensitive {
        marks.push("Sensitive".into());
    }
    if attribute.write_only {
        marks.push("Write-only".into());
    }
    if attribute.deprecated {
        marks.push("Deprecated".into());
    }
    let mut line = format!("`{}` ({})", attribute.name, marks.join(", "));
    if !attribute.description.is_empty() {
        let _ = write!(line, " {}", one_line(&attribute.description));
    }
    if let Some(default) = &attribute.default {
        if let Ok(json) = json::to_serde(default, &attribute.ty) {
            let _ = write!(line, " Default: `{json}`.");
        }
    }
    let accepted: Vec<String> = attribute
        .validators
        .iter()
        .map(|v| v.description())
        .filter(|d| !d.is_empty())
        .collect();
    if !accepted.is_empty() {
        let _ = write!(line, " Accepts {}.", accepted.join("; "));
    }
    if let Some(inner) = &attribute.nested {
        let full = joined(path, &attribute.name);
        let id = anchor("atttype", &full);
        let _ = write!(line, " (see [below for nested schema](#{id}))");
        nested.push(NestedItem {
            path: full,
            anchor: id,
            description: String::new(),
            block: Block {
                attributes: inner.attributes.clone(),
                ..Block::default()
            },
        });
    }
    (group, line)
}

fn block_line(block: &NestedBlock, path: &str, nested: &mut Vec<NestedItem>) -> (u8, String) {
    let group = if block.min_items > 0 {
        0
    } else if block
        .block
        .attributes
        .iter()
        .all(|a| a.computed && !a.optional)
        && !block.block.attributes.is_empty()
    {
        2
    } else {
        1
    };
    let full = joined(path, &block.type_name);
    let id = anchor("block", &full);
    let mut marks = vec![nesting_name(block.nesting, "Block")];
    if block.max_items > 0 && block.nesting != Nesting::Single {
        marks.push(format!("Max: {}", block.max_items));
    }
    if block.block.deprecated {
        marks.push("Deprecated".into());
    }
    let mut line = format!("`{}` ({})", block.type_name, marks.join(", "));
    if !block.block.description.is_empty() {
        let _ = write!(line, " {}", one_line(&block.block.description));
    }
    let _ = write!(line, " (see [below for nested schema](#{id}))");
    nested.push(NestedItem {
        path: full,
        anchor: id,
        description: String::new(),
        block: block.block.clone(),
    });
    (group, line)
}

fn nesting_name(nesting: Nesting, what: &str) -> String {
    match nesting {
        Nesting::Single => what.to_string(),
        Nesting::List => format!("{what} List"),
        Nesting::Set => format!("{what} Set"),
        Nesting::Map => format!("{what} Map"),
    }
}

/// A type as HCL writes a type constraint, e.g. `map(string)`.
fn hcl_type(ty: &Type) -> String {
    match ty {
        Type::String => "string".into(),
        Type::Number => "number".into(),
        Type::Bool => "bool".into(),
        Type::Dynamic => "any".into(),
        Type::List(e) => format!("list({})", hcl_type(e)),
        Type::Set(e) => format!("set({})", hcl_type(e)),
        Type::Map(e) => format!("map({})", hcl_type(e)),
        Type::Object(attributes) => format!(
            "object({{{}}})",
            attributes
                .iter()
                .map(|(name, t)| format!("{name} = {}", hcl_type(t)))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        Type::Tuple(elements) => format!(
            "tuple([{}])",
            elements.iter().map(hcl_type).collect::<Vec<_>>().join(", ")
        ),
    }
}

fn type_name(ty: &Type) -> String {
    match ty {
        Type::String => "String".into(),
        Type::Number => "Number".into(),
        Type::Bool => "Boolean".into(),
        Type::Dynamic => "Dynamic".into(),
        Type::List(e) => format!("List of {}", type_name(e)),
        Type::Set(e) => format!("Set of {}", type_name(e)),
        Type::Map(e) => format!("Map of {}", type_name(e)),
        Type::Object(_) => "Object".into(),
        Type::Tuple(_) => "Tuple".into(),
    }
}

/// Descriptions come from doc comments wrapped at 100 columns: a list item is one line.
fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests;
