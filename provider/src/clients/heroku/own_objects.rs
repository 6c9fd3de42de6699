//! Recognising this configuration's own half-made objects: after Terraform was killed between
//! a create's POST and saving the state, the next apply's create takes the object that POST
//! made instead of making a second one. What ties an object to us is the account the API key
//! belongs to (`GET /account`), the same app and arguments, and a short time window.

use std::collections::HashSet;
use std::sync::Mutex;
use std::time::{Duration, SystemTime};

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::coalesce::{Reuse, Scope};
use super::transport::Api;
use super::{lock, HerokuClient, HerokuError, RequestContext};

/// "Moments ago": how old a rollback release, or a one-off run that already finished, may be
/// for a create to take it as the half-made object of its own killed apply. A rerun of a
/// killed CI job normally starts within minutes; a run the same account made deliberately
/// is rarely repeated within this window with the same arguments and no state. Fifteen
/// minutes covers a retried job that waited for a free runner, while a rollback or a
/// `manage.py` run of an earlier day is never mistaken for ours.
pub const ADOPTION_WINDOW: Duration = Duration::from_secs(15 * 60);
/// How far in the future a timestamp may be (Heroku's clock ahead of ours) and still count.
const CLOCK_SKEW: time::Duration = time::Duration::minutes(2);

/// The account the API key belongs to.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Account {
    /// Account UUID.
    pub id: Uuid,
    /// Account e-mail.
    pub email: String,
}

/// The account that made something (a release's `user`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserRef {
    /// Account UUID.
    #[serde(default)]
    pub id: Option<Uuid>,
    /// Account e-mail.
    #[serde(default)]
    pub email: Option<String>,
}

impl Account {
    /// Whether `user` is this account (by id, or by e-mail when Heroku gave no id).
    pub fn is(&self, user: &UserRef) -> bool {
        match (user.id, user.email.as_deref()) {
            (Some(id), _) => id == self.id,
            (None, Some(email)) => self.is_email(email),
            (None, None) => false,
        }
    }

    /// Whether `email` is this account's.
    pub fn is_email(&self, email: &str) -> bool {
        email.trim().eq_ignore_ascii_case(&self.email)
    }
}

/// Releases and dynos whose resource this provider process destroyed (a replacement's
/// first half): a create in the same apply never takes them as its own.
#[derive(Debug, Default)]
pub(crate) struct Forgotten(Mutex<HashSet<String>>);

impl HerokuClient {
    /// The account of the API key (read once per provider process).
    pub async fn account(&self) -> Result<Account, HerokuError> {
        let url = self.platform_url(&["account"])?;
        self.get_object(
            Api::Platform,
            url,
            Scope::Unscoped,
            Reuse::Cache,
            RequestContext::new("reading the API key's account"),
        )
        .await
    }

    /// Records that a resource holding `key` (a release UUID, a dyno name) was destroyed by
    /// this process, so that [`is_forgotten`](Self::is_forgotten) is true for it.
    pub fn forget_object(&self, key: &str) {
        lock(&self.inner.forgotten.0).insert(key.to_string());
    }

    /// Whether this process destroyed a resource holding `key`.
    pub fn is_forgotten(&self, key: &str) -> bool {
        lock(&self.inner.forgotten.0).contains(key)
    }
}

/// Whether the RFC 3339 `timestamp` lies within `window` before now (a little after now
/// counts too: clocks differ). An unreadable timestamp is not recent.
pub fn is_recent(timestamp: &str, window: Duration) -> bool {
    let Ok(at) = time::OffsetDateTime::parse(
        timestamp.trim(),
        &time::format_description::well_known::Rfc3339,
    ) else {
        return false;
    };
    let now = time::OffsetDateTime::from(SystemTime::now());
    let age = now - at;
    age <= window && age >= -CLOCK_SKEW
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rfc3339(at: time::OffsetDateTime) -> String {
        at.format(&time::format_description::well_known::Rfc3339)
            .unwrap()
    }

    #[test]
    fn recent_means_within_the_window() {
        let now = time::OffsetDateTime::now_utc();
        assert!(is_recent(&rfc3339(now), ADOPTION_WINDOW));
        assert!(is_recent(
            &rfc3339(now - Duration::from_secs(14 * 60)),
            ADOPTION_WINDOW
        ));
        assert!(!is_recent(
            &rfc3339(now - Duration::from_secs(16 * 60)),
            ADOPTION_WINDOW
        ));
        assert!(is_recent(
            &rfc3339(now + Duration::from_secs(30)),
            ADOPTION_WINDOW
        ));
        assert!(!is_recent(
            &rfc3339(now + Duration::from_secs(600)),
            ADOPTION_WINDOW
        ));
        // Heroku's log timestamps.
        let log = now.format(time::macros::format_description!(
            "[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:6]+00:00"
        ));
        assert!(is_recent(&log.unwrap(), ADOPTION_WINDOW));
        assert!(!is_recent("yesterday", ADOPTION_WINDOW));
    }
}
