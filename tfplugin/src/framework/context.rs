//! What a resource operation gets besides its model: the configured client, private
//! state, a place for warnings, and the provider's stop signal.

use std::collections::BTreeMap;
use std::future::Future;
use std::sync::Mutex;

use serde::de::DeserializeOwned;
use serde::Serialize;
use tokio::sync::watch;

use super::poll::{Check, Polled, Poller};
use crate::diag::{Diagnostic, Diagnostics};

/// Private state: provider-only data Terraform stores beside the state, opaque to users.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Private(BTreeMap<String, serde_json::Value>);

impl Private {
    /// Decodes the bytes Terraform sent; empty or unreadable bytes mean no private state.
    pub fn from_bytes(bytes: &[u8]) -> Self {
        if bytes.is_empty() {
            return Private::default();
        }
        serde_json::from_slice(bytes)
            .map(Private)
            .unwrap_or_default()
    }

    /// The bytes to send back to Terraform (empty when there is nothing).
    pub fn to_bytes(&self) -> Vec<u8> {
        if self.0.is_empty() {
            return Vec::new();
        }
        serde_json::to_vec(&self.0).unwrap_or_default()
    }

    /// The value stored under `key`.
    pub fn get<T: DeserializeOwned>(&self, key: &str) -> Option<T> {
        self.0
            .get(key)
            .and_then(|v| serde_json::from_value(v.clone()).ok())
    }

    /// Stores `value` under `key`.
    pub fn set<T: Serialize>(&mut self, key: &str, value: &T) {
        if let Ok(json) = serde_json::to_value(value) {
            self.0.insert(key.to_string(), json);
        }
    }

    /// Removes `key`.
    pub fn remove(&mut self, key: &str) {
        self.0.remove(key);
    }
}

/// The context of one resource or data source operation.
pub struct Context<'a, C> {
    client: Option<&'a C>,
    diagnostics: Mutex<Diagnostics>,
    private: Mutex<Private>,
    stop: watch::Receiver<bool>,
}

impl<'a, C> Context<'a, C> {
    pub(crate) fn new(
        client: Option<&'a C>,
        private: Private,
        stop: watch::Receiver<bool>,
    ) -> Self {
        Context {
            client,
            diagnostics: Mutex::new(Diagnostics::new()),
            private: Mutex::new(private),
            stop,
        }
    }

    /// The configured client, or an error diagnostic when the provider is not configured yet
    /// (its configuration depends on values known only after apply).
    pub fn client(&self) -> Result<&'a C, Diagnostics> {
        self.client.ok_or_else(|| {
            Diagnostic::error(
                "Provider not configured",
                "The provider configuration is not known yet (it depends on values known only after apply), so this operation cannot reach the remote API.",
            )
            .into()
        })
    }

    /// The configured client, if there is one.
    pub fn try_client(&self) -> Option<&'a C> {
        self.client
    }

    /// Adds a diagnostic to the response. An error added here, with the operation still
    /// returning its state, makes Terraform save that state and report the error.
    pub fn add(&self, diagnostic: Diagnostic) {
        lock(&self.diagnostics).push(diagnostic);
    }

    /// Whether an error was added: the operation is failing even if it returns a state.
    pub fn has_errors(&self) -> bool {
        lock(&self.diagnostics).has_errors()
    }

    /// Reads private state.
    pub fn private<T: DeserializeOwned>(&self, key: &str) -> Option<T> {
        lock(&self.private).get(key)
    }

    /// Writes private state.
    pub fn set_private<T: Serialize>(&self, key: &str, value: &T) {
        lock(&self.private).set(key, value);
    }

    /// True once Terraform has asked the provider to stop (Ctrl-C).
    pub fn is_stopping(&self) -> bool {
        *self.stop.borrow()
    }

    /// Resolves when Terraform asks the provider to stop; long waits select on it.
    pub async fn stopped(&self) {
        let mut stop = self.stop.clone();
        // An error means the sender is gone: the provider is shutting down.
        let _ = stop.wait_for(|stopping| *stopping).await;
    }

    /// Waits with `poller`, ending at once when Terraform asks the provider to stop; see
    /// [`Poller::run`].
    pub async fn poll<T, E, F>(&self, poller: &Poller, check: impl FnMut() -> F) -> Polled<T, E>
    where
        F: Future<Output = Result<Check<T>, E>>,
    {
        poller.run(self.stopped(), check).await
    }

    pub(crate) fn finish(self) -> (Diagnostics, Private) {
        let diagnostics = self
            .diagnostics
            .into_inner()
            .unwrap_or_else(|p| p.into_inner());
        let private = self.private.into_inner().unwrap_or_else(|p| p.into_inner());
        (diagnostics, private)
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|p| p.into_inner())
}
