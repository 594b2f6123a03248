//! The hint of errors about a key: what it holds, with an example.

use jspec_lang::check::CAPABILITIES;

use super::error::quoted;

/// What a key holds, with an example: the hint of errors about that key.
pub(super) fn key_hint(key: &str) -> String {
    let text = match key {
        "name" => "a name for the environment, shown in reports: `name = \"openfire-lab\"`",
        "timeout" => "a duration as in .jspec files: `timeout = \"10s\"` (also 250ms, 2m, 1h)",
        "plane" => "where faults are injected: `plane = \"proxy\"` (no root) or \"packet\" (root)",
        "software" => {
            "managed (started by jspec): \"prosody\", \"ejabberd\"; external (already running): \
             \"openfire\", \"mlink\", \"prosody-external\", \"ejabberd-external\", \"other\""
        }
        "domain" => "the XMPP domain users log in to: `domain = \"of1.lab.example\"`",
        "muc_domain" => "the chat room service: `muc_domain = \"conference.of1.lab.example\"`",
        "address" => "where clients connect, host:port: `address = \"of1.lab.example:5222\"`",
        "direct_tls_address" => "Direct TLS for clients: `direct_tls_address = \"of1:5223\"`",
        "tls" => "`tls = { ca_file = \"certs/lab-ca.pem\", verify = true }`",
        "ca_file" => "a PEM file of CA certificates, relative to the environment file",
        "verify" => "`verify = true` checks the server's certificate; false accepts any",
        "register" => {
            "`register = \"in-band\"` (jspec creates accounts, XEP-0077) or \"none\" (only the \
             accounts under `users`)"
        }
        "users" => "`[servers.ROLE.users.alice]` with `jid_env` (or `jid`) and `password_env`",
        "jid" | "jid_env" => {
            "the account's JID: `jid = \"alice@of1.lab.example\"` or `jid_env = \"OF_ALICE_JID\"`"
        }
        "password_env" => {
            "the environment variable that holds the password: \
             `password_env = \"OF_ALICE_PASSWORD\"`"
        }
        "capabilities" => "what the server offers: `capabilities = [\"mam\", \"fmuc\"]`",
        "commands" => "`commands = { kill = \"...\", start = \"...\" }`: shell commands for faults",
        "kill" | "stop" | "start" | "restart" | "pause" | "resume" => {
            "a shell command, run with `sh -c`: \
             `kill = \"ssh root@of1 systemctl kill -s KILL openfire\"`"
        }
        "nodes" => {
            "managed: `nodes = [\"c1\", \"c2\"]`; external: `[servers.c.nodes.c1]` with `address`"
        }
        "database" => "the database role of a managed cluster: `database = \"pg\"`",
        _ => "docs/environment.md lists every key",
    };
    text.to_string()
}

/// Known capabilities for hints.
pub(super) fn known_capabilities() -> String {
    quoted(CAPABILITIES)
}
