//! Checks a [`crate::Step`] runs: over the plan it is about to apply ([`PlanCheck`]), over the
//! state after it ([`StateCheck`]), and hooks before it ([`Hook`]). Write one as a closure
//! (`Step::check`, `Step::plan_check`) or take one from the library, in the spirit of
//! terraform-plugin-testing's `plancheck` and `statecheck` packages: [`plancheck`] (resource
//! actions, known, unknown and sensitive planned values, empty plans), [`statecheck`] (known
//! and sensitive values) and [`CompareValue`] (a value compared across steps).

use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::pin::Pin;
use std::sync::Arc;

use futures::FutureExt;

use crate::plan::Plan;
use crate::state::State;

mod compare;
pub mod plancheck;
pub mod statecheck;

pub use compare::{CompareValue, Comparison};

/// The error a check returns; anything convertible, including `String` and `&str`.
pub type CheckError = Box<dyn std::error::Error + Send + Sync>;
/// The result of a check or hook.
pub type CheckResult = Result<(), CheckError>;

type BoxFuture = Pin<Box<dyn Future<Output = CheckResult> + Send>>;

/// A check over a state (after a step, or the last state before destroy for `check_destroy`).
pub struct StateCheck(Box<dyn Fn(State) -> BoxFuture + Send + Sync>);
/// A check over the JSON plan a step is about to apply.
pub struct PlanCheck(Box<dyn Fn(Plan) -> BoxFuture + Send + Sync>);
/// A hook run before a step, e.g. to change the world behind Terraform's back (drift).
pub struct Hook(Box<dyn Fn() -> BoxFuture + Send + Sync>);

impl StateCheck {
    /// A synchronous check.
    pub fn sync<F, E>(f: F) -> Self
    where
        F: Fn(&State) -> Result<(), E> + Send + Sync + 'static,
        E: Into<CheckError>,
    {
        let f = Arc::new(f);
        StateCheck(Box::new(move |state| {
            let f = Arc::clone(&f);
            Box::pin(async move { f(&state).map_err(Into::into) })
        }))
    }

    /// An asynchronous check (it gets its own copy of the state).
    pub fn future<F, Fut, E>(f: F) -> Self
    where
        F: Fn(State) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<(), E>> + Send + 'static,
        E: Into<CheckError>,
    {
        StateCheck(Box::new(move |state| {
            let fut = f(state);
            Box::pin(async move { fut.await.map_err(Into::into) })
        }))
    }

    /// Runs the check on `state`, a panic (a failed `assert!`) becoming an error.
    pub async fn run(&self, state: State) -> Result<(), String> {
        guarded((self.0)(state)).await
    }
}

impl PlanCheck {
    /// A synchronous plan check.
    pub fn sync<F, E>(f: F) -> Self
    where
        F: Fn(&Plan) -> Result<(), E> + Send + Sync + 'static,
        E: Into<CheckError>,
    {
        let f = Arc::new(f);
        PlanCheck(Box::new(move |plan| {
            let f = Arc::clone(&f);
            Box::pin(async move { f(&plan).map_err(Into::into) })
        }))
    }

    /// Runs the check on `plan`, a panic (a failed `assert!`) becoming an error.
    pub async fn run(&self, plan: Plan) -> Result<(), String> {
        guarded((self.0)(plan)).await
    }
}

impl Hook {
    /// A synchronous hook.
    pub fn sync<F, E>(f: F) -> Self
    where
        F: Fn() -> Result<(), E> + Send + Sync + 'static,
        E: Into<CheckError>,
    {
        let f = Arc::new(f);
        Hook(Box::new(move || {
            let f = Arc::clone(&f);
            Box::pin(async move { f().map_err(Into::into) })
        }))
    }

    /// An asynchronous hook.
    pub fn future<F, Fut, E>(f: F) -> Self
    where
        F: Fn() -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<(), E>> + Send + 'static,
        E: Into<CheckError>,
    {
        Hook(Box::new(move || {
            let fut = f();
            Box::pin(async move { fut.await.map_err(Into::into) })
        }))
    }

    /// Runs the hook, a panic becoming an error.
    pub async fn run(&self) -> Result<(), String> {
        guarded((self.0)()).await
    }
}

/// Runs a boxed check, turning a panic (e.g. a failed `assert!`) into an error so the case
/// still destroys what it created.
async fn guarded(fut: BoxFuture) -> Result<(), String> {
    match AssertUnwindSafe(fut).catch_unwind().await {
        Ok(Ok(())) => Ok(()),
        Ok(Err(e)) => Err(e.to_string()),
        Err(panic) => Err(match panic.downcast_ref::<String>() {
            Some(s) => format!("panicked: {s}"),
            None => match panic.downcast_ref::<&str>() {
                Some(s) => format!("panicked: {s}"),
                None => "panicked".to_string(),
            },
        }),
    }
}
