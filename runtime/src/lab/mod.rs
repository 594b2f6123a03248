//! The built-in local lab: real servers started on this machine.

pub mod pki;
pub mod process;
pub mod prosody;
