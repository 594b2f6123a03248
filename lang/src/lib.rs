//! jspec-lang: the `.jspec` scenario language.
//!
//! Text goes one way: [`parse`] turns a file into a typed [`ast`], [`check`] validates a whole
//! program (collecting every error with [`diagnostic`]s that point at the source), and [`fmt`]
//! prints the canonical form. This crate does no network and no async; it reads files only to
//! follow `use`.

pub mod ast;
pub mod check;
pub mod diagnostic;
pub mod fmt;
pub mod import;
pub mod keywords;
pub mod load;
pub mod parse;
pub mod prose;
pub mod span;
pub mod spec_file;
pub mod stdlib;
