//! TestRail's REST API v2 as requests and answers. [`HttpTransport`] sends them (HTTP Basic,
//! retries, timeouts, an overall deadline); [`DryRun`] prints them and answers with
//! placeholders, so `push --dry-run` walks the same code without the network.

mod dry;
mod http;

use std::fmt;
use std::path::PathBuf;

use serde_json::Value;

pub use dry::DryRun;
pub use http::{Credentials, HttpTransport};

/// The two HTTP methods API v2 uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Method {
    Get,
    Post,
}

impl fmt::Display for Method {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Method::Get => "GET",
            Method::Post => "POST",
        })
    }
}

/// What a request carries.
#[derive(Clone, Debug, PartialEq)]
pub enum Body {
    None,
    Json(Value),
    /// A file sent as the multipart field `attachment`.
    Attachment(PathBuf),
}

/// One API call: `path` is what follows `/api/v2/`, e.g. `add_run/1` or
/// `get_projects&offset=250`.
#[derive(Clone, Debug, PartialEq)]
pub struct Request {
    pub method: Method,
    pub path: String,
    pub body: Body,
}

impl Request {
    pub fn get(path: impl Into<String>) -> Self {
        Self {
            method: Method::Get,
            path: path.into(),
            body: Body::None,
        }
    }

    pub fn post(path: impl Into<String>, body: Value) -> Self {
        Self {
            method: Method::Post,
            path: path.into(),
            body: Body::Json(body),
        }
    }

    pub fn attach(path: impl Into<String>, file: PathBuf) -> Self {
        Self {
            method: Method::Post,
            path: path.into(),
            body: Body::Attachment(file),
        }
    }
}

/// `HOST/index.php?/api/v2/<path>`, whatever the base URL ends with.
pub fn api_url(base: &str, path: &str) -> String {
    let base = base.trim_end_matches('/');
    let base = base.strip_suffix("/index.php?").unwrap_or(base);
    format!("{base}/index.php?/api/v2/{path}")
}

/// Why a call failed. Never carries the password or API key.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error(
        "TestRail refused the credentials of TESTRAIL_USER at {url} ({status}): check TESTRAIL_USER and TESTRAIL_API_KEY"
    )]
    Refused { url: String, status: u16 },
    #[error("{method} {url} failed with HTTP {status}: {message}")]
    Status {
        method: Method,
        url: String,
        status: u16,
        message: String,
    },
    #[error("{method} {url}: {message}")]
    Transport {
        method: Method,
        url: String,
        message: String,
    },
    #[error("{method} {url}: no answer within {seconds}s")]
    Timeout {
        method: Method,
        url: String,
        seconds: u64,
    },
    #[error("{method} {url}: gave up, the push deadline of {seconds}s is reached ({last})")]
    Deadline {
        method: Method,
        url: String,
        seconds: u64,
        last: String,
    },
    #[error("cannot read the attachment {path}: {source}")]
    Attachment {
        path: String,
        source: std::io::Error,
    },
}

/// Sends requests and returns the decoded JSON answers (`null` for an empty body).
pub trait Transport {
    fn call(&mut self, request: Request) -> Result<Value, ApiError>;
}

/// An id as TestRail writes it (a number), or the placeholder a dry run answers with.
pub(crate) fn id_text(value: &Value) -> Option<String> {
    match value {
        Value::Number(n) => n.as_u64().map(|n| n.to_string()),
        Value::String(s) => Some(s.clone()),
        _ => None,
    }
}

/// The items of a bulk GET answer: the paginated form `{ .., "<key>": [..] }` or a plain array
/// (older TestRail versions).
pub(crate) fn page_items<'a>(answer: &'a Value, key: &str) -> &'a [Value] {
    match answer {
        Value::Array(items) => items,
        Value::Object(map) => map
            .get(key)
            .and_then(Value::as_array)
            .map_or(&[], Vec::as_slice),
        _ => &[],
    }
}

/// The next page as a request path (`_links.next` is `/api/v2/get_projects&offset=250`).
pub(crate) fn next_page(answer: &Value) -> Option<String> {
    let next = answer.get("_links")?.get("next")?.as_str()?;
    Some(next.strip_prefix("/api/v2/").unwrap_or(next).to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_take_the_query_string_form() {
        assert_eq!(
            api_url("https://x.testrail.io/", "get_projects&offset=250"),
            "https://x.testrail.io/index.php?/api/v2/get_projects&offset=250"
        );
        assert_eq!(
            api_url("http://h/index.php?", "add_run/1"),
            "http://h/index.php?/api/v2/add_run/1"
        );
    }

    #[test]
    fn pages_and_ids() {
        let page = serde_json::json!({"_links": {"next": "/api/v2/get_projects&offset=250"},
            "projects": [{"id": 3}]});
        assert_eq!(page_items(&page, "projects").len(), 1);
        assert_eq!(next_page(&page).as_deref(), Some("get_projects&offset=250"));
        assert_eq!(
            id_text(&page_items(&page, "projects")[0]["id"]).as_deref(),
            Some("3")
        );
        assert_eq!(
            next_page(&serde_json::json!({"_links": {"next": null}})),
            None
        );
    }
}
