//! A minimal LSP client for tests: spawns `jspec lsp` and speaks JSON-RPC with Content-Length
//! framing over its stdin and stdout, as an editor would.

use std::collections::VecDeque;
use std::io::{BufRead, BufReader, Write};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{Receiver, RecvTimeoutError, channel};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

const TIMEOUT: Duration = Duration::from_secs(20);

pub(crate) struct Client {
    child: Child,
    stdin: ChildStdin,
    incoming: Receiver<Value>,
    /// Notifications that arrived while waiting for a response.
    pending: VecDeque<Value>,
    next_id: i64,
}

impl Client {
    /// Spawns `jspec lsp` and completes the initialize handshake.
    pub(crate) fn start() -> Client {
        Client::start_with(&["lsp"])
    }

    /// Spawns `jspec` with these arguments and completes the initialize handshake.
    pub(crate) fn start_with(args: &[&str]) -> Client {
        let mut child = Command::new(env!("CARGO_BIN_EXE_jspec"))
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("spawn jspec lsp");
        let stdin = child.stdin.take().expect("stdin");
        let stdout = child.stdout.take().expect("stdout");
        let (sender, incoming) = channel();
        std::thread::spawn(move || {
            let mut reader = BufReader::new(stdout);
            while let Some(message) = read_message(&mut reader) {
                if sender.send(message).is_err() {
                    break;
                }
            }
        });
        let mut client = Client {
            child,
            stdin,
            incoming,
            pending: VecDeque::new(),
            next_id: 1,
        };
        let result = client.request(
            "initialize",
            json!({"processId": null, "rootUri": null, "capabilities": {}}),
        );
        assert!(result["capabilities"]["completionProvider"].is_object());
        client.notify("initialized", json!({}));
        client
    }

    pub(crate) fn send(&mut self, message: &Value) {
        let body = message.to_string();
        write!(self.stdin, "Content-Length: {}\r\n\r\n{body}", body.len()).expect("write");
        self.stdin.flush().expect("flush");
    }

    pub(crate) fn notify(&mut self, method: &str, params: Value) {
        self.send(&json!({"jsonrpc": "2.0", "method": method, "params": params}));
    }

    /// Sends a request and returns its result; panics on an error response.
    pub(crate) fn request(&mut self, method: &str, params: Value) -> Value {
        let response = self.request_raw(method, params);
        assert!(response.get("error").is_none(), "{method}: {response}");
        response["result"].clone()
    }

    /// Sends a request and returns the whole response (result or error).
    pub(crate) fn request_raw(&mut self, method: &str, params: Value) -> Value {
        let id = self.next_id;
        self.next_id += 1;
        self.send(&json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params}));
        loop {
            let message = self.receive();
            if message["id"] == json!(id) {
                return message;
            }
            self.pending.push_back(message);
        }
    }

    /// The next notification of a method (earlier ones of other methods are kept).
    pub(crate) fn notification(&mut self, method: &str) -> Value {
        if let Some(index) = self.pending.iter().position(|m| m["method"] == method) {
            return self.pending.remove(index).expect("pending")["params"].clone();
        }
        loop {
            let message = self.receive();
            if message["method"] == method {
                return message["params"].clone();
            }
            self.pending.push_back(message);
        }
    }

    fn receive(&mut self) -> Value {
        let deadline = Instant::now() + TIMEOUT;
        match self
            .incoming
            .recv_timeout(deadline.saturating_duration_since(Instant::now()))
        {
            Ok(message) => message,
            Err(RecvTimeoutError::Timeout) => panic!("no message from jspec lsp in {TIMEOUT:?}"),
            Err(RecvTimeoutError::Disconnected) => panic!("jspec lsp closed its stdout"),
        }
    }

    /// shutdown, exit, and the exit status.
    pub(crate) fn stop(mut self) -> std::process::ExitStatus {
        let result = self.request("shutdown", Value::Null);
        assert_eq!(result, Value::Null);
        self.notify("exit", Value::Null);
        self.wait()
    }

    /// Waits for the server to end (after `exit`, or after its stdin closes).
    pub(crate) fn wait(mut self) -> std::process::ExitStatus {
        self.child.wait().expect("wait")
    }
}

fn read_message(reader: &mut impl BufRead) -> Option<Value> {
    let mut length = None;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).ok()? == 0 {
            return None;
        }
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        if let Some(value) = line.strip_prefix("Content-Length: ") {
            length = value.parse::<usize>().ok();
        }
    }
    let mut body = vec![0; length?];
    reader.read_exact(&mut body).ok()?;
    serde_json::from_slice(&body).ok()
}
