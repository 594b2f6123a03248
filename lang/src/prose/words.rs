//! Small pieces of English shared by the statement renderers: durations, names, lists.

use crate::ast::{Duration, Percent, Rate};

/// `5s` -> "5 s", `250ms` -> "250 ms", `2m` -> "2 min", `1500ms` -> "1.5 s".
pub(crate) fn duration(d: &Duration) -> String {
    let ms = d.millis;
    if ms < 1000.0 {
        format!("{} ms", number(ms))
    } else if ms < 60_000.0 || ms % 60_000.0 != 0.0 {
        format!("{} s", number(ms / 1000.0))
    } else if ms < 3_600_000.0 || ms % 3_600_000.0 != 0.0 {
        format!("{} min", number(ms / 60_000.0))
    } else {
        format!("{} h", number(ms / 3_600_000.0))
    }
}

/// " within 5 s", or nothing.
pub(crate) fn within(d: Option<&Duration>) -> String {
    d.map(|d| format!(" within {}", duration(d)))
        .unwrap_or_default()
}

/// `10%` -> "10%".
pub(crate) fn percent(p: &Percent) -> String {
    format!("{}%", number(p.value))
}

/// `64kbit` -> "64 kbit/s", `2mbit` -> "2 Mbit/s".
pub(crate) fn rate(r: &Rate) -> String {
    let bits = r.bits_per_second;
    if bits >= 1_000_000.0 {
        format!("{} Mbit/s", number(bits / 1_000_000.0))
    } else if bits >= 1000.0 {
        format!("{} kbit/s", number(bits / 1000.0))
    } else {
        format!("{} bit/s", number(bits))
    }
}

/// A number without a needless fraction: 5 -> "5", 1.5 -> "1.5".
fn number(x: f64) -> String {
    let rounded = (x * 1000.0).round() / 1000.0;
    format!("{rounded}")
}

/// `alice` -> "Alice".
pub(crate) fn capitalized(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// A message body as the reader sees it: `"hello"`.
pub(crate) fn quoted(text: &str) -> String {
    format!("\"{text}\"")
}

/// `a`, `a or b`, `a, b or c`.
pub(crate) fn or_list(items: &[String]) -> String {
    match items {
        [] => String::new(),
        [one] => one.clone(),
        [rest @ .., last] => format!("{} or {last}", rest.join(", ")),
    }
}
