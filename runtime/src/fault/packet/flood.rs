//! Bulk traffic on a link (`flood link a -> b at 2mbit for 30s`): one TCP connection that is not
//! XMPP, from a socket in the sender's namespace (or at a client's address in the root
//! namespace) to a sink in the receiver's, paced to the rate, for the duration. It crosses the
//! same veth, the same tc classes and the same bandwidth limits as the link's XMPP traffic, so
//! that a limit with and without `priority xmpp` can be compared.

use std::net::{Ipv4Addr, SocketAddr};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpSocket, TcpStream};
use tokio::task::JoinHandle;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use super::queue::run_in_netns;
use super::{PacketError, PacketNet};
use crate::fault::model::{Endpoint, Flow};

/// How long setting up the connection may take (it is local).
const SETUP: Duration = Duration::from_secs(5);
/// One write: small enough to pace evenly at 64 kbit/s, large enough to fill gigabits.
const CHUNK: usize = 8 * 1024;

/// A flood under way; [`Flood::stop`] ends it.
#[derive(Debug)]
pub(crate) struct Flood {
    stop: CancellationToken,
    source: JoinHandle<u64>,
    sink: JoinHandle<u64>,
}

impl Flood {
    /// Ends the flood (if its time is not up yet); returns the bytes the sink received.
    pub(crate) async fn stop(self) -> u64 {
        self.stop.cancel();
        let _ = tokio::time::timeout(SETUP, self.source).await;
        tokio::time::timeout(SETUP, self.sink)
            .await
            .ok()
            .and_then(Result::ok)
            .unwrap_or(0)
    }

    /// For `Drop` of the lab, which cannot await: the tasks end at their next step.
    pub(crate) fn cancel(&self) {
        self.stop.cancel();
    }
}

fn io(what: String) -> impl FnOnce(std::io::Error) -> PacketError {
    move |source| PacketError::Io { what, source }
}

impl PacketNet {
    /// A socket in the namespace of `endpoint` (clients live in the root namespace).
    fn socket_in(&self, endpoint: &Endpoint) -> Result<TcpSocket, PacketError> {
        let what = format!("cannot open a flood socket for {endpoint}");
        match endpoint {
            Endpoint::Server(role) | Endpoint::Database(role) => {
                let netns = self.role(role)?.netns.clone();
                run_in_netns(&netns, TcpSocket::new_v4)?.map_err(io(what))
            }
            Endpoint::User(_) => TcpSocket::new_v4().map_err(io(what)),
        }
    }

    /// Starts bulk traffic from `flow.from` to `flow.to` at `bits_per_second` for `duration`.
    pub(crate) async fn start_flood(
        &self,
        flow: &Flow,
        bits_per_second: f64,
        duration: Duration,
    ) -> Result<Flood, PacketError> {
        let from = self.endpoint_address(&flow.from).await?;
        let to = self.endpoint_address(&flow.to).await?;
        let listener = self.sink_listener(&flow.to, to)?;
        let port = listener
            .local_addr()
            .map_err(io(format!("flood sink at {to}")))?
            .port();
        let socket = self.socket_in(&flow.from)?;
        socket
            .bind(SocketAddr::from((from, 0)))
            .map_err(io(format!("cannot bind the flood source to {from}")))?;
        let target = SocketAddr::from((to, port));
        let (sent, accepted) = tokio::time::timeout(SETUP, async {
            tokio::join!(socket.connect(target), listener.accept())
        })
        .await
        .map_err(|_| {
            PacketError::Invalid(format!(
                "flow {flow}: the flood could not connect to {target} within {}s",
                SETUP.as_secs()
            ))
        })?;
        let stream = sent.map_err(io(format!("flood {flow}: cannot connect to {target}")))?;
        let (received, _) = accepted.map_err(io(format!("flood {flow}: sink at {target}")))?;
        let stop = CancellationToken::new();
        let deadline = Instant::now() + duration;
        tracing::debug!(%flow, bits_per_second, ?duration, "flood");
        Ok(Flood {
            source: tokio::spawn(pace(stream, bits_per_second, deadline, stop.clone())),
            sink: tokio::spawn(drain(received, stop.clone())),
            stop,
        })
    }

    fn sink_listener(
        &self,
        endpoint: &Endpoint,
        address: Ipv4Addr,
    ) -> Result<TcpListener, PacketError> {
        let socket = self.socket_in(endpoint)?;
        socket
            .bind(SocketAddr::from((address, 0)))
            .map_err(io(format!("cannot bind a flood sink to {address}")))?;
        socket
            .listen(4)
            .map_err(io(format!("cannot listen for a flood at {address}")))
    }
}

/// Writes at `bits_per_second` until the deadline or the stop; a full link slows it down (TCP
/// pushes back), and it does not catch up in a burst afterwards.
async fn pace(
    mut stream: TcpStream,
    bits_per_second: f64,
    deadline: Instant,
    stop: CancellationToken,
) -> u64 {
    let chunk = [0x5a_u8; CHUNK];
    let per_chunk = Duration::from_secs_f64((CHUNK * 8) as f64 / bits_per_second.max(8.0));
    let mut next = Instant::now();
    let mut sent = 0u64;
    loop {
        tokio::select! {
            _ = stop.cancelled() => break,
            _ = tokio::time::sleep_until(deadline) => break,
            _ = tokio::time::sleep_until(next) => {}
        }
        tokio::select! {
            _ = stop.cancelled() => break,
            _ = tokio::time::sleep_until(deadline) => break,
            written = stream.write_all(&chunk) => {
                if written.is_err() {
                    break;
                }
                sent += CHUNK as u64;
            }
        }
        next = (next + per_chunk).max(Instant::now());
    }
    // Dropping the stream closes it: the sink reads the end.
    sent
}

/// Reads and discards until the sender closes or the stop.
async fn drain(mut stream: TcpStream, stop: CancellationToken) -> u64 {
    let mut buffer = vec![0u8; 64 * 1024];
    let mut received = 0u64;
    loop {
        tokio::select! {
            _ = stop.cancelled() => break,
            read = stream.read(&mut buffer) => match read {
                Ok(0) | Err(_) => break,
                Ok(n) => received += n as u64,
            },
        }
    }
    received
}
