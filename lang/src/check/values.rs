//! Range checks for quantities: durations, percentages, rates and counts.

use crate::ast::{Count, Duration, Percent, Rate};
use crate::diagnostic::{Code, Diagnostic};
use crate::span::SourceId;

const SECOND: f64 = 1_000.0;
const HOUR: f64 = 3_600.0 * SECOND;
pub(crate) const DAY: f64 = 24.0 * HOUR;

/// A duration must be above zero and at most `max_millis`.
pub(crate) fn duration(
    file: SourceId,
    d: &Duration,
    what: &str,
    max_millis: f64,
) -> Option<Diagnostic> {
    if d.millis > 0.0 && d.millis <= max_millis {
        return None;
    }
    let label = if d.millis <= 0.0 {
        "must be longer than zero".to_string()
    } else {
        format!("longer than {}", human(max_millis))
    };
    Some(
        Diagnostic::error(Code::OutOfRange, file, format!("{what} is out of range"))
            .with_label(d.span, label)
            .with_help(format!(
                "{what} takes a duration above 0 and at most {}, such as 500ms, 5s or 2m",
                human(max_millis)
            )),
    )
}

/// A percentage from 0% to 100%.
pub(crate) fn percent(file: SourceId, p: &Percent, what: &str) -> Option<Diagnostic> {
    if (0.0..=100.0).contains(&p.value) {
        return None;
    }
    Some(
        Diagnostic::error(
            Code::OutOfRange,
            file,
            format!("{what} percentage is out of range"),
        )
        .with_label(p.span, "more than 100%")
        .with_help(format!(
            "{what} takes a percentage from 0% to 100% of packets"
        )),
    )
}

/// A rate from 1kbit to 100gbit.
/// A rate from 1 kbit/s to 100 Gbit/s; `what` names it (`bandwidth`, `flood`).
pub(crate) fn rate(file: SourceId, r: &Rate, what: &str) -> Option<Diagnostic> {
    if (1e3..=1e11).contains(&r.bits_per_second) {
        return None;
    }
    let label = if r.bits_per_second < 1e3 {
        "below 1kbit"
    } else {
        "above 100gbit"
    };
    Some(
        Diagnostic::error(Code::OutOfRange, file, format!("{what} is out of range"))
            .with_label(r.span, label)
            .with_help(format!(
                "{what} takes a rate from 1kbit to 100gbit, such as 64kbit or 2mbit"
            )),
    )
}

/// A count from `min` to `max`.
pub(crate) fn count(
    file: SourceId,
    c: &Count,
    what: &str,
    min: u64,
    max: u64,
) -> Option<Diagnostic> {
    if (min..=max).contains(&c.value) {
        return None;
    }
    let label = if c.value < min {
        format!("below {min}")
    } else {
        format!("above {max}")
    };
    Some(
        Diagnostic::error(Code::OutOfRange, file, format!("{what} is out of range"))
            .with_label(c.span, label)
            .with_help(format!("{what} takes a whole number from {min} to {max}")),
    )
}

/// `90000` ms as "1m 30s"-like text for messages.
fn human(millis: f64) -> String {
    if millis >= HOUR && millis % HOUR == 0.0 {
        format!("{}h", millis / HOUR)
    } else if millis >= 60.0 * SECOND && millis % (60.0 * SECOND) == 0.0 {
        format!("{}m", millis / (60.0 * SECOND))
    } else if millis >= SECOND {
        format!("{}s", millis / SECOND)
    } else {
        format!("{millis}ms")
    }
}
