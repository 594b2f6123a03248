//! Procedures calling procedures: the checker expands every call with the caller's names, but
//! walks a body once per distinct binding of its parameters, so programs whose expansion is
//! exponential (each procedure calling the next twice) are checked in linear time; deep finite
//! chains are fine; recursion is still an error.

use std::sync::mpsc;
use std::time::Duration;

use jspec_lang::check::{CheckOptions, Report, check};
use jspec_lang::diagnostic::{Code, RenderOptions, render_all};
use jspec_lang::load::Program;

/// A case that calls `p1(alice)` once, after the procedures.
const CASE: &str = r#"case C1 "Procedures" {
  servers a
  user alice on a

  step "Go" {
    connect alice
    p1(alice)
  }
}
"#;

/// `p1` to `p{levels}`, each calling the next twice; the last sends a message.
fn doubling(levels: usize, last: &str) -> String {
    let mut text = String::new();
    for k in 1..levels {
        text += &format!(
            "procedure p{k}(who) {{\n  p{next}(who)\n  p{next}(who)\n}}\n\n",
            next = k + 1
        );
    }
    text += &format!("procedure p{levels}(who) {{\n  {last}\n}}\n\n{CASE}");
    text
}

/// `p1` to `p{levels}`, each calling the next once.
fn chain(levels: usize) -> String {
    let mut text = String::new();
    for k in 1..levels {
        text += &format!("procedure p{k}(who) {{\n  p{}(who)\n}}\n\n", k + 1);
    }
    text += &format!("procedure p{levels}(who) {{\n  send \"hi\" from who to who\n}}\n\n{CASE}");
    text
}

/// Checks on a thread with a main thread's stack (8 MiB, as the CLI has); a check that has not
/// finished within 60 s fails the test instead of hanging it.
fn check_within_60s(text: String) -> (Report, String) {
    let (sender, receiver) = mpsc::channel();
    std::thread::Builder::new()
        .stack_size(8 << 20)
        .spawn(move || {
            let program = Program::from_text("procedures.jspec", &text);
            let report = check(&program, &CheckOptions::default());
            let rendered = render_all(
                &report.diagnostics,
                &program.sources,
                RenderOptions::plain(),
            );
            let _ = sender.send((report, rendered));
        })
        .expect("spawn a thread");
    receiver
        .recv_timeout(Duration::from_secs(60))
        .expect("the check finished within 60 s")
}

fn codes(report: &Report) -> Vec<Code> {
    report.diagnostics.iter().map(|d| d.code).collect()
}

#[test]
fn procedures_calling_the_next_twice_over_24_levels_check_without_errors() {
    let (report, rendered) = check_within_60s(doubling(24, "send \"hi\" from who to who"));
    assert_eq!(report.errors(), 0, "{rendered}");
}

#[test]
fn procedures_calling_the_next_twice_over_40_levels_check_without_errors() {
    let (report, rendered) = check_within_60s(doubling(40, "send \"hi\" from who to who"));
    assert_eq!(report.errors(), 0, "{rendered}");
}

#[test]
fn an_error_at_the_bottom_of_40_doubling_levels_is_reported_once_with_its_chain() {
    let (report, rendered) = check_within_60s(doubling(40, "connect carol"));
    assert_eq!(codes(&report), [Code::UnknownActor], "{rendered}");
    let error = &report.diagnostics[0];
    assert_eq!(error.message, "unknown user `carol` (in procedure `p40`)");
    // The calls p1 → p2 → ... → p40 (the first path), then the procedure's own line.
    assert_eq!(error.related.len(), 40, "{rendered}");
    assert_eq!(error.related[0].message, "which calls `p2`");
    assert_eq!(error.related[38].message, "which calls `p40`");
    assert_eq!(
        error.related[39].message,
        "in procedure `p40`: unknown user `carol`"
    );
}

#[test]
fn a_chain_of_40_procedures_is_not_recursion() {
    let (report, rendered) = check_within_60s(chain(40));
    assert_eq!(report.errors(), 0, "{rendered}");
}

#[test]
fn a_chain_of_256_procedures_checks_and_one_more_is_too_deep() {
    let (report, rendered) = check_within_60s(chain(256));
    assert_eq!(report.errors(), 0, "{rendered}");
    let (report, rendered) = check_within_60s(chain(257));
    assert_eq!(codes(&report), [Code::TooDeep], "{rendered}");
    assert!(
        rendered.contains("procedure calls are nested more than 256 deep"),
        "{rendered}"
    );
}

#[test]
fn a_procedure_reachable_from_itself_is_still_recursion() {
    let text = format!(
        "procedure p1(who) {{\n  q(who)\n}}\n\nprocedure q(who) {{\n  p1(who)\n}}\n\n{CASE}"
    );
    let (report, rendered) = check_within_60s(text);
    assert_eq!(codes(&report), [Code::RecursiveProcedure], "{rendered}");
    let error = &report.diagnostics[0];
    assert_eq!(error.message, "`p1` calls itself (in procedure `q`)");
    assert_eq!(error.related[0].message, "which calls `q`");
    assert_eq!(
        error.related[1].message,
        "in procedure `q`: `p1` calls itself"
    );
}

#[test]
fn each_distinct_argument_is_checked_and_reported_at_its_own_call() {
    let text = r#"procedure hello(who) {
  connect who
}

procedure twice(who) {
  hello(who)
  hello(who)
}

case C1 "Arguments" {
  servers a
  user alice on a

  step "Go" {
    twice(alice)
    twice(bob)
    twice(alice)
    twice(bob)
  }
}
"#;
    let (report, rendered) = check_within_60s(text.to_string());
    // Each call of `twice(bob)` in the case: one error (not one per path to `hello`).
    assert_eq!(
        codes(&report),
        [Code::UnknownActor, Code::UnknownActor],
        "{rendered}"
    );
    let lines: Vec<usize> = report
        .diagnostics
        .iter()
        .map(|d| d.primary_span().unwrap().start)
        .map(|start| text[..start as usize].lines().count())
        .collect();
    assert_eq!(lines, [16, 18], "{rendered}");
}

#[test]
fn a_capture_named_in_a_procedure_is_known_after_every_call_of_it() {
    let text = r#"procedure receive_id(who) {
  expect who receives """<message id="{$msgid}"/>""" within 5s
}

case C1 "Captures" {
  servers a
  user alice on a

  step "First" {
    receive_id(alice)
    send "${msgid}" from alice to alice
  }
}

case C2 "Captures again" {
  servers a
  user alice on a

  step "Second" {
    send "${msgid}" from alice to alice
    receive_id(alice)
    receive_id(alice)
    send "${msgid}" from alice to alice
  }
}
"#;
    let (report, rendered) = check_within_60s(text.to_string());
    // Only the use before any call, in the second case.
    assert_eq!(codes(&report), [Code::UnknownInterpolation], "{rendered}");
    assert!(rendered.contains("procedures.jspec:20:"), "{rendered}");
}

/// Each level calls the next with its ten arguments permuted two ways (a swap and a rotation,
/// which generate all permutations): the distinct bindings double at every level up to 10!/2,
/// millions that no memo helps with. The expansion budget stops it with an error.
#[test]
fn calls_with_ever_different_arguments_stop_at_the_budget_with_an_error() {
    let params = "a, b, c, d, e, f, g, h, i, j";
    let mut text = String::new();
    for k in 1..30 {
        text += &format!(
            "procedure p{k}({params}) {{\n  p{n}(b, a, c, d, e, f, g, h, i, j)\n  p{n}(b, c, d, e, f, g, h, i, j, a)\n}}\n\n",
            n = k + 1
        );
    }
    text += &format!("procedure p30({params}) {{\n  connect a\n}}\n\n");
    text += "case C1 \"Permutations\" {\n  servers s\n";
    for n in 1..=10 {
        text += &format!("  user u{n} on s\n");
    }
    text += "\n  step \"Go\" {\n    p1(u1, u2, u3, u4, u5, u6, u7, u8, u9, u10)\n  }\n}\n";
    let (report, rendered) = check_within_60s(text);
    assert_eq!(codes(&report), [Code::ExpansionTooLarge], "{rendered}");
    assert!(rendered.contains("not expanded"), "{rendered}");
}

/// `p1` to `p256`, each writing its call `nest` blocks deep.
fn nested_chain(nest: usize) -> String {
    let (open, close) = ("parallel { ".repeat(nest), " }".repeat(nest));
    let mut text = String::new();
    for k in 1..256 {
        text += &format!(
            "procedure p{k}(who) {{\n  {open}p{}(who){close}\n}}\n\n",
            k + 1
        );
    }
    text += &format!("procedure p256(who) {{\n  {open}connect who{close}\n}}\n\n{CASE}");
    text
}

/// The deepest walks: 256 calls with blocks nested 1,021 deep through them are accepted; with
/// each call 62 blocks deep (a file nests at most 64) the nesting is refused at 1,024. Neither
/// overflows the 8 MiB stack of a main thread (an abort, which no test could catch).
#[test]
fn the_deepest_walks_fit_the_stack_and_deeper_nesting_is_an_error() {
    let (report, rendered) = check_within_60s(nested_chain(3));
    assert_eq!(report.errors(), 0, "{rendered}");
    let (report, rendered) = check_within_60s(nested_chain(62));
    assert_eq!(codes(&report), [Code::TooDeep], "{rendered}");
    assert!(
        rendered.contains("blocks are nested more than 1024 deep through procedure calls"),
        "{rendered}"
    );
}
