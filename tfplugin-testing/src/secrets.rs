//! The scan for sensitive values in logs and captured output.

use std::fmt;
use std::path::{Path, PathBuf};

use super::error::HarnessError;

/// One occurrence of a sensitive value. It names the value by its index, never by its text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Leak {
    /// The file the value was found in.
    pub file: PathBuf,
    /// 1-based line number.
    pub line: usize,
    /// Index of the value in the list of sensitive values.
    pub value_index: usize,
}

impl fmt::Display for Leak {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "sensitive value #{} in {} line {}",
            self.value_index,
            self.file.display(),
            self.line
        )
    }
}

/// What a scan looked at and found.
#[derive(Debug, Clone, Default)]
pub struct SecretScan {
    /// Files read.
    pub files_scanned: usize,
    /// Bytes read.
    pub bytes_scanned: u64,
    /// Occurrences found.
    pub leaks: Vec<Leak>,
    /// Log lines (file, 1-based line) where Terraform reports a provider that did not exit
    /// after Shutdown: a protocol fault every test should catch.
    pub unclean_exits: Vec<(PathBuf, usize)>,
}

/// What Terraform logs when a provider did not exit within its grace period after Shutdown.
const UNCLEAN_EXIT: &str = "plugin failed to exit gracefully";

/// Searches every file under `dir` (recursively) for each non-empty value of `secrets`.
pub fn scan_for_secrets(dir: &Path, secrets: &[String]) -> Result<SecretScan, HarnessError> {
    let mut scan = SecretScan::default();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(current) = pending.pop() {
        let entries =
            std::fs::read_dir(&current).map_err(|e| HarnessError::io("listing", &current, e))?;
        let mut paths = Vec::new();
        for entry in entries {
            let entry = entry.map_err(|e| HarnessError::io("listing", &current, e))?;
            paths.push(entry.path());
        }
        paths.sort();
        for path in paths {
            if path.is_dir() {
                pending.push(path);
                continue;
            }
            let bytes = std::fs::read(&path).map_err(|e| HarnessError::io("reading", &path, e))?;
            scan.files_scanned += 1;
            scan.bytes_scanned += bytes.len() as u64;
            // Lossy decoding keeps ASCII secrets findable even next to invalid UTF-8.
            let text = String::from_utf8_lossy(&bytes);
            for (line_no, line) in text.lines().enumerate() {
                if line.contains(UNCLEAN_EXIT) {
                    scan.unclean_exits.push((path.clone(), line_no + 1));
                }
                for (index, secret) in secrets.iter().enumerate() {
                    if !secret.is_empty() && line.contains(secret.as_str()) {
                        scan.leaks.push(Leak {
                            file: path.clone(),
                            line: line_no + 1,
                            value_index: index,
                        });
                    }
                }
            }
        }
    }
    Ok(scan)
}

/// Replaces every occurrence of each secret in `text` by `<redacted #i>`.
pub(crate) fn redact(text: &str, secrets: &[String]) -> String {
    let mut out = text.to_string();
    for (i, secret) in secrets.iter().enumerate() {
        if !secret.is_empty() {
            out = out.replace(secret.as_str(), &format!("<redacted #{i}>"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_values_by_file_and_line_without_quoting_them() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("sub")).unwrap();
        std::fs::write(dir.path().join("a.log"), "fine\nkey=hunter22-long\n").unwrap();
        std::fs::write(dir.path().join("sub/b.log"), "nothing here").unwrap();
        let secrets = vec![
            "hunter22-long".to_string(),
            String::new(),
            "absent-value".to_string(),
        ];
        let scan = scan_for_secrets(dir.path(), &secrets).unwrap();
        assert_eq!(scan.files_scanned, 2);
        assert_eq!(scan.leaks.len(), 1);
        assert_eq!(scan.leaks[0].line, 2);
        assert_eq!(scan.leaks[0].value_index, 0);
        assert!(!scan.leaks[0].to_string().contains("hunter22"));
    }

    #[test]
    fn finds_providers_that_did_not_exit_gracefully() {
        let dir = tempfile::tempdir().unwrap();
        let line = "2026-01-01T00:00:00.000Z [DEBUG] provider: plugin failed to exit gracefully";
        std::fs::write(dir.path().join("plan.tflog"), format!("ok\n{line}\n")).unwrap();
        let scan = scan_for_secrets(dir.path(), &[]).unwrap();
        assert_eq!(scan.unclean_exits, vec![(dir.path().join("plan.tflog"), 2)]);
    }

    #[test]
    fn redacts_every_occurrence() {
        let secrets = vec!["pw123456".to_string()];
        assert_eq!(
            redact("a pw123456 b pw123456", &secrets),
            "a <redacted #0> b <redacted #0>"
        );
    }
}
