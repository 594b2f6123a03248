//! Builders for statements, one per statement rule.

use pest::iterators::Pair;

use super::Rule;
use super::builder::{Builder, Built, Children, span};
use crate::ast::*;

impl<'s> Builder<'s> {
    /// `stmt_block = { "{" ~ (stmt_lines | stmt_inline) ~ "}" }`
    pub(crate) fn stmt_block(&mut self, pair: Pair<'s, Rule>) -> Built<Block> {
        let block_span = span(&pair);
        let body = Children::of(pair).any("a block")?;
        match body.as_rule() {
            Rule::stmt_lines => {
                let mut children = Children::of(body);
                let open_comment = children.optional(Rule::comment).map(|c| self.comment(c));
                let (stmts, dangling) =
                    self.lines(children.rest(), Rule::stmt_line, Builder::statement)?;
                Ok(Block {
                    stmts,
                    inline: false,
                    open_comment,
                    dangling,
                    span: block_span,
                })
            }
            Rule::stmt_inline => {
                let stmts = body
                    .into_inner()
                    .map(|p| self.statement(p))
                    .collect::<Built<_>>()?;
                Ok(Block {
                    stmts,
                    inline: true,
                    open_comment: None,
                    dangling: Dangling::default(),
                    span: block_span,
                })
            }
            _ => Err(self.bug(&body, "a block")),
        }
    }

    pub(crate) fn statement(&mut self, pair: Pair<'s, Rule>) -> Built<Stmt> {
        let stmt_span = span(&pair);
        let kind = self.statement_kind(pair)?;
        Ok(Stmt {
            kind,
            span: stmt_span,
            trivia: Trivia::default(),
        })
    }

    fn statement_kind(&mut self, pair: Pair<'s, Rule>) -> Built<StmtKind> {
        match pair.as_rule() {
            Rule::connect_stmt => self.connect_stmt(pair),
            Rule::disconnect_stmt => self.disconnect_stmt(pair),
            Rule::join_stmt => self.join_stmt(pair),
            Rule::leave_stmt => self.leave_stmt(pair),
            Rule::send_stmt => self.send_stmt(pair),
            Rule::send_raw_stmt => self.send_raw_stmt(pair),
            Rule::wait_stmt => self.wait_stmt(pair),
            Rule::expect_receives_stmt => self.expect_receives_stmt(pair),
            Rule::expect_connect_stmt => self.expect_connect_stmt(pair),
            Rule::expect_session_stmt => self.expect_session_stmt(pair),
            Rule::expect_archive_stmt => self.expect_archive_stmt(pair),
            Rule::expect_link_stmt => self.expect_link_stmt(pair),
            Rule::expect_cluster_stmt => self.expect_cluster_stmt(pair),
            Rule::expect_database_stmt => self.expect_database_stmt(pair),
            Rule::switch_database_stmt => self.switch_database_stmt(pair),
            Rule::set_certificate_stmt => self.set_certificate_stmt(pair),
            Rule::revoke_certificate_stmt => self.revoke_certificate_stmt(pair),
            Rule::set_ticket_stmt => self.set_ticket_stmt(pair),
            Rule::partition_stmt => self.partition_stmt(pair),
            Rule::isolate_stmt => self.isolate_stmt(pair),
            Rule::heal_stmt => self.heal_stmt(pair),
            Rule::impair_stmt => self.impair_stmt(pair),
            Rule::flood_stmt => self.flood_stmt(pair),
            Rule::restore_stmt => self.restore_stmt(pair),
            Rule::skew_clock_stmt => self.skew_clock_stmt(pair),
            Rule::set_clock_stmt => self.set_clock_stmt(pair),
            Rule::restore_clock_stmt => self.restore_clock_stmt(pair),
            Rule::process_stmt => self.process_stmt(pair),
            Rule::chaos_stmt => self.chaos_stmt(pair),
            Rule::parallel_stmt => self.parallel_stmt(pair),
            Rule::repeat_stmt => self.repeat_stmt(pair),
            Rule::check_delivery_stmt => self.check_delivery_stmt(pair),
            Rule::call_stmt => self.call_stmt(pair),
            _ => Err(self.bug(&pair, "a statement")),
        }
    }

    /// `connect_stmt = { "connect" ~ ws ~ session ~ connect_options }`
    fn connect_stmt(&mut self, pair: Pair<'s, Rule>) -> Built<StmtKind> {
        let mut children = Children::of(pair);
        let user = self.ident(children.required(Rule::session, "connect")?);
        let options = self.connect_options(children.required(Rule::connect_options, "connect")?)?;
        Ok(StmtKind::Connect { user, options })
    }

    /// `connect_options = { (ws ~ to_node)? ~ (ws ~ tls_clause)? ~ (ws ~ auth_clause)? }`
    fn connect_options(&mut self, pair: Pair<'s, Rule>) -> Built<ConnectOptions> {
        let mut children = Children::of(pair);
        let node = match children.optional(Rule::to_node) {
            Some(to) => Some(self.ident(Children::of(to).required(Rule::ident, "to")?)),
            None => None,
        };
        let tls = match children.optional(Rule::tls_clause) {
            Some(clause) => Some(self.tls_clause(clause)?),
            None => None,
        };
        let auth = match children.optional(Rule::auth_clause) {
            Some(clause) => Some(self.auth_clause(clause)?),
            None => None,
        };
        let (mut stream_management, mut carbons) = (None, None);
        if let Some(clause) = children.optional(Rule::features_clause) {
            for feature in Children::of(clause).rest() {
                match feature.as_str() {
                    "stream-management" => stream_management = Some(span(&feature)),
                    "carbons" => carbons = Some(span(&feature)),
                    _ => return Err(self.bug(&feature, "a session feature")),
                }
            }
        }
        let without_presence = children.optional(Rule::without_presence).map(|p| span(&p));
        Ok(ConnectOptions {
            node,
            tls,
            auth,
            stream_management,
            carbons,
            without_presence,
        })
    }

    /// `expect_session_stmt = { "expect" ~ ident ~ session_event ~ within_clause? }`
    fn expect_session_stmt(&mut self, pair: Pair<'s, Rule>) -> Built<StmtKind> {
        let mut children = Children::of(pair);
        let user = self.ident(children.required(Rule::session, "expect")?);
        let event = children.required(Rule::session_event, "expect")?;
        let event = match Children::of(event).rest().next() {
            Some(e) if e.as_rule() == Rule::resumed => SessionEvent::Resumed,
            Some(e) if e.as_rule() == Rule::reconnected => SessionEvent::Reconnected,
            Some(e) if e.as_rule() == Rule::disconnected => {
                let condition = match Children::of(e).optional(Rule::string) {
                    Some(s) => Some(self.string(s)?),
                    None => None,
                };
                SessionEvent::Disconnected(condition)
            }
            _ => {
                return Err(super::builder::Bug::rule(
                    Rule::session_event,
                    user.span,
                    "a session event",
                ));
            }
        };
        let within = self.within(&mut children)?;
        Ok(StmtKind::ExpectSession {
            user,
            event,
            within,
        })
    }

    /// `tls_clause = { "with" ~ ws ~ tls_mode }`
    fn tls_clause(&mut self, pair: Pair<'s, Rule>) -> Built<(TlsMode, crate::span::Span)> {
        let mode = Children::of(pair).required(Rule::tls_mode, "with")?;
        let value = match mode.as_str() {
            "starttls" => TlsMode::StartTls,
            "direct-tls" => TlsMode::DirectTls,
            _ => return Err(self.bug(&mode, "a TLS mode")),
        };
        Ok((value, span(&mode)))
    }

    /// `auth_clause = { "auth" ~ ws ~ auth_mechanism }`
    fn auth_clause(&mut self, pair: Pair<'s, Rule>) -> Built<(AuthMechanism, crate::span::Span)> {
        let mechanism = Children::of(pair).required(Rule::auth_mechanism, "auth")?;
        let value = match mechanism.as_str() {
            "scram" => AuthMechanism::Scram,
            "plain" => AuthMechanism::Plain,
            "external" => AuthMechanism::External,
            "gssapi" => AuthMechanism::Gssapi,
            _ => return Err(self.bug(&mechanism, "an auth mechanism")),
        };
        Ok((value, span(&mechanism)))
    }

    /// `disconnect_stmt = { "disconnect" ~ ws ~ ident ~ (ws ~ abruptly)? }`
    fn disconnect_stmt(&mut self, pair: Pair<'s, Rule>) -> Built<StmtKind> {
        let mut children = Children::of(pair);
        let user = self.ident(children.required(Rule::session, "disconnect")?);
        let abrupt = children.optional(Rule::abruptly).is_some();
        Ok(StmtKind::Disconnect { user, abrupt })
    }

    /// `join_stmt = { "join" ~ ident ~ "to" ~ ident ~ nick_clause? ~ via_clause? }`
    fn join_stmt(&mut self, pair: Pair<'s, Rule>) -> Built<StmtKind> {
        let mut children = Children::of(pair);
        let user = self.ident(children.required(Rule::session, "join")?);
        let room = self.ident(children.required(Rule::ident, "join")?);
        let nick = match children.optional(Rule::nick_clause) {
            Some(clause) => Some(self.string(Children::of(clause).required(Rule::string, "as")?)?),
            None => None,
        };
        let via = match children.optional(Rule::via_clause) {
            Some(clause) => Some(self.ident(Children::of(clause).required(Rule::ident, "via")?)),
            None => None,
        };
        Ok(StmtKind::Join(Join {
            user,
            room,
            nick,
            via,
        }))
    }

    /// `leave_stmt = { "leave" ~ ident ~ "from" ~ ident }`
    fn leave_stmt(&mut self, pair: Pair<'s, Rule>) -> Built<StmtKind> {
        let mut children = Children::of(pair);
        let user = self.ident(children.required(Rule::session, "leave")?);
        let room = self.ident(children.required(Rule::ident, "leave")?);
        Ok(StmtKind::Leave { user, room })
    }

    /// `send_stmt = { "send" ~ string ~ "from" ~ ident ~ "to" ~ ident }`
    fn send_stmt(&mut self, pair: Pair<'s, Rule>) -> Built<StmtKind> {
        let mut children = Children::of(pair);
        let body = self.string(children.required(Rule::string, "send")?)?;
        let from = self.ident(children.required(Rule::session, "send")?);
        let to = self.ident(children.required(Rule::session, "send")?);
        Ok(StmtKind::Send { body, from, to })
    }

    /// `send_raw_stmt = { "send" ~ "from" ~ ident ~ string }`
    fn send_raw_stmt(&mut self, pair: Pair<'s, Rule>) -> Built<StmtKind> {
        let mut children = Children::of(pair);
        let from = self.ident(children.required(Rule::session, "send")?);
        let xml = self.string(children.required(Rule::string, "send")?)?;
        Ok(StmtKind::SendRaw { from, xml })
    }

    /// `wait_stmt = { "wait" ~ ws ~ duration }`
    fn wait_stmt(&mut self, pair: Pair<'s, Rule>) -> Built<StmtKind> {
        let duration = Children::of(pair).required(Rule::duration, "wait")?;
        Ok(StmtKind::Wait(self.duration(duration)))
    }

    /// `expect_receives_stmt = { "expect" ~ ident ~ "receives" ~ (nothing | no_stanzas |
    /// delayed? strict? string_list) ~ ... }`
    fn expect_receives_stmt(&mut self, pair: Pair<'s, Rule>) -> Built<StmtKind> {
        let mut children = Children::of(pair);
        let user = self.ident(children.required(Rule::session, "expect")?);
        let nothing = children.optional(Rule::nothing);
        let no_stanzas = children.optional(Rule::no_stanzas);
        let next = children.optional(Rule::next).map(|pair| span(&pair));
        let delayed = children.optional(Rule::delayed).is_some();
        let strict = children.optional(Rule::strict).is_some();
        let expected = match (nothing, no_stanzas) {
            (Some(nothing), _) => Expected::Nothing(span(&nothing)),
            (None, Some(none)) => Expected::NoStanzas(span(&none)),
            (None, None) => Expected::Messages(
                self.string_list(children.required(Rule::string_list, "expect")?)?,
            ),
        };
        let from = match children.optional(Rule::from_clause) {
            Some(clause) => Some(self.ident(Children::of(clause).required(Rule::session, "from")?)),
            None => None,
        };
        let in_order = children.optional(Rule::in_order).is_some();
        let within = self.within(&mut children)?;
        Ok(StmtKind::ExpectReceives(ExpectReceives {
            user,
            next,
            delayed,
            strict,
            expected,
            from,
            in_order,
            within,
        }))
    }

    /// `within_clause = { "within" ~ ws ~ duration }`, when present.
    fn within(&mut self, children: &mut Children<'s>) -> Built<Option<Duration>> {
        match children.optional(Rule::within_clause) {
            Some(clause) => Ok(Some(
                self.duration(Children::of(clause).required(Rule::duration, "within")?),
            )),
            None => Ok(None),
        }
    }

    /// `expect_connect_stmt = { "expect" ~ "connect" ~ ident ~ connect_options ~ "fails" ~ "with" ~ string ~ within? }`
    fn expect_connect_stmt(&mut self, pair: Pair<'s, Rule>) -> Built<StmtKind> {
        let mut children = Children::of(pair);
        let user = self.ident(children.required(Rule::ident, "expect connect")?);
        let options =
            self.connect_options(children.required(Rule::connect_options, "expect connect")?)?;
        let reason = self.string(children.required(Rule::string, "expect connect")?)?;
        let within = self.within(&mut children)?;
        Ok(StmtKind::ExpectConnectFails(ExpectConnectFails {
            user,
            options,
            reason,
            within,
        }))
    }

    /// `expect_archive_stmt = { "expect" ~ "archive" ~ "of" ~ ident ~ "as" ~ ident ~ "has" ~ integer ~ "messages" ~ ... }`
    fn expect_archive_stmt(&mut self, pair: Pair<'s, Rule>) -> Built<StmtKind> {
        let mut children = Children::of(pair);
        let archive = self.ident(children.required(Rule::ident, "expect archive")?);
        let reader = self.ident(children.required(Rule::ident, "expect archive")?);
        let count = self.integer(children.required(Rule::integer, "expect archive")?);
        let in_order = children.optional(Rule::in_order).is_some();
        let within = self.within(&mut children)?;
        Ok(StmtKind::ExpectArchive(ExpectArchive {
            archive,
            reader,
            count,
            in_order,
            within,
        }))
    }

    /// `expect_link_stmt = { "expect" ~ "link" ~ ident ~ "->" ~ ident ~ authenticated_by? ~ over_clause? }`
    fn expect_link_stmt(&mut self, pair: Pair<'s, Rule>) -> Built<StmtKind> {
        let mut children = Children::of(pair);
        let from = self.ident(children.required(Rule::ident, "expect link")?);
        let to = self.ident(children.required(Rule::ident, "expect link")?);
        let auth = match children.optional(Rule::authenticated_by) {
            Some(clause) => {
                let value = Children::of(clause).required(Rule::link_auth, "authenticated by")?;
                let auth = match value.as_str() {
                    "certificate" => LinkAuth::Certificate,
                    "dialback" => LinkAuth::Dialback,
                    _ => return Err(self.bug(&value, "a link authentication")),
                };
                Some((auth, span(&value)))
            }
            None => None,
        };
        let transport = match children.optional(Rule::over_clause) {
            Some(clause) => {
                let value = Children::of(clause).required(Rule::link_transport, "over")?;
                let transport = match value.as_str() {
                    "direct-tls" => Transport::DirectTls,
                    "starttls" => Transport::StartTls,
                    _ => return Err(self.bug(&value, "a link transport")),
                };
                Some((transport, span(&value)))
            }
            None => None,
        };
        let within = self.within(&mut children)?;
        Ok(StmtKind::ExpectLink(ExpectLink {
            within,
            from,
            to,
            auth,
            transport,
        }))
    }

    /// `expect_cluster_stmt = { "expect" ~ "cluster" ~ ident ~ (cluster_nodes | cluster_split)
    /// ~ within_clause? }`
    fn expect_cluster_stmt(&mut self, pair: Pair<'s, Rule>) -> Built<StmtKind> {
        let mut children = Children::of(pair);
        let cluster = self.ident(children.required(Rule::ident, "expect cluster")?);
        let expected = match children.optional(Rule::cluster_nodes) {
            Some(nodes) => {
                let list = Children::of(nodes).required(Rule::name_list, "has nodes")?;
                ClusterState::Nodes(self.name_list(list))
            }
            None => ClusterState::Split(span(
                &children.required(Rule::cluster_split, "expect cluster")?,
            )),
        };
        let within = self.within(&mut children)?;
        Ok(StmtKind::ExpectCluster {
            cluster,
            expected,
            within,
        })
    }

    /// `expect_database_stmt = { "expect" ~ "database" ~ ident ~ (database_primary |
    /// database_replicas) ~ within_clause? }`
    fn expect_database_stmt(&mut self, pair: Pair<'s, Rule>) -> Built<StmtKind> {
        let mut children = Children::of(pair);
        let database = self.ident(children.required(Rule::ident, "expect database")?);
        let expected = match children.optional(Rule::database_primary) {
            Some(primary) => {
                let node = Children::of(primary).required(Rule::ident, "primary is")?;
                DatabaseState::Primary(self.ident(node))
            }
            None => {
                let replicas = children.required(Rule::database_replicas, "expect database")?;
                let list = Children::of(replicas).required(Rule::name_list, "has replicas")?;
                DatabaseState::Replicas(self.name_list(list))
            }
        };
        let within = self.within(&mut children)?;
        Ok(StmtKind::ExpectDatabase {
            database,
            expected,
            within,
        })
    }

    /// `parallel_stmt = { "parallel" ~ stmt_block }`
    fn parallel_stmt(&mut self, pair: Pair<'s, Rule>) -> Built<StmtKind> {
        let block = self.stmt_block(Children::of(pair).required(Rule::stmt_block, "parallel")?)?;
        Ok(StmtKind::Parallel(block))
    }

    /// `repeat_stmt = { "repeat" ~ integer ~ "times" ~ every_clause? ~ stmt_block }`
    fn repeat_stmt(&mut self, pair: Pair<'s, Rule>) -> Built<StmtKind> {
        let mut children = Children::of(pair);
        let count = self.integer(children.required(Rule::integer, "repeat")?);
        let every = match children.optional(Rule::every_clause) {
            Some(clause) => {
                Some(self.duration(Children::of(clause).required(Rule::duration, "every")?))
            }
            None => None,
        };
        let body = self.stmt_block(children.required(Rule::stmt_block, "repeat")?)?;
        Ok(StmtKind::Repeat { count, every, body })
    }

    /// `check_delivery_stmt = { "check" ~ "delivery" ~ "in" ~ ident ~ ":" ~ delivery_property+ }`
    fn check_delivery_stmt(&mut self, pair: Pair<'s, Rule>) -> Built<StmtKind> {
        let mut children = Children::of(pair);
        let room = self.ident(children.required(Rule::ident, "check delivery")?);
        let mut properties = Vec::new();
        for property in children.all(Rule::delivery_property) {
            let inner = Children::of(property).any("a delivery property")?;
            let value = match inner.as_rule() {
                Rule::no_loss => DeliveryProperty::NoLoss,
                Rule::no_duplicates => DeliveryProperty::NoDuplicates,
                Rule::in_order => DeliveryProperty::InOrder,
                _ => return Err(self.bug(&inner, "a delivery property")),
            };
            properties.push((value, span(&inner)));
        }
        Ok(StmtKind::CheckDelivery { room, properties })
    }

    /// `call_stmt = { ident ~ "(" ~ (argument ~ ("," ~ argument)*)? ~ ")" }`
    fn call_stmt(&mut self, pair: Pair<'s, Rule>) -> Built<StmtKind> {
        let mut children = Children::of(pair);
        let name = self.ident(children.required(Rule::ident, "a call")?);
        let mut args = Vec::new();
        for argument in children.all(Rule::argument) {
            let inner = Children::of(argument).any("an argument")?;
            args.push(match inner.as_rule() {
                Rule::ident => Argument::Name(self.ident(inner)),
                Rule::string => Argument::Str(self.string(inner)?),
                _ => return Err(self.bug(&inner, "an argument")),
            });
        }
        Ok(StmtKind::Call { name, args })
    }
}
