//! Sending API requests over HTTPS: HTTP Basic, a timeout on every request, retries of 429
//! (after `Retry-After`) and 5xx (exponential backoff with a cap), all within one deadline.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use serde_json::Value;
use tokio::time::{Instant, sleep, timeout};

use super::{ApiError, Body, Method, Request, Transport, api_url};

/// How long one request may take.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(60);
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
    http: reqwest::Client,
    base: String,
    credentials: Credentials,
    deadline: Instant,
    budget: Duration,
}

impl HttpTransport {
    /// `base` is the instance URL (`https://example.testrail.io`); every call must finish within
    /// `budget` from now, retries included.
    pub fn new(base: &str, credentials: Credentials, budget: Duration) -> Result<Self, ApiError> {
        let http = reqwest::Client::builder()
            .tls_backend_preconfigured(tls_config()?)
            .timeout(REQUEST_TIMEOUT)
            .connect_timeout(Duration::from_secs(15))
            .build()
            .map_err(|e| ApiError::Tls(e.to_string()))?;
        Ok(Self {
            http,
            base: base.to_owned(),
            credentials,
            deadline: Instant::now() + budget,
            budget,
        })
    }

    async fn build(
        &self,
        request: &Request,
        url: &str,
    ) -> Result<reqwest::RequestBuilder, ApiError> {
        let builder = match request.method {
            Method::Get => self.http.get(url),
            Method::Post => self.http.post(url),
        }
        .basic_auth(&self.credentials.user, Some(&self.credentials.secret));
        Ok(match &request.body {
            Body::None => builder.header("Content-Type", "application/json"),
            Body::Json(value) => builder.json(value),
            Body::Attachment(path) => {
                let bytes = tokio::fs::read(path)
                    .await
                    .map_err(|source| ApiError::Attachment {
                        path: path.display().to_string(),
                        source,
                    })?;
                let name = path.file_name().map_or_else(
                    || "attachment".to_owned(),
                    |n| n.to_string_lossy().into_owned(),
                );
                let part = reqwest::multipart::Part::bytes(bytes).file_name(name);
                builder.multipart(reqwest::multipart::Form::new().part("attachment", part))
            }
        })
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
    async fn call(&mut self, request: Request) -> Result<Value, ApiError> {
        let url = api_url(&self.base, &request.path);
        let mut backoff = FIRST_BACKOFF;
        loop {
            let left = self.deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err(self.deadline_error(&request, &url, "no time left".into()));
            }
            let limit = left.min(REQUEST_TIMEOUT);
            let send = self.build(&request, &url).await?.send();
            let response = match timeout(limit, send).await {
                Err(_) => {
                    return Err(ApiError::Timeout {
                        method: request.method,
                        url,
                        seconds: limit.as_secs(),
                    });
                }
                Ok(Err(error)) => {
                    return Err(ApiError::Transport {
                        method: request.method,
                        url,
                        message: chain(&error.without_url()),
                    });
                }
                Ok(Ok(response)) => response,
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
                    let text = match timeout(limit, response.text()).await {
                        Ok(Ok(text)) => text,
                        Ok(Err(error)) => error.without_url().to_string(),
                        Err(_) => "the answer did not arrive in time".to_owned(),
                    };
                    return decode(request.method, &url, status, &text);
                }
            };
            if Instant::now() + wait > self.deadline {
                let last = format!("HTTP {status}, next attempt in {}s", wait.as_secs());
                return Err(self.deadline_error(&request, &url, last));
            }
            tracing::warn!(%url, status, wait_ms = wait.as_millis() as u64, "TestRail asked to retry");
            sleep(wait).await;
            backoff = (backoff * 2).min(MAX_BACKOFF);
        }
    }
}

/// An error with its causes ("error sending request: connection refused"): reqwest's own message
/// alone rarely says what went wrong.
fn chain(error: &dyn std::error::Error) -> String {
    let mut message = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        message.push_str(": ");
        message.push_str(&cause.to_string());
        source = cause.source();
    }
    message
}

/// `Retry-After` in seconds (TestRail sends seconds, never a date).
fn retry_after(response: &reqwest::Response) -> Option<Duration> {
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
fn tls_config() -> Result<rustls::ClientConfig, ApiError> {
    let mut roots = rustls::RootCertStore::empty();
    let native = rustls_native_certs::load_native_certs();
    for cert in native.certs {
        // A system certificate rustls cannot parse is skipped, as browsers do.
        let _ = roots.add(cert);
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| ApiError::Tls(e.to_string()))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(config)
}
