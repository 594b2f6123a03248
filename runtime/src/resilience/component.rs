//! The architecture components a case exercises, from its section, its tags and the faults it
//! applied: the resilience report is organised by them.

use std::collections::BTreeSet;

use super::read::CaseRecord;
use crate::event::LabServer;

/// A part of the architecture under test.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Component {
    /// The XMPP server software itself: its features and its processes.
    ServerSoftware,
    /// Server-to-server links: dialback, TLS, federated rooms.
    Federation,
    Cluster,
    Database,
    Network,
    Pki,
    Kerberos,
}

impl Component {
    pub const ALL: [Component; 7] = [
        Component::ServerSoftware,
        Component::Cluster,
        Component::Database,
        Component::Network,
        Component::Federation,
        Component::Pki,
        Component::Kerberos,
    ];

    pub fn title(self) -> &'static str {
        match self {
            Component::ServerSoftware => "Server software",
            Component::Federation => "Federation (server to server)",
            Component::Cluster => "Cluster",
            Component::Database => "Database",
            Component::Network => "Network",
            Component::Pki => "PKI",
            Component::Kerberos => "Kerberos",
        }
    }

    /// An HTML id and markdown anchor.
    pub fn slug(self) -> &'static str {
        match self {
            Component::ServerSoftware => "server-software",
            Component::Federation => "federation",
            Component::Cluster => "cluster",
            Component::Database => "database",
            Component::Network => "network",
            Component::Pki => "pki",
            Component::Kerberos => "kerberos",
        }
    }
}

/// The components `case` exercises in a run whose lab was `lab`.
pub(crate) fn components_of(case: &CaseRecord, lab: &[LabServer]) -> BTreeSet<Component> {
    let mut found = BTreeSet::new();
    let section = case.case().section.as_deref().unwrap_or("").to_lowercase();
    let area = section.split('>').next().unwrap_or("").trim();
    let by_area = [
        ("pki", Component::Pki),
        ("server to server", Component::Federation),
        ("federated", Component::Federation),
        ("fmuc", Component::Federation),
        ("kerberos", Component::Kerberos),
        ("cluster", Component::Cluster),
        ("network", Component::Network),
    ];
    found.extend(
        by_area
            .iter()
            .filter(|(word, _)| area.starts_with(word))
            .map(|(_, component)| *component),
    );
    if section.contains("database") {
        found.insert(Component::Database);
    }
    for tag in &case.case().tags {
        let by_tag = match tag.to_lowercase().as_str() {
            "cluster" | "clustering" => Some(Component::Cluster),
            "database" | "patroni" | "postgresql" => Some(Component::Database),
            "network" => Some(Component::Network),
            "pki" | "crl" | "ocsp" | "certificates" => Some(Component::Pki),
            "kerberos" | "sso" | "gssapi" => Some(Component::Kerberos),
            "s2s" | "federation" | "fmuc" => Some(Component::Federation),
            _ => None,
        };
        found.extend(by_tag);
    }
    for fault in &case.faults {
        if fault.origin.ends_with("the case") || fault.origin == "the case's requirements" {
            continue;
        }
        found.extend(component_of_fault(&fault.action, &fault.target, lab));
    }
    if found.is_empty() {
        found.insert(Component::ServerSoftware);
    }
    found
}

fn component_of_fault(action: &str, target: &str, lab: &[LabServer]) -> Option<Component> {
    if target.starts_with("database") || action.contains("database") {
        return Some(Component::Database);
    }
    match action {
        "partition" | "isolate" | "impair" => Some(Component::Network),
        "kill" | "stop" | "pause" | "restart" | "skew clock" => {
            let name = target.split_whitespace().next().unwrap_or(target);
            Some(if is_cluster_node(name, lab) {
                Component::Cluster
            } else {
                Component::ServerSoftware
            })
        }
        _ => None,
    }
}

/// Is `name` a cluster or one of its nodes? The lab lists clusters as
/// `ejabberd cluster (c1, c2)`.
fn is_cluster_node(name: &str, lab: &[LabServer]) -> bool {
    lab.iter().any(|server| {
        server.software.contains("cluster")
            && (server.role == name
                || server
                    .software
                    .split(['(', ')', ',', ' '])
                    .any(|node| node == name))
    })
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::event::{CaseRef, CaseResult, Status};
    use crate::resilience::read::FaultRecord;

    fn record(section: &str, tags: &[&str], faults: &[(&str, &str)]) -> CaseRecord {
        CaseRecord {
            result: CaseResult {
                case: CaseRef {
                    id: None,
                    title: "t".into(),
                    file: "f".into(),
                    line: 1,
                    section: Some(section.into()),
                    suite: None,
                    tags: tags.iter().map(|t| t.to_string()).collect(),
                },
                status: Status::Passed,
                elapsed: Duration::ZERO,
                steps: vec![],
                reason: None,
            },
            faults: faults
                .iter()
                .map(|(action, target)| FaultRecord {
                    at: Duration::ZERO,
                    action: action.to_string(),
                    target: target.to_string(),
                    origin: "line 3".into(),
                })
                .collect(),
            statements: vec![],
            deliveries: vec![],
        }
    }

    fn lab() -> Vec<LabServer> {
        let server = |role: &str, software: &str| LabServer {
            role: role.into(),
            domain: format!("{role}.test"),
            address: "127.0.0.1".into(),
            software: software.into(),
        };
        vec![
            server("a", "prosody"),
            server("c", "ejabberd cluster (c1, c2)"),
        ]
    }

    #[test]
    fn sections_tags_and_faults_name_the_components() {
        let of = |section, tags: &[&str], faults: &[(&str, &str)]| {
            components_of(&record(section, tags, faults), &lab())
                .into_iter()
                .collect::<Vec<_>>()
        };
        assert_eq!(of("PKI > Revocation", &[], &[]), [Component::Pki]);
        assert_eq!(of("User vCards", &[], &[]), [Component::ServerSoftware]);
        assert_eq!(
            of(
                "Clustering > Replicated database",
                &[],
                &[("kill", "database pg1")]
            ),
            [Component::Cluster, Component::Database]
        );
        assert_eq!(
            of("Smoke", &[], &[("kill", "c1"), ("partition", "a | b")]),
            [Component::Cluster, Component::Network]
        );
        assert_eq!(
            of("Smoke", &[], &[("pause", "a")]),
            [Component::ServerSoftware]
        );
        assert_eq!(of("Misc", &["kerberos"], &[]), [Component::Kerberos]);
    }
}
