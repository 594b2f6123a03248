//! The XML of a script, rewritten for jspec: scansion's `${Romeo's full JID}` becomes
//! `${romeo.full}`, addresses at `localhost` become the lab server's (`${a.domain}`,
//! `${room.jid}`, `${a.pubsub}`), `{scansion:any}` becomes `{any}`, and expected stanzas get
//! scansion's strictness written out as `jspec:strict`.

use std::collections::BTreeMap;

/// What the names of a script stand for in the jspec case.
#[derive(Debug, Default)]
pub(crate) struct Names {
    /// A client's name (`Juliet's phone`) → its session (`juliet/mobile`).
    pub(crate) sessions: BTreeMap<String, String>,
    /// A client's name → its user (`juliet`).
    pub(crate) users_of_clients: BTreeMap<String, String>,
    /// An account's local part at `localhost` (`user2`) → its user (`juliet`).
    pub(crate) accounts: BTreeMap<String, String>,
    /// A room's local part at `conference.localhost` → its room name.
    pub(crate) rooms: BTreeMap<String, String>,
    /// Nodes of the publish-subscribe service at `pubsub.localhost`: shared by every case of a
    /// run, so they get the case's tag, as rooms do (`princely_musings-${case.tag}`).
    pub(crate) nodes: std::collections::BTreeSet<String>,
}

/// The server role every address at `localhost` belongs to.
pub(crate) const SERVER: &str = "a";
const DOMAIN: &str = "localhost";

/// Replaces `${NAME's full JID}` and `${NAME's JID}`.
pub(crate) fn interpolations(xml: &str, names: &Names) -> Result<String, String> {
    let mut out = String::new();
    let mut rest = xml;
    while let Some(start) = rest.find("${") {
        out.push_str(&rest[..start]);
        let Some(len) = rest[start..].find('}') else {
            return Err("a `${` without its `}`".into());
        };
        let inner = &rest[start + 2..start + len];
        let (client, field) = if let Some(client) = inner.strip_suffix("'s full JID") {
            (client, "full")
        } else if let Some(client) = inner.strip_suffix("'s JID") {
            (client, "jid")
        } else {
            return Err(format!(
                "`${{{inner}}}` is not a reference scansion knows (`${{NAME's JID}}` or `${{NAME's full JID}}`)"
            ));
        };
        let value = match field {
            "full" => names.sessions.get(client),
            _ => names.users_of_clients.get(client),
        }
        .ok_or_else(|| format!("`${{{inner}}}` names no client of the script"))?;
        out.push_str(&format!("${{{value}.{field}}}"));
        rest = &rest[start + len + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

fn is_host_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '-'
}

fn is_local_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '+')
}

/// The `node` attributes of stanzas sent to the service at `pubsub.localhost`.
pub(crate) fn service_nodes(xml: &str) -> Vec<String> {
    if !xml.contains("pubsub.localhost") {
        return Vec::new();
    }
    let mut nodes = Vec::new();
    for quote in ['"', '\''] {
        let opening = format!("node={quote}");
        let mut search = 0;
        while let Some(at) = xml[search..].find(&opening) {
            let start = search + at + opening.len();
            let Some(len) = xml[start..].find(quote) else {
                break;
            };
            let node = &xml[start..start + len];
            if !node.is_empty() && !nodes.iter().any(|n| n == node) {
                nodes.push(node.to_string());
            }
            search = start + len;
        }
    }
    nodes
}

/// Gives the service's nodes the case's tag wherever a `node` attribute names them.
pub(crate) fn nodes(xml: &str, names: &Names) -> String {
    let mut out = xml.to_string();
    for node in &names.nodes {
        for quote in ['"', '\''] {
            out = out.replace(
                &format!("node={quote}{node}{quote}"),
                &format!("node={quote}{node}-${{case.tag}}{quote}"),
            );
        }
    }
    out
}

/// Where the run of `allowed` characters that ends at byte `end` of `text` starts; `None` when
/// the run is empty.
fn run_start(text: &str, end: usize, allowed: fn(char) -> bool) -> Option<usize> {
    text[..end]
        .char_indices()
        .rev()
        .take_while(|(_, c)| allowed(*c))
        .last()
        .map(|(i, _)| i)
}

/// Replaces the addresses at `localhost` with the lab server's.
pub(crate) fn addresses(xml: &str, names: &Names) -> String {
    let mut out = String::new();
    let mut copied = 0;
    let mut search = 0;
    while let Some(found) = xml[search..].find(DOMAIN) {
        let at = search + found;
        let end = at + DOMAIN.len();
        search = end;
        let before = xml[..at].chars().next_back();
        let after = xml[end..].chars().next();
        if before.is_some_and(is_host_char) || after.is_some_and(|c| is_host_char(c) || c == '_') {
            continue;
        }
        // The labels before it: `conference.` of `conference.localhost`.
        let mut host_start = at;
        while xml[..host_start].ends_with('.') {
            match run_start(xml, host_start - 1, is_host_char) {
                Some(i) => host_start = i,
                None => break,
            }
        }
        if host_start < copied {
            continue;
        }
        let host = &xml[host_start..end];
        let mut start = host_start;
        let mut local = None;
        if xml[..host_start].ends_with('@')
            && let Some(i) = run_start(xml, host_start - 1, is_local_char).filter(|&i| i >= copied)
        {
            local = Some(&xml[i..host_start - 1]);
            start = i;
        }
        out.push_str(&xml[copied..start]);
        out.push_str(&address(local, host, names));
        copied = end;
    }
    out.push_str(&xml[copied..]);
    out
}

fn address(local: Option<&str>, host: &str, names: &Names) -> String {
    let service = match host {
        "localhost" => format!("${{{SERVER}.domain}}"),
        "conference.localhost" => format!("${{{SERVER}.muc}}"),
        "pubsub.localhost" => format!("${{{SERVER}.pubsub}}"),
        other => format!(
            "{}${{{SERVER}.domain}}",
            other.strip_suffix(DOMAIN).unwrap_or_default()
        ),
    };
    match (local, host) {
        (None, _) => service,
        (Some(local), "localhost") => match names.accounts.get(local) {
            Some(user) => format!("${{{user}.jid}}"),
            None => format!("{local}@{service}"),
        },
        (Some(local), "conference.localhost") => match names.rooms.get(local) {
            Some(room) => format!("${{{room}.jid}}"),
            None => format!("{local}@{service}"),
        },
        (Some(local), _) => format!("{local}@{service}"),
    }
}

/// The rooms a script names (`room@conference.localhost`), by local part.
pub(crate) fn room_locals(xml: &str) -> Vec<String> {
    let suffix = "@conference.localhost";
    let mut found = Vec::new();
    let mut search = 0;
    while let Some(at) = xml[search..].find(suffix) {
        let at = search + at;
        search = at + suffix.len();
        if let Some(start) = run_start(xml, at, is_local_char) {
            let local = xml[start..at].to_string();
            if !found.contains(&local) {
                found.push(local);
            }
        }
    }
    found
}

/// scansion's `{scansion:any}` and `scansion:strict` in jspec's words.
pub(crate) fn directives(xml: &str) -> String {
    xml.replace("{scansion:any}", "{any}")
        .replace("scansion:strict=", "jspec:strict=")
}

/// Writes scansion's strictness into an expected stanza: an element in a namespace of its own
/// (not `jabber:client`) is matched strictly, with what is inside it; one in `jabber:client`
/// loosely; `scansion:strict` (already `jspec:strict`) decides where written.
pub(crate) fn strictness(xml: &str) -> String {
    let mut out = String::new();
    let mut stack: Vec<bool> = Vec::new();
    let mut rest = xml;
    while let Some(open) = rest.find('<') {
        out.push_str(&rest[..open]);
        rest = &rest[open..];
        let Some(end) = tag_end(rest) else {
            out.push_str(rest);
            return out;
        };
        let tag = &rest[..=end];
        rest = &rest[end + 1..];
        if tag.starts_with("</") {
            stack.pop();
            out.push_str(tag);
            continue;
        }
        if tag.starts_with("<!") || tag.starts_with("<?") {
            out.push_str(tag);
            continue;
        }
        let parent = stack.last().copied().unwrap_or(false);
        let own = attribute(tag, "jspec:strict").map(|v| v != "false");
        let strict = own.unwrap_or_else(|| match attribute(tag, "xmlns") {
            Some("jabber:client") => false,
            Some(_) => true,
            None => parent,
        });
        let closing = tag.ends_with("/>");
        if own.is_none() && strict != parent {
            let cut = tag.len() - if closing { 2 } else { 1 };
            let body = tag[..cut].trim_end();
            out.push_str(&format!("{body} jspec:strict=\"{strict}\"{}", &tag[cut..]));
        } else {
            out.push_str(tag);
        }
        if !closing {
            stack.push(strict);
        }
    }
    out.push_str(rest);
    out
}

/// The index of the `>` that ends the tag starting `text`, skipping quoted values.
fn tag_end(text: &str) -> Option<usize> {
    let mut quote = None;
    for (i, c) in text.char_indices() {
        match (quote, c) {
            (None, '"' | '\'') => quote = Some(c),
            (Some(q), c) if c == q => quote = None,
            (None, '>') => return Some(i),
            _ => {}
        }
    }
    None
}

/// The value of attribute `name` in a start tag.
fn attribute<'t>(tag: &'t str, name: &str) -> Option<&'t str> {
    let mut search = 0;
    while let Some(at) = tag[search..].find(name) {
        let at = search + at;
        search = at + name.len();
        let before = tag[..at].chars().next_back();
        if !before.is_some_and(char::is_whitespace) {
            continue;
        }
        let rest = tag[search..].trim_start();
        let Some(rest) = rest.strip_prefix('=') else {
            continue;
        };
        let rest = rest.trim_start();
        let quote = rest.chars().next()?;
        if quote != '"' && quote != '\'' {
            return None;
        }
        let value = &rest[1..];
        return value.find(quote).map(|end| &value[..end]);
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names() -> Names {
        let mut names = Names::default();
        names.sessions.insert("Romeo".into(), "romeo".into());
        names
            .sessions
            .insert("Juliet's phone".into(), "juliet/mobile".into());
        names
            .users_of_clients
            .insert("Romeo".into(), "romeo".into());
        names
            .users_of_clients
            .insert("Juliet's phone".into(), "juliet".into());
        names.accounts.insert("user".into(), "romeo".into());
        names.rooms.insert("room".into(), "room".into());
        names
    }

    #[test]
    fn references_become_interpolations() {
        let xml = r#"<message to="${Juliet's phone's full JID}" from="${Romeo's JID}"/>"#;
        assert_eq!(
            interpolations(xml, &names()).unwrap(),
            r#"<message to="${juliet/mobile.full}" from="${romeo.jid}"/>"#
        );
        assert!(interpolations("${Mercutio's JID}", &names()).is_err());
        assert!(interpolations("${Romeo's nick}", &names()).is_err());
    }

    #[test]
    fn addresses_at_localhost_become_the_lab_s() {
        let xml = r#"<iq to="localhost" from="user@localhost/x"><item jid="room@conference.localhost/Romeo" node="pubsub.localhost"/><a href="mailto:abuse@localhost"/>nurse@localhost upload.localhost localhosts</iq>"#;
        assert_eq!(
            addresses(xml, &names()),
            r#"<iq to="${a.domain}" from="${romeo.jid}/x"><item jid="${room.jid}/Romeo" node="${a.pubsub}"/><a href="mailto:abuse@${a.domain}"/>nurse@${a.domain} upload.${a.domain} localhosts</iq>"#
        );
        assert_eq!(
            addresses("other@conference.localhost", &names()),
            "other@${a.muc}"
        );
    }

    #[test]
    fn namespaced_elements_are_strict_and_client_ones_loose() {
        let xml = r#"<message from="x"><x xmlns='urn:a'><item a="1"/></x><forwarded xmlns="urn:f"><message xmlns="jabber:client"><body/></message></forwarded><query xmlns="urn:q" jspec:strict='false'/></message>"#;
        assert_eq!(
            strictness(xml),
            r#"<message from="x"><x xmlns='urn:a' jspec:strict="true"><item a="1"/></x><forwarded xmlns="urn:f" jspec:strict="true"><message xmlns="jabber:client" jspec:strict="false"><body/></message></forwarded><query xmlns="urn:q" jspec:strict='false'/></message>"#
        );
    }

    #[test]
    fn rooms_are_found() {
        assert_eq!(
            room_locals(
                "a room@conference.localhost/x garden@conference.localhost room@conference.localhost"
            ),
            vec!["room".to_string(), "garden".to_string()]
        );
    }
}
