//! Talking to a lab PostgreSQL over TCP with its own client programs: `pg_isready` for
//! readiness, `psql` for roles, databases, schemas and queries. Every call is bounded.

use std::path::Path;
use std::process::ExitStatus;
use std::time::Duration;

use super::{PG_BIN, Postgres, PostgresError};
use crate::lab::prosody::in_namespace;

/// `psql` over loopback answers in milliseconds; loading a schema takes about 0.2 s.
const PSQL_TIMEOUT: Duration = Duration::from_secs(30);
const PROBE_TIMEOUT: Duration = Duration::from_secs(3);

/// What a one-shot command printed and how it ended.
pub(crate) struct CommandOutput {
    pub(crate) status: ExitStatus,
    pub(crate) stdout: String,
    pub(crate) stderr: String,
}

impl CommandOutput {
    /// Both streams, for error messages.
    pub(crate) fn text(&self) -> String {
        format!("{}{}", self.stdout, self.stderr).trim().to_string()
    }
}

/// Runs a one-shot command, killed if it outlives `timeout`. The working folder is `/` so
/// that programs running as `postgres` do not complain about root's.
pub(crate) async fn run_bounded(
    role: &str,
    what: &str,
    program: &str,
    args: &[&str],
    envs: &[(&str, &str)],
    timeout: Duration,
) -> Result<CommandOutput, PostgresError> {
    let mut command = tokio::process::Command::new(program);
    command
        .args(args)
        .current_dir("/")
        .stdin(std::process::Stdio::null())
        .kill_on_drop(true);
    for (key, value) in envs {
        command.env(key, value);
    }
    let output = tokio::time::timeout(timeout, command.output())
        .await
        .map_err(|_| PostgresError::Command {
            role: role.to_string(),
            what: what.to_string(),
            status: format!("timed out after {}s", timeout.as_secs()),
            output: String::new(),
        })?
        .map_err(|source| PostgresError::Spawn {
            role: role.to_string(),
            program: program.to_string(),
            source,
        })?;
    Ok(CommandOutput {
        status: output.status,
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    })
}

/// Names that go into SQL unquoted: lower-case letters, digits and `_`, not starting with a
/// digit (so that no quoting rules are needed).
fn check_identifier(role: &str, kind: &str, name: &str) -> Result<(), PostgresError> {
    let fine = name
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_lowercase() || c == '_')
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
        && name.len() <= 63;
    match fine {
        true => Ok(()),
        false => Err(PostgresError::Invalid {
            role: role.to_string(),
            reason: format!(
                "{kind} name `{name}` must be lower-case letters, digits and _ (at most 63)"
            ),
        }),
    }
}

/// A SQL string literal.
fn sql_string(text: &str) -> String {
    format!("'{}'", text.replace('\'', "''"))
}

/// Where SQL goes: a lab PostgreSQL, or the address in front of a replicated one (HAProxy).
#[derive(Clone, Debug)]
pub struct SqlClient {
    /// The database role, for errors.
    pub role: String,
    pub address: std::net::Ipv4Addr,
    pub port: u16,
    /// The network namespace to run the client programs in (the packet plane).
    pub netns: Option<String>,
}

impl Postgres {
    /// A client of this server.
    pub fn client(&self) -> SqlClient {
        SqlClient {
            role: self.spec.role.clone(),
            address: self.spec.address,
            port: self.spec.port,
            netns: self.spec.netns.clone(),
        }
    }
}

impl SqlClient {
    /// Whether the server accepts connections (not merely its port: PostgreSQL answers
    /// "starting up" for a while after it listens).
    pub(crate) async fn accepts_connections(&self) -> bool {
        let port = self.port.to_string();
        let host = self.address.to_string();
        let pg_isready = format!("{PG_BIN}/pg_isready");
        let probe = [
            "-h",
            host.as_str(),
            "-p",
            port.as_str(),
            "-U",
            "postgres",
            "-d",
            "postgres",
            "-t",
            "1",
        ];
        let (program, args) = in_namespace(self.netns.as_deref(), &pg_isready, &probe);
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        matches!(
            run_bounded(&self.role, "pg_isready", &program, &args, &[], PROBE_TIMEOUT).await,
            Ok(output) if output.status.success()
        )
    }

    /// Runs `psql` against `database` as `user` over TCP, stopping at the first error; the
    /// output is unaligned and without headers (`-At`), one row per line.
    pub async fn psql(
        &self,
        database: &str,
        user: &str,
        password: &str,
        psql_args: &[&str],
    ) -> Result<String, PostgresError> {
        let port = self.port.to_string();
        let host = self.address.to_string();
        let mut all = vec![
            "-h",
            host.as_str(),
            "-p",
            port.as_str(),
            "-U",
            user,
            "-d",
            database,
            "-v",
            "ON_ERROR_STOP=1",
            "-q",
            "-At",
        ];
        all.extend_from_slice(psql_args);
        let psql = format!("{PG_BIN}/psql");
        let (program, args) = in_namespace(self.netns.as_deref(), &psql, &all);
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let what = format!("psql {}", psql_args.join(" "));
        let output = run_bounded(
            &self.role,
            &what,
            &program,
            &args,
            &[("PGPASSWORD", password), ("PGCONNECT_TIMEOUT", "5")],
            PSQL_TIMEOUT,
        )
        .await?;
        if !output.status.success() {
            return Err(PostgresError::Command {
                role: self.role.clone(),
                what,
                status: output.status.to_string(),
                output: output.text(),
            });
        }
        Ok(output.stdout)
    }

    /// Runs one SQL statement as the superuser `postgres` in the `postgres` database.
    pub async fn admin_sql(&self, sql: &str) -> Result<String, PostgresError> {
        self.psql("postgres", "postgres", "", &["-c", sql]).await
    }

    /// Creates the login role `owner` with `password`, the database `name` owned by it and,
    /// if given, loads `schema_file` into it as `owner` (so that the tables belong to it).
    pub async fn create_database(
        &self,
        name: &str,
        owner: &str,
        password: &str,
        schema_file: Option<&Path>,
    ) -> Result<(), PostgresError> {
        check_identifier(&self.role, "database", name)?;
        check_identifier(&self.role, "role", owner)?;
        let exists = self
            .admin_sql(&format!(
                "SELECT 1 FROM pg_roles WHERE rolname = {}",
                sql_string(owner)
            ))
            .await?;
        let password_literal = sql_string(password);
        // Several databases of a lab may share one owner.
        if exists.trim().is_empty() {
            self.admin_sql(&format!(
                "CREATE ROLE {owner} LOGIN PASSWORD {password_literal}"
            ))
            .await?;
        } else {
            self.admin_sql(&format!(
                "ALTER ROLE {owner} LOGIN PASSWORD {password_literal}"
            ))
            .await?;
        }
        self.admin_sql(&format!(
            "CREATE DATABASE {name} OWNER {owner} ENCODING 'UTF8'"
        ))
        .await?;
        if let Some(schema) = schema_file {
            let schema_arg = schema.display().to_string();
            self.psql(name, owner, password, &["-f", &schema_arg])
                .await?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identifiers_are_plain_lower_case() {
        assert!(check_identifier("db", "database", "ejabberd_c").is_ok());
        for bad in ["", "Ej", "1db", "a-b", "a;drop", "a b"] {
            assert!(check_identifier("db", "database", bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn string_literals_double_quotes() {
        assert_eq!(sql_string("it's"), "'it''s'");
    }
}
