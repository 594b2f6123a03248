//! Source files and byte spans. Pest spans are converted once, at the edge of the parser, into
//! [`Span`]; everything after the parser speaks only in these.

use std::path::PathBuf;

/// A byte range in one source file.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Span {
    pub start: u32,
    pub end: u32,
}

impl Span {
    pub fn new(start: usize, end: usize) -> Self {
        // Sources are limited to 4 GiB by `SourceMap::add`, so offsets fit.
        Span {
            start: start as u32,
            end: end as u32,
        }
    }

    pub fn len(self) -> usize {
        (self.end - self.start) as usize
    }

    pub fn is_empty(self) -> bool {
        self.start == self.end
    }

    /// The smallest span covering both.
    pub fn to(self, other: Span) -> Span {
        Span {
            start: self.start.min(other.start),
            end: self.end.max(other.end),
        }
    }

    pub fn range(self) -> std::ops::Range<usize> {
        self.start as usize..self.end as usize
    }
}

impl From<Span> for miette::SourceSpan {
    fn from(span: Span) -> Self {
        miette::SourceSpan::new((span.start as usize).into(), span.len())
    }
}

/// Index of a file in a [`SourceMap`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SourceId(pub u32);

/// Where a source file came from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Origin {
    /// A file on disk (the path as given or as resolved from a `use`).
    Disk(PathBuf),
    /// A file of the standard library bundled into the binary.
    Stdlib,
    /// Text that exists only in memory (an editor buffer, a test).
    Memory,
}

/// One source file: its display name, origin and text.
#[derive(Debug)]
pub struct SourceFile {
    pub origin: Origin,
    named: miette::NamedSource<String>,
    line_starts: Vec<u32>,
}

impl SourceFile {
    pub fn name(&self) -> &str {
        self.named.name()
    }

    pub fn text(&self) -> &str {
        self.named.inner()
    }

    pub(crate) fn named(&self) -> &miette::NamedSource<String> {
        &self.named
    }

    /// 1-based line and column (in characters) of a byte offset.
    pub fn line_col(&self, offset: u32) -> (usize, usize) {
        let line = self.line_starts.partition_point(|&start| start <= offset) - 1;
        let start = self.line_starts[line] as usize;
        let end = (offset as usize).min(self.text().len());
        let column = self
            .text()
            .get(start..end)
            .map_or(end - start, |s| s.chars().count());
        (line + 1, column + 1)
    }

    /// The text of a span.
    pub fn slice(&self, span: Span) -> &str {
        self.text().get(span.range()).unwrap_or("")
    }
}

/// All the source files of one check or run.
#[derive(Debug, Default)]
pub struct SourceMap {
    files: Vec<SourceFile>,
}

impl SourceMap {
    pub fn new() -> Self {
        SourceMap::default()
    }

    pub fn add(&mut self, name: impl Into<String>, origin: Origin, text: String) -> SourceId {
        let text = if text.len() > u32::MAX as usize / 2 {
            // A .jspec file of gigabytes is not a scenario; keep spans valid by cutting it.
            let mut cut = u32::MAX as usize / 2;
            while !text.is_char_boundary(cut) {
                cut -= 1;
            }
            text[..cut].to_string()
        } else {
            text
        };
        let mut line_starts = vec![0u32];
        line_starts.extend(text.match_indices('\n').map(|(i, _)| i as u32 + 1));
        let id = SourceId(self.files.len() as u32);
        self.files.push(SourceFile {
            origin,
            named: miette::NamedSource::new(name.into(), text),
            line_starts,
        });
        id
    }

    pub fn get(&self, id: SourceId) -> &SourceFile {
        &self.files[id.0 as usize]
    }

    pub fn ids(&self) -> impl Iterator<Item = SourceId> + '_ {
        (0..self.files.len() as u32).map(SourceId)
    }

    pub fn find(&self, origin: &Origin, name: &str) -> Option<SourceId> {
        self.ids().find(|&id| {
            let file = self.get(id);
            &file.origin == origin && file.name() == name
        })
    }
}
