//! jspec-runtime: the interpreter. Data flows one way: checked program -> [`plan`] (which cases
//! run, with their suite and section) -> executor -> events -> reporters. The [`lab`] starts the
//! servers the cases run against.

pub mod event;
pub mod exec;
pub mod lab;
pub mod plan;
pub mod report;
