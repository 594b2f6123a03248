//! The built-in local lab: real servers started on this machine, each on its own loopback
//! address with its own domain, trusting one lab CA, finding each other through a lab hosts
//! file. Everything lives in one folder (normally inside the run folder) and is stopped by PID.

mod addresses;
pub mod clock;
pub mod cluster;
pub mod cluster_db;
mod dns;
pub mod ejabberd;
pub mod files;
pub mod kdc;
mod kerberos;
pub mod patroni;
pub mod pki;
pub mod postgres;
pub mod process;
mod process_plane;
pub mod prosody;
pub mod registry;
mod security;
pub mod server;

pub use prosody::{ProsodyExtensions, ServerSettings};
pub use prosody::{S2sAuth, S2sLink};
pub use server::ServerProcess;

use std::collections::BTreeMap;
use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};

use std::net::SocketAddr;
use std::sync::Arc;

use pki::ocsp::OcspResponder;
use pki::{CertificateKind, LabCa, PkiError};
use prosody::{Prosody, ProsodyError, ProsodySpec};

use crate::fault::model::{Endpoint, Link};
use crate::fault::packet::{PacketError, PacketNet};
use crate::fault::proxy::ProxyPlane;

#[derive(Debug, thiserror::Error)]
pub enum LabError {
    #[error(transparent)]
    Pki(#[from] PkiError),
    #[error("lab server {role}: {source}")]
    Server {
        role: String,
        #[source]
        source: Box<ProsodyError>,
    },
    #[error("lab cluster {role}: {source}")]
    Cluster {
        role: String,
        #[source]
        source: Box<ejabberd::EjabberdError>,
    },
    #[error("lab database {role}: {source}")]
    Database {
        role: String,
        #[source]
        source: Box<postgres::PostgresError>,
    },
    #[error("lab database {role}: {source}")]
    Replicated {
        role: String,
        #[source]
        source: Box<patroni::PatroniError>,
    },
    #[error("{0}")]
    Unsupported(String),
    #[error("the lab OCSP responder: {0}")]
    Ocsp(#[from] pki::ocsp::OcspResponderError),
    #[error("the lab KDC: {0}")]
    Kdc(#[from] kdc::KdcError),
    #[error("the packet plane: {0}")]
    Packet(#[from] PacketError),
    #[error("the lab manages no server `{0}`")]
    UnknownServer(String),
    #[error(
        "libfaketime is not installed, so the lab cannot move a server's clock (Debian package libfaketime; scripts/deps.sh installs it)"
    )]
    NoFaketime,
    #[error("cannot start the proxy of {link} on {listen}: {source}")]
    Proxy {
        link: String,
        listen: SocketAddr,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot start the lab DNS on {ip}: {source}")]
    Dns {
        ip: Ipv4Addr,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot prepare the lab folder {path}: {source}")]
    Folder {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error(
        "no free loopback addresses for the lab: {reason} (is another XMPP server listening on all addresses? `ss -ltnp` shows it)"
    )]
    NoAddresses { reason: String },
}

/// The epmd port of clusters on the packet plane (each node's namespace has its own ports).
const PACKET_EPMD_PORT: u16 = 4370;

/// One node of a cluster and the nodes it sees (`None`: the node is not running).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NodeView {
    pub node: String,
    pub sees: Option<std::collections::BTreeSet<String>>,
}

/// What to start.
#[derive(Clone, Debug, Default)]
pub struct LabSpec {
    /// Server roles, e.g. `a`, `b`: each gets domain `<role>.test`.
    pub servers: Vec<String>,
    /// Clustered server roles (`servers c with nodes c1, c2`): ejabberd on PostgreSQL.
    pub clusters: Vec<cluster::ClusterRequest>,
    /// How the servers start (the lab's defaults unless a test wants others).
    pub settings: ServerSettings,
    /// The programs to run (found on PATH unless given as paths).
    pub programs: Programs,
    /// The proxy plane: each server reaches each other server through a proxy of that pair.
    pub proxy: Option<Arc<ProxyPlane>>,
    /// The packet plane: each server in its own network namespace on a lab bridge.
    pub packet: bool,
    /// What the run adds to each managed Prosody, by role.
    pub extensions: BTreeMap<String, ProsodyExtensions>,
}

/// Where the lab's server programs are.
#[derive(Clone, Debug)]
pub struct Programs {
    pub prosody: String,
    pub prosodyctl: String,
}

impl Default for Programs {
    fn default() -> Self {
        Programs {
            prosody: "prosody".into(),
            prosodyctl: "prosodyctl".into(),
        }
    }
}

/// A running lab.
#[derive(Debug)]
pub struct Lab {
    pub dir: PathBuf,
    /// Shared with the OCSP responder, which answers from its live revocation list.
    pub ca: Arc<LabCa>,
    pub ca_file: PathBuf,
    /// The CA followed by the current CRL, for servers that check revocation.
    pub ca_crl_file: PathBuf,
    servers: BTreeMap<String, Prosody>,
    clusters: BTreeMap<String, cluster::LabCluster>,
    security: security::SecurityState,
    /// SRV records for the servers (where they offer STARTTLS and Direct TLS).
    dns: dns::LabDns,
    /// Where the lab's own services (DNS, KDC, OCSP) listen.
    service_ip: Ipv4Addr,
    /// Answers certificate status requests for the lab CA (taken at the end of the lab).
    ocsp: Option<OcspResponder>,
    kerberos: kerberos::KerberosState,
    registry: PathBuf,
    proxy: Option<Arc<ProxyPlane>>,
    /// Where client proxies listen (the proxy plane).
    client_ip: Ipv4Addr,
    packet: Option<PacketNet>,
    /// Servers whose clock a case moved (put back after the case).
    skewed: std::sync::Mutex<std::collections::BTreeSet<String>>,
}

impl Lab {
    /// Starts one Prosody per role in `dir`. On error, whatever was started is stopped.
    pub async fn start(spec: &LabSpec, dir: &Path) -> Result<Lab, LabError> {
        // Absolute, so records and server command lines name it the same from any folder.
        let dir = &std::path::absolute(dir).unwrap_or_else(|_| dir.to_path_buf());
        let mkdir = |path: &Path| {
            std::fs::create_dir_all(path).map_err(|source| LabError::Folder {
                path: path.to_path_buf(),
                source,
            })
        };
        mkdir(dir)?;
        let ca = Arc::new(LabCa::generate("jspec lab CA")?);
        let ca_file = dir.join("ca.pem");
        std::fs::write(&ca_file, ca.cert_pem()).map_err(|source| LabError::Folder {
            path: ca_file.clone(),
            source,
        })?;
        let ca_crl_file = dir.join("ca-crl.pem");
        let n = spec.servers.len();
        // Namespaces, bridges and rules a killed jspec left behind go first.
        if nix::unistd::Uid::effective().is_root() {
            let removed = crate::fault::packet::cleanup_orphans().await;
            if !removed.is_empty() {
                tracing::warn!(
                    ?removed,
                    "removed a packet lab left behind by an earlier jspec"
                );
            }
        }
        // On the packet plane every server, cluster node, database node and cluster database
        // has a namespace of its own: a partition between nodes is a netsplit of their Erlang
        // distribution, or of their database's replication. Per cluster in the order of
        // `cluster_places`.
        let packet_roles: Vec<String> = spec
            .servers
            .iter()
            .cloned()
            .chain(spec.clusters.iter().flat_map(|c| {
                c.nodes
                    .iter()
                    .chain(&c.database_nodes)
                    .cloned()
                    .chain(std::iter::once(c.database_role()))
            }))
            .collect();
        let packet = match spec.packet {
            true => Some(PacketNet::create(&packet_roles).await?),
            false => None,
        };
        // Each cluster: an address per node, one per database node, one for its database.
        let cluster_addresses: usize = spec
            .clusters
            .iter()
            .map(|c| c.nodes.len() + c.database_nodes.len() + 1)
            .sum();
        // Servers first, then one proxy address per ordered pair of servers, then the clients'.
        let proxied = spec.proxy.is_some();
        let addresses = match &packet {
            Some(net) => packet_roles
                .iter()
                .map(|role| net.address(role).unwrap_or(Ipv4Addr::LOCALHOST))
                .collect(),
            None => {
                let wanted = if proxied {
                    n + n * n.saturating_sub(1) + 1
                } else {
                    n
                };
                addresses::free_addresses(wanted + cluster_addresses)?
            }
        };
        let (addresses, cluster_pool) =
            addresses.split_at(addresses.len().saturating_sub(cluster_addresses));
        let (server_addresses, proxy_addresses) = addresses.split_at(n);
        let places = cluster_places(&spec.clusters, cluster_pool);
        // The lab's own services listen on its first address (a cluster's, with no Prosody).
        let first_ip = server_addresses
            .first()
            .or(cluster_pool.first())
            .copied()
            .ok_or_else(|| LabError::NoAddresses {
                reason: "the lab has no server to start".into(),
            })?;
        let client_ip = proxy_addresses.last().copied().unwrap_or(first_ip);
        let mut pair_addresses = proxy_addresses.iter().copied();
        // The DNS listens where every server can reach it: on loopback, or on the packet
        // plane's bridge.
        let dns_ip = match &packet {
            Some(net) => net.user_address("lab-dns").await?,
            None => first_ip,
        };
        let dns = dns::LabDns::start(dns_ip)
            .await
            .map_err(|source| LabError::Dns { ip: dns_ip, source })?;
        // Before any certificate is issued: each names the responder in its AIA extension.
        let ocsp = OcspResponder::start(Arc::clone(&ca), std::net::IpAddr::V4(dns_ip)).await?;
        ca.set_ocsp_url(Some(ocsp.url()));
        let specs: Vec<ProsodySpec> = spec
            .servers
            .iter()
            .zip(server_addresses)
            .map(|(role, &address)| ProsodySpec {
                role: role.clone(),
                domain: format!("{role}.test"),
                address,
                hosts_file: dir.join(role).join("hosts"),
                ca_file: ca_file.clone(),
                ca_crl_file: ca_crl_file.clone(),
                settings: spec.settings.clone(),
                dns: Some(dns.addr()),
                programs: spec.programs.clone(),
                kerberos: None,
                extensions: spec.extensions.get(role).cloned().unwrap_or_default(),
                netns: packet
                    .as_ref()
                    .and_then(|net| net.netns(role))
                    .map(str::to_string),
            })
            .collect();
        // Each server's own view of the lab: the others' names point at the proxies of its links;
        // a cluster's domain at its first node.
        let cluster_hosts: String = spec
            .clusters
            .iter()
            .zip(&places)
            .filter_map(|(request, place)| {
                let first = place.first()?;
                Some(format!(
                    "{first} {} {}\n",
                    request.domain(),
                    request.muc_domain()
                ))
            })
            .collect();
        let mut views: BTreeMap<String, String> = BTreeMap::new();
        for from in &specs {
            let mut hosts = format!("{} {} {}\n", from.address, from.domain, from.muc_domain());
            hosts.push_str(&cluster_hosts);
            for to in specs.iter().filter(|s| s.role != from.role) {
                let seen_at = match &spec.proxy {
                    Some(proxy) => {
                        let listen = pair_addresses.next().unwrap_or(to.address);
                        let link = Link::new(
                            Endpoint::Server(from.role.clone()),
                            Endpoint::Server(to.role.clone()),
                        );
                        for port in [prosody::S2S_PORT, prosody::S2S_DIRECT_TLS_PORT] {
                            let at = SocketAddr::from((listen, port));
                            proxy
                                .route(&link, at, SocketAddr::from((to.address, port)))
                                .await
                                .map_err(|source| LabError::Proxy {
                                    link: link.to_string(),
                                    listen: at,
                                    source,
                                })?;
                        }
                        listen
                    }
                    None => to.address,
                };
                hosts.push_str(&format!("{seen_at} {} {}\n", to.domain, to.muc_domain()));
            }
            views.insert(from.role.clone(), hosts);
        }
        for server in &specs {
            mkdir(&dir.join(&server.role))?;
            let hosts = views.get(&server.role).cloned().unwrap_or_default();
            std::fs::write(&server.hosts_file, hosts).map_err(|source| LabError::Folder {
                path: server.hosts_file.clone(),
                source,
            })?;
        }
        let registry = registry::registry_dir();
        // Servers a killed jspec left behind would hold the lab's ports: stop them first.
        let cleaned = registry::cleanup(&registry, false).await;
        if !cleaned.stopped.is_empty() {
            tracing::warn!(servers = ?cleaned.stopped, "stopped servers left behind by an earlier jspec");
        }
        // Every domain of the lab at its server's own address (a cluster at its first node),
        // for the clusters' resolvers.
        let lab_hosts: Vec<(Ipv4Addr, Vec<String>)> = specs
            .iter()
            .map(|s| (s.address, vec![s.domain.clone(), s.muc_domain()]))
            .chain(
                spec.clusters
                    .iter()
                    .zip(&places)
                    .filter_map(|(request, place)| {
                        let first = *place.first()?;
                        Some((first, vec![request.domain(), request.muc_domain()]))
                    }),
            )
            .collect();
        let mut lab = Lab {
            dir: dir.to_path_buf(),
            ca,
            ca_file,
            ca_crl_file,
            servers: BTreeMap::new(),
            clusters: BTreeMap::new(),
            security: security::SecurityState::default(),
            dns,
            service_ip: dns_ip,
            ocsp: Some(ocsp),
            kerberos: kerberos::KerberosState::default(),
            registry,
            proxy: spec.proxy.clone(),
            client_ip,
            packet,
            skewed: std::sync::Mutex::default(),
        };
        for server in &specs {
            lab.publish_srv(server, &server.settings);
        }
        // An empty CRL from the start: LuaSec with crl_check refuses everyone without one.
        lab.publish_crl().await?;
        for server in specs {
            let role = server.role.clone();
            let names = vec![server.domain.clone(), server.muc_domain()];
            let cert = lab.ca.issue(&names, CertificateKind::Valid)?;
            let server_dir = dir.join(&role);
            mkdir(&server_dir)?;
            match Prosody::start(server, &server_dir, &cert.cert_pem, &cert.key_pem).await {
                Ok(prosody) => {
                    crate::sync::lock(&lab.security.servers).insert(
                        role.clone(),
                        security::Held {
                            issued: cert,
                            changed: false,
                        },
                    );
                    lab.servers.insert(role, prosody);
                    // Recorded after each start, so a crash in between leaves nothing unknown.
                    if let Err(error) = registry::record(&lab.registry, &lab.record()) {
                        tracing::warn!(%error, "cannot record the lab; `jspec lab down` will not see it");
                    }
                }
                Err(source) => {
                    lab.stop().await;
                    return Err(LabError::Server {
                        role,
                        source: Box::new(source),
                    });
                }
            }
        }
        for (request, nodes) in spec.clusters.iter().zip(places) {
            if let Err(error) = lab.start_cluster(request, nodes, &lab_hosts).await {
                lab.stop().await;
                return Err(error);
            }
        }
        // The s2s proxies were made before their servers ran: tell them the servers are up.
        if let Some(proxy) = &lab.proxy {
            for server in lab.servers.values() {
                for port in prosody::PORTS {
                    proxy
                        .set_upstream_up(SocketAddr::from((server.spec.address, port)), true)
                        .await;
                }
            }
        }
        Ok(lab)
    }

    pub fn server(&self, role: &str) -> Option<&Prosody> {
        self.servers.get(role)
    }

    /// A clustered role the lab runs.
    pub fn cluster(&self, role: &str) -> Option<&cluster::LabCluster> {
        self.clusters.get(role)
    }

    pub fn clusters(&self) -> impl Iterator<Item = &cluster::LabCluster> {
        self.clusters.values()
    }

    /// The cluster a node (`c1`) belongs to.
    pub fn cluster_of_node(&self, node: &str) -> Option<&cluster::LabCluster> {
        self.clusters.values().find(|c| c.node(node).is_some())
    }

    /// Whether the lab runs this server role (a single server or a cluster).
    pub fn manages(&self, role: &str) -> bool {
        self.servers.contains_key(role) || self.clusters.contains_key(role)
    }

    /// Creates an account on a server or cluster of the lab.
    pub async fn register(&self, role: &str, user: &str, password: &str) -> Result<(), LabError> {
        if let Some(cluster) = self.clusters.get(role) {
            return cluster.register(user, password).await;
        }
        let server = self
            .servers
            .get(role)
            .ok_or_else(|| LabError::UnknownServer(role.to_string()))?;
        server
            .register(user, password)
            .await
            .map_err(|source| LabError::Server {
                role: role.to_string(),
                source: Box::new(source),
            })
    }

    /// Starts a cluster role with the lab's CA and records its processes.
    async fn start_cluster(
        &mut self,
        request: &cluster::ClusterRequest,
        addresses: Vec<Ipv4Addr>,
        hosts: &[(Ipv4Addr, Vec<String>)],
    ) -> Result<(), LabError> {
        let (database, rest) = addresses
            .split_last()
            .ok_or_else(|| LabError::NoAddresses {
                reason: format!("no address for cluster {}", request.role),
            })?;
        let (nodes, database_nodes) = rest.split_at(request.nodes.len().min(rest.len()));
        // In the packet plane's namespaces every port is the lab's own; on loopback one that
        // nothing else holds.
        let epmd_port = match self.packet {
            Some(_) => PACKET_EPMD_PORT,
            None => ejabberd::epmd::free_port(nodes).ok_or_else(|| LabError::NoAddresses {
                reason: format!("no free epmd port for cluster {}", request.role),
            })?,
        };
        let netns = |name: &str| {
            self.packet
                .as_ref()
                .and_then(|net| net.netns(name))
                .map(str::to_string)
        };
        let place = cluster::ClusterPlace {
            nodes: nodes.to_vec(),
            node_netns: request.nodes.iter().map(|n| netns(n)).collect(),
            database: *database,
            database_netns: netns(&request.database_role()),
            database_nodes: database_nodes.to_vec(),
            database_node_netns: request.database_nodes.iter().map(|n| netns(n)).collect(),
            epmd_port,
            hosts: hosts.to_vec(),
            dns: Some(self.dns.addr()),
            ca_file: self.ca_file.clone(),
        };
        // Servers that ask the lab DNS for addresses (ejabberd) find the cluster at its first
        // node, and every other server of the lab at its own address.
        if let Some(first) = nodes.first() {
            self.dns.set_address(&request.domain(), *first);
            self.dns.set_address(&request.muc_domain(), *first);
        }
        for (ip, names) in hosts {
            for name in names {
                self.dns.set_address(name, *ip);
            }
        }
        let names = vec![
            request.domain(),
            request.muc_domain(),
            format!("pubsub.{}", request.domain()),
        ];
        let cert = self.ca.issue(&names, CertificateKind::Valid)?;
        let started =
            cluster::LabCluster::start(request, place, &self.dir, &cert.cert_pem, &cert.key_pem)
                .await?;
        self.clusters.insert(request.role.clone(), started);
        if let Err(error) = registry::record(&self.registry, &self.record()) {
            tracing::warn!(%error, "cannot record the lab; `jspec lab down` will not see it");
        }
        Ok(())
    }

    pub fn servers(&self) -> impl Iterator<Item = &Prosody> {
        self.servers.values()
    }

    /// Where `user`'s connections to `upstream` (a port of `role`) go: through the user's own
    /// proxy on the proxy plane, else straight there.
    pub async fn client_route(
        &self,
        user: &str,
        role: &str,
        upstream: SocketAddr,
    ) -> std::io::Result<SocketAddr> {
        let Some(proxy) = &self.proxy else {
            return Ok(upstream);
        };
        let link = Link::new(Endpoint::User(user.into()), Endpoint::Server(role.into()));
        proxy
            .route(&link, SocketAddr::from((self.client_ip, 0)), upstream)
            .await
    }

    pub fn proxy(&self) -> Option<&Arc<ProxyPlane>> {
        self.proxy.as_ref()
    }

    /// The packet plane's network, when the lab runs on it.
    pub fn packet(&self) -> Option<&PacketNet> {
        self.packet.as_ref()
    }

    /// The lab as recorded for `jspec lab status|down`.
    pub fn record(&self) -> registry::LabRecord {
        registry::LabRecord {
            owner_pid: std::process::id(),
            dir: self.dir.clone(),
            servers: self
                .servers
                .values()
                .filter(|s| s.pid() != 0)
                .map(|s| registry::ServerRecord {
                    role: s.spec.role.clone(),
                    domain: s.spec.domain.clone(),
                    address: s.spec.address.to_string(),
                    pid: s.pid(),
                    config: s.dir.join("prosody.cfg.lua"),
                })
                .chain(
                    self.kdc_record()
                        .map(|(pid, pid_file, address)| registry::ServerRecord {
                            role: "kdc".into(),
                            domain: kerberos::REALM.into(),
                            address,
                            pid,
                            config: pid_file,
                        }),
                )
                .chain(
                    self.clusters
                        .values()
                        .flat_map(cluster::LabCluster::records),
                )
                .collect(),
        }
    }

    /// Trust anchors for clients of this lab: its CA.
    pub fn trust_store(&self) -> rustls::RootCertStore {
        let mut store = rustls::RootCertStore::empty();
        // The CA was generated by this process; a refusal here would be a bug in rcgen/rustls.
        if let Err(error) = store.add(rustls::pki_types::CertificateDer::from(self.ca.cert_der())) {
            tracing::error!(%error, "the lab CA is not a valid trust anchor");
        }
        store
    }

    /// Stops every server (SIGTERM, grace, SIGKILL), all at once.
    /// Stops the servers gracefully (SIGTERM, then SIGKILL after a grace period), then the
    /// lab's helpers and networks.
    pub async fn stop(self) {
        self.shut_down(false).await;
    }

    /// Like [`Lab::stop`], but the servers are killed at once (a forced stop of the run).
    pub async fn kill(self) {
        self.shut_down(true).await;
    }

    async fn shut_down(mut self, kill: bool) {
        // Forgotten only once everything is stopped: a jspec killed meanwhile leaves the record
        // for `jspec lab down` and the next run.
        let record = self.record();
        let registry = self.registry.clone();
        self.stop_kdc().await;
        if let Some(ocsp) = self.ocsp.take() {
            ocsp.shutdown().await;
        }
        if let Some(proxy) = &self.proxy {
            proxy.shutdown();
        }
        let clusters = std::mem::take(&mut self.clusters);
        let cluster_stops = clusters
            .into_values()
            .map(|cluster| tokio::spawn(cluster.shut_down(kill)));
        let stops = self.servers.into_values().map(|server| match kill {
            true => tokio::spawn(server.kill()),
            false => tokio::spawn(server.stop()),
        });
        let stops: Vec<_> = stops.chain(cluster_stops).collect();
        for stop in stops {
            let _ = stop.await;
        }
        // After the servers: a namespace with live sockets lingers.
        if let Some(net) = self.packet
            && let Err(error) = net.destroy().await
        {
            tracing::warn!(%error, "the packet lab was not removed completely");
        }
        registry::forget(&registry, &record);
    }
}

/// Splits the lab's cluster addresses: per cluster, one per node, one per database node, and
/// then its database's.
fn cluster_places(clusters: &[cluster::ClusterRequest], pool: &[Ipv4Addr]) -> Vec<Vec<Ipv4Addr>> {
    let mut rest = pool;
    clusters
        .iter()
        .map(|request| {
            let wanted = request.nodes.len() + request.database_nodes.len() + 1;
            let (mine, others) = rest.split_at(wanted.min(rest.len()));
            rest = others;
            mine.to_vec()
        })
        .collect()
}
