//! Running the krb5 administration commands (kdb5_util, kadmin.local, kinit) against the lab
//! realm's private files, each under a timeout, with errors that name the command and its
//! stderr.

use std::path::{Path, PathBuf};

use tokio::io::AsyncWriteExt;

use super::{COMMAND_TIMEOUT, KdcError};

/// The krb5 programs the lab runs.
pub(super) const PROGRAMS: [&str; 4] = ["krb5kdc", "kdb5_util", "kadmin.local", "kinit"];

/// Where `program` is: on PATH, else in the system folders Debian installs the KDC's tools to
/// (a non-login root shell or a CI runner may lack /usr/sbin on PATH).
pub(super) fn find(program: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain(["/usr/sbin", "/usr/bin", "/sbin"].map(PathBuf::from))
        .map(|dir| dir.join(program))
        .find(|candidate| candidate.is_file())
}

/// `program`'s path when found, else its bare name (the spawn error then says it is missing).
pub(super) fn locate(program: &str) -> PathBuf {
    find(program).unwrap_or_else(|| PathBuf::from(program))
}

/// The realm's private files, passed to each command through the environment.
pub(super) struct Files {
    krb5_conf: String,
    kdc_conf: String,
}

impl Files {
    pub(super) fn of(dir: &Path) -> Files {
        Files {
            krb5_conf: dir.join("krb5.conf").display().to_string(),
            kdc_conf: dir.join("kdc.conf").display().to_string(),
        }
    }

    pub(super) fn envs(&self) -> [(&'static str, String); 2] {
        [
            ("KRB5_CONFIG", self.krb5_conf.clone()),
            ("KRB5_KDC_PROFILE", self.kdc_conf.clone()),
        ]
    }

    pub(super) async fn run(
        &self,
        program: &str,
        args: &[&str],
        stdin: Option<&[u8]>,
    ) -> Result<String, KdcError> {
        let name = format!("{program} {}", args.first().copied().unwrap_or_default());
        self.run_named(name.trim(), program, args, stdin).await
    }

    /// Runs a krb5 command under [`COMMAND_TIMEOUT`]; errors name it (`what`) and its stderr.
    /// kadmin.local reports some failures on stderr with status 0, so stderr lines that are not
    /// known chatter count as failures too.
    pub(super) async fn run_named(
        &self,
        what: &str,
        program: &str,
        args: &[&str],
        stdin: Option<&[u8]>,
    ) -> Result<String, KdcError> {
        let mut command = tokio::process::Command::new(locate(program));
        command
            .args(args)
            .envs(self.envs())
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .kill_on_drop(true);
        let run = async {
            let mut child = command.spawn().map_err(|source| KdcError::Spawn {
                command: what.to_string(),
                source,
            })?;
            if let Some(mut pipe) = child.stdin.take() {
                // A command that does not read stdin closes it; that is not an error.
                let _ = pipe.write_all(stdin.unwrap_or_default()).await;
            }
            child
                .wait_with_output()
                .await
                .map_err(|source| KdcError::Spawn {
                    command: what.to_string(),
                    source,
                })
        };
        let output = tokio::time::timeout(COMMAND_TIMEOUT, run)
            .await
            .map_err(|_| KdcError::Timeout {
                command: what.to_string(),
            })??;
        let stderr = String::from_utf8_lossy(&output.stderr);
        let complaints: Vec<&str> = stderr.lines().filter(|l| !is_chatter(l)).collect();
        if !output.status.success() || !complaints.is_empty() {
            return Err(KdcError::Failed {
                command: what.to_string(),
                status: output.status.to_string(),
                stderr: complaints.join("\n").trim().to_string(),
            });
        }
        Ok(String::from_utf8_lossy(&output.stdout).into_owned())
    }
}

/// Informational stderr lines of kadmin.local and kdb5_util.
fn is_chatter(line: &str) -> bool {
    let line = line.trim();
    line.is_empty()
        || line.starts_with("Authenticating as principal")
        || line.starts_with("No policy specified for")
        || line.starts_with("Loading random data")
        || line.starts_with("Initializing database")
        || line.starts_with("master key name")
        || line.starts_with("You will be prompted")
        || line.starts_with("It is important that you NOT FORGET")
        || line.starts_with("Password for ")
}
