//! Waiting for an instance: our own poller.
//!
//! Why not the SDK's waiters: they wait at least 30 s between polls whatever the settings, and
//! right after a modify RDS can still say `available` for a few seconds, so one `available`
//! proves nothing. Here the wanted state must be read on two consecutive polls, every poll is
//! logged (status and elapsed time), and a stop request (Ctrl-C) ends the wait at once.

use std::future::Future;
use std::time::Duration;

use tokio::time::Instant;

use super::error::humantime;
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
        let started = Instant::now();
        let mut confirmations = 0;
        let mut seen = false;
        let mut last_status = "not listed yet".to_owned();
        let needed = if wanted == Settled::Gone {
            1
        } else {
            CONFIRMATIONS
        };
        loop {
            let read = tokio::select! {
                read = self.instance(id) => read?,
                () = stop() => return Err(RdsError::Stopped {
                    id: id.into(), wanted: wanted.wanted(), last_status,
                }),
            };
            seen |= read.is_some();
            if let Some(instance) = &read {
                last_status = instance.status.clone();
            }
            tfplugin::info!(
                "{id}: {} after {}, waiting for {}",
                read.as_ref().map_or("not listed", |i| i.status.as_str()),
                humantime(started.elapsed()),
                wanted.wanted()
            );
            match judge(id, wanted, read.as_ref(), seen) {
                Verdict::Fail(e) => return Err(e),
                Verdict::Done => {
                    confirmations += 1;
                    if confirmations >= needed {
                        return Ok(read);
                    }
                }
                Verdict::Wait => confirmations = 0,
            }
            let next = Instant::now() + self.poll_interval;
            if next > limits.deadline {
                return Err(RdsError::Timeout {
                    id: id.into(),
                    wanted: wanted.wanted(),
                    waited: started.elapsed(),
                    last_status,
                });
            }
            tokio::select! {
                () = tokio::time::sleep_until(next) => {}
                () = stop() => return Err(RdsError::Stopped {
                    id: id.into(), wanted: wanted.wanted(), last_status,
                }),
            }
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
