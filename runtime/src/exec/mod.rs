//! The executor: runs planned cases against a lab, statement by statement.

pub mod matcher;
