//! Rule sets for cuts (nftables) and impairment queues (iptables' NFQUEUE target). Each server
//! namespace has one nftables table named with the owner tag; every cut and every impairment
//! owns chains of its own, so that removing one is deleting exactly its chains, in one
//! transaction.

use std::net::Ipv4Addr;

use crate::fault::model::CutMode;

/// The mark of packets the impairment engine injects itself (copies): its queue rule lets
/// them pass, so a copy is not impaired again. "js" in ASCII.
pub(crate) const INJECTED_MARK: u32 = 0x6a73;

/// Which way a rule looks at packets, in the namespace of the server that holds it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Hook {
    /// Packets to the server, matched on their source.
    Input,
    /// Packets from the server, matched on their destination.
    Output,
}

impl Hook {
    fn name(self) -> &'static str {
        match self {
            Hook::Input => "input",
            Hook::Output => "output",
        }
    }

    fn peer_match(self, peer: Ipv4Addr) -> String {
        match self {
            Hook::Input => format!("ip saddr {peer}"),
            Hook::Output => format!("ip daddr {peer}"),
        }
    }
}

pub(crate) fn table(tag: &str) -> String {
    format!("jspec_{tag}")
}

/// The table every server namespace starts with. Its rule makes conntrack follow every
/// connection from its SYN: a cut tells who opened a connection by `ct direction`, and a
/// connection first seen mid-stream would get its direction from whichever packet came first.
pub(crate) fn create_table(tag: &str) -> String {
    let table = table(tag);
    format!(
        "table inet {table} {{\n  chain track {{\n    type filter hook prerouting priority -150; policy accept;\n    ct state new counter\n  }}\n}}\n"
    )
}

/// Base chains `<name>_in` and `<name>_out` that stop the connections `opener` opened to this
/// namespace's server, in both byte directions; connections the server opens to `opener` pass.
pub(crate) fn add_cut(tag: &str, name: &str, opener: Ipv4Addr, mode: CutMode) -> String {
    let table = table(tag);
    let mut text = String::new();
    for (hook, direction) in [(Hook::Input, "original"), (Hook::Output, "reply")] {
        let matcher = format!("{} ct direction {direction}", hook.peer_match(opener));
        let mut rules = Vec::new();
        if mode == CutMode::Reject {
            if hook == Hook::Output {
                // The resets the input rule sends back carry the connection's conntrack
                // entry (reply direction): they must not be stopped here.
                rules.push(format!("{matcher} tcp flags & rst == rst accept"));
            }
            rules.push(format!("{matcher} meta l4proto tcp reject with tcp reset"));
        }
        // Hold (and Reject's non-TCP packets): they vanish.
        rules.push(format!("{matcher} drop"));
        text.push_str(&base_chain(&table, &chain_name(name, hook), hook, &rules));
    }
    text
}

/// Removes the chains of [`add_cut`].
pub(crate) fn delete_chains(tag: &str, chains: &[String]) -> String {
    let table = table(tag);
    chains
        .iter()
        .map(|chain| {
            format!("flush chain inet {table} {chain}\ndelete chain inet {table} {chain}\n")
        })
        .collect()
}

/// The chain names [`add_cut`] creates.
pub(crate) fn cut_chains(name: &str) -> Vec<String> {
    vec![
        chain_name(name, Hook::Input),
        chain_name(name, Hook::Output),
    ]
}

/// The iptables-restore input that sends the packets between this server and `peer` (seen at
/// `hook`) to NFQUEUE `queue`, through a chain of its own. iptables (its NFQUEUE target) rather
/// than nft's `queue`, which this kind of kernel lacks (no nft_queue). `--queue-bypass`: while
/// no engine listens (jspec crashed) packets pass untouched.
pub(crate) fn add_queue(chain: &str, hook: Hook, peer: Ipv4Addr, queue: u16) -> String {
    let (base, matcher) = match hook {
        Hook::Input => ("INPUT", format!("-s {peer}/32")),
        Hook::Output => ("OUTPUT", format!("-d {peer}/32")),
    };
    format!(
        "*filter\n:{chain} - [0:0]\n\
         -A {chain} -m mark --mark {INJECTED_MARK:#x} -j RETURN\n\
         -A {chain} {matcher} -j NFQUEUE --queue-num {queue} --queue-bypass\n\
         -A {base} -j {chain}\nCOMMIT\n"
    )
}

/// Removes what [`add_queue`] added, in one transaction.
pub(crate) fn delete_queue(chain: &str, hook: Hook) -> String {
    let base = match hook {
        Hook::Input => "INPUT",
        Hook::Output => "OUTPUT",
    };
    format!("*filter\n-D {base} -j {chain}\n-F {chain}\n-X {chain}\nCOMMIT\n")
}

fn chain_name(name: &str, hook: Hook) -> String {
    match hook {
        Hook::Input => format!("{name}_in"),
        Hook::Output => format!("{name}_out"),
    }
}

fn base_chain(table: &str, chain: &str, hook: Hook, rules: &[String]) -> String {
    let mut text = format!(
        "add chain inet {table} {chain} {{ type filter hook {} priority 0; policy accept; }}\n",
        hook.name()
    );
    for rule in rules {
        text.push_str(&format!("add rule inet {table} {chain} {rule}\n"));
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_hold_cut_drops_the_openers_connections_both_ways() {
        let text = add_cut("42", "cut_1", Ipv4Addr::new(10, 213, 1, 100), CutMode::Hold);
        assert!(text.contains("hook input"));
        assert!(text.contains(
            "add rule inet jspec_42 cut_1_in ip saddr 10.213.1.100 ct direction original drop"
        ));
        assert!(text.contains(
            "add rule inet jspec_42 cut_1_out ip daddr 10.213.1.100 ct direction reply drop"
        ));
        assert!(!text.contains("reject"));
    }

    #[test]
    fn a_reject_cut_resets_tcp_and_drops_the_rest() {
        let text = add_cut("42", "cut_1", Ipv4Addr::new(10, 213, 1, 2), CutMode::Reject);
        assert_eq!(text.matches("reject with tcp reset").count(), 2);
        assert_eq!(text.matches(" drop\n").count(), 2);
        assert!(text.contains(
            "cut_1_out ip daddr 10.213.1.2 ct direction reply tcp flags & rst == rst accept"
        ));
    }

    #[test]
    fn a_queue_lets_injected_copies_pass() {
        let text = add_queue("jspec_imp_3", Hook::Output, Ipv4Addr::new(10, 0, 0, 9), 3);
        let mark = text.find("--mark 0x6a73 -j RETURN").expect("mark rule");
        let queue = text
            .find("-d 10.0.0.9/32 -j NFQUEUE --queue-num 3 --queue-bypass")
            .expect("queue rule");
        assert!(mark < queue);
        assert!(text.contains("-A OUTPUT -j jspec_imp_3\nCOMMIT"));
        assert!(delete_queue("jspec_imp_3", Hook::Output).contains("-X jspec_imp_3"));
    }
}
