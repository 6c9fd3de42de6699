//! Plain `[LEVEL] message` lines on stderr, the form Terraform's plugin client
//! understands, with every registered secret masked before a line is written.
//!
//! The level comes from `TF_LOG_PROVIDER`, else `TF_LOG` (as Terraform sets them for
//! its plugins). Lines are never JSON: Terraform 1.0's client panics on some JSON shapes.

use std::fmt;
use std::io::Write;
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::{OnceLock, RwLock};

/// Severity of a log line, most verbose first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
#[repr(u8)]
pub enum Level {
    /// Everything, including request values (sensitive ones masked).
    Trace = 0,
    /// What the provider does, step by step.
    Debug = 1,
    /// Noteworthy progress.
    Info = 2,
    /// Something the operator may want to look at.
    Warn = 3,
    /// A failure.
    Error = 4,
    /// Nothing is written.
    Off = 5,
}

impl Level {
    fn tag(self) -> &'static str {
        match self {
            Level::Trace => "TRACE",
            Level::Debug => "DEBUG",
            Level::Info => "INFO",
            Level::Warn => "WARN",
            Level::Error => "ERROR",
            Level::Off => "OFF",
        }
    }

    /// Parses Terraform's `TF_LOG` spelling; `JSON` means trace, unknown words mean info.
    pub fn parse(text: &str) -> Level {
        match text.trim().to_ascii_uppercase().as_str() {
            "TRACE" | "JSON" => Level::Trace,
            "DEBUG" => Level::Debug,
            "INFO" => Level::Info,
            "WARN" => Level::Warn,
            "ERROR" => Level::Error,
            "OFF" => Level::Off,
            _ => Level::Info,
        }
    }
}

const UNSET: u8 = u8::MAX;
static LEVEL: AtomicU8 = AtomicU8::new(UNSET);
static SECRETS: OnceLock<RwLock<Vec<String>>> = OnceLock::new();

/// Secrets shorter than this are not masked: masking "a" would garble every line.
const MIN_SECRET_LEN: usize = 4;
const MASK: &str = "(sensitive value)";

fn secrets() -> &'static RwLock<Vec<String>> {
    SECRETS.get_or_init(|| RwLock::new(Vec::new()))
}

/// The level in force, read from the environment on first use.
pub fn level() -> Level {
    let current = LEVEL.load(Ordering::Relaxed);
    if current != UNSET {
        return level_from_u8(current);
    }
    let from_env = std::env::var("TF_LOG_PROVIDER")
        .ok()
        .filter(|v| !v.trim().is_empty())
        .or_else(|| {
            std::env::var("TF_LOG")
                .ok()
                .filter(|v| !v.trim().is_empty())
        })
        .map(|v| Level::parse(&v))
        .unwrap_or(Level::Info);
    LEVEL.store(from_env as u8, Ordering::Relaxed);
    from_env
}

fn level_from_u8(value: u8) -> Level {
    match value {
        0 => Level::Trace,
        1 => Level::Debug,
        2 => Level::Info,
        3 => Level::Warn,
        4 => Level::Error,
        _ => Level::Off,
    }
}

/// Overrides the level taken from the environment (tests, debug mode).
pub fn set_level(level: Level) {
    LEVEL.store(level as u8, Ordering::Relaxed);
}

/// True when a line at `level` would be written.
pub fn enabled(level: Level) -> bool {
    level != Level::Off && level >= self::level()
}

/// Registers a secret: from now on it is masked in every line this process logs.
pub fn register_secret(secret: &str) {
    if secret.len() < MIN_SECRET_LEN {
        return;
    }
    let mut list = match secrets().write() {
        Ok(list) => list,
        Err(poisoned) => poisoned.into_inner(),
    };
    if !list.iter().any(|s| s == secret) {
        list.push(secret.to_string());
        // Longest first, so a secret containing another is masked whole.
        list.sort_by_key(|s| std::cmp::Reverse(s.len()));
    }
}

/// `text` with every registered secret replaced by a mask.
pub fn mask(text: &str) -> String {
    let list = match secrets().read() {
        Ok(list) => list,
        Err(poisoned) => poisoned.into_inner(),
    };
    let mut out = text.to_string();
    for secret in list.iter() {
        if out.contains(secret.as_str()) {
            out = out.replace(secret.as_str(), MASK);
        }
    }
    out
}

/// Writes one line at `level` to stderr, secrets masked, one `[LEVEL]` prefix per line.
pub fn write(level: Level, message: fmt::Arguments<'_>) {
    if !enabled(level) {
        return;
    }
    let text = mask(&message.to_string());
    let stderr = std::io::stderr();
    let mut out = stderr.lock();
    for line in text.lines() {
        // A failed write to stderr has nowhere to be reported.
        let _ = writeln!(out, "[{}] {}", level.tag(), line);
    }
}

/// Logs at TRACE: `tfplugin::trace!("read {} jobs", n)`.
#[macro_export]
macro_rules! trace {
    ($($arg:tt)*) => { $crate::log::write($crate::log::Level::Trace, format_args!($($arg)*)) };
}

/// Logs at DEBUG.
#[macro_export]
macro_rules! debug {
    ($($arg:tt)*) => { $crate::log::write($crate::log::Level::Debug, format_args!($($arg)*)) };
}

/// Logs at INFO.
#[macro_export]
macro_rules! info {
    ($($arg:tt)*) => { $crate::log::write($crate::log::Level::Info, format_args!($($arg)*)) };
}

/// Logs at WARN.
#[macro_export]
macro_rules! warn {
    ($($arg:tt)*) => { $crate::log::write($crate::log::Level::Warn, format_args!($($arg)*)) };
}

/// Logs at ERROR.
#[macro_export]
macro_rules! error {
    ($($arg:tt)*) => { $crate::log::write($crate::log::Level::Error, format_args!($($arg)*)) };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_terraform_levels() {
        assert_eq!(Level::parse("trace"), Level::Trace);
        assert_eq!(Level::parse("JSON"), Level::Trace);
        assert_eq!(Level::parse("warn"), Level::Warn);
        assert_eq!(Level::parse("nonsense"), Level::Info);
    }

    #[test]
    fn masks_registered_secrets_longest_first() {
        register_secret("hunter2-long-password");
        register_secret("hunter2");
        register_secret("ab"); // too short to mask
        let masked = mask("pw=hunter2-long-password other=hunter2 ab");
        assert_eq!(masked, "pw=(sensitive value) other=(sensitive value) ab");
    }
}
