//! ejabberdctl for the lab: a private copy of Debian's script that runs as root and execs
//! Erlang, and bounded admin calls through it (each costs 0.5 s of Erlang start-up).

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::ExitStatus;
use std::time::Duration;

use super::EjabberdError;
use crate::lab::prosody::in_namespace;

/// Debian's script.
pub const EJABBERDCTL: &str = "/usr/sbin/ejabberdctl";

/// Environment a faked clock is made of: admin calls must not inherit it.
const FAKETIME_VARIABLES: [&str; 5] = [
    "LD_PRELOAD",
    "FAKETIME",
    "FAKETIME_TIMESTAMP_FILE",
    "FAKETIME_NO_CACHE",
    "FAKETIME_DONT_FAKE_MONOTONIC",
];

/// Writes the private ejabberdctl to `path`: `INSTALLUSER=` emptied (Debian's re-execs as
/// user ejabberd when root), and commands exec'd rather than forked, so that `foreground`
/// leaves the beam with the PID we spawned and a timed-out call leaves no Erlang behind.
/// (With exec, `started`/`stopped` and the script's own mkdir of the spool cannot work: the
/// lab never uses them and creates the spool itself.)
pub(crate) fn write_private_script(node: &str, path: &Path) -> Result<(), EjabberdError> {
    let script = |reason: String| EjabberdError::Script {
        node: node.to_string(),
        path: PathBuf::from(EJABBERDCTL),
        reason,
    };
    let original = std::fs::read_to_string(EJABBERDCTL).map_err(|e| script(e.to_string()))?;
    let private = private_script(&original).map_err(script)?;
    let write_error = |source| EjabberdError::Write {
        node: node.to_string(),
        path: path.to_path_buf(),
        source,
    };
    std::fs::write(path, private).map_err(write_error)?;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).map_err(write_error)
}

fn private_script(original: &str) -> Result<String, String> {
    const EDITS: [(&str, &str); 2] = [
        ("INSTALLUSER=ejabberd\n", "INSTALLUSER=\n"),
        (
            "        as_current_user) \"$@\" ;;\n",
            "        as_current_user) exec \"$@\" ;;\n",
        ),
    ];
    let mut text = original.to_string();
    for (from, to) in EDITS {
        if text.matches(from).count() != 1 {
            return Err(format!(
                "expected the line `{}` once (not ejabberd 23.01's script?)",
                from.trim()
            ));
        }
        text = text.replacen(from, to, 1);
    }
    // The root warning on every call is noise in the lab's logs and outputs.
    let warning =
        "            echo \"WARNING: It is not recommended to run ejabberd as root\" >&2\n";
    Ok(text.replacen(warning, "", 1))
}

/// What an admin call printed and how it ended.
#[derive(Debug)]
pub(crate) struct CtlOutput {
    pub(crate) status: ExitStatus,
    pub(crate) stdout: String,
    pub(crate) stderr: String,
}

impl CtlOutput {
    pub(crate) fn text(&self) -> String {
        format!("{}{}", self.stdout, self.stderr).trim().to_string()
    }
}

/// How to run the private ejabberdctl of one node.
#[derive(Clone, Debug)]
pub(crate) struct Ctl {
    /// `c1@127.x.y.z (cluster c)`, for errors.
    pub(crate) label: String,
    pub(crate) script: PathBuf,
    pub(crate) config_dir: PathBuf,
    pub(crate) netns: Option<String>,
}

impl Ctl {
    /// The program and arguments of `ejabberdctl --config-dir DIR args...`, in the namespace.
    pub(crate) fn command_line(&self, args: &[&str]) -> (String, Vec<String>) {
        let config_dir = self.config_dir.display().to_string();
        let mut all = vec!["--config-dir", config_dir.as_str()];
        all.extend_from_slice(args);
        in_namespace(
            self.netns.as_deref(),
            &self.script.display().to_string(),
            &all,
        )
    }

    /// Runs one admin call, killed after `timeout`; any exit status is returned.
    pub(crate) async fn run(
        &self,
        args: &[&str],
        timeout: Duration,
    ) -> Result<CtlOutput, EjabberdError> {
        let (program, all) = self.command_line(args);
        let mut command = tokio::process::Command::new(&program);
        command
            .args(&all)
            .stdin(std::process::Stdio::null())
            .kill_on_drop(true);
        for variable in FAKETIME_VARIABLES {
            command.env_remove(variable);
        }
        let output = tokio::time::timeout(timeout, command.output())
            .await
            .map_err(|_| EjabberdError::CtlTimeout {
                node: self.label.clone(),
                command: args.join(" "),
                seconds: timeout.as_secs(),
            })?
            .map_err(|source| EjabberdError::Spawn {
                node: self.label.clone(),
                program: program.clone(),
                source,
            })?;
        Ok(CtlOutput {
            status: output.status,
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        })
    }

    /// Runs one admin call and returns its standard output; a failure carries the output.
    pub(crate) async fn call(
        &self,
        args: &[&str],
        timeout: Duration,
    ) -> Result<String, EjabberdError> {
        let output = self.run(args, timeout).await?;
        if output.status.success() {
            Ok(output.stdout)
        } else {
            Err(EjabberdError::Ctl {
                node: self.label.clone(),
                command: args.join(" "),
                status: output.status.to_string(),
                output: output.text(),
            })
        }
    }
}

/// `list_cluster` prints one `'c1@127.0.0.1'` per line.
pub(crate) fn parse_node_list(text: &str) -> Vec<String> {
    let mut nodes: Vec<String> = text
        .lines()
        .map(|line| line.trim().trim_matches('\'').to_string())
        .filter(|line| line.contains('@') && !line.contains(' '))
        .collect();
    nodes.sort();
    nodes
}

/// `status` exits 0 and says "is running" only once the ejabberd application has started;
/// while it starts it prints "is starting with status: started" (sic), exit 1.
pub(crate) fn says_started(output: &CtlOutput) -> bool {
    output.status.success() && output.stdout.contains("is running in that node")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_private_script_runs_as_root_and_execs() {
        let original = "INSTALLUSER=ejabberd\ncase x in\n        as_current_user) \"$@\" ;;\nesac\n            echo \"WARNING: It is not recommended to run ejabberd as root\" >&2\n";
        let private = private_script(original).expect("edits apply");
        assert!(private.contains("INSTALLUSER=\n"));
        assert!(private.contains("as_current_user) exec \"$@\" ;;"));
        assert!(!private.contains("WARNING"));
        assert!(private_script("INSTALLUSER=root\n").is_err());
    }

    #[test]
    fn the_installed_script_takes_the_edits() {
        if let Ok(original) = std::fs::read_to_string(EJABBERDCTL) {
            private_script(&original).expect("Debian's ejabberdctl takes the edits");
        }
    }

    #[test]
    fn node_lists_lose_quotes_and_noise() {
        let text = "'c2@127.251.1.2'\n'c1@127.251.1.1'\n\n";
        assert_eq!(parse_node_list(text), ["c1@127.251.1.1", "c2@127.251.1.2"]);
        assert!(parse_node_list("Failed RPC connection to the node 'x@y': nodedown").is_empty());
    }
}
