//! Matching received stanzas against expected XML, scansion-like: attributes and children not
//! written are ignored, child order is ignored unless strict, `{any}` matches any text (a whole
//! value or part of one) and `{$name}` captures a value for a later `${name}`.

use std::collections::BTreeMap;

use minidom::Element;

/// The default namespace of patterns: stanzas are in the client namespace.
const CLIENT_NS: &str = "jabber:client";

/// Values captured by `{$name}`.
pub type Captures = BTreeMap<String, String>;

/// An expected stanza.
#[derive(Clone, Debug)]
pub struct Pattern {
    root: Element,
    strict: bool,
}

impl Pattern {
    /// Parses a pattern (interpolations already replaced). Elements without `xmlns` are in the
    /// client namespace, like the stanzas they describe.
    pub fn parse(xml: &str, strict: bool) -> Result<Pattern, String> {
        let wrapped = format!("<jspec-pattern xmlns=\"{CLIENT_NS}\">{xml}</jspec-pattern>");
        let wrapper: Element = wrapped
            .parse()
            .map_err(|e| format!("the expected XML does not parse: {e}"))?;
        let mut children = wrapper.children();
        let root = children
            .next()
            .cloned()
            .ok_or("the expected XML has no element")?;
        if children.next().is_some() {
            return Err("the expected XML has more than one top-level element".into());
        }
        Ok(Pattern { root, strict })
    }

    pub fn root(&self) -> &Element {
        &self.root
    }

    /// Whether `received` matches, with the captured values.
    pub fn matches(&self, received: &Element) -> Option<Captures> {
        let mut captures = Captures::new();
        element(&self.root, received, self.strict, &mut captures).then_some(captures)
    }

    /// How much of the pattern `received` satisfies, to pick the closest stanza for a failure.
    pub fn similarity(&self, received: &Element) -> u32 {
        similarity(&self.root, received)
    }
}

fn element(pattern: &Element, received: &Element, strict: bool, captures: &mut Captures) -> bool {
    if pattern.name() != received.name() || pattern.ns() != received.ns() {
        return false;
    }
    for ((_, name), expected) in pattern.attrs().iter() {
        if name.as_str() == "xmlns" {
            continue;
        }
        match received.attr(name.as_str()) {
            Some(actual) if value(expected, actual, captures) => {}
            _ => return false,
        }
    }
    let expected_text = pattern.text();
    if !expected_text.trim().is_empty()
        && !value(expected_text.trim(), received.text().trim(), captures)
    {
        return false;
    }
    let wanted: Vec<&Element> = pattern.children().collect();
    let available: Vec<&Element> = received.children().collect();
    let mut used = vec![false; available.len()];
    children(&wanted, &available, &mut used, 0, strict, captures)
}

/// Assigns each wanted child a distinct received child (in order when strict), backtracking.
fn children(
    wanted: &[&Element],
    available: &[&Element],
    used: &mut [bool],
    from: usize,
    strict: bool,
    captures: &mut Captures,
) -> bool {
    let Some((first, rest)) = wanted.split_first() else {
        return true;
    };
    let start = if strict { from } else { 0 };
    for index in start..available.len() {
        if used[index] {
            continue;
        }
        let mut trial = captures.clone();
        if element(first, available[index], strict, &mut trial) {
            used[index] = true;
            if children(rest, available, used, index + 1, strict, &mut trial) {
                *captures = trial;
                return true;
            }
            used[index] = false;
        }
    }
    false
}

/// A piece of an expected value.
#[derive(Debug, PartialEq)]
enum Piece<'a> {
    Literal(&'a str),
    Any,
    Capture(&'a str),
}

fn pieces(pattern: &str) -> Vec<Piece<'_>> {
    let mut out = Vec::new();
    let mut rest = pattern;
    while let Some(start) = rest.find('{') {
        let Some(len) = rest[start..].find('}') else {
            break;
        };
        let token = &rest[start + 1..start + len];
        let piece = if token == "any" {
            Some(Piece::Any)
        } else {
            token
                .strip_prefix('$')
                .filter(|n| !n.is_empty())
                .map(Piece::Capture)
        };
        match piece {
            Some(piece) => {
                if start > 0 {
                    out.push(Piece::Literal(&rest[..start]));
                }
                out.push(piece);
                rest = &rest[start + len + 1..];
            }
            None => {
                // Not a wildcard: `{` is literal text.
                out.push(Piece::Literal(&rest[..start + 1]));
                rest = &rest[start + 1..];
            }
        }
    }
    if !rest.is_empty() {
        out.push(Piece::Literal(rest));
    }
    out
}

/// Matches a value against an expected value with wildcards, recording captures.
fn value(expected: &str, actual: &str, captures: &mut Captures) -> bool {
    let pieces = pieces(expected);
    let mut trial = captures.clone();
    if glob(&pieces, actual, &mut trial) {
        *captures = trial;
        true
    } else {
        false
    }
}

fn glob(pieces: &[Piece<'_>], actual: &str, captures: &mut Captures) -> bool {
    match pieces.split_first() {
        None => actual.is_empty(),
        Some((Piece::Literal(text), rest)) => actual
            .strip_prefix(text)
            .is_some_and(|tail| glob(rest, tail, captures)),
        Some((Piece::Any | Piece::Capture(_), rest)) => {
            // Shortest first, so `{$x}@{any}` captures the local part.
            let ends = actual.char_indices().map(|(i, _)| i).chain([actual.len()]);
            for end in ends {
                let mut trial = captures.clone();
                if let Some(Piece::Capture(name)) = pieces.first() {
                    if trial.get(*name).is_some_and(|v| v != &actual[..end]) {
                        continue; // captured earlier with another value
                    }
                    trial.insert((*name).to_string(), actual[..end].to_string());
                }
                if glob(rest, &actual[end..], &mut trial) {
                    *captures = trial;
                    return true;
                }
            }
            false
        }
    }
}

fn similarity(pattern: &Element, received: &Element) -> u32 {
    if pattern.name() != received.name() {
        return 0;
    }
    let mut score = 4;
    let mut scratch = Captures::new();
    for ((_, name), expected) in pattern.attrs().iter() {
        if received
            .attr(name.as_str())
            .is_some_and(|actual| value(expected, actual, &mut scratch))
        {
            score += 2;
        }
    }
    let text = pattern.text();
    if !text.trim().is_empty() && value(text.trim(), received.text().trim(), &mut scratch) {
        score += 3;
    }
    for child in pattern.children() {
        score += received
            .children()
            .map(|r| similarity(child, r))
            .max()
            .unwrap_or(0);
    }
    score
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stanza(xml: &str) -> Element {
        Pattern::parse(xml, false)
            .expect("stanza parses")
            .root()
            .clone()
    }

    fn check(pattern: &str, received: &str) -> Option<Captures> {
        Pattern::parse(pattern, false)
            .expect("pattern")
            .matches(&stanza(received))
    }

    const MESSAGE: &str = r#"<message type="groupchat" from="ops@conference.a.test/Alice" id="x1"><body>hello</body><stanza-id xmlns="urn:xmpp:sid:0" id="abc" by="ops@conference.a.test"/></message>"#;

    #[test]
    fn attributes_and_children_not_written_are_ignored() {
        assert!(check(r#"<message type="groupchat"/>"#, MESSAGE).is_some());
        assert!(check(r#"<message><body>hello</body></message>"#, MESSAGE).is_some());
    }

    #[test]
    fn a_wrong_value_or_a_missing_child_does_not_match() {
        assert!(check(r#"<message type="chat"/>"#, MESSAGE).is_none());
        assert!(check(r#"<message><body>bye</body></message>"#, MESSAGE).is_none());
        assert!(check(r#"<message><subject/></message>"#, MESSAGE).is_none());
        assert!(check(r#"<presence/>"#, MESSAGE).is_none());
    }

    #[test]
    fn namespaces_must_match() {
        assert!(
            check(
                r#"<message><stanza-id xmlns="urn:xmpp:sid:0"/></message>"#,
                MESSAGE
            )
            .is_some()
        );
        assert!(
            check(
                r#"<message><stanza-id xmlns="urn:xmpp:sid:1"/></message>"#,
                MESSAGE
            )
            .is_none()
        );
    }

    #[test]
    fn child_order_is_ignored_unless_strict() {
        let pattern = r#"<message><stanza-id xmlns="urn:xmpp:sid:0"/><body>hello</body></message>"#;
        assert!(check(pattern, MESSAGE).is_some());
        let strict = Pattern::parse(pattern, true).unwrap();
        assert!(strict.matches(&stanza(MESSAGE)).is_none());
        let in_order = Pattern::parse(
            r#"<message><body/><stanza-id xmlns="urn:xmpp:sid:0"/></message>"#,
            true,
        )
        .unwrap();
        assert!(in_order.matches(&stanza(MESSAGE)).is_some());
    }

    #[test]
    fn any_matches_whole_and_partial_values_and_captures_are_returned() {
        assert!(
            check(
                r#"<message from="ops@conference.a.test/{any}"><body>{any}</body></message>"#,
                MESSAGE
            )
            .is_some()
        );
        let captures = check(r#"<message from="{$room}@{any}/{$nick}"><stanza-id xmlns="urn:xmpp:sid:0" id="{$sid}"/></message>"#, MESSAGE)
            .expect("matches");
        assert_eq!(captures["room"], "ops");
        assert_eq!(captures["nick"], "Alice");
        assert_eq!(captures["sid"], "abc");
    }

    #[test]
    fn each_wanted_child_needs_its_own_received_child() {
        let two_bodies = r#"<message><body>a</body><body>a</body></message>"#;
        assert!(check(two_bodies, r#"<message><body>a</body></message>"#).is_none());
        assert!(
            check(
                two_bodies,
                r#"<message><body>a</body><body>a</body></message>"#
            )
            .is_some()
        );
    }

    #[test]
    fn braces_that_are_not_wildcards_are_text() {
        assert!(
            check(
                r#"<message><body>{x}</body></message>"#,
                r#"<message><body>{x}</body></message>"#
            )
            .is_some()
        );
    }

    #[test]
    fn similarity_prefers_the_stanza_closest_to_the_pattern() {
        let pattern = Pattern::parse(
            r#"<message type="groupchat"><body>hello</body></message>"#,
            false,
        )
        .unwrap();
        let close = stanza(r#"<message type="groupchat"><body>hallo</body></message>"#);
        let far = stanza(r#"<presence/>"#);
        assert!(pattern.similarity(&close) > pattern.similarity(&far));
    }

    #[test]
    fn malformed_patterns_are_errors_not_panics() {
        assert!(Pattern::parse("<message>", false).is_err());
        assert!(Pattern::parse("<a/><b/>", false).is_err());
        assert!(Pattern::parse("just text", false).is_err());
    }
}
