//! One direction of a proxied connection: a reader that takes bytes off the source socket as they
//! come (so lag pipelines, as on a wire) and a writer that releases them to the destination when
//! the link is up, the lag has passed and the bandwidth allows.

use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::sync::{mpsc, watch};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use super::bucket::PIECE;
use super::splice::{Fast, Splicer};
use super::state::{Active, FlowState, LinkState};
use crate::fault::model::{CutMode, TcpTimeouts};
use crate::fault::rng::Rng;
use crate::sync::lock;

/// Bytes read at once from a socket.
const CHUNK: usize = 64 * 1024;
/// Chunks in flight per direction: with the kernel's buffers, what a link holds before the
/// sender has to wait.
const IN_FLIGHT: usize = 32;
/// Chunks the reader gets ahead of the writer while the link is up and the flow unimpaired; the
/// rest of the source's bytes wait in the kernel's buffers, as on a direct connection. Reading
/// all `IN_FLIGHT` chunks (2 MiB) ahead made a bulk transfer cost about 1.6 times the CPU per byte
/// of a plain copy proxy (runtime/examples/proxy_bench.rs, docs/benchmarks-faults.md): a chunk was
/// written long after it was read, from memory gone cold, and each was a fresh allocation. Two
/// ahead cost 1.1-1.2 times. Under a fault the whole `IN_FLIGHT` is in use again.
const AHEAD_UNIMPAIRED: usize = 2;
/// Linux's minimum retransmission timeout: the delay a lost segment costs a TCP stream.
const RETRANSMIT: Duration = Duration::from_millis(200);

/// How a direction ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum End {
    /// The source closed (FIN), passed on to the destination.
    Eof,
    /// Reset: a peer reset, a `reject` cut, or a cut that outlived TCP's patience.
    Reset,
    /// A `close` cut: FIN sent to the destination.
    Closed,
    /// The proxy is shutting down, or the other direction reset the connection.
    Cancelled,
}

/// What a direction obeys.
#[derive(Clone, Debug)]
pub(crate) struct Rules {
    pub(crate) link: Arc<LinkState>,
    pub(crate) flow: Arc<FlowState>,
    pub(crate) timeouts: TcpTimeouts,
    /// Varies the random choices of connections on the same flow.
    pub(crate) salt: u64,
}

enum Item {
    Data(Vec<u8>, Instant),
    Eof,
    Reset,
    /// Nothing is in force any more and every byte before this one is delivered: the fast path
    /// goes on.
    Handback,
}

/// Moves bytes from `src` to `dst` under `rules` until one side ends. On a reset both sockets
/// are set to reset when dropped and `conn` is cancelled, which ends the other direction too.
/// With nothing in force the bytes take the splice fast path (splice.rs); under a fault they go
/// through the chunk pump below, which applies the rules chunk by chunk.
pub(crate) async fn pump(
    mut src: OwnedReadHalf,
    dst: OwnedWriteHalf,
    rules: Rules,
    conn: CancellationToken,
) -> End {
    let mut writer = Writer {
        dst,
        rules,
        conn: conn.clone(),
        last_due: Instant::now(),
        rng: None,
    };
    // Without a pipe (out of file descriptors), the chunk pump does it all.
    let mut fast = Splicer::new().ok();
    let end = loop {
        let mut first = None;
        if let Some(splicer) = fast.as_mut() {
            match splicer.run(&src, &writer.dst, &writer.rules, &conn).await {
                Fast::Fault(bytes) => first = Some(bytes).filter(|bytes| !bytes.is_empty()),
                Fast::Eof => break writer.eof().await,
                Fast::End(end) => break end,
            }
        }
        if let Some(end) = chunks(&mut src, &mut writer, first, fast.is_some()).await {
            break end;
        }
    };
    match end {
        End::Reset => {
            let _ = src.as_ref().set_zero_linger();
            let _ = writer.dst.as_ref().set_zero_linger();
            conn.cancel();
            // Dropping a write half sends a FIN; a reset must not.
            writer.dst.forget();
        }
        End::Cancelled => writer.dst.forget(),
        End::Closed => {
            let _ = writer.dst.shutdown().await;
        }
        End::Eof => {}
    }
    end
}

/// The chunk pump: runs until the direction ends, or (with `handback`) until nothing is in force
/// and all it read is delivered (`None`). `first`: bytes the fast path held when a fault began.
async fn chunks(
    src: &mut OwnedReadHalf,
    writer: &mut Writer,
    first: Option<Vec<u8>>,
    handback: bool,
) -> Option<End> {
    let (tx, rx) = mpsc::channel(IN_FLIGHT);
    if let Some(bytes) = first {
        let _ = tx.try_send(Item::Data(bytes, Instant::now()));
    }
    // Ends the reader once the writer is done, even if the source stays silent.
    let stop = writer.conn.child_token();
    let (link, flow) = (writer.rules.link.clone(), writer.rules.flow.clone());
    let reader = async {
        let mut buffer = vec![0u8; CHUNK];
        // The queue's slots the reader keeps to itself while nothing is impaired.
        let mut held = None;
        let (mut cut, mut active) = (link.cut.subscribe(), flow.active.subscribe());
        loop {
            let impaired = flow.active.borrow().is_some() || link.cut.borrow().is_some();
            if handback && !impaired {
                let _ = tx.send(Item::Handback).await;
                return;
            }
            if impaired {
                held = None;
            } else if held.is_none() {
                held = tokio::select! {
                    _ = stop.cancelled() => return,
                    permits = tx.reserve_many(IN_FLIGHT - AHEAD_UNIMPAIRED) => match permits {
                        Ok(permits) => Some(permits),
                        Err(_) => return,
                    },
                };
            }
            let item = tokio::select! {
                _ = stop.cancelled() => return,
                // An idle source does not keep the fast path waiting (a read is cancel safe).
                _ = healed(&mut cut, &mut active), if handback => continue,
                read = src.read(&mut buffer) => match read {
                    Ok(0) => Item::Eof,
                    Ok(n) => Item::Data(buffer[..n].to_vec(), Instant::now()),
                    Err(_) => Item::Reset,
                },
            };
            let last = !matches!(item, Item::Data(..));
            if tx.send(item).await.is_err() || last {
                return;
            }
        }
    };
    let write = async {
        let end = writer.run(rx).await;
        stop.cancel();
        end
    };
    let (_, end) = tokio::join!(reader, write);
    end
}

/// Returns once neither a cut nor an impairment is in force.
async fn healed(
    cut: &mut watch::Receiver<Option<CutMode>>,
    active: &mut watch::Receiver<Option<Arc<Active>>>,
) {
    loop {
        if cut.borrow_and_update().is_none() && active.borrow_and_update().is_none() {
            return;
        }
        tokio::select! {
            Ok(()) = cut.changed() => {}
            Ok(()) = active.changed() => {}
            else => std::future::pending().await,
        }
    }
}

struct Writer {
    dst: OwnedWriteHalf,
    rules: Rules,
    conn: CancellationToken,
    /// Bytes never overtake earlier bytes, whatever the jitter.
    last_due: Instant,
    rng: Option<(u64, Rng)>,
}

impl Writer {
    /// Delivers what the reader queues; `None` on a handback.
    async fn run(&mut self, mut rx: mpsc::Receiver<Item>) -> Option<End> {
        let mut cut = self.rules.link.cut.subscribe();
        // The fast path may hand over to a reject or close already in force.
        if let Some(end) = self.hard_cut(&cut) {
            return Some(end);
        }
        loop {
            let item = tokio::select! {
                _ = self.conn.cancelled() => return Some(End::Cancelled),
                item = rx.recv() => item,
                // A reject or close acts on idle connections at once.
                Ok(()) = cut.changed() => {
                    match self.hard_cut(&cut) {
                        Some(end) => return Some(end),
                        None => continue,
                    }
                }
            };
            match item {
                None => return Some(End::Cancelled),
                Some(Item::Reset) => return Some(End::Reset),
                Some(Item::Eof) => return Some(self.eof().await),
                Some(Item::Handback) => return None,
                Some(Item::Data(bytes, at)) => {
                    if let Err(end) = self.deliver(&bytes, at, &mut cut).await {
                        return Some(end);
                    }
                }
            }
        }
    }

    /// Passes the source's FIN on once the link is up.
    async fn eof(&mut self) -> End {
        let mut cut = self.rules.link.cut.subscribe();
        if let Err(end) = self.wait_up(&mut cut).await {
            return end;
        }
        let _ = self.dst.shutdown().await;
        End::Eof
    }

    /// The end a reject or close cut means for this connection now, if one is in force.
    fn hard_cut(&mut self, cut: &watch::Receiver<Option<CutMode>>) -> Option<End> {
        match *cut.borrow() {
            Some(CutMode::Reject) => Some(End::Reset),
            Some(CutMode::Close) => Some(End::Closed),
            _ => None,
        }
    }

    async fn deliver(
        &mut self,
        bytes: &[u8],
        at: Instant,
        cut: &mut watch::Receiver<Option<CutMode>>,
    ) -> Result<(), End> {
        // When the impairment changes while the bytes wait (a `restore` ends a throttle window),
        // their time to leave is worked out again: held bytes do not outlive the fault.
        let mut active = self.rules.flow.active.subscribe();
        active.borrow_and_update();
        let floor = self.last_due;
        loop {
            let due = self.due(at, bytes.len());
            if due <= Instant::now() {
                break;
            }
            tokio::select! {
                _ = self.conn.cancelled() => return Err(End::Cancelled),
                _ = tokio::time::sleep_until(due) => break,
                Ok(()) = active.changed() => self.last_due = floor,
            }
        }
        // Bytes in flight when a cut begins are lost and retransmitted: they wait for the heal.
        self.wait_up(cut).await?;
        let limited = lock(&self.rules.flow.bucket).is_limited();
        let pieces: Vec<&[u8]> = if limited {
            bytes.chunks(PIECE).collect()
        } else {
            vec![bytes]
        };
        for piece in pieces {
            if limited {
                let free =
                    lock(&self.rules.flow.bucket).reserve(piece.len(), Instant::now().into_std());
                tokio::select! {
                    _ = self.conn.cancelled() => return Err(End::Cancelled),
                    _ = tokio::time::sleep_until(free.into()) => {}
                }
            }
            tokio::select! {
                _ = self.conn.cancelled() => return Err(End::Cancelled),
                written = self.dst.write_all(piece) => if written.is_err() { return Err(End::Reset) },
            }
        }
        Ok(())
    }

    /// When bytes that arrived at `at` may leave: after the lag (with jitter), after a
    /// retransmission for a lost packet, at the end of the throttle window.
    fn due(&mut self, at: Instant, len: usize) -> Instant {
        let Some(active) = self.rules.flow.active.borrow().clone() else {
            self.last_due = at;
            return at;
        };
        let rng = self.rng_for(&active);
        let imp = &active.impairment;
        let mut due = at;
        if let Some((lag, jitter)) = imp.lag {
            let spread = jitter.as_secs_f64() * (rng.f64() * 2.0 - 1.0);
            due += Duration::from_secs_f64((lag.as_secs_f64() + spread).max(0.0));
        }
        // A lost or corrupted segment costs TCP a retransmission; the bytes still arrive intact.
        let lost = imp.drop + imp.tamper;
        if lost > 0.0 && len > 0 && rng.f64() * 100.0 < lost {
            due += RETRANSMIT;
        }
        due = due.max(self.last_due);
        if let Some(window) = imp.throttle.filter(|w| !w.is_zero()) {
            let since: Instant = active.since.into();
            let elapsed = due.saturating_duration_since(since).as_secs_f64();
            let windows = (elapsed / window.as_secs_f64()).ceil().max(1.0);
            due = since + Duration::from_secs_f64(windows * window.as_secs_f64());
        }
        self.last_due = due;
        due
    }

    fn rng_for(&mut self, active: &Active) -> &mut Rng {
        let seed = active.seed ^ self.rules.salt.wrapping_mul(0x9E37_79B9_7F4A_7C15);
        if self.rng.as_ref().is_none_or(|(s, _)| *s != seed) {
            self.rng = Some((seed, Rng::seeded(seed)));
        }
        &mut self.rng.as_mut().expect("set above").1
    }

    /// Waits while the link is cut. A held cut that outlasts TCP's retransmissions resets the
    /// connection, as the kernel would.
    async fn wait_up(&mut self, cut: &mut watch::Receiver<Option<CutMode>>) -> Result<(), End> {
        let give_up = Instant::now() + self.rules.timeouts.established;
        loop {
            match *cut.borrow_and_update() {
                None => return Ok(()),
                Some(CutMode::Reject) => return Err(End::Reset),
                Some(CutMode::Close) => return Err(End::Closed),
                Some(CutMode::Hold) => {}
            }
            tokio::select! {
                _ = self.conn.cancelled() => return Err(End::Cancelled),
                changed = cut.changed() => if changed.is_err() { return Err(End::Cancelled) },
                _ = tokio::time::sleep_until(give_up) => {
                    tracing::debug!("a connection stayed cut longer than TCP retries: reset");
                    return Err(End::Reset);
                }
            }
        }
    }
}
