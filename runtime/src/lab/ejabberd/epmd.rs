//! A private epmd (Erlang's port mapper) per cluster: on its own port, on the cluster's
//! addresses, in the foreground so that we own its PID. It starts before any node and stops
//! after the last; nodes run with `-start_epmd false` so that none ever starts its own.

use std::net::{Ipv4Addr, SocketAddr, TcpListener};
use std::path::Path;
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};

use super::EjabberdError;
use crate::lab::process::{ManagedProcess, STOP_GRACE};
use crate::lab::prosody::in_namespace;

/// epmd listens at once; this bounds a machine under load.
const READY_TIMEOUT: Duration = Duration::from_secs(10);
const QUERY_TIMEOUT: Duration = Duration::from_secs(2);
/// Where [`free_port`] looks (4369 is the system epmd's).
const PORT_RANGE: std::ops::Range<u16> = 4400..4900;

/// A running private epmd.
#[derive(Debug)]
pub struct Epmd {
    pub name: String,
    pub addresses: Vec<Ipv4Addr>,
    pub port: u16,
    process: ManagedProcess,
}

impl Epmd {
    /// Starts `epmd -port PORT -address A1,A2...` (it also always listens on 127.0.0.1 and ::1
    /// of its namespace) and waits until it answers on every address. Its log is
    /// `dir/<name>.log`.
    pub async fn start(
        name: &str,
        addresses: &[Ipv4Addr],
        port: u16,
        netns: Option<&str>,
        dir: &Path,
    ) -> Result<Epmd, EjabberdError> {
        let failed = |reason: String, tail: String| EjabberdError::Epmd {
            name: name.to_string(),
            port,
            reason,
            tail,
        };
        let Some(&first) = addresses.first() else {
            return Err(failed("no address to listen on".into(), String::new()));
        };
        std::fs::create_dir_all(dir).map_err(|source| EjabberdError::Write {
            node: name.to_string(),
            path: dir.to_path_buf(),
            source,
        })?;
        let port_arg = port.to_string();
        let address_arg = addresses
            .iter()
            .map(Ipv4Addr::to_string)
            .collect::<Vec<_>>()
            .join(",");
        let (program, args) = in_namespace(
            netns,
            "epmd",
            &["-port", &port_arg, "-address", &address_arg],
        );
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let log = dir.join(format!("{name}.log"));
        let mut process = ManagedProcess::spawn(name, &program, &args, &log, &[])?;
        let started = Instant::now();
        loop {
            if let Some(status) = process.exit_status() {
                return Err(failed(
                    format!("it exited ({status}); is the port taken?"),
                    process.log_tail(10),
                ));
            }
            let mut answering = true;
            for &address in addresses {
                if registered_names(SocketAddr::from((address, port)))
                    .await
                    .is_err()
                {
                    answering = false;
                    break;
                }
            }
            if answering {
                break;
            }
            if started.elapsed() > READY_TIMEOUT {
                process.kill().await;
                return Err(failed(
                    format!(
                        "it did not answer on {first}:{port} within {}s",
                        READY_TIMEOUT.as_secs()
                    ),
                    String::new(),
                ));
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        tracing::debug!(
            name,
            port,
            elapsed_ms = started.elapsed().as_millis() as u64,
            "epmd ready"
        );
        Ok(Epmd {
            name: name.to_string(),
            addresses: addresses.to_vec(),
            port,
            process,
        })
    }

    pub fn pid(&self) -> u32 {
        self.process.pid()
    }

    /// The short names of the Erlang nodes registered now.
    pub async fn names(&self) -> std::io::Result<Vec<String>> {
        let address = self
            .addresses
            .first()
            .copied()
            .unwrap_or(Ipv4Addr::LOCALHOST);
        registered_names(SocketAddr::from((address, self.port))).await
    }

    /// SIGTERM, grace, SIGKILL. Call it after every node of the cluster has stopped.
    pub async fn stop(self) {
        self.process.stop(STOP_GRACE).await;
    }
}

/// Asks the epmd at `addr` for its registered names (NAMES_REQ: a 2-byte length and `n`;
/// the answer is epmd's port in 4 bytes, then lines `name c1 at port 40123`).
pub(crate) async fn registered_names(addr: SocketAddr) -> std::io::Result<Vec<String>> {
    let query = async {
        let mut stream = tokio::net::TcpStream::connect(addr).await?;
        stream.write_all(&[0, 1, b'n']).await?;
        let mut answer = Vec::new();
        stream.read_to_end(&mut answer).await?;
        Ok::<_, std::io::Error>(answer)
    };
    let answer = tokio::time::timeout(QUERY_TIMEOUT, query)
        .await
        .map_err(|_| std::io::Error::new(std::io::ErrorKind::TimedOut, "epmd did not answer"))??;
    if answer.len() < 4 {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            "short answer from epmd",
        ));
    }
    Ok(parse_names(&String::from_utf8_lossy(&answer[4..])))
}

fn parse_names(text: &str) -> Vec<String> {
    text.lines()
        .filter_map(|line| line.strip_prefix("name ")?.split(" at port ").next())
        .map(str::to_string)
        .collect()
}

/// A port in 4400-4899 that is free on 127.0.0.1 and on every one of `addresses` (epmd
/// listens on loopback too), starting from a place chosen by the process id so that
/// parallel runs rarely try the same one.
pub fn free_port(addresses: &[Ipv4Addr]) -> Option<u16> {
    let span = PORT_RANGE.end - PORT_RANGE.start;
    let offset = (std::process::id() % u32::from(span)) as u16;
    (0..span)
        .map(|i| PORT_RANGE.start + (offset + i) % span)
        .find(|&port| {
            std::iter::once(Ipv4Addr::LOCALHOST)
                .chain(addresses.iter().copied())
                .all(|address| TcpListener::bind((address, port)).is_ok())
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_come_from_the_name_lines() {
        let text = "name c1 at port 40123\nname abc-ctl-c1 at port 40200\n";
        assert_eq!(parse_names(text), ["c1", "abc-ctl-c1"]);
        assert!(parse_names("").is_empty());
    }

    #[test]
    fn a_free_port_is_bindable() {
        let port = free_port(&[Ipv4Addr::LOCALHOST]).expect("a free port");
        assert!(PORT_RANGE.contains(&port));
    }
}
