//! Per-process single-flight and caching of GET responses.
//!
//! A Terraform plan reads every resource in parallel; without this, N scheduler jobs of
//! one app would list that app's jobs N times. Identical concurrent GETs share one
//! request (keyed by method, URL and Range), and cacheable results are kept for the rest
//! of the process. Each entry belongs to a [`Scope`] (an app or pipeline id); a write to
//! that scope drops its entries and bumps its generation so that a request started
//! before the write can neither fill the cache nor be joined by later callers.

use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex, MutexGuard};

use futures::future::{BoxFuture, FutureExt, Shared};
use serde_json::Value;
use uuid::Uuid;

use super::error::HerokuError;

/// What a cached response depends on; writes invalidate by scope.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum Scope {
    /// Data of one app (by id): its jobs, releases, formations, info.
    App(Uuid),
    /// Data of one pipeline (by id): its info and couplings.
    Pipeline(Uuid),
    /// Data not tied to anything we write.
    Unscoped,
}

/// Whether a result may be reused after its request completed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Reuse {
    /// Keep the result for later callers until the scope is invalidated.
    Cache,
    /// Share only with callers arriving while the request is in flight (for data that is
    /// polled, such as release and promotion status).
    InFlightOnly,
}

type SharedResult = Result<Arc<Value>, HerokuError>;
type Flight = Shared<BoxFuture<'static, SharedResult>>;

struct FlightEntry {
    id: u64,
    scope: Scope,
    future: Flight,
}

struct CacheEntry {
    scope: Scope,
    value: Arc<Value>,
}

#[derive(Default)]
struct StoreState {
    cache: HashMap<String, CacheEntry>,
    flights: HashMap<String, FlightEntry>,
    generations: HashMap<Scope, u64>,
    next_flight: u64,
}

/// Single-flight and cache of decoded JSON responses.
#[derive(Default)]
pub(crate) struct ResponseStore {
    state: Mutex<StoreState>,
}

impl ResponseStore {
    fn lock(&self) -> MutexGuard<'_, StoreState> {
        // A panic while holding the lock leaves plain maps behind, which stay usable.
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Returns the cached value for `key`, joins an identical request in flight, or runs
    /// `fetch` and shares its result.
    pub async fn get_or_fetch<F>(
        self: &Arc<Self>,
        key: String,
        scope: Scope,
        reuse: Reuse,
        fetch: F,
    ) -> SharedResult
    where
        F: Future<Output = Result<Value, HerokuError>> + Send + 'static,
    {
        let flight = {
            let mut state = self.lock();
            if reuse == Reuse::Cache {
                if let Some(entry) = state.cache.get(&key) {
                    return Ok(Arc::clone(&entry.value));
                }
            }
            if let Some(entry) = state.flights.get(&key) {
                entry.future.clone()
            } else {
                let generation = state.generations.get(&scope).copied().unwrap_or(0);
                let id = state.next_flight;
                state.next_flight += 1;
                let store = Arc::clone(self);
                let flight_key = key.clone();
                let future = async move {
                    let result = fetch.await.map(Arc::new);
                    store.finish(&flight_key, id, scope, generation, reuse, &result);
                    result
                }
                .boxed()
                .shared();
                state.flights.insert(
                    key,
                    FlightEntry {
                        id,
                        scope,
                        future: future.clone(),
                    },
                );
                future
            }
        };
        flight.await
    }

    /// Called by a flight when its request is done: stops sharing it and caches the
    /// value unless the scope was written meanwhile.
    fn finish(
        &self,
        key: &str,
        id: u64,
        scope: Scope,
        generation: u64,
        reuse: Reuse,
        result: &SharedResult,
    ) {
        let mut state = self.lock();
        if state.flights.get(key).is_some_and(|f| f.id == id) {
            state.flights.remove(key);
        }
        let current = state.generations.get(&scope).copied().unwrap_or(0);
        if let (Reuse::Cache, Ok(value), true) = (reuse, result, current == generation) {
            state.cache.insert(
                key.to_string(),
                CacheEntry {
                    scope,
                    value: Arc::clone(value),
                },
            );
        }
    }

    /// Caches a value fetched without a scope once its scope is known (an app read by
    /// name, whose id the answer revealed).
    pub fn put(&self, key: String, scope: Scope, value: Arc<Value>) {
        self.lock().cache.insert(key, CacheEntry { scope, value });
    }

    /// Forgets everything cached or in flight for `scope`.
    pub fn invalidate(&self, scope: Scope) {
        let mut state = self.lock();
        *state.generations.entry(scope).or_insert(0) += 1;
        state.cache.retain(|_, entry| entry.scope != scope);
        state.flights.retain(|_, entry| entry.scope != scope);
    }
}
