//! Dates in content files. Values without an offset are read in the site's time zone,
//! never in UTC or the build machine's zone, so a post approved at 00:30 in Huizen is
//! not "in the future" on a UTC server. A date-only expiry lasts to the end of that day.

use chrono::{DateTime, FixedOffset, LocalResult, NaiveDate, NaiveDateTime, NaiveTime, TimeZone};
use chrono_tz::Tz;

/// Which end of a date-only value is meant.
#[derive(Debug, Clone, Copy)]
pub enum DayEdge {
    Start,
    End,
}

/// Parses an RFC 3339 date-time, an offset-less date-time, or a date, in `tz`.
pub fn parse(value: &str, tz: Tz, edge: DayEdge) -> Result<DateTime<FixedOffset>, String> {
    let value = value.trim();
    if let Ok(dt) = DateTime::parse_from_rfc3339(value) {
        return Ok(dt);
    }
    for format in ["%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"] {
        if let Ok(naive) = NaiveDateTime::parse_from_str(value, format) {
            return Ok(in_zone(naive, tz));
        }
    }
    if let Ok(date) = NaiveDate::parse_from_str(value, "%Y-%m-%d") {
        let time = match edge {
            DayEdge::Start => NaiveTime::MIN,
            DayEdge::End => NaiveTime::from_hms_opt(23, 59, 59).expect("valid time"),
        };
        return Ok(in_zone(date.and_time(time), tz));
    }
    Err(format!("`{value}` is not a date: write 2026-11-20 or 2026-11-20T10:15:00+01:00"))
}

/// A wall-clock time in `tz` as a fixed-offset instant. In the autumn's repeated hour
/// the earlier instant is taken; a time in the spring's skipped hour moves forward.
pub fn in_zone(naive: NaiveDateTime, tz: Tz) -> DateTime<FixedOffset> {
    let resolved = match tz.from_local_datetime(&naive) {
        LocalResult::Single(dt) | LocalResult::Ambiguous(dt, _) => dt,
        LocalResult::None => tz
            .from_local_datetime(&(naive + chrono::Duration::hours(1)))
            .earliest()
            .unwrap_or_else(|| tz.from_utc_datetime(&naive)),
    };
    resolved.fixed_offset()
}

/// The same instant shown in the site's zone (for display and for RFC 3339 output).
pub fn local(dt: &DateTime<FixedOffset>, tz: Tz) -> DateTime<FixedOffset> {
    dt.with_timezone(&tz).fixed_offset()
}

#[cfg(test)]
mod tests {
    use super::*;

    const AMS: Tz = chrono_tz::Europe::Amsterdam;

    #[test]
    fn c15_date_only_is_midnight_in_the_site_zone() {
        let dt = parse("2025-06-01", AMS, DayEdge::Start).unwrap();
        assert_eq!(dt.to_rfc3339(), "2025-06-01T00:00:00+02:00");
    }

    #[test]
    fn c15_date_only_expiry_lasts_to_the_end_of_the_local_day() {
        let dt = parse("2025-06-30", AMS, DayEdge::End).unwrap();
        assert_eq!(dt.to_rfc3339(), "2025-06-30T23:59:59+02:00");
    }

    #[test]
    fn c15_offset_less_time_is_read_in_the_site_zone() {
        let dt = parse("2025-06-01T00:30:00", AMS, DayEdge::Start).unwrap();
        assert_eq!(dt.to_rfc3339(), "2025-06-01T00:30:00+02:00");
    }

    #[test]
    fn explicit_offset_is_kept() {
        let dt = parse("2025-06-01T00:30:00Z", AMS, DayEdge::Start).unwrap();
        assert_eq!(local(&dt, AMS).to_rfc3339(), "2025-06-01T02:30:00+02:00");
    }

    #[test]
    fn winter_dates_get_the_winter_offset() {
        let dt = parse("2026-12-24", AMS, DayEdge::End).unwrap();
        assert_eq!(dt.to_rfc3339(), "2026-12-24T23:59:59+01:00");
    }

    #[test]
    fn dst_gap_and_overlap_resolve_without_error() {
        let gap = parse("2026-03-29T02:30:00", AMS, DayEdge::Start).unwrap();
        assert_eq!(gap.to_rfc3339(), "2026-03-29T03:30:00+02:00");
        let overlap = parse("2026-10-25T02:30:00", AMS, DayEdge::Start).unwrap();
        assert_eq!(overlap.to_rfc3339(), "2026-10-25T02:30:00+02:00");
    }

    #[test]
    fn garbage_is_an_error_with_an_example() {
        assert!(parse("gisteren", AMS, DayEdge::Start).unwrap_err().contains("2026-11-20"));
    }
}
