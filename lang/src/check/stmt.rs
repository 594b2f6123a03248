//! Checks of each statement: its names, values and raw XML.

use super::names::{FAILURE_REASONS, one_of};
use super::resolve::Want;
use super::scope::Entity;
use super::walk::Walker;
use super::{values, xml};
use crate::ast::*;
use crate::diagnostic::{Code, Diagnostic, did_you_mean};

const MINUTE: f64 = 60_000.0;
const HOUR: f64 = 60.0 * MINUTE;

impl Walker<'_, '_> {
    pub(crate) fn stmt(&mut self, stmt: &Stmt) {
        match &stmt.kind {
            StmtKind::Connect { user, options } => self.connect(user, options),
            StmtKind::Disconnect { user, .. } => {
                self.resolve(user, Want::User);
            }
            StmtKind::Join(join) => {
                self.resolve(&join.user, Want::User);
                self.resolve(&join.room, Want::Room);
                if let Some(nick) = &join.nick {
                    self.string(nick);
                }
                if let Some(via) = &join.via {
                    self.via(via);
                }
            }
            StmtKind::Leave { user, room } => {
                self.resolve(user, Want::User);
                self.resolve(room, Want::Room);
            }
            StmtKind::Send { body, from, to } => {
                self.string(body);
                self.resolve(from, Want::User);
                self.resolve(to, Want::UserOrRoom);
            }
            StmtKind::SendRaw { from, xml } => {
                self.resolve(from, Want::User);
                self.string(xml);
                self.xml(xml, false);
            }
            StmtKind::Wait(d) => self.duration(d, "wait", values::DAY),
            StmtKind::ExpectReceives(expect) => self.expect_receives(expect),
            StmtKind::ExpectConnectFails(fails) => {
                self.connect(&fails.user, &fails.options);
                self.reason(&fails.reason);
                self.within(&fails.within);
            }
            StmtKind::ExpectArchive(archive) => {
                self.resolve(&archive.archive, Want::UserOrRoom);
                self.resolve(&archive.reader, Want::User);
                self.count(&archive.count, "a message count", 0, 1_000_000);
                self.within(&archive.within);
            }
            StmtKind::ExpectLink(link) => {
                self.within(&link.within);
                let a = self.resolve(&link.from, Want::Server);
                let b = self.resolve(&link.to, Want::Server);
                if let (Some(a), Some(b)) = (a, b)
                    && a.text == b.text
                {
                    self.bad_cut(
                        link.to.span,
                        "a server-to-server link joins two different servers",
                    );
                }
            }
            StmtKind::SetCertificate { target, .. } | StmtKind::RevokeCertificate { target } => {
                self.resolve(target, Want::CertificateHolder);
            }
            StmtKind::SetTicket { user, .. } => {
                self.resolve(user, Want::User);
            }
            StmtKind::Partition(cut) => self.cut(cut),
            StmtKind::Heal(cut) => {
                if let Some(cut) = cut {
                    self.cut(cut);
                }
            }
            StmtKind::Isolate(target) => {
                self.resolve(target, Want::Endpoint);
            }
            StmtKind::Impair { link, impairments } => {
                self.link(link);
                for impairment in impairments {
                    self.impairment(impairment);
                }
                self.priority_has_limit(impairments);
            }
            StmtKind::Flood {
                link,
                rate,
                duration,
            } => {
                self.link(link);
                let finding = values::rate(self.file, rate, "a flood's rate");
                self.report_here(finding);
                self.duration(duration, "flood", HOUR);
            }
            StmtKind::Restore(link) => {
                if let Some(link) = link {
                    self.link(link);
                }
            }
            StmtKind::Process {
                database,
                target,
                only_process,
                ..
            } => {
                self.only_process(*database, *only_process);
                self.resolve(
                    target,
                    if *database {
                        Want::Database
                    } else {
                        Want::Server
                    },
                );
            }
            StmtKind::SkewClock {
                target,
                offset_millis,
                offset_span,
            } => {
                self.resolve(target, Want::Server);
                let magnitude = Duration {
                    millis: offset_millis.abs(),
                    span: *offset_span,
                };
                self.duration(&magnitude, "a clock offset", 100.0 * 365.0 * values::DAY);
            }
            StmtKind::RestoreClock { target } => {
                self.resolve(target, Want::Server);
            }
            StmtKind::SetClock { target, at } => {
                self.resolve(target, Want::Server);
                self.string(at);
                let value = at.literal();
                let parsed = value.as_deref().map(|v| {
                    time::OffsetDateTime::parse(v, &time::format_description::well_known::Rfc3339)
                });
                if let Some(Err(error)) = parsed {
                    self.report(
                        Diagnostic::error(
                            Code::OutOfRange,
                            self.file,
                            format!("\"{}\" is not a date and time ({error})", at.display()),
                        )
                        .with_label(at.span, "an RFC 3339 time is needed")
                        .with_help("write it as \"2008-08-22T21:09:04Z\""),
                    );
                }
            }
            StmtKind::ExpectSession {
                user,
                event,
                within,
            } => {
                self.resolve(user, Want::User);
                if let SessionEvent::Disconnected(Some(condition)) = event {
                    self.string(condition);
                }
                self.within(within);
            }
            StmtKind::ExpectCluster {
                cluster,
                expected,
                within,
            } => {
                self.within(within);
                self.cluster(cluster, expected);
            }
            StmtKind::ExpectDatabase {
                database,
                expected,
                within,
            } => {
                self.within(within);
                let named: Vec<&Name> = match expected {
                    DatabaseState::Primary(node) => vec![node],
                    DatabaseState::Replicas(nodes) => nodes.iter().collect(),
                };
                self.replicated_database(database, &named);
            }
            StmtKind::SwitchDatabase { database, to } => self.replicated_database(database, &[to]),
            StmtKind::Chaos(chaos) => self.chaos(chaos),
            StmtKind::Parallel(block) => self.block(block),
            StmtKind::Repeat { count, every, body } => {
                self.count(count, "a repeat count", 1, 1_000_000);
                if let Some(every) = every {
                    self.duration(every, "every", HOUR);
                }
                self.repeat_depth += 1;
                self.block(body);
                self.repeat_depth -= 1;
            }
            StmtKind::CheckDelivery { room, .. } => {
                self.resolve(room, Want::Room);
            }
            StmtKind::Call { name, args } => self.call(name, args, stmt.span),
        }
    }

    fn connect(&mut self, user: &Name, options: &ConnectOptions) {
        let Some(resolved) = self.resolve(user, Want::User) else {
            return;
        };
        let Some(node) = &options.node else { return };
        let Entity::User { server } = resolved.entity else {
            return;
        };
        let Some(node_text) = self.substitute(node) else {
            return;
        };
        let Some(scope) = self.scope else { return };
        let nodes = scope.nodes_of(&server);
        if nodes.contains(&node_text.as_str()) || node_text == server {
            return;
        }
        let help = if nodes.is_empty() {
            format!(
                "server `{server}` has no nodes; declare them with `servers {server} with nodes {node_text}, ...` or drop `to {node_text}`"
            )
        } else {
            match did_you_mean(&node_text, nodes.iter().copied()) {
                Some(near) => format!(
                    "did you mean `{near}`? nodes of `{server}`: {}",
                    nodes.join(", ")
                ),
                None => format!("nodes of `{server}`: {}", nodes.join(", ")),
            }
        };
        let mut diagnostic = Diagnostic::error(
            Code::NotANode,
            self.file,
            format!("`{node_text}` is not a node of `{server}`"),
        )
        .with_label(node.span, format!("{} is on `{server}`", resolved.text))
        .with_help(help);
        diagnostic.suggestion = did_you_mean(&node_text, nodes.iter().copied());
        self.report(diagnostic);
    }

    fn via(&mut self, via: &Name) {
        let Some(text) = self.substitute(via) else {
            return;
        };
        let Some(scope) = self.scope else { return };
        if matches!(scope.get(&text), Some(Entity::Server | Entity::Node { .. })) {
            return;
        }
        let servers = scope.names_where(|e| *e == Entity::Server);
        let help = match did_you_mean(&text, servers.iter().copied()) {
            Some(near) => format!("did you mean `{near}`?"),
            None => format!(
                "`via` names the server whose federated mirror of the room to join; add `{text}` to the case's `servers` line"
            ),
        };
        let mut diagnostic = Diagnostic::error(
            Code::ViaServer,
            self.file,
            format!("`via {text}`: the case does not list server `{text}`"),
        )
        .with_label(via.span, "not in the case's `servers` line")
        .with_help(help);
        diagnostic.suggestion = did_you_mean(&text, servers.iter().copied());
        self.report(diagnostic);
    }

    fn expect_receives(&mut self, expect: &ExpectReceives) {
        self.resolve(&expect.user, Want::User);
        if let (Some(next), Expected::Messages(messages)) = (expect.next, &expect.expected)
            && (messages.len() > 1 || expect.in_order)
        {
            self.report(
                Diagnostic::error(
                    Code::NextTakesOne,
                    self.file,
                    "`next` expects one stanza, after the one the previous `next` took",
                )
                .with_label(next, "one stanza, not several")
                .with_help("write one `expect ... receives next` per stanza, in the order they must arrive"),
            );
        }
        if let Expected::Messages(messages) = &expect.expected {
            for message in messages {
                self.string(message);
                if message.is_xml() {
                    self.xml(message, true);
                    self.add_captures(xml::captures(message));
                }
            }
        }
        if let Some(from) = &expect.from {
            self.resolve(from, Want::UserOrRoom);
        }
        self.within(&expect.within);
    }

    fn reason(&mut self, reason: &Str) {
        let value = reason.literal();
        if value
            .as_deref()
            .is_some_and(|v| FAILURE_REASONS.contains(&v))
            || !self.context_free()
        {
            return;
        }
        let written = value.unwrap_or_else(|| reason.display());
        let help = match did_you_mean(&written, FAILURE_REASONS.iter().copied()) {
            Some(near) => format!("did you mean \"{near}\"?"),
            None => format!("reasons: {}", one_of(FAILURE_REASONS)),
        };
        self.report(
            Diagnostic::error(
                Code::UnknownReason,
                self.file,
                format!("unknown failure reason \"{written}\""),
            )
            .with_label(reason.span, "not a reason jspec can observe")
            .with_help(help),
        );
    }

    fn within(&mut self, within: &Option<Duration>) {
        if let Some(d) = within {
            self.duration(d, "within", HOUR);
        }
    }

    /// Sides are servers, nodes or users; a user can only be cut from their own server.
    fn cut(&mut self, cut: &Cut) {
        let mut seen: Vec<String> = Vec::new();
        let mut sides: [Vec<(String, Entity, crate::span::Span)>; 2] = [Vec::new(), Vec::new()];
        for (index, side) in [&cut.left, &cut.right].into_iter().enumerate() {
            for name in &side.names {
                if let Some(resolved) = self.resolve(name, Want::Endpoint) {
                    if seen.contains(&resolved.text) {
                        self.bad_cut(
                            name.span,
                            &format!("`{}` is on both sides of the cut", resolved.text),
                        );
                    }
                    seen.push(resolved.text.clone());
                    sides[index].push((resolved.text, resolved.entity, name.span));
                }
            }
        }
        let home = |entity: &Entity| match entity {
            Entity::User { server } => Some(server.clone()),
            _ => None,
        };
        let server_of = |text: &str, entity: &Entity| match entity {
            Entity::Node { server } => server.clone(),
            _ => text.to_string(),
        };
        for (mine, theirs) in [(0, 1), (1, 0)] {
            for (user, entity, span) in &sides[mine] {
                let Some(server) = home(entity) else { continue };
                let reachable = sides[theirs]
                    .iter()
                    .any(|(text, e, _)| home(e).is_none() && server_of(text, e) == server);
                if !reachable && !sides[theirs].is_empty() {
                    self.bad_cut(
                        *span,
                        &format!(
                            "`{user}` connects only to `{server}`, which is not on the other side"
                        ),
                    );
                }
            }
        }
    }

    fn link(&mut self, link: &Link) {
        let from = self.resolve(&link.from, Want::Endpoint);
        let to = self.resolve(&link.to, Want::Endpoint);
        let (Some(from), Some(to)) = (from, to) else {
            return;
        };
        let home = |entity: &Entity| match entity {
            Entity::User { server } => Some(server.clone()),
            _ => None,
        };
        match (home(&from.entity), home(&to.entity)) {
            (Some(_), Some(_)) => self.bad_cut(
                link.span,
                "a link joins a user to their server, or two servers; two users have no link",
            ),
            (Some(server), None) | (None, Some(server)) => {
                let (user, other) = if home(&from.entity).is_some() {
                    (&from, &to)
                } else {
                    (&to, &from)
                };
                let other_home = match &other.entity {
                    Entity::Node { server } => server.clone(),
                    _ => other.text.clone(),
                };
                if other_home != server {
                    let message = format!(
                        "`{}` connects to `{server}`, not `{}`",
                        user.text, other.text
                    );
                    self.bad_cut(link.span, &message);
                }
            }
            (None, None) if from.text == to.text => {
                self.bad_cut(link.span, "a link joins two different servers")
            }
            (None, None) => {}
        }
    }

    fn impairment(&mut self, impairment: &Impairment) {
        match &impairment.kind {
            ImpairmentKind::Lag { delay, jitter } => {
                self.duration(delay, "lag", 10.0 * MINUTE);
                if let Some(jitter) = jitter {
                    self.duration(jitter, "jitter", 10.0 * MINUTE);
                }
            }
            ImpairmentKind::Throttle(d) => self.duration(d, "throttle", HOUR),
            ImpairmentKind::Drop(p) => self.percent(p, "drop"),
            ImpairmentKind::Duplicate(p) => self.percent(p, "duplicate"),
            ImpairmentKind::Reorder(p) => self.percent(p, "reorder"),
            ImpairmentKind::Tamper(p) => self.percent(p, "tamper"),
            ImpairmentKind::Bandwidth(rate) => {
                let finding = values::rate(self.file, rate, "bandwidth");
                self.report_here(finding);
            }
            ImpairmentKind::Priority(_) => {}
        }
    }

    /// A traffic class goes first within a bandwidth limit, so `priority` comes with one.
    fn priority_has_limit(&mut self, impairments: &[Impairment]) {
        let limited = impairments
            .iter()
            .any(|i| matches!(i.kind, ImpairmentKind::Bandwidth(_)));
        for impairment in impairments {
            if matches!(impairment.kind, ImpairmentKind::Priority(_))
                && !limited
                && self.context_free()
            {
                self.report(
                    Diagnostic::error(
                        Code::PriorityWithoutLimit,
                        self.file,
                        "a priority needs a bandwidth limit to share",
                    )
                    .with_label(impairment.span, "no `bandwidth` in this statement")
                    .with_help("limit the link in the same statement: impair link a -> b bandwidth 256kbit priority xmpp"),
                );
            }
        }
    }

    fn chaos(&mut self, chaos: &Chaos) {
        self.duration(&chaos.duration, "chaos", values::DAY);
        for rule in &chaos.rules {
            self.duration(&rule.min, "every", HOUR);
            if let Some(max) = &rule.max {
                self.duration(max, "every", HOUR);
                if max.millis < rule.min.millis && self.context_free() {
                    self.report(
                        Diagnostic::error(
                            Code::OutOfRange,
                            self.file,
                            "the interval ends before it starts",
                        )
                        .with_label(
                            rule.min.span.to(max.span),
                            "the upper bound is below the lower bound",
                        )
                        .with_help("write the shorter duration first: every 10s..30s"),
                    );
                }
            }
            if let Some(hold) = &rule.hold {
                self.duration(hold, "for", values::DAY);
            }
            match &rule.action {
                ChaosAction::Pick(pick) => {
                    let want = match (pick.database, pick.verb) {
                        (true, _) => Want::Database,
                        (false, ChaosVerb::Isolate) => Want::Endpoint,
                        (false, _) => Want::Server,
                    };
                    for target in &pick.targets {
                        self.resolve(target, want);
                    }
                }
                ChaosAction::Fault(kind) => {
                    let stmt = Stmt {
                        kind: (**kind).clone(),
                        span: rule.span,
                        trivia: Trivia::default(),
                    };
                    self.stmt(&stmt);
                }
            }
        }
    }

    fn xml(&mut self, string: &Str, pattern: bool) {
        let finding = xml::check(self.file, self.src(), string, pattern);
        self.report_here(finding);
    }

    fn duration(&mut self, d: &Duration, what: &str, max: f64) {
        let finding = values::duration(self.file, d, what, max);
        self.report_here(finding);
    }

    fn percent(&mut self, p: &Percent, what: &str) {
        let finding = values::percent(self.file, p, what);
        self.report_here(finding);
    }

    fn count(&mut self, c: &Count, what: &str, min: u64, max: u64) {
        let finding = values::count(self.file, c, what, min, max);
        self.report_here(finding);
    }

    /// Reports a finding that does not depend on the caller, only where the statement is
    /// written: not again at every call of its procedure.
    fn report_here(&mut self, finding: Option<Diagnostic>) {
        if let Some(diagnostic) = finding
            && self.context_free()
        {
            self.report(diagnostic);
        }
    }

    /// `expect cluster c ...`: `c` is a server with nodes, and the nodes listed are its own,
    /// each once.
    fn cluster(&mut self, cluster: &Name, expected: &ClusterState) {
        let Some(resolved) = self.resolve(cluster, Want::Server) else {
            return;
        };
        let own =
            |entity: &Entity| matches!(entity, Entity::Node { server } if *server == resolved.text);
        let nodes = self.names_in_scope(own);
        if nodes.is_empty() {
            let diagnostic = Diagnostic::error(
                Code::NotACluster,
                self.file,
                format!("`{}` is not a cluster", resolved.text),
            )
            .with_label(cluster.span, "a server without nodes")
            .with_help(format!(
                "declare its nodes in the case: `servers {} with nodes {}1, {}2`",
                resolved.text, resolved.text, resolved.text
            ));
            self.report(diagnostic);
            return;
        }
        let ClusterState::Nodes(listed) = expected else {
            return;
        };
        let listed: Vec<&Name> = listed.iter().collect();
        self.listed_nodes(
            &listed,
            &nodes,
            Code::NotACluster,
            ("cluster", &resolved.text),
        );
    }

    /// Every node in `listed` is one of `nodes` (of the cluster or database `owner`: its kind
    /// and name), and is listed once.
    pub(super) fn listed_nodes(
        &mut self,
        listed: &[&Name],
        nodes: &[String],
        code: Code,
        (kind, owner): (&str, &str),
    ) {
        let mut seen: Vec<String> = Vec::new();
        for node in listed {
            let Some(text) = self.substitute(node) else {
                continue;
            };
            if !nodes.contains(&text) {
                let diagnostic = Diagnostic::error(
                    code,
                    self.file,
                    format!("`{text}` is not a node of {kind} `{owner}`"),
                )
                .with_label(node.span, "not one of its nodes")
                .with_help(format!("the nodes of `{owner}`: {}", nodes.join(", ")));
                self.report(diagnostic);
            } else if seen.contains(&text) {
                let diagnostic =
                    Diagnostic::error(code, self.file, format!("node `{text}` is listed twice"))
                        .with_label(node.span, "listed before")
                        .with_help("list each node once");
                self.report(diagnostic);
            }
            seen.push(text);
        }
    }

    fn bad_cut(&mut self, span: crate::span::Span, message: &str) {
        self.report(
            Diagnostic::error(Code::BadCut, self.file, message.to_string())
                .with_label(span, "no such link")
                .with_help("partition servers (`partition a | b`) or a user from their server (`partition alice | a`); impair a user's link to their server (`alice -> a`) or a link between servers (`a <-> b`)"),
        );
    }
}
