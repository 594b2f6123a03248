//! The documentation's examples are part of the contract: every ```jspec block of docs/*.md is a
//! complete file that parses and checks without errors, every ```jspec-statements block parses as
//! statements, and every file of stdlib/ parses, checks and is the one bundled in the binary.
//! The docs must also keep up with the language: every statement kind, every diagnostic code and
//! every stdlib procedure has to appear in them.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use jspec_lang::ast::{
    AuthMechanism, Block, CaseEntryKind, CertificateState, ChaosAction, ChaosVerb,
    DeliveryProperty, ImpairmentKind, ItemKind, LinkAuth, ProcessAction, Stmt, StmtKind,
    TicketState, TlsMode, Transport,
};
use jspec_lang::check::check;
use jspec_lang::diagnostic::{Code, RenderOptions, render_all};
use jspec_lang::load::Program;
use jspec_lang::parse::{parse_file, parse_statements, usage::LINE_KEYWORDS};
use jspec_lang::span::{Origin, SourceMap};
use jspec_lang::stdlib;

/// The documents whose examples are checked.
const DOCS: &[&str] = &["docs/language.md", "docs/stdlib.md"];

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn read(relative: &str) -> String {
    let path = root().join(relative);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()))
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    /// ```jspec: a complete file.
    File,
    /// ```jspec-statements: statements only.
    Statements,
}

/// One fenced example of a document.
#[derive(Debug)]
struct Example {
    doc: &'static str,
    /// 1-based line of the opening fence.
    line: usize,
    kind: Kind,
    text: String,
}

impl Example {
    /// Where the example starts, for messages: `docs/language.md:120`.
    fn name(&self) -> String {
        format!("{}:{}", self.doc, self.line)
    }

    /// The example preceded by blank lines, so that line numbers in diagnostics are those of the
    /// document itself.
    fn padded(&self) -> String {
        "\n".repeat(self.line) + &self.text
    }
}

/// Every ```jspec and ```jspec-statements block of a document. Fences may be indented (inside a
/// list); the fence's indentation is removed from the block's lines.
fn blocks(doc: &'static str) -> Vec<Example> {
    let text = read(doc);
    let mut out = Vec::new();
    let mut open: Option<(usize, Kind, usize, String)> = None;
    for (index, line) in text.lines().enumerate() {
        let trimmed = line.trim_start();
        let indent = line.len() - trimmed.len();
        match &mut open {
            None => {
                let kind = match trimmed.strip_prefix("```").map(str::trim_end) {
                    Some("jspec") => Some(Kind::File),
                    Some("jspec-statements") => Some(Kind::Statements),
                    _ => None,
                };
                if let Some(kind) = kind {
                    open = Some((index + 1, kind, indent, String::new()));
                }
            }
            Some((start, kind, fence_indent, body)) => {
                if trimmed.starts_with("```") {
                    out.push(Example {
                        doc,
                        line: *start,
                        kind: *kind,
                        text: std::mem::take(body),
                    });
                    open = None;
                } else {
                    let cut = (line.len() - trimmed.len()).min(*fence_indent);
                    body.push_str(&line[cut..]);
                    body.push('\n');
                }
            }
        }
    }
    assert!(open.is_none(), "{doc}: a ```jspec block is never closed");
    out
}

fn all_blocks() -> Vec<Example> {
    DOCS.iter().flat_map(|doc| blocks(doc)).collect()
}

/// Parses a block, panicking with rendered diagnostics that name the document and line.
fn parse_block(block: &Example) -> Vec<Stmt> {
    let text = block.padded();
    let mut sources = SourceMap::new();
    let id = sources.add(block.doc, Origin::Memory, text.clone());
    let fail = |diagnostics: &[jspec_lang::diagnostic::Diagnostic], what: &str| -> ! {
        panic!(
            "the {what} example at {} does not parse:\n{}\n--- example ---\n{}",
            block.name(),
            render_all(diagnostics, &sources, RenderOptions::plain()),
            block.text
        )
    };
    match block.kind {
        Kind::File => {
            let parsed = parse_file(id, &text);
            match parsed.tree {
                Some(tree) if parsed.diagnostics.is_empty() => statements_of_file(&tree),
                _ => fail(&parsed.diagnostics, "```jspec"),
            }
        }
        Kind::Statements => {
            let parsed = parse_statements(id, &text);
            match parsed.tree {
                Some(stmts) if parsed.diagnostics.is_empty() => stmts,
                _ => fail(&parsed.diagnostics, "```jspec-statements"),
            }
        }
    }
}

/// Checks a complete file as a program of its own, as `jspec check` would.
fn check_file(name: &str, text: &str) -> Result<(), String> {
    let program = Program::from_text(name, text);
    let report = check(&program, &Default::default());
    if report.errors() == 0 {
        Ok(())
    } else {
        Err(render_all(
            &report.diagnostics,
            &program.sources,
            RenderOptions::plain(),
        ))
    }
}

fn statements_of_file(file: &jspec_lang::ast::File) -> Vec<Stmt> {
    let mut out = Vec::new();
    for item in &file.items {
        match &item.kind {
            ItemKind::Procedure(procedure) => out.extend(procedure.body.stmts.iter().cloned()),
            ItemKind::Case(case) => {
                for entry in &case.entries {
                    match &entry.kind {
                        CaseEntryKind::Setup(block)
                        | CaseEntryKind::Teardown(block)
                        | CaseEntryKind::Step { body: block, .. } => {
                            out.extend(block.stmts.iter().cloned())
                        }
                        _ => {}
                    }
                }
            }
            ItemKind::Suite(_) | ItemKind::Section(_) | ItemKind::Use(_) => {}
        }
    }
    out
}

fn case_ids(text: &str) -> Vec<u64> {
    let parsed = parse_file(jspec_lang::span::SourceId(0), text);
    let Some(tree) = parsed.tree else {
        return Vec::new();
    };
    tree.items
        .iter()
        .filter_map(|item| match &item.kind {
            ItemKind::Case(case) => case.id.as_ref().map(|id| id.number),
            _ => None,
        })
        .collect()
}

#[test]
fn every_doc_example_parses() {
    let blocks = all_blocks();
    for doc in DOCS {
        let count = blocks.iter().filter(|b| b.doc == *doc).count();
        assert!(
            count >= 10,
            "{doc} has only {count} jspec blocks: is the extraction broken?"
        );
    }
    for block in &blocks {
        parse_block(block);
    }
}

#[test]
fn every_complete_doc_example_checks() {
    for block in all_blocks().iter().filter(|b| b.kind == Kind::File) {
        // Parse first, for the better message when the syntax is wrong.
        parse_block(block);
        if let Err(rendered) = check_file(block.doc, &block.padded()) {
            panic!(
                "the ```jspec example at {} has errors:\n{rendered}\n--- example ---\n{}",
                block.name(),
                block.text
            );
        }
    }
}

#[test]
fn case_ids_are_unique_across_the_docs() {
    let mut seen: BTreeMap<u64, String> = BTreeMap::new();
    for block in all_blocks().iter().filter(|b| b.kind == Kind::File) {
        for id in case_ids(&block.text) {
            if let Some(first) = seen.insert(id, block.name()) {
                panic!(
                    "case C{id} appears at {first} and again at {}",
                    block.name()
                );
            }
        }
    }
}

#[test]
fn every_stdlib_file_parses_checks_and_is_bundled() {
    let dir = root().join("stdlib");
    let mut on_disk = BTreeSet::new();
    for entry in std::fs::read_dir(&dir).expect("stdlib/ exists") {
        let path = entry.expect("readable stdlib/ entry").path();
        if path.extension().and_then(|e| e.to_str()) != Some("jspec") {
            continue;
        }
        let file_name = path
            .file_name()
            .and_then(|n| n.to_str())
            .expect("UTF-8 file name");
        let name = format!("stdlib/{file_name}");
        let text = std::fs::read_to_string(&path).expect("readable stdlib file");
        if let Err(rendered) = check_file(&name, &text) {
            panic!("{name} has errors:\n{rendered}");
        }
        let procedures = procedures_of(&name, &text);
        assert!(!procedures.is_empty(), "{name} defines no procedure");
        assert_eq!(
            stdlib::get(&name),
            Some(text.as_str()),
            "{name} is not bundled in lang/src/stdlib.rs"
        );
        on_disk.insert(name);
    }
    for (name, _) in stdlib::FILES {
        assert!(
            on_disk.contains(*name),
            "{name} is bundled but missing from stdlib/"
        );
    }
}

/// `(name, params)` of every procedure of a file that parses.
fn procedures_of(name: &str, text: &str) -> Vec<(String, Vec<String>)> {
    let parsed = parse_file(jspec_lang::span::SourceId(0), text);
    let tree = parsed
        .tree
        .unwrap_or_else(|| panic!("{name} does not parse"));
    tree.items
        .iter()
        .filter_map(|item| match &item.kind {
            ItemKind::Procedure(p) => Some((
                p.name.text.clone(),
                p.params.iter().map(|n| n.text.clone()).collect(),
            )),
            _ => None,
        })
        .collect()
}

#[test]
fn every_stdlib_procedure_is_documented_with_its_signature_and_an_example() {
    let doc = read("docs/stdlib.md");
    let examples: Vec<String> = blocks("docs/stdlib.md")
        .into_iter()
        .filter(|b| b.kind == Kind::File)
        .map(|b| b.text)
        .collect();
    for (name, _) in stdlib::FILES {
        for (procedure, params) in procedures_of(name, &read(name)) {
            let signature = format!("{procedure}({})", params.join(", "));
            assert!(
                doc.contains(&format!("`{signature}`")),
                "docs/stdlib.md does not show the signature `{signature}` of {name}"
            );
            let call = format!("{procedure}(");
            assert!(
                examples
                    .iter()
                    .any(|text| text.contains(&call) && text.contains(&format!("use \"{name}\""))),
                "docs/stdlib.md has no ```jspec example that uses {name} and calls {procedure}"
            );
        }
    }
}

#[test]
fn every_diagnostic_code_is_listed() {
    let doc = read("docs/language.md");
    for code in Code::ALL {
        assert!(
            doc.contains(&format!("`{}`", code.as_str())),
            "docs/language.md does not list the diagnostic code `{}`",
            code.as_str()
        );
    }
}

#[test]
fn every_line_keyword_has_an_example() {
    let blocks = blocks("docs/language.md");
    for (keyword, _) in LINE_KEYWORDS {
        let shown = blocks.iter().any(|block| {
            block.text.lines().any(|line| {
                line.trim_start()
                    .strip_prefix(keyword)
                    .is_some_and(|rest| rest.is_empty() || rest.starts_with([' ', '{', '(']))
            })
        });
        assert!(
            shown,
            "docs/language.md has no example line that starts with `{keyword}`"
        );
    }
}

/// Every statement form, and every keyword choice inside one, appears in some example of
/// docs/language.md. The matches are exhaustive on purpose: a new statement or option does not
/// compile here until it is documented.
#[test]
fn every_statement_form_has_an_example() {
    let mut seen = BTreeSet::new();
    for block in blocks("docs/language.md") {
        let stmts = parse_block(&block);
        collect(&stmts, &mut seen);
    }
    let expected = [
        "connect",
        "connect to",
        "connect starttls",
        "connect direct-tls",
        "auth scram",
        "auth plain",
        "auth external",
        "auth gssapi",
        "connect stream-management",
        "connect carbons",
        "connect without presence",
        "expect resumed",
        "expect reconnected",
        "expect disconnected",
        "expect disconnected with",
        "disconnect",
        "disconnect abruptly",
        "join",
        "join as",
        "join via",
        "leave",
        "send",
        "send raw",
        "wait",
        "expect receives",
        "expect receives xml",
        "expect receives several",
        "expect receives nothing",
        "expect receives no stanzas",
        "expect receives delayed",
        "expect receives next",
        "expect receives from",
        "expect receives in order",
        "expect receives within",
        "expect connect fails",
        "expect connect fails within",
        "expect archive",
        "expect archive in order",
        "expect archive within",
        "expect link",
        "expect cluster nodes",
        "expect cluster split",
        "expect database primary",
        "expect database replicas",
        "switch database",
        "database process",
        "skew clock",
        "skew clock behind",
        "set clock",
        "restore clock",
        "link certificate",
        "link dialback",
        "link over direct-tls",
        "link over starttls",
        "set certificate valid",
        "set certificate expired",
        "set certificate not-yet-valid",
        "set certificate revoked",
        "set certificate wrong-host",
        "set certificate self-signed",
        "revoke certificate",
        "set ticket valid",
        "set ticket expired",
        "set ticket none",
        "partition",
        "partition one-way",
        "partition sets",
        "isolate",
        "heal",
        "heal all",
        "impair",
        "impair both ways",
        "impair one way",
        "lag",
        "lag jitter",
        "drop",
        "throttle",
        "duplicate",
        "reorder",
        "tamper",
        "bandwidth",
        "priority xmpp",
        "flood",
        "restore",
        "restore all",
        "kill",
        "stop",
        "start",
        "restart",
        "pause",
        "resume",
        "database",
        "chaos",
        "chaos seed",
        "chaos range",
        "chaos fixed period",
        "chaos hold",
        "chaos fault",
        "chaos kill one of",
        "chaos stop one of",
        "chaos restart one of",
        "chaos pause one of",
        "chaos isolate one of",
        "parallel",
        "repeat",
        "repeat every",
        "check delivery",
        "no loss",
        "no duplicates",
        "in order",
        "call",
        "call with string",
    ];
    let missing: Vec<&str> = expected
        .iter()
        .copied()
        .filter(|f| !seen.contains(*f))
        .collect();
    assert!(
        missing.is_empty(),
        "docs/language.md has no example of: {missing:?}"
    );
}

fn collect(stmts: &[Stmt], seen: &mut BTreeSet<&'static str>) {
    for stmt in stmts {
        collect_kind(&stmt.kind, seen);
    }
}

fn collect_block(block: &Block, seen: &mut BTreeSet<&'static str>) {
    collect(&block.stmts, seen);
}

fn collect_connect(options: &jspec_lang::ast::ConnectOptions, seen: &mut BTreeSet<&'static str>) {
    if options.node.is_some() {
        seen.insert("connect to");
    }
    if options.stream_management.is_some() {
        seen.insert("connect stream-management");
    }
    if options.carbons.is_some() {
        seen.insert("connect carbons");
    }
    if options.without_presence.is_some() {
        seen.insert("connect without presence");
    }
    if let Some((tls, _)) = options.tls {
        seen.insert(match tls {
            TlsMode::StartTls => "connect starttls",
            TlsMode::DirectTls => "connect direct-tls",
        });
    }
    if let Some((auth, _)) = options.auth {
        seen.insert(match auth {
            AuthMechanism::Scram => "auth scram",
            AuthMechanism::Plain => "auth plain",
            AuthMechanism::External => "auth external",
            AuthMechanism::Gssapi => "auth gssapi",
        });
    }
}

fn collect_kind(kind: &StmtKind, seen: &mut BTreeSet<&'static str>) {
    match kind {
        StmtKind::Connect { options, .. } => {
            seen.insert("connect");
            collect_connect(options, seen);
        }
        StmtKind::Disconnect { abrupt, .. } => {
            seen.insert(if *abrupt {
                "disconnect abruptly"
            } else {
                "disconnect"
            });
        }
        StmtKind::Join(join) => {
            seen.insert("join");
            if join.nick.is_some() {
                seen.insert("join as");
            }
            if join.via.is_some() {
                seen.insert("join via");
            }
        }
        StmtKind::Leave { .. } => {
            seen.insert("leave");
        }
        StmtKind::Send { .. } => {
            seen.insert("send");
        }
        StmtKind::SendRaw { .. } => {
            seen.insert("send raw");
        }
        StmtKind::Wait(_) => {
            seen.insert("wait");
        }
        StmtKind::ExpectReceives(expect) => {
            seen.insert("expect receives");
            if expect.next.is_some() {
                seen.insert("expect receives next");
            }
            match &expect.expected {
                jspec_lang::ast::Expected::Nothing(_) => {
                    seen.insert("expect receives nothing");
                }
                jspec_lang::ast::Expected::NoStanzas(_) => {
                    seen.insert("expect receives no stanzas");
                }
                jspec_lang::ast::Expected::Messages(messages) => {
                    if messages.len() > 1 {
                        seen.insert("expect receives several");
                    }
                    if messages.iter().any(|m| m.is_xml()) {
                        seen.insert("expect receives xml");
                    }
                }
            }
            if expect.delayed {
                seen.insert("expect receives delayed");
            }
            if expect.from.is_some() {
                seen.insert("expect receives from");
            }
            if expect.in_order {
                seen.insert("expect receives in order");
            }
            if expect.within.is_some() {
                seen.insert("expect receives within");
            }
        }
        StmtKind::ExpectConnectFails(fails) => {
            seen.insert("expect connect fails");
            collect_connect(&fails.options, seen);
            if fails.within.is_some() {
                seen.insert("expect connect fails within");
            }
        }
        StmtKind::ExpectArchive(archive) => {
            seen.insert("expect archive");
            if archive.in_order {
                seen.insert("expect archive in order");
            }
            if archive.within.is_some() {
                seen.insert("expect archive within");
            }
        }
        StmtKind::ExpectLink(link) => {
            seen.insert("expect link");
            if let Some((auth, _)) = &link.auth {
                seen.insert(match auth {
                    LinkAuth::Certificate => "link certificate",
                    LinkAuth::Dialback => "link dialback",
                });
            }
            if let Some((transport, _)) = &link.transport {
                seen.insert(match transport {
                    Transport::DirectTls => "link over direct-tls",
                    Transport::StartTls => "link over starttls",
                });
            }
        }
        StmtKind::SetTicket { state, .. } => {
            seen.insert(match state {
                TicketState::Valid => "set ticket valid",
                TicketState::Expired => "set ticket expired",
                TicketState::None => "set ticket none",
            });
        }
        StmtKind::SetCertificate { state, .. } => {
            seen.insert(match state {
                CertificateState::Valid => "set certificate valid",
                CertificateState::Expired => "set certificate expired",
                CertificateState::NotYetValid => "set certificate not-yet-valid",
                CertificateState::Revoked => "set certificate revoked",
                CertificateState::WrongHost => "set certificate wrong-host",
                CertificateState::SelfSigned => "set certificate self-signed",
            });
        }
        StmtKind::RevokeCertificate { .. } => {
            seen.insert("revoke certificate");
        }
        StmtKind::Partition(cut) => {
            seen.insert("partition");
            if cut.one_way {
                seen.insert("partition one-way");
            }
            if cut.left.set || cut.right.set {
                seen.insert("partition sets");
            }
        }
        StmtKind::Isolate(_) => {
            seen.insert("isolate");
        }
        StmtKind::Heal(cut) => {
            seen.insert(if cut.is_some() { "heal" } else { "heal all" });
        }
        StmtKind::Impair { link, impairments } => {
            seen.insert("impair");
            seen.insert(if link.both_ways {
                "impair both ways"
            } else {
                "impair one way"
            });
            for impairment in impairments {
                seen.insert(match &impairment.kind {
                    ImpairmentKind::Lag {
                        jitter: Some(_), ..
                    } => "lag jitter",
                    ImpairmentKind::Lag { jitter: None, .. } => "lag",
                    ImpairmentKind::Drop(_) => "drop",
                    ImpairmentKind::Throttle(_) => "throttle",
                    ImpairmentKind::Duplicate(_) => "duplicate",
                    ImpairmentKind::Reorder(_) => "reorder",
                    ImpairmentKind::Tamper(_) => "tamper",
                    ImpairmentKind::Bandwidth(_) => "bandwidth",
                    ImpairmentKind::Priority(_) => "priority xmpp",
                });
                if matches!(
                    impairment.kind,
                    ImpairmentKind::Lag {
                        jitter: Some(_),
                        ..
                    }
                ) {
                    seen.insert("lag");
                }
            }
        }
        StmtKind::ExpectSession { event, .. } => {
            seen.insert(match event {
                jspec_lang::ast::SessionEvent::Resumed => "expect resumed",
                jspec_lang::ast::SessionEvent::Reconnected => "expect reconnected",
                jspec_lang::ast::SessionEvent::Disconnected(None) => "expect disconnected",
                jspec_lang::ast::SessionEvent::Disconnected(Some(_)) => "expect disconnected with",
            });
        }
        StmtKind::Flood { .. } => {
            seen.insert("flood");
        }
        StmtKind::Restore(link) => {
            seen.insert(if link.is_some() {
                "restore"
            } else {
                "restore all"
            });
        }
        StmtKind::SkewClock { offset_millis, .. } => {
            seen.insert(if *offset_millis < 0.0 {
                "skew clock behind"
            } else {
                "skew clock"
            });
        }
        StmtKind::RestoreClock { .. } => {
            seen.insert("restore clock");
        }
        StmtKind::SetClock { .. } => {
            seen.insert("set clock");
        }
        StmtKind::ExpectCluster { expected, .. } => {
            seen.insert(match expected {
                jspec_lang::ast::ClusterState::Nodes(_) => "expect cluster nodes",
                jspec_lang::ast::ClusterState::Split(_) => "expect cluster split",
            });
        }
        StmtKind::Process {
            action,
            database,
            only_process,
            ..
        } => {
            seen.insert(process_label(*action));
            if *database {
                seen.insert("database");
            }
            if only_process.is_some() {
                seen.insert("database process");
            }
        }
        StmtKind::ExpectDatabase { expected, .. } => {
            seen.insert(match expected {
                jspec_lang::ast::DatabaseState::Primary(_) => "expect database primary",
                jspec_lang::ast::DatabaseState::Replicas(_) => "expect database replicas",
            });
        }
        StmtKind::SwitchDatabase { .. } => {
            seen.insert("switch database");
        }
        StmtKind::Chaos(chaos) => {
            seen.insert("chaos");
            if chaos.seed.is_some() {
                seen.insert("chaos seed");
            }
            for rule in &chaos.rules {
                seen.insert(if rule.max.is_some() {
                    "chaos range"
                } else {
                    "chaos fixed period"
                });
                if rule.hold.is_some() {
                    seen.insert("chaos hold");
                }
                match &rule.action {
                    ChaosAction::Pick(pick) => {
                        if pick.database {
                            seen.insert("chaos database one of");
                        }
                        seen.insert(match pick.verb {
                            ChaosVerb::Kill => "chaos kill one of",
                            ChaosVerb::Stop => "chaos stop one of",
                            ChaosVerb::Restart => "chaos restart one of",
                            ChaosVerb::Pause => "chaos pause one of",
                            ChaosVerb::Isolate => "chaos isolate one of",
                        });
                    }
                    ChaosAction::Fault(kind) => {
                        seen.insert("chaos fault");
                        collect_kind(kind, seen);
                    }
                }
            }
        }
        StmtKind::Parallel(block) => {
            seen.insert("parallel");
            collect_block(block, seen);
        }
        StmtKind::Repeat { every, body, .. } => {
            seen.insert("repeat");
            if every.is_some() {
                seen.insert("repeat every");
            }
            collect_block(body, seen);
        }
        StmtKind::CheckDelivery { properties, .. } => {
            seen.insert("check delivery");
            for (property, _) in properties {
                seen.insert(match property {
                    DeliveryProperty::NoLoss => "no loss",
                    DeliveryProperty::NoDuplicates => "no duplicates",
                    DeliveryProperty::InOrder => "in order",
                });
            }
        }
        StmtKind::Call { args, .. } => {
            seen.insert("call");
            if args
                .iter()
                .any(|a| matches!(a, jspec_lang::ast::Argument::Str(_)))
            {
                seen.insert("call with string");
            }
        }
    }
}

fn process_label(action: ProcessAction) -> &'static str {
    match action {
        ProcessAction::Kill => "kill",
        ProcessAction::Stop => "stop",
        ProcessAction::Start => "start",
        ProcessAction::Restart => "restart",
        ProcessAction::Pause => "pause",
        ProcessAction::Resume => "resume",
    }
}
