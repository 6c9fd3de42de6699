//! Managed resources, one per file.
