//! Fault statements (partitions, links, processes) and `chaos` blocks with their rules.

use super::printer::Printer;
use super::stmt;
use super::string::{count, duration, percent, rate};
use crate::ast::{
    Chaos, ChaosAction, ChaosRule, ChaosVerb, Cut, Duration, Impairment, ImpairmentKind, Link,
    Name, ProcessAction, Rate, Side,
};
use crate::span::Span;

/// `partition a | b`
pub(crate) fn partition(p: &mut Printer<'_>, c: &Cut) {
    p.text("partition ");
    cut(p, c);
    if let Some((mode, _)) = c.mode {
        p.text(" ");
        p.text(mode.as_str());
    }
}

/// `isolate c1`
pub(crate) fn isolate(p: &mut Printer<'_>, target: &Name) {
    p.text("isolate ");
    p.text(&target.text);
}

/// `heal a | b`, or `heal` alone.
pub(crate) fn heal(p: &mut Printer<'_>, c: Option<&Cut>) {
    p.text("heal");
    if let Some(c) = c {
        p.text(" ");
        cut(p, c);
    }
}

/// `{a1, a2} | b`, `a -> b`
fn cut(p: &mut Printer<'_>, cut: &Cut) {
    side(p, &cut.left);
    p.text(if cut.one_way { " -> " } else { " | " });
    side(p, &cut.right);
}

/// `a` or `{a1, a2}`. More than one name is only valid in braces, so it always gets them.
fn side(p: &mut Printer<'_>, side: &Side) {
    if side.set || side.names.len() != 1 {
        p.text("{");
        p.names(&side.names);
        p.text("}");
    } else {
        p.names(&side.names);
    }
}

/// `impair link a <-> b lag 200ms jitter 50ms drop 10%`
pub(crate) fn impair(p: &mut Printer<'_>, l: &Link, impairments: &[Impairment]) {
    p.text("impair link ");
    link(p, l);
    for i in impairments {
        p.text(" ");
        impairment(p, &i.kind);
    }
}

/// `flood link a -> b at 2mbit for 30s`
pub(crate) fn flood(p: &mut Printer<'_>, l: &Link, r: &Rate, d: &Duration) {
    p.text("flood link ");
    link(p, l);
    p.text(" at ");
    rate(p, r);
    p.text(" for ");
    duration(p, d);
}

/// `restore link a <-> b`, or `restore` alone.
pub(crate) fn restore(p: &mut Printer<'_>, l: Option<&Link>) {
    p.text("restore");
    if let Some(l) = l {
        p.text(" link ");
        link(p, l);
    }
}

/// `skew clock of c2 by -3s`
pub(crate) fn skew_clock(p: &mut Printer<'_>, target: &Name, millis: f64, span: Span) {
    p.text("skew clock of ");
    p.text(&target.text);
    p.text(" by ");
    p.token(span, || format!("{millis}ms"));
}

/// `set clock of a to "2008-08-22T21:09:04Z"`
pub(crate) fn set_clock(p: &mut Printer<'_>, target: &Name, at: &crate::ast::Str) {
    p.text("set clock of ");
    p.text(&target.text);
    p.text(" to ");
    super::string::string(p, at);
}

/// `restore clock of c2`
pub(crate) fn restore_clock(p: &mut Printer<'_>, target: &Name) {
    p.text("restore clock of ");
    p.text(&target.text);
}

/// `a <-> b`, `alice -> a`
fn link(p: &mut Printer<'_>, link: &Link) {
    p.text(&link.from.text);
    p.text(if link.both_ways { " <-> " } else { " -> " });
    p.text(&link.to.text);
}

fn impairment(p: &mut Printer<'_>, kind: &ImpairmentKind) {
    p.text(kind.keyword());
    p.text(" ");
    match kind {
        ImpairmentKind::Lag { delay, jitter } => {
            duration(p, delay);
            if let Some(jitter) = jitter {
                p.text(" jitter ");
                duration(p, jitter);
            }
        }
        ImpairmentKind::Throttle(d) => duration(p, d),
        ImpairmentKind::Drop(x)
        | ImpairmentKind::Duplicate(x)
        | ImpairmentKind::Reorder(x)
        | ImpairmentKind::Tamper(x) => percent(p, x),
        ImpairmentKind::Bandwidth(r) => rate(p, r),
        ImpairmentKind::Priority(class) => p.text(class.as_str()),
    }
}

/// `kill a`, `kill database pg`
pub(crate) fn process(
    p: &mut Printer<'_>,
    action: ProcessAction,
    database: bool,
    target: &Name,
    only_process: bool,
) {
    p.text(action.as_str());
    if database {
        p.text(" database");
    }
    p.text(" ");
    p.text(&target.text);
    if only_process {
        p.text(" process");
    }
}

/// `switch database pg to pg2`
pub(crate) fn switch_database(p: &mut Printer<'_>, database: &Name, to: &Name) {
    p.text("switch database ");
    p.text(&database.text);
    p.text(" to ");
    p.text(&to.text);
}

/// `chaos seed 42 for 2m { every 10s..30s kill one of c1, c2 }`
pub(crate) fn chaos(p: &mut Printer<'_>, chaos: &Chaos) {
    p.text("chaos");
    if let Some(seed) = &chaos.seed {
        p.text(" seed ");
        count(p, seed);
    }
    p.text(" for ");
    duration(p, &chaos.duration);
    p.text(" ");
    if chaos_prints_inline(p, chaos) {
        p.inline_block(&chaos.rules, rule);
    } else {
        p.lines_block(
            chaos.open_comment.as_ref(),
            &chaos.rules,
            &chaos.dangling,
            |p, r| {
                p.line(&r.trivia, |p| rule(p, r));
            },
        );
    }
}

/// Whether a chaos block prints on one line: written so (or empty), holding no comment, and each
/// rule fits on one line.
pub(crate) fn chaos_prints_inline(p: &Printer<'_>, chaos: &Chaos) -> bool {
    let no_comments = chaos.open_comment.is_none()
        && chaos.dangling.comments.is_empty()
        && chaos
            .rules
            .iter()
            .all(|r| r.trivia.leading.is_empty() && r.trivia.trailing.is_none());
    let one_line = chaos.rules.iter().all(|r| match &r.action {
        ChaosAction::Pick(_) => true,
        ChaosAction::Fault(kind) => stmt::is_one_line(p, kind),
    });
    no_comments && one_line && (chaos.inline || chaos.rules.is_empty())
}

/// `every 10s..30s kill one of c1, c2 for 5s`
fn rule(p: &mut Printer<'_>, rule: &ChaosRule) {
    p.text("every ");
    duration(p, &rule.min);
    if let Some(max) = &rule.max {
        p.text("..");
        duration(p, max);
    }
    p.text(" ");
    match &rule.action {
        ChaosAction::Pick(pick) => {
            p.text(chaos_verb(pick.verb));
            if pick.database {
                p.text(" database");
            }
            p.text(" one of ");
            p.names(&pick.targets);
        }
        ChaosAction::Fault(kind) => stmt::kind(p, kind),
    }
    if let Some(hold) = &rule.hold {
        p.text(" for ");
        duration(p, hold);
    }
}

fn chaos_verb(verb: ChaosVerb) -> &'static str {
    match verb {
        ChaosVerb::Kill => "kill",
        ChaosVerb::Stop => "stop",
        ChaosVerb::Restart => "restart",
        ChaosVerb::Pause => "pause",
        ChaosVerb::Isolate => "isolate",
    }
}
