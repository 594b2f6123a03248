//! jspec-runtime: the interpreter. Data flows one way: checked program -> [`plan`] (which cases
//! run, with their suite and section) -> executor -> events -> reporters. The executor, lab and
//! fault planes build on the plan.

pub mod plan;
pub mod xmpp;
