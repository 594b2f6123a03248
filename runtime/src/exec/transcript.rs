//! Per-actor stanza transcripts in the run folder: every stanza sent and received, with times.

use std::fmt::Write as _;
use std::path::Path;
use std::sync::Arc;

use crate::xmpp::{Direction, Session};

/// Writes one file per actor (`alice.log`; `alice.2.log` for a second session) into `dir`.
/// Failures are logged, never fatal: the run's results matter more than its transcripts.
pub(crate) fn write_transcripts(dir: &Path, sessions: &[(String, Arc<Session>)]) {
    if sessions.is_empty() {
        return;
    }
    if let Err(error) = std::fs::create_dir_all(dir) {
        tracing::warn!(dir = %dir.display(), %error, "cannot create the transcript folder");
        return;
    }
    let mut seen: std::collections::HashMap<&str, usize> = std::collections::HashMap::new();
    for (actor, session) in sessions {
        let n = seen.entry(actor.as_str()).or_default();
        *n += 1;
        let stem = super::case_result::transcript_stem(actor);
        let name = if *n == 1 {
            format!("{stem}.log")
        } else {
            format!("{stem}.{n}.log")
        };
        let mut text = format!("# transcript of {actor} as {}\n", session.jid());
        for record in session.transcript() {
            let arrow = match record.direction {
                Direction::Sent => "->",
                Direction::Received => "<-",
                Direction::Event => "--",
            };
            let at = record
                .wall
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap_or_default();
            let _ = writeln!(
                text,
                "{}.{:03} {arrow} {}",
                at.as_secs(),
                at.subsec_millis(),
                record.text()
            );
        }
        let path = dir.join(name);
        if let Err(error) = std::fs::write(&path, text) {
            tracing::warn!(path = %path.display(), %error, "cannot write a transcript");
        }
    }
}
