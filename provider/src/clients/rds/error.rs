//! What can go wrong talking to RDS.

use std::time::Duration;

/// An RDS failure. Its text names the action, the instance or snapshot, and RDS's error code.
#[derive(Debug, thiserror::Error)]
pub enum RdsError {
    /// An unusable provider setting.
    #[error("{message}")]
    Config {
        /// Why.
        message: String,
    },
    /// RDS answered with an error.
    #[error("{action} of {id}: {code}: {message}")]
    Api {
        /// The API action.
        action: &'static str,
        /// Instance, snapshot or ARN acted on.
        id: String,
        /// RDS's error code, e.g. `DBSnapshotNotFound`.
        code: String,
        /// RDS's message.
        message: String,
    },
    /// No answer (connection, timeout, credentials), after the SDK's retries.
    #[error("{action} of {id} failed: {message}")]
    Transport {
        /// The API action.
        action: &'static str,
        /// Instance, snapshot or ARN acted on.
        id: String,
        /// What the SDK reported.
        message: String,
    },
    /// An answer without the object it should describe.
    #[error("{action} of {id}: the answer described no DB instance")]
    Empty {
        /// The API action.
        action: &'static str,
        /// Instance acted on.
        id: String,
    },
    /// There is already an instance of that name.
    #[error("a DB instance named {id} already exists")]
    AlreadyExists {
        /// Its identifier.
        id: String,
    },
    /// No snapshot to restore from.
    #[error(
        "the DB instance {instance} has no available {snapshot_type} snapshot ({seen} snapshots \
         seen, none available with a creation time)"
    )]
    NoSnapshot {
        /// The source instance.
        instance: String,
        /// `automated`, `manual` or `any`.
        snapshot_type: &'static str,
        /// How many snapshots RDS listed.
        seen: usize,
    },
    /// The instance reached a state it cannot leave by waiting.
    #[error("the DB instance {id} is {status} while waiting for it to be {wanted}")]
    Failed {
        /// Its identifier.
        id: String,
        /// Its status.
        status: String,
        /// What was waited for.
        wanted: &'static str,
    },
    /// The instance vanished while waiting for it to become available.
    #[error("the DB instance {id} no longer exists")]
    Vanished {
        /// Its identifier.
        id: String,
    },
    /// The wait ran out of time.
    #[error(
        "timed out after {} waiting for the DB instance {id} to be {wanted} (last status: \
         {last_status}); it is still there: the next apply or refresh picks it up",
        humantime(*waited)
    )]
    Timeout {
        /// Its identifier.
        id: String,
        /// What was waited for.
        wanted: &'static str,
        /// How long.
        waited: Duration,
        /// The status last read.
        last_status: String,
    },
    /// Terraform asked the provider to stop during a wait.
    #[error(
        "stopped while waiting for the DB instance {id} to be {wanted} (last status: \
         {last_status})"
    )]
    Stopped {
        /// Its identifier.
        id: String,
        /// What was waited for.
        wanted: &'static str,
        /// The status last read.
        last_status: String,
    },
}

/// `1h2m3s`-style text of a duration, whole seconds.
pub(crate) fn humantime(d: Duration) -> String {
    let s = d.as_secs();
    match (s / 3600, s / 60 % 60, s % 60) {
        (0, 0, s) => format!("{s}s"),
        (0, m, s) => format!("{m}m{s}s"),
        (h, m, s) => format!("{h}h{m}m{s}s"),
    }
}
