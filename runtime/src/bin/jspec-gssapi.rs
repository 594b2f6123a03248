//! jspec's GSSAPI helper: the client side of SASL GSSAPI (RFC 4752) for one XMPP login, with
//! MIT krb5 through libgssapi. jspec runs one per Kerberos login.
//!
//! Why a process of its own: MIT krb5 takes the realm configuration (KRB5_CONFIG) and the
//! credential cache (KRB5CCNAME) only from the environment, which is process-wide, while jspec
//! runs many users' logins at once, each with its own ticket cache. Setting variables in a
//! running multi-threaded process is unsound (and `unsafe` is forbidden in this workspace); a
//! child process gets exactly its own environment. The krb5 calls block, which is no concern
//! here either.
//!
//! Usage: `jspec-gssapi SERVICE@HOST` with KRB5_CONFIG and KRB5CCNAME as the login needs.
//! Protocol, one line each, byte strings in lower-case hex (possibly empty):
//!   helper -> jspec  `token HEX`            the next client message (the first is <auth/>'s)
//!   jspec -> helper  `challenge HEX`        the server's next challenge
//!   helper -> jspec  `error KIND MESSAGE`   KIND: no-ticket, expired or failed; then it exits
//! The helper exits when its input ends.

use std::io::{BufRead, Write};
use std::process::ExitCode;

use libgssapi::context::{ClientCtx, CtxFlags, SecurityContext};
use libgssapi::credential::{Cred, CredUsage};
use libgssapi::error::{Error, MajorFlags};
use libgssapi::name::Name;
use libgssapi::oid::{GSS_MECH_KRB5, GSS_NT_HOSTBASED_SERVICE, OidSet};

#[path = "../xmpp/hex.rs"]
mod hex;

/// RFC 4752 3.1: security layer bit for "no security layer".
const NO_SECURITY_LAYER: u8 = 0x01;

/// A failure, classified for jspec's message.
struct Failure {
    kind: &'static str,
    message: String,
}

impl Failure {
    fn gss(doing: &str, error: &Error) -> Failure {
        let text = error.to_string();
        let kind = if error.major.contains(MajorFlags::GSS_S_CREDENTIALS_EXPIRED)
            || text.contains("expired")
        {
            "expired"
        } else if error.major.contains(MajorFlags::GSS_S_NO_CRED)
            || text.contains("No credentials cache found")
            || text.contains("No Kerberos credentials available")
        {
            "no-ticket"
        } else {
            "failed"
        };
        Failure {
            kind,
            message: format!("{doing}: {}", text.trim()),
        }
    }

    fn protocol(message: impl Into<String>) -> Failure {
        Failure {
            kind: "failed",
            message: message.into(),
        }
    }
}

fn main() -> ExitCode {
    let Some(target) = std::env::args().nth(1) else {
        eprintln!("usage: jspec-gssapi SERVICE@HOST (see the source for the protocol)");
        return ExitCode::from(2);
    };
    let mut out = std::io::stdout().lock();
    match run(&target, &mut std::io::stdin().lock(), &mut out) {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => {
            // One line: the message of a GSS error may span several.
            let message = failure.message.replace('\n', " ");
            let _ = writeln!(out, "error {} {message}", failure.kind);
            let _ = out.flush();
            ExitCode::FAILURE
        }
    }
}

fn run(target: &str, input: &mut impl BufRead, out: &mut impl Write) -> Result<(), Failure> {
    let mechs = OidSet::singleton(GSS_MECH_KRB5)
        .map_err(|e| Failure::gss("selecting the Kerberos mechanism", &e))?;
    let name = Name::new(target.as_bytes(), Some(GSS_NT_HOSTBASED_SERVICE))
        .and_then(|n| n.canonicalize(Some(GSS_MECH_KRB5)))
        .map_err(|e| Failure::gss(&format!("naming the service {target}"), &e))?;
    let cred = Cred::acquire(None, None, CredUsage::Initiate, Some(&mechs))
        .map_err(|e| Failure::gss("reading the ticket cache", &e))?;
    // Acquiring succeeds on an expired ticket; its remaining lifetime tells.
    if cred.lifetime().is_ok_and(|left| left.is_zero()) {
        return Err(Failure {
            kind: "expired",
            message: "the ticket-granting ticket in the cache has expired".into(),
        });
    }
    let flags = CtxFlags::GSS_C_MUTUAL_FLAG | CtxFlags::GSS_C_INTEG_FLAG;
    let mut ctx = ClientCtx::new(Some(cred), name, flags, Some(GSS_MECH_KRB5));
    let first = ctx
        .step(None, None)
        .map_err(|e| Failure::gss(&format!("getting a ticket for {target}"), &e))?;
    send(out, first.as_deref().unwrap_or_default())?;
    let mut established = false;
    loop {
        let Some(challenge) = receive(input)? else {
            return Ok(());
        };
        if !established {
            let token = ctx
                .step(Some(&challenge), None)
                .map_err(|e| Failure::gss("completing the security context", &e))?;
            established = ctx.is_complete();
            // An empty answer when the mechanism has nothing more to say (RFC 4752 3.1).
            send(out, token.as_deref().unwrap_or_default())?;
            continue;
        }
        // The context is up: this challenge is the server's security-layer offer.
        let offer = ctx
            .unwrap(&challenge)
            .map_err(|e| Failure::gss("reading the security-layer offer", &e))?;
        if offer.len() != 4 {
            return Err(Failure::protocol(format!(
                "the security-layer offer has {} bytes, not 4",
                offer.len()
            )));
        }
        if offer[0] & NO_SECURITY_LAYER == 0 {
            return Err(Failure::protocol(
                "the server requires a security layer; jspec relies on TLS and offers none",
            ));
        }
        // No layer, maximum buffer 0, no authorization identity: the authenticated one.
        let answer = ctx
            .wrap(false, &[NO_SECURITY_LAYER, 0, 0, 0])
            .map_err(|e| Failure::gss("answering the security-layer offer", &e))?;
        send(out, &answer)?;
    }
}

fn send(out: &mut impl Write, bytes: &[u8]) -> Result<(), Failure> {
    writeln!(out, "token {}", hex::encode(bytes))
        .and_then(|()| out.flush())
        .map_err(|e| Failure::protocol(format!("writing to jspec: {e}")))
}

/// The next challenge; `None` when jspec closed the input (done or given up).
fn receive(input: &mut impl BufRead) -> Result<Option<Vec<u8>>, Failure> {
    let mut line = String::new();
    let read = input
        .read_line(&mut line)
        .map_err(|e| Failure::protocol(format!("reading from jspec: {e}")))?;
    if read == 0 {
        return Ok(None);
    }
    let digits = line
        .trim_end()
        .strip_prefix("challenge ")
        .or_else(|| (line.trim_end() == "challenge").then_some(""))
        .ok_or_else(|| Failure::protocol(format!("unexpected line from jspec: {line:?}")))?;
    hex::decode(digits)
        .map(Some)
        .ok_or_else(|| Failure::protocol("a challenge that is not hex"))
}
