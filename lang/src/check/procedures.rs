//! Which procedures a file can call: its own and those of the files it uses, transitively.

use std::collections::{HashMap, HashSet};

use crate::ast::{ItemKind, Procedure};
use crate::diagnostic::{Code, Diagnostic};
use crate::load::Program;
use crate::span::SourceId;

/// A procedure and the file that defines it.
#[derive(Clone, Copy, Debug)]
pub(crate) struct ProcRef<'p> {
    pub(crate) file: SourceId,
    pub(crate) procedure: &'p Procedure,
}

/// The procedures visible from each file, computed on demand.
#[derive(Debug)]
pub(crate) struct Procedures<'p> {
    program: &'p Program,
    visible: HashMap<SourceId, HashMap<&'p str, ProcRef<'p>>>,
}

impl<'p> Procedures<'p> {
    pub(crate) fn new(program: &'p Program) -> Self {
        Procedures {
            program,
            visible: HashMap::new(),
        }
    }

    /// The procedures visible from `file`; name clashes are reported into `out` the first time.
    pub(crate) fn visible_from(
        &mut self,
        file: SourceId,
        out: &mut Vec<Diagnostic>,
    ) -> &HashMap<&'p str, ProcRef<'p>> {
        if !self.visible.contains_key(&file) {
            let table = self.collect(file, out);
            self.visible.insert(file, table);
        }
        &self.visible[&file]
    }

    fn collect(&self, root: SourceId, out: &mut Vec<Diagnostic>) -> HashMap<&'p str, ProcRef<'p>> {
        let mut table: HashMap<&'p str, ProcRef<'p>> = HashMap::new();
        let mut seen = HashSet::new();
        let mut queue = vec![root];
        while let Some(file) = queue.pop() {
            if !seen.insert(file) {
                continue;
            }
            let module = self.program.module(file);
            queue.extend(module.uses.iter().filter_map(|(_, target)| *target));
            let Some(ast) = &module.ast else { continue };
            for item in &ast.items {
                let ItemKind::Procedure(procedure) = &item.kind else {
                    continue;
                };
                let name = procedure.name.text.as_str();
                match table.get(name) {
                    Some(first) if file == root || first.file == root => {
                        // Report a clash only where the user can fix it: in the file being checked.
                        let (here, there) = if file == root {
                            (procedure, *first)
                        } else {
                            (first.procedure, ProcRef { file, procedure })
                        };
                        out.push(
                            Diagnostic::error(Code::DuplicateProcedure, root, format!("procedure `{name}` is defined twice"))
                                .with_label(here.name.span, "defined here")
                                .with_help("rename one of them; procedures of a file and of the files it uses share one name space")
                                .with_related(
                                    Diagnostic::error(Code::DuplicateProcedure, there.file, "also defined here")
                                        .with_label(there.procedure.name.span, "the other definition"),
                                ),
                        );
                    }
                    Some(_) => {}
                    None => {
                        table.insert(name, ProcRef { file, procedure });
                    }
                }
            }
        }
        table
    }
}
