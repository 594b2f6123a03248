//! Bandwidth limits with tc: an htb qdisc on the sender's side of a veth, one class per flow,
//! a u32 filter picking the flow's packets by address. Unclassified traffic goes unshaped.

use std::net::Ipv4Addr;

use super::PacketError;
use super::cmd::{run, run_in};

/// Where a flow's packets leave a namespace, and how to pick them out there.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct ShapePoint {
    /// The namespace of the device; `None` is the root namespace (a bridge port).
    pub(crate) netns: Option<String>,
    pub(crate) device: String,
    /// `ip dst X` or `ip src X`.
    pub(crate) field: &'static str,
    pub(crate) address: Ipv4Addr,
}

/// A flow's class and filter, by number (class 1:N, filter priority N).
#[derive(Clone, Debug)]
pub(crate) struct Shaping {
    pub(crate) point: ShapePoint,
    pub(crate) id: u16,
}

async fn tc(point: &ShapePoint, args: &[&str]) -> Result<String, PacketError> {
    match &point.netns {
        Some(netns) => run_in(netns, "tc", args, None).await,
        None => run("tc", args, None).await,
    }
}

async fn ip(point: &ShapePoint, args: &[&str]) -> Result<String, PacketError> {
    match &point.netns {
        Some(netns) => run_in(netns, "ip", args, None).await,
        None => run("ip", args, None).await,
    }
}

/// The bucket of a limited class: one full-size packet, so that a limit holds from the first
/// bytes on (htb's default bucket lets several kilobytes through at line rate first).
const BURST: &str = "1600b";

/// Limits the flow to `bits_per_second`, or changes the limit of an existing class.
pub(crate) async fn shape(
    point: &ShapePoint,
    id: u16,
    bits_per_second: f64,
    existing: bool,
) -> Result<Shaping, PacketError> {
    let device = point.device.as_str();
    let rate = format!("{}bit", bits_per_second.round().max(8.0) as u64);
    let class = format!("1:{id}");
    if existing {
        tc(
            point,
            &[
                "class", "change", "dev", device, "parent", "1:", "classid", &class, "htb", "rate",
                &rate, "ceil", &rate, "burst", BURST, "cburst", BURST,
            ],
        )
        .await?;
        let leaf = format!("{}:", id + 1);
        tc(
            point,
            &[
                "qdisc", "change", "dev", device, "parent", &class, "handle", &leaf, "tbf", "rate",
                &rate, "burst", BURST, "latency", "60s",
            ],
        )
        .await?;
    } else {
        // The first shaped flow of a device installs the qdisc. With no `default`, unclassified
        // packets bypass the classes.
        let qdiscs = tc(point, &["qdisc", "show", "dev", device]).await?;
        if !qdiscs.contains("qdisc htb 1:") {
            tc(
                point,
                &["qdisc", "add", "dev", device, "root", "handle", "1:", "htb"],
            )
            .await?;
            // htb lets a packet out whenever its class has tokens left and charges it after: a
            // 64 KB TCP segmentation-offload packet would leave as one burst (8 s of a 64kbit
            // limit). One segment per packet keeps the rate even.
            ip(point, &["link", "set", "dev", device, "gso_max_segs", "1"]).await?;
        }
        tc(
            point,
            &[
                "class", "add", "dev", device, "parent", "1:", "classid", &class, "htb", "rate",
                &rate, "ceil", &rate, "burst", BURST, "cburst", BURST,
            ],
        )
        .await?;
        // htb charges a class after a packet has left, so a short burst of full-size packets
        // leaves at line rate; a tbf under the class holds each packet until it is paid for.
        let leaf = format!("{}:", id + 1);
        tc(
            point,
            &[
                "qdisc", "add", "dev", device, "parent", &class, "handle", &leaf, "tbf", "rate",
                &rate, "burst", BURST, "latency", "60s",
            ],
        )
        .await?;
        let prio = id.to_string();
        let matched = format!("{}/32", point.address);
        tc(
            point,
            &[
                "filter",
                "add",
                "dev",
                device,
                "parent",
                "1:",
                "protocol",
                "ip",
                "prio",
                &prio,
                "u32",
                "match",
                "ip",
                point.field,
                &matched,
                "flowid",
                &class,
            ],
        )
        .await?;
    }
    Ok(Shaping {
        point: point.clone(),
        id,
    })
}

/// Removes the flow's filter and class (the qdisc stays; it passes everything else as is).
pub(crate) async fn unshape(shaping: &Shaping) -> Result<(), PacketError> {
    let point = &shaping.point;
    let device = point.device.as_str();
    let prio = shaping.id.to_string();
    let class = format!("1:{}", shaping.id);
    tc(
        point,
        &[
            "filter", "del", "dev", device, "parent", "1:", "prio", &prio,
        ],
    )
    .await?;
    tc(point, &["class", "del", "dev", device, "classid", &class]).await?;
    Ok(())
}
