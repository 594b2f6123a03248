//! The `.jspec` text of a parsed script: the case's declarations, then its actions in steps
//! (a new step at each comment that follows an action, titled with it).

use std::collections::BTreeSet;

use super::parse::{Action, Item, Script};
use super::rewrite::{self, Names, SERVER};
use super::{Imported, ScansionError};

/// How long `X receives: nothing` listens.
const NOTHING_WINDOW: &str = "2s";

pub(crate) fn emit(script: &Script, source: &str) -> Result<Imported, ScansionError> {
    let mut notes = Vec::new();
    let (names, users) = names(script, &mut notes);
    let mut out = format!("# Imported from {source} by `jspec import scansion`.\n");
    for note in &script.notes {
        out.push_str(&format!("# {note}\n"));
    }
    let title = script.title.clone().unwrap_or_else(|| source.to_string());
    out.push_str(&format!("case {} {{\n  servers {SERVER}\n", quote(&title)));
    let all_xml: String = script
        .body
        .iter()
        .filter_map(|item| match item {
            Item::Action {
                action: Action::Sends(xml) | Action::Receives(xml),
                ..
            } => Some(xml.as_str()),
            _ => None,
        })
        .collect::<Vec<_>>()
        .join("\n");
    let requires = requirements(&all_xml, !names.rooms.is_empty());
    if !requires.is_empty() {
        out.push_str(&format!("  requires {}\n", requires.join(", ")));
    }
    for (user, admin) in &users {
        let admin = if *admin { " as admin" } else { "" };
        out.push_str(&format!("  user {user} on {SERVER}{admin}\n"));
    }
    for room in names.rooms.values() {
        out.push_str(&format!("  room {room} on {SERVER}\n"));
    }
    for note in &notes {
        out.push_str(&format!("  # jspec import: {note}\n"));
    }
    steps(script, &names, &mut out, &mut notes)?;
    out.push_str("}\n");
    let jspec = crate::fmt::format_text(&out).ok_or_else(|| {
        ScansionError::new(
            1,
            1,
            "the imported case does not parse (a bug in jspec import)",
            format!("please report it with the script; the text was:\n{out}"),
        )
    })?;
    Ok(Imported { jspec, notes })
}

/// The users (with whether each is an administrator) and what every name stands for.
fn names(script: &Script, notes: &mut Vec<String>) -> (Names, Vec<(String, bool)>) {
    let mut names = Names::default();
    let mut users: Vec<(String, bool)> = Vec::new();
    let mut taken: BTreeSet<String> = BTreeSet::new();
    for client in &script.clients {
        let (bare, jid_resource) = match client.jid.split_once('/') {
            Some((bare, resource)) => (bare, Some(resource)),
            None => (client.jid.as_str(), None),
        };
        let local = bare.split_once('@').map_or(bare, |(local, _)| local);
        let user = match names.accounts.get(local) {
            Some(user) => user.clone(),
            None => {
                let user = unique(identifier(&client.name), &mut taken);
                names.accounts.insert(local.to_string(), user.clone());
                // Prosody's scansion configuration makes admin@localhost an administrator.
                users.push((user.clone(), local.eq_ignore_ascii_case("admin")));
                user
            }
        };
        let sessions_so_far = names
            .users_of_clients
            .values()
            .filter(|u| **u == user)
            .count();
        let session = match (&client.resource, sessions_so_far) {
            (Some(resource), _) => format!("{user}/{}", identifier(resource)),
            (None, 0) => user.clone(),
            (None, n) => format!("{user}/s{}", n + 1),
        };
        if let (Some(resource), None) = (jid_resource, &client.resource) {
            notes.push(format!(
                "client {} asks for resource `{resource}` in its JID (line {}); jspec binds its own (`{session}`)",
                client.name, client.line
            ));
        }
        names.users_of_clients.insert(client.name.clone(), user);
        names.sessions.insert(client.name.clone(), session);
    }
    for item in &script.body {
        if let Item::Action {
            action: action @ (Action::Sends(xml) | Action::Receives(xml)),
            ..
        } = item
        {
            if let Action::Sends(xml) = action {
                names.nodes.extend(rewrite::service_nodes(xml));
            }
            for local in rewrite::room_locals(xml) {
                if let std::collections::btree_map::Entry::Vacant(room) = names.rooms.entry(local) {
                    let mut name = identifier(room.key());
                    if taken.contains(&name) {
                        name.push_str("_room");
                    }
                    room.insert(unique(name, &mut taken));
                }
            }
        }
    }
    (names, users)
}

fn requirements(xml: &str, rooms: bool) -> Vec<&'static str> {
    let mut requires = Vec::new();
    if rooms || xml.contains("conference.localhost") {
        requires.push("muc");
    }
    if xml.contains("urn:xmpp:mam:") {
        requires.push("mam");
    }
    if xml.contains("pubsub.localhost") {
        requires.push("pubsub");
    }
    if xml.contains("urn:xmpp:carbons:") {
        requires.push("carbons");
    }
    requires
}

/// The actions, in steps.
fn steps(
    script: &Script,
    names: &Names,
    out: &mut String,
    notes: &mut Vec<String>,
) -> Result<(), ScansionError> {
    // Comments waiting for the next action: (text, switched-off action).
    let mut comments: Vec<(&str, bool)> = Vec::new();
    let mut open = false;
    let mut untitled = 0;
    // Which clients are connected, to carry over what scansion does with a second
    // `disconnects` (nothing).
    let mut connected: BTreeSet<usize> = BTreeSet::new();
    for item in &script.body {
        let (client, action, line) = match item {
            Item::Comment { text, disabled } => {
                comments.push((text, *disabled));
                continue;
            }
            Item::Blank => continue,
            Item::Action {
                client,
                action,
                line,
            } => (*client, action, *line),
        };
        // A comment after an action starts the next step.
        if !comments.is_empty() || !open {
            if open {
                out.push_str("  }\n");
            }
            // The first real comment titles the step; lines switched off stay comments.
            let titled = comments
                .iter()
                .position(|(text, disabled)| !disabled && !text.is_empty());
            let title = match titled {
                Some(i) => comments[i].0.to_string(),
                None => {
                    untitled += 1;
                    format!("Part {untitled}")
                }
            };
            out.push_str(&format!("\n  step {} {{\n", quote(&title)));
            for (i, comment) in comments.iter().enumerate() {
                if Some(i) != titled {
                    out.push_str(&comment_line(*comment));
                }
            }
            comments.clear();
            open = true;
        }
        let name = &script.clients[client].name;
        let session = &names.sessions[name];
        let xml = |xml: &str, expected: bool| -> Result<String, ScansionError> {
            let xml = rewrite::interpolations(xml, names).map_err(|message| {
                ScansionError::new(
                    line,
                    1,
                    message,
                    "refer to clients as `${Romeo's full JID}` or `${Romeo's JID}`",
                )
            })?;
            let xml = rewrite::nodes(&xml, names);
            let xml = rewrite::directives(&rewrite::addresses(&xml, names));
            let xml = if expected {
                rewrite::strictness(&xml)
            } else {
                xml
            };
            one_stanza(&xml).map_err(|message| {
                ScansionError::new(
                    line,
                    1,
                    format!(
                        "`{name} {}`: {message}",
                        if expected { "receives" } else { "sends" }
                    ),
                    "write one stanza under each `sends:` or `receives:`, each well-formed",
                )
            })?;
            if xml.contains("\"\"\"") {
                return Err(ScansionError::new(
                    line,
                    1,
                    "the stanza contains `\"\"\"`, which a jspec string cannot hold",
                    "write the quotes as `&quot;`",
                ));
            }
            Ok(block(&xml))
        };
        match action {
            Action::Connects => {
                connected.insert(client);
                out.push_str(&format!("    connect {session} without presence\n"));
            }
            Action::Disconnects if !connected.remove(&client) => {
                out.push_str(&format!(
                    "    # scansion: `{name} disconnects` (line {line}), but {name} is not connected: nothing to do\n"
                ));
                notes.push(format!(
                    "line {line}: `{name} disconnects` while not connected is left out"
                ));
            }
            Action::Disconnects => out.push_str(&format!("    disconnect {session}\n")),
            Action::Sends(stanza) => {
                out.push_str(&format!(
                    "    send from {session} \"\"\"\n{}\n    \"\"\"\n",
                    xml(stanza, false)?
                ));
            }
            Action::Receives(stanza) => {
                out.push_str(&format!(
                    "    expect {session} receives next \"\"\"\n{}\n    \"\"\"\n",
                    xml(stanza, true)?
                ));
            }
            Action::ReceivesNothing => {
                out.push_str(&format!(
                    "    # scansion: `{name} receives: nothing`; jspec listens for {NOTHING_WINDOW}\n    expect {session} receives no stanzas within {NOTHING_WINDOW}\n"
                ));
                if !notes.iter().any(|n| n.starts_with("`receives: nothing`")) {
                    notes.push(format!(
                        "`receives: nothing` listens for {NOTHING_WINDOW} (scansion's own wait is its client's timeout)"
                    ));
                }
            }
        }
    }
    if !comments.is_empty() {
        if !open {
            out.push_str("\n  step \"Nothing happens\" {\n");
            open = true;
        }
        for comment in comments {
            out.push_str(&comment_line(comment));
        }
    }
    if open {
        out.push_str("  }\n");
    }
    Ok(())
}

/// Whether the (rewritten) XML of an action is one well-formed element, as jspec sends and
/// expects stanzas; the reason otherwise.
fn one_stanza(xml: &str) -> Result<(), String> {
    // Interpolations stand for text; the prefix jspec patterns use is declared.
    let mut text = String::new();
    let mut rest = xml;
    while let Some(start) = rest.find("${") {
        text.push_str(&rest[..start]);
        let end = rest[start..]
            .find('}')
            .map_or(rest.len(), |e| start + e + 1);
        text.push('x');
        rest = &rest[end..];
    }
    text.push_str(rest);
    let wrapped = format!(
        "<jspec-import xmlns:jspec=\"{}\">{text}</jspec-import>",
        crate::check::PATTERN_NS
    );
    let document = roxmltree::Document::parse(&wrapped)
        .map_err(|e| format!("the XML is not well-formed ({e})"))?;
    match document
        .root_element()
        .children()
        .filter(|n| n.is_element())
        .count()
    {
        1 => Ok(()),
        0 => Err("there is no stanza".into()),
        n => Err(format!(
            "the block holds {n} stanzas, where a step sends or expects one"
        )),
    }
}

/// A comment inside a step; a line the script switched off keeps its `--`.
fn comment_line((text, disabled): (&str, bool)) -> String {
    match disabled {
        true => format!("    # -- {text}\n"),
        false => format!("    # {text}\n"),
    }
}

/// The XML indented for a triple-quoted string inside a step (tabs as two spaces).
fn block(xml: &str) -> String {
    xml.lines()
        .map(|line| {
            let depth = line.len() - line.trim_start_matches('\t').len();
            let rest = &line[depth..];
            match rest.is_empty() {
                true => String::new(),
                false => format!("      {}{}", "  ".repeat(depth), rest),
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// A jspec name for a client, account or room: `Juliet's phone` → `juliet_s_phone`.
fn identifier(text: &str) -> String {
    let mut out = String::new();
    for c in text.chars() {
        match c {
            c if c.is_ascii_alphanumeric() => out.push(c.to_ascii_lowercase()),
            _ if !out.ends_with('_') && !out.is_empty() => out.push('_'),
            _ => {}
        }
    }
    let out = out.trim_end_matches('_').to_string();
    match out.chars().next() {
        Some(c) if c.is_ascii_alphabetic() => out,
        Some(_) => format!("n{out}"),
        None => "client".to_string(),
    }
}

fn unique(name: String, taken: &mut BTreeSet<String>) -> String {
    let mut candidate = name.clone();
    let mut n = 2;
    while taken.contains(&candidate) {
        candidate = format!("{name}{n}");
        n += 1;
    }
    taken.insert(candidate.clone());
    candidate
}

/// A jspec string literal.
fn quote(text: &str) -> String {
    let escaped = text
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('$', "\\$");
    format!("\"{escaped}\"")
}
