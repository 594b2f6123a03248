//! Builders for `chaos` blocks and their schedule rules.

use pest::iterators::Pair;

use super::Rule;
use super::builder::{Builder, Built, Children, span};
use crate::ast::{Chaos, ChaosAction, ChaosPick, ChaosRule, ChaosVerb, Dangling, StmtKind, Trivia};

impl<'s> Builder<'s> {
    /// `chaos_stmt = { "chaos" ~ chaos_seed? ~ "for" ~ duration ~ chaos_block }`
    pub(crate) fn chaos_stmt(&mut self, pair: Pair<'s, Rule>) -> Built<StmtKind> {
        let mut children = Children::of(pair);
        let seed = match children.optional(Rule::chaos_seed) {
            Some(seed) => Some(self.integer(Children::of(seed).required(Rule::integer, "seed")?)),
            None => None,
        };
        let duration = self.duration(children.required(Rule::duration, "chaos")?);
        let block = children.required(Rule::chaos_block, "chaos")?;
        let body = Children::of(block).any("a chaos block")?;
        let (rules, inline, open_comment, dangling) = match body.as_rule() {
            Rule::chaos_lines => {
                let mut lines = Children::of(body);
                let open_comment = lines.optional(Rule::comment).map(|c| self.comment(c));
                let (rules, dangling) =
                    self.lines(lines.rest(), Rule::chaos_line, Builder::chaos_rule)?;
                (rules, false, open_comment, dangling)
            }
            Rule::chaos_inline => {
                let rules = body
                    .into_inner()
                    .map(|p| self.chaos_rule(p))
                    .collect::<Built<_>>()?;
                (rules, true, None, Dangling::default())
            }
            _ => return Err(self.bug(&body, "a chaos block")),
        };
        Ok(StmtKind::Chaos(Chaos {
            seed,
            duration,
            rules,
            inline,
            open_comment,
            dangling,
        }))
    }

    /// `chaos_rule = { "every" ~ interval ~ chaos_action ~ hold_for? }`
    fn chaos_rule(&mut self, pair: Pair<'s, Rule>) -> Built<ChaosRule> {
        let rule_span = span(&pair);
        let mut children = Children::of(pair);
        let mut interval = Children::of(children.required(Rule::interval, "every")?);
        let min = self.duration(interval.required(Rule::duration, "an interval")?);
        let max = interval.optional(Rule::duration).map(|d| self.duration(d));
        let action_pair = children.any("a chaos rule")?;
        let action = match action_pair.as_rule() {
            Rule::chaos_pick => self.chaos_pick(action_pair)?,
            _ => ChaosAction::Fault(Box::new(self.statement(action_pair)?.kind)),
        };
        let hold = match children.optional(Rule::hold_for) {
            Some(hold) => Some(self.duration(Children::of(hold).required(Rule::duration, "for")?)),
            None => None,
        };
        Ok(ChaosRule {
            min,
            max,
            action,
            hold,
            span: rule_span,
            trivia: Trivia::default(),
        })
    }

    /// `chaos_pick = { chaos_verb ~ database? ~ "one" ~ "of" ~ name_list }`
    fn chaos_pick(&mut self, pair: Pair<'s, Rule>) -> Built<ChaosAction> {
        let mut children = Children::of(pair);
        let verb_pair = children.required(Rule::chaos_verb, "a chaos rule")?;
        let verb = match verb_pair.as_str() {
            "kill" => ChaosVerb::Kill,
            "stop" => ChaosVerb::Stop,
            "restart" => ChaosVerb::Restart,
            "pause" => ChaosVerb::Pause,
            "isolate" => ChaosVerb::Isolate,
            _ => return Err(self.bug(&verb_pair, "a chaos verb")),
        };
        let database = children.optional(Rule::database).is_some();
        let targets = self.name_list(children.required(Rule::name_list, "one of")?);
        Ok(ChaosAction::Pick(ChaosPick {
            verb,
            database,
            targets,
        }))
    }
}
