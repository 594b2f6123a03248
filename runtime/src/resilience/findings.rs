//! The project's list of findings (docs/findings.md): which failures are known weaknesses of a
//! server, and which are known but not the server's fault. A failed case listed there is
//! explained; one that is not is an unexplained failure the report points out.

use std::collections::BTreeMap;

/// What the findings file says about a case.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Known {
    /// The entry's heading (`a node whose clock is behind reorders users' archives`) or first
    /// sentence.
    pub summary: String,
    /// The `##` section it is under (`ejabberd 23.01 cluster`).
    pub under: String,
    /// Listed as a finding about the server (not under "Not findings").
    pub is_finding: bool,
}

/// Case ids (`5103`) to what the file says about them. Entries are `### C5103 — summary`
/// headings, or `- **C5101** ...` items.
pub fn parse_findings(markdown: &str) -> BTreeMap<u64, Known> {
    let mut known = BTreeMap::new();
    let mut under = String::new();
    for line in logical_lines(markdown) {
        let line = line.as_str();
        if let Some(heading) = line.strip_prefix("## ") {
            under = heading.trim().to_string();
            continue;
        }
        let is_finding = !under.to_lowercase().starts_with("not finding");
        let entry = if let Some(heading) = line.strip_prefix("### ") {
            split_entry(heading.trim())
        } else if let Some(item) = line.strip_prefix("- **") {
            item.split_once("**")
                .and_then(|(id, rest)| Some((case_id(id)?, first_sentence(rest))))
        } else {
            None
        };
        if let Some((id, summary)) = entry {
            known.entry(id).or_insert(Known {
                summary,
                under: under.clone(),
                is_finding,
            });
        }
    }
    known
}

/// Lines with their continuations (a list item wrapped onto indented lines) joined.
fn logical_lines(markdown: &str) -> Vec<String> {
    let mut lines: Vec<String> = Vec::new();
    for line in markdown.lines() {
        match lines.last_mut() {
            Some(last) if line.starts_with("  ") && last.starts_with("- ") => {
                last.push(' ');
                last.push_str(line.trim());
            }
            _ => lines.push(line.to_string()),
        }
    }
    lines
}

/// `C5103 — occupants ...` into (5103, "occupants ...").
fn split_entry(heading: &str) -> Option<(u64, String)> {
    let (id, rest) = heading.split_once(char::is_whitespace)?;
    let summary = rest.trim_start_matches(['—', '-', ':', ' ']).trim();
    Some((case_id(id)?, summary.to_string()))
}

fn case_id(text: &str) -> Option<u64> {
    text.trim().strip_prefix('C')?.parse().ok()
}

fn first_sentence(text: &str) -> String {
    let text = text.trim_start_matches([' ', '(']).trim();
    let text = text
        .split_once(") ")
        .map_or(text, |(_, after)| after)
        .trim();
    text.split(". ")
        .next()
        .unwrap_or(text)
        .trim_end_matches('.')
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headings_and_items_are_read_with_their_section() {
        let text = "# Findings\n\n## ejabberd 23.01 cluster\n\n### C5103 — occupants are not told\n\ntext\n\n## Not findings (yet)\n\n- **C5101** (`specs/x.jspec`, the example) fails when chaos kills\n  a node. More.\n";
        let known = parse_findings(text);
        assert_eq!(known[&5103].summary, "occupants are not told");
        assert_eq!(known[&5103].under, "ejabberd 23.01 cluster");
        assert!(known[&5103].is_finding);
        assert_eq!(known[&5101].summary, "fails when chaos kills a node");
        assert!(!known[&5101].is_finding);
    }
}
