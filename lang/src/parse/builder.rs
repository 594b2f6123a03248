//! Shared machinery of the builders: spans, child access without panics, trivia.

use pest::iterators::{Pair, Pairs};

use super::Rule;
use crate::ast::{CaseEntry, ChaosRule, Comment, Dangling, Item, Stmt, Trivia};
use crate::diagnostic::{Code, Diagnostic};
use crate::span::{SourceId, Span};

/// The tree and the grammar disagree: a bug in jspec, never the user's fault.
#[derive(Debug)]
pub(crate) struct Bug {
    pub(crate) what: String,
    pub(crate) span: Span,
}

pub(crate) type Built<T> = Result<T, Bug>;

impl Bug {
    /// A rule the builder did not expect where it is.
    pub(crate) fn rule(rule: Rule, span: Span, context: &str) -> Bug {
        Bug {
            what: format!("unexpected {rule:?} in {context}"),
            span,
        }
    }
}

/// Builds AST nodes from pest pairs. Collects the few errors found while building (bad escapes,
/// numbers too large); everything else is the checker's job.
#[derive(Debug)]
pub(crate) struct Builder<'s> {
    pub(crate) file: SourceId,
    pub(crate) src: &'s str,
    diagnostics: Vec<Diagnostic>,
}

impl<'s> Builder<'s> {
    pub(crate) fn new(file: SourceId, src: &'s str) -> Self {
        Builder {
            file,
            src,
            diagnostics: Vec::new(),
        }
    }

    pub(crate) fn into_diagnostics(self) -> Vec<Diagnostic> {
        self.diagnostics
    }

    pub(crate) fn push(&mut self, diagnostic: Diagnostic) {
        self.diagnostics.push(diagnostic);
    }

    pub(crate) fn report_bug(&mut self, bug: Bug) {
        let diagnostic = Diagnostic::error(
            Code::Internal,
            self.file,
            "jspec could not build this part of the file",
        )
        .with_label(bug.span, bug.what)
        .with_help("this is a bug in jspec; please report it with this file");
        self.diagnostics.push(diagnostic);
    }

    pub(crate) fn bug(&self, pair: &Pair<'_, Rule>, context: &str) -> Bug {
        Bug {
            what: format!("unexpected {:?} in {context}", pair.as_rule()),
            span: span(pair),
        }
    }

    pub(crate) fn comment(&self, pair: Pair<'_, Rule>) -> Comment {
        Comment {
            text: pair.as_str().trim_end().to_string(),
            span: span(&pair),
            blank_before: false,
        }
    }

    /// Builds the lines of a block: blank lines and comment lines become the trivia of the next
    /// node, or the block's dangling comments at its end.
    pub(crate) fn lines<T: HasTrivia>(
        &mut self,
        pairs: impl Iterator<Item = Pair<'s, Rule>>,
        line_rule: Rule,
        build: fn(&mut Self, Pair<'s, Rule>) -> Built<T>,
    ) -> Built<(Vec<T>, Dangling)> {
        let mut nodes: Vec<T> = Vec::new();
        let mut pending = Trivia::default();
        let mut blank = false;
        for pair in pairs {
            let rule = pair.as_rule();
            if rule == Rule::blank_line {
                // Blank lines at the start of a block are dropped.
                blank = !nodes.is_empty() || !pending.leading.is_empty();
            } else if rule == Rule::comment_line {
                let inner = Children::of(pair).required(Rule::comment, "a comment line")?;
                let mut comment = self.comment(inner);
                comment.blank_before = std::mem::take(&mut blank);
                pending.leading.push(comment);
            } else if rule == line_rule {
                let mut children = Children::of(pair);
                let node_pair = children.any("a line")?;
                let mut node = build(self, node_pair)?;
                pending.blank_before = std::mem::take(&mut blank);
                pending.trailing = children.optional(Rule::comment).map(|c| self.comment(c));
                *node.trivia_mut() = std::mem::take(&mut pending);
                nodes.push(node);
            } else {
                return Err(self.bug(&pair, "a block"));
            }
        }
        let dangling = Dangling {
            comments: pending.leading,
        };
        Ok((nodes, dangling))
    }
}

/// Nodes that own the comments around their line.
pub(crate) trait HasTrivia {
    fn trivia_mut(&mut self) -> &mut Trivia;
}

macro_rules! has_trivia {
    ($($ty:ty),*) => {$(
        impl HasTrivia for $ty {
            fn trivia_mut(&mut self) -> &mut Trivia {
                &mut self.trivia
            }
        }
    )*};
}
has_trivia!(Item, CaseEntry, Stmt, ChaosRule);

pub(crate) fn span(pair: &Pair<'_, Rule>) -> Span {
    let s = pair.as_span();
    Span::new(s.start(), s.end())
}

/// The children of a pair, taken in grammar order. The grammar guarantees what comes where; a
/// mismatch is reported as a [`Bug`], never a panic.
#[derive(Debug)]
pub(crate) struct Children<'i> {
    parent: Span,
    inner: std::iter::Peekable<Pairs<'i, Rule>>,
}

impl<'i> Children<'i> {
    pub(crate) fn of(pair: Pair<'i, Rule>) -> Self {
        Children {
            parent: span(&pair),
            inner: pair.into_inner().peekable(),
        }
    }

    /// The next child, which must be of `rule`.
    pub(crate) fn required(&mut self, rule: Rule, context: &str) -> Built<Pair<'i, Rule>> {
        match self.inner.next() {
            Some(pair) if pair.as_rule() == rule => Ok(pair),
            Some(pair) => Err(Bug {
                what: format!("expected {rule:?} in {context}, found {:?}", pair.as_rule()),
                span: span(&pair),
            }),
            None => Err(Bug {
                what: format!("missing {rule:?} in {context}"),
                span: self.parent,
            }),
        }
    }

    /// The next child, whatever its rule.
    pub(crate) fn any(&mut self, context: &str) -> Built<Pair<'i, Rule>> {
        self.inner.next().ok_or_else(|| Bug {
            what: format!("missing child in {context}"),
            span: self.parent,
        })
    }

    /// The next child if it is of `rule`.
    pub(crate) fn optional(&mut self, rule: Rule) -> Option<Pair<'i, Rule>> {
        self.inner.next_if(|pair| pair.as_rule() == rule)
    }

    /// All remaining children of `rule`.
    pub(crate) fn all(&mut self, rule: Rule) -> Vec<Pair<'i, Rule>> {
        let mut out = Vec::new();
        while let Some(pair) = self.optional(rule) {
            out.push(pair);
        }
        out
    }

    pub(crate) fn rest(self) -> impl Iterator<Item = Pair<'i, Rule>> {
        self.inner
    }
}
