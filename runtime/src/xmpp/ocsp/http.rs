//! HTTP for OCSP (RFC 6960 appendix A): the client POSTs `application/ocsp-request` with
//! reqwest and reads `application/ocsp-response`; the lab responder answers with hyper. OCSP is
//! plain HTTP (the answers are signed). Callers put every call under their own deadline.

use std::convert::Infallible;
use std::future::Future;
use std::sync::OnceLock;
use std::time::Duration;

use http_body_util::{BodyExt, Full, Limited};
use hyper::body::{Bytes, Incoming};
use hyper::header::{ACCEPT, CACHE_CONTROL, CONTENT_TYPE};
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;

/// OCSP messages are a few kilobytes; anything larger is not an OCSP exchange.
pub(crate) const MAX_BODY: usize = 256 * 1024;
/// A bound of its own for the client, in case a caller's deadline is longer.
const CLIENT_TIMEOUT: Duration = Duration::from_secs(30);

const OCSP_REQUEST: &str = "application/ocsp-request";
const OCSP_RESPONSE: &str = "application/ocsp-response";

/// An exchange that did not produce an OCSP body.
#[derive(Debug, thiserror::Error)]
pub(crate) enum HttpError {
    /// Nothing usable came back: connecting, sending or reading failed.
    #[error("{0}")]
    Unreachable(String),
    /// The responder spoke, but not the HTTP an OCSP exchange needs.
    #[error("{0}")]
    Protocol(String),
}

/// The responder's URL, if it is one OCSP can use: `http://host[:port][/path]`.
pub(crate) fn responder_url(url: &str) -> Result<reqwest::Url, String> {
    let parsed = reqwest::Url::parse(url).map_err(|e| format!("{url:?} is not a URL: {e}"))?;
    if parsed.scheme() != "http" {
        return Err(format!("{url:?} is not an http:// URL"));
    }
    if parsed.host_str().is_none_or(str::is_empty) {
        return Err(format!("{url:?} has no host"));
    }
    Ok(parsed)
}

/// One client for every check: plain HTTP, never through a proxy from the environment (the
/// responder is a lab address or the one the certificate names).
fn client() -> Result<&'static reqwest::Client, HttpError> {
    static CLIENT: OnceLock<reqwest::Client> = OnceLock::new();
    if let Some(client) = CLIENT.get() {
        return Ok(client);
    }
    let client = crate::http::plain_client(CLIENT_TIMEOUT).map_err(HttpError::Unreachable)?;
    Ok(CLIENT.get_or_init(|| client))
}

/// POSTs an OCSP request and returns the response body.
pub(crate) async fn post(url: &reqwest::Url, body: Vec<u8>) -> Result<Vec<u8>, HttpError> {
    let mut response = client()?
        .post(url.clone())
        .header(CONTENT_TYPE, OCSP_REQUEST)
        .header(ACCEPT, OCSP_RESPONSE)
        .body(body)
        .send()
        .await
        .map_err(|e| HttpError::Unreachable(crate::http::error_chain(&e.without_url())))?;
    let status = response.status();
    if status != StatusCode::OK {
        return Err(HttpError::Protocol(format!(
            "HTTP status {}",
            status.as_u16()
        )));
    }
    if let Some(len) = response.content_length().filter(|&n| n > MAX_BODY as u64) {
        return Err(HttpError::Protocol(format!(
            "body of {len} bytes is too large"
        )));
    }
    let mut out = Vec::new();
    while let Some(chunk) = response
        .chunk()
        .await
        .map_err(|e| HttpError::Protocol(crate::http::error_chain(&e.without_url())))?
    {
        if out.len() + chunk.len() > MAX_BODY {
            return Err(HttpError::Protocol("response body too large".into()));
        }
        out.extend_from_slice(&chunk);
    }
    Ok(out)
}

/// Serves one connection: each POST body (at most [`MAX_BODY`]) goes to `answer`, whose DER
/// goes back as `application/ocsp-response`; other methods get 405, oversized bodies 413.
pub(crate) async fn serve_connection<A, F>(stream: TcpStream, answer: A) -> Result<(), String>
where
    A: Fn(Bytes) -> F + Clone + Send + 'static,
    F: Future<Output = Vec<u8>> + Send,
{
    let service = hyper::service::service_fn(move |request: Request<Incoming>| {
        let answer = answer.clone();
        async move { Ok::<_, Infallible>(respond(request, answer).await) }
    });
    hyper::server::conn::http1::Builder::new()
        .keep_alive(false)
        .serve_connection(TokioIo::new(stream), service)
        .await
        .map_err(|e| crate::http::error_chain(&e))
}

async fn respond<A, F>(request: Request<Incoming>, answer: A) -> Response<Full<Bytes>>
where
    A: Fn(Bytes) -> F,
    F: Future<Output = Vec<u8>>,
{
    if request.method() != Method::POST {
        return reply(StatusCode::METHOD_NOT_ALLOWED, "text/plain", "POST only\n");
    }
    match Limited::new(request.into_body(), MAX_BODY).collect().await {
        Ok(body) => reply(StatusCode::OK, OCSP_RESPONSE, answer(body.to_bytes()).await),
        Err(_) => reply(
            StatusCode::PAYLOAD_TOO_LARGE,
            "text/plain",
            "an OCSP request is a few kilobytes\n",
        ),
    }
}

fn reply(status: StatusCode, content_type: &str, body: impl Into<Bytes>) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(body.into()));
    *response.status_mut() = status;
    let headers = response.headers_mut();
    if let Ok(value) = content_type.parse() {
        headers.insert(CONTENT_TYPE, value);
    }
    headers.insert(
        CACHE_CONTROL,
        hyper::header::HeaderValue::from_static("no-store"),
    );
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn takes_plain_http_responder_urls_only() {
        let url = responder_url("http://127.0.0.9:4000/ocsp").expect("url");
        assert_eq!(
            (url.host_str(), url.port_or_known_default(), url.path()),
            (Some("127.0.0.9"), Some(4000), "/ocsp")
        );
        let url = responder_url("http://ocsp.a.test").expect("url");
        assert_eq!((url.port_or_known_default(), url.path()), (Some(80), "/"));
        assert!(responder_url("https://x/").is_err());
        assert!(responder_url("http://x:port/").is_err());
    }

    #[tokio::test]
    async fn a_post_is_answered_and_other_methods_are_refused() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("addr");
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let answer = |body: Bytes| async move { [b"re:".as_slice(), &body].concat() };
                tokio::spawn(serve_connection(stream, answer));
            }
        });
        let url = responder_url(&format!("http://{addr}/")).expect("url");
        assert_eq!(
            post(&url, b"abc".to_vec()).await.expect("answer"),
            b"re:abc"
        );
        let refused = client()
            .expect("client")
            .get(url.clone())
            .send()
            .await
            .expect("answer");
        assert_eq!(refused.status(), StatusCode::METHOD_NOT_ALLOWED);
        let error = post(&url, vec![0; MAX_BODY + 1])
            .await
            .expect_err("too large");
        assert!(error.to_string().contains("413"), "{error}");
    }
}
