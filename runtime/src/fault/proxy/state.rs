//! What the proxies consult on every chunk: whether a link is cut and how, and how a flow is
//! impaired. Each is a `watch` channel, so a waiting connection wakes the moment it changes.

use std::sync::{Arc, Mutex};
use std::time::Instant;

use tokio::sync::watch;

use super::bucket::TokenBucket;
use crate::fault::model::{CutMode, Impairment};

/// The state of one link (the connections one endpoint opens to another).
#[derive(Debug)]
pub(crate) struct LinkState {
    /// `None` while the link is up.
    pub(crate) cut: watch::Sender<Option<CutMode>>,
}

impl LinkState {
    pub(crate) fn new() -> Arc<LinkState> {
        Arc::new(LinkState {
            cut: watch::Sender::new(None),
        })
    }
}

/// An impairment in force on a flow, with when it began (throttle windows count from there)
/// and the seed of its random choices.
#[derive(Clone, Debug)]
pub(crate) struct Active {
    pub(crate) impairment: Impairment,
    pub(crate) since: Instant,
    pub(crate) seed: u64,
}

/// The state of one flow (the bytes one endpoint sends to another).
#[derive(Debug)]
pub(crate) struct FlowState {
    pub(crate) active: watch::Sender<Option<Arc<Active>>>,
    /// Shared by all the flow's connections, as a link's capacity is.
    pub(crate) bucket: Mutex<TokenBucket>,
}

impl FlowState {
    pub(crate) fn new() -> Arc<FlowState> {
        Arc::new(FlowState {
            active: watch::Sender::new(None),
            bucket: Mutex::new(TokenBucket::unlimited()),
        })
    }
}

/// Whether the server behind a proxy is up: while it is down the proxy does not listen either,
/// so a client is refused exactly as it would be without the proxy.
#[derive(Debug)]
pub(crate) struct UpstreamState {
    pub(crate) up: watch::Sender<bool>,
}

impl UpstreamState {
    pub(crate) fn new() -> Arc<UpstreamState> {
        Arc::new(UpstreamState {
            up: watch::Sender::new(true),
        })
    }
}
