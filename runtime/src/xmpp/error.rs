//! Errors of the client layer. A failed connect carries exactly one of the design's failure
//! reasons (the words `expect connect ... fails with "..."` compares against) plus a human message.

use std::fmt;
use std::str::FromStr;

/// Why a connect failed, in the vocabulary of the language (design section 3).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum FailureReason {
    ConnectionRefused,
    ConnectionTimeout,
    TlsFailed,
    CertificateExpired,
    /// The certificate's validity starts in the future (a clock or issuing mistake).
    CertificateNotYetValid,
    CertificateRevoked,
    CertificateUnknownIssuer,
    CertificateWrongHost,
    AuthFailed,
    MechanismUnavailable,
    StreamError,
}

impl FailureReason {
    /// Every reason, in the order the design lists them.
    pub const ALL: [FailureReason; 11] = [
        Self::ConnectionRefused,
        Self::ConnectionTimeout,
        Self::TlsFailed,
        Self::CertificateExpired,
        Self::CertificateNotYetValid,
        Self::CertificateRevoked,
        Self::CertificateUnknownIssuer,
        Self::CertificateWrongHost,
        Self::AuthFailed,
        Self::MechanismUnavailable,
        Self::StreamError,
    ];

    /// The spelling used in `.jspec` files and reports.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::ConnectionRefused => "connection-refused",
            Self::ConnectionTimeout => "connection-timeout",
            Self::TlsFailed => "tls-failed",
            Self::CertificateExpired => "certificate-expired",
            Self::CertificateNotYetValid => "certificate-not-yet-valid",
            Self::CertificateRevoked => "certificate-revoked",
            Self::CertificateUnknownIssuer => "certificate-unknown-issuer",
            Self::CertificateWrongHost => "certificate-wrong-host",
            Self::AuthFailed => "auth-failed",
            Self::MechanismUnavailable => "mechanism-unavailable",
            Self::StreamError => "stream-error",
        }
    }
}

impl fmt::Display for FailureReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A string that is not one of the failure reasons.
#[derive(Debug, thiserror::Error)]
#[error("unknown failure reason {0:?}")]
pub struct UnknownReason(pub String);

impl FromStr for FailureReason {
    type Err = UnknownReason;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|r| r.as_str() == s)
            .ok_or_else(|| UnknownReason(s.to_owned()))
    }
}

/// A connect that did not end with a bound session.
#[derive(Debug, thiserror::Error)]
pub enum ConnectError {
    #[error("{reason}: {message}")]
    Failed {
        reason: FailureReason,
        message: String,
    },
    /// The cancellation token fired (the run is being stopped). Not a server behaviour, so it
    /// has no failure reason: an expectation must not pass or fail on it.
    #[error("connect cancelled")]
    Cancelled,
}

impl ConnectError {
    pub(crate) fn new(reason: FailureReason, message: impl Into<String>) -> Self {
        Self::Failed {
            reason,
            message: message.into(),
        }
    }

    /// The failure reason; `None` only for [`ConnectError::Cancelled`].
    pub fn reason(&self) -> Option<FailureReason> {
        match self {
            Self::Failed { reason, .. } => Some(*reason),
            Self::Cancelled => None,
        }
    }

    /// The human explanation (without the reason word).
    pub fn message(&self) -> &str {
        match self {
            Self::Failed { message, .. } => message,
            Self::Cancelled => "connect cancelled",
        }
    }
}

/// Sending on an established session failed.
#[derive(Debug, thiserror::Error)]
pub enum SendError {
    /// `send_raw` got text that is not exactly one well-formed XML element.
    #[error("invalid XML: {0}")]
    InvalidXml(String),
    /// The stream is gone (closed by either side, aborted, or broken).
    #[error("session closed: {0}")]
    Closed(String),
    #[error("send timed out after {0:?}")]
    Timeout(std::time::Duration),
    #[error("send cancelled")]
    Cancelled,
    #[error("write failed: {0}")]
    Io(String),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reasons_round_trip() {
        for r in FailureReason::ALL {
            assert_eq!(r.as_str().parse::<FailureReason>().ok(), Some(r));
        }
        assert!("nope".parse::<FailureReason>().is_err());
    }

    #[test]
    fn display_has_reason_and_message() {
        let e = ConnectError::new(FailureReason::AuthFailed, "not-authorized");
        assert_eq!(e.to_string(), "auth-failed: not-authorized");
        assert_eq!(e.reason(), Some(FailureReason::AuthFailed));
    }
}
