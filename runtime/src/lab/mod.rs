//! The built-in local lab: real servers started on this machine, each on its own loopback
//! address with its own domain, trusting one lab CA, finding each other through a lab hosts
//! file. Everything lives in one folder (normally inside the run folder) and is stopped by PID.

pub mod pki;
pub mod process;
pub mod prosody;
pub mod registry;

use std::collections::BTreeMap;
use std::net::{Ipv4Addr, TcpListener};
use std::path::{Path, PathBuf};

use pki::{CertificateKind, LabCa, PkiError};
use prosody::{Prosody, ProsodyError, ProsodySpec};

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

/// What to start.
#[derive(Clone, Debug, Default)]
pub struct LabSpec {
    /// Server roles, e.g. `a`, `b`: each gets domain `<role>.test`.
    pub servers: Vec<String>,
    /// Refuse s2s peers whose certificate does not verify.
    pub s2s_secure_auth: bool,
    /// The programs to run (found on PATH unless given as paths).
    pub programs: Programs,
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
    pub ca: LabCa,
    pub ca_file: PathBuf,
    servers: BTreeMap<String, Prosody>,
    registry: PathBuf,
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
        let ca = LabCa::generate("jspec lab CA")?;
        let ca_file = dir.join("ca.pem");
        std::fs::write(&ca_file, ca.cert_pem()).map_err(|source| LabError::Folder {
            path: ca_file.clone(),
            source,
        })?;
        let addresses = free_addresses(spec.servers.len())?;
        let hosts_file = dir.join("hosts");
        let specs: Vec<ProsodySpec> = spec
            .servers
            .iter()
            .zip(addresses)
            .map(|(role, address)| ProsodySpec {
                role: role.clone(),
                domain: format!("{role}.test"),
                address,
                hosts_file: hosts_file.clone(),
                ca_file: ca_file.clone(),
                s2s_secure_auth: spec.s2s_secure_auth,
                programs: spec.programs.clone(),
                netns: None,
            })
            .collect();
        let hosts: String = specs
            .iter()
            .map(|s| format!("{} {} {}\n", s.address, s.domain, s.muc_domain()))
            .collect();
        std::fs::write(&hosts_file, hosts).map_err(|source| LabError::Folder {
            path: hosts_file.clone(),
            source,
        })?;
        let registry = registry::registry_dir();
        // Servers a killed jspec left behind would hold the lab's ports: stop them first.
        let cleaned = registry::cleanup(&registry, false).await;
        if !cleaned.stopped.is_empty() {
            tracing::warn!(servers = ?cleaned.stopped, "stopped servers left behind by an earlier jspec");
        }
        let mut lab = Lab {
            dir: dir.to_path_buf(),
            ca,
            ca_file,
            servers: BTreeMap::new(),
            registry,
        };
        for server in specs {
            let role = server.role.clone();
            let names = vec![server.domain.clone(), server.muc_domain()];
            let cert = lab.ca.issue(&names, CertificateKind::Valid)?;
            let server_dir = dir.join(&role);
            mkdir(&server_dir)?;
            match Prosody::start(server, &server_dir, &cert.cert_pem, &cert.key_pem).await {
                Ok(prosody) => {
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
        Ok(lab)
    }

    pub fn server(&self, role: &str) -> Option<&Prosody> {
        self.servers.get(role)
    }

    pub fn servers(&self) -> impl Iterator<Item = &Prosody> {
        self.servers.values()
    }

    /// The lab as recorded for `jspec lab status|down`.
    pub fn record(&self) -> registry::LabRecord {
        registry::LabRecord {
            owner_pid: std::process::id(),
            dir: self.dir.clone(),
            servers: self
                .servers
                .values()
                .map(|s| registry::ServerRecord {
                    role: s.spec.role.clone(),
                    domain: s.spec.domain.clone(),
                    address: s.spec.address.to_string(),
                    pid: s.pid(),
                    config: s.dir.join("prosody.cfg.lua"),
                })
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
    pub async fn stop(self) {
        registry::forget(&self.registry, &self.record());
        let stops = self
            .servers
            .into_values()
            .map(|server| tokio::spawn(server.stop()));
        for stop in stops {
            let _ = stop.await;
        }
    }
}

/// `count` loopback addresses 127.B.C.1.. whose XMPP ports are free, in a block chosen from the
/// process id so that labs of parallel runs do not meet.
fn free_addresses(count: usize) -> Result<Vec<Ipv4Addr>, LabError> {
    let seed = std::process::id() as usize
        ^ (std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos() as usize));
    const TRIES: usize = 64;
    let mut last = String::new();
    for attempt in 0..TRIES {
        let block = (seed.wrapping_mul(2654435761).wrapping_add(attempt * 7919)) % (250 * 250);
        let (b, c) = ((block / 250 + 1) as u8, (block % 250 + 1) as u8);
        let addresses: Vec<Ipv4Addr> = (1..=count as u8)
            .map(|d| Ipv4Addr::new(127, b, c, d))
            .collect();
        let busy = addresses.iter().find_map(|&ip| {
            [
                prosody::C2S_PORT,
                prosody::C2S_DIRECT_TLS_PORT,
                prosody::S2S_PORT,
                prosody::S2S_DIRECT_TLS_PORT,
            ]
            .iter()
            .find_map(|&port| {
                TcpListener::bind((ip, port))
                    .err()
                    .map(|e| format!("{ip}:{port}: {e}"))
            })
        });
        match busy {
            None => return Ok(addresses),
            Some(reason) => last = reason,
        }
    }
    Err(LabError::NoAddresses { reason: last })
}
