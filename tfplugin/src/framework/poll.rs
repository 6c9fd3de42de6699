//! Waiting for a remote object to settle: one poller for every wait of a provider.
//!
//! A [`Poller`] reads the object again and again, with a pause that grows from `first` by
//! `factor` up to `cap`, until a [`Check`] says it is done (on `confirmations` consecutive
//! polls), its deadline passes, or Terraform asks the provider to stop (Ctrl-C), which ends
//! the wait at once. Every poll is logged at INFO with the time waited. The outcome is a
//! [`Polled`] value the caller turns into diagnostics; the poller knows nothing of them.
//!
//! ```no_run
//! # use std::time::Duration;
//! # use tfplugin::framework::{Check, Context, Polled, Poller};
//! # async fn status() -> Result<String, std::io::Error> { Ok("up".into()) }
//! # async fn example(ctx: &Context<'_, ()>) {
//! let poller = Poller::new("restart of my-app", Duration::from_secs(600));
//! match ctx.poll(&poller, || async {
//!     let status = status().await?;
//!     let done = status == "up";
//!     Ok::<_, std::io::Error>(Check::new(done, format!("dyno is {status}"), status))
//! }).await {
//!     Polled::Done(_status) => {}
//!     Polled::TimedOut { .. } | Polled::Stopped { .. } | Polled::Failed { .. } => {}
//! }
//! # }
//! ```

use std::fmt;
use std::future::Future;
use std::time::Duration;

use tokio::time::Instant;

/// How a wait polls: its deadline, its back-off and how many consecutive polls must see the
/// object done. Build one per wait (the deadline is fixed when it is built).
#[derive(Debug, Clone)]
pub struct Poller {
    what: String,
    deadline: Instant,
    first: Duration,
    factor: u32,
    cap: Duration,
    confirmations: u32,
}

impl Poller {
    /// Pause before the second poll unless [`Poller::backoff`] sets another.
    pub const DEFAULT_FIRST: Duration = Duration::from_millis(250);
    /// Longest pause unless [`Poller::backoff`] sets another.
    pub const DEFAULT_CAP: Duration = Duration::from_secs(10);

    /// A wait for `what` (named so in the log, e.g. `"restart of treeherder-prod"`) that
    /// gives up `timeout` from now (usually the resource's `timeouts.create`). Pauses double
    /// from 250 ms up to 10 s; one poll that sees the object done ends the wait.
    pub fn new(what: impl Into<String>, timeout: Duration) -> Poller {
        Poller::until(what, Instant::now() + timeout)
    }

    /// As [`Poller::new`], with a deadline instead of a timeout (several waits sharing one
    /// limit).
    pub fn until(what: impl Into<String>, deadline: Instant) -> Poller {
        Poller {
            what: what.into(),
            deadline,
            first: Poller::DEFAULT_FIRST,
            factor: 2,
            cap: Poller::DEFAULT_CAP,
            confirmations: 1,
        }
    }

    /// Pauses start at `first` and are multiplied by `factor` after each poll, up to `cap`.
    /// A factor of 1 polls at a fixed interval.
    pub fn backoff(mut self, first: Duration, factor: u32, cap: Duration) -> Poller {
        self.first = first;
        self.factor = factor.max(1);
        self.cap = cap.max(first);
        self
    }

    /// The object must be seen done on `n` consecutive polls (at least 1): for APIs that may
    /// report a settled state for a moment before they really move (RDS right after a modify).
    pub fn confirmations(mut self, n: u32) -> Poller {
        self.confirmations = n.max(1);
        self
    }

    /// When the wait gives up.
    pub fn deadline(&self) -> Instant {
        self.deadline
    }

    /// Polls with `check` until it is done, the deadline passes or `stop` resolves (a
    /// Ctrl-C: [`Context::poll`](super::Context::poll) passes the context's stop signal).
    /// The first poll is made at once. An error from `check` ends the wait as
    /// [`Polled::Failed`]; the last value read is handed back with every outcome.
    ///
    /// `check` is a plain closure returning a future (not an `async` closure, whose futures
    /// cannot yet be proven `Send` inside `async_trait` methods): capture references and
    /// return `async move { … }`; state kept across polls goes in a `Mutex` or `Cell`.
    pub async fn run<T, E, S, F>(&self, stop: S, mut check: impl FnMut() -> F) -> Polled<T, E>
    where
        S: Future<Output = ()>,
        F: Future<Output = Result<Check<T>, E>>,
    {
        let started = Instant::now();
        let mut stop = std::pin::pin!(stop);
        let mut pause = self.first;
        let mut confirmed = 0;
        let mut last: Option<T> = None;
        loop {
            let checked = tokio::select! {
                checked = check() => checked,
                () = &mut stop => return Polled::Stopped { last },
            };
            let checked = match checked {
                Ok(c) => c,
                Err(error) => return Polled::Failed { error, last },
            };
            crate::info!(
                "{}: {} after {}",
                self.what,
                checked.progress,
                Elapsed(started.elapsed())
            );
            if checked.done {
                confirmed += 1;
                if confirmed >= self.confirmations {
                    return Polled::Done(checked.value);
                }
            } else {
                confirmed = 0;
            }
            last = Some(checked.value);
            let now = Instant::now();
            if now >= self.deadline {
                return Polled::TimedOut {
                    last,
                    waited: started.elapsed(),
                };
            }
            tokio::select! {
                () = tokio::time::sleep(pause.min(self.deadline - now)) => {}
                () = &mut stop => return Polled::Stopped { last },
            }
            pause = pause.saturating_mul(self.factor).min(self.cap);
        }
    }
}

/// What one poll read: the value, whether the object is done, and a short account of its
/// progress for the log (e.g. `"2 of 3 dynos up"`).
#[derive(Debug, Clone)]
pub struct Check<T> {
    value: T,
    done: bool,
    progress: String,
}

impl<T> Check<T> {
    /// A poll that read `value`, done or not.
    pub fn new(done: bool, progress: impl Into<String>, value: T) -> Check<T> {
        Check {
            value,
            done,
            progress: progress.into(),
        }
    }

    /// A poll that found the object done.
    pub fn done(progress: impl Into<String>, value: T) -> Check<T> {
        Check::new(true, progress, value)
    }

    /// A poll that found the object not done yet.
    pub fn waiting(progress: impl Into<String>, value: T) -> Check<T> {
        Check::new(false, progress, value)
    }
}

/// How a wait ended. Every outcome but `Done` carries the last value read, if any, so the
/// caller can still save what it knows.
#[derive(Debug)]
pub enum Polled<T, E> {
    /// The object was done (on as many consecutive polls as asked).
    Done(T),
    /// The deadline passed first.
    TimedOut {
        /// The last value read.
        last: Option<T>,
        /// How long the wait took.
        waited: Duration,
    },
    /// Terraform asked the provider to stop.
    Stopped {
        /// The last value read.
        last: Option<T>,
    },
    /// A poll failed.
    Failed {
        /// Why.
        error: E,
        /// The value read before the failing poll.
        last: Option<T>,
    },
}

/// A duration as the log shows it: `42s`, `3m05s`, `1h02m03s`.
#[derive(Debug, Clone, Copy)]
pub struct Elapsed(pub Duration);

impl fmt::Display for Elapsed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = self.0.as_secs();
        match (s / 3600, s / 60 % 60, s % 60) {
            (0, 0, _) => write!(f, "{:.1}s", self.0.as_secs_f64()),
            (0, m, s) => write!(f, "{m}m{s:02}s"),
            (h, m, s) => write!(f, "{h}h{m:02}m{s:02}s"),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::cell::RefCell;
    use std::convert::Infallible;

    use super::*;

    /// A check that answers `answers` in turn (the last one forever) and records when it was
    /// called, relative to `start`.
    struct Script {
        answers: Vec<bool>,
        calls: RefCell<Vec<Duration>>,
        start: Instant,
    }

    impl Script {
        fn new(answers: &[bool]) -> Script {
            Script {
                answers: answers.to_vec(),
                calls: RefCell::new(Vec::new()),
                start: Instant::now(),
            }
        }

        fn check(&self) -> Result<Check<usize>, Infallible> {
            let mut calls = self.calls.borrow_mut();
            calls.push(self.start.elapsed());
            let n = calls.len();
            let done = self.answers[(n - 1).min(self.answers.len() - 1)];
            Ok(Check::new(done, format!("poll {n}"), n))
        }

        fn times(&self) -> Vec<u64> {
            self.calls
                .borrow()
                .iter()
                .map(|d| d.as_millis() as u64)
                .collect()
        }
    }

    fn never() -> std::future::Pending<()> {
        std::future::pending()
    }

    #[tokio::test(start_paused = true)]
    async fn pauses_grow_by_the_factor_up_to_the_cap() {
        let script = Script::new(&[false, false, false, false, false, true]);
        let poller = Poller::new("test", Duration::from_secs(60)).backoff(
            Duration::from_millis(100),
            3,
            Duration::from_millis(1000),
        );
        let outcome = poller.run(never(), || async { script.check() }).await;
        assert!(matches!(outcome, Polled::Done(6)), "{outcome:?}");
        // Pauses 100, 300, 900, then 1000 (the cap) twice.
        assert_eq!(script.times(), [0, 100, 400, 1300, 2300, 3300]);
    }

    #[tokio::test(start_paused = true)]
    async fn the_deadline_ends_the_wait_with_the_last_value() {
        let script = Script::new(&[false]);
        let poller = Poller::new("test", Duration::from_millis(1000)).backoff(
            Duration::from_millis(400),
            1,
            Duration::from_millis(400),
        );
        let outcome = poller.run(never(), || async { script.check() }).await;
        let Polled::TimedOut { last, waited } = outcome else {
            panic!("{outcome:?}");
        };
        // The last pause is cut short so that the last poll is made at the deadline.
        assert_eq!(script.times(), [0, 400, 800, 1000]);
        assert_eq!(last, Some(4));
        assert_eq!(waited, Duration::from_millis(1000));
    }

    #[tokio::test(start_paused = true)]
    async fn done_must_hold_on_consecutive_polls_when_asked() {
        // Done, then not, then done twice: the first lone "done" does not count.
        let script = Script::new(&[true, false, true, true]);
        let poller = Poller::new("test", Duration::from_secs(60)).confirmations(2);
        let outcome = poller.run(never(), || async { script.check() }).await;
        assert!(matches!(outcome, Polled::Done(4)), "{outcome:?}");
    }

    #[tokio::test(start_paused = true)]
    async fn a_stop_ends_a_pause_at_once() {
        let script = Script::new(&[false]);
        let poller = Poller::new("test", Duration::from_secs(3600)).backoff(
            Duration::from_secs(600),
            1,
            Duration::from_secs(600),
        );
        let (tx, mut rx) = tokio::sync::watch::channel(false);
        let stop = async move {
            let _ = rx.wait_for(|s| *s).await;
        };
        let stopper = async {
            tokio::time::sleep(Duration::from_secs(5)).await;
            let _ = tx.send(true);
        };
        let (outcome, ()) = tokio::join!(poller.run(stop, || async { script.check() }), stopper);
        let Polled::Stopped { last } = outcome else {
            panic!("{outcome:?}");
        };
        assert_eq!(last, Some(1));
        assert_eq!(script.times(), [0]);
        // Stopped 5 s in, not at the end of the 10-minute pause.
        assert_eq!(script.start.elapsed(), Duration::from_secs(5));
    }

    #[tokio::test(start_paused = true)]
    async fn a_stop_during_a_poll_ends_it_too() {
        let poller = Poller::new("test", Duration::from_secs(60));
        let outcome: Polled<(), Infallible> = poller
            .run(async {}, || async {
                std::future::pending::<()>().await;
                Ok(Check::done("never", ()))
            })
            .await;
        assert!(matches!(outcome, Polled::Stopped { last: None }));
    }

    #[tokio::test(start_paused = true)]
    async fn an_error_ends_the_wait_with_the_value_read_before() {
        let polls = std::cell::Cell::new(0);
        let poller = Poller::new("test", Duration::from_secs(60));
        let outcome = poller
            .run(never(), || async {
                polls.set(polls.get() + 1);
                let n = polls.get();
                if n == 3 {
                    Err("gone")
                } else {
                    Ok(Check::waiting("pending", n))
                }
            })
            .await;
        assert!(
            matches!(
                outcome,
                Polled::Failed {
                    error: "gone",
                    last: Some(2)
                }
            ),
            "{outcome:?}"
        );
    }

    #[test]
    fn elapsed_reads_as_people_write_it() {
        assert_eq!(Elapsed(Duration::from_millis(1500)).to_string(), "1.5s");
        assert_eq!(Elapsed(Duration::from_secs(185)).to_string(), "3m05s");
        assert_eq!(Elapsed(Duration::from_secs(3723)).to_string(), "1h02m03s");
    }
}
