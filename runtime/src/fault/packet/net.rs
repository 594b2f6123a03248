//! The lab network: a bridge in the root namespace with a private /24, one network namespace
//! per server role joined to it by a veth pair, and extra bridge addresses for clients. Every
//! name carries the owner tag (jspec's pid), so that leftovers of a dead jspec can be found.

use std::net::Ipv4Addr;
use std::sync::atomic::{AtomicU32, Ordering};

use super::PacketError;
use super::cmd::{run, run_blocking};

/// Linux limits interface names to 15 bytes (IFNAMSIZ 16 with the terminating NUL).
const IFNAMSIZ: usize = 15;
/// Servers get .2 up to this; clients get the addresses above it.
const FIRST_USER_HOST: u8 = 100;
/// Where `ip netns add` keeps its namespaces.
pub(crate) const NETNS_DIR: &str = "/var/run/netns";
const NETNS_PREFIX: &str = "jspec-";
const BRIDGE_PREFIX: &str = "jsbr";
const VETH_PREFIX: &str = "jsv";
/// The interface name inside every namespace (namespaces are private, so it never clashes).
pub(crate) const INNER_VETH: &str = "eth0";

/// Networks of one process: the first is tagged with the pid alone, later ones (tests run many
/// in one process) with `<pid>x<n>`.
static INSTANCES: AtomicU32 = AtomicU32::new(0);
/// Host-side veth names must be unique in the root namespace: one counter per process.
static VETHS: AtomicU32 = AtomicU32::new(0);
/// Subnet choice is "look, then take": serialise it within the process.
static SUBNET_CHOICE: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// One server role's place in the lab.
#[derive(Clone, Debug)]
pub(crate) struct RoleNet {
    pub(crate) address: Ipv4Addr,
    pub(crate) netns: String,
    /// The root-namespace end of the veth pair (a bridge port).
    pub(crate) host_veth: String,
}

/// The owner tag of a new network.
pub(crate) fn new_tag() -> String {
    let pid = std::process::id();
    match INSTANCES.fetch_add(1, Ordering::Relaxed) {
        0 => pid.to_string(),
        n => format!("{pid}x{n}"),
    }
}

pub(crate) fn bridge_name(tag: &str) -> Result<String, PacketError> {
    interface_name(format!("{BRIDGE_PREFIX}{tag}"))
}

pub(crate) fn netns_name(tag: &str, role: &str) -> String {
    format!("{NETNS_PREFIX}{tag}-{role}")
}

fn interface_name(name: String) -> Result<String, PacketError> {
    if name.len() > IFNAMSIZ {
        return Err(PacketError::Invalid(format!(
            "interface name {name} is longer than {IFNAMSIZ} bytes"
        )));
    }
    Ok(name)
}

/// A role becomes part of a namespace's name (a file name): only identifier characters.
pub(crate) fn check_role(role: &str) -> Result<(), PacketError> {
    let fine = !role.is_empty()
        && role.len() <= 64
        && role
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    if fine {
        Ok(())
    } else {
        Err(PacketError::Invalid(format!(
            "role name `{role}` cannot name a network namespace (letters, digits, _ and - only)"
        )))
    }
}

/// Picks 10.213.X.0/24 clashing with no address or route of the root namespace, creates the
/// bridge and gives it .1. Returns the subnet's first three octets.
pub(crate) async fn create_bridge(bridge: &str, tag: &str) -> Result<[u8; 3], PacketError> {
    let _choosing = SUBNET_CHOICE.lock().await;
    run("ip", &["link", "add", bridge, "type", "bridge"], None).await?;
    let taken = taken_prefixes().await?;
    let seed = tag
        .bytes()
        .fold(7u32, |h, b| h.wrapping_mul(31).wrapping_add(u32::from(b)));
    for attempt in 0..254u32 {
        let x = ((seed.wrapping_add(attempt)) % 254 + 1) as u8;
        let net = Ipv4Addr::new(10, 213, x, 0);
        if taken
            .iter()
            .any(|&(addr, len)| overlaps((net, 24), (addr, len)))
        {
            continue;
        }
        let address = format!("10.213.{x}.1/24");
        run("ip", &["addr", "add", &address, "dev", bridge], None).await?;
        run("ip", &["link", "set", bridge, "up"], None).await?;
        return Ok([10, 213, x]);
    }
    Err(PacketError::Invalid(
        "every 10.213.X.0/24 clashes with an address or route of this machine".into(),
    ))
}

/// Prefixes in use in the root namespace: interface addresses and routes (not the default).
async fn taken_prefixes() -> Result<Vec<(Ipv4Addr, u8)>, PacketError> {
    let addrs = run("ip", &["-o", "-4", "addr", "show"], None).await?;
    let routes = run("ip", &["-o", "-4", "route", "show", "table", "all"], None).await?;
    let mut taken = Vec::new();
    for line in addrs.lines() {
        // "4: eth0    inet 192.0.2.2/24 brd ..."
        let mut words = line.split_whitespace();
        if words.any(|w| w == "inet") {
            taken.extend(words.next().and_then(parse_prefix));
        }
    }
    for line in routes.lines() {
        let first = line.split_whitespace().find(|w| {
            !matches!(
                *w,
                "local" | "broadcast" | "unicast" | "blackhole" | "unreachable"
            )
        });
        taken.extend(first.and_then(parse_prefix));
    }
    Ok(taken)
}

fn parse_prefix(text: &str) -> Option<(Ipv4Addr, u8)> {
    let (addr, len) = text.split_once('/').unwrap_or((text, "32"));
    Some((addr.parse().ok()?, len.parse().ok()?))
}

fn overlaps(a: (Ipv4Addr, u8), b: (Ipv4Addr, u8)) -> bool {
    let len = a.1.min(b.1).min(32);
    let mask = if len == 0 { 0 } else { u32::MAX << (32 - len) };
    u32::from(a.0) & mask == u32::from(b.0) & mask
}

/// The names of a role's namespace and veth (the veth name is taken from a process counter).
pub(crate) fn plan_role(tag: &str, role: &str, address: Ipv4Addr) -> Result<RoleNet, PacketError> {
    let pid = std::process::id();
    let n = VETHS.fetch_add(1, Ordering::Relaxed);
    Ok(RoleNet {
        address,
        netns: netns_name(tag, role),
        host_veth: interface_name(format!("{VETH_PREFIX}{pid}x{n}"))?,
    })
}

/// Creates the role's namespace with lo up and a veth pair: `eth0` inside with the role's
/// address, the other end a port of `bridge`.
pub(crate) async fn create_role(role: &RoleNet, bridge: &str) -> Result<(), PacketError> {
    let RoleNet {
        address,
        netns,
        host_veth,
    } = role;
    run("ip", &["netns", "add", netns], None).await?;
    let cidr = format!("{address}/24");
    run(
        "ip",
        &[
            "link", "add", host_veth, "type", "veth", "peer", "name", INNER_VETH, "netns", netns,
        ],
        None,
    )
    .await?;
    run("ip", &["link", "set", host_veth, "master", bridge], None).await?;
    run("ip", &["link", "set", host_veth, "up"], None).await?;
    for args in [
        &["addr", "add", &cidr, "dev", INNER_VETH][..],
        &["link", "set", INNER_VETH, "up"],
        &["link", "set", "lo", "up"],
    ] {
        let mut all = vec!["-n", netns.as_str()];
        all.extend_from_slice(args);
        run("ip", &all, None).await?;
    }
    Ok(())
}

/// The address of host `host` in the lab subnet.
pub(crate) fn host_address(subnet: [u8; 3], host: u8) -> Ipv4Addr {
    Ipv4Addr::new(subnet[0], subnet[1], subnet[2], host)
}

/// Server roles get .2, .3, ... below the client range.
pub(crate) fn server_host(index: usize) -> Result<u8, PacketError> {
    u8::try_from(index + 2)
        .ok()
        .filter(|&host| host < FIRST_USER_HOST)
        .ok_or_else(|| PacketError::Invalid("more than 97 server roles in one lab".into()))
}

/// Clients get .100, .101, ... up to .254.
pub(crate) fn user_host(index: usize) -> Result<u8, PacketError> {
    u8::try_from(index + usize::from(FIRST_USER_HOST))
        .ok()
        .filter(|&host| host < 255)
        .ok_or_else(|| PacketError::Invalid("more than 155 users in one lab".into()))
}

/// Adds a client address to the bridge (a /32: the bridge's /24 already routes the subnet).
pub(crate) async fn add_user_address(bridge: &str, address: Ipv4Addr) -> Result<(), PacketError> {
    let cidr = format!("{address}/32");
    run("ip", &["addr", "add", &cidr, "dev", bridge], None).await?;
    Ok(())
}

/// Removes the veths, namespaces and the bridge; a missing one is no error. The veths go
/// first and explicitly: a namespace outlives its name while a socket in it is open (a closing
/// connection retrying its FIN), and would keep its veth in the root namespace until then.
pub(crate) async fn remove(
    bridge: &str,
    namespaces: &[String],
    veths: &[String],
) -> Vec<PacketError> {
    let mut errors = Vec::new();
    for veth in veths.iter().filter(|v| interface_exists(v)) {
        if let Err(error) = run("ip", &["link", "del", veth], None).await {
            errors.push(error);
        }
    }
    for netns in namespaces {
        if std::path::Path::new(NETNS_DIR).join(netns).exists()
            && let Err(error) = run("ip", &["netns", "del", netns], None).await
        {
            errors.push(error);
        }
    }
    if interface_exists(bridge)
        && let Err(error) = run("ip", &["link", "del", bridge], None).await
    {
        errors.push(error);
    }
    errors
}

/// [`remove`] for `Drop`, blocking.
pub(crate) fn remove_blocking(bridge: &str, namespaces: &[String], veths: &[String]) {
    for veth in veths.iter().filter(|v| interface_exists(v)) {
        run_blocking("ip", &["link", "del", veth]);
    }
    for netns in namespaces {
        if std::path::Path::new(NETNS_DIR).join(netns).exists() {
            run_blocking("ip", &["netns", "del", netns]);
        }
    }
    if interface_exists(bridge) {
        run_blocking("ip", &["link", "del", bridge]);
    }
}

pub(crate) fn interface_exists(name: &str) -> bool {
    !name.is_empty() && std::path::Path::new("/sys/class/net").join(name).exists()
}

/// The owner pid of a name with our prefix: the digits right after it.
pub(crate) fn owner_pid(name: &str, prefix: &str) -> Option<u32> {
    let rest = name.strip_prefix(prefix)?;
    let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
    let after = &rest[digits.len()..];
    // The tag ends the name (bridge) or is followed by `x<n>` or `-<role>`.
    if !(after.is_empty() || after.starts_with('x') || after.starts_with('-')) {
        return None;
    }
    digits.parse().ok()
}

fn pid_alive(pid: u32) -> bool {
    std::path::Path::new(&format!("/proc/{pid}")).exists()
}

/// Namespaces `jspec-<pid>-*`, and bridges `jsbr<pid>*` and veths `jsv<pid>x*`, whose pid is
/// not a running process.
pub(crate) fn orphans() -> (Vec<String>, Vec<String>) {
    let names = |dir: &str| -> Vec<String> {
        std::fs::read_dir(dir)
            .map(|entries| {
                entries
                    .filter_map(Result::ok)
                    .map(|e| e.file_name().to_string_lossy().into_owned())
                    .collect()
            })
            .unwrap_or_default()
    };
    let dead = |name: &String, prefix: &str| owner_pid(name, prefix).is_some_and(|p| !pid_alive(p));
    let namespaces = names(NETNS_DIR)
        .into_iter()
        .filter(|n| dead(n, NETNS_PREFIX))
        .collect();
    // Bridges first: removing one frees its ports, then the veths.
    let mut interfaces: Vec<String> = names("/sys/class/net");
    interfaces.retain(|n| dead(n, BRIDGE_PREFIX) || dead(n, VETH_PREFIX));
    interfaces.sort_by_key(|n| !n.starts_with(BRIDGE_PREFIX));
    (namespaces, interfaces)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn owner_pids_are_read_from_our_names_only() {
        assert_eq!(owner_pid("jspec-123-a", NETNS_PREFIX), Some(123));
        assert_eq!(owner_pid("jspec-123x4-my-role", NETNS_PREFIX), Some(123));
        assert_eq!(owner_pid("jsbr99", BRIDGE_PREFIX), Some(99));
        assert_eq!(owner_pid("jsbr99x2", BRIDGE_PREFIX), Some(99));
        assert_eq!(owner_pid("jsbr99z", BRIDGE_PREFIX), None);
        assert_eq!(owner_pid("jsv99x3", VETH_PREFIX), Some(99));
        assert_eq!(owner_pid("jspec-abc-a", NETNS_PREFIX), None);
        assert_eq!(owner_pid("docker0", BRIDGE_PREFIX), None);
    }

    #[test]
    fn prefixes_overlap_by_the_shorter_mask() {
        let net = (Ipv4Addr::new(10, 213, 5, 0), 24);
        assert!(overlaps(net, (Ipv4Addr::new(10, 213, 5, 77), 32)));
        assert!(overlaps(net, (Ipv4Addr::new(10, 0, 0, 0), 8)));
        assert!(!overlaps(net, (Ipv4Addr::new(10, 213, 6, 0), 24)));
        assert!(!overlaps(net, (Ipv4Addr::new(192, 0, 2, 2), 24)));
    }

    #[test]
    fn names_fit_the_kernel_limit() {
        // pid_max is at most 2^22 (7 digits).
        assert!(bridge_name("4194304x99").is_ok());
        assert!(interface_name("jsv4194304x9999".into()).is_ok());
        assert!(interface_name("jsv4194304x99999".into()).is_err());
        assert!(check_role("a-1_b").is_ok());
        assert!(check_role("../etc").is_err());
    }
}
