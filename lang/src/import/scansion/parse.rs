//! A scansion script as written: a title, `[Client]` blocks with their properties, a line of
//! dashes, then actions (`Romeo connects`, `Romeo sends:` with an indented XML block,
//! `Romeo receives: nothing`, `Romeo disconnects`) between comments (`#`, `//`, `--`).

use super::ScansionError;

/// A whole script.
#[derive(Debug, Default)]
pub(crate) struct Script {
    /// The first `#` comment of the header.
    pub(crate) title: Option<String>,
    /// The other comment lines of the header.
    pub(crate) notes: Vec<String>,
    pub(crate) clients: Vec<Client>,
    pub(crate) body: Vec<Item>,
}

/// A `[Client] Name` block.
#[derive(Debug)]
pub(crate) struct Client {
    pub(crate) name: String,
    /// `jid:` as written, possibly with a resource.
    pub(crate) jid: String,
    /// `resource:`, if given.
    pub(crate) resource: Option<String>,
    pub(crate) line: usize,
}

/// One line or block after the dashes.
#[derive(Debug)]
pub(crate) enum Item {
    /// A comment; `disabled` for `--` lines, which scansion scripts use to switch actions off.
    Comment {
        text: String,
        disabled: bool,
    },
    Blank,
    Action {
        client: usize,
        action: Action,
        line: usize,
    },
}

#[derive(Debug)]
pub(crate) enum Action {
    Connects,
    Disconnects,
    Sends(String),
    Receives(String),
    ReceivesNothing,
}

pub(crate) fn parse(text: &str) -> Result<Script, ScansionError> {
    let lines: Vec<&str> = text.lines().map(str::trim_end).collect();
    let mut script = Script::default();
    let mut index = 0;
    // The header: title, clients, until a line of dashes.
    loop {
        let Some(&line) = lines.get(index) else {
            return Err(ScansionError::new(
                index.max(1),
                1,
                "the script has no line of dashes (`-----`) between its clients and its actions",
                "put a line of dashes after the last [Client] block",
            ));
        };
        index += 1;
        if is_dashes(line) {
            break;
        }
        if let Some(comment) = comment(line) {
            match script.title {
                None if script.clients.is_empty() => script.title = Some(comment.to_string()),
                _ => script.notes.push(comment.to_string()),
            }
        } else if let Some(name) = line.strip_prefix("[Client]") {
            let client = client(name.trim(), &lines, &mut index)?;
            script.clients.push(client);
        } else if !line.trim().is_empty() {
            return Err(ScansionError::new(
                index,
                1,
                format!("unexpected line before the dashes: `{}`", line.trim()),
                "the header holds `# comments` and `[Client] Name` blocks; actions come after a line of dashes",
            ));
        }
    }
    if script.clients.is_empty() {
        return Err(ScansionError::new(
            index,
            1,
            "the script declares no client",
            "declare one: `[Client] Romeo` with `jid:` and `password:` lines under it",
        ));
    }
    while let Some(&line) = lines.get(index) {
        index += 1;
        let number = index;
        if line.trim().is_empty() {
            script.body.push(Item::Blank);
            continue;
        }
        if let Some(comment) = comment(line) {
            script.body.push(Item::Comment {
                text: comment.to_string(),
                disabled: line.trim_start().starts_with("--"),
            });
            continue;
        }
        let (client, verb) = action_line(&script.clients, line).ok_or_else(|| {
            let names: Vec<&str> = script.clients.iter().map(|c| c.name.as_str()).collect();
            ScansionError::new(
                number,
                1,
                format!("not an action of a declared client: `{}`", line.trim()),
                format!(
                    "actions are `NAME connects`, `NAME sends:`, `NAME receives:` or `NAME disconnects`; the clients are {}",
                    names.join(", ")
                ),
            )
        })?;
        let action = match verb {
            "connects" => Action::Connects,
            "disconnects" => Action::Disconnects,
            "receives: nothing" | "receives nothing" => Action::ReceivesNothing,
            "sends:" | "sends" | "receives:" | "receives" => {
                let xml = block(&lines, &mut index);
                if xml.trim().is_empty() {
                    return Err(ScansionError::new(
                        number,
                        line.len() + 1,
                        format!("`{}` has no XML under it", line.trim()),
                        "indent the stanza under the line with a tab",
                    ));
                }
                match verb.starts_with("sends") {
                    true => Action::Sends(xml),
                    false => Action::Receives(xml),
                }
            }
            other => {
                return Err(ScansionError::new(
                    number,
                    line.len() - other.len() + 1,
                    format!("unknown action `{other}`"),
                    "actions are `connects`, `sends:`, `receives:`, `receives: nothing` and `disconnects`",
                ));
            }
        };
        script.body.push(Item::Action {
            client,
            action,
            line: number,
        });
    }
    Ok(script)
}

fn is_dashes(line: &str) -> bool {
    let line = line.trim();
    line.len() >= 3 && line.chars().all(|c| c == '-')
}

/// The text of a comment line (`# ...`, `// ...`, `-- ...`), or `None`.
fn comment(line: &str) -> Option<&str> {
    let trimmed = line.trim_start();
    ["#", "//", "--"]
        .iter()
        .find_map(|mark| trimmed.strip_prefix(mark))
        .map(str::trim)
}

/// A `[Client]` block's indented `key: value` lines.
fn client(name: &str, lines: &[&str], index: &mut usize) -> Result<Client, ScansionError> {
    let line = *index;
    if name.is_empty() {
        return Err(ScansionError::new(
            line,
            9,
            "a [Client] without a name",
            "write `[Client] Romeo`",
        ));
    }
    let mut jid = None;
    let mut resource = None;
    while let Some(&text) = lines.get(*index) {
        if !text.starts_with(['\t', ' ']) || text.trim().is_empty() {
            break;
        }
        *index += 1;
        let Some((key, value)) = text.trim().split_once(':') else {
            return Err(ScansionError::new(
                *index,
                1,
                format!("`{}` is not a `key: value` property", text.trim()),
                "a client has `jid:`, `password:` and optionally `resource:`",
            ));
        };
        match key.trim() {
            "jid" => jid = Some(value.trim().to_string()),
            "resource" => resource = Some(value.trim().to_string()),
            // Passwords and hosts come from the environment in jspec.
            _ => {}
        }
    }
    let jid = jid.ok_or_else(|| {
        ScansionError::new(
            line,
            1,
            format!("client `{name}` has no `jid:`"),
            "add an indented line `jid: user@localhost` under it",
        )
    })?;
    Ok(Client {
        name: name.to_string(),
        jid,
        resource,
        line,
    })
}

/// The client and the verb of an action line; the longest client name that prefixes it wins
/// (`Juliet's phone sends:` is not Juliet's).
fn action_line<'l>(clients: &[Client], line: &'l str) -> Option<(usize, &'l str)> {
    clients
        .iter()
        .enumerate()
        .filter_map(|(i, c)| {
            line.strip_prefix(c.name.as_str())
                .and_then(|rest| rest.strip_prefix(' '))
                .map(|verb| (i, c.name.len(), verb.trim()))
        })
        .max_by_key(|(_, len, _)| *len)
        .map(|(i, _, verb)| (i, verb))
}

/// The indented lines after an action (blank lines inside it included), without their first
/// level of indentation.
fn block(lines: &[&str], index: &mut usize) -> String {
    let mut taken = Vec::new();
    let mut end = *index;
    let mut cursor = *index;
    while let Some(&line) = lines.get(cursor) {
        if line.trim().is_empty() {
            cursor += 1;
            continue;
        }
        if !line.starts_with(['\t', ' ']) {
            break;
        }
        taken.extend(lines[end..=cursor].iter().copied());
        cursor += 1;
        end = cursor;
    }
    *index = end;
    let text: Vec<&str> = taken
        .iter()
        .map(|l| l.strip_prefix('\t').unwrap_or(l))
        .collect();
    text.join("\n")
}
