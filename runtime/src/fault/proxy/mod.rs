//! The proxy plane: a TCP proxy for every link of the lab. Clients reach their server through
//! their own proxy; each server reaches each other server through a proxy of that directed pair
//! (its hosts file names the proxy's address). Cuts and impairments act on live connections.

mod bucket;
mod conn;
mod listener;
mod pump;
mod splice;
mod state;

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

use super::model::{CutMode, Flow, Impairment, Link, TcpTimeouts};
use crate::sync::lock;
use conn::Route;
use state::{Active, FlowState, LinkState, UpstreamState};

/// How long a new route waits to learn whether its server is up.
const PROBE_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(1);

/// A route's listening address, and whether it listens right now.
type Listening = (SocketAddr, watch::Receiver<bool>);

/// How long a fault waits for the proxies to act on it: at once normally; a loaded machine
/// (three Prosody starting on two cores) has been seen to need over a second, and a fault that
/// returned before its proxies acted would let a client through that it should refuse.
const SETTLE_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

/// All the proxies of a run.
#[derive(Debug)]
pub struct ProxyPlane {
    timeouts: TcpTimeouts,
    links: Mutex<BTreeMap<Link, Arc<LinkState>>>,
    flows: Mutex<BTreeMap<Flow, Arc<FlowState>>>,
    /// By upstream address: whether the server there is up.
    upstreams: Mutex<BTreeMap<SocketAddr, Arc<UpstreamState>>>,
    /// Listening addresses by (link, upstream), so a link's proxy is made once, and whether
    /// each listens right now.
    listeners: Mutex<BTreeMap<(Link, SocketAddr), Listening>>,
    cancel: CancellationToken,
}

impl ProxyPlane {
    pub fn new(timeouts: TcpTimeouts) -> ProxyPlane {
        ProxyPlane {
            timeouts,
            links: Mutex::default(),
            flows: Mutex::default(),
            upstreams: Mutex::default(),
            listeners: Mutex::default(),
            cancel: CancellationToken::new(),
        }
    }

    pub fn timeouts(&self) -> TcpTimeouts {
        self.timeouts
    }

    /// The address where `link`'s connections to `upstream` enter the proxy, listening on
    /// `listen` (port 0: any free port). Made on first use; later calls return the same address.
    pub async fn route(
        &self,
        link: &Link,
        listen: SocketAddr,
        upstream: SocketAddr,
    ) -> std::io::Result<SocketAddr> {
        if let Some((addr, _)) = lock(&self.listeners).get(&(link.clone(), upstream)) {
            return Ok(*addr);
        }
        let listener = TcpListener::bind(listen).await?;
        let addr = listener.local_addr()?;
        // A server that is down now is refused from the first connection on, as it would be
        // without the proxy (an accepted connection could only be reset).
        let refused = matches!(
            tokio::time::timeout(PROBE_TIMEOUT, tokio::net::TcpStream::connect(upstream)).await,
            Ok(Err(_))
        );
        let route = Route {
            name: format!("{link} via {addr} to {upstream}"),
            upstream,
            link: self.link(link),
            upstream_flow: self.flow(&link.upstream()),
            downstream_flow: self.flow(&link.downstream()),
            server: {
                let state = lock(&self.upstreams)
                    .entry(upstream)
                    .or_insert_with(UpstreamState::new)
                    .clone();
                if refused {
                    state.up.send_replace(false);
                }
                state
            },
            timeouts: self.timeouts,
        };
        // Not listening at all while the server is down: a connection the kernel accepted
        // before the proxy task ran would be reset, not refused.
        let listener = (*route.server.up.borrow()).then_some(listener);
        let (listening, watch_listening) = watch::channel(listener.is_some());
        lock(&self.listeners).insert((link.clone(), upstream), (addr, watch_listening));
        tokio::spawn(listener::run(
            listener,
            addr,
            route,
            listening,
            self.cancel.clone(),
        ));
        Ok(addr)
    }

    fn link(&self, link: &Link) -> Arc<LinkState> {
        lock(&self.links)
            .entry(link.clone())
            .or_insert_with(LinkState::new)
            .clone()
    }

    fn flow(&self, flow: &Flow) -> Arc<FlowState> {
        lock(&self.flows)
            .entry(flow.clone())
            .or_insert_with(FlowState::new)
            .clone()
    }

    /// Cuts `link`; returns once its proxies act on it (a `reject` has stopped listening).
    pub async fn cut(&self, link: &Link, mode: CutMode) {
        self.link(link).cut.send_replace(Some(mode));
        self.settle(|l, _| l == link).await;
    }

    /// Heals `link`; returns once its proxies listen again.
    pub async fn uncut(&self, link: &Link) {
        self.link(link).cut.send_replace(None);
        self.settle(|l, _| l == link).await;
    }

    /// Waits (briefly) until the listeners chosen by `which` listen exactly when they should,
    /// so that a connection made right after a fault meets the fault.
    async fn settle(&self, which: impl Fn(&Link, &SocketAddr) -> bool) {
        let chosen: Vec<(bool, watch::Receiver<bool>)> = {
            let listeners = lock(&self.listeners);
            let links = lock(&self.links);
            let upstreams = lock(&self.upstreams);
            listeners
                .iter()
                .filter(|((link, upstream), _)| which(link, upstream))
                .map(|((link, upstream), (_, listening))| {
                    let cut = links.get(link).and_then(|l| *l.cut.borrow());
                    let up = upstreams.get(upstream).is_none_or(|u| *u.up.borrow());
                    (up && cut != Some(CutMode::Reject), listening.clone())
                })
                .collect()
        };
        for (wanted, mut listening) in chosen {
            let r = tokio::time::timeout(SETTLE_TIMEOUT, listening.wait_for(|now| *now == wanted))
                .await;
            if r.is_err() {
                tracing::warn!(
                    wanted,
                    "a proxy did not follow a fault within {SETTLE_TIMEOUT:?}"
                );
            }
        }
    }

    /// Impairs `flow` (replacing what was in force there); `seed` drives its random choices.
    pub fn impair(&self, flow: &Flow, impairment: &Impairment, seed: u64) {
        let state = self.flow(flow);
        lock(&state.bucket).set_rate(impairment.bandwidth);
        state.active.send_replace(Some(Arc::new(Active {
            impairment: impairment.clone(),
            since: Instant::now(),
            seed,
        })));
    }

    pub fn restore(&self, flow: &Flow) {
        let state = self.flow(flow);
        lock(&state.bucket).set_rate(None);
        state.active.send_replace(None);
    }

    /// Every link up, every flow unimpaired.
    pub fn heal_all(&self) {
        for link in lock(&self.links).values() {
            link.cut.send_replace(None);
        }
        for flow in lock(&self.flows).values() {
            lock(&flow.bucket).set_rate(None);
            flow.active.send_replace(None);
        }
    }

    /// The links cut now, with how.
    pub fn cuts(&self) -> Vec<(Link, CutMode)> {
        lock(&self.links)
            .iter()
            .filter_map(|(link, state)| (*state.cut.borrow()).map(|mode| (link.clone(), mode)))
            .collect()
    }

    /// Tells the proxies in front of `upstream` whether the server there is up (the process
    /// plane knows before any connection fails).
    pub async fn set_upstream_up(&self, upstream: SocketAddr, up: bool) {
        let state = lock(&self.upstreams).get(&upstream).cloned();
        if let Some(state) = state {
            state.up.send_replace(up);
            self.settle(|_, u| *u == upstream).await;
        }
    }

    /// Stops every proxy and its connections.
    pub fn shutdown(&self) {
        self.cancel.cancel();
    }
}

impl Drop for ProxyPlane {
    fn drop(&mut self) {
        self.cancel.cancel();
    }
}
