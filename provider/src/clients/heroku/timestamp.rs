//! Heroku's timestamps (`2012-01-01T12:00:00Z`, ISO 8601 in UTC), read into an instant that
//! compares in time order whatever the spelling (fraction, `+00:00` offset).

/// An instant: seconds and nanoseconds since 1970-01-01T00:00:00Z.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Timestamp {
    seconds: i64,
    nanos: u32,
}

impl Timestamp {
    /// Parses `YYYY-MM-DDTHH:MM:SS`, an optional fraction, then `Z` or `±HH:MM`; `None`
    /// for anything else.
    pub fn parse(text: &str) -> Option<Timestamp> {
        let b = text.as_bytes();
        if b.len() < 20 || b[4] != b'-' || b[7] != b'-' || !matches!(b[10], b'T' | b't' | b' ') {
            return None;
        }
        if b[13] != b':' || b[16] != b':' {
            return None;
        }
        let num = |from: usize, to: usize| num_in(text, from, to);
        let (year, month, day) = (num(0, 4)?, num(5, 7)?, num(8, 10)?);
        let (hour, minute, second) = (num(11, 13)?, num(14, 16)?, num(17, 19)?);
        if !(1..=12).contains(&month) || !(1..=31).contains(&day) {
            return None;
        }
        if hour > 23 || minute > 59 || second > 60 {
            return None;
        }
        let mut rest = &text[19..];
        let mut nanos = 0u32;
        if let Some(fraction) = rest.strip_prefix('.') {
            let digits = fraction.bytes().take_while(u8::is_ascii_digit).count();
            if digits == 0 {
                return None;
            }
            for (i, c) in fraction[..digits.min(9)].bytes().enumerate() {
                nanos += u32::from(c - b'0') * 10u32.pow(8 - i as u32);
            }
            rest = &fraction[digits..];
        }
        let offset = match rest {
            "Z" | "z" => 0,
            _ => {
                let sign = match rest.as_bytes().first() {
                    Some(b'+') => 1,
                    Some(b'-') => -1,
                    _ => return None,
                };
                if rest.len() != 6 || rest.as_bytes()[3] != b':' {
                    return None;
                }
                let hours = num_in(rest, 1, 3)?;
                let minutes = num_in(rest, 4, 6)?;
                sign * (hours * 3600 + minutes * 60)
            }
        };
        let days = days_from_civil(year, month, day);
        Some(Timestamp {
            seconds: days * 86_400 + hour * 3600 + minute * 60 + second - offset,
            nanos,
        })
    }
}

fn num_in(text: &str, from: usize, to: usize) -> Option<i64> {
    let part = text.get(from..to)?;
    if !part.bytes().all(|c| c.is_ascii_digit()) {
        return None;
    }
    part.parse().ok()
}

/// Days since 1970-01-01 of a civil date (Howard Hinnant's algorithm).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let yoe = year.rem_euclid(400);
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> Timestamp {
        Timestamp::parse(text).unwrap_or_else(|| panic!("{text}"))
    }

    #[test]
    fn parses_heroku_timestamps_in_time_order() {
        assert_eq!(at("1970-01-01T00:00:00Z").seconds, 0);
        assert_eq!(at("2026-12-02T10:00:00Z").seconds, 1_796_205_600);
        assert_eq!(at("2000-02-29T00:00:00Z").seconds, 951_782_400);
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
}
