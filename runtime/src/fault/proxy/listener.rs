//! A link's listening socket. It listens only while the server behind it is up and the link is
//! not rejecting, so that a client is refused exactly when it would be without the proxy.

use std::net::SocketAddr;
use std::time::Duration;

use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

use super::conn::{Route, serve};
use crate::fault::model::CutMode;

/// How often a proxy whose server is down checks whether it is back.
const PROBE_EVERY: Duration = Duration::from_millis(100);

/// Accepts connections on `listener` (bound to `addr`; `None` while it must not listen) for
/// `route` until `cancel`.
pub(crate) async fn run(
    listener: Option<TcpListener>,
    addr: SocketAddr,
    route: Route,
    listening: watch::Sender<bool>,
    cancel: CancellationToken,
) {
    let mut cut = route.link.cut.subscribe();
    let mut up = route.server.up.subscribe();
    let mut listener = listener;
    let mut accepted: u64 = 0;
    loop {
        listening.send_if_modified(|now| {
            std::mem::replace(now, listener.is_some()) != listener.is_some()
        });
        let wanted = *up.borrow_and_update() && *cut.borrow_and_update() != Some(CutMode::Reject);
        match (&listener, wanted) {
            (Some(socket), true) => {
                tokio::select! {
                    _ = cancel.cancelled() => return,
                    _ = cut.changed() => continue,
                    _ = up.changed() => continue,
                    accepted_conn = socket.accept() => {
                        if let Ok((stream, _)) = accepted_conn {
                            accepted += 1;
                            tokio::spawn(serve(stream, route.clone(), accepted, cancel.clone()));
                        }
                    }
                }
            }
            (Some(_), false) => {
                tracing::debug!(route = route.name, "proxy stops listening");
                listener = None;
            }
            (None, true) => match TcpListener::bind(addr).await {
                Ok(socket) => {
                    tracing::debug!(route = route.name, "proxy listens again");
                    listener = Some(socket);
                }
                Err(error) => {
                    tracing::debug!(route = route.name, %error, "cannot listen again yet");
                    if sleep_or_cancel(PROBE_EVERY, &cancel).await {
                        return;
                    }
                }
            },
            (None, false) => {
                if !*up.borrow() {
                    // The server is down: look for it now and then (an external server comes
                    // back without telling us).
                    tokio::select! {
                        _ = cancel.cancelled() => return,
                        _ = cut.changed() => {}
                        _ = up.changed() => {}
                        _ = tokio::time::sleep(PROBE_EVERY) => {
                            if TcpStream::connect(route.upstream).await.is_ok() {
                                route.server.up.send_replace(true);
                            }
                        }
                    }
                } else {
                    tokio::select! {
                        _ = cancel.cancelled() => return,
                        _ = cut.changed() => {}
                        _ = up.changed() => {}
                    }
                }
            }
        }
    }
}

/// Sleeps; true when cancelled first.
async fn sleep_or_cancel(duration: Duration, cancel: &CancellationToken) -> bool {
    tokio::select! {
        _ = cancel.cancelled() => true,
        _ = tokio::time::sleep(duration) => false,
    }
}
