//! The fast path of a direction while its link is up and its flow unimpaired: bytes move
//! socket -> pipe -> socket with `splice(2)`, so the proxy never copies them through user space.
//! Copying every byte twice through user space held the plane to 0.43 x a direct connection on
//! bulk traffic (docs/benchmarks-faults.md). The chunk pump (pump.rs) takes over the moment a
//! cut or an impairment begins, starting with what the pipe holds, so no byte is lost, reordered
//! or let past a fault.

use std::io;
use std::os::fd::OwnedFd;

use nix::fcntl::{FcntlArg, OFlag, SpliceFFlags, fcntl, splice};
use tokio::io::Interest;
use tokio::net::TcpStream;
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio_util::sync::CancellationToken;

use super::pump::{End, Rules};

/// What the pipe holds at most (Linux's default limit for an unprivileged process is 1 MiB); a
/// bigger pipe means fewer rounds per byte. Asked for, not required.
const PIPE_SIZE: usize = 1 << 20;
/// Non-blocking: readiness comes from tokio. No `SPLICE_F_MORE`: it would cork small messages.
const FLAGS: SpliceFFlags = SpliceFFlags::SPLICE_F_MOVE.union(SpliceFFlags::SPLICE_F_NONBLOCK);

/// How the fast path ended.
pub(crate) enum Fast {
    /// A fault began: the chunk pump goes on, first with these bytes taken from the pipe.
    Fault(Vec<u8>),
    /// The source closed; nothing is left in the pipe.
    Eof,
    End(End),
}

/// A pipe and what it holds.
pub(crate) struct Splicer {
    read: OwnedFd,
    write: OwnedFd,
    /// Bytes taken from the source and not yet given to the destination.
    held: usize,
}

impl Splicer {
    pub(crate) fn new() -> io::Result<Splicer> {
        let (read, write) = nix::unistd::pipe2(OFlag::O_NONBLOCK | OFlag::O_CLOEXEC)?;
        let _ = fcntl(&write, FcntlArg::F_SETPIPE_SZ(PIPE_SIZE as i32));
        Ok(Splicer {
            read,
            write,
            held: 0,
        })
    }

    /// Moves bytes from `src` to `dst` while nothing is in force on the direction's link and flow.
    pub(crate) async fn run(
        &mut self,
        src: &OwnedReadHalf,
        dst: &OwnedWriteHalf,
        rules: &Rules,
        conn: &CancellationToken,
    ) -> Fast {
        let mut cut = rules.link.cut.subscribe();
        let mut active = rules.flow.active.subscribe();
        loop {
            if cut.borrow_and_update().is_some() || active.borrow_and_update().is_some() {
                return match self.drain() {
                    Ok(bytes) => Fast::Fault(bytes),
                    Err(_) => Fast::End(End::Reset),
                };
            }
            // Biased: a fault is seen before another round moves bytes past it. A round is
            // dropped only while it waits for readiness, so `held` stays true.
            let moved = tokio::select! {
                biased;
                _ = conn.cancelled() => return Fast::End(End::Cancelled),
                Ok(()) = cut.changed() => continue,
                Ok(()) = active.changed() => continue,
                moved = self.round(src.as_ref(), dst.as_ref()) => moved,
            };
            match moved {
                Ok(true) => {}
                Ok(false) => return Fast::Eof,
                Err(_) => return Fast::End(End::Reset),
            }
        }
    }

    /// Fills the empty pipe from `src`, or empties it into `dst`, as far as one `splice` goes.
    /// Returns false at the source's end.
    async fn round(&mut self, src: &TcpStream, dst: &TcpStream) -> io::Result<bool> {
        // The pipe is only filled when empty and only emptied while it holds bytes, so
        // `EAGAIN` always means the socket is not ready, never that the pipe is full or empty.
        if self.held == 0 {
            let n = io_ready(src, Interest::READABLE, || {
                splice(src, None, &self.write, None, PIPE_SIZE, FLAGS)
            })
            .await?;
            self.held = n;
            Ok(n > 0)
        } else {
            let n = io_ready(dst, Interest::WRITABLE, || {
                splice(&self.read, None, dst, None, self.held, FLAGS)
            })
            .await?;
            self.held -= n;
            Ok(true)
        }
    }

    /// Takes what the pipe holds, for the chunk pump to send on under the fault.
    fn drain(&mut self) -> io::Result<Vec<u8>> {
        let mut bytes = vec![0u8; self.held];
        let mut filled = 0;
        while filled < bytes.len() {
            match nix::unistd::read(&self.read, &mut bytes[filled..])? {
                0 => return Err(io::ErrorKind::UnexpectedEof.into()),
                n => filled += n,
            }
        }
        self.held = 0;
        Ok(bytes)
    }
}

/// Runs `op` on `stream` once it is ready for `interest`.
async fn io_ready(
    stream: &TcpStream,
    interest: Interest,
    mut op: impl FnMut() -> nix::Result<usize>,
) -> io::Result<usize> {
    loop {
        match stream.try_io(interest, || op().map_err(io::Error::from)) {
            Err(error) if error.kind() == io::ErrorKind::WouldBlock => {
                stream.ready(interest).await?;
            }
            done => return done,
        }
    }
}
