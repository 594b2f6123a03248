//! The structured did-you-mean of diagnostics (`Diagnostic::suggestion`), which editors turn into
//! quick fixes: it replaces exactly the primary label's text, and only where that text is the
//! misspelt word.

use jspec_lang::check::{CheckOptions, check};
use jspec_lang::load::Program;

/// `(code, text under the primary label, suggestion)` for each diagnostic.
fn suggestions(text: &str) -> Vec<(String, String, Option<String>)> {
    let program = Program::from_text("t.jspec", text);
    let report = check(&program, &CheckOptions::default());
    report
        .diagnostics
        .iter()
        .map(|d| {
            let span = d.primary_span().unwrap_or_default();
            let written = program.sources.get(d.file).slice(span).to_string();
            (d.code.as_str().to_string(), written, d.suggestion.clone())
        })
        .collect()
}

fn some(code: &str, written: &str, near: &str) -> (String, String, Option<String>) {
    (
        code.to_string(),
        written.to_string(),
        Some(near.to_string()),
    )
}

#[test]
fn misspelt_names_carry_their_replacement() {
    let text = r#"procedure greet(user) {
  connect user
}

case C1 "Typos" {
  requires fmux
  servers alpha, beta with nodes beta1, beta2
  user alice on alpha
  user bob on betta
  room ops on alpha

  step "Typos" {
    connect alcie
    connect alice to beta1
    join alice to opz
    join alice to ops via bta
    greeet(alice)
  }
}
"#;
    let found = suggestions(text);
    for expected in [
        some("jspec::unknown_capability", "fmux", "fmuc"),
        some("jspec::undeclared_server", "betta", "beta"),
        some("jspec::unknown_actor", "alcie", "alice"),
        some("jspec::unknown_room", "opz", "ops"),
        some("jspec::via_server", "bta", "beta"),
        some("jspec::undefined_procedure", "greeet", "greet"),
    ] {
        assert!(found.contains(&expected), "{expected:?} not in {found:#?}");
    }
}

#[test]
fn no_suggestion_without_a_close_name_or_inside_a_call() {
    let text = r#"procedure greet(user) {
  connect zzz
}

case C1 "Far" {
  servers a
  user alice on a

  step "Far" {
    connect qqqqqq
    greet(alice)
  }
}
"#;
    for (code, written, suggestion) in suggestions(text) {
        assert_eq!(suggestion, None, "{code} at `{written}`");
    }
}
