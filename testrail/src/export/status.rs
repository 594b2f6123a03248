//! Statuses and sections as TestRail exports write them.

/// A recorded status (`passed`, `failed`, ...) as TestRail's status id (Untested 3 is never a
/// result: skipped is Retest 4, as in `testrail-results.json`).
pub(crate) fn status_id(status: &str) -> u8 {
    match status {
        "passed" => 1,
        "blocked" => 2,
        "failed" => 5,
        _ => 4,
    }
}

/// TestRail's label of a status id.
pub(crate) fn status_label(id: u8) -> &'static str {
    match id {
        1 => "Passed",
        2 => "Blocked",
        3 => "Untested",
        5 => "Failed",
        _ => "Retest",
    }
}

/// "PKI > Server to server" -> ["PKI", "Server to server"].
pub(crate) fn section_levels(section: Option<&str>) -> Vec<String> {
    section
        .map(|s| {
            s.split('>')
                .map(str::trim)
                .filter(|l| !l.is_empty())
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default()
}

/// `2025-03-04T05:06:07.089Z` (what events.jsonl writes) as Unix seconds.
pub(crate) fn unix_seconds(rfc3339: &str) -> Option<i64> {
    let (date, clock) = rfc3339.trim_end_matches('Z').split_once('T')?;
    let mut d = date.split('-').map(str::parse::<i32>);
    let (year, month, day) = (d.next()?.ok()?, d.next()?.ok()?, d.next()?.ok()?);
    let mut c = clock.split(':');
    let (hour, minute) = (c.next()?.parse::<u8>().ok()?, c.next()?.parse::<u8>().ok()?);
    let second = c.next()?.split('.').next()?.parse::<u8>().ok()?;
    let month = time::Month::try_from(u8::try_from(month).ok()?).ok()?;
    let date = time::Date::from_calendar_date(year, month, u8::try_from(day).ok()?).ok()?;
    let clock = time::Time::from_hms(hour, minute, second).ok()?;
    Some(
        time::PrimitiveDateTime::new(date, clock)
            .assume_utc()
            .unix_timestamp(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_and_statuses() {
        assert_eq!(
            unix_seconds("2025-03-04T05:06:07.089Z"),
            Some(1_741_064_767)
        );
        assert_eq!(unix_seconds("yesterday"), None);
        assert_eq!(status_label(status_id("skipped")), "Retest");
        assert_eq!(section_levels(Some("A > B")), ["A", "B"]);
    }
}
