//! The files of a replicated lab database: one Patroni configuration per node (JSON, which is
//! YAML, so every value is quoted by serde), and HAProxy's, which routes the database port to
//! whichever node Patroni's REST API calls the primary.

use std::net::{Ipv4Addr, SocketAddr};
use std::path::Path;

use serde_json::json;

use super::{HaTiming, PATRONI_REST_PORT, Place};
use crate::lab::postgres::{DEFAULT_PORT, PG_BIN};

/// What one node's Patroni needs to know.
#[derive(Clone, Debug)]
pub(crate) struct NodeConfig<'a> {
    /// The Patroni cluster (`scope`): unique per lab, so two labs never share a leader key.
    pub(crate) scope: &'a str,
    pub(crate) name: &'a str,
    pub(crate) address: Ipv4Addr,
    pub(crate) etcd: SocketAddr,
    /// The node's folder (owned by `postgres`): data, socket, pgpass.
    pub(crate) dir: &'a Path,
    pub(crate) password: &'a str,
    pub(crate) timing: HaTiming,
}

/// Patroni's configuration of one node. Trust inside the lab's own networks (a loopback block,
/// or the packet plane's bridge subnet: `samenet`); the passwords exist because Patroni
/// requires them.
pub(crate) fn patroni(node: &NodeConfig<'_>) -> String {
    let postgres = SocketAddr::from((node.address, DEFAULT_PORT)).to_string();
    let rest = SocketAddr::from((node.address, PATRONI_REST_PORT)).to_string();
    let dir = node.dir.display().to_string();
    let hba = [
        "local all all trust",
        "host replication replicator 127.0.0.0/8 trust",
        "host all all 127.0.0.0/8 trust",
        "host replication replicator samenet trust",
        "host all all samenet trust",
    ];
    let user = |name: &str| json!({ "username": name, "password": node.password });
    let config = json!({
        "scope": node.scope,
        "namespace": "/jspec/",
        "name": node.name,
        "restapi": { "listen": rest, "connect_address": rest },
        "etcd3": { "hosts": node.etcd.to_string() },
        "bootstrap": {
            "dcs": {
                "ttl": node.timing.ttl_seconds,
                "loop_wait": node.timing.loop_wait_seconds,
                "retry_timeout": node.timing.retry_timeout_seconds,
                "maximum_lag_on_failover": 1_048_576,
                "postgresql": {
                    "use_pg_rewind": true,
                    "use_slots": true,
                    "parameters": {
                        "wal_log_hints": "on",
                        "hot_standby": "on",
                        "max_connections": 200,
                        "max_wal_senders": 10,
                        "max_replication_slots": 10,
                    },
                },
            },
            "initdb": [{ "encoding": "UTF8" }, { "locale": "C" }],
            "pg_hba": hba,
        },
        "postgresql": {
            "listen": postgres,
            "connect_address": postgres,
            "data_dir": format!("{dir}/data"),
            "bin_dir": PG_BIN,
            "pgpass": format!("{dir}/pgpass"),
            "authentication": {
                "superuser": user("postgres"),
                "replication": user("replicator"),
                "rewind": user("rewinder"),
            },
            // A socket folder per node: the default one is shared by every PostgreSQL on the
            // machine, and two servers on port 5432 would collide there.
            "parameters": { "unix_socket_directories": dir },
            "pg_hba": hba,
        },
        "watchdog": { "mode": "off" },
    });
    serde_json::to_string_pretty(&config).unwrap_or_default()
}

/// HAProxy in TCP mode on `listen`: the `primary` backend is the node whose REST API answers
/// `OPTIONS /primary` with 200. Checks every 500 ms; a node marked down has its sessions cut,
/// as a real failover cuts them.
pub(crate) fn haproxy(listen: SocketAddr, nodes: &[Place]) -> String {
    let mut text = format!(
        "global\n\
         \x20 maxconn 512\n\
         defaults\n\
         \x20 mode tcp\n\
         \x20 timeout connect 2s\n\
         \x20 timeout client 30m\n\
         \x20 timeout server 30m\n\
         \x20 timeout check 1s\n\
         listen primary\n\
         \x20 bind {listen}\n\
         \x20 option httpchk OPTIONS /primary\n\
         \x20 http-check expect status 200\n\
         \x20 default-server inter 500ms fastinter 500ms downinter 500ms fall 2 rise 1 on-marked-down shutdown-sessions\n"
    );
    for Place { name, address, .. } in nodes {
        text.push_str(&format!(
            "  server {name} {address}:{DEFAULT_PORT} check port {PATRONI_REST_PORT}\n"
        ));
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn haproxy_routes_to_the_node_patroni_calls_primary() {
        let text = haproxy(
            "127.0.9.3:5432".parse().unwrap(),
            &[
                Place {
                    name: "pg1".into(),
                    address: Ipv4Addr::new(127, 0, 9, 1),
                    netns: None,
                },
                Place {
                    name: "pg2".into(),
                    address: Ipv4Addr::new(127, 0, 9, 2),
                    netns: Some("jspec-1-pg2".into()),
                },
            ],
        );
        assert!(text.contains("bind 127.0.9.3:5432\n"), "{text}");
        assert!(text.contains("option httpchk OPTIONS /primary\n"), "{text}");
        assert!(
            text.contains("server pg2 127.0.9.2:5432 check port 8008\n"),
            "{text}"
        );
        assert!(text.contains("on-marked-down shutdown-sessions"), "{text}");
    }

    #[test]
    fn a_node_config_is_yaml_with_the_timing_asked_for() {
        let dir = Path::new("/lab/pg/pg1");
        let text = patroni(&NodeConfig {
            scope: "jspec-ab12",
            name: "pg1",
            address: Ipv4Addr::new(127, 0, 9, 1),
            etcd: "127.0.9.3:2379".parse().unwrap(),
            dir,
            password: "p\"w",
            timing: HaTiming::default(),
        });
        let value: serde_json::Value = serde_json::from_str(&text).expect("JSON is YAML");
        assert_eq!(value["restapi"]["listen"], "127.0.9.1:8008");
        assert_eq!(value["etcd3"]["hosts"], "127.0.9.3:2379");
        assert_eq!(value["postgresql"]["data_dir"], "/lab/pg/pg1/data");
        assert_eq!(
            value["bootstrap"]["dcs"]["ttl"],
            HaTiming::default().ttl_seconds
        );
        assert_eq!(
            value["postgresql"]["authentication"]["superuser"]["password"],
            "p\"w"
        );
    }
}
