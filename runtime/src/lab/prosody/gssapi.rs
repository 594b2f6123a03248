//! Kerberos single sign-on for a managed Prosody. Core Prosody has no GSSAPI; mod_auth_cyrus
//! (prosody-modules) hands SASL to Cyrus SASL (lua-cyrussasl), whose GSSAPI plugin
//! (libsasl2-modules-gssapi-mit) accepts tickets for `xmpp/<domain>` with the key in a keytab.
//! Cyrus and krb5 read their settings from the environment, so the server process gets them
//! there: KRB5_CONFIG (the lab realm), KRB5_KTNAME (the service key), SASL_CONF_PATH (a folder
//! whose prosody.conf limits the mechanisms to GSSAPI).

use std::path::{Path, PathBuf};

/// Where packages put mod_auth_cyrus (Debian: beside the core modules, one folder per module).
const MODULE_DIRS: [&str; 3] = [
    "/usr/lib/prosody/modules",
    "/usr/share/prosody-modules",
    "/usr/local/lib/prosody/modules",
];

/// How a Prosody accepts Kerberos logins.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProsodyKerberos {
    /// The keytab holding the key of `<service>/<domain>@REALM`.
    pub keytab: PathBuf,
    /// The realm's krb5.conf.
    pub krb5_config: PathBuf,
    /// The GSSAPI service name; clients ask for `<service>@<domain>` (RFC 6120: `xmpp`).
    pub service: String,
    /// The folder holding mod_auth_cyrus, added to `plugin_paths` (`None`: Prosody's own).
    pub module_dir: Option<PathBuf>,
}

impl ProsodyKerberos {
    /// Service `xmpp`, and mod_auth_cyrus wherever the installed packages put it.
    pub fn new(keytab: PathBuf, krb5_config: PathBuf) -> Self {
        ProsodyKerberos {
            keytab,
            krb5_config,
            service: "xmpp".into(),
            module_dir: find_module_dir(),
        }
    }

    /// The authentication part of prosody.cfg.lua (global section).
    pub(crate) fn config_lines(&self, domain: &str) -> String {
        let mut text = String::from(
            "-- Kerberos single sign-on: SASL GSSAPI through Cyrus SASL (mod_auth_cyrus).\n",
        );
        if let Some(dir) = &self.module_dir {
            text.push_str(&format!(
                "plugin_paths = {{ {:?} }}\n",
                dir.display().to_string()
            ));
        }
        text.push_str(&format!(
            "authentication = \"cyrus\"\ncyrus_service_name = {:?}\n\
             cyrus_application_name = \"prosody\"\ncyrus_server_fqdn = {:?}",
            self.service, domain
        ));
        text
    }

    /// Writes the Cyrus SASL application config (`<dir>/sasl/prosody.conf`, named after
    /// `cyrus_application_name`); returns the folder for SASL_CONF_PATH.
    pub(crate) fn write_sasl_conf(&self, dir: &Path) -> std::io::Result<PathBuf> {
        let sasl = dir.join("sasl");
        std::fs::create_dir_all(&sasl)?;
        std::fs::write(sasl.join("prosody.conf"), "mech_list: GSSAPI\n")?;
        Ok(sasl)
    }

    /// The server process's environment.
    pub(crate) fn envs(&self, dir: &Path) -> Vec<(&'static str, String)> {
        vec![
            ("KRB5_CONFIG", self.krb5_config.display().to_string()),
            ("KRB5_KTNAME", format!("FILE:{}", self.keytab.display())),
            ("SASL_CONF_PATH", dir.join("sasl").display().to_string()),
        ]
    }
}

/// The first known folder that holds mod_auth_cyrus.
pub fn find_module_dir() -> Option<PathBuf> {
    MODULE_DIRS.iter().map(PathBuf::from).find(|dir| {
        dir.join("mod_auth_cyrus")
            .join("mod_auth_cyrus.lua")
            .is_file()
            || dir.join("mod_auth_cyrus.lua").is_file()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kerberos() -> ProsodyKerberos {
        ProsodyKerberos {
            keytab: "/lab/kdc/xmpp_a.test.keytab".into(),
            krb5_config: "/lab/kdc/krb5.conf".into(),
            service: "xmpp".into(),
            module_dir: Some("/usr/lib/prosody/modules".into()),
        }
    }

    #[test]
    fn config_uses_cyrus_for_the_domain() {
        let text = kerberos().config_lines("a.test");
        for line in [
            "plugin_paths = { \"/usr/lib/prosody/modules\" }",
            "authentication = \"cyrus\"",
            "cyrus_service_name = \"xmpp\"",
            "cyrus_application_name = \"prosody\"",
            "cyrus_server_fqdn = \"a.test\"",
        ] {
            assert!(text.contains(line), "{line} missing from:\n{text}");
        }
        let without = ProsodyKerberos {
            module_dir: None,
            ..kerberos()
        };
        assert!(!without.config_lines("a.test").contains("plugin_paths"));
    }

    fn spec(kerberos: Option<ProsodyKerberos>) -> super::super::ProsodySpec {
        super::super::ProsodySpec {
            role: "a".into(),
            domain: "a.test".into(),
            address: std::net::Ipv4Addr::new(127, 0, 0, 2),
            hosts_file: "/lab/a/hosts".into(),
            ca_file: "/lab/ca.pem".into(),
            ca_crl_file: "/lab/ca-crl.pem".into(),
            settings: Default::default(),
            programs: Default::default(),
            netns: None,
            dns: None,
            kerberos,
            extensions: Default::default(),
        }
    }

    #[test]
    fn stock_modules_pubsub_and_the_run_s_extensions_are_configured() {
        let mut spec = spec(None);
        spec.extensions = super::super::ProsodyExtensions {
            modules: vec!["server_contact_info".into()],
            modules_disabled: vec!["bookmarks".into()],
            options: vec![(
                "contact_info".into(),
                r#"{ ["abuse"] = { "mailto:abuse@a.test" } }"#.into(),
            )],
            admins: vec!["boss-ab1@a.test".into()],
            clock: None,
        };
        let config = super::super::render_config(&spec, Path::new("/lab/a"));
        for stock in [
            "\"version\"",
            "\"uptime\"",
            "\"blocklist\"",
            "\"lastactivity\"",
        ] {
            assert!(config.contains(stock), "{stock} missing:\n{config}");
        }
        assert!(config.contains(r#""admin_shell"; "server_contact_info";"#));
        assert!(config.contains(r#"admins = { "boss-ab1@a.test" }"#));
        assert!(config.contains(r#"modules_disabled = { "posix"; "bookmarks"; }"#));
        assert_eq!(config.matches("muc_room_locking = false").count(), 1);
        assert!(config.contains(r#"contact_info = { ["abuse"] = { "mailto:abuse@a.test" } }"#));
        // Global options go before the first host, or Prosody would scope them to it.
        let option = config.find("contact_info =").expect("option");
        assert!(option < config.find("VirtualHost").expect("host"));
        assert!(config.contains(r#"Component "pubsub.a.test" "pubsub""#));
    }

    #[test]
    fn server_config_switches_authentication_only() {
        let render = |k| super::super::render_config(&spec(k), Path::new("/lab/a"));
        let internal = render(None);
        assert!(internal.contains("\nauthentication = \"internal_hashed\"\nstorage"));
        assert!(!internal.contains("cyrus") && !internal.contains("plugin_paths"));
        let gssapi = render(Some(kerberos()));
        assert!(!gssapi.contains("internal_hashed"));
        assert!(gssapi.contains("authentication = \"cyrus\""));
        // Everything else is the same server.
        let strip = |text: &str| -> Vec<String> {
            text.lines()
                .filter(|l| !l.contains("authentication") && !l.contains("cyrus"))
                .filter(|l| !l.contains("plugin_paths") && !l.starts_with("-- Kerberos"))
                .map(str::to_string)
                .collect()
        };
        assert_eq!(strip(&internal), strip(&gssapi));
    }

    #[test]
    fn environment_names_realm_keytab_and_sasl_folder() {
        let envs = kerberos().envs(Path::new("/lab/a"));
        assert_eq!(
            envs,
            vec![
                ("KRB5_CONFIG", "/lab/kdc/krb5.conf".to_string()),
                (
                    "KRB5_KTNAME",
                    "FILE:/lab/kdc/xmpp_a.test.keytab".to_string()
                ),
                ("SASL_CONF_PATH", "/lab/a/sasl".to_string()),
            ]
        );
    }
}
