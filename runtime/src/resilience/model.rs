//! The resilience report as values: runs in time order, each case's history across them, and
//! the view per architecture component and per area. Renderers (HTML, Markdown) only lay it out.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use super::component::{Component, components_of};
use super::findings::Known;
use super::read::{CaseRecord, RunRecord};
use super::recovery::{Outcome, Recovery, recoveries};
use crate::event::{LabServer, Status, Summary};
use crate::report::{case_comment, case_name};

/// Everything the report says.
#[derive(Debug)]
pub struct Report {
    pub runs: Vec<RunInfo>,
    /// Every case seen, in the order of the latest run that had it.
    pub cases: Vec<CaseHistory>,
    pub components: Vec<ComponentView>,
    pub areas: Vec<AreaView>,
    /// Whether a findings file was given (without one, only `finding` tags explain failures).
    pub findings_given: bool,
}

/// One run, as the report's header lists it.
#[derive(Debug)]
pub struct RunInfo {
    pub label: String,
    pub started_at: String,
    pub dir: String,
    pub version: String,
    pub seed: u64,
    pub lab: Vec<LabServer>,
    pub counts: Summary,
    /// Why it ended early, or that it has no end (crashed).
    pub incomplete: Option<String>,
    pub skipped_lines: usize,
}

impl RunInfo {
    /// `a (prosody), c (ejabberd cluster (c1, c2))`.
    pub fn lab_text(&self) -> String {
        let servers: Vec<String> = self
            .lab
            .iter()
            .map(|s| format!("{} ({})", s.role, s.software))
            .collect();
        servers.join(", ")
    }

    /// jspec version and seed, and whether the run is incomplete or partly unreadable.
    pub fn notes(&self) -> String {
        let mut notes = vec![format!("jspec {}, seed {}", self.version, self.seed)];
        notes.extend(self.incomplete.clone());
        if self.skipped_lines > 0 {
            notes.push(format!("{} event lines not understood", self.skipped_lines));
        }
        notes.join("; ")
    }
}

/// One case across the runs.
#[derive(Debug)]
pub struct CaseHistory {
    /// `C5103 Title`.
    pub name: String,
    pub id: Option<u64>,
    pub file: String,
    pub area: String,
    pub components: BTreeSet<Component>,
    /// Per run (in [`Report::runs`] order): the status and the slowest recovery measured.
    pub per_run: Vec<Option<RunOutcome>>,
    /// The latest run's disruptions and how the case measured each.
    pub recoveries: Vec<Recovery>,
    /// The latest run's `check delivery` findings, in words.
    pub deliveries: Vec<String>,
    /// Why the latest run did not pass, in one line.
    pub comment: Option<String>,
    pub explanation: Explanation,
}

/// A case in one run.
#[derive(Clone, Debug)]
pub struct RunOutcome {
    pub status: Status,
    pub slowest_recovery: Option<Duration>,
}

/// Whether a failure is accounted for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Explanation {
    /// Passed, or blocked: nothing to explain.
    None,
    /// A documented weakness of the server (findings file or a `finding` tag).
    Finding(String),
    /// A documented failure that is not the server's (findings file, "Not findings").
    KnownNotFinding(String),
    /// Failed, and nothing says why: investigate.
    Unexplained,
}

impl CaseHistory {
    pub fn latest(&self) -> Option<&RunOutcome> {
        self.per_run.iter().rev().flatten().next()
    }

    /// Runs it passed in, and runs it ran in (blocked runs do not count either way).
    pub fn pass_rate(&self) -> (usize, usize) {
        let ran = self
            .per_run
            .iter()
            .flatten()
            .filter(|o| matches!(o.status, Status::Passed | Status::Failed));
        let (passed, total) = ran.fold((0, 0), |(p, t), o| {
            (p + usize::from(o.status == Status::Passed), t + 1)
        });
        (passed, total)
    }

    /// Passed in some runs and failed in others.
    pub fn is_flaky(&self) -> bool {
        let (passed, total) = self.pass_rate();
        passed > 0 && passed < total
    }
}

/// A component: the cases that exercise it and what they measured.
#[derive(Debug)]
pub struct ComponentView {
    pub component: Component,
    /// Indexes into [`Report::cases`].
    pub cases: Vec<usize>,
    pub survived: usize,
    pub not_survived: usize,
    pub blocked: usize,
    /// Recovery times measured in the latest runs (every disruption that recovered).
    pub recovery: Option<RecoveryStats>,
}

/// Shortest, median and longest recovery.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RecoveryStats {
    pub count: usize,
    pub min: Duration,
    pub median: Duration,
    pub max: Duration,
}

/// The statement of work's area (the section's first part) in the latest runs.
#[derive(Debug)]
pub struct AreaView {
    pub area: String,
    pub counts: Summary,
    pub unexplained: usize,
}

impl AreaView {
    /// The numbers of the area's row in the areas table, after its name: passed, failed,
    /// blocked ([`outcome_counts`]), unexplained.
    pub fn numbers(&self) -> [usize; 4] {
        let [passed, failed, blocked] = outcome_counts(&self.counts);
        [passed, failed, blocked, self.unexplained]
    }
}

/// The Passed, Failed and Blocked columns of the report's tables (errors count as failed).
pub(super) fn outcome_counts(counts: &Summary) -> [usize; 3] {
    [counts.passed, counts.failed + counts.errors, counts.blocked]
}

impl Report {
    /// Builds the report from runs in any order (they are sorted by start time) and what the
    /// findings file says, if one was given.
    pub fn build(mut runs: Vec<RunRecord>, findings: Option<&BTreeMap<u64, Known>>) -> Report {
        runs.sort_by(|a, b| a.started_at.cmp(&b.started_at));
        let infos = runs
            .iter()
            .enumerate()
            .map(|(i, run)| run_info(i, run))
            .collect();
        let mut cases: Vec<CaseHistory> = Vec::new();
        let mut index: BTreeMap<String, usize> = BTreeMap::new();
        for (run_index, run) in runs.iter().enumerate() {
            for record in &run.cases {
                // A case is its TestRail id across runs, even if its file moved or its title
                // was reworded; without an id, its file and title.
                let key = match record.case().id {
                    Some(id) => format!("C{id}"),
                    None => format!("{}\n{}", record.case().file, record.case().title),
                };
                let slot = *index.entry(key).or_insert_with(|| {
                    cases.push(empty_history(record, runs.len()));
                    cases.len() - 1
                });
                let history = &mut cases[slot];
                let found = recoveries(record);
                history.per_run[run_index] = Some(RunOutcome {
                    status: record.status(),
                    slowest_recovery: slowest(&found),
                });
                history.components.extend(components_of(record, &run.lab));
                history.name = case_name(record.case());
                history.file = record.case().file.clone();
                history.area = area_of(record.case().section.as_deref());
                history.recoveries = found;
                history.deliveries = record.deliveries.iter().map(|d| d.summary()).collect();
                history.comment = case_comment(&record.result);
                history.explanation = explain(record, findings);
            }
        }
        cases.sort_by(|a, b| {
            (a.area.as_str(), a.id, &a.name).cmp(&(b.area.as_str(), b.id, &b.name))
        });
        let components = Component::ALL
            .iter()
            .map(|&component| component_view(component, &cases))
            .filter(|view| !view.cases.is_empty())
            .collect();
        let areas = area_views(&cases);
        Report {
            runs: infos,
            cases,
            components,
            areas,
            findings_given: findings.is_some(),
        }
    }

    /// Failed cases nothing explains, in the latest runs.
    pub fn unexplained(&self) -> impl Iterator<Item = &CaseHistory> {
        self.cases
            .iter()
            .filter(|case| case.explanation == Explanation::Unexplained)
    }
}

fn run_info(index: usize, run: &RunRecord) -> RunInfo {
    let mut counts = Summary::default();
    for case in &run.cases {
        counts.add(case.status());
    }
    let incomplete = match (&run.summary, &run.error) {
        (_, Some(error)) => Some(error.clone()),
        (None, None) => Some("the run has no end in its events (it crashed or still runs)".into()),
        (Some(_), None) => None,
    };
    if let Some(summary) = &run.summary {
        counts.elapsed = summary.elapsed;
    }
    RunInfo {
        label: format!("#{}", index + 1),
        started_at: run.started_at.clone(),
        dir: run.dir.display().to_string(),
        version: run.version.clone(),
        seed: run.seed,
        lab: run.lab.clone(),
        counts,
        incomplete,
        skipped_lines: run.skipped_lines,
    }
}

fn empty_history(record: &CaseRecord, runs: usize) -> CaseHistory {
    let case = record.case();
    CaseHistory {
        name: case_name(case),
        id: case.id,
        file: case.file.clone(),
        area: area_of(case.section.as_deref()),
        components: BTreeSet::new(),
        per_run: vec![None; runs],
        recoveries: Vec::new(),
        deliveries: Vec::new(),
        comment: None,
        explanation: Explanation::None,
    }
}

/// The first part of a section: `PKI > Revocation` is in `PKI`.
fn area_of(section: Option<&str>) -> String {
    section
        .and_then(|s| s.split('>').next())
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .unwrap_or("(no section)")
        .to_string()
}

fn slowest(found: &[Recovery]) -> Option<Duration> {
    found
        .iter()
        .filter_map(|r| match r.outcome {
            Outcome::Recovered { after, .. } => Some(after),
            _ => None,
        })
        .max()
}

fn explain(record: &CaseRecord, findings: Option<&BTreeMap<u64, Known>>) -> Explanation {
    if !matches!(record.status(), Status::Failed | Status::Error) {
        return Explanation::None;
    }
    let known = record
        .case()
        .id
        .and_then(|id| findings.and_then(|f| f.get(&id)));
    match known {
        Some(known) if known.is_finding => Explanation::Finding(known.summary.clone()),
        Some(known) => Explanation::KnownNotFinding(known.summary.clone()),
        None if record.case().tags.iter().any(|t| t == "finding") => {
            Explanation::Finding("tagged `finding`".into())
        }
        None => Explanation::Unexplained,
    }
}

fn component_view(component: Component, cases: &[CaseHistory]) -> ComponentView {
    let mut view = ComponentView {
        component,
        cases: Vec::new(),
        survived: 0,
        not_survived: 0,
        blocked: 0,
        recovery: None,
    };
    let mut times = Vec::new();
    for (index, case) in cases.iter().enumerate() {
        if !case.components.contains(&component) {
            continue;
        }
        view.cases.push(index);
        match case.latest().map(|o| o.status) {
            Some(Status::Passed) => view.survived += 1,
            Some(Status::Failed | Status::Error) => view.not_survived += 1,
            Some(Status::Blocked) => view.blocked += 1,
            _ => {}
        }
        times.extend(case.recoveries.iter().filter_map(|r| match r.outcome {
            Outcome::Recovered { after, .. } => Some(after),
            _ => None,
        }));
    }
    view.recovery = stats(&mut times);
    view
}

fn stats(times: &mut [Duration]) -> Option<RecoveryStats> {
    times.sort();
    Some(RecoveryStats {
        count: times.len(),
        min: *times.first()?,
        median: times[times.len() / 2],
        max: *times.last()?,
    })
}

fn area_views(cases: &[CaseHistory]) -> Vec<AreaView> {
    let mut areas: BTreeMap<&str, AreaView> = BTreeMap::new();
    for case in cases {
        let view = areas.entry(&case.area).or_insert_with(|| AreaView {
            area: case.area.clone(),
            counts: Summary::default(),
            unexplained: 0,
        });
        if let Some(latest) = case.latest() {
            view.counts.add(latest.status);
        }
        if case.explanation == Explanation::Unexplained {
            view.unexplained += 1;
        }
    }
    areas.into_values().collect()
}
