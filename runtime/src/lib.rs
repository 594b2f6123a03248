//! jspec-runtime: the interpreter. Data flows one way: checked program -> [`plan`] (which cases
//! run, with their suite and section) -> executor -> events -> reporters. The [`env`]ironment
//! says what the roles of a case stand for; the [`lab`] starts the servers the cases run against.

pub mod env;
pub use jspec_results::event;
pub mod exec;
pub mod fault;
mod http;
pub mod lab;
pub mod plan;
pub mod report;
pub mod resilience;
pub mod runner;
mod sync;
pub mod xmpp;
