//! Errors of environments: a file that cannot be read, a file with mistakes (diagnostics that
//! point into the TOML and render like .jspec errors), and a program that asks for roles or
//! software the environment does not have.

use std::fmt;
use std::path::PathBuf;

use jspec_lang::diagnostic::{Code, Diagnostic, RenderOptions, render, render_all};
use jspec_lang::span::{Origin, SourceMap};

/// Why an environment cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum EnvError {
    #[error("cannot read the environment file {}: {source}", path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// The file has mistakes; every one is a diagnostic.
    #[error("{0}")]
    Invalid(Box<InvalidFile>),
    #[error("{0}")]
    MissingRoles(MissingRoles),
    #[error("{0}")]
    Unsupported(Unsupported),
}

impl EnvError {
    pub fn code(&self) -> Code {
        match self {
            EnvError::Read { .. } => Code::UnreadableFile,
            EnvError::Invalid(invalid) => invalid
                .diagnostics
                .first()
                .map_or(Code::Internal, |d| d.code),
            EnvError::MissingRoles(_) => Code::EnvMissingRole,
            EnvError::Unsupported(_) => Code::EnvUnsupported,
        }
    }

    /// The diagnostics of a file with mistakes (empty for other errors).
    pub fn diagnostics(&self) -> &[Diagnostic] {
        match self {
            EnvError::Invalid(invalid) => &invalid.diagnostics,
            _ => &[],
        }
    }

    /// Renders the error as miette shows .jspec errors: code, message, the TOML lines with the
    /// key underlined, and the hint.
    pub fn render(&self, options: RenderOptions) -> String {
        match self {
            EnvError::Invalid(invalid) => {
                render_all(&invalid.diagnostics, &invalid.sources, options)
            }
            other => {
                let mut sources = SourceMap::new();
                let file = sources.add("", Origin::Memory, String::new());
                let mut diagnostic = Diagnostic::error(other.code(), file, other.to_string());
                diagnostic.help = other.help();
                render(&diagnostic, &sources, options)
            }
        }
    }

    fn help(&self) -> Option<String> {
        match self {
            EnvError::Read { .. } => {
                Some("--env takes a TOML file; see docs/environment.md".into())
            }
            EnvError::Invalid(_) => None,
            EnvError::MissingRoles(missing) => Some(missing.help()),
            EnvError::Unsupported(unsupported) => Some(unsupported.hint.clone()),
        }
    }
}

/// A file with mistakes, with its text so that the diagnostics can show it.
#[derive(Debug)]
pub struct InvalidFile {
    pub sources: SourceMap,
    pub diagnostics: Vec<Diagnostic>,
}

impl fmt::Display for InvalidFile {
    /// One line: `file:line:column: message [code]`, and how many more there are.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let Some(first) = self.diagnostics.first() else {
            return f.write_str("invalid environment file");
        };
        let file = self.sources.get(first.file);
        write!(f, "{}", file.name())?;
        if let Some(span) = first.primary_span() {
            let (line, column) = file.line_col(span.start);
            write!(f, ":{line}:{column}")?;
        }
        write!(f, ": {} [{}]", first.message, first.code)?;
        match self.diagnostics.len() {
            1 => Ok(()),
            2 => f.write_str(" (and 1 more error)"),
            n => write!(f, " (and {} more errors)", n - 1),
        }
    }
}

/// Server or database.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RoleKind {
    Server,
    Database,
}

impl RoleKind {
    fn table(self) -> &'static str {
        match self {
            RoleKind::Server => "servers",
            RoleKind::Database => "databases",
        }
    }

    fn noun(self) -> &'static str {
        match self {
            RoleKind::Server => "server",
            RoleKind::Database => "database",
        }
    }
}

/// A program uses roles the environment does not define.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MissingRoles {
    /// The environment file (or "the built-in local lab").
    pub file: String,
    pub kind: RoleKind,
    pub missing: Vec<String>,
    /// The roles of this kind the environment has.
    pub available: Vec<String>,
}

impl MissingRoles {
    fn help(&self) -> String {
        let first = self.missing.first().map_or("ROLE", String::as_str);
        format!(
            "add a `[{}.{first}]` table to {}, or choose another environment with --env",
            self.kind.table(),
            self.file
        )
    }
}

impl fmt::Display for MissingRoles {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let noun = self.kind.noun();
        match self.missing.as_slice() {
            [one] => write!(f, "{noun} role `{one}` is not defined in {}", self.file)?,
            many => write!(
                f,
                "{noun} roles {} are not defined in {}",
                quoted(many),
                self.file
            )?,
        }
        if self.available.is_empty() {
            write!(f, " (it defines no {noun} roles)")
        } else {
            write!(f, " (it defines {})", quoted(&self.available))
        }
    }
}

/// The environment asks for software jspec cannot start yet.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Unsupported {
    pub file: String,
    pub role: String,
    pub what: String,
    pub hint: String,
}

impl fmt::Display for Unsupported {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "role `{}` in {}: {} is not supported yet",
            self.role, self.file, self.what
        )
    }
}

/// "`a`, `b`".
pub(super) fn quoted<S: AsRef<str>>(names: &[S]) -> String {
    names
        .iter()
        .map(|n| format!("`{}`", n.as_ref()))
        .collect::<Vec<_>>()
        .join(", ")
}
