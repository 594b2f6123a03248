//! The matcher against hand-written stanzas.
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

#[test]
fn jspec_strict_forbids_attributes_and_children_not_written_from_there_in() {
    let pattern = r#"<iq type="result"><query xmlns="q" jspec:strict="true"><item a="1"/><item a="2"/></query></iq>"#;
    // The stanza itself stays loose: extra attributes there are fine.
    let ok = r#"<iq type="result" id="x" from="s"><query xmlns="q"><item a="1"/><item a="2"/></query></iq>"#;
    assert!(check(pattern, ok).is_some());
    let extra_attribute =
        r#"<iq type="result"><query xmlns="q" ver="1"><item a="1"/><item a="2"/></query></iq>"#;
    assert!(
        check(pattern, extra_attribute).is_none(),
        "ver is not written"
    );
    let nested_attribute =
        r#"<iq type="result"><query xmlns="q"><item a="1" b="x"/><item a="2"/></query></iq>"#;
    assert!(
        check(pattern, nested_attribute).is_none(),
        "strict goes inward"
    );
    let extra_child = r#"<iq type="result"><query xmlns="q"><item a="1"/><item a="2"/><item a="3"/></query></iq>"#;
    assert!(check(pattern, extra_child).is_none());
    let reordered = r#"<iq type="result"><query xmlns="q"><item a="2"/><item a="1"/></query></iq>"#;
    assert!(check(pattern, reordered).is_none());
    // `jspec:strict="false"` further in lets that part be loose again.
    let loose_inside = r#"<iq type="result"><query xmlns="q" jspec:strict="true"><item a="1" jspec:strict="false"/></query></iq>"#;
    let with_extra =
        r#"<iq type="result"><query xmlns="q"><item a="1" b="x"><more/></item></query></iq>"#;
    assert!(check(loose_inside, with_extra).is_some());
}
