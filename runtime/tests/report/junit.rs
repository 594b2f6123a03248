//! `junit.xml`: read back with quick-xml, as trcli would read it.

use quick_xml::events::Event;
use quick_xml::{Reader, XmlVersion};

use jspec_runtime::report::{Verbosity, write_junit};

use crate::fixture::{NASTY_TITLE, results, run};

/// A parsed XML element.
#[derive(Debug, Default)]
struct Node {
    name: String,
    attrs: Vec<(String, String)>,
    children: Vec<Node>,
    text: String,
}

impl Node {
    fn attr(&self, key: &str) -> &str {
        let found = self.attrs.iter().find(|(k, _)| k == key);
        found.map_or_else(|| panic!("{} has no {key}", self.name), |(_, v)| v)
    }
    fn all(&self, name: &str) -> Vec<&Node> {
        self.children.iter().filter(|c| c.name == name).collect()
    }
    fn properties(&self, name: &str) -> Vec<&str> {
        self.all("properties")[0]
            .all("property")
            .into_iter()
            .filter(|p| p.attr("name") == name)
            .map(|p| p.attr("value"))
            .collect()
    }
}

fn parse(xml: &str) -> Node {
    fn node(e: &quick_xml::events::BytesStart<'_>) -> Node {
        Node {
            name: String::from_utf8(e.name().as_ref().to_vec()).unwrap(),
            attrs: e
                .attributes()
                .map(|a| {
                    let a = a.expect("attribute");
                    let key = String::from_utf8(a.key.as_ref().to_vec()).unwrap();
                    (
                        key,
                        a.normalized_value(XmlVersion::Explicit1_0)
                            .expect("value")
                            .into_owned(),
                    )
                })
                .collect(),
            ..Node::default()
        }
    }
    let mut reader = Reader::from_str(xml);
    let mut stack = vec![Node::default()];
    loop {
        match reader.read_event().expect("well-formed XML") {
            Event::Start(e) => stack.push(node(&e)),
            Event::Empty(e) => stack.last_mut().unwrap().children.push(node(&e)),
            Event::Text(t) => stack.last_mut().unwrap().text += &t.decode().unwrap(),
            Event::GeneralRef(r) => {
                let name = r.decode().unwrap();
                let text = match r.resolve_char_ref().unwrap() {
                    Some(c) => c.to_string(),
                    None => quick_xml::escape::resolve_predefined_entity(&name)
                        .expect("known entity")
                        .to_owned(),
                };
                stack.last_mut().unwrap().text += &text;
            }
            Event::End(_) => {
                let done = stack.pop().unwrap();
                stack.last_mut().unwrap().children.push(done);
            }
            Event::Eof => break,
            _ => {}
        }
    }
    assert_eq!(stack.len(), 1, "all elements closed");
    stack.pop().unwrap().children.pop().expect("root element")
}

#[test]
fn junit_xml_is_what_trcli_reads() {
    let dir = tempfile::tempdir().unwrap();
    run(dir.path(), Verbosity::Normal);
    let xml = std::fs::read_to_string(dir.path().join("junit.xml")).unwrap();
    assert!(xml.starts_with("<?xml version=\"1.0\" encoding=\"UTF-8\"?>"));
    assert!(
        xml.contains("Bob reads &lt;&amp;&quot;&apos;&gt; history"),
        "{xml}"
    );
    // quick-junit escapes quotes in text too; the parsed text has them (see the failure below).
    assert!(
        xml.contains("    &lt;message type=&quot;chat&quot;&gt;\n"),
        "text keeps its line breaks: {xml}"
    );
    let root = parse(&xml);
    assert_eq!(root.name, "testsuites");
    let counts = |n: &Node| {
        ["tests", "failures", "errors", "skipped"].map(|k| n.attr(k).parse::<usize>().unwrap())
    };
    assert_eq!(root.attr("name"), "jspec");
    assert_eq!(counts(&root), [4, 1, 0, 1]);
    assert_eq!(root.attr("time"), "8.252");

    let suites = root.all("testsuite");
    let names: Vec<&str> = suites.iter().map(|s| s.attr("name")).collect();
    assert_eq!(names, ["Messaging", "PKI > Server to server", "jspec"]);
    assert_eq!(counts(suites[1]), [2, 1, 0, 1]);

    let passed = &suites[0].all("testcase")[0];
    assert_eq!(passed.attr("name"), "[C101] Alice writes to Bob");
    assert_eq!(passed.attr("classname"), "core.Messaging");
    assert_eq!(passed.attr("time"), "1.900");
    assert_eq!(passed.properties("test_id"), ["C101"]);
    assert_eq!(
        passed.properties("testrail_result_step"),
        [
            "passed:Alice connects",
            "passed:Alice writes to Bob\nAlice sends \"hi\" to Bob\nAlice sends \"bye\" to Bob"
        ],
        "only Step blocks, in order, each with its actions on lines of their own (&#10;)"
    );
    assert!(passed.properties("testrail_result_comment").is_empty());
    assert_eq!(
        passed.properties("testrail_result_field"),
        ["version:0.1.0"]
    );
    assert!(passed.all("failure").is_empty() && passed.all("skipped").is_empty());

    let pki = suites[1].all("testcase");
    let failed = pki[0];
    assert_eq!(failed.attr("name"), format!("[C102] {NASTY_TITLE}"));
    assert_eq!(failed.attr("classname"), "messaging.PKI.Server to server");
    assert_eq!(
        failed.properties("testrail_result_step"),
        [
            "passed:Bob connects",
            "failed:Bob receives",
            "skipped:Bob replies"
        ]
    );
    assert_eq!(
        failed.properties("testrail_result_comment"),
        ["bob received nothing like it from ops within 5s"]
    );
    let failure = failed.all("failure")[0];
    assert_eq!(failure.attr("type"), "expectation");
    assert_eq!(
        failure.attr("message"),
        "bob received nothing like it from ops within 5s"
    );
    for part in [
        "--> cases/messaging.jspec:27:5",
        "27 |     bob receives from ops within 5s",
        "expected:\n    <message type=\"chat\">\n      <body>hi &amp; bye</body>",
        "closest received:\n    <message type=\"error\"/>",
    ] {
        assert!(
            failure.text.contains(part),
            "{part:?} in {:?}",
            failure.text
        );
    }

    let blocked = pki[1];
    assert_eq!(blocked.properties("test_id"), ["C103"]);
    assert_eq!(
        blocked.properties("testrail_result_step"),
        ["skipped:Alice writes over s2s"],
        "never \"blocked\": trcli raises on it"
    );
    assert_eq!(
        blocked.all("skipped")[0].attr("message"),
        "blocked: requires s2s: the environment has one server"
    );

    let no_id = suites[2].all("testcase")[0];
    assert_eq!(no_id.attr("name"), "Server answers ping");
    assert_eq!(no_id.attr("classname"), "messaging");
    assert!(no_id.properties("test_id").is_empty());
    assert!(!xml.contains("blocked:Alice"));
}

#[test]
fn junit_xml_is_written_atomically() {
    let dir = tempfile::tempdir().unwrap();
    run(dir.path(), Verbosity::Quiet);
    let path = dir.path().join("junit.xml");
    // Rewriting replaces the file whole (e.g. a later jspec command).
    write_junit(&results()[..1], &path, None).expect("rewrite");
    let xml = std::fs::read_to_string(&path).unwrap();
    assert_eq!(parse(&xml).attr("tests"), "1");
    assert!(!xml.contains("testrail_result_field"));
    let mut names: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(
        names,
        ["events.jsonl", "junit.xml"],
        "no temporary file left"
    );

    // A write that cannot complete (the target is a directory) leaves nothing behind.
    let blocked = dir.path().join("sub");
    std::fs::create_dir_all(blocked.join("junit.xml")).unwrap();
    assert!(write_junit(&results(), &blocked.join("junit.xml"), None).is_err());
    assert_eq!(std::fs::read_dir(&blocked).unwrap().count(), 1);
}
