//! Data sources, one per file.
pub mod app;
pub mod app_collaborators;
pub mod mysql_accounts;
pub mod mysql_tables;
pub mod rds_instances;
pub mod rds_snapshot;
pub mod scheduler_jobs;
