//! Matching received stanzas against expected XML, scansion-like: attributes and children not
//! written are ignored, child order is ignored unless strict, `{any}` matches any text (a whole
//! value or part of one) and `{$name}` captures a value for a later `${name}`.
//!
//! Beyond scansion: `{empty}` requires an empty value, `attr="{absent}"` requires the attribute
//! to be missing, `<el jspec:absent="true"/>` requires no such child, `{{` is a literal `{`
//! (interpolated values are escaped that way, so a value never acts as a wildcard), and
//! `strict` means the written children are all the children, in the written order.

use std::collections::BTreeMap;

use jspec_lang::check::PATTERN_NS;
use minidom::Element;

/// The default namespace of patterns: stanzas are in the client namespace.
const CLIENT_NS: &str = "jabber:client";
const XMLNS_NS: &str = "http://www.w3.org/2000/xmlns/";
/// `attr="{absent}"`: the attribute must be missing.
const ABSENT: &str = "{absent}";
/// `{empty}`: the value or text must be empty.
const EMPTY: &str = "{empty}";

/// Values captured by `{$name}`.
pub type Captures = BTreeMap<String, String>;

/// An expected stanza.
#[derive(Clone, Debug)]
pub struct Pattern {
    root: Element,
    strict: bool,
}

impl Pattern {
    /// Parses a pattern (interpolations already replaced and escaped). Elements without `xmlns`
    /// are in the client namespace, like the stanzas they describe; the `jspec:` prefix is
    /// declared.
    pub fn parse(xml: &str, strict: bool) -> Result<Pattern, String> {
        let wrapped = format!(
            "<jspec-pattern xmlns=\"{CLIENT_NS}\" xmlns:jspec=\"{PATTERN_NS}\">{xml}</jspec-pattern>"
        );
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
        if is_absent(&root) {
            return Err("`jspec:absent` belongs on a child element, not on the stanza".into());
        }
        check_directives(&root)?;
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

    /// The id of the request whose result this pattern waits for: the pattern is an
    /// `<iq type="result">` with a literal id. An error answer to that id ends the wait.
    pub fn result_of(&self) -> Option<&str> {
        let root = &self.root;
        let literal = |v: &str| !v.contains('{');
        (root.name() == "iq" && root.attr("type") == Some("result"))
            .then(|| root.attr("id"))
            .flatten()
            .filter(|id| literal(id))
    }
}

/// Doubles `{` so that an interpolated value is matched literally, never as `{any}`.
pub fn escape_braces(value: &str) -> String {
    value.replace('{', "{{")
}

fn is_absent(el: &Element) -> bool {
    el.attr_ns(PATTERN_NS, "absent")
        .is_some_and(|v| v != "false")
}

/// Rejects `jspec:` attributes the matcher does not know (a typo would silently match).
fn check_directives(el: &Element) -> Result<(), String> {
    for ((ns, name), _) in el.attrs().iter() {
        if ns.as_str() == PATTERN_NS && name.as_str() != "absent" {
            return Err(format!(
                "`jspec:{name}` is not a pattern directive (the only one is `jspec:absent`)"
            ));
        }
    }
    el.children().try_for_each(check_directives)
}

fn element(pattern: &Element, received: &Element, strict: bool, captures: &mut Captures) -> bool {
    if pattern.name() != received.name() || pattern.ns() != received.ns() {
        return false;
    }
    for ((ns, name), expected) in pattern.attrs().iter() {
        if name.as_str() == "xmlns" || ns.as_str() == XMLNS_NS || ns.as_str() == PATTERN_NS {
            continue;
        }
        let actual = received.attr_ns(ns, name);
        let ok = match (expected.as_str(), actual) {
            (ABSENT, actual) => actual.is_none(),
            (expected, Some(actual)) => value(expected, actual, captures),
            (_, None) => false,
        };
        if !ok {
            return false;
        }
    }
    let expected_text = pattern.text();
    let expected_text = expected_text.trim();
    if !expected_text.is_empty() && !value(expected_text, received.text().trim(), captures) {
        return false;
    }
    let (absent, wanted): (Vec<&Element>, Vec<&Element>) =
        pattern.children().partition(|c| is_absent(c));
    let available: Vec<&Element> = received.children().collect();
    // An absent child: nothing the element has may match it (captures inside are not kept).
    if absent.iter().any(|a| {
        available
            .iter()
            .any(|r| element(a, r, strict, &mut captures.clone()))
    }) {
        return false;
    }
    if strict {
        // Exactly the written children, in the written order.
        return wanted.len() == available.len()
            && in_sequence(&wanted, &available, strict, captures);
    }
    let mut used = vec![false; available.len()];
    children(&wanted, &available, &mut used, strict, captures)
}

/// Matches wanted children one to one with the received ones, position by position.
fn in_sequence(
    wanted: &[&Element],
    available: &[&Element],
    strict: bool,
    captures: &mut Captures,
) -> bool {
    let mut trial = captures.clone();
    let all = wanted
        .iter()
        .zip(available)
        .all(|(w, a)| element(w, a, strict, &mut trial));
    if all {
        *captures = trial;
    }
    all
}

/// Assigns each wanted child a distinct received child, in any order, backtracking.
fn children(
    wanted: &[&Element],
    available: &[&Element],
    used: &mut [bool],
    strict: bool,
    captures: &mut Captures,
) -> bool {
    let Some((first, rest)) = wanted.split_first() else {
        return true;
    };
    for index in 0..available.len() {
        if used[index] {
            continue;
        }
        let mut trial = captures.clone();
        if element(first, available[index], strict, &mut trial) {
            used[index] = true;
            if children(rest, available, used, strict, &mut trial) {
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
        if rest[start..].starts_with("{{") {
            // An escaped brace: literal `{`.
            out.push(Piece::Literal(&rest[..start + 1]));
            rest = &rest[start + 2..];
            continue;
        }
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
    if expected == EMPTY {
        return actual.is_empty();
    }
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
    for ((ns, name), expected) in pattern.attrs().iter() {
        if received
            .attr_ns(ns, name)
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

    #[test]
    fn namespaced_attributes_match() {
        let french = r#"<message><body xml:lang="fr">bonjour</body></message>"#;
        assert!(
            check(
                r#"<message><body xml:lang="fr">bonjour</body></message>"#,
                french
            )
            .is_some()
        );
        assert!(
            check(
                r#"<message><body xml:lang="de">bonjour</body></message>"#,
                french
            )
            .is_none()
        );
        assert!(check(r#"<message><body xml:lang="{absent}"/></message>"#, french).is_none());
    }

    #[test]
    fn empty_and_absent_are_required_when_written() {
        let with_subject = r#"<message id="m1"><subject>Topic</subject><body>x</body></message>"#;
        let empty_subject = r#"<message><subject/><body>x</body></message>"#;
        assert!(
            check("<message><subject/></message>", with_subject).is_some(),
            "<subject/> accepts any text"
        );
        assert!(
            check(
                "<message><subject>{empty}</subject></message>",
                with_subject
            )
            .is_none()
        );
        assert!(
            check(
                "<message><subject>{empty}</subject></message>",
                empty_subject
            )
            .is_some()
        );
        assert!(check(r#"<message id="{absent}"/>"#, with_subject).is_none());
        assert!(check(r#"<message id="{absent}"/>"#, empty_subject).is_some());
        assert!(
            check(
                r#"<message><subject jspec:absent="true"/></message>"#,
                with_subject
            )
            .is_none()
        );
        assert!(
            check(
                r#"<message><thread jspec:absent="true"/></message>"#,
                with_subject
            )
            .is_some()
        );
        assert!(
            check(
                r#"<message><subject jspec:absent="true">Other</subject></message>"#,
                with_subject
            )
            .is_some(),
            "only a child like the absent one is refused"
        );
    }

    #[test]
    fn unknown_directives_and_an_absent_stanza_are_errors() {
        assert!(Pattern::parse(r#"<message><a jspec:absnet="true"/></message>"#, false).is_err());
        assert!(Pattern::parse(r#"<message jspec:absent="true"/>"#, false).is_err());
    }

    #[test]
    fn strict_means_exactly_these_children_in_this_order() {
        let strict = |pattern: &str| Pattern::parse(pattern, true).expect("pattern");
        assert!(
            strict("<message><body/></message>")
                .matches(&stanza(MESSAGE))
                .is_none(),
            "an extra child"
        );
        assert!(
            strict(r#"<message><body/><stanza-id xmlns="urn:xmpp:sid:0"/></message>"#)
                .matches(&stanza(MESSAGE))
                .is_some()
        );
        assert!(
            strict(r#"<iq type="result"/>"#)
                .matches(&stanza(r#"<iq type="result"/>"#))
                .is_some()
        );
        assert!(
            strict(r#"<iq type="result"/>"#)
                .matches(&stanza(r#"<iq type="result"><query xmlns="q"/></iq>"#))
                .is_none()
        );
    }

    #[test]
    fn escaped_braces_are_literal() {
        let body = |text: &str| format!("<message><body>{text}</body></message>");
        let escaped = body(&escape_braces("{any}"));
        assert!(check(&escaped, &body("{any}")).is_some());
        assert!(
            check(&escaped, &body("hello")).is_none(),
            "an interpolated {{any}} is no wildcard"
        );
        assert!(check(&body("{{x}"), &body("{x}")).is_some());
    }

    #[test]
    fn the_result_of_a_request_is_known() {
        let id = |pattern: &str| {
            Pattern::parse(pattern, false)
                .expect("pattern")
                .result_of()
                .map(str::to_string)
        };
        assert_eq!(id(r#"<iq type="result" id="v1"/>"#).as_deref(), Some("v1"));
        assert_eq!(id(r#"<iq type="result" id="{any}"/>"#), None);
        assert_eq!(id(r#"<iq type="error" id="v1"/>"#), None);
        assert_eq!(id(r#"<message id="v1"/>"#), None);
    }
}
