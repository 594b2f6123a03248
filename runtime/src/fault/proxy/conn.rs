//! One proxied connection: it waits for its link like a SYN would, opens the upstream side,
//! and runs both directions until they end.

use std::net::SocketAddr;
use std::sync::Arc;

use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;
use tokio::sync::watch;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use super::pump::{End, Rules, pump};
use super::state::{FlowState, LinkState, UpstreamState};
use crate::fault::model::{CutMode, TcpTimeouts};

/// Everything a connection of one listener shares.
#[derive(Clone, Debug)]
pub(crate) struct Route {
    pub(crate) name: String,
    pub(crate) upstream: SocketAddr,
    pub(crate) link: Arc<LinkState>,
    pub(crate) upstream_flow: Arc<FlowState>,
    pub(crate) downstream_flow: Arc<FlowState>,
    pub(crate) server: Arc<UpstreamState>,
    pub(crate) timeouts: TcpTimeouts,
}

/// Serves one accepted connection.
pub(crate) async fn serve(client: TcpStream, route: Route, salt: u64, cancel: CancellationToken) {
    let _ = client.set_nodelay(true);
    let mut cut = route.link.cut.subscribe();
    // A new connection on a held link waits as a SYN would, until TCP gives up connecting.
    let give_up = Instant::now() + route.timeouts.connect;
    loop {
        let state = *cut.borrow_and_update();
        match state {
            None => break,
            Some(CutMode::Reject) => return reset(client),
            Some(CutMode::Close) => return close(client).await,
            Some(CutMode::Hold) => {}
        }
        tokio::select! {
            _ = cancel.cancelled() => return,
            changed = cut.changed() => if changed.is_err() { return },
            _ = tokio::time::sleep_until(give_up) => return reset(client),
        }
    }
    let upstream = tokio::select! {
        _ = cancel.cancelled() => return,
        connected = tokio::time::timeout(route.timeouts.connect, TcpStream::connect(route.upstream)) => connected,
    };
    let upstream = match upstream {
        Ok(Ok(stream)) => stream,
        Ok(Err(error)) => {
            tracing::debug!(route = route.name, %error, "upstream refused; the proxy stops listening until it is back");
            mark_down(&route.server.up);
            return reset(client);
        }
        Err(_) => return reset(client),
    };
    let _ = upstream.set_nodelay(true);
    let conn = cancel.child_token();
    let (client_read, client_write) = client.into_split();
    let (upstream_read, upstream_write) = upstream.into_split();
    let up = Rules {
        link: route.link.clone(),
        flow: route.upstream_flow.clone(),
        timeouts: route.timeouts,
        salt: salt.wrapping_mul(2),
    };
    let down = Rules {
        link: route.link.clone(),
        flow: route.downstream_flow.clone(),
        timeouts: route.timeouts,
        salt: salt.wrapping_mul(2) + 1,
    };
    let (sent, received): (End, End) = tokio::join!(
        pump(client_read, upstream_write, up, conn.clone()),
        pump(upstream_read, client_write, down, conn.clone()),
    );
    tracing::trace!(
        route = route.name,
        ?sent,
        ?received,
        "proxied connection ended"
    );
}

/// Marks the server down (the listener closes and probes until it is back).
fn mark_down(up: &watch::Sender<bool>) {
    up.send_if_modified(|up| std::mem::replace(up, false));
}

fn reset(stream: TcpStream) {
    let _ = stream.set_zero_linger();
    drop(stream);
}

async fn close(mut stream: TcpStream) {
    let _ = stream.shutdown().await;
}
