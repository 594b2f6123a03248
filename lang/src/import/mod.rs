//! Importers: test scripts of other tools converted into `.jspec` text. Pure text in, text
//! out; reading and writing files is the command line's business.

pub mod scansion;
