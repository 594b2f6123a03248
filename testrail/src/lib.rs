//! jspec's TestRail side (docs/testrail.md). Cases become TestRail's fields (title, section path,
//! template, type, priority, estimate, references, preconditions, separated steps in plain
//! English); runs become results. The formats are TestRail's own: the suite XML and multi-row
//! CSV import files, the REST API v2 bodies, and a run export bundle.
//!
//! [`model`] holds the values every format is made from; [`case_text`] makes them from cases;
//! [`suite_xml`], [`case_csv`] and [`case_json`] write them (and the XML reads them back);
//! [`skeleton`] turns a suite read from TestRail into .jspec skeletons.

pub mod case_csv;
pub mod case_json;
pub mod case_text;
pub mod model;
pub mod skeleton;
pub mod suite_xml;
