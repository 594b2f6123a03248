//! Matching received stanzas against expected XML, scansion-like: attributes and children not
//! written are ignored, child order is ignored unless strict, `{any}` matches any text (a whole
//! value or part of one) and `{$name}` captures a value for a later `${name}`.
//!
//! Beyond scansion: `{empty}` requires an empty value, `attr="{absent}"` requires the attribute
//! to be missing, `<el jspec:absent="true"/>` requires no such child, `{{` is a literal `{`
//! (interpolated values are escaped that way, so a value never acts as a wildcard),
//! `strict` means the written children are all the children, in the written order, and
//! `jspec:strict="true"` on an element matches it and what is inside it as scansion's strict
//! mode does: no attribute and no child that is not written, children in the written order
//! (`jspec:strict="false"` turns that off again further in).

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
        let strict = Strictness {
            children: self.strict,
            attributes: false,
        };
        element(&self.root, received, strict, &mut captures).then_some(captures)
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

/// The pattern directives the matcher knows.
const DIRECTIVES: &[&str] = &["absent", "strict"];

/// How strictly an element is matched: `strict` (the whole pattern's keyword) checks children
/// only; `jspec:strict="true"` also forbids attributes that are not written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Strictness {
    children: bool,
    attributes: bool,
}

impl Strictness {
    /// The strictness of `el`: its own `jspec:strict`, or what it inherits.
    fn of(el: &Element, inherited: Strictness) -> Strictness {
        match el.attr_ns(PATTERN_NS, "strict") {
            Some("false") => Strictness {
                children: false,
                attributes: false,
            },
            Some(_) => Strictness {
                children: true,
                attributes: true,
            },
            None => inherited,
        }
    }
}

/// Rejects `jspec:` attributes the matcher does not know (a typo would silently match).
fn check_directives(el: &Element) -> Result<(), String> {
    for ((ns, name), _) in el.attrs().iter() {
        if ns.as_str() == PATTERN_NS && !DIRECTIVES.contains(&name.as_str()) {
            return Err(format!(
                "`jspec:{name}` is not a pattern directive (they are `jspec:absent` and `jspec:strict`)"
            ));
        }
    }
    el.children().try_for_each(check_directives)
}

fn element(
    pattern: &Element,
    received: &Element,
    inherited: Strictness,
    captures: &mut Captures,
) -> bool {
    if pattern.name() != received.name() || pattern.ns() != received.ns() {
        return false;
    }
    let strict = Strictness::of(pattern, inherited);
    if strict.attributes && !same_attribute_names(pattern, received) {
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
    if strict.children {
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
    strict: Strictness,
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
    strict: Strictness,
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

/// Whether the received element has no attribute the pattern does not write (`xmlns`
/// declarations aside: namespaces are compared as names).
fn same_attribute_names(pattern: &Element, received: &Element) -> bool {
    let declaration = |ns: &str, name: &str| name == "xmlns" || ns == XMLNS_NS;
    received.attrs().iter().all(|((ns, name), _)| {
        declaration(ns.as_str(), name.as_str()) || pattern.attr_ns(ns, name).is_some()
    })
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
mod tests;
