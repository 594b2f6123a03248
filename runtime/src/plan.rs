//! The execution plan: which cases of a checked program run, in file order, each with the suite
//! and section it belongs to (a `section` line applies to the cases below it).

use jspec_lang::ast::{Case, CaseEntryKind, ItemKind};
use jspec_lang::load::Program;
use jspec_lang::span::SourceId;

/// Which cases to run: all when `case_ids` and `tags` are empty; otherwise a case runs when its
/// id is in `case_ids` or it has one of `tags`. Either way a case with one of `skip_tags` does
/// not run.
#[derive(Clone, Debug, Default)]
pub struct Selection {
    pub case_ids: Vec<u64>,
    pub tags: Vec<String>,
    pub skip_tags: Vec<String>,
}

impl Selection {
    fn selects(&self, case: &Case) -> bool {
        if has_tag_among(case, &self.skip_tags) {
            return false;
        }
        if self.case_ids.is_empty() && self.tags.is_empty() {
            return true;
        }
        let by_id = case
            .id
            .as_ref()
            .is_some_and(|id| self.case_ids.contains(&id.number));
        by_id || has_tag_among(case, &self.tags)
    }
}

fn has_tag_among(case: &Case, wanted: &[String]) -> bool {
    case.entries.iter().any(|entry| match &entry.kind {
        CaseEntryKind::Tags(tags) => tags.iter().any(|t| wanted.contains(&t.text)),
        _ => false,
    })
}

/// One case to run, with where it sits in the TestRail tree.
#[derive(Debug)]
pub struct PlannedCase<'p> {
    pub file: SourceId,
    pub case: &'p Case,
    pub suite: Option<String>,
    /// The section path as written, e.g. "PKI > Server to server".
    pub section: Option<String>,
}

impl PlannedCase<'_> {
    /// The section path split into its levels.
    pub fn section_path(&self) -> Vec<&str> {
        self.section
            .as_deref()
            .map(|s| {
                s.split('>')
                    .map(str::trim)
                    .filter(|p| !p.is_empty())
                    .collect()
            })
            .unwrap_or_default()
    }
}

/// The cases of the program's root files that the selection picks, in file order.
pub fn plan<'p>(program: &'p Program, selection: &Selection) -> Vec<PlannedCase<'p>> {
    let mut planned = Vec::new();
    for &file in &program.roots {
        let Some(ast) = &program.module(file).ast else {
            continue;
        };
        let (mut suite, mut section) = (None, None);
        for item in &ast.items {
            match &item.kind {
                ItemKind::Suite(name) => suite = Some(name.display()),
                ItemKind::Section(name) => section = Some(name.display()),
                ItemKind::Case(case) if selection.selects(case) => {
                    planned.push(PlannedCase {
                        file,
                        case,
                        suite: suite.clone(),
                        section: section.clone(),
                    });
                }
                ItemKind::Case(_) | ItemKind::Use(_) | ItemKind::Procedure(_) => {}
            }
        }
    }
    planned
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEXT: &str = r#"suite "S"
section "A > B"
case C1 "first" {
  tags s2s, partition
  servers a
  step "s" {
    wait 1s
  }
}
section "C"
case C2 "second" {
  tags pki
  servers a
  step "s" {
    wait 1s
  }
}
"#;

    fn ids(planned: &[PlannedCase<'_>]) -> Vec<u64> {
        planned
            .iter()
            .filter_map(|p| p.case.id.as_ref().map(|id| id.number))
            .collect()
    }

    #[test]
    fn sections_apply_to_the_cases_below_them() {
        let program = Program::from_text("t.jspec", TEXT);
        let planned = plan(&program, &Selection::default());
        assert_eq!(ids(&planned), [1, 2]);
        assert_eq!(planned[0].section_path(), ["A", "B"]);
        assert_eq!(planned[1].section_path(), ["C"]);
        assert_eq!(planned[1].suite.as_deref(), Some("S"));
    }

    #[test]
    fn selection_by_id_or_tag() {
        let program = Program::from_text("t.jspec", TEXT);
        let by_id = Selection {
            case_ids: vec![2],
            ..Selection::default()
        };
        assert_eq!(ids(&plan(&program, &by_id)), [2]);
        let by_tag = Selection {
            tags: vec!["partition".into()],
            ..Selection::default()
        };
        assert_eq!(ids(&plan(&program, &by_tag)), [1]);
        let none = Selection {
            case_ids: vec![9],
            tags: vec!["nope".into()],
            ..Selection::default()
        };
        assert!(plan(&program, &none).is_empty());
    }

    #[test]
    fn a_skipped_tag_wins_over_every_other_choice() {
        let program = Program::from_text("t.jspec", TEXT);
        let skip = |skip_tags: &[&str], case_ids: Vec<u64>| Selection {
            case_ids,
            skip_tags: skip_tags.iter().map(|t| t.to_string()).collect(),
            ..Selection::default()
        };
        assert_eq!(ids(&plan(&program, &skip(&["partition"], vec![]))), [2]);
        assert_eq!(ids(&plan(&program, &skip(&["partition"], vec![1, 2]))), [2]);
        assert_eq!(ids(&plan(&program, &skip(&["nope"], vec![]))), [1, 2]);
    }
}
