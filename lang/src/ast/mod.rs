//! The typed syntax tree. Every node an error can point at carries a [`Span`]; comments and blank
//! lines ride along as [`Trivia`] so the formatter can put them back.

mod stmt;
mod value;

pub use stmt::*;
pub use value::*;

use crate::span::Span;

/// A comment, from `#` to the end of its line (the text keeps the `#`).
#[derive(Clone, Debug, PartialEq)]
pub struct Comment {
    pub text: String,
    pub span: Span,
    /// Whether a blank line separates the comment from what comes before it.
    pub blank_before: bool,
}

/// Comments and blank lines around a line-level node.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Trivia {
    /// Whole-line comments directly above the node.
    pub leading: Vec<Comment>,
    /// Whether a blank line separates the node from what comes before it.
    pub blank_before: bool,
    /// A comment at the end of the node's (first) line.
    pub trailing: Option<Comment>,
}

/// Comments that belong to no node: at the end of a block or file (each comment knows whether
/// a blank line comes before it).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Dangling {
    pub comments: Vec<Comment>,
}

/// A parsed `.jspec` file.
#[derive(Clone, Debug, PartialEq)]
pub struct File {
    pub items: Vec<Item>,
    pub dangling: Dangling,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Item {
    pub kind: ItemKind,
    pub span: Span,
    pub trivia: Trivia,
}

#[derive(Clone, Debug, PartialEq)]
pub enum ItemKind {
    Suite(Str),
    Section(Str),
    Use(Str),
    Procedure(Procedure),
    Case(Case),
}

#[derive(Clone, Debug, PartialEq)]
pub struct Procedure {
    pub name: Name,
    pub params: Vec<Name>,
    pub body: Block,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Case {
    pub id: Option<CaseId>,
    pub title: Str,
    /// Comment on the line of the opening brace.
    pub open_comment: Option<Comment>,
    pub entries: Vec<CaseEntry>,
    pub dangling: Dangling,
    /// The `case ... {` header, for labels.
    pub header: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub struct CaseId {
    pub number: u64,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub struct CaseEntry {
    pub kind: CaseEntryKind,
    pub span: Span,
    pub trivia: Trivia,
}

#[derive(Clone, Debug, PartialEq)]
pub enum CaseEntryKind {
    Priority(Priority, Span),
    Type(Str),
    Refs(Vec<Str>),
    Tags(Vec<Name>),
    Estimate(Duration),
    Requires(Vec<Name>),
    Preconditions(Str),
    Servers(Vec<Role>),
    Databases(Vec<Role>),
    /// `user boss on a as admin`: `admin` is the span of `as admin`.
    User {
        name: Name,
        server: Name,
        admin: Option<Span>,
    },
    Room {
        name: Name,
        server: Name,
    },
    Setup(Block),
    Step {
        title: Str,
        body: Block,
    },
    Teardown(Block),
}

impl CaseEntryKind {
    /// The statements of a setup, step or teardown.
    pub fn body(&self) -> Option<&Block> {
        match self {
            CaseEntryKind::Setup(body)
            | CaseEntryKind::Teardown(body)
            | CaseEntryKind::Step { body, .. } => Some(body),
            _ => None,
        }
    }

    /// The keyword that starts the entry's line.
    pub fn keyword(&self) -> &'static str {
        match self {
            CaseEntryKind::Priority(..) => "priority",
            CaseEntryKind::Type(_) => "type",
            CaseEntryKind::Refs(_) => "refs",
            CaseEntryKind::Tags(_) => "tags",
            CaseEntryKind::Estimate(_) => "estimate",
            CaseEntryKind::Requires(_) => "requires",
            CaseEntryKind::Preconditions(_) => "preconditions",
            CaseEntryKind::Servers(_) => "servers",
            CaseEntryKind::Databases(_) => "databases",
            CaseEntryKind::User { .. } => "user",
            CaseEntryKind::Room { .. } => "room",
            CaseEntryKind::Setup(_) => "setup",
            CaseEntryKind::Step { .. } => "step",
            CaseEntryKind::Teardown(_) => "teardown",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Priority {
    Low,
    Medium,
    High,
    Critical,
}

impl Priority {
    pub fn as_str(self) -> &'static str {
        match self {
            Priority::Low => "low",
            Priority::Medium => "medium",
            Priority::High => "high",
            Priority::Critical => "critical",
        }
    }
}

/// A server or database role: `c with nodes c1, c2`.
#[derive(Clone, Debug, PartialEq)]
pub struct Role {
    pub name: Name,
    pub nodes: Vec<Name>,
}

/// A `{ ... }` block of statements.
#[derive(Clone, Debug, PartialEq)]
pub struct Block {
    pub stmts: Vec<Stmt>,
    /// Written on one line: `{ a; b }`.
    pub inline: bool,
    /// Comment on the line of the opening brace.
    pub open_comment: Option<Comment>,
    pub dangling: Dangling,
    pub span: Span,
}
