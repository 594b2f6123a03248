//! Forwarding one event stream to several reporters.

use std::fmt;
use std::io;

use crate::event::{Reporter, RunEvent};

/// Forwards each event to every reporter it holds, in the order they were added. A reporter
/// whose `on_event` fails is reported once (a `tracing` warning) and dropped; the run and the
/// other reporters go on.
#[derive(Default)]
pub struct Fanout {
    reporters: Vec<(String, Box<dyn Reporter>)>,
}

impl fmt::Debug for Fanout {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list()
            .entries(self.reporters.iter().map(|(name, _)| name))
            .finish()
    }
}

impl Fanout {
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a reporter; `name` identifies it in the warning if it fails.
    pub fn push(&mut self, name: impl Into<String>, reporter: impl Reporter + 'static) {
        self.reporters.push((name.into(), Box::new(reporter)));
    }

    /// Builder form of [`Fanout::push`].
    pub fn with(mut self, name: impl Into<String>, reporter: impl Reporter + 'static) -> Self {
        self.push(name, reporter);
        self
    }

    /// The names of the reporters still receiving events.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.reporters.iter().map(|(name, _)| name.as_str())
    }

    pub fn len(&self) -> usize {
        self.reporters.len()
    }

    pub fn is_empty(&self) -> bool {
        self.reporters.is_empty()
    }

    /// Forwards `event` to every reporter, dropping those that fail.
    pub fn send(&mut self, event: &RunEvent) {
        self.each(|reporter| reporter.on_event(event));
    }

    /// Lets every reporter write what the last events changed; failing ones are dropped.
    pub fn flush_all(&mut self) {
        self.each(|reporter| reporter.flush());
    }

    /// Runs `work` on every reporter; one that fails is reported once and dropped, the run
    /// goes on.
    fn each(&mut self, mut work: impl FnMut(&mut dyn Reporter) -> io::Result<()>) {
        self.reporters
            .retain_mut(|(name, reporter)| match work(reporter.as_mut()) {
                Ok(()) => true,
                Err(error) => {
                    tracing::warn!(
                        reporter = %name,
                        %error,
                        "the {name} reporter failed and is dropped; the run goes on"
                    );
                    false
                }
            });
    }
}

impl Reporter for Fanout {
    /// Never fails: failing reporters are dropped instead.
    fn on_event(&mut self, event: &RunEvent) -> io::Result<()> {
        self.send(event);
        Ok(())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.flush_all();
        Ok(())
    }
}
