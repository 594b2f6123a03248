//! Just enough HTTP/1.1 for OCSP (RFC 6960 appendix A): one POST of `application/ocsp-request`
//! per connection, answered with `application/ocsp-response`, then closed. Callers put every
//! call under their own deadline; nothing here waits unbounded on its own.

use std::io;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;

/// OCSP messages are a few kilobytes; anything larger is not an OCSP exchange.
pub(crate) const MAX_BODY: usize = 256 * 1024;
const MAX_HEAD: usize = 16 * 1024;

/// An exchange that did not produce an OCSP body.
#[derive(Debug, thiserror::Error)]
pub(crate) enum HttpError {
    /// Nothing usable came back: connect, write or read failed.
    #[error("{0}")]
    Io(#[from] io::Error),
    /// The peer spoke, but not the HTTP an OCSP exchange needs.
    #[error("{0}")]
    Protocol(String),
}

fn protocol(what: impl Into<String>) -> HttpError {
    HttpError::Protocol(what.into())
}

/// An `http://host[:port][/path]` URL (OCSP responders are plain HTTP: responses are signed).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct HttpUrl {
    pub(crate) authority: String,
    pub(crate) host: String,
    pub(crate) port: u16,
    pub(crate) path: String,
}

impl HttpUrl {
    pub(crate) fn parse(url: &str) -> Result<HttpUrl, String> {
        let rest = url
            .strip_prefix("http://")
            .ok_or_else(|| format!("{url:?} is not an http:// URL"))?;
        let (authority, path) = match rest.find('/') {
            Some(i) => rest.split_at(i),
            None => (rest, "/"),
        };
        let (host, port) = match authority.strip_prefix('[') {
            Some(v6) => {
                let (host, after) = v6
                    .split_once(']')
                    .ok_or_else(|| format!("{url:?} has an unclosed IPv6 address"))?;
                (host, after.strip_prefix(':'))
            }
            None => match authority.rsplit_once(':') {
                Some((host, port)) => (host, Some(port)),
                None => (authority, None),
            },
        };
        let port = port
            .map(|p| p.parse::<u16>())
            .transpose()
            .map_err(|_| format!("{url:?} has an invalid port"))?
            .unwrap_or(80);
        if host.is_empty() {
            return Err(format!("{url:?} has no host"));
        }
        Ok(HttpUrl {
            authority: authority.to_owned(),
            host: host.to_owned(),
            port,
            path: path.to_owned(),
        })
    }
}

/// POSTs an OCSP request and returns the response body.
pub(crate) async fn post(url: &HttpUrl, body: &[u8]) -> Result<Vec<u8>, HttpError> {
    let mut tcp = TcpStream::connect((url.host.as_str(), url.port)).await?;
    let head = format!(
        "POST {} HTTP/1.1\r\nHost: {}\r\nContent-Type: application/ocsp-request\r\n\
         Accept: application/ocsp-response\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        url.path,
        url.authority,
        body.len()
    );
    tcp.write_all(head.as_bytes()).await?;
    tcp.write_all(body).await?;
    tcp.flush().await?;
    let (head, mut rest) = read_head(&mut tcp).await?;
    let status = head
        .lines()
        .next()
        .and_then(|line| line.split_whitespace().nth(1))
        .ok_or_else(|| protocol("no HTTP status line"))?;
    if status != "200" {
        return Err(protocol(format!("HTTP status {status}")));
    }
    if let Some(len) = content_length(&head)? {
        read_exact_body(&mut tcp, &mut rest, len).await?;
        return Ok(rest);
    }
    // No length: the body runs to the end of the connection (we asked for `close`).
    read_to_end_bounded(&mut tcp, &mut rest).await?;
    if header(&head, "transfer-encoding").is_some_and(|v| v.eq_ignore_ascii_case("chunked")) {
        return dechunk(&rest);
    }
    Ok(rest)
}

/// A request as the responder sees it (any path: a responder has one job).
#[derive(Clone, Debug)]
pub(crate) struct HttpRequest {
    pub(crate) method: String,
    pub(crate) body: Vec<u8>,
}

pub(crate) async fn read_request<S: AsyncRead + Unpin>(
    stream: &mut S,
) -> Result<HttpRequest, HttpError> {
    let (head, mut body) = read_head(stream).await?;
    let mut line = head.lines().next().unwrap_or_default().split_whitespace();
    let (Some(method), Some(_path)) = (line.next(), line.next()) else {
        return Err(protocol("no HTTP request line"));
    };
    let len = content_length(&head)?.unwrap_or(0);
    read_exact_body(stream, &mut body, len).await?;
    Ok(HttpRequest {
        method: method.to_owned(),
        body,
    })
}

pub(crate) async fn write_response<S: AsyncWrite + Unpin>(
    stream: &mut S,
    status: &str,
    content_type: &str,
    body: &[u8],
) -> io::Result<()> {
    let head = format!(
        "HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\n\
         Cache-Control: no-store\r\nConnection: close\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes()).await?;
    stream.write_all(body).await?;
    stream.flush().await
}

/// Reads up to the blank line; returns the head as text and any body bytes read past it.
async fn read_head<S: AsyncRead + Unpin>(stream: &mut S) -> Result<(String, Vec<u8>), HttpError> {
    let mut buf = Vec::with_capacity(1024);
    let mut chunk = [0u8; 4096];
    loop {
        if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            let rest = buf.split_off(end + 4);
            let head = String::from_utf8(buf).map_err(|_| protocol("HTTP head is not UTF-8"))?;
            return Ok((head, rest));
        }
        if buf.len() > MAX_HEAD {
            return Err(protocol("HTTP head too long"));
        }
        let n = stream.read(&mut chunk).await?;
        if n == 0 {
            return Err(protocol(
                "connection closed before the end of the HTTP head",
            ));
        }
        buf.extend_from_slice(&chunk[..n]);
    }
}

fn header<'h>(head: &'h str, name: &str) -> Option<&'h str> {
    head.lines().skip(1).find_map(|line| {
        let (n, v) = line.split_once(':')?;
        n.trim().eq_ignore_ascii_case(name).then(|| v.trim())
    })
}

fn content_length(head: &str) -> Result<Option<usize>, HttpError> {
    let Some(value) = header(head, "content-length") else {
        return Ok(None);
    };
    let len: usize = value
        .parse()
        .map_err(|_| protocol(format!("bad Content-Length {value:?}")))?;
    if len > MAX_BODY {
        return Err(protocol(format!("body of {len} bytes is too large")));
    }
    Ok(Some(len))
}

async fn read_exact_body<S: AsyncRead + Unpin>(
    stream: &mut S,
    body: &mut Vec<u8>,
    len: usize,
) -> Result<(), HttpError> {
    if body.len() > len {
        body.truncate(len);
    }
    let start = body.len();
    body.resize(len, 0);
    stream.read_exact(&mut body[start..]).await?;
    Ok(())
}

async fn read_to_end_bounded<S: AsyncRead + Unpin>(
    stream: &mut S,
    body: &mut Vec<u8>,
) -> Result<(), HttpError> {
    let limit = u64::try_from(MAX_BODY + 1).unwrap_or(u64::MAX);
    stream.take(limit).read_to_end(body).await?;
    if body.len() > MAX_BODY {
        return Err(protocol("response body too large"));
    }
    Ok(())
}

/// Decodes a complete `Transfer-Encoding: chunked` body.
fn dechunk(mut data: &[u8]) -> Result<Vec<u8>, HttpError> {
    let bad = || protocol("malformed chunked body");
    let mut out = Vec::new();
    loop {
        let line_end = data.windows(2).position(|w| w == b"\r\n").ok_or_else(bad)?;
        let size = std::str::from_utf8(&data[..line_end]).map_err(|_| bad())?;
        let size = size.split(';').next().unwrap_or_default().trim();
        let size = usize::from_str_radix(size, 16).map_err(|_| bad())?;
        data = &data[line_end + 2..];
        if size == 0 {
            return Ok(out);
        }
        if data.len() < size + 2 || out.len() + size > MAX_BODY {
            return Err(bad());
        }
        out.extend_from_slice(&data[..size]);
        data = &data[size + 2..];
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_responder_urls() {
        let url = HttpUrl::parse("http://127.0.0.9:4000/ocsp").expect("url");
        assert_eq!(
            (url.host.as_str(), url.port, url.path.as_str()),
            ("127.0.0.9", 4000, "/ocsp")
        );
        let url = HttpUrl::parse("http://ocsp.a.test").expect("url");
        assert_eq!((url.port, url.path.as_str()), (80, "/"));
        let url = HttpUrl::parse("http://[::1]:81/").expect("url");
        assert_eq!((url.host.as_str(), url.port), ("::1", 81));
        assert!(HttpUrl::parse("https://x/").is_err());
        assert!(HttpUrl::parse("http://x:port/").is_err());
    }

    #[test]
    fn decodes_chunked_bodies() {
        assert_eq!(
            dechunk(b"3\r\nabc\r\n2;x=y\r\nde\r\n0\r\n\r\n").expect("ok"),
            b"abcde"
        );
        assert!(dechunk(b"9\r\nabc\r\n").is_err());
    }

    #[tokio::test]
    async fn request_and_response_round_trip_over_a_pipe() {
        let (mut client, mut server) = tokio::io::duplex(4096);
        client
            .write_all(b"POST / HTTP/1.0\r\nContent-Length: 3\r\n\r\nabc")
            .await
            .expect("write");
        let request = read_request(&mut server).await.expect("request");
        assert_eq!(
            (request.method.as_str(), request.body.as_slice()),
            ("POST", &b"abc"[..])
        );
        write_response(&mut server, "200 OK", "application/ocsp-response", b"xyz")
            .await
            .expect("write");
        drop(server);
        let (head, rest) = read_head(&mut client).await.expect("head");
        assert_eq!(content_length(&head).expect("length"), Some(3));
        assert_eq!(rest, b"xyz");
    }
}
