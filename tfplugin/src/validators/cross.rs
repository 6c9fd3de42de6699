//! Rules over several attributes of one block (terraform-plugin-framework's config
//! validators): values the [`crate::Model`] derive attaches with
//! `#[tf(conflicts_with(a, b))]`, `#[tf(exactly_one_of(a, b))]` and
//! `#[tf(also_requires(a => b))]`, run by validate with each diagnostic at the attribute to
//! change. An unknown value counts as set (it will be known at apply, e.g. an ephemeral
//! value); null is not set.

use std::collections::BTreeMap;

use crate::diag::{AttributePath, Diagnostic, Diagnostics};
use crate::value::Value;

/// Checks the attributes of one block together.
pub trait BlockValidator: Send + Sync {
    /// What the rule requires, in words shown to users.
    fn description(&self) -> String;

    /// Checks `attributes` (the block's configuration) of the block found at `path` (empty at
    /// the top level).
    fn validate(
        &self,
        path: &AttributePath,
        attributes: &BTreeMap<String, Value>,
        diagnostics: &mut Diagnostics,
    );
}

impl std::fmt::Debug for dyn BlockValidator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.description())
    }
}

fn is_set(attributes: &BTreeMap<String, Value>, name: &str) -> bool {
    attributes.get(name).is_some_and(|v| !v.is_null())
}

fn at(path: &AttributePath, name: &str) -> AttributePath {
    path.clone().attribute(name)
}

/// `a`, `a` and `b`, `a`, `b` and `c`: attribute paths in backquotes.
fn listing(path: &AttributePath, names: &[String], conjunction: &str) -> String {
    let quoted: Vec<String> = names.iter().map(|n| format!("`{}`", at(path, n))).collect();
    match quoted.split_last() {
        None => String::new(),
        Some((last, [])) => last.clone(),
        Some((last, rest)) => format!("{} {conjunction} {last}", rest.join(", ")),
    }
}

/// Ends a detail with a rule's hint, if it has one.
fn with_hint(detail: String, hint: &Option<String>) -> String {
    match hint {
        Some(hint) => format!("{detail} {hint}"),
        None => detail,
    }
}

/// At most one of the attributes may be set; the diagnostic is at each one set after the first.
#[derive(Debug, Clone)]
pub struct ConflictsWith {
    attributes: Vec<String>,
    summary: Option<String>,
    hint: Option<String>,
}

impl ConflictsWith {
    /// At most one of `attributes`.
    pub fn new(attributes: &[&str]) -> Self {
        ConflictsWith {
            attributes: attributes.iter().map(|a| a.to_string()).collect(),
            summary: None,
            hint: None,
        }
    }

    /// Adds advice after the rule in the diagnostic's detail.
    pub fn hint(&mut self, hint: impl Into<String>) -> &mut Self {
        self.hint = Some(hint.into());
        self
    }

    /// Replaces the diagnostic's summary ("Conflicting arguments").
    pub fn summary(&mut self, summary: impl Into<String>) -> &mut Self {
        self.summary = Some(summary.into());
        self
    }
}

impl BlockValidator for ConflictsWith {
    fn description(&self) -> String {
        format!(
            "at most one of {}",
            listing(&AttributePath::default(), &self.attributes, "and")
        )
    }

    fn validate(
        &self,
        path: &AttributePath,
        attributes: &BTreeMap<String, Value>,
        diagnostics: &mut Diagnostics,
    ) {
        let set = set_among(&self.attributes, attributes);
        let detail = with_hint(
            format!(
                "Set only one of {}.",
                listing(path, &self.attributes, "and")
            ),
            &self.hint,
        );
        let summary = self.summary.as_deref().unwrap_or("Conflicting arguments");
        conflicts(path, &set, summary, &detail, diagnostics);
    }
}

/// The names among `names` that are set in `attributes`, in `names`' order.
fn set_among<'a>(names: &'a [String], attributes: &BTreeMap<String, Value>) -> Vec<&'a String> {
    names.iter().filter(|a| is_set(attributes, a)).collect()
}

/// One diagnostic at each attribute of `set` after the first.
fn conflicts(
    path: &AttributePath,
    set: &[&String],
    summary: &str,
    detail: &str,
    diagnostics: &mut Diagnostics,
) {
    for extra in set.iter().skip(1) {
        diagnostics.push(Diagnostic::error(summary, detail).at(at(path, extra)));
    }
}

/// Exactly one of the attributes must be set: none is a diagnostic at the block (at the first
/// attribute at the top level), several one at each after the first.
#[derive(Debug, Clone)]
pub struct ExactlyOneOf {
    attributes: Vec<String>,
    hint: Option<String>,
}

impl ExactlyOneOf {
    /// Exactly one of `attributes`.
    pub fn new(attributes: &[&str]) -> Self {
        ExactlyOneOf {
            attributes: attributes.iter().map(|a| a.to_string()).collect(),
            hint: None,
        }
    }

    /// Adds advice after the rule in the diagnostic's detail.
    pub fn hint(&mut self, hint: impl Into<String>) -> &mut Self {
        self.hint = Some(hint.into());
        self
    }
}

impl BlockValidator for ExactlyOneOf {
    fn description(&self) -> String {
        format!(
            "exactly one of {}",
            listing(&AttributePath::default(), &self.attributes, "or")
        )
    }

    fn validate(
        &self,
        path: &AttributePath,
        attributes: &BTreeMap<String, Value>,
        diagnostics: &mut Diagnostics,
    ) {
        let set = set_among(&self.attributes, attributes);
        if set.is_empty() {
            let Some(first) = self.attributes.first() else {
                return;
            };
            diagnostics.push(
                Diagnostic::error(
                    "Missing argument",
                    with_hint(
                        format!("Set one of {}.", listing(path, &self.attributes, "or")),
                        &self.hint,
                    ),
                )
                .at(at(path, first)),
            );
        }
        let detail = with_hint(
            format!(
                "Set exactly one of {}.",
                listing(path, &self.attributes, "or")
            ),
            &self.hint,
        );
        conflicts(path, &set, "Conflicting arguments", &detail, diagnostics);
    }
}

/// When one of the attributes is set, each of the others (`requires`) must be too. The
/// diagnostic is at the attribute set (as terraform-plugin-framework's), the line of
/// configuration Terraform can quote, and names the one missing.
#[derive(Debug, Clone)]
pub struct AlsoRequires {
    attributes: Vec<String>,
    requires: Vec<String>,
    summary: Option<String>,
    hint: Option<String>,
}

impl AlsoRequires {
    /// Each of `attributes` set needs every one of `requires` set.
    pub fn new(attributes: &[&str], requires: &[&str]) -> Self {
        AlsoRequires {
            attributes: attributes.iter().map(|a| a.to_string()).collect(),
            requires: requires.iter().map(|a| a.to_string()).collect(),
            summary: None,
            hint: None,
        }
    }

    /// Adds advice after the rule in the diagnostic's detail.
    pub fn hint(&mut self, hint: impl Into<String>) -> &mut Self {
        self.hint = Some(hint.into());
        self
    }

    /// Replaces the diagnostic's summary ("Missing <attribute>").
    pub fn summary(&mut self, summary: impl Into<String>) -> &mut Self {
        self.summary = Some(summary.into());
        self
    }
}

impl BlockValidator for AlsoRequires {
    fn description(&self) -> String {
        let root = AttributePath::default();
        format!(
            "{} needs {}",
            listing(&root, &self.attributes, "or"),
            listing(&root, &self.requires, "and")
        )
    }

    fn validate(
        &self,
        path: &AttributePath,
        attributes: &BTreeMap<String, Value>,
        diagnostics: &mut Diagnostics,
    ) {
        for set in self.attributes.iter().filter(|a| is_set(attributes, a)) {
            let set_path = at(path, set);
            for missing in self.requires.iter().filter(|r| !is_set(attributes, r)) {
                let missing_path = at(path, missing);
                let summary = match &self.summary {
                    Some(summary) => summary.clone(),
                    None => format!("Missing {missing}"),
                };
                diagnostics.push(
                    Diagnostic::error(
                        summary,
                        with_hint(format!("`{set_path}` needs `{missing_path}`."), &self.hint),
                    )
                    .at(set_path.clone()),
                );
            }
        }
    }
}
