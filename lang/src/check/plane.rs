//! Warnings for faults that the chosen fault plane cannot reproduce faithfully: per-packet
//! impairments on the proxy plane (TCP hides or smooths them), a FIN-closing cut on the packet
//! plane (packets cannot make a FIN).

use crate::ast::{Block, ChaosAction, CutStyle, ImpairmentKind, ItemKind, StmtKind};
use crate::diagnostic::{Code, Diagnostic};
use crate::load::Program;
use crate::span::SourceId;

/// Where network faults are injected (see the runtime's fault planes).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum FaultPlane {
    /// A TCP proxy per link.
    #[default]
    Proxy,
    /// Network namespaces, nftables, NFQUEUE, tc.
    Packet,
}

/// Warns for every fault in the root files that `plane` cannot reproduce faithfully.
pub(crate) fn check_plane(program: &Program, plane: FaultPlane, out: &mut Vec<Diagnostic>) {
    for &root in &program.roots {
        let Some(ast) = &program.module(root).ast else {
            continue;
        };
        for item in &ast.items {
            match &item.kind {
                ItemKind::Case(case) => {
                    for entry in &case.entries {
                        if let Some(body) = entry.kind.body() {
                            block(body, root, plane, out);
                        }
                    }
                }
                ItemKind::Procedure(procedure) => block(&procedure.body, root, plane, out),
                _ => {}
            }
        }
    }
}

fn block(body: &Block, file: SourceId, plane: FaultPlane, out: &mut Vec<Diagnostic>) {
    for s in &body.stmts {
        stmt(&s.kind, file, plane, out);
    }
}

fn stmt(kind: &StmtKind, file: SourceId, plane: FaultPlane, out: &mut Vec<Diagnostic>) {
    match kind {
        StmtKind::Parallel(inner) | StmtKind::Repeat { body: inner, .. } => {
            block(inner, file, plane, out)
        }
        StmtKind::Chaos(chaos) => {
            for rule in &chaos.rules {
                if let ChaosAction::Fault(kind) = &rule.action {
                    stmt(kind, file, plane, out);
                }
            }
        }
        StmtKind::Impair { impairments, .. } if plane == FaultPlane::Proxy => {
            for impairment in impairments {
                let what = match impairment.kind {
                    ImpairmentKind::Drop(_) | ImpairmentKind::Tamper(_) => {
                        "approximated on the proxy plane: a retransmission delay of 200 ms"
                    }
                    ImpairmentKind::Duplicate(_) | ImpairmentKind::Reorder(_) => {
                        "no effect on the proxy plane: TCP hides it from the stream"
                    }
                    ImpairmentKind::Priority(_) => {
                        "no effect on the proxy plane: its links carry XMPP alone"
                    }
                    _ => continue,
                };
                let title = match impairment.kind {
                    ImpairmentKind::Priority(_) => {
                        "`priority` sorts packets into QoS classes".to_string()
                    }
                    _ => format!("`{}` acts on single packets", impairment.kind.keyword()),
                };
                out.push(
                    Diagnostic::warning(Code::UnfaithfulFault, file, title)
                        .with_label(impairment.span, what)
                        .with_help("run with `--plane packet` (root) to impair packets for real"),
                );
            }
        }
        StmtKind::Flood { link, .. } if plane == FaultPlane::Proxy => out.push(
            Diagnostic::warning(
                Code::UnfaithfulFault,
                file,
                "`flood` needs the packet plane",
            )
            .with_label(
                link.span,
                "the proxy plane carries XMPP alone: the case will be Blocked",
            )
            .with_help("run with `--plane packet` (root) to send bulk traffic over the link"),
        ),
        StmtKind::Partition(cut) if plane == FaultPlane::Packet => {
            if let Some((CutStyle::Close, span)) = cut.mode {
                out.push(
                    Diagnostic::warning(
                        Code::UnfaithfulFault,
                        file,
                        "`close` needs the proxy plane",
                    )
                    .with_label(span, "packets cannot make a FIN")
                    .with_help(
                        "use `reject` (a reset) on the packet plane, or run with `--plane proxy`",
                    ),
                );
            }
        }
        _ => {}
    }
}
