//! A lab Kerberos KDC (MIT krb5kdc) for one private realm, built from files in one folder of the
//! run: its own krb5.conf and kdc.conf (named to every command through KRB5_CONFIG and
//! KRB5_KDC_PROFILE, so /etc/krb5.conf is never read), its own database, keytabs and credential
//! caches. The KDC runs in the foreground on a lab loopback address and a free port, and is
//! stopped by PID like the lab's XMPP servers.

use std::net::{Ipv4Addr, SocketAddr, TcpListener, UdpSocket};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use super::process::{ManagedProcess, ProcessError, STOP_GRACE};
use super::prosody::ProsodyKerberos;
use crate::xmpp::KerberosConfig;

mod command;
mod config;

use crate::lab::files::{WriteError, create_dir, write_file};
use command::Files;
pub use config::{render_kdc_conf, render_krb5_conf};

/// The realm the lab uses unless told otherwise.
pub const DEFAULT_REALM: &str = "TEST.REALM";

/// Bound on every administrative command (kdb5_util, kadmin.local, kinit).
const COMMAND_TIMEOUT: Duration = Duration::from_secs(30);
/// How long a new KDC may take to accept connections (it is ready in milliseconds).
const READY_TIMEOUT: Duration = Duration::from_secs(10);
/// Clock skew the lab tolerates. The krb5 default (300 s) would let an expired ticket work for
/// five more minutes; on one machine a second is plenty.
const CLOCK_SKEW_SECS: u32 = 1;

#[derive(Debug, thiserror::Error)]
pub enum KdcError {
    #[error(transparent)]
    Process(#[from] ProcessError),
    #[error(transparent)]
    Write(#[from] WriteError),
    #[error("cannot run `{command}`: {source} (is krb5 installed? scripts/deps.sh)")]
    Spawn {
        command: String,
        #[source]
        source: std::io::Error,
    },
    #[error("`{command}` timed out after {}s", COMMAND_TIMEOUT.as_secs())]
    Timeout { command: String },
    #[error("`{command}` failed ({status}): {stderr}")]
    Failed {
        command: String,
        status: String,
        stderr: String,
    },
    #[error("cannot use {what} {value:?} in the lab realm: {why}")]
    BadValue {
        what: &'static str,
        value: String,
        why: &'static str,
    },
    #[error("no free port for the KDC on {address}: {source}")]
    NoPort {
        address: Ipv4Addr,
        #[source]
        source: std::io::Error,
    },
    #[error("the KDC exited during start-up ({status}); last lines of {log}:\n{tail}")]
    Exited {
        status: String,
        log: String,
        tail: String,
    },
    #[error("the KDC did not accept connections on {addr} within {}s", READY_TIMEOUT.as_secs())]
    NotReady { addr: SocketAddr },
}

/// A running lab KDC and the files of its realm.
#[derive(Debug)]
pub struct Kdc {
    realm: String,
    dir: PathBuf,
    addr: SocketAddr,
    process: ManagedProcess,
}

impl Kdc {
    /// Creates the realm `realm` in `dir` (configuration, database, stash) and starts krb5kdc
    /// on `address` and a free port; returns once it accepts connections.
    pub async fn start(dir: &Path, realm: &str, address: Ipv4Addr) -> Result<Kdc, KdcError> {
        create_dir(dir.to_path_buf())?;
        create_dir(dir.join("ccache"))?;
        let addr = SocketAddr::from((address, free_port(address)?));
        let write = |name: &str, text: String| write_file(dir.join(name), text);
        write("krb5.conf", render_krb5_conf(realm, addr))?;
        write("kdc.conf", render_kdc_conf(realm, addr, dir))?;
        write("kadm5.acl", String::new())?;
        let files = Files::of(dir);
        // The master key only protects the lab database on disk; it is not a secret.
        files
            .run(
                "kdb5_util",
                &["create", "-s", "-r", realm, "-P", "jspec-lab-master-key"],
                None,
            )
            .await?;
        let envs = files.envs();
        let envs: Vec<(&str, &str)> = envs.iter().map(|(k, v)| (*k, v.as_str())).collect();
        // -n: foreground, so the PID is the KDC's own and it dies with the lab.
        let krb5kdc = command::locate("krb5kdc").display().to_string();
        // -P: the pid file's path on the command line lets `jspec lab down` recognise the KDC.
        let pid_file = dir.join("krb5kdc.pid").display().to_string();
        let mut process = ManagedProcess::spawn(
            "kdc",
            &krb5kdc,
            &["-n", "-r", realm, "-P", &pid_file],
            &dir.join("krb5kdc.stdout.log"),
            &envs,
        )?;
        if let Err(error) = wait_ready(&mut process, addr, &dir.join("kdc.log")).await {
            process.stop(STOP_GRACE).await;
            return Err(error);
        }
        tracing::debug!(realm, %addr, pid = process.pid(), "lab KDC ready");
        Ok(Kdc {
            realm: realm.to_string(),
            dir: dir.to_path_buf(),
            addr,
            process,
        })
    }

    /// The krb5 programs the lab KDC needs that are not installed (scripts/deps.sh installs
    /// them), so a caller can report what is missing before it tries.
    pub fn missing_programs() -> Vec<&'static str> {
        command::PROGRAMS
            .into_iter()
            .filter(|program| command::find(program).is_none())
            .collect()
    }

    pub fn realm(&self) -> &str {
        &self.realm
    }

    /// Where the KDC listens (TCP and UDP).
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    pub fn pid(&self) -> u32 {
        self.process.pid()
    }

    /// The realm's client configuration: clients and servers of the lab get it as KRB5_CONFIG.
    /// The pid file named on the KDC's command line.
    pub fn pid_file(&self) -> PathBuf {
        self.dir.join("krb5kdc.pid")
    }

    pub fn krb5_conf(&self) -> PathBuf {
        self.dir.join("krb5.conf")
    }

    /// `name@REALM`.
    pub fn principal(&self, name: &str) -> String {
        format!("{name}@{}", self.realm)
    }

    /// Adds a user principal with a password. `max_life` caps its tickets' lifetime (the KDC
    /// refuses nothing shorter, so a test can make a ticket that expires in seconds).
    pub async fn add_user(
        &self,
        name: &str,
        password: &str,
        max_life: Option<Duration>,
    ) -> Result<(), KdcError> {
        check("user name", name)?;
        check("password", password)?;
        let principal = self.principal(name);
        let mut query = format!("addprinc -pw \"{password}\" ");
        if let Some(life) = max_life {
            query.push_str(&format!("-maxlife \"{} seconds\" ", life.as_secs().max(1)));
        }
        query.push_str(&principal);
        self.kadmin(&query, &format!("addprinc {principal}")).await
    }

    /// Adds a service principal (`xmpp/a.test`) with a random key and writes that key into a
    /// keytab of its own, whose path is returned (for the server's KRB5_KTNAME).
    pub async fn add_service(&self, service: &str) -> Result<PathBuf, KdcError> {
        check("service", service)?;
        let principal = self.principal(service);
        self.kadmin(
            &format!("addprinc -randkey {principal}"),
            &format!("addprinc {principal}"),
        )
        .await?;
        let keytab = self
            .dir
            .join(format!("{}.keytab", service.replace('/', "_")));
        let query = format!("ktadd -k {} {principal}", keytab.display());
        self.kadmin(&query, &format!("ktadd {principal}")).await?;
        Ok(keytab)
    }

    /// Gets `user` a ticket-granting ticket with `password` (kinit, password on stdin) into a
    /// credential cache file of its own, whose path is returned (for the client's KRB5CCNAME).
    /// `lifetime` asks for a shorter ticket than the principal's maximum.
    pub async fn kinit(
        &self,
        user: &str,
        password: &str,
        lifetime: Option<Duration>,
    ) -> Result<PathBuf, KdcError> {
        check("user name", user)?;
        let ccache = self.ccache_path(user);
        let principal = self.principal(user);
        let cache_arg = format!("FILE:{}", ccache.display());
        let life = lifetime.map(|l| format!("{}s", l.as_secs().max(1)));
        let mut args = vec!["-c", cache_arg.as_str()];
        if let Some(life) = &life {
            args.extend(["-l", life.as_str()]);
        }
        args.push(principal.as_str());
        let stdin = format!("{password}\n");
        Files::of(&self.dir)
            .run("kinit", &args, Some(stdin.as_bytes()))
            .await?;
        Ok(ccache)
    }

    /// Where `user`'s credential cache is (whether or not it holds a ticket yet).
    pub fn ccache_path(&self, user: &str) -> PathBuf {
        self.dir.join("ccache").join(format!("{user}.cc"))
    }

    /// Makes `xmpp/<domain>` a service of the realm and returns what a Prosody for `domain`
    /// needs to accept its users' tickets.
    pub async fn prosody_kerberos(&self, domain: &str) -> Result<ProsodyKerberos, KdcError> {
        let keytab = self.add_service(&format!("xmpp/{domain}")).await?;
        Ok(ProsodyKerberos::new(keytab, self.krb5_conf()))
    }

    /// What `user`'s client needs for a GSSAPI login: their cache (with a ticket once `kinit`
    /// ran) and the realm's krb5.conf.
    pub fn client_kerberos(&self, user: &str) -> KerberosConfig {
        KerberosConfig {
            ccache: Some(self.ccache_path(user)),
            krb5_config: Some(self.krb5_conf()),
            helper: None,
        }
    }

    /// SIGTERM, grace, SIGKILL.
    pub async fn stop(self) {
        self.process.stop(STOP_GRACE).await;
    }

    async fn kadmin(&self, query: &str, what: &str) -> Result<(), KdcError> {
        let files = Files::of(&self.dir);
        files
            .run_named(
                &format!("kadmin.local {what}"),
                "kadmin.local",
                &["-r", &self.realm, "-q", query],
                None,
            )
            .await
            .map(drop)
    }
}

/// Names and passwords travel inside a kadmin.local query (and file names): no quotes, spaces
/// or control characters, which its parser would split or end the query on.
fn check(what: &'static str, value: &str) -> Result<(), KdcError> {
    let why = if value.is_empty() {
        "it is empty"
    } else if value
        .chars()
        .any(|c| c == '"' || c == '\\' || c.is_whitespace() || c.is_control())
    {
        "quotes, backslashes, spaces and control characters are not allowed"
    } else {
        return Ok(());
    };
    Err(KdcError::BadValue {
        what,
        value: if what == "password" {
            "<redacted>".into()
        } else {
            value.into()
        },
        why,
    })
}

/// A port free for both TCP and UDP on `address` (krb5kdc binds both).
fn free_port(address: Ipv4Addr) -> Result<u16, KdcError> {
    let mut last = None;
    for _ in 0..32 {
        let tcp = TcpListener::bind((address, 0))
            .map_err(|source| KdcError::NoPort { address, source })?;
        let port = tcp.local_addr().map_or(0, |a| a.port());
        match UdpSocket::bind((address, port)) {
            Ok(_) => return Ok(port),
            Err(error) => last = Some(error),
        }
    }
    Err(KdcError::NoPort {
        address,
        source: last.unwrap_or_else(|| std::io::Error::other("no port")),
    })
}

async fn wait_ready(
    process: &mut ManagedProcess,
    addr: SocketAddr,
    log: &Path,
) -> Result<(), KdcError> {
    let started = Instant::now();
    loop {
        if let Some(status) = process.exit_status() {
            let text = std::fs::read_to_string(log).unwrap_or_default();
            let lines: Vec<&str> = text.lines().collect();
            let mut tail = lines[lines.len().saturating_sub(10)..].join("\n");
            if tail.is_empty() {
                tail = process.log_tail(10);
            }
            return Err(KdcError::Exited {
                status: status.to_string(),
                log: log.display().to_string(),
                tail,
            });
        }
        let attempt = tokio::time::timeout(
            Duration::from_millis(200),
            tokio::net::TcpStream::connect(addr),
        )
        .await;
        if matches!(attempt, Ok(Ok(_))) {
            return Ok(());
        }
        if started.elapsed() > READY_TIMEOUT {
            return Err(KdcError::NotReady { addr });
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kadmin_values_are_checked() {
        assert!(check("user name", "alice").is_ok());
        assert!(check("service", "xmpp/a.test").is_ok());
        let err = check("password", "a \"b")
            .map(|()| "")
            .unwrap_err()
            .to_string();
        assert!(err.contains("\"<redacted>\""), "{err}");
        assert!(check("user name", "").is_err());
    }
}
