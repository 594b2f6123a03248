//! What every server the lab runs has in common — Prosody, an ejabberd node, PostgreSQL: it
//! starts (spawn, then wait until it serves), stops gracefully or crashes, pauses and resumes.
//! Each software says how it does the parts that differ; the process plane's actions (`kill`,
//! `stop`, `start`, `restart`, `pause`, `resume`) are written once, here.

use std::future::Future;

use jspec_lang::ast::ProcessAction;
use nix::sys::signal::Signal;

use super::process::{ManagedProcess, ProcessError, ProcessSlot, STOP_GRACE, ServerState};

/// A server process the lab manages. Implementations supply the parts that differ between
/// server software; the provided methods are the process plane's actions on it.
pub trait ServerProcess: Sync {
    type Error: From<ProcessError> + Send;

    /// Where its process, PID and state are kept.
    fn slot(&self) -> &ProcessSlot;

    /// Spawns the server and waits until it serves. On failure no process is left running.
    fn launch(&self) -> impl Future<Output = Result<ManagedProcess, Self::Error>> + Send;

    /// The error for a pause or resume of a server that is down.
    fn not_running(&self) -> Self::Error;

    /// Ends a running process gracefully: SIGTERM (or the software's own stop), then SIGKILL
    /// after a grace period.
    fn shut_down(&self, process: ManagedProcess) -> impl Future<Output = ()> + Send {
        process.stop(STOP_GRACE)
    }

    /// SIGKILL, like a crash (a software whose children outlive it takes them along).
    fn crash(&self, process: ManagedProcess) -> impl Future<Output = ()> + Send {
        process.kill()
    }

    /// Waits, bounded, until a server that just went down could start again.
    fn settle(&self) -> impl Future<Output = ()> + Send {
        async {}
    }

    /// SIGSTOP (`pause`) or SIGCONT to the server (and whatever must freeze with it).
    fn signal_pause(&self, process: &ManagedProcess, pause: bool) -> Result<(), ProcessError> {
        process.signal(if pause {
            Signal::SIGSTOP
        } else {
            Signal::SIGCONT
        })
    }

    fn state(&self) -> ServerState {
        self.slot().state()
    }

    /// The PID of the running process; 0 while it is down.
    fn pid(&self) -> u32 {
        self.slot().pid()
    }

    /// Starts the server from its files (after a kill or stop); nothing to do if it runs.
    fn start_process(&self) -> impl Future<Output = Result<(), Self::Error>> + Send {
        async move {
            let slot = self.slot();
            let mut held = slot.process.lock().await;
            if let Some(process) = held.as_mut()
                && process.exit_status().is_none()
            {
                return Ok(());
            }
            let process = self.launch().await?;
            slot.set_pid(process.pid());
            *held = Some(process);
            slot.set_state(ServerState::Running);
            Ok(())
        }
    }

    /// SIGKILL, like a crash; returns once the server could start again.
    fn kill_process(&self) -> impl Future<Output = ()> + Send {
        async move {
            let taken = self.slot().process.lock().await.take();
            if let Some(process) = taken {
                self.crash(process).await;
            }
            self.slot().mark_down();
            self.settle().await;
        }
    }

    /// A graceful stop; returns once the server could start again.
    fn stop_process(&self) -> impl Future<Output = ()> + Send {
        async move {
            let taken = self.slot().process.lock().await.take();
            if let Some(process) = taken {
                self.shut_down(process).await;
            }
            self.slot().mark_down();
            self.settle().await;
        }
    }

    /// Stop, then start.
    fn restart_process(&self) -> impl Future<Output = Result<(), Self::Error>> + Send {
        async move {
            self.stop_process().await;
            self.start_process().await
        }
    }

    /// SIGSTOP (`pause`) or SIGCONT (`resume`): the process exists but does nothing, and its
    /// connections stay open.
    fn pause_process(&self, pause: bool) -> impl Future<Output = Result<(), Self::Error>> + Send {
        async move {
            let held = self.slot().process.lock().await;
            let Some(process) = held.as_ref() else {
                return Err(self.not_running());
            };
            self.signal_pause(process, pause)?;
            self.slot().set_state(if pause {
                ServerState::Paused
            } else {
                ServerState::Running
            });
            Ok(())
        }
    }

    /// One action of the process plane (`kill c1`, `restart database pg`, ...).
    fn act(&self, action: ProcessAction) -> impl Future<Output = Result<(), Self::Error>> + Send {
        async move {
            match action {
                ProcessAction::Kill => self.kill_process().await,
                ProcessAction::Stop => self.stop_process().await,
                ProcessAction::Start => self.start_process().await?,
                ProcessAction::Restart => self.restart_process().await?,
                ProcessAction::Pause => self.pause_process(true).await?,
                ProcessAction::Resume => self.pause_process(false).await?,
            }
            Ok(())
        }
    }

    /// Brings it back to running (resumed if paused, started if down); what it did, e.g.
    /// `started`, or `None` when it was running.
    fn bring_back(&self) -> impl Future<Output = Result<Option<&'static str>, Self::Error>> + Send {
        async move {
            match self.state() {
                ServerState::Running => Ok(None),
                ServerState::Paused => {
                    self.pause_process(false).await?;
                    Ok(Some("resumed"))
                }
                ServerState::Down => {
                    self.start_process().await?;
                    Ok(Some("started"))
                }
            }
        }
    }
}
