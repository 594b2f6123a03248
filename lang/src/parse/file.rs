//! Builders for the file level: suite, section, use, procedure (cases are in `case.rs`).

use pest::iterators::Pair;

use super::Rule;
use super::builder::{Builder, Built, Children, span};
use crate::ast::{File, Item, ItemKind, Procedure, Stmt, Trivia};

impl<'s> Builder<'s> {
    /// `file = { SOI ~ (blank_line | comment_line | file_line)* ~ EOI }`
    pub(crate) fn file(&mut self, pair: Pair<'s, Rule>) -> Built<File> {
        let lines = pair.into_inner().filter(|p| p.as_rule() != Rule::EOI);
        let (items, dangling) = self.lines(lines, Rule::file_line, Builder::file_item)?;
        Ok(File { items, dangling })
    }

    /// `fragment = { SOI ~ (blank_line | comment_line | fragment_line)* ~ EOI }`
    pub(crate) fn fragment(&mut self, pair: Pair<'s, Rule>) -> Built<Vec<Stmt>> {
        let lines = pair.into_inner().filter(|p| p.as_rule() != Rule::EOI);
        let (stmts, _) = self.lines(lines, Rule::fragment_line, Builder::statement)?;
        Ok(stmts)
    }

    fn file_item(&mut self, pair: Pair<'s, Rule>) -> Built<Item> {
        let item_span = span(&pair);
        let kind = match pair.as_rule() {
            Rule::suite_decl => ItemKind::Suite(self.suite_decl(pair)?),
            Rule::section_decl => ItemKind::Section(self.section_decl(pair)?),
            Rule::use_decl => ItemKind::Use(self.use_decl(pair)?),
            Rule::procedure_decl => ItemKind::Procedure(self.procedure_decl(pair)?),
            Rule::case_decl => ItemKind::Case(self.case_decl(pair)?),
            _ => return Err(self.bug(&pair, "a file line")),
        };
        Ok(Item {
            kind,
            span: item_span,
            trivia: Trivia::default(),
        })
    }

    /// `suite_decl = { "suite" ~ ws ~ string }`
    fn suite_decl(&mut self, pair: Pair<'s, Rule>) -> Built<crate::ast::Str> {
        let string = Children::of(pair).required(Rule::string, "suite")?;
        self.string(string)
    }

    /// `section_decl = { "section" ~ ws ~ string }`
    fn section_decl(&mut self, pair: Pair<'s, Rule>) -> Built<crate::ast::Str> {
        let string = Children::of(pair).required(Rule::string, "section")?;
        self.string(string)
    }

    /// `use_decl = { "use" ~ ws ~ string }`
    fn use_decl(&mut self, pair: Pair<'s, Rule>) -> Built<crate::ast::Str> {
        let string = Children::of(pair).required(Rule::string, "use")?;
        self.string(string)
    }

    /// `procedure_decl = { "procedure" ~ ws ~ ident ~ "(" ~ params ~ ")" ~ stmt_block }`
    fn procedure_decl(&mut self, pair: Pair<'s, Rule>) -> Built<Procedure> {
        let mut children = Children::of(pair);
        let name = self.ident(children.required(Rule::ident, "procedure")?);
        let params = self.params(children.required(Rule::params, "procedure")?);
        let body = self.stmt_block(children.required(Rule::stmt_block, "procedure")?)?;
        Ok(Procedure { name, params, body })
    }

    /// `params = { (ident ~ ("," ~ ident)*)? }`
    fn params(&mut self, pair: Pair<'s, Rule>) -> Vec<crate::ast::Name> {
        pair.into_inner().map(|p| self.ident(p)).collect()
    }
}
