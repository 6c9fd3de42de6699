//! Timestamps as Heroku writes them (`2012-01-01T12:00:00Z`, RFC 3339): read into an instant
//! that compares in time order whatever the spelling (fraction, `+00:00` offset), and written
//! for the provider's own records (`restarted_at`, `rotated_at`, final snapshot names).

use std::time::SystemTime;

use time::format_description::well_known::Rfc3339;
use time::macros::format_description;
use time::OffsetDateTime;

/// An instant read from an RFC 3339 timestamp.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Timestamp(OffsetDateTime);

impl Timestamp {
    /// Parses an RFC 3339 timestamp (`Z` or `±HH:MM`, optional fraction); `None` for anything
    /// else.
    pub fn parse(text: &str) -> Option<Timestamp> {
        OffsetDateTime::parse(text, &Rfc3339).ok().map(Timestamp)
    }
}

/// `at` in UTC to the second, as Heroku writes times (`2026-12-02T10:00:00Z`).
pub fn utc_seconds(at: SystemTime) -> String {
    let format = format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]Z");
    // Formatting a whole UTC date-time with numeric components cannot fail.
    OffsetDateTime::from(at).format(&format).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, UNIX_EPOCH};

    use super::*;

    fn at(text: &str) -> Timestamp {
        Timestamp::parse(text).unwrap_or_else(|| panic!("{text}"))
    }

    #[test]
    fn parses_heroku_timestamps_in_time_order() {
        assert_eq!(at("2026-12-02T11:00:00+01:00"), at("2026-12-02T10:00:00Z"));
        assert!(at("2026-12-02T10:00:00.5Z") > at("2026-12-02T10:00:00Z"));
        assert!(at("2026-12-02T10:00:01Z") > at("2026-12-02T10:00:00.999Z"));
        assert!(at("2027-01-01T00:00:00Z") > at("2026-12-31T23:59:59Z"));
    }

    #[test]
    fn rejects_other_text() {
        for bad in [
            "",
            "2026-12-02",
            "2026-12-02T10:00:00",
            "2026-13-02T10:00:00Z",
            "2026-12-02T10:00:00.Z",
            "2026-12-02T10:00:00+0100",
            "2026-12-02T1a:00:00Z",
            "+026-12-02T10:00:00Z",
        ] {
            assert!(Timestamp::parse(bad).is_none(), "{bad:?}");
        }
    }

    #[test]
    fn formats_utc_to_the_second() {
        assert_eq!(utc_seconds(UNIX_EPOCH), "1970-01-01T00:00:00Z");
        let at = UNIX_EPOCH + Duration::from_millis(1_796_205_600_750);
        assert_eq!(utc_seconds(at), "2026-12-02T10:00:00Z");
        let leap = UNIX_EPOCH + Duration::from_secs(951_782_400);
        assert_eq!(utc_seconds(leap), "2000-02-29T00:00:00Z");
    }
}
