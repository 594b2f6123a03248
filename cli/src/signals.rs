//! Ctrl-C, SIGTERM and SIGHUP during a run: the first asks the run to stop (teardown runs,
//! faults are healed, the lab is stopped, the reports are written), the second forces it (no
//! teardown grace, servers killed). The exit status is then 128 + the first signal's number.

use std::sync::Arc;
use std::sync::atomic::{AtomicI32, Ordering};

use jspec_runtime::runner::RunControl;
use nix::sys::signal::Signal;
use tokio::signal::unix::{SignalKind, signal};

/// The signal listener of one run.
#[derive(Debug)]
pub(crate) struct Signals {
    first: Arc<AtomicI32>,
    task: tokio::task::JoinHandle<()>,
}

impl Signals {
    /// Starts listening; must be called inside the async runtime.
    pub(crate) fn listen(control: RunControl) -> Signals {
        let first = Arc::new(AtomicI32::new(0));
        let seen = first.clone();
        let task = tokio::spawn(async move {
            let (Ok(mut int), Ok(mut term), Ok(mut hup)) = (
                signal(SignalKind::interrupt()),
                signal(SignalKind::terminate()),
                signal(SignalKind::hangup()),
            ) else {
                tracing::warn!("cannot listen for signals: Ctrl-C ends jspec without teardown");
                return;
            };
            loop {
                let (number, name) = tokio::select! {
                    _ = int.recv() => (Signal::SIGINT, "Ctrl-C"),
                    _ = term.recv() => (Signal::SIGTERM, "SIGTERM"),
                    _ = hup.recv() => (Signal::SIGHUP, "SIGHUP"),
                };
                if seen
                    .compare_exchange(0, number as i32, Ordering::SeqCst, Ordering::SeqCst)
                    .is_ok()
                {
                    eprintln!(
                        "\n{name}: stopping the run (teardown runs, faults are healed, the lab \
                         is stopped); press Ctrl-C again to stop at once"
                    );
                    control.stop.cancel();
                } else {
                    eprintln!("\n{name}: stopping at once (servers killed)");
                    control.force.cancel();
                    control.stop.cancel();
                }
            }
        });
        Signals { first, task }
    }

    /// The first signal received, if any.
    pub(crate) fn received(&self) -> Option<i32> {
        match self.first.load(Ordering::SeqCst) {
            0 => None,
            number => Some(number),
        }
    }
}

impl Drop for Signals {
    fn drop(&mut self) {
        self.task.abort();
    }
}
