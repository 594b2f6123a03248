//! Statements: what a setup, step, teardown or procedure body does.

use super::{Block, Comment, Count, Dangling, Duration, Name, Percent, Rate, Str, Trivia};
use crate::span::Span;

#[derive(Clone, Debug, PartialEq)]
pub struct Stmt {
    pub kind: StmtKind,
    pub span: Span,
    pub trivia: Trivia,
}

#[derive(Clone, Debug, PartialEq)]
pub enum StmtKind {
    Connect {
        user: Name,
        options: ConnectOptions,
    },
    Disconnect {
        user: Name,
        abrupt: bool,
    },
    Join(Join),
    Leave {
        user: Name,
        room: Name,
    },
    /// `send "text" from alice to ops`: a chat or groupchat message.
    Send {
        body: Str,
        from: Name,
        to: Name,
    },
    /// `send from alice """<iq .../>"""`: a raw stanza.
    SendRaw {
        from: Name,
        xml: Str,
    },
    Wait(Duration),
    ExpectReceives(ExpectReceives),
    ExpectConnectFails(ExpectConnectFails),
    ExpectArchive(ExpectArchive),
    ExpectLink(ExpectLink),
    SetCertificate {
        target: Name,
        state: CertificateState,
        state_span: Span,
    },
    RevokeCertificate {
        target: Name,
    },
    /// `set ticket of alice to expired`: the user's Kerberos ticket.
    SetTicket {
        user: Name,
        state: TicketState,
    },
    Partition(Cut),
    Isolate(Name),
    /// `heal` alone heals everything.
    Heal(Option<Cut>),
    Impair {
        link: Link,
        impairments: Vec<Impairment>,
    },
    /// `flood link a -> b at 2mbit for 30s`: bulk traffic that is not XMPP on the link, in the
    /// background (the statement returns at once), until the time is up or the link is
    /// restored.
    Flood {
        link: Link,
        rate: Rate,
        duration: Duration,
    },
    /// `restore` alone restores every link.
    Restore(Option<Link>),
    /// `skew clock of c2 by 3s` (ahead) or `by -3s` (behind).
    SkewClock {
        target: Name,
        /// Milliseconds ahead of real time; negative: behind.
        offset_millis: f64,
        offset_span: Span,
    },
    /// `set clock of a to "2008-08-22T21:09:04Z"`: the clock stands still at that time.
    SetClock {
        target: Name,
        at: Str,
    },
    /// `restore clock of c2`: real time again.
    RestoreClock {
        target: Name,
    },
    /// `expect alice resumed within 30s`, `... reconnected`, `... disconnected [with "cond"]`.
    ExpectSession {
        user: Name,
        event: SessionEvent,
        within: Option<Duration>,
    },
    /// `expect cluster c has nodes c1, c2 within 60s` / `expect cluster c split within 30s`.
    ExpectCluster {
        cluster: Name,
        expected: ClusterState,
        within: Option<Duration>,
    },
    /// `expect database pg primary is pg2 within 30s` / `... has replicas pg1 within 60s`.
    ExpectDatabase {
        database: Name,
        expected: DatabaseState,
        within: Option<Duration>,
    },
    /// `switch database pg to pg2`: a planned switchover.
    SwitchDatabase {
        database: Name,
        to: Name,
    },
    Process {
        action: ProcessAction,
        database: bool,
        target: Name,
        /// `kill database pg1 process`: the database process alone, not its node (the span of
        /// `process`); `None`: the whole node, as a machine crash or shutdown would.
        only_process: Option<Span>,
    },
    Chaos(Chaos),
    Parallel(Block),
    Repeat {
        count: Count,
        every: Option<Duration>,
        body: Block,
    },
    CheckDelivery {
        room: Name,
        properties: Vec<(DeliveryProperty, Span)>,
    },
    Call {
        name: Name,
        args: Vec<Argument>,
    },
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct ConnectOptions {
    /// `to c2`: the cluster node to connect to.
    pub node: Option<Name>,
    pub tls: Option<(TlsMode, Span)>,
    pub auth: Option<(AuthMechanism, Span)>,
    /// `with stream-management`: acknowledgements, resumption and reconnection (XEP-0198).
    pub stream_management: Option<Span>,
    /// `with carbons`: copies of the account's other sessions' messages (XEP-0280).
    pub carbons: Option<Span>,
    /// `without presence`: no initial presence (the session stays unavailable).
    pub without_presence: Option<Span>,
}

/// What a session expectation waits for: `expect alice resumed`.
#[derive(Clone, Debug, PartialEq)]
pub enum SessionEvent {
    /// The connection came back and the session resumed (XEP-0198).
    Resumed,
    /// The connection came back with a new session (resumption refused or impossible).
    Reconnected,
    /// The stream ended (or the connection was lost); with a stream error condition, that one.
    Disconnected(Option<Str>),
}

/// How the stream gets TLS.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TlsMode {
    /// Plain TCP, stream opened, `<starttls/>`, then TLS (RFC 6120).
    StartTls,
    /// TLS from the first byte (XEP-0368), ALPN `xmpp-client`.
    DirectTls,
}

/// Which SASL family the session must use; the connect fails with `mechanism-unavailable`
/// rather than silently using another one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AuthMechanism {
    /// SCRAM-SHA-256 or SCRAM-SHA-1 (the -PLUS variant with tls-exporter when the server
    /// advertises that binding, XEP-0440).
    Scram,
    Plain,
    /// SASL EXTERNAL: the TLS client certificate is the credential (XEP-0178).
    External,
    /// GSSAPI with a Kerberos ticket (RFC 4752): single sign-on, the password is not used.
    Gssapi,
}

/// `join alice to ops as "Al" via b`
#[derive(Clone, Debug, PartialEq)]
pub struct Join {
    pub user: Name,
    pub room: Name,
    pub nick: Option<Str>,
    pub via: Option<Name>,
}

/// `expect connect alice with direct-tls fails with "certificate-expired" within 10s`
#[derive(Clone, Debug, PartialEq)]
pub struct ExpectConnectFails {
    pub user: Name,
    pub options: ConnectOptions,
    pub reason: Str,
    pub within: Option<Duration>,
}

/// `expect link a -> b with certificate over direct-tls within 10s`
#[derive(Clone, Debug, PartialEq)]
pub struct ExpectLink {
    pub from: Name,
    pub to: Name,
    pub auth: Option<(LinkAuth, Span)>,
    pub transport: Option<(Transport, Span)>,
    pub within: Option<Duration>,
}

/// `expect archive of ops as alice has 3 messages in order within 10s`
#[derive(Clone, Debug, PartialEq)]
pub struct ExpectArchive {
    pub archive: Name,
    pub reader: Name,
    pub count: Count,
    pub in_order: bool,
    pub within: Option<Duration>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct ExpectReceives {
    pub user: Name,
    /// `next`: the expected stanza, after the one the user's previous `next` expectation took
    /// (in order, as Prosody's scansion scripts read; stanzas in between that nobody expects are
    /// passed over). Live or delayed does not filter it unless `delayed` is written.
    pub next: Option<Span>,
    /// `delayed`: only stanzas delivered late (XEP-0203 `<delay/>`: room history replayed on
    /// join, offline messages) match; without it only live ones do.
    pub delayed: bool,
    /// `strict`: the pattern's children are all the element's children, in the written order.
    pub strict: bool,
    pub expected: Expected,
    pub from: Option<Name>,
    pub in_order: bool,
    pub within: Option<Duration>,
}

/// What a database expectation wants.
#[derive(Clone, Debug, PartialEq)]
pub enum DatabaseState {
    /// This node is the primary (and takes writes).
    Primary(Name),
    /// These nodes are replicas that follow the primary.
    Replicas(Vec<Name>),
}

/// What a cluster expectation wants.
#[derive(Clone, Debug, PartialEq)]
pub enum ClusterState {
    /// Every running node sees exactly these nodes.
    Nodes(Vec<Name>),
    /// The nodes do not all see each other.
    Split(Span),
}

#[derive(Clone, Debug, PartialEq)]
pub enum Expected {
    /// `nothing`: no message stanza of any kind (with or without a body, errors included).
    Nothing(Span),
    /// `no stanzas`: no stanza at all (messages, presences and iqs).
    NoStanzas(Span),
    Messages(Vec<Str>),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LinkAuth {
    Certificate,
    Dialback,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Transport {
    DirectTls,
    StartTls,
}

/// What Kerberos ticket a user holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TicketState {
    /// A fresh ticket-granting ticket (what `connect ... auth gssapi` gets by default).
    Valid,
    /// A ticket whose lifetime has ended.
    Expired,
    /// No ticket at all (as after `kdestroy`).
    None,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CertificateState {
    Valid,
    Expired,
    NotYetValid,
    Revoked,
    WrongHost,
    SelfSigned,
}

impl CertificateState {
    pub const ALL: [CertificateState; 6] = [
        CertificateState::Valid,
        CertificateState::Expired,
        CertificateState::NotYetValid,
        CertificateState::Revoked,
        CertificateState::WrongHost,
        CertificateState::SelfSigned,
    ];

    /// The state as written: `not-yet-valid`.
    pub fn as_str(self) -> &'static str {
        match self {
            CertificateState::Valid => "valid",
            CertificateState::Expired => "expired",
            CertificateState::NotYetValid => "not-yet-valid",
            CertificateState::Revoked => "revoked",
            CertificateState::WrongHost => "wrong-host",
            CertificateState::SelfSigned => "self-signed",
        }
    }
}

/// `a | b`, `{a1, a2} | b`, `a -> b`.
#[derive(Clone, Debug, PartialEq)]
pub struct Cut {
    pub left: Side,
    pub one_way: bool,
    pub right: Side,
    pub span: Span,
    /// `reject` or `close` after a partition; `None` holds packets (a real cut).
    pub mode: Option<(CutStyle, Span)>,
}

/// How a partition treats connections, when not by holding their packets.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CutStyle {
    /// Reset connections at once and refuse new ones.
    Reject,
    /// Close connections with a FIN at once.
    Close,
}

impl CutStyle {
    pub fn as_str(self) -> &'static str {
        match self {
            CutStyle::Reject => "reject",
            CutStyle::Close => "close",
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct Side {
    pub names: Vec<Name>,
    /// Written as a set in braces.
    pub set: bool,
    pub span: Span,
}

/// `a <-> b` or `alice -> a`.
#[derive(Clone, Debug, PartialEq)]
pub struct Link {
    pub from: Name,
    pub to: Name,
    pub both_ways: bool,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Impairment {
    pub kind: ImpairmentKind,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub enum ImpairmentKind {
    Lag {
        delay: Duration,
        jitter: Option<Duration>,
    },
    Drop(Percent),
    Throttle(Duration),
    Duplicate(Percent),
    Reorder(Percent),
    Tamper(Percent),
    Bandwidth(Rate),
    /// `priority xmpp`: within the link's bandwidth, this traffic goes first (QoS).
    Priority(TrafficClass),
}

/// A class of traffic QoS can put first.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TrafficClass {
    /// XMPP's own connections: client-to-server and server-to-server, STARTTLS and Direct TLS.
    Xmpp,
}

impl TrafficClass {
    pub fn as_str(self) -> &'static str {
        match self {
            TrafficClass::Xmpp => "xmpp",
        }
    }
}

impl ImpairmentKind {
    pub fn keyword(&self) -> &'static str {
        match self {
            ImpairmentKind::Lag { .. } => "lag",
            ImpairmentKind::Drop(_) => "drop",
            ImpairmentKind::Throttle(_) => "throttle",
            ImpairmentKind::Duplicate(_) => "duplicate",
            ImpairmentKind::Reorder(_) => "reorder",
            ImpairmentKind::Tamper(_) => "tamper",
            ImpairmentKind::Bandwidth(_) => "bandwidth",
            ImpairmentKind::Priority(_) => "priority",
        }
    }
}

/// What a process fault does (also the commands an environment gives for its external nodes).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ProcessAction {
    Kill,
    Stop,
    Start,
    Restart,
    Pause,
    Resume,
}

impl ProcessAction {
    pub const ALL: [ProcessAction; 6] = [
        ProcessAction::Kill,
        ProcessAction::Stop,
        ProcessAction::Start,
        ProcessAction::Restart,
        ProcessAction::Pause,
        ProcessAction::Resume,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ProcessAction::Kill => "kill",
            ProcessAction::Stop => "stop",
            ProcessAction::Start => "start",
            ProcessAction::Restart => "restart",
            ProcessAction::Pause => "pause",
            ProcessAction::Resume => "resume",
        }
    }
}

/// `chaos seed 42 for 2m { every 10s..30s kill one of c1, c2 }`.
#[derive(Clone, Debug, PartialEq)]
pub struct Chaos {
    pub seed: Option<Count>,
    pub duration: Duration,
    pub rules: Vec<ChaosRule>,
    pub inline: bool,
    pub open_comment: Option<Comment>,
    pub dangling: Dangling,
}

#[derive(Clone, Debug, PartialEq)]
pub struct ChaosRule {
    pub min: Duration,
    /// `every 10s..30s`: the upper bound; `None` for a fixed period.
    pub max: Option<Duration>,
    pub action: ChaosAction,
    /// `for 5s`: how long the fault lasts before chaos heals it.
    pub hold: Option<Duration>,
    pub span: Span,
    pub trivia: Trivia,
}

#[derive(Clone, Debug, PartialEq)]
pub enum ChaosAction {
    /// `kill one of c1, c2`; `kill database one of pg1, pg2` (`database`: the targets are
    /// database nodes, each hit as a whole node).
    Pick(ChaosPick),
    /// A fault statement on a fixed target.
    Fault(Box<StmtKind>),
}

/// `kill one of c1, c2`; `kill database one of pg1, pg2`.
#[derive(Clone, Debug, PartialEq)]
pub struct ChaosPick {
    pub verb: ChaosVerb,
    /// The targets are database nodes, each hit as a whole node.
    pub database: bool,
    pub targets: Vec<Name>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ChaosVerb {
    Kill,
    Stop,
    Restart,
    Pause,
    Isolate,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DeliveryProperty {
    NoLoss,
    NoDuplicates,
    InOrder,
}

/// A procedure argument: a name (`ops`) or a string.
#[derive(Clone, Debug, PartialEq)]
pub enum Argument {
    Name(Name),
    Str(Str),
}

impl Argument {
    pub fn span(&self) -> Span {
        match self {
            Argument::Name(name) => name.span,
            Argument::Str(s) => s.span,
        }
    }
}
