//! Elapsed times as people and TestRail write them: "1m 5s", "3s", "250ms".

use std::time::Duration;

/// TestRail's timespan style: "250ms" below a second, otherwise whole seconds rounded to the
/// nearest, as "1h 2m 5s" with zero parts left out ("2m", "1h 5s").
pub fn format_elapsed(elapsed: Duration) -> String {
    if elapsed < Duration::from_secs(1) {
        return format!("{}ms", elapsed.as_millis());
    }
    timespan(rounded_secs(elapsed))
}

/// The elapsed value TestRail accepts in results: whole seconds, at least "1s" (as trcli does).
pub fn testrail_elapsed(elapsed: Duration) -> String {
    timespan(rounded_secs(elapsed).max(1))
}

/// For live progress: "250ms", "1.2s" below a minute, then as [`format_elapsed`].
pub fn format_elapsed_tenths(elapsed: Duration) -> String {
    if elapsed < Duration::from_secs(1) {
        format!("{}ms", elapsed.as_millis())
    } else if elapsed < Duration::from_millis(59_950) {
        format!("{:.1}s", elapsed.as_secs_f64())
    } else {
        format_elapsed(elapsed)
    }
}

fn rounded_secs(elapsed: Duration) -> u64 {
    let millis = elapsed.as_millis().saturating_add(500) / 1000;
    u64::try_from(millis).unwrap_or(u64::MAX)
}

fn timespan(secs: u64) -> String {
    let (hours, minutes, seconds) = (secs / 3600, secs / 60 % 60, secs % 60);
    let parts: Vec<String> = [(hours, "h"), (minutes, "m"), (seconds, "s")]
        .into_iter()
        .filter(|&(value, _)| value > 0)
        .map(|(value, unit)| format!("{value}{unit}"))
        .collect();
    if parts.is_empty() {
        "0s".to_owned()
    } else {
        parts.join(" ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(millis: u64) -> Duration {
        Duration::from_millis(millis)
    }

    #[test]
    fn testrail_style() {
        assert_eq!(format_elapsed(ms(0)), "0ms");
        assert_eq!(format_elapsed(ms(250)), "250ms");
        assert_eq!(format_elapsed(ms(3_000)), "3s");
        assert_eq!(format_elapsed(ms(3_499)), "3s");
        assert_eq!(format_elapsed(ms(3_500)), "4s");
        assert_eq!(format_elapsed(ms(65_000)), "1m 5s");
        assert_eq!(format_elapsed(ms(120_000)), "2m");
        assert_eq!(format_elapsed(ms(59_600)), "1m");
        assert_eq!(format_elapsed(ms(3_605_000)), "1h 5s");
        assert_eq!(format_elapsed(ms(7_384_000)), "2h 3m 4s");
    }

    #[test]
    fn testrail_needs_whole_seconds_at_least_one() {
        assert_eq!(testrail_elapsed(ms(0)), "1s");
        assert_eq!(testrail_elapsed(ms(250)), "1s");
        assert_eq!(testrail_elapsed(ms(1_400)), "1s");
        assert_eq!(testrail_elapsed(ms(65_200)), "1m 5s");
    }

    #[test]
    fn tenths_for_progress() {
        assert_eq!(format_elapsed_tenths(ms(250)), "250ms");
        assert_eq!(format_elapsed_tenths(ms(1_230)), "1.2s");
        assert_eq!(format_elapsed_tenths(ms(5_000)), "5.0s");
        assert_eq!(format_elapsed_tenths(ms(59_949)), "59.9s");
        assert_eq!(format_elapsed_tenths(ms(125_000)), "2m 5s");
    }
}
