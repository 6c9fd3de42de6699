//! Data sources, one per file.
pub mod mysql_tables;
