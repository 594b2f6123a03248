//! Parser details that the rest of the tool relies on: string values, dedent, spans.

use jspec_lang::ast::{Expected, ItemKind, Stmt, StmtKind, StrPart};
use jspec_lang::parse::parse_statements;
use jspec_lang::span::SourceId;

fn statements(text: &str) -> Vec<Stmt> {
    let parsed = parse_statements(SourceId(0), text);
    assert!(parsed.diagnostics.is_empty(), "{:?}", parsed.diagnostics);
    parsed.tree.expect("parses")
}

fn sent_xml(text: &str) -> String {
    match &statements(text)[0].kind {
        StmtKind::SendRaw { xml, .. } => xml.display(),
        other => panic!("not a raw send: {other:?}"),
    }
}

#[test]
fn triple_quoted_strings_are_dedented() {
    let text = "send from alice \"\"\"\n    <iq type=\"get\">\n      <ping xmlns=\"urn:xmpp:ping\"/>\n    </iq>\n  \"\"\"\n";
    assert_eq!(
        sent_xml(text),
        "<iq type=\"get\">\n  <ping xmlns=\"urn:xmpp:ping\"/>\n</iq>"
    );
}

#[test]
fn crlf_files_give_the_same_values_as_lf_files() {
    let lf = "send from alice \"\"\"\n    <a>\n      <b/>\n    </a>\n  \"\"\"\n";
    assert_eq!(sent_xml(&lf.replace('\n', "\r\n")), sent_xml(lf));
}

#[test]
fn a_first_line_on_the_opening_quotes_does_not_set_the_indentation() {
    let text = "send from alice \"\"\"<a>\n      <b/>\n    </a>\"\"\"\n";
    assert_eq!(sent_xml(text), "<a>\n  <b/>\n</a>");
}

#[test]
fn escapes_and_interpolations_become_parts() {
    let stmts = statements("send \"say \\\"hi\\\" to ${bob.jid} \\$5\" from alice to bob\n");
    let StmtKind::Send { body, .. } = &stmts[0].kind else {
        panic!("not a send")
    };
    assert_eq!(body.parts.len(), 3);
    assert_eq!(body.parts[0], StrPart::Text("say \"hi\" to ".into()));
    let StrPart::Interp(interp) = &body.parts[1] else {
        panic!("no interpolation")
    };
    assert_eq!(
        (
            interp.name.text.as_str(),
            interp.field.as_ref().map(|f| f.text.as_str())
        ),
        ("bob", Some("jid"))
    );
    assert_eq!(body.parts[2], StrPart::Text(" $5".into()));
}

#[test]
fn spans_point_at_the_source_text() {
    let text = "expect bob receives \"m1\", \"m2\" from ops in order within 30s\n";
    let stmts = statements(text);
    let StmtKind::ExpectReceives(expect) = &stmts[0].kind else {
        panic!("not an expect")
    };
    assert_eq!(&text[expect.user.span.range()], "bob");
    assert_eq!(&text[expect.from.as_ref().unwrap().span.range()], "ops");
    assert_eq!(&text[expect.within.unwrap().span.range()], "30s");
    assert_eq!(expect.within.unwrap().millis, 30_000.0);
    assert!(expect.in_order);
    let Expected::Messages(messages) = &expect.expected else {
        panic!("no messages")
    };
    assert_eq!(messages.len(), 2);
    assert_eq!(&text[stmts[0].span.range()], text.trim_end());
}

#[test]
fn quantities_convert_to_base_units() {
    let stmts =
        statements("impair link a <-> b lag 1.5s jitter 250ms drop 12.5% bandwidth 2mbit\n");
    let StmtKind::Impair { impairments, link } = &stmts[0].kind else {
        panic!("not impair")
    };
    assert!(link.both_ways);
    let debug = format!("{impairments:?}");
    assert!(
        debug.contains("millis: 1500.0") && debug.contains("millis: 250.0"),
        "{debug}"
    );
    assert!(
        debug.contains("value: 12.5") && debug.contains("bits_per_second: 2000000.0"),
        "{debug}"
    );
}

#[test]
fn comments_are_kept_as_trivia() {
    let text = "# about the case\ncase C1 \"t\" { # opening\n  servers a # the only server\n\n  # before the step\n  step \"s\" {\n    wait 1s\n    # dangling\n  }\n}\n";
    let parsed = jspec_lang::parse::parse_file(SourceId(0), text);
    let file = parsed.tree.expect("parses");
    let item = &file.items[0];
    assert_eq!(item.trivia.leading[0].text, "# about the case");
    let ItemKind::Case(case) = &item.kind else {
        panic!("not a case")
    };
    assert_eq!(case.open_comment.as_ref().unwrap().text, "# opening");
    assert_eq!(
        case.entries[0].trivia.trailing.as_ref().unwrap().text,
        "# the only server"
    );
    let step = &case.entries[1];
    assert!(step.trivia.leading[0].blank_before);
    assert_eq!(step.trivia.leading[0].text, "# before the step");
}

#[test]
fn inputs_that_once_crashed_now_parse_or_fail_cleanly() {
    // Each file in tests/regressions is an input the fuzzer or a test once crashed on.
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/regressions");
    let mut count = 0;
    for entry in std::fs::read_dir(&dir).expect("regressions folder") {
        let path = entry.expect("entry").path();
        let bytes = std::fs::read(&path).expect("read");
        let text = String::from_utf8_lossy(&bytes);
        let program = jspec_lang::load::Program::from_text("regression.jspec", &text);
        let report = jspec_lang::check::check(&program, &Default::default());
        let rendered = jspec_lang::diagnostic::render_all(
            &report.diagnostics,
            &program.sources,
            jspec_lang::diagnostic::RenderOptions::plain(),
        );
        let text = program.sources.get(jspec_lang::span::SourceId(0)).text();
        for diagnostic in &report.diagnostics {
            for label in &diagnostic.labels {
                let (start, end) = (label.span.start as usize, label.span.end as usize);
                assert!(
                    start <= end
                        && end <= text.len()
                        && text.is_char_boundary(start)
                        && text.is_char_boundary(end),
                    "{}: label {start}..{end} is not a span of the file: {rendered}",
                    path.display()
                );
            }
        }
        count += 1;
    }
    assert!(count > 0, "no regression inputs in {}", dir.display());
}
