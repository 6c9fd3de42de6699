//! Behaviour of the Heroku client against a small in-test fake of the Platform and
//! Scheduler APIs that records every request and can inject failures.

mod endpoints;
mod fake;
mod scheduler_jobs;
mod transport;
