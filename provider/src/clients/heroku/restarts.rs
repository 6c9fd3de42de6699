//! Telling a restarted dyno from one not restarted yet. Heroku answers a restart at once and
//! cycles the dynos afterwards, and its documents promise no particular trace of a restart
//! on a dyno: a new process may get a new id and `created_at`, or keep both while only
//! `state` (`starting`, then `up`) and `updated_at` move. So every signal counts.

use std::collections::{BTreeMap, BTreeSet};

use uuid::Uuid;

use super::Dyno;
use crate::clients::timestamp::Timestamp;

/// A dyno as listed just before the restart request.
#[derive(Debug, Clone)]
struct Before {
    id: Uuid,
    created_at: Option<Timestamp>,
    updated_at: Option<Timestamp>,
}

/// Follows an app's dynos from just before a restart request to the end of the restart.
#[derive(Debug, Clone, Default)]
pub struct RestartWatch {
    before: BTreeMap<String, Before>,
    seen_starting: BTreeSet<String>,
}

impl RestartWatch {
    /// Remembers the dynos as listed before the restart request (list them, then restart).
    pub fn new(before: &[Dyno]) -> RestartWatch {
        let stamp = |t: &Option<String>| t.as_deref().and_then(Timestamp::parse);
        RestartWatch {
            before: before
                .iter()
                .map(|d| {
                    let mark = Before {
                        id: d.id,
                        created_at: stamp(&d.created_at),
                        updated_at: stamp(&d.updated_at),
                    };
                    (d.name.clone(), mark)
                })
                .collect(),
            seen_starting: BTreeSet::new(),
        }
    }

    /// Records a listing made after the restart request: a dyno seen `starting` is being
    /// restarted, so its next `up` is the restarted process.
    pub fn observe(&mut self, dynos: &[Dyno]) {
        for d in dynos {
            if d.state.as_deref() == Some("starting") {
                self.seen_starting.insert(d.name.clone());
            }
        }
    }

    /// Whether `dyno` (as listed after the restart request) is a restarted one: a dyno not
    /// there before, a new id, a later `created_at`, a later `updated_at`, or one seen
    /// `starting` since the request.
    ///
    /// `updated_at` is compared with the dyno's own `updated_at` before the request, not with
    /// a time of the request: both come from Heroku's clock (ours may be skewed, and the
    /// Date header of the answer says when Heroku answered, not when it cycles the dyno,
    /// which happens afterwards). The values have second precision, so "later" is strictly
    /// later: a restart within the same second as the dyno's previous change shows no later
    /// `updated_at`; such a restart is still seen through `starting` or the other signals,
    /// and an unrestarted dyno is never taken for a restarted one.
    pub fn restarted(&self, dyno: &Dyno) -> bool {
        let Some(before) = self.before.get(&dyno.name) else {
            return true;
        };
        let later = |now: &Option<String>, then: Option<Timestamp>| {
            match (now.as_deref().and_then(Timestamp::parse), then) {
                (Some(now), Some(then)) => now > then,
                // A time that appeared where there was none is a change too.
                (Some(_), None) => true,
                (None, _) => false,
            }
        };
        dyno.id != before.id
            || later(&dyno.created_at, before.created_at)
            || later(&dyno.updated_at, before.updated_at)
            || self.seen_starting.contains(&dyno.name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dyno(id: u128, state: &str, created_at: &str, updated_at: &str) -> Dyno {
        Dyno {
            id: Uuid::from_u128(id),
            name: "web.1".to_string(),
            command: "gunicorn".to_string(),
            state: Some(state.to_string()),
            size: None,
            process_type: Some("web".to_string()),
            release: None,
            app: None,
            created_at: Some(created_at.to_string()),
            updated_at: Some(updated_at.to_string()),
        }
    }

    const T0: &str = "2026-12-02T10:00:00Z";
    const T1: &str = "2026-12-02T10:00:01Z";

    #[test]
    fn each_signal_alone_marks_a_restart() {
        let watch = RestartWatch::new(&[dyno(1, "up", T0, T0)]);
        assert!(!watch.restarted(&dyno(1, "up", T0, T0)), "nothing moved");
        assert!(watch.restarted(&dyno(2, "up", T0, T0)), "new id");
        assert!(watch.restarted(&dyno(1, "up", T1, T0)), "later created_at");
        assert!(watch.restarted(&dyno(1, "up", T0, T1)), "later updated_at");
        // The same instant spelled differently is no change.
        assert!(!watch.restarted(&dyno(1, "up", T0, "2026-12-02T10:00:00.000+00:00")));
        let mut other = dyno(1, "up", T0, T0);
        other.name = "web.2".to_string();
        assert!(watch.restarted(&other), "a dyno not there before");
    }

    #[test]
    fn a_dyno_seen_starting_is_restarted_even_when_no_time_moved() {
        // A restart within the same second as the dyno's last change.
        let mut watch = RestartWatch::new(&[dyno(1, "up", T0, T0)]);
        watch.observe(&[dyno(1, "up", T0, T0)]);
        assert!(!watch.restarted(&dyno(1, "up", T0, T0)), "not cycled yet");
        watch.observe(&[dyno(1, "starting", T0, T0)]);
        assert!(watch.restarted(&dyno(1, "up", T0, T0)));
    }
}
