//! jspec-runtime: the interpreter (execution plan, executor, events, reporters), the lab and
//! the fault planes. Its first piece is case selection; `jspec run` builds on it.
