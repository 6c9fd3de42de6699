//! Waiting for an instance, through tfplugin's poller.
//!
//! Why not the SDK's waiters: they wait at least 30 s between polls whatever the settings, and
//! right after a modify RDS can still say `available` for a few seconds, so one `available`
//! proves nothing. Here the wanted state must be read on two consecutive polls, at the
//! configured interval; every poll is logged (status and elapsed time), and a stop request
//! (Ctrl-C) ends the wait at once.

use std::future::Future;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use tfplugin::framework::{Check, Polled, Poller};
use tokio::time::Instant;

use super::{Instance, RdsClient, RdsError};

/// Statuses an instance does not leave by itself: waiting for `available` ends in an error.
const FATAL: &[&str] = &[
    "failed",
    "incompatible-restore",
    "incompatible-parameters",
    "incompatible-network",
    "incompatible-option-group",
    "incompatible-credentials",
    "inaccessible-encryption-credentials",
    "storage-full",
    "stopped",
    "stopping",
    "deleting",
    "deleted",
];

/// How many consecutive polls must show the wanted state.
const CONFIRMATIONS: u32 = 2;

/// What a wait is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Settled {
    /// `available`, with no modification pending and no parameter group being applied.
    Available,
    /// As `Available`, and no parameter group still waiting for a reboot.
    Rebooted,
    /// Gone from `DescribeDBInstances`.
    Gone,
}

impl Settled {
    fn wanted(self) -> &'static str {
        match self {
            Settled::Available => "available",
            Settled::Rebooted => "available with its parameter group in-sync",
            Settled::Gone => "deleted",
        }
    }
}

/// How long a wait may take.
#[derive(Debug, Clone, Copy)]
pub struct WaitLimits {
    /// When the wait gives up.
    pub deadline: Instant,
}

impl WaitLimits {
    /// A limit `timeout` from now.
    pub fn from_now(timeout: Duration) -> WaitLimits {
        WaitLimits {
            deadline: Instant::now() + timeout,
        }
    }
}

enum Verdict {
    Done,
    Wait,
    Fail(RdsError),
}

fn judge(id: &str, wanted: Settled, instance: Option<&Instance>, seen: bool) -> Verdict {
    match (wanted, instance) {
        (Settled::Gone, None) => Verdict::Done,
        (Settled::Gone, Some(_)) => Verdict::Wait,
        // Right after a restore RDS may not list the instance yet; once it did, it must not
        // disappear.
        (_, None) if seen => Verdict::Fail(RdsError::Vanished { id: id.into() }),
        (_, None) => Verdict::Wait,
        (_, Some(i)) if FATAL.contains(&i.status.as_str()) => Verdict::Fail(RdsError::Failed {
            id: id.into(),
            status: i.status.clone(),
            wanted: wanted.wanted(),
        }),
        (_, Some(i)) => {
            let applying = i
                .parameter_groups
                .iter()
                .any(|g| g.apply_status == "applying");
            let rebooted = wanted != Settled::Rebooted || !i.needs_reboot();
            if i.status == "available" && !i.has_pending_changes && !applying && rebooted {
                Verdict::Done
            } else {
                Verdict::Wait
            }
        }
    }
}

impl RdsClient {
    /// Polls `id` until it is `wanted` on two consecutive polls (once, for `Gone`), and
    /// returns what the last poll read. `stop` gives a future that resolves when Terraform
    /// asks the provider to stop.
    pub async fn wait<S, F>(
        &self,
        id: &str,
        wanted: Settled,
        limits: WaitLimits,
        stop: &S,
    ) -> Result<Option<Instance>, RdsError>
    where
        S: Fn() -> F,
        F: Future<Output = ()>,
    {
        let needed = if wanted == Settled::Gone {
            1
        } else {
            CONFIRMATIONS
        };
        let poller = Poller::until(
            format!("{id} (waiting for {})", wanted.wanted()),
            limits.deadline,
        )
        .backoff(self.poll_interval, 1, self.poll_interval)
        .confirmations(needed);
        let seen = AtomicBool::new(false);
        let polled = poller
            .run(stop(), || async {
                let read = self.instance(id).await?;
                let seen = seen.fetch_or(read.is_some(), Ordering::Relaxed) || read.is_some();
                let status = read.as_ref().map_or("not listed", |i| i.status.as_str());
                let progress = status.to_owned();
                match judge(id, wanted, read.as_ref(), seen) {
                    Verdict::Fail(e) => Err(e),
                    Verdict::Done => Ok(Check::done(progress, read)),
                    Verdict::Wait => Ok(Check::waiting(progress, read)),
                }
            })
            .await;
        // Only a never-listed instance reads as none before the end.
        let last_status = |last: Option<Option<Instance>>| {
            last.flatten()
                .map_or_else(|| "not listed yet".to_owned(), |i| i.status)
        };
        match polled {
            Polled::Done(read) => Ok(read),
            Polled::Failed { error, .. } => Err(error),
            Polled::TimedOut { last, waited } => Err(RdsError::Timeout {
                id: id.into(),
                wanted: wanted.wanted(),
                waited,
                last_status: last_status(last),
            }),
            Polled::Stopped { last } => Err(RdsError::Stopped {
                id: id.into(),
                wanted: wanted.wanted(),
                last_status: last_status(last),
            }),
        }
    }

    /// Waits until `id` is available, then, when a parameter group waits for a reboot
    /// (`pending-reboot`), reboots it and waits again. Returns the settled instance.
    pub async fn wait_available<S, F>(
        &self,
        id: &str,
        limits: WaitLimits,
        stop: &S,
    ) -> Result<Instance, RdsError>
    where
        S: Fn() -> F,
        F: Future<Output = ()>,
    {
        let vanished = || RdsError::Vanished { id: id.into() };
        let instance = self
            .wait(id, Settled::Available, limits, stop)
            .await?
            .ok_or_else(vanished)?;
        if !instance.needs_reboot() {
            return Ok(instance);
        }
        self.reboot(id).await?;
        // Right after the reboot call RDS may still show the old state: wait for the group to
        // be in-sync, not just for `available`.
        self.wait(id, Settled::Rebooted, limits, stop)
            .await?
            .ok_or_else(vanished)
    }
}
