//! Managed resources, one per file.
pub mod app_collaborator;
pub mod app_github;
pub mod config_vars;
pub mod database_password;
pub mod deployment;
pub mod dyno_restart;
pub mod formation;
pub mod one_off_dyno;
pub(crate) mod password_arguments;
pub mod pipeline_promotion;
pub mod rds_snapshot_instance;
pub mod readonly_user;
pub mod release_rollback;
pub mod scheduler_job;
