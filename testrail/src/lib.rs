//! jspec's TestRail side (docs/testrail.md). Cases become TestRail's fields (title, section path,
//! template, type, priority, estimate, references, preconditions, separated steps in plain
//! English); runs become results. The formats are TestRail's own: the suite XML and multi-row
//! CSV import files, the REST API v2 bodies, and a run export bundle.
//!
//! [`model`] holds the values every format is made from; [`case_text`] makes them from cases;
//! [`suite_xml`], [`case_csv`] and [`case_json`] write them (and the XML reads them back);
//! [`skeleton`] turns a suite read from TestRail into .jspec skeletons. A run folder
//! ([`run_folder`]) becomes a TestRail run through [`push`] (over [`api`]) or a zip through
//! [`export`]; the results body itself ([`results`]) is written during the run by its
//! [`results::TestrailReporter`], one of the run's reporters. Run results come from
//! `jspec_results`, so this crate needs neither the runtime nor an async runtime.

pub mod api;
pub mod case_csv;
pub mod case_json;
pub mod case_text;
pub mod export;
pub mod model;
pub mod push;
pub mod results;
pub mod run_folder;
pub mod skeleton;
pub mod suite_xml;
