//! Ephemeral resources (Terraform ≥ 1.10): values that exist only while Terraform runs, never
//! in state or plan files. One per file.

pub mod database_url;
pub mod password;
