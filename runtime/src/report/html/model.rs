//! What report.html shows, gathered from the event stream: the run, and per case its steps,
//! faults, stanzas and deliveries on one clock (time since the case started).

use std::time::Duration;

use crate::event::DeliveryReport;
use crate::event::{CaseRef, CaseResult, Direction, LabServer, RunEvent, Summary};

/// Stanzas drawn per case; a long case keeps its first ones and says how many more there were.
const MAX_STANZAS: usize = 4000;

/// The run as the report shows it.
#[derive(Debug, Default)]
pub(crate) struct RunView {
    pub(crate) run_id: String,
    pub(crate) seed: u64,
    pub(crate) version: String,
    /// When the run started (RFC 3339, UTC).
    pub(crate) started_at: String,
    pub(crate) lab: Vec<LabServer>,
    pub(crate) lab_ready: Option<Duration>,
    pub(crate) cases: Vec<CaseView>,
    pub(crate) summary: Option<Summary>,
    /// Why the run ended early, if it did.
    pub(crate) error: Option<String>,
}

/// One case: what happened when, and its result once it finished.
#[derive(Debug)]
pub(crate) struct CaseView {
    pub(crate) case: CaseRef,
    /// Each step's start (since the case started) and title.
    pub(crate) steps: Vec<(Duration, String)>,
    pub(crate) faults: Vec<FaultMark>,
    pub(crate) stanzas: Vec<StanzaMark>,
    /// Stanzas not kept (beyond [`MAX_STANZAS`]).
    pub(crate) stanzas_dropped: usize,
    pub(crate) deliveries: Vec<DeliveryReport>,
    pub(crate) result: Option<CaseResult>,
}

/// A fault applied or healed.
#[derive(Clone, Debug)]
pub(crate) struct FaultMark {
    pub(crate) at: Duration,
    pub(crate) action: String,
    pub(crate) target: String,
    pub(crate) origin: String,
}

/// A stanza an actor sent or received.
#[derive(Clone, Debug)]
pub(crate) struct StanzaMark {
    pub(crate) at: Duration,
    pub(crate) actor: String,
    pub(crate) sent: bool,
    /// `message "hello"`, `iq result`, ...
    pub(crate) label: String,
}

impl CaseView {
    fn new(case: CaseRef) -> CaseView {
        CaseView {
            case,
            steps: Vec::new(),
            faults: Vec::new(),
            stanzas: Vec::new(),
            stanzas_dropped: 0,
            deliveries: Vec::new(),
            result: None,
        }
    }

    /// How long the timeline is: the case's time, or the last thing seen while it runs.
    pub(crate) fn span(&self) -> Duration {
        let seen = [
            self.steps.last().map(|s| s.0),
            self.faults.last().map(|f| f.at),
            self.stanzas.last().map(|s| s.at),
        ];
        let last = seen.into_iter().flatten().max().unwrap_or_default();
        let elapsed = self.result.as_ref().map_or(last, |r| r.elapsed);
        elapsed.max(last).max(Duration::from_millis(1))
    }

    /// The actors in the order they first sent or received something.
    pub(crate) fn actors(&self) -> Vec<&str> {
        let mut actors: Vec<&str> = Vec::new();
        for mark in &self.stanzas {
            if !actors.contains(&mark.actor.as_str()) {
                actors.push(&mark.actor);
            }
        }
        actors
    }
}

impl RunView {
    /// Takes in one event.
    pub(crate) fn apply(&mut self, event: &RunEvent) {
        match event {
            RunEvent::RunStarted(start) => {
                self.run_id = start.run_id.clone();
                self.seed = start.seed;
                self.version = start.jspec_version.clone();
                self.started_at = super::super::rfc3339_millis(time::OffsetDateTime::now_utc());
            }
            RunEvent::LabReady { servers, elapsed } => {
                self.lab = servers.clone();
                self.lab_ready = Some(*elapsed);
            }
            RunEvent::CaseStarted { case } => self.cases.push(CaseView::new(case.clone())),
            RunEvent::StepStarted {
                case, title, at, ..
            } => {
                if let Some(view) = self.case_mut(case) {
                    view.steps.push((*at, title.clone()));
                }
            }
            RunEvent::Fault(fault) => {
                if let Some(view) = self.case_mut(&fault.case) {
                    view.faults.push(FaultMark {
                        at: fault.at,
                        action: fault.action.clone(),
                        target: fault.target.clone(),
                        origin: fault.origin.clone(),
                    });
                }
            }
            RunEvent::Stanza {
                case,
                actor,
                direction,
                at,
                xml,
            } => {
                if let Some(view) = self.case_mut(case) {
                    if view.stanzas.len() >= MAX_STANZAS {
                        view.stanzas_dropped += 1;
                    } else {
                        view.stanzas.push(StanzaMark {
                            at: *at,
                            actor: actor.clone(),
                            sent: *direction == Direction::Sent,
                            label: stanza_label(xml),
                        });
                    }
                }
            }
            RunEvent::Delivery { case, report } => {
                if let Some(view) = self.case_mut(case) {
                    view.deliveries.push(report.clone());
                }
            }
            RunEvent::CaseFinished { result } => match self.case_mut(&result.case) {
                Some(view) => view.result = Some(result.clone()),
                // A case the run never started (interrupted): listed with its result.
                None => {
                    let mut view = CaseView::new(result.case.clone());
                    view.result = Some(result.clone());
                    self.cases.push(view);
                }
            },
            RunEvent::RunFinished { summary, error } => {
                self.summary = Some(summary.clone());
                self.error = error.clone();
            }
            RunEvent::LabStarting { .. }
            | RunEvent::Action { .. }
            | RunEvent::ActionFinished { .. }
            | RunEvent::StepFinished { .. } => {}
        }
    }

    /// The latest case with this reference (cases run one after another or side by side).
    fn case_mut(&mut self, case: &CaseRef) -> Option<&mut CaseView> {
        self.cases
            .iter_mut()
            .rev()
            .find(|view| view.case.title == case.title && view.case.file == case.file)
    }
}

/// A short name for a stanza: its element and type, and a message's body.
fn stanza_label(xml: &str) -> String {
    let name: String = xml
        .trim_start()
        .trim_start_matches('<')
        .chars()
        .take_while(|c| c.is_alphanumeric() || *c == ':' || *c == '-')
        .collect();
    let kind = attribute(xml, "type")
        .map(|t| format!(" {t}"))
        .unwrap_or_default();
    let body = between(xml, "<body>", "</body>")
        .map(|b| {
            let short: String = b.chars().take(60).collect();
            format!(" \"{short}\"")
        })
        .unwrap_or_default();
    format!("{name}{kind}{body}")
}

/// The value of the first `name='...'` or `name="..."` in the start tag.
fn attribute<'a>(xml: &'a str, name: &str) -> Option<&'a str> {
    let start_tag = &xml[..xml.find('>').unwrap_or(xml.len())];
    for quote in ['\'', '"'] {
        let key = format!(" {name}={quote}");
        if let Some(at) = start_tag.find(&key) {
            let rest = &start_tag[at + key.len()..];
            return rest.find(quote).map(|end| &rest[..end]);
        }
    }
    None
}

fn between<'a>(text: &'a str, open: &str, close: &str) -> Option<&'a str> {
    let start = text.find(open)? + open.len();
    let end = text[start..].find(close)? + start;
    Some(&text[start..end])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stanza_is_named_by_its_element_type_and_body() {
        let message = "<message xmlns='jabber:client' type='chat' to='b@a.test'><body>hi there</body></message>";
        assert_eq!(stanza_label(message), "message chat \"hi there\"");
        assert_eq!(stanza_label(r#"<iq type="result" id="x"/>"#), "iq result");
        assert_eq!(stanza_label("<presence/>"), "presence");
    }
}
