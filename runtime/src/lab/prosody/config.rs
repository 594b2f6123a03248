//! A managed Prosody's configuration: the settings a case may change, and the text of
//! `prosody.cfg.lua` rendered from a spec.

use std::net::SocketAddr;
use std::path::Path;

use super::{C2S_DIRECT_TLS_PORT, C2S_PORT, ProsodySpec, S2S_DIRECT_TLS_PORT, S2S_PORT};

/// What a run adds to a managed Prosody: modules and options from the environment file, and
/// the server administrators the cases declare (`user boss on a as admin`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ProsodyExtensions {
    /// Module names (without `mod_`) loaded beyond the lab's own.
    pub modules: Vec<String>,
    /// Lab modules not loaded.
    pub modules_disabled: Vec<String>,
    /// Option names with their values as Lua expressions, checked when the file was read.
    pub options: Vec<(String, String)>,
    /// Bare JIDs of the server's administrators (also of its MUC and pubsub services).
    pub admins: Vec<String>,
    /// The time its clock stands still at, from its start (`clock = "..."`).
    pub clock: Option<time::OffsetDateTime>,
}

/// What a case may need a managed server to do differently from the lab's defaults.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ServerSettings {
    /// Refuse s2s peers whose certificate does not verify (no dialback fallback). On by
    /// default: a federation of this kind requires authenticated links.
    pub s2s_secure_auth: bool,
    /// Check peer certificates against the lab CRL.
    pub crl_check: bool,
    /// Clients log in with certificates (SASL EXTERNAL, prosody-modules' mod_auth_ccert)
    /// instead of passwords.
    pub certificate_login: bool,
    /// Peers find the server's Direct TLS port (XEP-0368): the lab DNS publishes its
    /// `_xmpps-server._tcp` record, so server-to-server links to it start with TLS.
    pub s2s_direct_tls: bool,
    /// Clients log in with Kerberos tickets (SASL GSSAPI through Cyrus SASL) from the lab KDC.
    pub kerberos: bool,
}

impl Default for ServerSettings {
    fn default() -> Self {
        ServerSettings {
            s2s_secure_auth: true,
            crl_check: false,
            certificate_login: false,
            s2s_direct_tls: false,
            kerberos: false,
        }
    }
}

impl ServerSettings {
    /// The settings a case needs from what it `requires`: `dialback` lets unauthenticated peers
    /// in by dialback, `crl` checks revocation, `external` logs clients in by certificate,
    /// `gssapi` by Kerberos ticket, `direct-tls` publishes Direct TLS for s2s. Other
    /// capabilities leave the defaults.
    pub fn for_requirements<'a>(required: impl IntoIterator<Item = &'a str>) -> ServerSettings {
        let mut settings = ServerSettings::default();
        for capability in required {
            match capability {
                "dialback" => settings.s2s_secure_auth = false,
                "crl" => settings.crl_check = true,
                "external" => settings.certificate_login = true,
                "direct-tls" => settings.s2s_direct_tls = true,
                "gssapi" => settings.kerberos = true,
                _ => {}
            }
        }
        settings
    }
}

/// `s2s secure auth, CRL not checked, client login by password`, as traces show a change.
impl std::fmt::Display for ServerSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let s2s = match self.s2s_secure_auth {
            true => "secure auth",
            false => "dialback allowed",
        };
        let crl = match self.crl_check {
            true => "checked",
            false => "not checked",
        };
        let login = match (self.kerberos, self.certificate_login) {
            (true, _) => "Kerberos ticket",
            (false, true) => "certificate",
            (false, false) => "password",
        };
        write!(f, "s2s {s2s}, CRL {crl}, client login by {login}")?;
        if self.s2s_direct_tls {
            f.write_str(", s2s Direct TLS published")?;
        }
        Ok(())
    }
}

/// The text of `prosody.cfg.lua` for a server whose files live in `dir`.
pub fn render_config(spec: &ProsodySpec, dir: &Path) -> String {
    let path = |name: &str| lua_string(&dir.join(name).display().to_string());
    let address = spec.address;
    let hosts = lua_string(&spec.hosts_file.display().to_string());
    let settings = &spec.settings;
    // With crl_check, LuaSec refuses every peer unless the CRL sits in the CA file.
    let (ca, verifyext) = match settings.crl_check {
        true => (&spec.ca_crl_file, r#"; verifyext = { "crl_check" }"#),
        false => (&spec.ca_file, ""),
    };
    let ca = lua_string(&ca.display().to_string());
    let authentication = match (&spec.kerberos, settings.certificate_login) {
        (Some(kerberos), _) => kerberos.config_lines(&spec.domain),
        (None, true) => "authentication = \"ccert\"".to_string(),
        (None, false) => "authentication = \"internal_hashed\"".to_string(),
    };
    // mod_auth_ccert reads the client certificate, which is only asked for when told to.
    let client_certificates = match settings.certificate_login {
        true => concat!(
            "certificate_match = \"xmppaddr\"\n",
            "c2s_ssl = { verify = { \"peer\", \"client_once\" } }\n",
            "c2s_direct_tls_ssl = { verify = { \"peer\", \"client_once\" } }\n",
        ),
        false => "",
    };
    let domain = lua_string(&spec.domain);
    let muc = lua_string(&spec.muc_domain());
    let pubsub = lua_string(&spec.pubsub_domain());
    let extensions = &spec.extensions;
    let extra_modules: String = extensions
        .modules
        .iter()
        .map(|m| format!(" {};", lua_string(m)))
        .collect();
    let disabled: String = extensions
        .modules_disabled
        .iter()
        .map(|m| format!(" {};", lua_string(m)))
        .collect();
    let admins: Vec<String> = extensions.admins.iter().map(|a| lua_string(a)).collect();
    let lab_options = [
        ("muc_room_locking", "false"),
        ("muc_room_default_persistent", "true"),
    ];
    let options: String = lab_options
        .iter()
        .filter(|(key, _)| !extensions.options.iter().any(|(k, _)| k == key))
        .map(|(key, value)| (key.to_string(), value.to_string()))
        .chain(extensions.options.iter().cloned())
        .map(|(key, value)| format!("{key} = {value}\n"))
        .collect();
    format!(
        r#"-- Generated by jspec for lab role "{role}". Edits are overwritten at the next start.
run_as_root = true
pidfile = {pidfile}
data_path = {data}
admin_socket = {socket}
log = {{ {{ levels = {{ min = "debug" }}, to = "file", filename = {log} }} }}

interfaces = {{ "{address}" }}
c2s_ports = {{ {C2S_PORT} }}
c2s_direct_tls_ports = {{ {C2S_DIRECT_TLS_PORT} }}
s2s_ports = {{ {S2S_PORT} }}
s2s_direct_tls_ports = {{ {S2S_DIRECT_TLS_PORT} }}
http_ports = {{ }}
https_ports = {{ }}

-- The modules Prosody's shipped example config enables (not registration, invites or
-- bandwidth limits: the lab creates the accounts and measures the network), plus MAM; then
-- what the environment file adds.
modules_enabled = {{
  "roster"; "saslauth"; "tls"; "dialback"; "disco"; "ping"; "pep"; "private";
  "blocklist"; "bookmarks"; "vcard_legacy"; "vcard4"; "carbons"; "smacks"; "csi_simple";
  "time"; "uptime"; "version"; "lastactivity"; "mam"; "admin_shell";{extra_modules}
}}
modules_disabled = {{ "posix";{disabled} }}
admins = {{ {admins} }}

{authentication}
{client_certificates}storage = "internal"
-- Nagle's algorithm adds ~40 ms to every exchange on loopback; a test lab wants it off.
network_settings = {{ nagle = false }}
archive_expires_after = "never"

c2s_require_encryption = true
s2s_require_encryption = true
s2s_secure_auth = {secure}

certificates = {certs}
ssl = {{ cafile = {ca}; capath = false{verifyext} }}

-- Lab name resolution: libunbound with the lab's hosts file; `test.` is not reserved here.
{unbound}

-- The lab's options (rooms open at once and outlive their occupants: cases join and leave as
-- they please), then the environment file's: Prosody refuses an option set twice, so those
-- replace the lab's.
{options}
VirtualHost {domain}

Component {muc} "muc"
  modules_enabled = {{ "muc_mam" }}

Component {pubsub} "pubsub"
"#,
        role = spec.role,
        pidfile = path("prosody.pid"),
        data = path("data"),
        socket = path("prosody.sock"),
        log = path("prosody.log"),
        secure = settings.s2s_secure_auth,
        unbound = unbound_config(&hosts, spec.dns),
        certs = path("certs"),
        admins = admins.join("; "),
    )
}

/// Prosody's resolver: addresses from the server's hosts file; with a lab DNS, the other names
/// of `test.` (SRV records) are forwarded to it (`forward` takes a port, resolv.conf does not).
fn unbound_config(hosts: &str, dns: Option<SocketAddr>) -> String {
    match dns {
        Some(dns) => format!(
            r#"unbound = {{ hoststxt = {hosts}; resolvconf = false; forward = "{ip}@{port}"; options = {{ ["local-zone:"] = "test. transparent"; ["do-not-query-localhost:"] = "no" }} }}"#,
            ip = dns.ip(),
            port = dns.port(),
        ),
        None => format!(
            r#"unbound = {{ hoststxt = {hosts}; resolvconf = false; options = {{ ["local-zone:"] = "test. static" }} }}"#
        ),
    }
}

/// The command that runs `program args` inside `netns` (`ip netns exec` execs it, so the PID is
/// the program's own), or as is.
pub(crate) fn in_namespace(
    netns: Option<&str>,
    program: &str,
    args: &[&str],
) -> (String, Vec<String>) {
    match netns {
        Some(netns) => {
            let mut all = vec![
                "netns".to_string(),
                "exec".to_string(),
                netns.to_string(),
                program.to_string(),
            ];
            all.extend(args.iter().map(|a| a.to_string()));
            ("ip".to_string(), all)
        }
        None => (
            program.to_string(),
            args.iter().map(|a| a.to_string()).collect(),
        ),
    }
}

/// A Lua string literal.
fn lua_string(text: &str) -> String {
    format!("{:?}", text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requirements_choose_settings_and_the_rest_keeps_the_defaults() {
        assert_eq!(
            ServerSettings::for_requirements(["mam", "muc"]),
            ServerSettings::default()
        );
        let settings = ServerSettings::for_requirements(["dialback", "crl", "direct-tls"]);
        assert!(!settings.s2s_secure_auth && settings.crl_check && settings.s2s_direct_tls);
        assert_eq!(
            settings.to_string(),
            "s2s dialback allowed, CRL checked, client login by password, s2s Direct TLS published"
        );
        let login = ServerSettings::for_requirements(["external", "gssapi"]);
        assert_eq!(
            login.to_string(),
            "s2s secure auth, CRL not checked, client login by Kerberos ticket"
        );
    }
}
