//! The vocabulary every fault plane shares: endpoints, links (the connections one endpoint opens
//! to another), flows (the bytes one endpoint sends to another), cut modes and impairments.
//!
//! A *link* `a -> b` is the set of TCP connections that `a` opens to `b`: a cut of that link
//! stops them in both byte directions, because TCP needs both (a real one-way packet cut breaks
//! a connection either way; what stays meaningful is who may reach whom). A *flow* `a -> b` is
//! the bytes `a` sends to `b` over any connection between them: impairments act on flows.

use std::fmt;
use std::time::Duration;

/// A party to a connection: a lab server (by role) or a client (by the case's user name).
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Endpoint {
    Server(String),
    User(String),
    /// A database, or one of a replicated database's nodes: servers connect to it, and its
    /// nodes to each other.
    Database(String),
}

impl Endpoint {
    pub fn name(&self) -> &str {
        match self {
            Endpoint::Server(name) | Endpoint::User(name) | Endpoint::Database(name) => name,
        }
    }

    /// A server or a database: a machine of the lab, not a client.
    pub fn is_server(&self) -> bool {
        matches!(self, Endpoint::Server(_) | Endpoint::Database(_))
    }
}

impl fmt::Display for Endpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The connections `from` opens to `to` (a client's c2s connection, a server's outgoing s2s).
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Link {
    pub from: Endpoint,
    pub to: Endpoint,
}

impl Link {
    pub fn new(from: Endpoint, to: Endpoint) -> Link {
        Link { from, to }
    }

    /// Bytes from the opener to the acceptor.
    pub fn upstream(&self) -> Flow {
        Flow {
            from: self.from.clone(),
            to: self.to.clone(),
        }
    }

    /// Bytes from the acceptor back to the opener.
    pub fn downstream(&self) -> Flow {
        Flow {
            from: self.to.clone(),
            to: self.from.clone(),
        }
    }
}

impl fmt::Display for Link {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} -> {}", self.from, self.to)
    }
}

/// The bytes `from` sends to `to`, over every connection between them.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Flow {
    pub from: Endpoint,
    pub to: Endpoint,
}

impl fmt::Display for Flow {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} -> {}", self.from, self.to)
    }
}

/// What a cut does to the connections of a link.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum CutMode {
    /// Packets vanish: bytes are held (TCP retransmits them) and flow again on heal; a
    /// connection that stays cut longer than TCP keeps trying is reset; new connections wait.
    #[default]
    Hold,
    /// Connections are reset at once and new ones refused (a firewall's `reject with tcp reset`).
    Reject,
    /// Connections are closed with a FIN at once, and new ones closed as they come.
    Close,
}

impl CutMode {
    pub fn as_str(self) -> &'static str {
        match self {
            CutMode::Hold => "hold",
            CutMode::Reject => "reject",
            CutMode::Close => "close",
        }
    }
}

/// What an impaired flow suffers. All fields compose; `None`/zero means untouched.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Impairment {
    /// Added one-way delay, and the jitter around it (uniform in ±jitter).
    pub lag: Option<(Duration, Duration)>,
    /// Percent of packets dropped (0..=100).
    pub drop: f64,
    /// Hold everything for this long, then release it in one batch, again and again.
    pub throttle: Option<Duration>,
    /// Percent of packets sent twice.
    pub duplicate: f64,
    /// Percent of packets held back behind later ones.
    pub reorder: f64,
    /// Percent of packets with a payload byte changed.
    pub tamper: f64,
    /// Bits per second, shared by all the flow's connections.
    pub bandwidth: Option<f64>,
    /// Within the bandwidth, XMPP's connections go first and other traffic gets what is left
    /// (QoS). Only the packet plane carries other traffic.
    pub xmpp_first: bool,
}

impl Impairment {
    /// Adds `other`'s settings to this one (a later `impair` on the same flow adds to it).
    pub fn merge(&mut self, other: &Impairment) {
        if other.lag.is_some() {
            self.lag = other.lag;
        }
        if other.throttle.is_some() {
            self.throttle = other.throttle;
        }
        if other.bandwidth.is_some() {
            self.bandwidth = other.bandwidth;
            self.xmpp_first = other.xmpp_first;
        }
        for (mine, theirs) in [
            (&mut self.drop, other.drop),
            (&mut self.duplicate, other.duplicate),
            (&mut self.reorder, other.reorder),
            (&mut self.tamper, other.tamper),
        ] {
            if theirs > 0.0 {
                *mine = theirs;
            }
        }
    }

    /// Impairments that act on single packets, which a TCP proxy cannot reproduce.
    pub fn per_packet(&self) -> Vec<&'static str> {
        self.per_packet_percents()
            .into_iter()
            .filter(|&(_, value)| value > 0.0)
            .map(|(name, _)| name)
            .collect()
    }

    /// The per-packet impairments by name, each a percentage of packets (0: off).
    fn per_packet_percents(&self) -> [(&'static str, f64); 4] {
        [
            ("drop", self.drop),
            ("duplicate", self.duplicate),
            ("reorder", self.reorder),
            ("tamper", self.tamper),
        ]
    }
}

impl fmt::Display for Impairment {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut parts = Vec::new();
        if let Some((lag, jitter)) = self.lag {
            if jitter.is_zero() {
                parts.push(format!("lag {}ms", lag.as_millis()));
            } else {
                parts.push(format!(
                    "lag {}ms jitter {}ms",
                    lag.as_millis(),
                    jitter.as_millis()
                ));
            }
        }
        if let Some(throttle) = self.throttle {
            parts.push(format!("throttle {}ms", throttle.as_millis()));
        }
        if let Some(bits) = self.bandwidth {
            parts.push(format!("bandwidth {bits}bit/s"));
            if self.xmpp_first {
                parts.push("priority xmpp".to_string());
            }
        }
        for (name, value) in self.per_packet_percents() {
            if value > 0.0 {
                parts.push(format!("{name} {value}%"));
            }
        }
        f.write_str(&parts.join(" "))
    }
}

/// How long a cut connection lives before TCP gives up, Linux defaults.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TcpTimeouts {
    /// Unacknowledged data on an established connection: `tcp_retries2` = 15, about 924.6 s.
    pub established: Duration,
    /// An unanswered SYN: `tcp_syn_retries` = 6, 1 + 2 + ... + 64 = 127 s.
    pub connect: Duration,
}

impl Default for TcpTimeouts {
    fn default() -> Self {
        TcpTimeouts {
            established: Duration::from_millis(924_600),
            connect: Duration::from_secs(127),
        }
    }
}

/// Which plane network faults run on.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Plane {
    /// A TCP proxy per link (no privileges).
    #[default]
    Proxy,
    /// Network namespaces, nftables, NFQUEUE and tc (root, Linux).
    Packet,
}

impl Plane {
    pub fn as_str(self) -> &'static str {
        match self {
            Plane::Proxy => "proxy",
            Plane::Packet => "packet",
        }
    }
}

impl fmt::Display for Plane {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for Plane {
    type Err = String;
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        match text {
            "proxy" => Ok(Plane::Proxy),
            "packet" => Ok(Plane::Packet),
            other => Err(format!("unknown fault plane `{other}` (proxy or packet)")),
        }
    }
}
