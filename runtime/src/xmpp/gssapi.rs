//! SASL GSSAPI (RFC 4752): Kerberos single sign-on. The GSS-API side runs in the `jspec-gssapi`
//! helper (src/bin/jspec-gssapi.rs), one per login, with the login's own KRB5CCNAME and
//! KRB5_CONFIG — krb5 reads them only from the environment, which is process-wide. This side
//! carries tokens between the helper and the server and turns failures into failure reasons.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use minidom::Element;
use minidom::rxml::xml_ncname;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader, Lines};
use tokio::process::{Child, ChildStdin, ChildStdout, Command};
use xmpp_parsers::sasl::{Auth, Mechanism as XmppMechanism, Response};

use super::config::ConnectConfig;
use super::error::{ConnectError, FailureReason};
use super::hex;
use super::sasl::{failure, payload};
use super::wire::{self, Bound, NS_SASL, Stream};

const MECHANISM: &str = "GSSAPI";
/// The GSSAPI service of XMPP (RFC 6120 6.3.9): tickets are for `xmpp/<domain>`.
const SERVICE: &str = "xmpp";
const HELPER: &str = "jspec-gssapi";
/// How long the helper gets to exit once its input is closed.
const HELPER_EXIT: Duration = Duration::from_secs(2);

/// Runs the exchange; on success returns the mechanism name. The caller resets the stream.
pub(crate) async fn authenticate(
    stream: &mut Stream,
    config: &ConnectConfig,
    offered: &BTreeSet<String>,
    bound: &Bound,
) -> Result<String, ConnectError> {
    if !offered.contains(MECHANISM) {
        let list: Vec<&str> = offered.iter().map(String::as_str).collect();
        return Err(ConnectError::new(
            FailureReason::MechanismUnavailable,
            format!("GSSAPI not offered (server offers: {})", list.join(", ")),
        ));
    }
    if let Some(ccache) = &config.kerberos.ccache {
        // Checked here for a clear message, and because MIT krb5 1.20 crashes on an empty cache
        // file (a bad free in krb5_cccol_have_content).
        match std::fs::metadata(ccache) {
            Err(_) => {
                let why = format!("no credential cache at {}", ccache.display());
                return Err(no_ticket(config, &why));
            }
            Ok(meta) if meta.len() == 0 => {
                let why = format!("the credential cache {} is empty", ccache.display());
                return Err(no_ticket(config, &why));
            }
            Ok(_) => {}
        }
    }
    let mut helper = Helper::start(config)?;
    let result = exchange(stream, config, &mut helper, bound).await;
    helper.finish().await;
    result
}

async fn exchange(
    stream: &mut Stream,
    config: &ConnectConfig,
    helper: &mut Helper,
    bound: &Bound,
) -> Result<String, ConnectError> {
    let stage = "authenticating";
    let initial = helper.next_token(config, bound).await?;
    // xmpp-parsers has no GSSAPI variant: its <auth/> encodes the data, the element is ours.
    let encoded = Element::from(Auth {
        mechanism: XmppMechanism::Plain,
        data: initial,
    })
    .text();
    let auth = Element::builder("auth", NS_SASL)
        .attr(xml_ncname!("mechanism").into(), MECHANISM)
        .append(encoded)
        .build();
    tracing::debug!(mechanism = MECHANISM, "SASL start");
    wire::send(stream, &auth, stage, bound).await?;
    loop {
        let el = wire::next_element(stream, stage, bound).await?;
        if el.ns() != NS_SASL {
            return Err(ConnectError::new(
                FailureReason::StreamError,
                format!("unexpected <{}/> during SASL", el.name()),
            ));
        }
        match el.name() {
            "challenge" => {
                helper.challenge(&payload(el)?, bound).await?;
                let data = helper.next_token(config, bound).await?;
                wire::send(stream, &Element::from(Response { data }), stage, bound).await?;
            }
            // The server's success carries no data in GSSAPI: mutual authentication already
            // happened inside the context.
            "success" => return Ok(MECHANISM.to_owned()),
            "failure" => return Err(failure(MECHANISM, &el)),
            other => {
                return Err(ConnectError::new(
                    FailureReason::StreamError,
                    format!("unexpected SASL element <{other}/>"),
                ));
            }
        }
    }
}

/// The running helper and its pipes.
struct Helper {
    child: Child,
    input: Option<ChildStdin>,
    output: Lines<BufReader<ChildStdout>>,
}

impl Helper {
    fn start(config: &ConnectConfig) -> Result<Helper, ConnectError> {
        let program = helper_program(config.kerberos.helper.as_deref());
        let mut command = Command::new(&program);
        command
            .arg(format!("{SERVICE}@{}", config.domain))
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .kill_on_drop(true);
        if let Some(ccache) = &config.kerberos.ccache {
            command.env("KRB5CCNAME", format!("FILE:{}", ccache.display()));
        }
        if let Some(krb5_config) = &config.kerberos.krb5_config {
            command.env("KRB5_CONFIG", krb5_config);
        }
        let mut child = command.spawn().map_err(|e| {
            ConnectError::new(
                FailureReason::AuthFailed,
                format!(
                    "cannot start the GSSAPI helper {}: {e} (build it with `cargo build -p \
                     jspec-runtime --bin {HELPER}`, or set JSPEC_GSSAPI_HELPER)",
                    program.display()
                ),
            )
        })?;
        let (Some(input), Some(output)) = (child.stdin.take(), child.stdout.take()) else {
            return Err(ConnectError::new(
                FailureReason::AuthFailed,
                "the GSSAPI helper has no pipes",
            ));
        };
        Ok(Helper {
            child,
            input: Some(input),
            output: BufReader::new(output).lines(),
        })
    }

    /// The helper's next message for the server, or its classified failure.
    async fn next_token(
        &mut self,
        config: &ConnectConfig,
        bound: &Bound,
    ) -> Result<Vec<u8>, ConnectError> {
        let line = bound
            .run("waiting for the GSSAPI helper", self.output.next_line())
            .await?
            .map_err(|e| helper_broke(&format!("reading its output: {e}")))?;
        let Some(line) = line else {
            let status = self.exit_status().await;
            return Err(helper_broke(&format!(
                "it exited without answering ({status})"
            )));
        };
        match line.split_once(' ').unwrap_or((line.as_str(), "")) {
            ("token", digits) => {
                hex::decode(digits).ok_or_else(|| helper_broke("a token not in hex"))
            }
            ("error", rest) => Err(helper_failure(config, rest)),
            _ => Err(helper_broke(&format!("unexpected output {line:?}"))),
        }
    }

    async fn challenge(&mut self, data: &[u8], bound: &Bound) -> Result<(), ConnectError> {
        let line = format!("challenge {}\n", hex::encode(data));
        let Some(input) = self.input.as_mut() else {
            return Err(helper_broke("its input is closed"));
        };
        bound
            .run(
                "talking to the GSSAPI helper",
                input.write_all(line.as_bytes()),
            )
            .await?
            .map_err(|e| helper_broke(&format!("writing to it: {e}")))
    }

    /// How it ended (its output is closed, so it has or is about to).
    async fn exit_status(&mut self) -> String {
        match tokio::time::timeout(HELPER_EXIT, self.child.wait()).await {
            Ok(Ok(status)) => status.to_string(),
            Ok(Err(e)) => format!("status unknown: {e}"),
            Err(_) => "still running".to_string(),
        }
    }

    /// Closes its input (it exits then) and reaps it; killed if it lingers.
    async fn finish(mut self) {
        self.input = None;
        if tokio::time::timeout(HELPER_EXIT, self.child.wait())
            .await
            .is_err()
        {
            let _ = self.child.start_kill();
            let _ = self.child.wait().await;
        }
    }
}

/// Where the helper is: configured, `JSPEC_GSSAPI_HELPER`, beside the running program (or one
/// folder up, where cargo puts binaries next to a test's `deps/`), else PATH.
fn helper_program(configured: Option<&Path>) -> PathBuf {
    if let Some(path) = configured {
        return path.to_path_buf();
    }
    if let Some(path) = std::env::var_os("JSPEC_GSSAPI_HELPER") {
        return PathBuf::from(path);
    }
    let beside = std::env::current_exe().ok().and_then(|exe| {
        exe.ancestors()
            .skip(1)
            .take(2)
            .map(|dir| dir.join(HELPER))
            .find(|candidate| candidate.is_file())
    });
    beside.unwrap_or_else(|| PathBuf::from(HELPER))
}

/// `error KIND MESSAGE` from the helper, as the failure a test expects.
fn helper_failure(config: &ConnectConfig, rest: &str) -> ConnectError {
    let (kind, detail) = rest.split_once(' ').unwrap_or((rest, ""));
    match kind {
        "no-ticket" => no_ticket(config, detail),
        "expired" => ConnectError::new(
            FailureReason::AuthFailed,
            format!("the Kerberos ticket has expired (kinit again): {detail}"),
        ),
        _ => ConnectError::new(
            FailureReason::AuthFailed,
            format!("GSSAPI failed: {detail}"),
        ),
    }
}

fn no_ticket(config: &ConnectConfig, detail: &str) -> ConnectError {
    ConnectError::new(
        FailureReason::AuthFailed,
        format!(
            "no Kerberos ticket for {} (kinit first): {detail}",
            config.username
        ),
    )
}

fn helper_broke(what: &str) -> ConnectError {
    ConnectError::new(
        FailureReason::AuthFailed,
        format!("the GSSAPI helper failed: {what}"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    fn config() -> ConnectConfig {
        let addr = std::net::SocketAddr::from(([127, 0, 0, 1], 5222));
        let trust = Arc::new(rustls::RootCertStore::empty());
        ConnectConfig::new(addr, "a.test", "alice", "", trust)
    }

    #[test]
    fn helper_errors_say_what_is_wrong() {
        let e = helper_failure(
            &config(),
            "no-ticket reading the ticket cache: No credentials",
        );
        assert_eq!(e.reason(), Some(FailureReason::AuthFailed));
        assert!(
            e.message()
                .starts_with("no Kerberos ticket for alice (kinit first)")
        );
        let e = helper_failure(&config(), "expired the ticket has expired");
        assert!(e.message().starts_with("the Kerberos ticket has expired"));
        let e = helper_failure(&config(), "failed something else");
        assert_eq!(e.message(), "GSSAPI failed: something else");
    }

    #[test]
    fn configured_helper_wins() {
        let path = Path::new("/opt/jspec/jspec-gssapi");
        assert_eq!(helper_program(Some(path)), path);
    }
}
