//! Sending API requests over HTTPS: HTTP Basic, a timeout on every request, retries of 429
//! (after `Retry-After`) and 5xx (exponential backoff with a cap), all within one deadline.

use std::fmt;
use std::sync::Arc;
use std::time::{Duration, Instant};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64_STANDARD;
use serde_json::Value;
use ureq::RequestBuilder;
use ureq::tls::{Certificate, RootCerts, TlsConfig};
use ureq::unversioned::multipart::{Form, Part};

use super::{ApiError, Body, Method, Request, Transport, api_url};

/// How long one request may take.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(60);
/// How long connecting (TCP and TLS) may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(15);
/// The first wait after a 5xx, and after a 429 without `Retry-After`.
const FIRST_BACKOFF: Duration = Duration::from_secs(1);
/// The longest wait between two attempts.
const MAX_BACKOFF: Duration = Duration::from_secs(30);

/// The user and password or API key; `Debug` never shows the secret.
#[derive(Clone)]
pub struct Credentials {
    pub user: String,
    pub secret: String,
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credentials")
            .field("user", &self.user)
            .field("secret", &"<redacted>")
            .finish()
    }
}

/// Talks to one TestRail instance.
#[derive(Debug)]
pub struct HttpTransport {
    http: ureq::Agent,
    base: String,
    /// `Basic <base64 of user:secret>`; never logged (`ureq` does not log headers).
    authorization: String,
    deadline: Instant,
    budget: Duration,
}

impl HttpTransport {
    /// `base` is the instance URL (`https://example.testrail.io`); every call must finish within
    /// `budget` from now, retries included.
    pub fn new(base: &str, credentials: Credentials, budget: Duration) -> Self {
        let http = ureq::Agent::config_builder()
            .tls_config(tls_config())
            .timeout_global(Some(REQUEST_TIMEOUT))
            .timeout_connect(Some(CONNECT_TIMEOUT))
            // Statuses are answers here: 429 and 5xx are retried, TestRail explains the others.
            .http_status_as_error(false)
            .build()
            .new_agent();
        let pair = format!("{}:{}", credentials.user, credentials.secret);
        Self {
            http,
            base: base.to_owned(),
            authorization: format!("Basic {}", BASE64_STANDARD.encode(pair)),
            deadline: Instant::now() + budget,
            budget,
        }
    }

    /// Sends `request` once, giving it at most `limit`.
    fn send(
        &self,
        request: &Request,
        url: &str,
        limit: Duration,
    ) -> Result<ureq::http::Response<ureq::Body>, ureq::Error> {
        match (&request.method, &request.body) {
            (Method::Get, _) => self
                .prepare(self.http.get(url), limit)
                .header("Content-Type", "application/json")
                .call(),
            (Method::Post, Body::None) => self
                .prepare(self.http.post(url), limit)
                .header("Content-Type", "application/json")
                .send_empty(),
            (Method::Post, Body::Json(value)) => {
                self.prepare(self.http.post(url), limit).send_json(value)
            }
            (Method::Post, Body::Attachment(path)) => {
                let name = path.file_name().map_or_else(
                    || "attachment".to_owned(),
                    |n| n.to_string_lossy().into_owned(),
                );
                let part = Part::file(path)?.file_name(&name);
                self.prepare(self.http.post(url), limit)
                    .send(Form::new().part("attachment", part))
            }
        }
    }

    /// Credentials and the time this attempt may take.
    fn prepare<B>(&self, builder: RequestBuilder<B>, limit: Duration) -> RequestBuilder<B> {
        builder
            .header("Authorization", &self.authorization)
            .config()
            .timeout_global(Some(limit))
            .build()
    }

    fn deadline_error(&self, request: &Request, url: &str, last: String) -> ApiError {
        ApiError::Deadline {
            method: request.method,
            url: url.to_owned(),
            seconds: self.budget.as_secs(),
            last,
        }
    }
}

impl Transport for HttpTransport {
    fn call(&mut self, request: Request) -> Result<Value, ApiError> {
        let url = api_url(&self.base, &request.path);
        if let Body::Attachment(path) = &request.body {
            // Checked first so a missing file is named as such, not as a transport error.
            std::fs::metadata(path).map_err(|source| ApiError::Attachment {
                path: path.display().to_string(),
                source,
            })?;
        }
        let mut backoff = FIRST_BACKOFF;
        loop {
            let left = self.deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err(self.deadline_error(&request, &url, "no time left".into()));
            }
            let limit = left.min(REQUEST_TIMEOUT);
            let mut response = match self.send(&request, &url, limit) {
                Ok(response) => response,
                Err(ureq::Error::Timeout(_)) => {
                    return Err(ApiError::Timeout {
                        method: request.method,
                        url,
                        seconds: limit.as_secs(),
                    });
                }
                Err(error) => {
                    return Err(ApiError::Transport {
                        method: request.method,
                        url,
                        // ureq's messages carry their cause ("io: Connection refused ...").
                        message: error.to_string(),
                    });
                }
            };
            let status = response.status().as_u16();
            let wait = match status {
                401 | 403 => {
                    return Err(ApiError::Refused {
                        url: self.base.clone(),
                        status,
                    });
                }
                429 => retry_after(&response).unwrap_or(backoff),
                500..=599 => backoff,
                _ => {
                    let text = match response.body_mut().read_to_string() {
                        Ok(text) => text,
                        Err(ureq::Error::Timeout(_)) => {
                            "the answer did not arrive in time".to_owned()
                        }
                        Err(error) => error.to_string(),
                    };
                    return decode(request.method, &url, status, &text);
                }
            };
            if Instant::now() + wait > self.deadline {
                let last = format!("HTTP {status}, next attempt in {}s", wait.as_secs());
                return Err(self.deadline_error(&request, &url, last));
            }
            tracing::warn!(%url, status, wait_ms = wait.as_millis() as u64, "TestRail asked to retry");
            std::thread::sleep(wait);
            backoff = (backoff * 2).min(MAX_BACKOFF);
        }
    }
}

/// `Retry-After` in seconds (TestRail sends seconds, never a date).
fn retry_after(response: &ureq::http::Response<ureq::Body>) -> Option<Duration> {
    let value = response.headers().get("retry-after")?.to_str().ok()?;
    value.trim().parse::<u64>().ok().map(Duration::from_secs)
}

fn decode(method: Method, url: &str, status: u16, text: &str) -> Result<Value, ApiError> {
    if (200..300).contains(&status) {
        if text.trim().is_empty() {
            return Ok(Value::Null);
        }
        return serde_json::from_str(text).map_err(|e| ApiError::Transport {
            method,
            url: url.to_owned(),
            message: format!("the answer is not JSON: {e}"),
        });
    }
    // TestRail explains errors as {"error": "..."}.
    let message = serde_json::from_str::<Value>(text)
        .ok()
        .and_then(|v| v.get("error").and_then(Value::as_str).map(str::to_owned))
        .unwrap_or_else(|| text.chars().take(300).collect());
    Err(ApiError::Status {
        method,
        url: url.to_owned(),
        status,
        message,
    })
}

/// rustls with the ring provider (the one the runtime already uses) and the system's roots.
fn tls_config() -> TlsConfig {
    let roots: Vec<Certificate<'static>> = rustls_native_certs::load_native_certs()
        .certs
        .iter()
        .map(|cert| Certificate::from_der(cert.as_ref()).to_owned())
        .collect();
    TlsConfig::builder()
        .root_certs(RootCerts::new_with_certs(&roots))
        .unversioned_rustls_crypto_provider(Arc::new(rustls::crypto::ring::default_provider()))
        .build()
}
