//! Faults in English: partitions, impaired links, processes and chaos.

use super::{Prose, words};
use crate::ast::{
    Chaos, ChaosAction, ChaosRule, ChaosVerb, Cut, CutStyle, Duration, Impairment, ImpairmentKind,
    Link, Name, ProcessAction, Rate, Side, TrafficClass,
};

impl Prose<'_> {
    /// `partition a | b`: "Cut the network between a and b in both directions".
    pub(super) fn partition(&self, cut: &Cut) -> String {
        let mode = match cut.mode {
            None => "",
            Some((CutStyle::Reject, _)) => ", resetting connections and refusing new ones",
            Some((CutStyle::Close, _)) => ", closing connections",
        };
        format!("Cut the network {}{mode}", self.cut(cut))
    }

    /// `isolate c1`: "Cut c1 off from everything".
    pub(super) fn isolate(&self, target: &Name) -> String {
        format!(
            "Cut {} off from every other server, node and client",
            self.raw(target)
        )
    }

    /// `heal a | b`: "Heal the network between a and b in both directions"; `heal`: "Heal every
    /// network cut and lift every impairment".
    pub(super) fn heal(&self, cut: Option<&Cut>) -> String {
        match cut {
            Some(cut) => format!("Heal the network {}", self.cut(cut)),
            None => "Heal every network cut and lift every impairment".to_string(),
        }
    }

    /// "between a and b in both directions", "from a to b (one way)".
    fn cut(&self, cut: &Cut) -> String {
        let (left, right) = (self.side(&cut.left), self.side(&cut.right));
        if cut.one_way {
            format!("from {left} to {right} (one way: {right} can still reach {left})")
        } else {
            format!("between {left} and {right} in both directions")
        }
    }

    /// `a`, `{c1, c2}` -> "c1 and c2" in braces so the sides stay apart: "{c1, c2}".
    fn side(&self, side: &Side) -> String {
        let names: Vec<String> = side.names.iter().map(|n| self.raw(n)).collect();
        if names.len() == 1 {
            names.join("")
        } else {
            format!("{{{}}}", names.join(", "))
        }
    }

    /// `impair link a <-> b lag 200ms drop 10%`: "Impair the link between a and b: 200 ms lag,
    /// 10% packet loss".
    pub(super) fn impair(&self, link: &Link, impairments: &[Impairment]) -> String {
        let effects: Vec<String> = impairments.iter().map(|i| impairment(&i.kind)).collect();
        format!("Impair {}: {}", self.link_words(link), effects.join(", "))
    }

    /// `flood link a -> b at 2mbit for 30s`: "Flood the link from a to b with bulk traffic (not
    /// XMPP) at 2 Mbit/s for 30 s".
    pub(super) fn flood(&self, link: &Link, rate: &Rate, duration: &Duration) -> String {
        format!(
            "Flood {} with bulk traffic (not XMPP) at {} for {}",
            self.link_words(link),
            words::rate(rate),
            words::duration(duration)
        )
    }

    /// `restore link a <-> b`: "Restore the link between a and b"; `restore`: "Restore every
    /// impaired link".
    pub(super) fn restore(&self, link: Option<&Link>) -> String {
        match link {
            Some(link) => format!("Restore {}", self.link_words(link)),
            None => "Restore every impaired link".to_string(),
        }
    }

    /// "the link between a and b", "the link from alice to a".
    fn link_words(&self, link: &Link) -> String {
        let (from, to) = (self.raw(&link.from), self.raw(&link.to));
        if link.both_ways {
            format!("the link between {from} and {to}")
        } else {
            format!("the link from {from} to {to}")
        }
    }

    /// `skew clock of c2 by -3s`: "Set the clock of server c2 3 s behind real time".
    pub(super) fn skew_clock(&self, target: &Name, millis: f64) -> String {
        let offset = Duration {
            millis: millis.abs(),
            span: target.span,
        };
        let side = if millis < 0.0 { "behind" } else { "ahead of" };
        format!(
            "Set the clock of server {} {} {side} real time",
            self.raw(target),
            words::duration(&offset)
        )
    }

    /// `set clock of a to "2008-08-22T21:09:04Z"`: "Stop the clock of server a at
    /// 2008-08-22T21:09:04Z".
    pub(super) fn set_clock(&self, target: &Name, at: &crate::ast::Str) -> String {
        format!(
            "Stop the clock of server {} at {}",
            self.raw(target),
            at.literal().unwrap_or_else(|| at.display())
        )
    }

    /// `restore clock of c2`: "Set the clock of server c2 back to real time".
    pub(super) fn restore_clock(&self, target: &Name) -> String {
        format!(
            "Set the clock of server {} back to real time",
            self.raw(target)
        )
    }

    /// `kill a`: "Kill server a (as a crash would)"; `stop database pg`: "Stop database pg".
    pub(super) fn process(
        &self,
        action: ProcessAction,
        database: bool,
        target: &Name,
        only_process: bool,
    ) -> String {
        let what = match (database, only_process) {
            (true, true) => "the database process (not its node) of",
            (true, false) => "database",
            (false, _) => "server",
        };
        let target = self.raw(target);
        match action {
            ProcessAction::Kill => format!("Kill {what} {target} (as a crash would)"),
            ProcessAction::Stop => format!("Stop {what} {target} cleanly"),
            ProcessAction::Start => format!("Start {what} {target}"),
            ProcessAction::Restart => format!("Restart {what} {target}"),
            ProcessAction::Pause => format!("Pause {what} {target} (frozen, not stopped)"),
            ProcessAction::Resume => format!("Resume {what} {target}"),
        }
    }

    /// `switch database pg to pg2`: "Switch the primary of database pg over to pg2".
    pub(super) fn switch_database(&self, database: &Name, to: &Name) -> String {
        format!(
            "Switch the primary of database {} over to {} (planned switchover)",
            self.raw(database),
            self.raw(to)
        )
    }

    /// `chaos seed 7 for 30s { every 5s..10s kill one of c1, c2 }`: "For 30 s, at random (seed
    /// 7):" and one line per rule.
    pub(super) fn chaos(&self, chaos: &Chaos) -> String {
        let mut out = format!(
            "For {}, inject faults at random",
            words::duration(&chaos.duration)
        );
        if let Some(seed) = &chaos.seed {
            out.push_str(&format!(" (seed {})", seed.value));
        }
        out.push_str(", then undo them:");
        for rule in &chaos.rules {
            out.push_str("\n  - ");
            out.push_str(&self.chaos_rule(rule).replace('\n', "\n    "));
        }
        out
    }

    /// `every 5s..10s kill one of c1, c2 for 5s`: "Every 5 s to 10 s, kill c1 or c2 (for 5 s)".
    fn chaos_rule(&self, rule: &ChaosRule) -> String {
        let mut out = format!("Every {}", words::duration(&rule.min));
        if let Some(max) = &rule.max {
            out.push_str(&format!(" to {}", words::duration(max)));
        }
        out.push_str(": ");
        match &rule.action {
            ChaosAction::Pick(pick) => {
                let targets: Vec<String> = pick.targets.iter().map(|t| self.raw(t)).collect();
                let noun = match pick.database {
                    true => "database node ",
                    false => "",
                };
                out.push_str(&format!(
                    "{} {noun}{}",
                    chaos_verb(pick.verb),
                    words::or_list(&targets)
                ));
            }
            ChaosAction::Fault(kind) => out.push_str(&lowercase_first(&self.simple(kind).text)),
        }
        if let Some(hold) = &rule.hold {
            out.push_str(&format!(", lasting {}", words::duration(hold)));
        }
        out
    }
}

/// One impairment: "200 ms lag (± 50 ms jitter)", "10% packet loss".
fn impairment(kind: &ImpairmentKind) -> String {
    match kind {
        ImpairmentKind::Lag {
            delay,
            jitter: None,
        } => format!("{} lag", words::duration(delay)),
        ImpairmentKind::Lag {
            delay,
            jitter: Some(jitter),
        } => format!(
            "{} lag (± {} jitter)",
            words::duration(delay),
            words::duration(jitter)
        ),
        ImpairmentKind::Drop(p) => format!("{} packet loss", words::percent(p)),
        ImpairmentKind::Throttle(d) => {
            format!(
                "traffic held back and released every {}",
                words::duration(d)
            )
        }
        ImpairmentKind::Duplicate(p) => format!("{} of packets duplicated", words::percent(p)),
        ImpairmentKind::Reorder(p) => format!("{} of packets reordered", words::percent(p)),
        ImpairmentKind::Tamper(p) => format!("{} of packets corrupted", words::percent(p)),
        ImpairmentKind::Bandwidth(r) => format!("bandwidth limited to {}", words::rate(r)),
        ImpairmentKind::Priority(TrafficClass::Xmpp) => {
            "XMPP traffic goes first within it (QoS)".to_string()
        }
    }
}

/// What chaos does to the one it picks: "kill one of".
fn chaos_verb(verb: ChaosVerb) -> &'static str {
    match verb {
        ChaosVerb::Kill => "kill one of",
        ChaosVerb::Stop => "stop one of",
        ChaosVerb::Restart => "restart one of",
        ChaosVerb::Pause => "pause one of",
        ChaosVerb::Isolate => "isolate one of",
    }
}

/// "Kill server a" -> "kill server a", for a clause after a colon.
fn lowercase_first(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_lowercase().chain(chars).collect(),
        None => String::new(),
    }
}
