//! Loading a program: the files given, parsed, and every file they `use`, transitively.
//! `use "path"` resolves beside the using file first, then in the bundled standard library.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use crate::ast::{self, ItemKind};
use crate::diagnostic::{Code, Diagnostic};
use crate::parse;
use crate::span::{Origin, SourceId, SourceMap, Span};
use crate::spec_file::{self, read_error_help};
use crate::stdlib;

/// Reads files for the loader; editors supply their unsaved buffers through their own.
pub trait FileReader {
    fn read(&self, path: &Path) -> std::io::Result<String>;
}

/// Reads from the file system: regular files of at most 16 MiB only (see [`spec_file`]).
#[derive(Debug, Clone, Copy, Default)]
pub struct DiskReader;

impl FileReader for DiskReader {
    fn read(&self, path: &Path) -> std::io::Result<String> {
        spec_file::read_spec_file(path)
    }
}

/// One parsed file.
#[derive(Debug)]
pub struct Module {
    pub file: SourceId,
    /// `None` when the file has a syntax error.
    pub ast: Option<ast::File>,
    /// For each `use` of the file, in order: its span and the module it resolved to.
    pub uses: Vec<(Span, Option<SourceId>)>,
}

/// The files of one check or run and everything they use.
#[derive(Debug, Default)]
pub struct Program {
    pub sources: SourceMap,
    /// Every loaded module, indexed by `SourceId`.
    modules: Vec<Module>,
    /// The files given by the user, in order (used files are not roots).
    pub roots: Vec<SourceId>,
    /// Syntax errors, unreadable and missing files.
    pub diagnostics: Vec<Diagnostic>,
}

impl Program {
    pub fn module(&self, id: SourceId) -> &Module {
        &self.modules[id.0 as usize]
    }

    pub fn modules(&self) -> impl Iterator<Item = &Module> {
        self.modules.iter()
    }

    /// The procedures callable from `file`: its own, then those of the files it uses
    /// (transitively); on a name clash the first found wins (the checker reports clashes).
    pub fn visible_procedures(&self, file: SourceId) -> HashMap<&str, (SourceId, &ast::Procedure)> {
        let mut table = HashMap::new();
        let mut seen = std::collections::HashSet::new();
        let mut queue = vec![file];
        while let Some(id) = queue.pop() {
            if !seen.insert(id) {
                continue;
            }
            let module = self.module(id);
            queue.extend(module.uses.iter().filter_map(|(_, target)| *target));
            for item in module.ast.iter().flat_map(|ast| &ast.items) {
                if let ItemKind::Procedure(procedure) = &item.kind {
                    table
                        .entry(procedure.name.text.as_str())
                        .or_insert((id, procedure));
                }
            }
        }
        table
    }

    /// Loads files from disk.
    pub fn load(paths: &[PathBuf]) -> Program {
        Program::load_with(paths, &DiskReader)
    }

    /// Loads files through a reader. A file that cannot be read becomes an error that names it.
    pub fn load_with(paths: &[PathBuf], reader: &dyn FileReader) -> Program {
        let mut loader = Loader {
            program: Program::default(),
            reader,
            by_path: HashMap::new(),
        };
        for path in paths {
            match reader.read(path) {
                Ok(text) => {
                    let id =
                        loader.add(path.display().to_string(), Origin::Disk(path.clone()), text);
                    loader.program.roots.push(id);
                }
                Err(error) => {
                    // Keep a (empty) source so the diagnostic has a file to name.
                    let name = path.display().to_string();
                    let id = loader.program.sources.add(
                        name.clone(),
                        Origin::Disk(path.clone()),
                        String::new(),
                    );
                    loader.program.modules.push(Module {
                        file: id,
                        ast: None,
                        uses: Vec::new(),
                    });
                    loader.program.diagnostics.push(
                        Diagnostic::error(
                            Code::UnreadableFile,
                            id,
                            format!("cannot read {name}: {error}"),
                        )
                        .with_help(read_error_help(&error)),
                    );
                }
            }
        }
        loader.program
    }

    /// A program of one in-memory file (tests, fuzzing, editors).
    pub fn from_text(name: &str, text: &str) -> Program {
        Program::from_texts(&[(name, text)])
    }

    /// A program of in-memory files; their `use`s resolve only to the standard library.
    pub fn from_texts(files: &[(&str, &str)]) -> Program {
        let mut loader = Loader {
            program: Program::default(),
            reader: &NoFiles,
            by_path: HashMap::new(),
        };
        for (name, text) in files {
            let id = loader.add(name.to_string(), Origin::Memory, text.to_string());
            loader.program.roots.push(id);
        }
        loader.program
    }
}

struct Loader<'r> {
    program: Program,
    reader: &'r dyn FileReader,
    by_path: HashMap<PathBuf, SourceId>,
}

impl Loader<'_> {
    fn add(&mut self, name: String, origin: Origin, text: String) -> SourceId {
        let id = self.program.sources.add(name, origin.clone(), text);
        if let Origin::Disk(path) = &origin {
            self.by_path.insert(normalize(path), id);
        }
        let parsed = parse::parse_file(id, self.program.sources.get(id).text());
        self.program.diagnostics.extend(parsed.diagnostics);
        self.program.modules.push(Module {
            file: id,
            ast: None,
            uses: Vec::new(),
        });
        let uses = parsed.tree.as_ref().map(use_paths).unwrap_or_default();
        let mut resolved = Vec::new();
        for (span, path) in uses {
            resolved.push((span, self.resolve(id, &origin, span, &path)));
        }
        let module = &mut self.program.modules[id.0 as usize];
        module.ast = parsed.tree;
        module.uses = resolved;
        id
    }

    fn resolve(
        &mut self,
        from: SourceId,
        origin: &Origin,
        span: Span,
        path: &str,
    ) -> Option<SourceId> {
        if let Origin::Disk(using) = origin {
            let candidate = using.parent().unwrap_or(Path::new(".")).join(path);
            if let Some(&id) = self.by_path.get(&normalize(&candidate)) {
                return Some(id);
            }
            match self.reader.read(&candidate) {
                Ok(text) => {
                    return Some(self.add(
                        candidate.display().to_string(),
                        Origin::Disk(candidate),
                        text,
                    ));
                }
                // Not beside the file: perhaps in the standard library.
                Err(error) if is_absent(&error) => {}
                Err(error) => {
                    self.program.diagnostics.push(
                        Diagnostic::error(
                            Code::UnreadableFile,
                            from,
                            format!("cannot read {}: {error}", candidate.display()),
                        )
                        .with_label(span, "named by this `use`")
                        .with_help(read_error_help(&error)),
                    );
                    return None;
                }
            }
        }
        if let Some(text) = stdlib::get(path) {
            let name = path.strip_prefix("./").unwrap_or(path);
            if let Some(id) = self.program.sources.find(&Origin::Stdlib, name) {
                return Some(id);
            }
            return Some(self.add(name.to_string(), Origin::Stdlib, text.to_string()));
        }
        let stdlib_names = stdlib::FILES.iter().map(|(name, _)| *name);
        let mut diagnostic =
            Diagnostic::error(Code::MissingUse, from, format!("cannot find `{path}`")).with_label(
                span,
                "no such file beside this one, nor in the standard library",
            );
        diagnostic = match crate::diagnostic::did_you_mean(path, stdlib_names) {
            Some(name) => diagnostic.with_help(format!("did you mean \"{name}\"?")),
            None => diagnostic.with_help(format!(
                "paths are relative to the using file; the standard library has {}",
                stdlib::FILES
                    .iter()
                    .map(|(n, _)| format!("\"{n}\""))
                    .collect::<Vec<_>>()
                    .join(", ")
            )),
        };
        self.program.diagnostics.push(diagnostic);
        None
    }
}

/// Whether a read failed because there is no such file (rather than one that cannot be read).
fn is_absent(error: &std::io::Error) -> bool {
    matches!(
        error.kind(),
        std::io::ErrorKind::NotFound | std::io::ErrorKind::NotADirectory
    )
}

/// The `use` lines of a file: span of the path string and its value.
fn use_paths(file: &ast::File) -> Vec<(Span, String)> {
    file.items
        .iter()
        .filter_map(|item| match &item.kind {
            ItemKind::Use(path) => Some((path.span, path.display())),
            _ => None,
        })
        .collect()
}

/// Lexical normalization, so `a/../b.jspec` and `b.jspec` are one file (no file system access).
fn normalize(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for component in path.components() {
        match component {
            std::path::Component::CurDir => {}
            std::path::Component::ParentDir => {
                if !out.pop() {
                    out.push("..");
                }
            }
            other => out.push(other),
        }
    }
    out
}

struct NoFiles;

impl FileReader for NoFiles {
    fn read(&self, path: &Path) -> std::io::Result<String> {
        Err(std::io::Error::new(
            std::io::ErrorKind::NotFound,
            format!("{} (in-memory program)", path.display()),
        ))
    }
}
