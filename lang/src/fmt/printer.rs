//! The printer core: an output buffer with a block level, lines, blank lines and comments. Node
//! printers only ever append tokens, end lines and open blocks through it, so indentation,
//! spacing and blank-line rules live in one place.

use crate::ast::{Comment, Dangling, Name, Trivia};
use crate::span::Span;

/// Spaces per block level.
const INDENT: usize = 2;

#[derive(Debug)]
pub(crate) struct Printer<'s> {
    src: &'s str,
    out: String,
    /// Block level of the current line.
    level: usize,
    /// Whether text has been written on the current line (its indentation included).
    line_open: bool,
    /// Nothing written since a block (or the file) began: no blank line may come here.
    block_start: bool,
}

impl<'s> Printer<'s> {
    pub(crate) fn new(src: &'s str) -> Self {
        Printer {
            src,
            out: String::new(),
            level: 0,
            line_open: false,
            block_start: true,
        }
    }

    /// The text, ending in exactly one newline (an empty file stays empty).
    pub(crate) fn finish(mut self) -> String {
        if self.line_open {
            self.out.push('\n');
        }
        let end = self.out.trim_end_matches('\n').len();
        self.out.truncate(end);
        if !self.out.is_empty() {
            self.out.push('\n');
        }
        self.out
    }

    /// The source text of a span; empty when the span does not fit the source (a tree built by
    /// hand, or printed against another text), so callers can fall back to the node's value.
    pub(crate) fn slice(&self, span: Span) -> &'s str {
        self.src.get(span.range()).unwrap_or("")
    }

    /// A literal token printed as written in the source, or from its value when the span does
    /// not point into the source.
    pub(crate) fn token(&mut self, span: Span, fallback: impl FnOnce() -> String) {
        let written = self.slice(span);
        if written.is_empty() {
            self.text(&fallback());
        } else {
            self.text(written);
        }
    }

    /// Appends text to the current line, indenting it first if the line is new.
    pub(crate) fn text(&mut self, text: &str) {
        if !self.line_open {
            self.out
                .extend(std::iter::repeat_n(' ', self.level * INDENT));
            self.line_open = true;
        }
        self.out.push_str(text);
        self.block_start = false;
    }

    pub(crate) fn end_line(&mut self) {
        self.out.push('\n');
        self.line_open = false;
    }

    /// The column where a multi-line string's content goes: one level deeper than its line.
    pub(crate) fn content_width(&self) -> usize {
        (self.level + 1) * INDENT
    }

    /// One content line of a multi-line string, written exactly (its spaces are part of the
    /// value), after `width` spaces; an empty line gets no indentation.
    pub(crate) fn content_line(&mut self, width: usize, line: &str) {
        if !line.is_empty() {
            self.out.extend(std::iter::repeat_n(' ', width));
            self.out.push_str(line);
        }
        self.end_line();
        self.block_start = false;
    }

    /// One blank line, unless at the start of a block or right after another blank line.
    pub(crate) fn blank(&mut self) {
        if !self.block_start && !self.line_open && !self.out.ends_with("\n\n") {
            self.out.push('\n');
        }
    }

    /// A whole-line comment.
    fn comment_line(&mut self, comment: &Comment) {
        if comment.blank_before {
            self.blank();
        }
        self.comment(comment);
        self.end_line();
    }

    /// The comment text, always starting with `#`, so that a hand-built tree still prints a
    /// comment rather than code.
    fn comment(&mut self, comment: &Comment) {
        let text = comment.text.trim_end();
        if !text.starts_with('#') {
            self.text("# ");
        }
        self.text(text);
    }

    /// An end-of-line comment, one space after the code.
    pub(crate) fn trailing(&mut self, comment: Option<&Comment>) {
        if let Some(comment) = comment {
            self.text(" ");
            self.comment(comment);
        }
    }

    /// A node on its own line(s): the comments above it, the node, its end-of-line comment.
    pub(crate) fn line(&mut self, trivia: &Trivia, print: impl FnOnce(&mut Self)) {
        for comment in &trivia.leading {
            self.comment_line(comment);
        }
        if trivia.blank_before {
            self.blank();
        }
        print(self);
        self.trailing(trivia.trailing.as_ref());
        self.end_line();
    }

    /// Comments that end a block or the file. A blank line after them is dropped, as any blank
    /// line before a closing brace.
    pub(crate) fn dangling(&mut self, dangling: &Dangling) {
        for comment in &dangling.comments {
            self.comment_line(comment);
        }
    }

    /// A block written over several lines: `{` (and its comment), each node one level deeper,
    /// the block's closing comments, `}`.
    pub(crate) fn lines_block<T>(
        &mut self,
        open: Option<&Comment>,
        nodes: &[T],
        dangling: &Dangling,
        print: impl Fn(&mut Self, &T),
    ) {
        self.text("{");
        self.trailing(open);
        self.end_line();
        self.level += 1;
        self.block_start = true;
        for node in nodes {
            print(self, node);
        }
        self.dangling(dangling);
        self.level -= 1;
        self.text("}");
    }

    /// A block written on one line: `{ a; b }`, or `{ }` when empty.
    pub(crate) fn inline_block<T>(&mut self, nodes: &[T], print: impl Fn(&mut Self, &T)) {
        if nodes.is_empty() {
            self.text("{ }");
            return;
        }
        self.text("{ ");
        self.separated(nodes, "; ", print);
        self.text(" }");
    }

    /// Nodes with `separator` between them.
    pub(crate) fn separated<T>(
        &mut self,
        nodes: &[T],
        separator: &str,
        print: impl Fn(&mut Self, &T),
    ) {
        for (i, node) in nodes.iter().enumerate() {
            if i > 0 {
                self.text(separator);
            }
            print(self, node);
        }
    }

    /// A comma-separated list of names: `a, b`.
    pub(crate) fn names(&mut self, names: &[Name]) {
        self.separated(names, ", ", |p, name| p.text(&name.text));
    }
}
