//! The data folder of a lab PostgreSQL: owned by the system user `postgres` (PostgreSQL refuses
//! to run as root), reachable by that user, and initialised once with `initdb`.

use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::time::Duration;

use super::{PG_BIN, PostgresError, run_bounded};

/// The system user the server and `initdb` run as.
pub(crate) const POSTGRES_USER: &str = "postgres";

/// initdb takes about 1 s here with `--no-sync`; a loaded machine gets much more.
const INITDB_TIMEOUT: Duration = Duration::from_secs(60);

/// The uid and gid of the `postgres` user.
pub(crate) fn postgres_ids(role: &str) -> Result<(u32, u32), PostgresError> {
    match nix::unistd::User::from_name(POSTGRES_USER) {
        Ok(Some(user)) => Ok((user.uid.as_raw(), user.gid.as_raw())),
        _ => Err(PostgresError::NoPostgresUser {
            role: role.to_string(),
        }),
    }
}

/// `setpriv` runs a program as `postgres` by exec (unlike `runuser`, which forks and waits),
/// so the PID we hold is the program's own.
pub(crate) fn as_postgres(program: &str, args: &[&str]) -> (String, Vec<String>) {
    let mut all = vec![
        format!("--reuid={POSTGRES_USER}"),
        format!("--regid={POSTGRES_USER}"),
        "--init-groups".to_string(),
        "--".to_string(),
        program.to_string(),
    ];
    all.extend(args.iter().map(|arg| arg.to_string()));
    ("setpriv".to_string(), all)
}

/// Creates `data` owned by `postgres` with mode 700 and runs `initdb` in it, unless it holds a
/// cluster already (the data folder survives stop and start).
pub(crate) async fn prepare(role: &str, data: &Path) -> Result<(), PostgresError> {
    if data.join("PG_VERSION").exists() {
        return Ok(());
    }
    let (uid, gid) = postgres_ids(role)?;
    let write_error = |source| PostgresError::Write {
        role: role.to_string(),
        path: data.to_path_buf(),
        source,
    };
    std::fs::create_dir_all(data).map_err(write_error)?;
    nix::unistd::chown(
        data,
        Some(nix::unistd::Uid::from_raw(uid)),
        Some(nix::unistd::Gid::from_raw(gid)),
    )
    .map_err(|errno| write_error(std::io::Error::from(errno)))?;
    std::fs::set_permissions(data, std::fs::Permissions::from_mode(0o700)).map_err(write_error)?;
    check_reachable(role, data, uid)?;
    let data_arg = data.display().to_string();
    let initdb = format!("{PG_BIN}/initdb");
    // Trust is fine: the server listens only on a lab loopback address. No fsync: lab data
    // is thrown away, and a process crash (what the lab simulates) loses nothing without it.
    let (program, args) = as_postgres(
        &initdb,
        &[
            "-D",
            &data_arg,
            "-A",
            "trust",
            "-U",
            POSTGRES_USER,
            "-E",
            "UTF8",
            "--locale=C",
            "--no-sync",
        ],
    );
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let output = run_bounded(role, "initdb", &program, &args, &[], INITDB_TIMEOUT).await?;
    if !output.status.success() {
        return Err(PostgresError::Command {
            role: role.to_string(),
            what: "initdb".into(),
            status: output.status.to_string(),
            output: output.text(),
        });
    }
    // initdb lets in loopback only; on the packet plane the nodes come from the lab's bridge.
    // `samenet`: the subnet of the address the server listens on, nothing wider.
    let hba = data.join("pg_hba.conf");
    let mut rules = std::fs::read_to_string(&hba).map_err(write_error)?;
    rules.push_str(
        "# jspec lab: the server's own subnet (the lab's nodes)\nhost all all samenet trust\n",
    );
    std::fs::write(&hba, rules).map_err(write_error)?;
    Ok(())
}

/// The user `postgres` must be able to walk down to the data folder; a private temporary
/// folder (mode 700, owned by root) on the way stops it with a confusing message.
fn check_reachable(role: &str, data: &Path, uid: u32) -> Result<(), PostgresError> {
    for ancestor in data.ancestors().skip(1) {
        let Ok(metadata) = std::fs::metadata(ancestor) else {
            continue;
        };
        let others_enter = metadata.mode() & 0o001 != 0;
        if !others_enter && metadata.uid() != uid {
            return Err(PostgresError::Unreachable {
                role: role.to_string(),
                path: PathBuf::from(ancestor),
            });
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn programs_run_as_postgres_by_exec() {
        let (program, args) = as_postgres("/usr/bin/true", &["-x"]);
        assert_eq!(program, "setpriv");
        assert_eq!(
            args,
            [
                "--reuid=postgres",
                "--regid=postgres",
                "--init-groups",
                "--",
                "/usr/bin/true",
                "-x"
            ]
        );
    }

    #[test]
    fn a_private_folder_on_the_way_is_named() {
        let dir = tempfile::tempdir().expect("temp dir");
        std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o700))
            .expect("chmod");
        let data = dir.path().join("pg").join("data");
        let error = check_reachable("db", &data, u32::MAX - 1).expect_err("unreachable");
        assert!(
            error
                .to_string()
                .contains(&dir.path().display().to_string()),
            "{error}"
        );
    }
}
