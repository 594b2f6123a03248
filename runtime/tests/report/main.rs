//! The reporters against a realistic, hand-built run: a passed case with two steps, a failed case
//! with expected and closest XML, a blocked case, a case without id, a section with levels, and a
//! title with characters XML must escape.

mod console;
mod fixture;
mod junit;
mod streams;
