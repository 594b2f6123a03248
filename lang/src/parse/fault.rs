//! Builders for certificate and fault statements: certificates, partitions, link impairments
//! and process faults.

use pest::iterators::Pair;

use super::Rule;
use super::builder::{Bug, Builder, Built, Children, span};
use crate::ast::*;
use crate::span::Span;

impl<'s> Builder<'s> {
    /// `set_certificate_stmt = { "set" ~ "certificate" ~ "of" ~ ident ~ "to" ~ certificate_state }`
    pub(super) fn set_certificate_stmt(&mut self, pair: Pair<'s, Rule>) -> Built<StmtKind> {
        let mut children = Children::of(pair);
        let target = self.ident(children.required(Rule::ident, "set certificate")?);
        let value = children.required(Rule::certificate_state, "set certificate")?;
        let state = match value.as_str() {
            "valid" => CertificateState::Valid,
            "expired" => CertificateState::Expired,
            "not-yet-valid" => CertificateState::NotYetValid,
            "revoked" => CertificateState::Revoked,
            "wrong-host" => CertificateState::WrongHost,
            "self-signed" => CertificateState::SelfSigned,
            _ => return Err(self.bug(&value, "a certificate state")),
        };
        Ok(StmtKind::SetCertificate {
            target,
            state,
            state_span: span(&value),
        })
    }

    /// `set_ticket_stmt = { "set" ~ "ticket" ~ "of" ~ ident ~ "to" ~ ticket_state }`
    pub(super) fn set_ticket_stmt(&mut self, pair: Pair<'s, Rule>) -> Built<StmtKind> {
        let mut children = Children::of(pair);
        let user = self.ident(children.required(Rule::ident, "set ticket")?);
        let value = children.required(Rule::ticket_state, "set ticket")?;
        let state = match value.as_str() {
            "valid" => TicketState::Valid,
            "expired" => TicketState::Expired,
            "none" => TicketState::None,
            _ => return Err(self.bug(&value, "a ticket state")),
        };
        Ok(StmtKind::SetTicket { user, state })
    }

    /// `revoke_certificate_stmt = { "revoke" ~ "certificate" ~ "of" ~ ident }`
    pub(super) fn revoke_certificate_stmt(&mut self, pair: Pair<'s, Rule>) -> Built<StmtKind> {
        let target = self.ident(Children::of(pair).required(Rule::ident, "revoke certificate")?);
        Ok(StmtKind::RevokeCertificate { target })
    }

    /// `partition_stmt = { "partition" ~ ws ~ cut ~ (ws ~ cut_mode)? }`
    pub(super) fn partition_stmt(&mut self, pair: Pair<'s, Rule>) -> Built<StmtKind> {
        let mut children = Children::of(pair);
        let mut cut = self.cut(children.required(Rule::cut, "partition")?)?;
        cut.mode = children
            .optional(Rule::cut_mode)
            .map(|mode| self.cut_mode(mode));
        Ok(StmtKind::Partition(cut))
    }

    /// `cut_mode = { "reject" | "close" }`
    fn cut_mode(&mut self, pair: Pair<'s, Rule>) -> (CutStyle, Span) {
        let style = if pair.as_str() == "reject" {
            CutStyle::Reject
        } else {
            CutStyle::Close
        };
        (style, span(&pair))
    }

    /// `cut = { side ~ cut_direction ~ side }`
    fn cut(&mut self, pair: Pair<'s, Rule>) -> Built<Cut> {
        let cut_span = span(&pair);
        let mut children = Children::of(pair);
        let left = self.side(children.required(Rule::side, "a cut")?)?;
        let one_way = children.required(Rule::cut_direction, "a cut")?.as_str() == "->";
        let right = self.side(children.required(Rule::side, "a cut")?)?;
        Ok(Cut {
            left,
            one_way,
            right,
            span: cut_span,
            mode: None,
        })
    }

    /// `side = { side_set | session }`
    fn side(&mut self, pair: Pair<'s, Rule>) -> Built<Side> {
        let side_span = span(&pair);
        let inner = Children::of(pair).any("a side")?;
        match inner.as_rule() {
            Rule::session => Ok(Side {
                names: vec![self.ident(inner)],
                set: false,
                span: side_span,
            }),
            Rule::side_set => {
                let list = Children::of(inner).required(Rule::name_list, "a set")?;
                Ok(Side {
                    names: self.name_list(list),
                    set: true,
                    span: side_span,
                })
            }
            _ => Err(self.bug(&inner, "a side")),
        }
    }

    /// `isolate_stmt = { "isolate" ~ ws ~ ident }`
    pub(super) fn isolate_stmt(&mut self, pair: Pair<'s, Rule>) -> Built<StmtKind> {
        let target = self.ident(Children::of(pair).required(Rule::ident, "isolate")?);
        Ok(StmtKind::Isolate(target))
    }

    /// `heal_stmt = { "heal" ~ (ws ~ cut)? }`
    pub(super) fn heal_stmt(&mut self, pair: Pair<'s, Rule>) -> Built<StmtKind> {
        let cut = match Children::of(pair).optional(Rule::cut) {
            Some(cut) => Some(self.cut(cut)?),
            None => None,
        };
        Ok(StmtKind::Heal(cut))
    }

    /// `impair_stmt = { "impair" ~ "link" ~ link ~ impairment+ }`
    pub(super) fn impair_stmt(&mut self, pair: Pair<'s, Rule>) -> Built<StmtKind> {
        let mut children = Children::of(pair);
        let link = self.link(children.required(Rule::link, "impair")?)?;
        let impairments = children
            .rest()
            .map(|p| self.impairment(p))
            .collect::<Built<_>>()?;
        Ok(StmtKind::Impair { link, impairments })
    }

    /// `flood_stmt = { "flood" ~ "link" ~ link ~ "at" ~ rate ~ "for" ~ duration }`
    pub(super) fn flood_stmt(&mut self, pair: Pair<'s, Rule>) -> Built<StmtKind> {
        let mut children = Children::of(pair);
        let link = self.link(children.required(Rule::link, "flood")?)?;
        let rate = self.rate(children.required(Rule::rate, "flood ... at")?);
        let duration = self.duration(children.required(Rule::duration, "flood ... for")?);
        Ok(StmtKind::Flood {
            link,
            rate,
            duration,
        })
    }

    /// `restore_stmt = { "restore" ~ ("link" ~ link)? }`
    pub(super) fn restore_stmt(&mut self, pair: Pair<'s, Rule>) -> Built<StmtKind> {
        let link = match Children::of(pair).optional(Rule::link) {
            Some(link) => Some(self.link(link)?),
            None => None,
        };
        Ok(StmtKind::Restore(link))
    }

    /// `link = { session ~ link_direction ~ session }`
    fn link(&mut self, pair: Pair<'s, Rule>) -> Built<Link> {
        let link_span = span(&pair);
        let mut children = Children::of(pair);
        let from = self.ident(children.required(Rule::session, "a link")?);
        let both_ways = children.required(Rule::link_direction, "a link")?.as_str() == "<->";
        let to = self.ident(children.required(Rule::session, "a link")?);
        Ok(Link {
            from,
            to,
            both_ways,
            span: link_span,
        })
    }

    /// `impairment = _{ lag | drop | throttle | duplicate | reorder | tamper | bandwidth }`
    fn impairment(&mut self, pair: Pair<'s, Rule>) -> Built<Impairment> {
        let impairment_span = span(&pair);
        let rule = pair.as_rule();
        let mut children = Children::of(pair);
        let kind = match rule {
            Rule::lag => {
                let delay = self.duration(children.required(Rule::duration, "lag")?);
                let jitter = match children.optional(Rule::jitter) {
                    Some(j) => {
                        Some(self.duration(Children::of(j).required(Rule::duration, "jitter")?))
                    }
                    None => None,
                };
                ImpairmentKind::Lag { delay, jitter }
            }
            Rule::drop => {
                ImpairmentKind::Drop(self.percent(children.required(Rule::percent, "drop")?))
            }
            Rule::throttle => ImpairmentKind::Throttle(
                self.duration(children.required(Rule::duration, "throttle")?),
            ),
            Rule::duplicate => ImpairmentKind::Duplicate(
                self.percent(children.required(Rule::percent, "duplicate")?),
            ),
            Rule::reorder => {
                ImpairmentKind::Reorder(self.percent(children.required(Rule::percent, "reorder")?))
            }
            Rule::tamper => {
                ImpairmentKind::Tamper(self.percent(children.required(Rule::percent, "tamper")?))
            }
            Rule::bandwidth => {
                ImpairmentKind::Bandwidth(self.rate(children.required(Rule::rate, "bandwidth")?))
            }
            Rule::prioritise => {
                let class = children.required(Rule::traffic_class, "priority")?;
                match class.as_str() {
                    "xmpp" => ImpairmentKind::Priority(TrafficClass::Xmpp),
                    _ => return Err(self.bug(&class, "a traffic class")),
                }
            }
            _ => return Err(Bug::rule(rule, impairment_span, "an impairment")),
        };
        Ok(Impairment {
            kind,
            span: impairment_span,
        })
    }

    /// `skew_clock_stmt = { "skew" ~ "clock" ~ "of" ~ ident ~ "by" ~ clock_offset }`
    pub(super) fn skew_clock_stmt(&mut self, pair: Pair<'s, Rule>) -> Built<StmtKind> {
        let mut children = Children::of(pair);
        let target = self.ident(children.required(Rule::ident, "skew clock")?);
        let offset = children.required(Rule::clock_offset, "skew clock")?;
        let offset_span = span(&offset);
        let mut parts = Children::of(offset);
        let behind = parts.optional(Rule::behind).is_some();
        let duration = self.duration(parts.required(Rule::duration, "a clock offset")?);
        let sign = if behind { -1.0 } else { 1.0 };
        Ok(StmtKind::SkewClock {
            target,
            offset_millis: sign * duration.millis,
            offset_span,
        })
    }

    /// `set_clock_stmt = { "set" ~ "clock" ~ "of" ~ ident ~ "to" ~ string }`
    pub(super) fn set_clock_stmt(&mut self, pair: Pair<'s, Rule>) -> Built<StmtKind> {
        let mut children = Children::of(pair);
        let target = self.ident(children.required(Rule::ident, "set clock")?);
        let at = self.string(children.required(Rule::string, "set clock")?)?;
        Ok(StmtKind::SetClock { target, at })
    }

    /// `restore_clock_stmt = { "restore" ~ "clock" ~ "of" ~ ident }`
    pub(super) fn restore_clock_stmt(&mut self, pair: Pair<'s, Rule>) -> Built<StmtKind> {
        let target = self.ident(Children::of(pair).required(Rule::ident, "restore clock")?);
        Ok(StmtKind::RestoreClock { target })
    }

    /// `process_stmt = { process_action ~ (database ~ ws)? ~ ident }`
    pub(super) fn process_stmt(&mut self, pair: Pair<'s, Rule>) -> Built<StmtKind> {
        let mut children = Children::of(pair);
        let verb = children.required(Rule::process_action, "a process statement")?;
        let action = match verb.as_str() {
            "kill" => ProcessAction::Kill,
            "stop" => ProcessAction::Stop,
            "start" => ProcessAction::Start,
            "restart" => ProcessAction::Restart,
            "pause" => ProcessAction::Pause,
            "resume" => ProcessAction::Resume,
            _ => return Err(self.bug(&verb, "a process action")),
        };
        let database = children.optional(Rule::database).is_some();
        let target = self.ident(children.required(Rule::ident, "a process statement")?);
        let only_process = children.optional(Rule::only_process).map(|p| span(&p));
        Ok(StmtKind::Process {
            action,
            database,
            target,
            only_process,
        })
    }

    /// `switch_database_stmt = { "switch" ~ "database" ~ ident ~ "to" ~ ident }`
    pub(super) fn switch_database_stmt(&mut self, pair: Pair<'s, Rule>) -> Built<StmtKind> {
        let mut children = Children::of(pair);
        let database = self.ident(children.required(Rule::ident, "switch database")?);
        let to = self.ident(children.required(Rule::ident, "switch database ... to")?);
        Ok(StmtKind::SwitchDatabase { database, to })
    }
}
