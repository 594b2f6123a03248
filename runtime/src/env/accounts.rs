//! The accounts of an external server: pre-provisioned users whose JID is written in the file
//! or read from a variable, and whose password is always read from a variable.

use std::collections::BTreeMap;

use jspec_lang::diagnostic::Code;

use super::build::Context;
use super::hints::key_hint;
use super::model::Account;
use super::raw::RawUser;
use super::spans::display_path;
use super::value::is_host_name;

pub(super) fn users(
    cx: &mut Context<'_>,
    role: &str,
    raw: BTreeMap<String, RawUser>,
) -> Option<BTreeMap<String, Account>> {
    let mut users = BTreeMap::new();
    let mut ok = true;
    for (name, user) in raw {
        let path = ["servers", role, "users", name.as_str()];
        ok &= cx.name(&path, "user");
        let key = |k: &'static str| [path[0], path[1], path[2], path[3], k];
        let jid = match (user.jid, user.jid_env) {
            (Some(_), Some(_)) => {
                let span = cx.key_span(&key("jid_env"));
                let message = format!("`{}` has both `jid` and `jid_env`", display_path(&path));
                cx.report(
                    Code::EnvBadValue,
                    span,
                    message,
                    "one too many",
                    key_hint("jid"),
                );
                None
            }
            (None, None) => {
                let span = cx.value_span(&path);
                let message = format!("missing key `{}.jid_env`", display_path(&path));
                cx.report(
                    Code::EnvMissingKey,
                    span,
                    message,
                    "whose account?",
                    key_hint("jid"),
                );
                None
            }
            (Some(jid), None) => checked_jid(cx, &key("jid"), jid, None),
            (None, Some(variable)) => cx
                .variable(&key("jid_env"), &variable)
                .and_then(|jid| checked_jid(cx, &key("jid_env"), jid, Some(&variable))),
        };
        let password = cx.secret(&key("password_env"), &user.password_env);
        match (jid, password) {
            (Some(jid), Some(password)) => {
                users.insert(name, Account { jid, password });
            }
            _ => ok = false,
        }
    }
    ok.then_some(users)
}

fn checked_jid(
    cx: &mut Context<'_>,
    path: &[&str],
    jid: String,
    variable: Option<&str>,
) -> Option<String> {
    let valid = jid
        .parse::<jid::BareJid>()
        .is_ok_and(|bare| bare.node().is_some() && is_host_name(bare.domain().as_str()));
    if valid {
        return Some(jid);
    }
    let span = cx.value_span(path);
    let source = variable.map_or(String::new(), |v| format!(" (from `{v}`)"));
    cx.report(
        Code::EnvBadValue,
        span,
        format!(
            "`{}`: `{jid}`{source} is not a bare JID",
            display_path(path)
        ),
        "expected user@domain",
        key_hint("jid"),
    );
    None
}
