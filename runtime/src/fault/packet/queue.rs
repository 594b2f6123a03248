//! The NFQUEUE consumer of one impaired flow: a thread that enters the server's network
//! namespace (netlink sockets belong to the namespace they are opened in), binds the flow's
//! queue and gives each packet its verdict as the [`Engine`] decides.

use std::net::SocketAddrV4;
use std::sync::mpsc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use nfq::{Message, Queue, Verdict};
use socket2::{Domain, Protocol, SockAddr, Socket, Type};

use super::PacketError;
use super::engine::Engine;
use super::net::NETNS_DIR;
use super::nft::INJECTED_MARK;
use super::wire;
use crate::fault::model::Impairment;

/// The kernel keeps at most this many packets waiting for a verdict (held ones included);
/// beyond it new packets drop, as in a router whose buffer is full.
const QUEUE_MAX_LEN: u32 = 4096;
/// How often an idle engine looks for new packets: the nfq crate exposes no descriptor to wait
/// on, so the socket is polled without blocking; this bounds the delay the polling adds.
const POLL: Duration = Duration::from_millis(1);
/// IPPROTO_RAW: a raw socket that sends whole IPv4 packets (IP_HDRINCL implied).
const IPPROTO_RAW: i32 = 255;

/// Runs `work` on a thread inside the network namespace `netns` (sockets it opens stay there).
pub fn run_in_netns<T, F>(netns: &str, work: F) -> Result<T, PacketError>
where
    T: Send,
    F: FnOnce() -> T + Send,
{
    std::thread::scope(|scope| {
        scope
            .spawn(|| enter_netns(netns).map(|()| work()))
            .join()
            .unwrap_or_else(|_| {
                Err(PacketError::Invalid(format!(
                    "a thread in {netns} panicked"
                )))
            })
    })
}

/// Moves the calling thread into the namespace `netns` (only this thread).
fn enter_netns(netns: &str) -> Result<(), PacketError> {
    let path = std::path::Path::new(NETNS_DIR).join(netns);
    let io = |what: &str, source| PacketError::Io {
        what: format!("{what} {}", path.display()),
        source,
    };
    let file = std::fs::File::open(&path).map_err(|e| io("cannot open", e))?;
    nix::sched::setns(&file, nix::sched::CloneFlags::CLONE_NEWNET)
        .map_err(|e| io("cannot enter", std::io::Error::from(e)))
}

enum Command {
    Update(Impairment),
    Stop,
}

/// A running consumer; stopping it releases every packet it holds.
#[derive(Debug)]
pub(crate) struct QueueEngine {
    commands: mpsc::Sender<Command>,
    thread: Option<JoinHandle<()>>,
}

impl QueueEngine {
    /// Starts the consumer of `queue` in `netns` and returns once it is bound.
    pub(crate) fn start(
        netns: &str,
        queue: u16,
        impairment: Impairment,
        seed: u64,
    ) -> Result<QueueEngine, PacketError> {
        let (commands, receiver) = mpsc::channel();
        let (ready, bound) = mpsc::channel();
        let netns_owned = netns.to_string();
        let thread = std::thread::Builder::new()
            .name(format!("nfq-{queue}"))
            .spawn(move || match open(&netns_owned, queue) {
                Ok((nfq, inject)) => {
                    let _ = ready.send(Ok(()));
                    serve(nfq, inject, queue, impairment, seed, &receiver);
                }
                Err(error) => {
                    let _ = ready.send(Err(error));
                }
            })
            .map_err(|source| PacketError::Io {
                what: "cannot start an NFQUEUE thread".into(),
                source,
            })?;
        let outcome = bound.recv().unwrap_or_else(|_| {
            Err(PacketError::Invalid(format!(
                "the NFQUEUE thread for queue {queue} in {netns} ended at start"
            )))
        });
        let mut engine = QueueEngine {
            commands,
            thread: Some(thread),
        };
        match outcome {
            Ok(()) => Ok(engine),
            Err(error) => {
                engine.stop();
                Err(error)
            }
        }
    }

    /// New settings, effective for the next packet.
    pub(crate) fn update(&self, impairment: Impairment) {
        let _ = self.commands.send(Command::Update(impairment));
    }

    /// Releases what is held, unbinds and waits for the thread.
    pub(crate) fn stop(&mut self) {
        let _ = self.commands.send(Command::Stop);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl Drop for QueueEngine {
    fn drop(&mut self) {
        self.stop();
    }
}

fn open(netns: &str, queue: u16) -> Result<(Queue, Socket), PacketError> {
    enter_netns(netns)?;
    let io = |what: String| move |source| PacketError::Io { what, source };
    let mut nfq = Queue::open().map_err(io("cannot open NFQUEUE".into()))?;
    nfq.bind(queue)
        .map_err(io(format!("cannot bind NFQUEUE {queue} in {netns}")))?;
    nfq.set_queue_max_len(queue, QUEUE_MAX_LEN)
        .map_err(io(format!("cannot size NFQUEUE {queue}")))?;
    nfq.set_nonblocking(true);
    let inject = Socket::new(Domain::IPV4, Type::RAW, Some(Protocol::from(IPPROTO_RAW)))
        .map_err(io("cannot open a raw socket for copies".into()))?;
    inject
        .set_mark(INJECTED_MARK)
        .map_err(io("cannot mark the raw socket".into()))?;
    Ok((nfq, inject))
}

fn serve(
    mut nfq: Queue,
    inject: Socket,
    queue: u16,
    impairment: Impairment,
    seed: u64,
    commands: &mpsc::Receiver<Command>,
) {
    let mut engine: Engine<Message> = Engine::new(impairment, seed, Instant::now());
    let mut counts = Counts::default();
    let mut stopping = false;
    loop {
        match commands.try_recv() {
            Ok(Command::Update(impairment)) => engine.update(impairment),
            Ok(Command::Stop) | Err(mpsc::TryRecvError::Disconnected) => {
                // What is held goes first, in order, then whatever is still queued.
                for release in engine.drain() {
                    let (packet, copy) = (release.packet, release.duplicate);
                    accept(&mut nfq, &inject, packet, copy, &mut counts);
                }
                stopping = true;
            }
            Err(mpsc::TryRecvError::Empty) => {}
        }
        loop {
            match nfq.recv() {
                // Unbinding drops what the queue still holds: take it and let it pass.
                Ok(message) if stopping => accept(&mut nfq, &inject, message, false, &mut counts),
                Ok(message) => arrive(&mut nfq, &mut engine, message, &mut counts),
                Err(error) if error.kind() == std::io::ErrorKind::WouldBlock => break,
                Err(error) => {
                    tracing::warn!(queue, %error, "NFQUEUE receive failed");
                    break;
                }
            }
        }
        if stopping {
            break;
        }
        let now = Instant::now();
        for release in engine.due(now) {
            accept(
                &mut nfq,
                &inject,
                release.packet,
                release.duplicate,
                &mut counts,
            );
        }
        let wait = engine.next_due().map_or(POLL, |due| {
            due.saturating_duration_since(Instant::now()).min(POLL)
        });
        std::thread::sleep(wait);
    }
    let _ = nfq.unbind(queue);
    tracing::debug!(queue, ?counts, "NFQUEUE engine stopped");
}

/// What an engine did, for the debug log.
#[derive(Debug, Default)]
struct Counts {
    seen: u64,
    dropped: u64,
    tampered: u64,
    copied: u64,
}

fn arrive(
    nfq: &mut Queue,
    engine: &mut Engine<Message>,
    mut message: Message,
    counts: &mut Counts,
) {
    counts.seen += 1;
    let decision = engine.decide(Instant::now());
    if decision.drop {
        counts.dropped += 1;
        message.set_verdict(Verdict::Drop);
        if let Err(error) = nfq.verdict(message) {
            tracing::warn!(%error, "NFQUEUE verdict failed");
        }
        return;
    }
    if let Some(choice) = decision.tamper
        && wire::tamper(message.get_payload_mut(), choice)
    {
        counts.tampered += 1;
    }
    engine.hold(message, &decision);
}

fn accept(nfq: &mut Queue, inject: &Socket, mut message: Message, copy: bool, counts: &mut Counts) {
    let copy = copy.then(|| message.get_payload().to_vec());
    message.set_verdict(Verdict::Accept);
    if let Err(error) = nfq.verdict(message) {
        tracing::warn!(%error, "NFQUEUE verdict failed");
    }
    let Some(packet) = copy else {
        return;
    };
    let Some(destination) = wire::destination(&packet) else {
        return;
    };
    // The copy is marked, so the queue rule lets it pass instead of queueing it again.
    let to = SockAddr::from(SocketAddrV4::new(destination, 0));
    match inject.send_to(&packet, &to) {
        Ok(_) => counts.copied += 1,
        Err(error) => tracing::warn!(%error, "cannot send a packet copy"),
    }
}
