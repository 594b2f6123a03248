//! The faults in force on a packet lab: cuts (nftables chains in the acceptor's namespace) and
//! impaired flows (an NFQUEUE engine and its chain, a tc class), each removable on its own.

use std::collections::BTreeMap;
use std::net::Ipv4Addr;

use super::cmd::run_in;
use super::flood::Flood;
use super::nft::{self, Hook};
use super::queue::QueueEngine;
use super::tc::{self, ShapePoint, Shaping};
use super::{PacketError, PacketNet};
use crate::fault::model::{CutMode, Endpoint, Flow, Impairment, Link};

#[derive(Debug, Default)]
pub(crate) struct Faults {
    /// Numbers chains, queues and tc classes; queue and class numbers are 16 bits.
    next_id: u16,
    cuts: BTreeMap<Link, Chains>,
    flows: BTreeMap<Flow, Impaired>,
    /// Bulk traffic under way, by flow.
    floods: BTreeMap<Flow, Flood>,
}

impl Faults {
    fn next_id(&mut self) -> Result<u16, PacketError> {
        // Class 1:0 and queue 0 are left alone; tc class minor numbers stop below 0xffff.
        self.next_id = self
            .next_id
            .checked_add(1)
            .filter(|&id| id < 0xffff)
            .ok_or_else(|| PacketError::Invalid("too many faults in one packet lab".into()))?;
        Ok(self.next_id)
    }

    /// Stops every engine, releasing what they hold (for `Drop`, which cannot await).
    pub(crate) fn stop_engines(&mut self) {
        for impaired in self.flows.values_mut() {
            if let Some(queued) = impaired.queued.as_mut() {
                queued.engine.stop();
            }
        }
        for flood in self.floods.values() {
            flood.cancel();
        }
    }
}

/// nftables chains of one fault, in one namespace.
#[derive(Debug)]
struct Chains {
    netns: String,
    names: Vec<String>,
}

#[derive(Debug)]
struct Impaired {
    impairment: Impairment,
    queued: Option<Queued>,
    shaping: Option<Shaping>,
}

/// An engine and the iptables chain that feeds it.
#[derive(Debug)]
struct Queued {
    netns: String,
    chain: String,
    hook: Hook,
    engine: QueueEngine,
}

/// Where an impaired flow's packets are seen and shaped.
struct Placement {
    netns: String,
    hook: Hook,
    peer: Ipv4Addr,
    point: ShapePoint,
    id: u16,
}

/// Applies an iptables-restore script in `netns`, leaving other rules as they are.
async fn iptables(netns: &str, script: &str) -> Result<(), PacketError> {
    run_in(
        netns,
        "iptables-restore",
        &["--noflush", "--wait", "5"],
        Some(script),
    )
    .await
    .map(drop)
}

/// Lag, throttle and the per-packet impairments need the engine; bandwidth alone does not.
fn needs_engine(imp: &Impairment) -> bool {
    imp.lag.is_some() || imp.throttle.is_some() || !imp.per_packet().is_empty()
}

impl PacketNet {
    /// The address of an endpoint (a client's is allocated at its first use).
    pub(super) async fn endpoint_address(
        &self,
        endpoint: &Endpoint,
    ) -> Result<Ipv4Addr, PacketError> {
        match endpoint {
            Endpoint::Server(role) | Endpoint::Database(role) => Ok(self.role(role)?.address),
            Endpoint::User(user) => self.user_address(user).await,
        }
    }

    async fn nft(&self, netns: &str, script: &str) -> Result<(), PacketError> {
        run_in(netns, "nft", &["-f", "-"], Some(script))
            .await
            .map(drop)
    }

    /// Stops the connections `link.from` opens to `link.to` (a server), in both byte
    /// directions; connections the other way keep working. Hold drops packets (TCP retries,
    /// and the bytes flow again after [`uncut`](Self::uncut)); Reject resets. A cut already in
    /// force on the link is replaced.
    pub async fn cut(&self, link: &Link, mode: CutMode) -> Result<(), PacketError> {
        if mode == CutMode::Close {
            return Err(PacketError::CloseNeedsProxy {
                link: link.to_string(),
            });
        }
        let (Endpoint::Server(acceptor) | Endpoint::Database(acceptor)) = &link.to else {
            return Err(PacketError::Invalid(format!(
                "link {link}: a link ends at the server that accepts its connections"
            )));
        };
        let netns = self.role(acceptor)?.netns.clone();
        let opener = self.endpoint_address(&link.from).await?;
        self.uncut(link).await?;
        let mut faults = self.faults.lock().await;
        let name = format!("cut_{}", faults.next_id()?);
        self.nft(&netns, &nft::add_cut(&self.tag, &name, opener, mode))
            .await?;
        tracing::debug!(%link, mode = mode.as_str(), netns, "cut");
        faults.cuts.insert(
            link.clone(),
            Chains {
                netns,
                names: nft::cut_chains(&name),
            },
        );
        Ok(())
    }

    /// Heals a cut (no error when the link is not cut).
    pub async fn uncut(&self, link: &Link) -> Result<(), PacketError> {
        let mut faults = self.faults.lock().await;
        if let Some(chains) = faults.cuts.remove(link) {
            self.delete(&chains).await?;
            tracing::debug!(%link, "uncut");
        }
        Ok(())
    }

    /// Heals every cut.
    pub async fn heal_all(&self) -> Result<(), PacketError> {
        let links: Vec<Link> = self.faults.lock().await.cuts.keys().cloned().collect();
        for link in links {
            self.uncut(&link).await?;
        }
        Ok(())
    }

    async fn delete(&self, chains: &Chains) -> Result<(), PacketError> {
        self.nft(&chains.netns, &nft::delete_chains(&self.tag, &chains.names))
            .await
    }

    /// Impairs the bytes `flow.from` sends to `flow.to`. A second call on the same flow adds
    /// to the first ([`Impairment::merge`]); `seed` drives the per-packet decisions.
    pub async fn impair(
        &self,
        flow: &Flow,
        imp: &Impairment,
        seed: u64,
    ) -> Result<(), PacketError> {
        // Packets are seen in the namespace of the server on the flow: the receiver's input
        // when it is a server, else the sender's output.
        let (netns, hook, peer) = match (&flow.from, &flow.to) {
            (from, Endpoint::Server(to) | Endpoint::Database(to)) => (
                self.role(to)?.netns.clone(),
                Hook::Input,
                self.endpoint_address(from).await?,
            ),
            (Endpoint::Server(from) | Endpoint::Database(from), to) => (
                self.role(from)?.netns.clone(),
                Hook::Output,
                self.endpoint_address(to).await?,
            ),
            _ => {
                return Err(PacketError::Invalid(format!(
                    "flow {flow}: clients reach each other only through a server"
                )));
            }
        };
        let point = self.shape_point(flow).await?;
        let mut faults = self.faults.lock().await;
        let id = faults.next_id()?;
        let mut impaired = faults.flows.remove(flow).unwrap_or(Impaired {
            impairment: Impairment::default(),
            queued: None,
            shaping: None,
        });
        let mut merged = impaired.impairment.clone();
        merged.merge(imp);
        let placed = Placement {
            netns,
            hook,
            peer,
            point,
            id,
        };
        let result = self.apply(&mut impaired, &merged, &placed, seed).await;
        if result.is_ok() {
            tracing::debug!(%flow, impairment = %merged, netns = placed.netns, seed, "impair");
            impaired.impairment = merged;
        }
        // Whatever was set up stays recorded, so that restore() removes it.
        if impaired.queued.is_some() || impaired.shaping.is_some() {
            faults.flows.insert(flow.clone(), impaired);
        }
        result
    }

    async fn apply(
        &self,
        impaired: &mut Impaired,
        merged: &Impairment,
        placed: &Placement,
        seed: u64,
    ) -> Result<(), PacketError> {
        let Placement {
            netns,
            hook,
            peer,
            point,
            id,
        } = placed;
        if needs_engine(merged) {
            match &impaired.queued {
                Some(queued) => queued.engine.update(merged.clone()),
                None => {
                    // Bound before the rule exists, so no packet passes the queue unimpaired.
                    let engine = QueueEngine::start(netns, *id, merged.clone(), seed)?;
                    let chain = format!("jspec_imp_{id}");
                    iptables(netns, &nft::add_queue(&chain, *hook, *peer, *id)).await?;
                    impaired.queued = Some(Queued {
                        netns: netns.clone(),
                        chain,
                        hook: *hook,
                        engine,
                    });
                }
            }
        }
        if let Some(bits) = merged.bandwidth {
            // A limit that changes shape (with or without QoS classes) is set up anew.
            let reshape = impaired
                .shaping
                .as_ref()
                .is_some_and(|s| s.xmpp_first || merged.xmpp_first);
            if reshape && let Some(old) = impaired.shaping.take() {
                tc::unshape(&old).await?;
            }
            let existing = impaired.shaping.as_ref().map(|s| s.id);
            let shaping = tc::shape(
                point,
                existing.unwrap_or(*id),
                bits,
                existing.is_some(),
                merged.xmpp_first,
            )
            .await?;
            impaired.shaping = Some(shaping);
        }
        Ok(())
    }

    /// Where tc shapes the flow: on the sender's side of the veth it leaves by. A client's
    /// bytes leave the root namespace by the bridge port of the server's veth.
    async fn shape_point(&self, flow: &Flow) -> Result<ShapePoint, PacketError> {
        match (&flow.from, &flow.to) {
            (Endpoint::Server(from) | Endpoint::Database(from), to) => Ok(ShapePoint {
                netns: Some(self.role(from)?.netns.clone()),
                device: super::net::INNER_VETH.to_string(),
                field: "dst",
                address: self.endpoint_address(to).await?,
            }),
            (from, Endpoint::Server(to) | Endpoint::Database(to)) => Ok(ShapePoint {
                netns: None,
                device: self.role(to)?.host_veth.clone(),
                field: "src",
                address: self.endpoint_address(from).await?,
            }),
            _ => Err(PacketError::Invalid(format!(
                "flow {flow}: clients reach each other only through a server"
            ))),
        }
    }

    /// Sends bulk traffic over the flow for `duration` (replacing a flood already on it).
    pub async fn flood(
        &self,
        flow: &Flow,
        bits_per_second: f64,
        duration: std::time::Duration,
    ) -> Result<(), PacketError> {
        let previous = self.faults.lock().await.floods.remove(flow);
        if let Some(previous) = previous {
            previous.stop().await;
        }
        let flood = self.start_flood(flow, bits_per_second, duration).await?;
        self.faults.lock().await.floods.insert(flow.clone(), flood);
        Ok(())
    }

    /// Ends the impairment of a flow and its flood: its queue rule goes first, then the engine
    /// releases what it holds, then the tc class goes. No error when the flow is not impaired.
    pub async fn restore(&self, flow: &Flow) -> Result<(), PacketError> {
        let flood = self.faults.lock().await.floods.remove(flow);
        if let Some(flood) = flood {
            let bytes = flood.stop().await;
            tracing::debug!(%flow, bytes, "flood stopped");
        }
        let mut faults = self.faults.lock().await;
        let Some(impaired) = faults.flows.remove(flow) else {
            return Ok(());
        };
        let mut result = Ok(());
        if let Some(mut queued) = impaired.queued {
            let script = nft::delete_queue(&queued.chain, queued.hook);
            result = iptables(&queued.netns, &script).await;
            queued.engine.stop();
        }
        if let Some(shaping) = impaired.shaping {
            result = result.and(tc::unshape(&shaping).await);
        }
        tracing::debug!(%flow, "restore");
        result
    }

    /// Ends every impairment.
    pub async fn restore_all(&self) -> Result<(), PacketError> {
        let flows: Vec<Flow> = {
            let faults = self.faults.lock().await;
            faults
                .flows
                .keys()
                .chain(faults.floods.keys())
                .cloned()
                .collect()
        };
        let mut result = Ok(());
        for flow in flows {
            result = result.and(self.restore(&flow).await);
        }
        result
    }
}
