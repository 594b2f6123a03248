//! Text to AST: pest does the grammar, one builder function per grammar rule turns pairs into
//! typed nodes, converting pest spans into [`Span`] once.

mod builder;
mod case;
mod chaos;
mod fault;
mod file;
mod nesting;
mod stmt;
mod syntax_error;
mod value;

pub mod usage;

use pest::Parser as _;

use crate::ast;
use crate::diagnostic::Diagnostic;
use crate::span::SourceId;

pub(crate) use builder::Builder;

#[derive(pest_derive::Parser)]
#[grammar = "grammar.pest"]
pub(crate) struct Grammar;

pub use self::Rule as GrammarRule;
pub use nesting::MAX_NESTING;

/// The result of parsing one file: a tree when the syntax is valid, and what went wrong.
#[derive(Debug)]
pub struct Parsed<T> {
    pub tree: Option<T>,
    pub diagnostics: Vec<Diagnostic>,
}

/// Parses a whole `.jspec` file.
pub fn parse_file(file: SourceId, text: &str) -> Parsed<ast::File> {
    parse_with(file, text, Rule::file, Builder::file)
}

/// Milliseconds of a duration written as `.jspec` files write it (`250ms`, `1.5s`, `2m`, `1h`),
/// by the grammar's own rule; `None` for anything else. The one duration reader of the
/// project: environment files and command-line options use it too.
pub fn duration_millis(text: &str) -> Option<f64> {
    let pairs = Grammar::parse(Rule::duration, text).ok()?;
    let whole = pairs.as_str().len() == text.len();
    whole.then(|| value::duration_of(text))
}

/// Parses statements only (documentation snippets, editor fragments).
pub fn parse_statements(file: SourceId, text: &str) -> Parsed<Vec<ast::Stmt>> {
    parse_with(file, text, Rule::fragment, Builder::fragment)
}

fn parse_with<'s, T>(
    file: SourceId,
    text: &'s str,
    rule: Rule,
    build: fn(&mut Builder<'s>, pest::iterators::Pair<'s, Rule>) -> builder::Built<T>,
) -> Parsed<T> {
    if let Some(too_deep) = nesting::check(file, text) {
        return Parsed {
            tree: None,
            diagnostics: vec![too_deep],
        };
    }
    match Grammar::parse(rule, text) {
        Ok(mut pairs) => {
            let mut builder = Builder::new(file, text);
            let tree = match pairs.next() {
                Some(pair) => match build(&mut builder, pair) {
                    Ok(tree) => Some(tree),
                    Err(bug) => {
                        builder.report_bug(bug);
                        None
                    }
                },
                None => None,
            };
            Parsed {
                tree,
                diagnostics: builder.into_diagnostics(),
            }
        }
        Err(error) => Parsed {
            tree: None,
            diagnostics: vec![syntax_error::diagnose(file, text, rule, error)],
        },
    }
}

#[cfg(test)]
mod duration_tests {
    use super::duration_millis;

    #[test]
    fn durations_are_read_by_the_grammar_rule() {
        assert_eq!(duration_millis("250ms"), Some(250.0));
        assert_eq!(duration_millis("1.5s"), Some(1500.0));
        assert_eq!(duration_millis("2m"), Some(120_000.0));
        assert_eq!(duration_millis("1h"), Some(3_600_000.0));
        for bad in ["", "5", ".5s", "5.s", "5 s", "5sec", "-1s", "1s ", "1d"] {
            assert_eq!(duration_millis(bad), None, "{bad:?}");
        }
    }
}
