//! Bandwidth limits with tc: an htb qdisc on the sender's side of a veth, one class per flow,
//! a u32 filter picking the flow's packets by address. Unclassified traffic goes unshaped.
//!
//! With `priority xmpp` (QoS) the flow's class has two children: XMPP's connections (by their
//! ports, either end) at htb priority 0 with nearly all of the rate guaranteed, and everything
//! else at priority 1 with a small guarantee; both may borrow up to the whole limit, XMPP first.

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
    /// QoS classes under the flow's class (see the module's documentation).
    pub(crate) xmpp_first: bool,
}

/// The ports of XMPP's connections in the lab: client STARTTLS and Direct TLS, server STARTTLS
/// and Direct TLS.
const XMPP_PORTS: [u16; 4] = [5222, 5223, 5269, 5270];

/// Minor numbers of the QoS children and of the catch-all filter's priority. A flow's own class
/// is written `1:N` with N in decimal, which tc reads as hexadecimal: below 0x8000 for every
/// id under 8000, so these never collide with one.
fn xmpp_class(id: u16) -> String {
    format!("1:{:x}", 0x8000 | (id & 0x3fff))
}
fn bulk_class(id: u16) -> String {
    format!("1:{:x}", 0xc000 | (id & 0x3fff))
}
fn bulk_filter_prio(id: u16) -> String {
    (0x8000 | (id & 0x3fff)).to_string()
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
    xmpp_first: bool,
) -> Result<Shaping, PacketError> {
    let device = point.device.as_str();
    let rate = format!("{}bit", bits_per_second.round().max(8.0) as u64);
    let class = format!("1:{id}");
    if xmpp_first {
        install_qdisc(point).await?;
        shape_with_priority(point, id, bits_per_second).await?;
        return Ok(Shaping {
            point: point.clone(),
            id,
            xmpp_first,
        });
    }
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
        install_qdisc(point).await?;
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
        xmpp_first,
    })
}

/// The first shaped flow of a device installs the qdisc. With no `default`, unclassified packets
/// bypass the classes.
async fn install_qdisc(point: &ShapePoint) -> Result<(), PacketError> {
    let device = point.device.as_str();
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
    Ok(())
}

/// The flow's class at the limit, its XMPP child first and its bulk child second, and filters
/// that send XMPP's ports to the first and the rest of the flow to the second.
async fn shape_with_priority(
    point: &ShapePoint,
    id: u16,
    bits_per_second: f64,
) -> Result<(), PacketError> {
    let device = point.device.as_str();
    let total = bits_per_second.round().max(16.0) as u64;
    // Bulk keeps a twentieth (at least 8 kbit/s, at most half) so it is slowed, not starved.
    let bulk = (total / 20).max(8_000).min(total / 2);
    let (rate, xmpp_rate, bulk_rate) = (
        format!("{total}bit"),
        format!("{}bit", total - bulk),
        format!("{bulk}bit"),
    );
    let parent = format!("1:{id}");
    let class = |classid: &str, parent: &str, rate: &str, prio: &str| {
        vec![
            "class".to_string(),
            "add".into(),
            "dev".into(),
            device.into(),
            "parent".into(),
            parent.into(),
            "classid".into(),
            classid.into(),
            "htb".into(),
            "rate".into(),
            rate.into(),
            "ceil".into(),
            format!("{total}bit"),
            "burst".into(),
            BURST.into(),
            "cburst".into(),
            BURST.into(),
            "prio".into(),
            prio.into(),
        ]
    };
    let run = |args: Vec<String>| async move {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        tc(point, &args).await
    };
    run(class(&parent, "1:", &rate, "0")).await?;
    run(class(&xmpp_class(id), &parent, &xmpp_rate, "0")).await?;
    run(class(&bulk_class(id), &parent, &bulk_rate, "1")).await?;
    let matched = format!("{}/32", point.address);
    let filter = |prio: String, flowid: String, port: Option<(&str, u16)>| {
        let mut args: Vec<String> = [
            "filter", "add", "dev", device, "parent", "1:", "protocol", "ip", "prio",
        ]
        .map(String::from)
        .to_vec();
        args.extend([prio, "u32".into(), "match".into(), "ip".into()]);
        args.extend([point.field.to_string(), matched.clone()]);
        if let Some((end, port)) = port {
            args.extend([
                "match".into(),
                "ip".into(),
                end.into(),
                port.to_string(),
                "0xffff".into(),
            ]);
        }
        args.extend(["flowid".into(), flowid]);
        args
    };
    for port in XMPP_PORTS {
        for end in ["sport", "dport"] {
            run(filter(id.to_string(), xmpp_class(id), Some((end, port)))).await?;
        }
    }
    run(filter(bulk_filter_prio(id), bulk_class(id), None)).await?;
    Ok(())
}

/// Removes the flow's filters and classes (the qdisc stays; it passes everything else as is).
pub(crate) async fn unshape(shaping: &Shaping) -> Result<(), PacketError> {
    let point = &shaping.point;
    let device = point.device.as_str();
    let prio = shaping.id.to_string();
    let class = format!("1:{}", shaping.id);
    if shaping.xmpp_first {
        let bulk_prio = bulk_filter_prio(shaping.id);
        for prio in [prio.as_str(), bulk_prio.as_str()] {
            tc(
                point,
                &["filter", "del", "dev", device, "parent", "1:", "prio", prio],
            )
            .await?;
        }
        for child in [xmpp_class(shaping.id), bulk_class(shaping.id)] {
            tc(point, &["class", "del", "dev", device, "classid", &child]).await?;
        }
        tc(point, &["class", "del", "dev", device, "classid", &class]).await?;
        return Ok(());
    }
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
