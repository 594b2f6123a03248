//! The open documents (full text sync) and the analysis of one of them: the document and every
//! file it `use`s, loaded with open buffers winning over the disk, then checked.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use jspec_lang::check::{CheckOptions, check};
use jspec_lang::diagnostic::Diagnostic;
use jspec_lang::load::{DiskReader, FileReader, Program};
use jspec_lang::span::{Origin, SourceId};
use lsp_types::Url;

/// The text and version of every open document, by URI.
#[derive(Debug, Default)]
pub(crate) struct Documents {
    texts: HashMap<Url, (String, i32)>,
}

impl Documents {
    pub(crate) fn set(&mut self, uri: Url, text: String, version: i32) {
        self.texts.insert(uri, (text, version));
    }

    /// The version the client gave with the text, so it can drop diagnostics of an older one.
    pub(crate) fn version(&self, uri: &Url) -> Option<i32> {
        self.texts.get(uri).map(|(_, version)| *version)
    }

    pub(crate) fn close(&mut self, uri: &Url) {
        self.texts.remove(uri);
    }

    pub(crate) fn get(&self, uri: &Url) -> Option<&str> {
        self.texts.get(uri).map(|(text, _)| text.as_str())
    }

    /// Loads and checks a document; `None` when it is not open.
    pub(crate) fn analyze(&self, uri: &Url) -> Option<Analysis> {
        let text = self.get(uri)?;
        let program = match uri.to_file_path() {
            Ok(path) => Program::load_with(&[path], &Overlay::new(self)),
            // An unsaved buffer (`untitled:`): its `use`s can reach only the standard library.
            Err(()) => Program::from_text(uri.as_str(), text),
        };
        let root = *program.roots.first()?;
        // No fault plane: which one a run will use is not known while editing.
        let diagnostics = check(&program, &CheckOptions::default()).diagnostics;
        Some(Analysis {
            uri: uri.clone(),
            program,
            root,
            diagnostics,
        })
    }
}

/// Reads open documents from memory and everything else from disk.
struct Overlay<'d> {
    open: HashMap<PathBuf, &'d str>,
}

impl<'d> Overlay<'d> {
    fn new(documents: &'d Documents) -> Self {
        let open = documents
            .texts
            .iter()
            .filter_map(|(uri, (text, _))| Some((uri.to_file_path().ok()?, text.as_str())))
            .collect();
        Overlay { open }
    }
}

impl FileReader for Overlay<'_> {
    fn read(&self, path: &Path) -> std::io::Result<String> {
        let found = self.open.get(path).or_else(|| {
            // `use` paths are joined, not canonicalized: `dir/./x.jspec` is still the buffer.
            let clean: PathBuf = path.components().collect();
            self.open.get(&clean)
        });
        match found {
            Some(text) => Ok((*text).to_string()),
            None => DiskReader.read(path),
        }
    }
}

/// One checked document.
#[derive(Debug)]
pub(crate) struct Analysis {
    pub(crate) uri: Url,
    pub(crate) program: Program,
    /// The document itself.
    pub(crate) root: SourceId,
    pub(crate) diagnostics: Vec<Diagnostic>,
}

impl Analysis {
    pub(crate) fn text(&self) -> &str {
        self.program.sources.get(self.root).text()
    }

    /// The files on disk that the analysis loaded, the document among them.
    pub(crate) fn files_on_disk(&self) -> std::collections::HashSet<PathBuf> {
        self.program
            .sources
            .ids()
            .filter_map(|id| match &self.program.sources.get(id).origin {
                Origin::Disk(path) => Some(path.components().collect()),
                Origin::Stdlib | Origin::Memory => None,
            })
            .collect()
    }

    /// The URI of a loaded file; `None` for the bundled standard library.
    pub(crate) fn uri_of(&self, file: SourceId) -> Option<Url> {
        if file == self.root {
            return Some(self.uri.clone());
        }
        match &self.program.sources.get(file).origin {
            Origin::Disk(path) => Url::from_file_path(path).ok(),
            Origin::Stdlib | Origin::Memory => None,
        }
    }
}

/// A procedure visible from the document, with the comment lines just above it.
#[derive(Debug)]
pub(crate) struct ProcedureRef<'a> {
    pub(crate) file: SourceId,
    pub(crate) procedure: &'a jspec_lang::ast::Procedure,
    pub(crate) doc: Vec<&'a str>,
}

impl Analysis {
    pub(crate) fn procedure(&self, name: &str) -> Option<ProcedureRef<'_>> {
        let (file, procedure) = self
            .program
            .visible_procedures(self.root)
            .get(name)
            .copied()?;
        let item = self
            .program
            .module(file)
            .ast
            .iter()
            .flat_map(|ast| &ast.items)
            .find(|item| {
                item.span.start <= procedure.name.span.start
                    && procedure.name.span.end <= item.span.end
            });
        let doc = item.map_or_else(Vec::new, |item| {
            item.trivia
                .leading
                .iter()
                .map(|comment| comment.text.trim_start_matches('#').trim())
                .collect()
        });
        Some(ProcedureRef {
            file,
            procedure,
            doc,
        })
    }
}

impl ProcedureRef<'_> {
    pub(crate) fn signature(&self) -> String {
        let params: Vec<&str> = self
            .procedure
            .params
            .iter()
            .map(|p| p.text.as_str())
            .collect();
        format!(
            "procedure {}({})",
            self.procedure.name.text,
            params.join(", ")
        )
    }
}
