//! A managed server's wall clock, moved with libfaketime (Debian's libfaketime): the server runs
//! with the library preloaded and reads its offset from a file of its own, so a skew takes
//! effect without a restart (re-read once a second; the lab waits two periods). Monotonic time stays real, so the
//! server's timers are not disturbed: only what it stamps and tells moves, as on a machine whose
//! clock drifted. Children of the server inherit the preload (documented: do not measure real
//! time from inside). A clock can also stand still at a given time: from the server's start
//! (`clock = "2008-08-22T21:09:04Z"` in an environment file) or for a case (`set clock of a to
//! "..."`), as protocol tests that assert exact timestamps want; a skew then moves the time it
//! stands at, and restoring goes back to the server's own (real or environment) time.

use std::path::{Path, PathBuf};
use std::time::Duration;

use time::OffsetDateTime;
use time::macros::format_description;

/// Where Debian installs the library, per architecture.
const CANDIDATES: &[&str] = &[
    "/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1",
    "/usr/lib/aarch64-linux-gnu/faketime/libfaketime.so.1",
    "/usr/lib/faketime/libfaketime.so.1",
];

/// How often the server re-reads its offset (libfaketime counts whole seconds, so a change can
/// take up to twice this).
pub const REREAD: Duration = Duration::from_secs(1);

/// The library, if it is installed.
pub fn libfaketime() -> Option<&'static str> {
    CANDIDATES.iter().copied().find(|p| Path::new(p).exists())
}

/// How a clock is moved.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum ClockMove {
    /// This many milliseconds from its reference (negative: behind).
    By(f64),
    /// Stands still at this time until restored.
    StandAt(OffsetDateTime),
    /// Back to the server's own time: real, or where the environment stopped it.
    Restore,
}

impl ClockMove {
    /// `skew clock` and `restore clock` as offsets: `None` restores.
    pub fn offset(offset_millis: Option<f64>) -> ClockMove {
        offset_millis.map_or(ClockMove::Restore, ClockMove::By)
    }
}

/// One server's clock: the offset file it reads.
#[derive(Debug)]
pub struct Clock {
    file: PathBuf,
    library: &'static str,
    /// The time the clock stands at from the server's start; `None`: it runs.
    frozen: Option<OffsetDateTime>,
    /// The time a case made it stand at (`set clock of`), until restored.
    standing: std::sync::Mutex<Option<OffsetDateTime>>,
}

impl Clock {
    /// A clock at real time in `dir`, or `None` when libfaketime is not installed.
    pub fn create(dir: &Path) -> std::io::Result<Option<Clock>> {
        Clock::standing(dir, None)
    }

    /// A clock in `dir` that stands still at `frozen` (runs at real time without it), or `None`
    /// when libfaketime is not installed.
    pub fn standing(dir: &Path, frozen: Option<OffsetDateTime>) -> std::io::Result<Option<Clock>> {
        let Some(library) = libfaketime() else {
            return Ok(None);
        };
        let clock = Clock {
            file: dir.join("clock-offset"),
            library,
            frozen,
            standing: std::sync::Mutex::new(None),
        };
        clock.set(None)?;
        Ok(Some(clock))
    }

    /// The file the server reads its offset from.
    pub fn file(&self) -> &Path {
        &self.file
    }

    /// The environment the server starts with.
    pub fn envs(&self) -> Vec<(&'static str, String)> {
        vec![
            ("LD_PRELOAD", self.library.to_string()),
            ("FAKETIME_TIMESTAMP_FILE", self.file.display().to_string()),
            ("FAKETIME_CACHE_DURATION", REREAD.as_secs().to_string()),
            // Only the wall clock moves: timers and timeouts keep real time.
            ("FAKETIME_DONT_FAKE_MONOTONIC", "1".to_string()),
        ]
    }

    /// Sets the offset from real time (milliseconds; negative: behind), or real time again;
    /// a frozen clock stands that far from its time instead.
    pub fn set(&self, offset_millis: Option<f64>) -> std::io::Result<()> {
        self.apply(ClockMove::offset(offset_millis))
    }

    /// Moves the clock: by an offset from the time it stands at (or from real time), to a
    /// time it stands at, or back to the server's own time.
    pub fn apply(&self, movement: ClockMove) -> std::io::Result<()> {
        let mut standing = crate::sync::lock(&self.standing);
        let offset = match movement {
            ClockMove::By(millis) => millis,
            ClockMove::StandAt(at) => {
                *standing = Some(at);
                0.0
            }
            ClockMove::Restore => {
                *standing = None;
                0.0
            }
        };
        let text = match standing.or(self.frozen) {
            Some(at) => frozen_text(at + time::Duration::seconds_f64(offset / 1000.0)),
            None => offset_text(offset),
        };
        std::fs::write(&self.file, text)
    }
}

/// libfaketime's absolute form without `@`: the clock stands at that time.
fn frozen_text(at: OffsetDateTime) -> String {
    let utc = at.to_offset(time::UtcOffset::UTC);
    let format = format_description!("[year]-[month]-[day] [hour]:[minute]:[second]");
    // The description has no part that can fail to format.
    let text = utc.format(&format).unwrap_or_default();
    format!("{text}\n")
}

/// libfaketime's relative form: `+3.5` seconds ahead, `-90` behind.
fn offset_text(millis: f64) -> String {
    let seconds = millis / 1000.0;
    let sign = if seconds < 0.0 { '-' } else { '+' };
    format!("{sign}{}\n", seconds.abs())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offsets_are_written_as_libfaketime_reads_them() {
        assert_eq!(offset_text(3000.0), "+3\n");
        assert_eq!(offset_text(-90_000.0), "-90\n");
        assert_eq!(offset_text(1500.0), "+1.5\n");
        assert_eq!(offset_text(0.0), "+0\n");
    }

    #[test]
    fn a_frozen_clock_is_written_as_an_absolute_time() {
        let at = OffsetDateTime::from_unix_timestamp(1_219_439_344).expect("time");
        assert_eq!(frozen_text(at), "2008-08-22 21:09:04\n");
        let later = at + time::Duration::seconds(90);
        assert_eq!(frozen_text(later), "2008-08-22 21:10:34\n");
    }
}
