pub mod harness;
pub mod sandbox;
