//! Clients for the remote APIs the provider manages.

pub mod heroku;
pub mod mysql;
