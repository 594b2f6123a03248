//! Test support shared by integration tests: a throwaway CA and a private Prosody.
// Each test binary compiles this module and uses only part of it.
#![allow(dead_code)]

pub(crate) mod client;
pub(crate) mod packet;
pub(crate) mod pki;
pub(crate) mod prosody;
