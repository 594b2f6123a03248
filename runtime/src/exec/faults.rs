//! Fault statements: the case's names resolved to endpoints and links, then handed to the run's
//! fault control. Every fault applied or healed goes into the fault trace.

use jspec_lang::ast::{
    Cut, CutStyle, Impairment as AstImpairment, ImpairmentKind, Link as AstLink, Name,
    ProcessAction, StmtKind, TrafficClass,
};

use super::context::{CaseContext, Frame};
use super::outcome::{StmtError, StmtResult, fail, harness};
use crate::fault::control::{FaultControl, FaultError};
use crate::fault::model::{CutMode, Endpoint, Flow, Impairment, Link};
use crate::fault::rng;

impl CaseContext<'_> {
    /// Runs a fault statement (`partition`, `isolate`, `heal`, `impair`, `restore`, a process
    /// fault); `origin` says who asked, for the trace.
    pub(crate) async fn fault(&self, kind: &StmtKind, frame: &Frame, origin: &str) -> StmtResult {
        let faults = self.fault_control()?;
        match kind {
            StmtKind::Partition(cut) => {
                let mode = match cut.mode.map(|(style, _)| style) {
                    None => CutMode::Hold,
                    Some(CutStyle::Reject) => CutMode::Reject,
                    Some(CutStyle::Close) => CutMode::Close,
                };
                for link in self.cut_links(cut, frame)? {
                    faults.cut(&link, mode).await.map_err(fault_error)?;
                }
                let suffix = cut
                    .mode
                    .map(|(s, _)| format!(" {}", s.as_str()))
                    .unwrap_or_default();
                self.trace_fault(
                    "partition",
                    &format!("{}{suffix}", self.cut_text(cut, frame)),
                    origin,
                );
            }
            StmtKind::Isolate(target) => {
                for link in self.isolation_links(target, frame)? {
                    faults
                        .cut(&link, CutMode::Hold)
                        .await
                        .map_err(fault_error)?;
                }
                self.trace_fault("isolate", &frame.name(&target.text), origin);
            }
            StmtKind::Heal(Some(cut)) => {
                for link in self.cut_links(cut, frame)? {
                    faults.uncut(&link).await.map_err(fault_error)?;
                }
                self.trace_fault("heal", &self.cut_text(cut, frame), origin);
            }
            StmtKind::Heal(None) => {
                let healed = faults.heal_network().await;
                self.trace_fault("heal", &everything(&healed), origin);
            }
            StmtKind::Impair { link, impairments } => {
                let impairment = impairment(impairments);
                let seed = rng::derive(
                    self.seed,
                    &format!("{}:{}:{origin}", self.case.title, link_text(link, frame)),
                );
                for flow in self.flows(link, frame)? {
                    let now = faults
                        .impair(&flow, &impairment, seed)
                        .await
                        .map_err(fault_error)?;
                    self.trace_fault("impair", &format!("{flow} {now}"), origin);
                }
            }
            StmtKind::Flood {
                link,
                rate,
                duration,
            } => {
                for flow in self.flows(link, frame)? {
                    faults
                        .flood(&flow, rate.bits_per_second, duration.as_std())
                        .await
                        .map_err(fault_error)?;
                }
                self.trace_fault(
                    "flood",
                    &format!(
                        "{} at {}bit/s for {}",
                        link_text(link, frame),
                        rate.bits_per_second,
                        crate::env::format_duration(duration.as_std())
                    ),
                    origin,
                );
            }
            StmtKind::Restore(Some(link)) => {
                for flow in self.flows(link, frame)? {
                    faults.restore(&flow).await.map_err(fault_error)?;
                }
                self.trace_fault("restore", &link_text(link, frame), origin);
            }
            StmtKind::Restore(None) => {
                let healed = faults.heal_network().await;
                self.trace_fault("restore", &everything(&healed), origin);
            }
            StmtKind::Process {
                action,
                database,
                target,
                only_process,
            } => {
                self.process(
                    faults,
                    *action,
                    (*database, only_process.is_some()),
                    target,
                    frame,
                    origin,
                )
                .await?
            }
            _ => return Err(fail("not a fault statement")),
        }
        Ok(())
    }

    pub(crate) async fn process(
        &self,
        faults: &FaultControl,
        action: ProcessAction,
        (database, only_process): (bool, bool),
        target: &Name,
        frame: &Frame,
        origin: &str,
    ) -> StmtResult {
        let role = frame.name(&target.text);
        if database {
            // A database the lab does not run: the environment's commands.
            let Some(lab) = self
                .lab
                .as_ref()
                .filter(|lab| lab.cluster_of_database(&role).is_some())
            else {
                if only_process {
                    return Err(StmtError::Blocked(format!(
                        "`{} database {role} process`: only a database the lab runs can lose its \
                         database process alone",
                        action.as_str()
                    )));
                }
                faults
                    .external_database_process(&role, action)
                    .await
                    .map_err(fault_error)?;
                self.trace_fault(action.as_str(), &format!("database {role}"), origin);
                return Ok(());
            };
            lab.database_process(&role, action, only_process)
                .await
                .map_err(|e| match e {
                    crate::lab::LabError::UnknownServer(_) => StmtError::Blocked(format!(
                        "`{} database {role}`: the lab runs no database {role}",
                        action.as_str()
                    )),
                    crate::lab::LabError::Unsupported(reason) => StmtError::Blocked(reason),
                    other => harness(other.to_string()),
                })?;
            let what = match only_process {
                true => format!("database {role} process"),
                false => format!("database {role}"),
            };
            self.trace_fault(action.as_str(), &what, origin);
            return Ok(());
        }
        if !self.is_server_or_node(&role) {
            return Err(StmtError::Blocked(format!(
                "`{} {role}`: {role} is not a server or node of this lab",
                action.as_str()
            )));
        }
        faults.process(&role, action).await.map_err(fault_error)?;
        self.trace_fault(action.as_str(), &role, origin);
        Ok(())
    }

    /// Heals the cuts of an `isolate`.
    pub(crate) async fn unisolate(&self, target: &Name, frame: &Frame, origin: &str) -> StmtResult {
        let faults = self.fault_control()?;
        for link in self.isolation_links(target, frame)? {
            faults.uncut(&link).await.map_err(fault_error)?;
        }
        self.trace_fault(
            "heal",
            &format!("isolation of {}", frame.name(&target.text)),
            origin,
        );
        Ok(())
    }

    pub(crate) fn fault_control(&self) -> Result<&FaultControl, StmtError> {
        self.faults.as_deref().ok_or_else(|| {
            StmtError::Blocked(
                "this run has no fault control (no lab to inject faults into)".into(),
            )
        })
    }

    /// Whether `name` is a server role of the case or a node of one of its clusters.
    pub(crate) fn is_server_or_node(&self, name: &str) -> bool {
        self.scope.servers.contains_key(name)
            || self
                .scope
                .servers
                .values()
                .any(|s| s.nodes.contains_key(name))
    }

    /// Whether `name` is one of the case's databases or database nodes.
    fn is_database(&self, name: &str) -> bool {
        self.scope
            .databases
            .iter()
            .any(|(role, nodes)| role == name || nodes.iter().any(|n| n == name))
    }

    /// A written name as a fault endpoint: a server role, a cluster node, a database or
    /// database node, or one of the case's users.
    pub(crate) fn endpoint(&self, name: &Name, frame: &Frame) -> Result<Endpoint, StmtError> {
        let name = frame.name(&name.text);
        if self.is_server_or_node(&name) {
            Ok(Endpoint::Server(name))
        } else if self.is_database(&name) {
            Ok(Endpoint::Database(name))
        } else if self.scope.user(&name).is_some() {
            Ok(Endpoint::User(name))
        } else {
            Err(StmtError::Blocked(format!(
                "`{name}` is not a server or user of this lab (cluster nodes need a clustered \
                 server, which the local lab does not run)"
            )))
        }
    }

    /// The links a cut stops: every connection one side opens to the other (only the left
    /// side's for a one-way cut). Pairs with no connection between them (two users) are skipped.
    fn cut_links(&self, cut: &Cut, frame: &Frame) -> Result<Vec<Link>, StmtError> {
        let side = |names: &[Name]| -> Result<Vec<Endpoint>, StmtError> {
            names.iter().map(|n| self.endpoint(n, frame)).collect()
        };
        let (left, right) = (side(&cut.left.names)?, side(&cut.right.names)?);
        let mut links = Vec::new();
        for l in &left {
            for r in &right {
                if let Some(link) = connection(l, r) {
                    links.push(link);
                }
                if !cut.one_way
                    && let Some(link) = connection(r, l)
                {
                    links.push(link);
                }
            }
        }
        if links.is_empty() {
            return Err(fail(format!(
                "`{}` cuts no connection: clients connect to servers and servers to each other{}",
                self.cut_text(cut, frame),
                if cut.one_way {
                    "; a server never opens a connection to a client (write `alice -> a` or `a | alice`)"
                } else {
                    ""
                }
            )));
        }
        Ok(links)
    }

    /// `isolate x`: every connection between x and the lab's other servers and the case's users,
    /// and on the packet plane the case's databases (on the proxy plane database traffic is not
    /// carried; isolating a database needs the packet plane).
    fn isolation_links(&self, target: &Name, frame: &Frame) -> Result<Vec<Link>, StmtError> {
        let x = self.endpoint(target, frame)?;
        let packet = self.fault_control()?.plane() == crate::fault::model::Plane::Packet;
        let databases = match packet || matches!(x, Endpoint::Database(_)) {
            // Roles only: on the packet plane a database stands for its nodes too.
            true => self.scope.databases.keys().cloned().collect(),
            false => Vec::new(),
        };
        let others = self
            .scope
            .servers
            .keys()
            .map(|r| Endpoint::Server(r.clone()))
            .chain(databases.into_iter().map(Endpoint::Database))
            .chain(self.scope.users.keys().map(|u| Endpoint::User(u.clone())))
            .filter(|e| *e != x);
        let mut links = Vec::new();
        for other in others {
            links.extend(connection(&x, &other));
            links.extend(connection(&other, &x));
        }
        Ok(links)
    }

    /// The flows of `impair/restore link X -> Y` (both for `<->`).
    fn flows(&self, link: &AstLink, frame: &Frame) -> Result<Vec<Flow>, StmtError> {
        let from = self.endpoint(&link.from, frame)?;
        let to = self.endpoint(&link.to, frame)?;
        if !from.is_server() && !to.is_server() {
            return Err(fail(format!(
                "`{}` joins two clients, which have no connection between them; impair a \
                 client's link to its server",
                link_text(link, frame)
            )));
        }
        let mut flows = vec![Flow {
            from: from.clone(),
            to: to.clone(),
        }];
        if link.both_ways {
            flows.push(Flow { from: to, to: from });
        }
        Ok(flows)
    }

    fn cut_text(&self, cut: &Cut, frame: &Frame) -> String {
        let side = |names: &[Name], set: bool| {
            let names: Vec<String> = names.iter().map(|n| frame.name(&n.text)).collect();
            if set || names.len() > 1 {
                format!("{{{}}}", names.join(", "))
            } else {
                names.join(", ")
            }
        };
        format!(
            "{} {} {}",
            side(&cut.left.names, cut.left.set),
            if cut.one_way { "->" } else { "|" },
            side(&cut.right.names, cut.right.set)
        )
    }
}

/// The link `from` opens to `to`, if there is such a connection.
/// The connections `from` opens to `to`: clients to servers, machines (servers, databases and
/// their nodes) to each other. Clients never reach a database.
fn connection(from: &Endpoint, to: &Endpoint) -> Option<Link> {
    match (from, to) {
        (Endpoint::User(_), Endpoint::Server(_)) => Some(Link::new(from.clone(), to.clone())),
        (Endpoint::User(_), _) | (_, Endpoint::User(_)) => None,
        _ => Some(Link::new(from.clone(), to.clone())),
    }
}

fn link_text(link: &AstLink, frame: &Frame) -> String {
    format!(
        "{} {} {}",
        frame.name(&link.from.text),
        if link.both_ways { "<->" } else { "->" },
        frame.name(&link.to.text)
    )
}

fn everything(healed: &[String]) -> String {
    if healed.is_empty() {
        "everything (nothing was in force)".into()
    } else {
        format!("everything: {}", healed.join("; "))
    }
}

/// The runtime's impairment from the written ones.
pub(crate) fn impairment(written: &[AstImpairment]) -> Impairment {
    let mut imp = Impairment::default();
    for i in written {
        match &i.kind {
            ImpairmentKind::Lag { delay, jitter } => {
                imp.lag = Some((
                    delay.as_std(),
                    jitter.map(|j| j.as_std()).unwrap_or_default(),
                ))
            }
            ImpairmentKind::Drop(p) => imp.drop = p.value,
            ImpairmentKind::Throttle(d) => imp.throttle = Some(d.as_std()),
            ImpairmentKind::Duplicate(p) => imp.duplicate = p.value,
            ImpairmentKind::Reorder(p) => imp.reorder = p.value,
            ImpairmentKind::Tamper(p) => imp.tamper = p.value,
            ImpairmentKind::Bandwidth(r) => imp.bandwidth = Some(r.bits_per_second),
            ImpairmentKind::Priority(TrafficClass::Xmpp) => imp.xmpp_first = true,
        }
    }
    imp
}

pub(crate) fn fault_error(error: FaultError) -> StmtError {
    match error {
        FaultError::Unsupported(reason) => StmtError::Blocked(reason),
        FaultError::Failed(reason) => harness(reason),
    }
}

type Procedures<'p> = std::collections::HashMap<
    &'p str,
    (jspec_lang::span::SourceId, &'p jspec_lang::ast::Procedure),
>;

/// Whether a case injects faults (directly, in a procedure it calls, or by chaos): such a case
/// runs alone, since a fault in the shared lab would disturb any case beside it.
pub(crate) fn disturbs(case: &jspec_lang::ast::Case, procedures: &Procedures<'_>) -> bool {
    any_stmt(case, procedures, &|kind| {
        is_link_or_process_fault(kind)
            || matches!(
                kind,
                StmtKind::SkewClock { .. }
                    | StmtKind::SetClock { .. }
                    | StmtKind::RestoreClock { .. }
                    | StmtKind::Chaos(_)
            )
    })
}

/// Whether a statement is a fault on links or processes: one that [`CaseContext::fault`]
/// applies (the interpreter's arm for it names the same statements).
pub(crate) fn is_link_or_process_fault(kind: &StmtKind) -> bool {
    matches!(
        kind,
        StmtKind::Partition(_)
            | StmtKind::Isolate(_)
            | StmtKind::Heal(_)
            | StmtKind::Impair { .. }
            | StmtKind::Flood { .. }
            | StmtKind::Restore(_)
            | StmtKind::Process { .. }
    )
}

/// Whether any statement the case runs (in its blocks or the procedures it calls) is one that
/// `wanted` picks.
pub(crate) fn any_stmt(
    case: &jspec_lang::ast::Case,
    procedures: &Procedures<'_>,
    wanted: &dyn Fn(&StmtKind) -> bool,
) -> bool {
    use jspec_lang::ast::{Block, CaseEntryKind};
    fn block(
        body: &Block,
        procedures: &Procedures<'_>,
        wanted: &dyn Fn(&StmtKind) -> bool,
        seen: &mut std::collections::HashSet<String>,
    ) -> bool {
        body.stmts.iter().any(|stmt| match &stmt.kind {
            kind if wanted(kind) => true,
            StmtKind::Parallel(inner) | StmtKind::Repeat { body: inner, .. } => {
                block(inner, procedures, wanted, seen)
            }
            StmtKind::Call { name, .. } => {
                seen.insert(name.text.clone())
                    && procedures
                        .get(name.text.as_str())
                        .is_some_and(|(_, p)| block(&p.body, procedures, wanted, seen))
            }
            _ => false,
        })
    }
    let mut seen = std::collections::HashSet::new();
    case.entries.iter().any(|entry| match &entry.kind {
        CaseEntryKind::Setup(body)
        | CaseEntryKind::Teardown(body)
        | CaseEntryKind::Step { body, .. } => block(body, procedures, wanted, &mut seen),
        _ => false,
    })
}
