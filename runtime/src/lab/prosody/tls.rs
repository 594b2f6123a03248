//! A managed Prosody's TLS side as cases change it: its certificate replaced, its settings
//! changed, its configuration reloaded, and its server-to-server links read and closed through
//! the admin shell.

use super::gssapi::ProsodyKerberos;
use super::{Prosody, ProsodyError, ServerSettings, render_config};
use crate::lab::files::{WriteError, write_file};
use crate::lab::server::ServerProcess;
use crate::sync::lock;

/// How a server-to-server link authenticated, as the admin shell shows it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum S2sAuth {
    /// SASL EXTERNAL: the peer's certificate was verified.
    Certificate,
    /// XEP-0220 dialback: the peer was verified through DNS and a call back.
    Dialback,
    /// Neither has completed yet.
    Pending,
}

/// One server-to-server session of a server.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct S2sLink {
    /// `true` for a connection this server opened.
    pub outgoing: bool,
    /// The peer's domain.
    pub remote: String,
    /// The peer's port for outgoing links, the local one for incoming (5270 is Direct TLS).
    pub port: Option<u16>,
    /// The TLS version (`TLSv1.3`), or `insecure`.
    pub security: String,
    pub auth: S2sAuth,
}

/// Columns asked of `s2s:show`, in this order (with `host`, the table is not grouped by host).
const COLUMNS: &str = "host dir remote port secure s2s_sasl dialback";

impl Prosody {
    /// Writes a new certificate and key, then reloads so that new connections present it.
    pub async fn replace_certificate(
        &self,
        cert_pem: &str,
        key_pem: &str,
    ) -> Result<(), ProsodyError> {
        let certs = self.dir.join("certs");
        for (ext, text) in [("crt", cert_pem), ("key", key_pem)] {
            let path = certs.join(format!("{}.{ext}", self.spec.domain));
            write_file(path, text)?;
        }
        self.reload().await
    }

    /// Re-reads configuration and certificates (the admin shell's `config:reload()`; SIGHUP
    /// needs mod_posix, which the lab leaves off). Live connections keep their old TLS state.
    pub async fn reload(&self) -> Result<(), ProsodyError> {
        self.shell("config:reload()").await.map(drop)
    }

    /// The settings in force.
    pub fn settings(&self) -> ServerSettings {
        lock(&self.settings).clone()
    }

    /// Applies `settings` (with `kerberos`, how to accept tickets, when they ask for it):
    /// rewrites the configuration and restarts the server (Prosody reads its s2s and
    /// authentication options when modules load, so a reload is not enough). Returns whether
    /// anything changed.
    pub async fn reconfigure(
        &self,
        settings: &ServerSettings,
        kerberos: Option<ProsodyKerberos>,
    ) -> Result<bool, ProsodyError> {
        if self.settings() == *settings {
            return Ok(false);
        }
        let mut spec = self.spec.clone();
        spec.settings = settings.clone();
        spec.kerberos = kerberos.clone();
        if let Some(kerberos) = &kerberos {
            kerberos
                .write_sasl_conf(&self.dir)
                .map_err(WriteError::at(self.dir.join("sasl")))?;
        }
        write_file(
            self.dir.join("prosody.cfg.lua"),
            render_config(&spec, &self.dir),
        )?;
        *lock(&self.settings) = settings.clone();
        *lock(&self.kerberos) = kerberos;
        self.stop_process().await;
        self.start_process().await?;
        Ok(true)
    }

    /// The server's server-to-server sessions.
    pub async fn s2s_links(&self) -> Result<Vec<S2sLink>, ProsodyError> {
        let output = self.shell(&format!("s2s:show(nil, {COLUMNS:?})")).await?;
        Ok(parse_s2s_show(&output))
    }

    /// Closes every server-to-server session with `remote` (all of them when `None`), so the
    /// next stanza opens a link that authenticates afresh.
    pub async fn close_s2s(&self, remote: Option<&str>) -> Result<(), ProsodyError> {
        let command = match remote {
            Some(host) => format!("s2s:closeall({host:?})"),
            None => "s2s:closeall()".to_string(),
        };
        match self.shell(&command).await {
            Ok(_) => Ok(()),
            // "No sessions to close." is a failure to the shell and success to us.
            Err(ProsodyError::Ctl { output, .. }) if output.contains("No sessions") => Ok(()),
            Err(error) => Err(error),
        }
    }

    /// Asks the server to ping `remote` (which opens a link if there is none); the answer does
    /// not matter, the link does.
    pub async fn ping_remote(&self, remote: &str) {
        let command = format!("xmpp:ping({:?}, {remote:?}, 5)", self.spec.domain);
        if let Err(error) = self.shell(&command).await {
            tracing::debug!(%error, remote, "admin shell ping");
        }
    }
}

/// Rows of `s2s:show` with [`COLUMNS`]:
/// `a.test | --> | b.test | 5269 | TLSv1.3 | Succeeded | Not used`.
fn parse_s2s_show(output: &str) -> Vec<S2sLink> {
    output
        .lines()
        .filter_map(|line| {
            let cells: Vec<&str> = line.split('|').map(str::trim).collect();
            let [_host, dir, remote, port, security, sasl, dialback] = cells.as_slice() else {
                return None;
            };
            let outgoing = match *dir {
                "-->" | "<->" => true,
                "<--" => false,
                _ => return None,
            };
            let auth = if sasl.eq_ignore_ascii_case("succeeded") {
                S2sAuth::Certificate
            } else if dialback.eq_ignore_ascii_case("completed") {
                S2sAuth::Dialback
            } else {
                S2sAuth::Pending
            };
            Some(S2sLink {
                outgoing,
                remote: remote.to_string(),
                port: port.parse().ok(),
                security: security.to_string(),
                auth,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_admin_shell_table() {
        let output = "\
Host   | Dir | Remote                 | Port  | Security | SASL       | Dialback     
a.test | --> | b.test                 |  5270 | TLSv1.3  | Succeeded  | Not used     
a.test | <-- | b.test                 |  5269 | TLSv1.3  |            | Completed    
a.test | --> | c.test                 |  5269 | insecure |            | Initiated    
OK: 3 s2s connections shown";
        let links = parse_s2s_show(output);
        assert_eq!(links.len(), 3);
        assert_eq!(
            links[0],
            S2sLink {
                outgoing: true,
                remote: "b.test".into(),
                port: Some(5270),
                security: "TLSv1.3".into(),
                auth: S2sAuth::Certificate,
            }
        );
        assert!(!links[1].outgoing);
        assert_eq!(links[1].auth, S2sAuth::Dialback);
        assert_eq!(links[2].auth, S2sAuth::Pending);
    }
}
