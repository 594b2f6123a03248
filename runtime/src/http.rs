//! The one HTTP client setup the lab and the checks share: plain HTTP to lab addresses (Patroni's
//! REST API, OCSP responders), never through a proxy named in the environment.

use std::time::Duration;

/// A reqwest client for plain HTTP with `timeout` on each request. reqwest still wants a TLS
/// setup to build one: rustls with the ring provider the runtime uses, trusting nothing.
pub(crate) fn plain_client(timeout: Duration) -> Result<reqwest::Client, String> {
    let provider = std::sync::Arc::new(rustls::crypto::ring::default_provider());
    let tls = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?
        .with_root_certificates(rustls::RootCertStore::empty())
        .with_no_client_auth();
    reqwest::Client::builder()
        .tls_backend_preconfigured(tls)
        .timeout(timeout)
        .no_proxy()
        .build()
        .map_err(|e| error_chain(&e))
}

/// An error with its causes ("error sending request: connection refused"): the outer message
/// alone rarely says what went wrong.
pub(crate) fn error_chain(error: &dyn std::error::Error) -> String {
    let mut message = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        message.push_str(": ");
        message.push_str(&cause.to_string());
        source = cause.source();
    }
    message
}
