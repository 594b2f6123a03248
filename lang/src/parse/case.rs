//! Builders for cases: the header, metadata lines, declarations and blocks.

use pest::iterators::Pair;

use super::Rule;
use super::builder::{Builder, Built, Children, span};
use crate::ast::{Case, CaseEntry, CaseEntryKind, CaseId, Priority, Role, Trivia};
use crate::diagnostic::{Code, Diagnostic};

impl<'s> Builder<'s> {
    /// `case_decl = { "case" ~ ws ~ (case_id ~ ws)? ~ string ~ case_block }`
    pub(crate) fn case_decl(&mut self, pair: Pair<'s, Rule>) -> Built<Case> {
        let start = span(&pair).start;
        let mut children = Children::of(pair);
        let id = children.optional(Rule::case_id).map(|p| self.case_id(p));
        let title_pair = children.required(Rule::string, "case")?;
        let title = self.string(title_pair)?;
        let block = children.required(Rule::case_block, "case")?;
        let header = crate::span::Span {
            start,
            end: title.span.end,
        };
        let mut block_children = Children::of(block);
        let open_comment = block_children
            .optional(Rule::comment)
            .map(|c| self.comment(c));
        let (entries, dangling) =
            self.lines(block_children.rest(), Rule::case_line, Builder::case_entry)?;
        Ok(Case {
            id,
            title,
            open_comment,
            entries,
            dangling,
            header,
        })
    }

    /// `case_id = @{ "C" ~ ASCII_DIGIT+ }`
    fn case_id(&mut self, pair: Pair<'s, Rule>) -> CaseId {
        let span = span(&pair);
        let number = pair.as_str()[1..].parse().unwrap_or_else(|_| {
            self.push(
                Diagnostic::error(Code::NumberTooLarge, self.file, "case id is too large")
                    .with_label(span, "more digits than any TestRail id")
                    .with_help("TestRail case ids are numbers such as C1234"),
            );
            u64::MAX
        });
        CaseId { number, span }
    }

    fn case_entry(&mut self, pair: Pair<'s, Rule>) -> Built<CaseEntry> {
        let entry_span = span(&pair);
        let kind = match pair.as_rule() {
            Rule::priority_meta => self.priority_meta(pair)?,
            Rule::type_meta => CaseEntryKind::Type(self.single_string(pair, "type")?),
            Rule::refs_meta => CaseEntryKind::Refs(self.refs_meta(pair)?),
            Rule::tags_meta => CaseEntryKind::Tags(self.single_name_list(pair, "tags")?),
            Rule::estimate_meta => CaseEntryKind::Estimate(self.estimate_meta(pair)?),
            Rule::requires_meta => {
                CaseEntryKind::Requires(self.single_name_list(pair, "requires")?)
            }
            Rule::preconditions_meta => {
                CaseEntryKind::Preconditions(self.single_string(pair, "preconditions")?)
            }
            Rule::servers_decl => CaseEntryKind::Servers(self.roles(pair)?),
            Rule::databases_decl => CaseEntryKind::Databases(self.roles(pair)?),
            Rule::user_decl => {
                let admin = pair
                    .clone()
                    .into_inner()
                    .find(|p| p.as_rule() == Rule::as_admin)
                    .map(|p| span(&p));
                let (name, server) = self.name_on_server(pair, "user")?;
                CaseEntryKind::User {
                    name,
                    server,
                    admin,
                }
            }
            Rule::room_decl => {
                let (name, server) = self.name_on_server(pair, "room")?;
                CaseEntryKind::Room { name, server }
            }
            Rule::setup_block => CaseEntryKind::Setup(self.labelled_block(pair, "setup")?),
            Rule::step_block => {
                let mut children = Children::of(pair);
                let title = self.string(children.required(Rule::string, "step")?)?;
                let body = self.stmt_block(children.required(Rule::stmt_block, "step")?)?;
                CaseEntryKind::Step { title, body }
            }
            Rule::teardown_block => CaseEntryKind::Teardown(self.labelled_block(pair, "teardown")?),
            _ => return Err(self.bug(&pair, "a case")),
        };
        Ok(CaseEntry {
            kind,
            span: entry_span,
            trivia: Trivia::default(),
        })
    }

    /// `priority_meta = { "priority" ~ ws ~ priority_level }`
    fn priority_meta(&mut self, pair: Pair<'s, Rule>) -> Built<CaseEntryKind> {
        let level = Children::of(pair).required(Rule::priority_level, "priority")?;
        let priority = match level.as_str() {
            "low" => Priority::Low,
            "medium" => Priority::Medium,
            "high" => Priority::High,
            "critical" => Priority::Critical,
            _ => return Err(self.bug(&level, "priority")),
        };
        Ok(CaseEntryKind::Priority(priority, span(&level)))
    }

    /// `refs_meta = { "refs" ~ ws ~ string_list }`
    fn refs_meta(&mut self, pair: Pair<'s, Rule>) -> Built<Vec<crate::ast::Str>> {
        let list = Children::of(pair).required(Rule::string_list, "refs")?;
        self.string_list(list)
    }

    /// `estimate_meta = { "estimate" ~ ws ~ duration }`
    fn estimate_meta(&mut self, pair: Pair<'s, Rule>) -> Built<crate::ast::Duration> {
        let duration = Children::of(pair).required(Rule::duration, "estimate")?;
        Ok(self.duration(duration))
    }

    fn single_string(&mut self, pair: Pair<'s, Rule>, context: &str) -> Built<crate::ast::Str> {
        let string = Children::of(pair).required(Rule::string, context)?;
        self.string(string)
    }

    fn single_name_list(
        &mut self,
        pair: Pair<'s, Rule>,
        context: &str,
    ) -> Built<Vec<crate::ast::Name>> {
        let list = Children::of(pair).required(Rule::name_list, context)?;
        Ok(self.name_list(list))
    }

    /// `servers_decl` / `databases_decl`: `role ~ ("," ~ role)*`
    fn roles(&mut self, pair: Pair<'s, Rule>) -> Built<Vec<Role>> {
        pair.into_inner().map(|role| self.role(role)).collect()
    }

    /// `role = { ident ~ (ws ~ "with" ~ ws ~ "nodes" ~ ws ~ name_list)? }`
    fn role(&mut self, pair: Pair<'s, Rule>) -> Built<Role> {
        let mut children = Children::of(pair);
        let name = self.ident(children.required(Rule::ident, "a role")?);
        let nodes = children
            .optional(Rule::name_list)
            .map(|list| self.name_list(list))
            .unwrap_or_default();
        Ok(Role { name, nodes })
    }

    /// `user_decl` / `room_decl`: `KEYWORD ident "on" ident`
    fn name_on_server(
        &mut self,
        pair: Pair<'s, Rule>,
        context: &str,
    ) -> Built<(crate::ast::Name, crate::ast::Name)> {
        let mut children = Children::of(pair);
        let name = self.ident(children.required(Rule::ident, context)?);
        let server = self.ident(children.required(Rule::ident, context)?);
        Ok((name, server))
    }

    /// `setup_block` / `teardown_block`: `KEYWORD ~ stmt_block`
    fn labelled_block(&mut self, pair: Pair<'s, Rule>, context: &str) -> Built<crate::ast::Block> {
        let block = Children::of(pair).required(Rule::stmt_block, context)?;
        self.stmt_block(block)
    }
}
