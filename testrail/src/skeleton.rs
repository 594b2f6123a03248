//! The way back from TestRail: a suite's cases as .jspec skeletons, one file per section path.
//! Each case keeps its id, title, priority, type, references, estimate and preconditions; each
//! step becomes a titled `step` block holding its text and expected result as comments, for a
//! person to turn into statements.

use std::collections::HashSet;
use std::path::PathBuf;

use crate::model::{CaseText, StepText};
use crate::suite_xml::Suite;

/// One .jspec file to write.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Skeleton {
    /// Relative to the output folder: `pki/server-to-server.jspec`.
    pub path: PathBuf,
    /// Formatted canonically.
    pub text: String,
}

#[derive(Debug, thiserror::Error)]
#[error("the skeleton for section \"{section}\" does not parse (a jspec bug):\n{text}")]
pub struct SkeletonError {
    pub section: String,
    pub text: String,
}

/// A file per section path, in the order sections are met.
pub fn skeletons(suite: &Suite) -> Result<Vec<Skeleton>, SkeletonError> {
    let mut groups: Vec<(Vec<String>, Vec<CaseText>)> = Vec::new();
    for case in suite.cases() {
        match groups.iter_mut().find(|(path, _)| *path == case.section) {
            Some((_, cases)) => cases.push(case),
            None => groups.push((case.section.clone(), vec![case])),
        }
    }
    let mut taken = HashSet::new();
    let mut out = Vec::new();
    for (section, cases) in groups {
        let source = file_text(&suite.name, &section, &cases);
        let text = jspec_lang::fmt::format_text(&source).ok_or_else(|| SkeletonError {
            section: section.join(" > "),
            text: source.clone(),
        })?;
        out.push(Skeleton {
            path: unique_path(&section, &mut taken),
            text,
        });
    }
    Ok(out)
}

/// `["PKI", "Server to server"]` -> `pki/server-to-server.jspec`; a clash gets `-2`, `-3`.
fn unique_path(section: &[String], taken: &mut HashSet<PathBuf>) -> PathBuf {
    let mut parts: Vec<String> = section.iter().map(|s| slug(s)).collect();
    if parts.is_empty() {
        parts.push("cases".to_string());
    }
    let mut n = 1;
    loop {
        let mut path: PathBuf = parts.iter().collect();
        let stem = match n {
            1 => parts[parts.len() - 1].clone(),
            _ => format!("{}-{n}", parts[parts.len() - 1]),
        };
        path.set_file_name(format!("{stem}.jspec"));
        if taken.insert(path.clone()) {
            return path;
        }
        n += 1;
    }
}

/// `Server to server (TLS)` -> `server-to-server-tls`.
fn slug(name: &str) -> String {
    let mut out = String::new();
    for c in name.chars() {
        if c.is_alphanumeric() {
            out.extend(c.to_lowercase());
        } else if !out.is_empty() && !out.ends_with('-') {
            out.push('-');
        }
    }
    let out = out.trim_end_matches('-').to_string();
    if out.is_empty() {
        "section".to_string()
    } else {
        out
    }
}

fn file_text(suite: &str, section: &[String], cases: &[CaseText]) -> String {
    let mut out = String::new();
    if !suite.is_empty() {
        out.push_str(&format!("suite {}\n", quoted(suite)));
    }
    if !section.is_empty() {
        out.push_str(&format!("section {}\n", quoted(&section.join(" > "))));
    }
    for case in cases {
        out.push('\n');
        case_text(&mut out, case);
    }
    out
}

fn case_text(out: &mut String, case: &CaseText) {
    let id = case.id.map(|id| format!("C{id} ")).unwrap_or_default();
    let title = if case.title.trim().is_empty() {
        "Untitled"
    } else {
        &case.title
    };
    out.push_str(&format!("case {id}{} {{\n", quoted(title)));
    if let Some(priority) = &case.priority {
        match priority.to_lowercase().as_str() {
            p @ ("low" | "medium" | "high" | "critical") => {
                out.push_str(&format!("  priority {p}\n"));
            }
            other => comment(out, "  ", &format!("priority: {other}")),
        }
    }
    if let Some(label) = &case.case_type {
        out.push_str(&format!("  type {}\n", quoted(label)));
    }
    if !case.refs.is_empty() {
        let refs: Vec<String> = case.refs.iter().map(|r| quoted(r)).collect();
        out.push_str(&format!("  refs {}\n", refs.join(", ")));
    }
    if let Some(estimate) = case.estimate.as_deref() {
        match duration(estimate) {
            Some(d) => out.push_str(&format!("  estimate {d}\n")),
            None => comment(out, "  ", &format!("estimate: {estimate}")),
        }
    }
    if !case.preconditions.trim().is_empty() {
        out.push_str(&format!(
            "  preconditions {}\n",
            text(case.preconditions.trim())
        ));
    }
    for (index, step) in case.steps.iter().enumerate() {
        step_text(out, index, step);
    }
    out.push_str("}\n");
}

/// `step "first line of the content" { # the rest, # expected: ... }`.
fn step_text(out: &mut String, index: usize, step: &StepText) {
    let mut lines = step.content.lines().filter(|l| !l.trim().is_empty());
    let title = match lines.next() {
        Some(first) => first.trim().to_string(),
        None => format!("Step {}", index + 1),
    };
    out.push_str(&format!("\n  step {} {{\n", quoted(&title)));
    for line in lines {
        comment(out, "    ", line.trim_end());
    }
    let mut expected = step.expected.lines().filter(|l| !l.trim().is_empty());
    if let Some(first) = expected.next() {
        comment(out, "    ", &format!("expected: {}", first.trim_end()));
        for line in expected {
            comment(out, "    ", &format!("  {}", line.trim_end()));
        }
    }
    out.push_str("  }\n");
}

fn comment(out: &mut String, indent: &str, text: &str) {
    out.push_str(&format!("{indent}# {text}\n"));
}

/// A one-line string: `"..."` with `\" \\ \n \t \$` escaped, carriage returns dropped.
fn quoted(text: &str) -> String {
    jspec_lang::fmt::quote(&text.replace('\r', ""))
}

/// Multi-line text as a triple-quoted string when it can be one (no `"""`, no `${`, no carriage
/// returns: triple strings have no escapes), else quoted with escapes.
fn text(text: &str) -> String {
    let fits_triple = text.contains('\n')
        && !text.contains("\"\"\"")
        && !text.contains("${")
        && !text.contains('\r')
        && !text.ends_with('"');
    if !fits_triple {
        return quoted(text);
    }
    let mut out = String::from("\"\"\"\n");
    for line in text.lines() {
        if !line.trim().is_empty() {
            out.push_str("    ");
            out.push_str(line);
        }
        out.push('\n');
    }
    out.push_str("  \"\"\"");
    out
}

/// TestRail's timespan (`1m 30s`, `2h`, `45s`, `1.5h`) as a jspec duration (`90s`, `2h`).
fn duration(timespan: &str) -> Option<String> {
    let mut seconds = 0.0;
    for part in timespan.split_whitespace() {
        let unit_at = part.find(|c: char| c.is_ascii_alphabetic())?;
        let (number, unit) = part.split_at(unit_at);
        let number: f64 = number.parse().ok()?;
        seconds += number
            * match unit {
                "s" => 1.0,
                "m" => 60.0,
                "h" => 3600.0,
                "d" => 86_400.0,
                "w" => 604_800.0,
                _ => return None,
            };
    }
    let seconds = seconds.round() as u64;
    if seconds == 0 {
        return None;
    }
    Some(if seconds.is_multiple_of(3600) {
        format!("{}h", seconds / 3600)
    } else if seconds.is_multiple_of(60) {
        format!("{}m", seconds / 60)
    } else {
        format!("{seconds}s")
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timespans_become_durations() {
        assert_eq!(duration("1m 30s").as_deref(), Some("90s"));
        assert_eq!(duration("2m").as_deref(), Some("2m"));
        assert_eq!(duration("1h").as_deref(), Some("1h"));
        assert_eq!(duration("soon"), None);
    }

    #[test]
    fn slugs_and_clashes() {
        let mut taken = HashSet::new();
        let path = |s: &[&str], t: &mut HashSet<PathBuf>| {
            let s: Vec<String> = s.iter().map(|x| x.to_string()).collect();
            unique_path(&s, t)
        };
        assert_eq!(
            path(&["PKI", "Server to server"], &mut taken),
            PathBuf::from("pki/server-to-server.jspec")
        );
        assert_eq!(path(&["PKI"], &mut taken), PathBuf::from("pki.jspec"));
        assert_eq!(path(&["pki"], &mut taken), PathBuf::from("pki-2.jspec"));
    }

    #[test]
    fn a_case_becomes_a_skeleton_that_parses() {
        let case = CaseText {
            id: Some(12),
            title: "Say \"hi\" for ${x}".into(),
            section: vec!["A".into(), "B".into()],
            priority: Some("High".into()),
            case_type: Some("Functional".into()),
            estimate: Some("1m 30s".into()),
            refs: vec!["R1".into()],
            preconditions: "Line one\n  indented\n\nLast".into(),
            steps: vec![StepText {
                content: "Do it\nthen this".into(),
                expected: "It works\nreally".into(),
            }],
            ..CaseText::default()
        };
        let suite = Suite::from_cases("S", &[case]);
        let files = skeletons(&suite).expect("parses");
        assert_eq!(files[0].path, PathBuf::from("a/b.jspec"));
        assert_eq!(
            files[0].text,
            r#"suite "S"
section "A > B"

case C12 "Say \"hi\" for \${x}" {
  priority high
  type "Functional"
  refs "R1"
  estimate 90s
  preconditions """
    Line one
      indented

    Last
  """

  step "Do it" {
    # then this
    # expected: It works
    #   really
  }
}
"#
        );
    }
}
