//! Bounds on what a server may send: element depth and stanza size. tokio-xmpp's parser has no
//! such options (rxml caps names and attribute values, not text, attribute count or depth), and
//! parsing or dropping a deep tree recurses, so a hostile server could overflow the stack or
//! grow us without bound. [`XmlLimits`] sits between TLS and tokio-xmpp's buffer and watches the
//! bytes with a small lenient scanner before the parser sees them.
//!
//! When a limit is crossed in the middle of a chunk, the bytes before the offending top-level
//! construct (earlier complete stanzas) are still delivered; the read after them fails. If the
//! construct started in an earlier chunk, the read fails at once. The failure is sticky.

use std::io;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll, ready};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

/// How much structure a server may send.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Element nesting below the stream root; a stanza is depth 1.
    pub max_depth: u32,
    /// Bytes of one top-level element (a stanza, features, the stream header), markup included.
    pub max_stanza_bytes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_depth: 256,
            max_stanza_bytes: 1 << 20,
        }
    }
}

/// Why reading stopped; carried inside an `io::Error` of kind `InvalidData`.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub(crate) struct LimitExceeded(String);

impl LimitExceeded {
    fn depth(max: u32) -> Self {
        Self(format!("the server sent elements nested deeper than {max}"))
    }

    fn size(max: usize) -> Self {
        Self(format!(
            "the server sent a stanza larger than {}",
            human_size(max)
        ))
    }

    fn to_io(&self) -> io::Error {
        io::Error::new(io::ErrorKind::InvalidData, self.clone())
    }
}

/// The limit inside `e`, if `e` came from [`XmlLimits`].
pub(crate) fn limit_exceeded(e: &io::Error) -> Option<&LimitExceeded> {
    e.get_ref()
        .and_then(|inner| inner.downcast_ref::<LimitExceeded>())
}

fn human_size(bytes: usize) -> String {
    match bytes {
        b if b >= 1 << 20 && b % (1 << 20) == 0 => format!("{} MiB", b >> 20),
        b if b >= 1 << 10 && b % (1 << 10) == 0 => format!("{} KiB", b >> 10),
        b => format!("{b} bytes"),
    }
}

const CDATA_OPEN: &[u8] = b"[CDATA[";

/// Where the scanner is in the XML syntax.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    Text,
    /// Just after `<`.
    Open,
    /// Name and attributes of a start tag; `slash`: the last byte was `/`.
    Tag {
        slash: bool,
    },
    /// A quoted attribute value, where `>` means nothing.
    Quoted(u8),
    EndTag,
    /// `<?…?>`; `question`: the last byte was `?`.
    Pi {
        question: bool,
    },
    /// After `<!`.
    Bang,
    /// After `<!-`.
    BangDash,
    /// After `<!` and this many bytes of `[CDATA[`.
    BangCdata(usize),
    /// `<!--…-->`, with the count of trailing `-`.
    Comment(u8),
    /// `<![CDATA[…]]>`, with the count of trailing `]`.
    Cdata(u8),
    /// Any other `<!…>`.
    Decl,
}

/// Tracks depth and the size of the current top-level construct, byte by byte.
#[derive(Debug)]
struct Scanner {
    limits: Limits,
    state: State,
    /// 1 inside the stream root.
    depth: u32,
    /// Bytes of the current top-level construct; `None` between them.
    stanza: Option<usize>,
}

impl Scanner {
    fn new(limits: Limits) -> Self {
        Self {
            limits,
            state: State::Text,
            depth: 0,
            stanza: None,
        }
    }

    /// A new stream follows: its header will be depth 1 again.
    fn restart(&mut self) {
        self.state = State::Text;
        self.depth = 0;
        self.stanza = None;
    }

    /// On a limit, the error and the offset in `bytes` where the offending top-level
    /// construct starts (0 if it started in an earlier chunk).
    fn scan(&mut self, bytes: &[u8]) -> Result<(), (usize, LimitExceeded)> {
        let mut start = 0;
        for (i, &b) in bytes.iter().enumerate() {
            // Between constructs we are in text at depth 0 or 1; whitespace there is free.
            if self.stanza.is_none() && b == b'<' {
                self.stanza = Some(0);
                start = i;
            }
            if let Some(n) = &mut self.stanza {
                *n += 1;
                if *n > self.limits.max_stanza_bytes {
                    return Err((start, LimitExceeded::size(self.limits.max_stanza_bytes)));
                }
            }
            self.state = self.next(b).map_err(|e| (start, e))?;
            if self.state == State::Text && self.depth <= 1 {
                self.stanza = None;
            }
        }
        Ok(())
    }

    fn next(&mut self, b: u8) -> Result<State, LimitExceeded> {
        use State::*;
        Ok(match self.state {
            Text if b == b'<' => Open,
            Text => Text,
            Open => match b {
                b'/' => EndTag,
                b'?' => Pi { question: false },
                b'!' => Bang,
                _ => self.tag(b, false)?,
            },
            Tag { slash } => self.tag(b, slash)?,
            Quoted(q) if b == q => Tag { slash: false },
            Quoted(q) => Quoted(q),
            EndTag if b == b'>' => {
                self.depth = self.depth.saturating_sub(1);
                Text
            }
            EndTag => EndTag,
            Pi { question: true } if b == b'>' => Text,
            Pi { .. } => Pi {
                question: b == b'?',
            },
            Bang => match b {
                b'-' => BangDash,
                b'[' => BangCdata(1),
                b'>' => Text,
                _ => Decl,
            },
            BangDash => match b {
                b'-' => Comment(0),
                b'>' => Text,
                _ => Decl,
            },
            BangCdata(n) if CDATA_OPEN.get(n) == Some(&b) => {
                if n + 1 == CDATA_OPEN.len() {
                    Cdata(0)
                } else {
                    BangCdata(n + 1)
                }
            }
            BangCdata(_) if b == b'>' => Text,
            BangCdata(_) => Decl,
            Comment(dashes) => match b {
                b'-' => Comment(dashes.saturating_add(1).min(2)),
                b'>' if dashes >= 2 => Text,
                _ => Comment(0),
            },
            Cdata(brackets) => match b {
                b']' => Cdata(brackets.saturating_add(1).min(2)),
                b'>' if brackets >= 2 => Text,
                _ => Cdata(0),
            },
            Decl if b == b'>' => Text,
            Decl => Decl,
        })
    }

    /// One byte of a start tag (outside quotes).
    fn tag(&mut self, b: u8, slash: bool) -> Result<State, LimitExceeded> {
        Ok(match b {
            b'\'' | b'"' => State::Quoted(b),
            // `<x/>`: no depth change.
            b'>' if slash => State::Text,
            b'>' => {
                self.depth = self.depth.saturating_add(1);
                // The stream root itself is depth 1.
                if self.depth - 1 > self.limits.max_depth {
                    return Err(LimitExceeded::depth(self.limits.max_depth));
                }
                State::Text
            }
            _ => State::Tag { slash: b == b'/' },
        })
    }
}

/// A transport whose reads fail once the server exceeds [`Limits`]; writes pass through.
#[derive(Debug)]
pub(crate) struct XmlLimits<S> {
    inner: S,
    scanner: Scanner,
    failed: Option<LimitExceeded>,
    restart: AtomicBool,
}

impl<S> XmlLimits<S> {
    pub(crate) fn new(inner: S, limits: Limits) -> Self {
        Self {
            inner,
            scanner: Scanner::new(limits),
            failed: None,
            restart: AtomicBool::new(false),
        }
    }

    /// The next read starts a new stream (the restart after SASL). Not detected from the
    /// bytes: a server could otherwise nest stream headers forever. Bytes a server sent ahead
    /// of our new header were scanned at the old depth; at worst the real depth then reaches
    /// twice the limit, once per connect.
    pub(crate) fn expect_restart(&self) {
        self.restart.store(true, Ordering::Release);
    }

    pub(crate) fn into_inner(self) -> S {
        self.inner
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for XmlLimits<S> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        if let Some(e) = &this.failed {
            return Poll::Ready(Err(e.to_io()));
        }
        if this.restart.swap(false, Ordering::Acquire) {
            this.scanner.restart();
        }
        let before = buf.filled().len();
        ready!(Pin::new(&mut this.inner).poll_read(cx, buf))?;
        let Err((start, e)) = this.scanner.scan(&buf.filled()[before..]) else {
            return Poll::Ready(Ok(()));
        };
        // Complete stanzas before the offending one still reach the parser; an error must
        // leave the buffer as it was (AsyncRead's contract).
        buf.set_filled(before + start);
        let result = if start > 0 { Ok(()) } else { Err(e.to_io()) };
        this.failed = Some(e);
        Poll::Ready(result)
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for XmlLimits<S> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().inner).poll_write(cx, buf)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    const HEADER: &str = "<?xml version='1.0'?><stream:stream xmlns='jabber:client' \
        xmlns:stream='http://etherx.jabber.org/streams' version='1.0'>";

    fn limits(max_depth: u32, max_stanza_bytes: usize) -> Limits {
        Limits {
            max_depth,
            max_stanza_bytes,
        }
    }

    /// A stanza `depth` elements deep (the stanza itself counts), closed.
    fn nested(depth: usize) -> String {
        let mut xml = String::from("<message>");
        xml.push_str(&"<a>".repeat(depth - 1));
        xml.push_str(&"</a>".repeat(depth - 1));
        xml.push_str("</message>");
        xml
    }

    fn scan(limits: Limits, xml: &str) -> Result<Scanner, LimitExceeded> {
        let mut scanner = Scanner::new(limits);
        scanner.scan(xml.as_bytes()).map_err(|(_, e)| e)?;
        Ok(scanner)
    }

    /// Everything readable through the wrapper, or the first error.
    async fn read_all(limits: Limits, xml: &str) -> io::Result<Vec<u8>> {
        let mut reader = XmlLimits::new(xml.as_bytes(), limits);
        let mut out = Vec::new();
        reader.read_to_end(&mut out).await?;
        Ok(out)
    }

    #[test]
    fn depth_exceeded() {
        let xml = format!("{HEADER}{}", nested(300));
        let err = scan(Limits::default(), &xml).err();
        assert_eq!(err, Some(LimitExceeded::depth(256)));
        assert_eq!(
            LimitExceeded::depth(256).to_string(),
            "the server sent elements nested deeper than 256"
        );
    }

    #[test]
    fn depth_at_the_limit_is_fine() {
        let scanner = scan(Limits::default(), &format!("{HEADER}{}", nested(256)));
        assert_eq!(scanner.map(|s| s.depth), Ok(1));
        assert!(scan(Limits::default(), &format!("{HEADER}{}", nested(257))).is_err());
    }

    #[tokio::test]
    async fn a_2_mib_text_stanza_fails() {
        let xml = format!(
            "{HEADER}<message><body>{}</body></message>",
            "x".repeat(2 << 20)
        );
        let err = read_all(Limits::default(), &xml).await.err();
        let err = err
            .as_ref()
            .and_then(limit_exceeded)
            .map(ToString::to_string);
        assert_eq!(
            err.as_deref(),
            Some("the server sent a stanza larger than 1 MiB")
        );
    }

    #[tokio::test]
    async fn many_small_stanzas_are_fine() {
        let stanza = format!("<message><body>{}</body></message>\n ", "y".repeat(100));
        let xml = format!("{HEADER}{}</stream:stream>", stanza.repeat(20_000));
        assert!(xml.len() > 2 << 20);
        let read = read_all(Limits::default(), &xml).await;
        assert_eq!(read.map(|r| r.len()).ok(), Some(xml.len()));
    }

    #[test]
    fn endless_attributes_fail() {
        let attrs: String = (0..200).map(|n| format!(" a{n}='v'")).collect();
        let err = scan(limits(8, 1024), &format!("{HEADER}<message{attrs}")).err();
        assert_eq!(err, Some(LimitExceeded::size(1024)));
        assert_eq!(
            LimitExceeded::size(1024).to_string(),
            "the server sent a stanza larger than 1 KiB"
        );
    }

    #[test]
    fn the_stream_header_counts_too() {
        let header = format!("<stream:stream {}>", "x='y' ".repeat(400));
        assert!(scan(limits(8, 1024), &header).is_err());
    }

    #[test]
    fn quoted_gt_and_slash_do_not_confuse_depth() {
        let xml = format!(
            "{HEADER}<message a='>' b=\"/>\" c='/'><body x=\"a>b\"/><x y='<'>t</x></message>"
        );
        let scanner = scan(limits(2, 1 << 20), &xml);
        assert_eq!(scanner.map(|s| s.depth), Ok(1));
    }

    #[test]
    fn comments_cdata_and_pis_are_not_elements() {
        let xml = format!(
            "{HEADER}<message><![CDATA[<a>]<a>]]<a>]]><!-- <a> -- -> --><?pi <a>?><!x <a></message>"
        );
        let scanner = scan(limits(1, 1 << 20), &xml);
        assert_eq!(scanner.map(|s| (s.depth, s.stanza)), Ok((1, None)));
    }

    #[test]
    fn chunk_boundaries_anywhere() {
        let xml = format!(
            "{HEADER}<message a='x>'><![CDATA[<a>]]><!-- <a> --><b/></message>{}",
            nested(3)
        );
        let mut scanner = Scanner::new(limits(3, 1 << 20));
        for b in xml.as_bytes() {
            assert!(scanner.scan(std::slice::from_ref(b)).is_ok());
        }
        assert_eq!((scanner.depth, scanner.stanza), (1, None));
        let mut scanner = Scanner::new(limits(2, 1 << 20));
        let fails = xml
            .as_bytes()
            .chunks(7)
            .any(|chunk| scanner.scan(chunk).is_err());
        assert!(fails);
    }

    #[tokio::test]
    async fn earlier_stanzas_are_delivered_then_the_error_sticks() {
        let good = format!("{HEADER}<message><body>ok</body></message> ");
        let xml = format!("{good}{}", nested(5));
        let mut reader = XmlLimits::new(xml.as_bytes(), limits(3, 1 << 20));
        let mut buf = vec![0u8; 64 << 10];
        let n = reader.read(&mut buf).await.ok();
        assert_eq!(n, Some(good.len()));
        for _ in 0..2 {
            let err = reader.read(&mut buf).await.err();
            assert!(err.as_ref().and_then(limit_exceeded).is_some(), "{err:?}");
        }
    }

    #[tokio::test]
    async fn restart_resets_depth() {
        let (mut server, client) = tokio::io::duplex(64 << 10);
        let mut reader = XmlLimits::new(client, limits(2, 1 << 20));
        let mut buf = vec![0u8; 64 << 10];
        // A stream, then SASL success, then the restarted stream with a stanza at the limit.
        server
            .write_all(format!("{HEADER}<success/>").as_bytes())
            .await
            .ok();
        assert!(reader.read(&mut buf).await.is_ok());
        reader.expect_restart();
        let restarted = format!("{HEADER}{}", nested(2));
        server.write_all(restarted.as_bytes()).await.ok();
        assert_eq!(reader.read(&mut buf).await.ok(), Some(restarted.len()));

        // Without the restart the second header nests one level deeper and fails.
        let (mut server, client) = tokio::io::duplex(64 << 10);
        let mut reader = XmlLimits::new(client, limits(2, 1 << 20));
        server
            .write_all(format!("{HEADER}<success/>{restarted}").as_bytes())
            .await
            .ok();
        let err = reader.read(&mut buf).await.map(|_| ());
        let err = match err {
            // The bytes before the second header were delivered; the next read fails.
            Ok(()) => reader.read(&mut buf).await.err(),
            Err(e) => Some(e),
        };
        assert!(err.as_ref().and_then(limit_exceeded).is_some(), "{err:?}");
    }
}
