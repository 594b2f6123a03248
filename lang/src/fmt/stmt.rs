//! Statement blocks, the statement dispatch and control flow (`parallel`, `repeat`, calls). The
//! other statements are in `session.rs`, `expect.rs` and `fault.rs`.

use super::printer::Printer;
use super::string::{count, duration, string};
use super::{expect, fault, session};
use crate::ast::{
    Argument, Block, Count, Duration, Expected, Name, SessionEvent, Stmt, StmtKind, Str,
};

/// A `{ ... }` block: on one line when it was written so (or is empty) and everything in it fits
/// on one line, otherwise one statement per line.
pub(crate) fn block(p: &mut Printer<'_>, block: &Block) {
    if prints_inline(p, block) {
        p.inline_block(&block.stmts, |p, s| kind(p, &s.kind));
    } else {
        p.lines_block(
            block.open_comment.as_ref(),
            &block.stmts,
            &block.dangling,
            stmt,
        );
    }
}

/// Whether a block prints as `{ a; b }`. A block holding comments never does, so none is lost.
fn prints_inline(p: &Printer<'_>, block: &Block) -> bool {
    let no_comments = block.open_comment.is_none()
        && block.dangling.comments.is_empty()
        && block
            .stmts
            .iter()
            .all(|s| s.trivia.leading.is_empty() && s.trivia.trailing.is_none());
    no_comments
        && (block.inline || block.stmts.is_empty())
        && block.stmts.iter().all(|s| is_one_line(p, &s.kind))
}

/// Whether a statement prints on one line: it holds no multi-line block or string.
pub(crate) fn is_one_line(p: &Printer<'_>, kind: &StmtKind) -> bool {
    let one_line = |s: &Str| super::string::is_one_line(p, s);
    match kind {
        StmtKind::Join(join) => join.nick.as_ref().is_none_or(one_line),
        StmtKind::Send { body, .. } => one_line(body),
        StmtKind::SendRaw { xml, .. } => one_line(xml),
        StmtKind::ExpectReceives(expect) => match &expect.expected {
            Expected::Nothing(_) | Expected::NoStanzas(_) => true,
            Expected::Messages(messages) => messages.iter().all(one_line),
        },
        StmtKind::ExpectConnectFails(expect) => one_line(&expect.reason),
        StmtKind::ExpectSession {
            event: SessionEvent::Disconnected(Some(condition)),
            ..
        } => one_line(condition),
        StmtKind::ExpectSession { .. } => true,
        StmtKind::Chaos(chaos) => fault::chaos_prints_inline(p, chaos),
        StmtKind::Parallel(body) | StmtKind::Repeat { body, .. } => prints_inline(p, body),
        StmtKind::Call { args, .. } => args.iter().all(|arg| match arg {
            Argument::Name(_) => true,
            Argument::Str(s) => one_line(s),
        }),
        StmtKind::Connect { .. }
        | StmtKind::Disconnect { .. }
        | StmtKind::Leave { .. }
        | StmtKind::Wait(_)
        | StmtKind::ExpectArchive(_)
        | StmtKind::ExpectLink(_)
        | StmtKind::SetCertificate { .. }
        | StmtKind::SetTicket { .. }
        | StmtKind::RevokeCertificate { .. }
        | StmtKind::Partition(_)
        | StmtKind::Isolate(_)
        | StmtKind::Heal(_)
        | StmtKind::Impair { .. }
        | StmtKind::Flood { .. }
        | StmtKind::Restore(_)
        | StmtKind::SkewClock { .. }
        | StmtKind::SetClock { .. }
        | StmtKind::RestoreClock { .. }
        | StmtKind::ExpectCluster { .. }
        | StmtKind::ExpectDatabase { .. }
        | StmtKind::SwitchDatabase { .. }
        | StmtKind::Process { .. }
        | StmtKind::CheckDelivery { .. } => true,
    }
}

/// A statement on its own line, with its comments.
pub(crate) fn stmt(p: &mut Printer<'_>, stmt: &Stmt) {
    p.line(&stmt.trivia, |p| kind(p, &stmt.kind));
}

/// The statement itself, without comments.
pub(crate) fn kind(p: &mut Printer<'_>, kind: &StmtKind) {
    match kind {
        StmtKind::Connect { user, options } => session::connect(p, user, options),
        StmtKind::Disconnect { user, abrupt } => session::disconnect(p, user, *abrupt),
        StmtKind::Join(join) => session::join(p, join),
        StmtKind::Leave { user, room } => session::leave(p, user, room),
        StmtKind::Send { body, from, to } => session::send(p, body, from, to),
        StmtKind::SendRaw { from, xml } => session::send_raw(p, from, xml),
        StmtKind::Wait(d) => session::wait(p, d),
        StmtKind::ExpectReceives(receives) => expect::receives(p, receives),
        StmtKind::ExpectConnectFails(fails) => expect::connect_fails(p, fails),
        StmtKind::ExpectArchive(archive) => expect::archive(p, archive),
        StmtKind::ExpectLink(link) => expect::link(p, link),
        StmtKind::SetCertificate { target, state, .. } => {
            session::set_certificate(p, target, *state)
        }
        StmtKind::RevokeCertificate { target } => session::revoke_certificate(p, target),
        StmtKind::SetTicket { user, state } => session::set_ticket(p, user, *state),
        StmtKind::Partition(cut) => fault::partition(p, cut),
        StmtKind::Isolate(target) => fault::isolate(p, target),
        StmtKind::Heal(cut) => fault::heal(p, cut.as_ref()),
        StmtKind::Impair { link, impairments } => fault::impair(p, link, impairments),
        StmtKind::Flood {
            link,
            rate,
            duration,
        } => fault::flood(p, link, rate, duration),
        StmtKind::Restore(link) => fault::restore(p, link.as_ref()),
        StmtKind::SkewClock {
            target,
            offset_millis,
            offset_span,
        } => fault::skew_clock(p, target, *offset_millis, *offset_span),
        StmtKind::RestoreClock { target } => fault::restore_clock(p, target),
        StmtKind::SetClock { target, at } => fault::set_clock(p, target, at),
        StmtKind::ExpectSession {
            user,
            event,
            within,
        } => expect::session(p, user, event, within.as_ref()),
        StmtKind::ExpectCluster {
            cluster,
            expected,
            within,
        } => expect::cluster(p, cluster, expected, within.as_ref()),
        StmtKind::ExpectDatabase {
            database,
            expected,
            within,
        } => expect::database(p, database, expected, within.as_ref()),
        StmtKind::SwitchDatabase { database, to } => fault::switch_database(p, database, to),
        StmtKind::Process {
            action,
            database,
            target,
            only_process,
        } => fault::process(p, *action, *database, target, only_process.is_some()),
        StmtKind::Chaos(chaos) => fault::chaos(p, chaos),
        StmtKind::Parallel(body) => parallel(p, body),
        StmtKind::Repeat { count, every, body } => repeat(p, count, every.as_ref(), body),
        StmtKind::CheckDelivery { room, properties } => expect::check_delivery(p, room, properties),
        StmtKind::Call { name, args } => call(p, name, args),
    }
}

/// `parallel { ... }`
fn parallel(p: &mut Printer<'_>, body: &Block) {
    p.text("parallel ");
    block(p, body);
}

/// `repeat 100 times every 100ms { ... }`
fn repeat(p: &mut Printer<'_>, n: &Count, every: Option<&Duration>, body: &Block) {
    p.text("repeat ");
    count(p, n);
    p.text(" times");
    if let Some(every) = every {
        p.text(" every ");
        duration(p, every);
    }
    p.text(" ");
    block(p, body);
}

/// `join_both(ops, "Alice")`
fn call(p: &mut Printer<'_>, name: &Name, args: &[Argument]) {
    p.text(&name.text);
    p.text("(");
    p.separated(args, ", ", |p, arg| match arg {
        Argument::Name(name) => p.text(&name.text),
        Argument::Str(s) => string(p, s),
    });
    p.text(")");
}
