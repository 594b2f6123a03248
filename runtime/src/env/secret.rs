//! Secrets read from environment variables: passwords never live in environment files and never
//! appear in output. A [`Secret`] prints as `***` whichever way it is formatted.

use std::fmt;

/// A value taken from an environment variable at load time. `Debug` and `Display` print `***`;
/// only [`Secret::expose`] gives the value, for the one place that sends it to a server.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret {
    variable: String,
    value: String,
}

impl Secret {
    pub fn new(variable: impl Into<String>, value: impl Into<String>) -> Self {
        Secret {
            variable: variable.into(),
            value: value.into(),
        }
    }

    /// The environment variable the value came from (safe to print).
    pub fn variable(&self) -> &str {
        &self.variable
    }

    /// The value itself. Do not log it.
    pub fn expose(&self) -> &str {
        &self.value
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn never_printed() {
        let secret = Secret::new("OF_ALICE_PASSWORD", "hunter2");
        assert_eq!(format!("{secret}"), "***");
        assert_eq!(format!("{secret:?}"), "***");
        assert_eq!(format!("{secret:#?}"), "***");
        assert_eq!(format!("{:?}", Some(&secret)), "Some(***)");
        assert_eq!(secret.expose(), "hunter2");
        assert_eq!(secret.variable(), "OF_ALICE_PASSWORD");
    }
}
