//! Terraform's diagnostics as typed values, read from the machine-readable UI (`-json`) of
//! `plan` and `apply`: a test can then say *where* an error must be (file and line) and what it
//! must say, instead of matching the wrapped human-readable text.

use serde::Deserialize;

/// How bad a diagnostic is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// The operation failed.
    Error,
    /// The operation went on.
    Warning,
}

/// A position in a configuration file (lines and columns count from 1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
pub struct SourcePos {
    /// Line, from 1.
    pub line: u64,
    /// Column, from 1.
    pub column: u64,
}

/// The configuration range a diagnostic points at.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct SourceRange {
    /// The file, relative to the working directory (`main.tf`).
    pub filename: String,
    /// Where the range starts.
    pub start: SourcePos,
    /// Where it ends.
    pub end: SourcePos,
}

/// One diagnostic as Terraform reports it.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Diagnostic {
    /// Error or warning.
    pub severity: Severity,
    /// The one-line summary.
    pub summary: String,
    /// The explanation (empty when there is none).
    #[serde(default)]
    pub detail: String,
    /// Where in the configuration, when it points somewhere.
    #[serde(default)]
    pub range: Option<SourceRange>,
}

impl Diagnostic {
    /// True when the diagnostic points at `line` of `filename`.
    pub fn is_at(&self, filename: &str, line: u64) -> bool {
        self.range
            .as_ref()
            .is_some_and(|r| r.filename == filename && r.start.line == line)
    }
}

/// Every diagnostic in the `-json` output of a Terraform command, in order (lines that are not
/// diagnostic messages are skipped).
pub fn diagnostics_from_json_lines(stdout: &str) -> Vec<Diagnostic> {
    #[derive(Deserialize)]
    struct Message {
        #[serde(rename = "type")]
        kind: String,
        diagnostic: Option<Diagnostic>,
    }
    stdout
        .lines()
        .filter_map(|line| serde_json::from_str::<Message>(line).ok())
        .filter(|m| m.kind == "diagnostic")
        .filter_map(|m| m.diagnostic)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_diagnostics_and_skips_other_messages() {
        let out = concat!(
            r#"{"@level":"info","type":"version","terraform":"1.11.4"}"#,
            "\n",
            r#"{"@level":"error","type":"diagnostic","diagnostic":{"severity":"error","summary":"Invalid app","detail":"Use lowercase letters","range":{"filename":"main.tf","start":{"line":9,"column":3,"byte":80},"end":{"line":9,"column":6,"byte":83}}}}"#,
            "\n",
            r#"{"type":"diagnostic","diagnostic":{"severity":"warning","summary":"No range"}}"#,
            "\nnot json\n"
        );
        let found = diagnostics_from_json_lines(out);
        assert_eq!(found.len(), 2);
        assert_eq!(found[0].severity, Severity::Error);
        assert!(found[0].is_at("main.tf", 9));
        assert!(!found[0].is_at("main.tf", 10));
        assert_eq!(found[1].severity, Severity::Warning);
        assert_eq!(found[1].detail, "");
        assert!(found[1].range.is_none());
    }
}
