//! Small values of environment files, each parsed from a string with a message that says what
//! was expected: `host:port` addresses, durations (`10s`, written as in .jspec files), names.

use std::fmt;
use std::time::Duration;

use serde::de::{self, Deserializer, Visitor};
use serde::{Deserialize, Serialize};

/// A TCP address as written in an environment file: `host:port`, where host is a DNS name, an
/// IPv4 address or a bracketed IPv6 address (`[::1]:5222`).
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(into = "String")]
pub struct Address {
    pub host: String,
    pub port: u16,
}

impl Address {
    pub fn new(host: impl Into<String>, port: u16) -> Self {
        Address {
            host: host.into(),
            port,
        }
    }

    /// The same host on another port.
    pub fn with_port(&self, port: u16) -> Self {
        Address::new(self.host.clone(), port)
    }
}

impl fmt::Display for Address {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.host.contains(':') {
            write!(f, "[{}]:{}", self.host, self.port)
        } else {
            write!(f, "{}:{}", self.host, self.port)
        }
    }
}

impl From<Address> for String {
    fn from(address: Address) -> String {
        address.to_string()
    }
}

impl std::str::FromStr for Address {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        let expected = "expected host:port, like `xmpp1.lab.example:5222` or `[fd00::1]:5222`";
        let (host, port) = if let Some(rest) = text.strip_prefix('[') {
            let (host, port) = rest
                .split_once("]:")
                .ok_or_else(|| format!("`{text}` is not an address: {expected}"))?;
            if host.parse::<std::net::Ipv6Addr>().is_err() {
                return Err(format!("`{host}` is not an IPv6 address: {expected}"));
            }
            (host, port)
        } else {
            let (host, port) = text
                .rsplit_once(':')
                .ok_or_else(|| format!("`{text}` has no port: {expected}"))?;
            if !is_host_name(host) {
                return Err(format!("`{host}` is not a host name: {expected}"));
            }
            (host, port)
        };
        match port.parse::<u16>() {
            Ok(port) if port > 0 => Ok(Address::new(host, port)),
            _ => Err(format!("`{port}` is not a port (1 to 65535): {expected}")),
        }
    }
}

impl<'de> Deserialize<'de> for Address {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_str(FromStrVisitor::<Address>::new("an address `host:port`"))
    }
}

/// A DNS name or an IPv4 address: letters, digits, `-` and `.`, not empty.
pub(crate) fn is_host_name(text: &str) -> bool {
    !text.is_empty()
        && text.split('.').all(|label| {
            !label.is_empty() && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        })
}

/// A name that a .jspec file can use for a role, node or user: a letter or `_`, then letters,
/// digits, `_` and single `-` between them.
pub(crate) fn is_identifier(text: &str) -> bool {
    let mut chars = text.chars();
    let first_ok = chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_');
    first_ok
        && !text.ends_with('-')
        && !text.contains("--")
        && text
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

/// Parses a duration as .jspec files write it: a number and one of `ms`, `s`, `m`, `h`
/// (`250ms`, `10s`, `1.5s`, `2m`). Zero is refused: a deadline of nothing is a mistake.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let expected = "expected a number and a unit, like `10s`, `250ms`, `2m` or `1h`";
    let millis = jspec_lang::parse::duration_millis(text)
        .ok_or_else(|| format!("`{text}` is not a duration: {expected}"))?;
    if millis <= 0.0 {
        return Err(format!(
            "`{text}` is zero: a deadline must be longer than that"
        ));
    }
    if millis > 7.0 * 24.0 * 3_600_000.0 {
        return Err(format!(
            "`{text}` is longer than a week: is the unit right?"
        ));
    }
    Ok(Duration::from_secs_f64(millis / 1000.0))
}

/// Formats a duration the way [`parse_duration`] reads it.
pub fn format_duration(duration: Duration) -> String {
    let millis = duration.as_millis();
    match millis {
        0 => "0ms".to_string(),
        m if m % 3_600_000 == 0 => format!("{}h", m / 3_600_000),
        m if m % 60_000 == 0 => format!("{}m", m / 60_000),
        m if m % 1_000 == 0 => format!("{}s", m / 1_000),
        m => format!("{m}ms"),
    }
}

/// `deserialize_with` for durations.
pub(crate) fn deserialize_duration<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Duration, D::Error> {
    struct Wrapper(Duration);
    impl std::str::FromStr for Wrapper {
        type Err = String;
        fn from_str(text: &str) -> Result<Self, String> {
            parse_duration(text).map(Wrapper)
        }
    }
    deserializer
        .deserialize_str(FromStrVisitor::<Wrapper>::new("a duration like \"10s\""))
        .map(|w| w.0)
}

/// A serde visitor that reads a string through `FromStr`, whose error becomes the message.
struct FromStrVisitor<T> {
    expecting: &'static str,
    target: std::marker::PhantomData<T>,
}

impl<T> FromStrVisitor<T> {
    fn new(expecting: &'static str) -> Self {
        FromStrVisitor {
            expecting,
            target: std::marker::PhantomData,
        }
    }
}

impl<T: std::str::FromStr<Err = String>> Visitor<'_> for FromStrVisitor<T> {
    type Value = T;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.expecting)
    }

    fn visit_str<E: de::Error>(self, text: &str) -> Result<T, E> {
        text.parse().map_err(E::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses() {
        let ok = |text: &str| text.parse::<Address>().unwrap();
        assert_eq!(
            ok("of1.lab.example:5222"),
            Address::new("of1.lab.example", 5222)
        );
        assert_eq!(ok("10.0.0.7:5223"), Address::new("10.0.0.7", 5223));
        assert_eq!(ok("[fd00::1]:5222"), Address::new("fd00::1", 5222));
        assert_eq!(ok("[fd00::1]:5222").to_string(), "[fd00::1]:5222");
        for bad in [
            "of1",
            "of1:",
            ":5222",
            "of1:0",
            "of1:70000",
            "of 1:5222",
            "fd00::1:5222",
            "[x]:1",
        ] {
            assert!(bad.parse::<Address>().is_err(), "{bad} parsed");
        }
    }

    #[test]
    fn durations_are_written_as_in_jspec_files() {
        assert_eq!(parse_duration("10s"), Ok(Duration::from_secs(10)));
        assert_eq!(parse_duration("250ms"), Ok(Duration::from_millis(250)));
        assert_eq!(parse_duration("1.5s"), Ok(Duration::from_millis(1500)));
        assert_eq!(parse_duration("2m"), Ok(Duration::from_secs(120)));
        for bad in [
            "10 seconds",
            "10",
            "s",
            "0s",
            "1.s",
            ".5s",
            "10sec",
            "1..2s",
            "-1s",
            "9999h",
        ] {
            assert!(parse_duration(bad).is_err(), "{bad} parsed");
        }
        for text in ["10s", "250ms", "2m", "1h", "1500ms"] {
            assert_eq!(format_duration(parse_duration(text).unwrap()), text);
        }
    }

    #[test]
    fn identifiers_follow_the_language() {
        for ok in ["a", "of1", "c_1", "site-a", "_x"] {
            assert!(is_identifier(ok), "{ok}");
        }
        for bad in ["", "1a", "a-", "a--b", "a.b", "a b"] {
            assert!(!is_identifier(bad), "{bad}");
        }
    }
}
