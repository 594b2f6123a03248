//! What an environment file changes in a managed Prosody: modules beyond the lab's own
//! (`modules = ["server_contact_info"]`), lab modules it turns off (`modules_disabled =
//! ["bookmarks"]`) and options (`[servers.a.options]`), written as TOML and rendered as Lua
//! for `prosody.cfg.lua`.

use jspec_lang::diagnostic::Code;

use super::build::Context;
use crate::lab::ProsodyExtensions;

/// Checks the `modules`, `modules_disabled` and `options` of a managed Prosody; what is wrong
/// is reported and left out.
pub(super) fn prosody_extensions(
    cx: &mut Context<'_>,
    role: &str,
    modules: Option<Vec<String>>,
    modules_disabled: Option<Vec<String>>,
    options: Option<toml::Table>,
) -> ProsodyExtensions {
    let mut extensions = ProsodyExtensions {
        modules: module_names(cx, role, "modules", modules),
        modules_disabled: module_names(cx, role, "modules_disabled", modules_disabled),
        ..ProsodyExtensions::default()
    };
    for (key, value) in options.unwrap_or_default() {
        let path = ["servers", role, "options", key.as_str()];
        if matches!(
            key.as_str(),
            "modules_enabled" | "modules_disabled" | "admins"
        ) {
            let span = cx.key_span(&path);
            let help = match key.as_str() {
                "admins" => "declare administrators in the cases: `user boss on a as admin`".into(),
                "modules_enabled" => format!("list the modules in `servers.{role}.modules`"),
                _ => format!("list the modules in `servers.{role}.modules_disabled`"),
            };
            cx.report(
                Code::EnvBadValue,
                span,
                format!("`servers.{role}.options.{key}` would replace what the lab needs"),
                "jspec writes this option itself",
                help,
            );
            continue;
        }
        if !is_lua_name(&key) {
            let span = cx.key_span(&path);
            cx.report(
                Code::EnvBadValue,
                span,
                format!("`servers.{role}.options.{key}` is not a Prosody option name"),
                "letters, digits and `_`",
                "Prosody options are Lua names, e.g. `contact_info`".into(),
            );
            continue;
        }
        match lua(&value) {
            Ok(text) => extensions.options.push((key, text)),
            Err(what) => {
                let span = cx.value_span(&path);
                cx.report(
                    Code::EnvBadValue,
                    span,
                    format!(
                        "`servers.{role}.options.{key}` holds {what}, which Lua has no form for"
                    ),
                    "not a string, number, boolean, array or table",
                    "write the date or time as a string".into(),
                );
            }
        }
    }
    extensions
}

/// The module names of `servers.ROLE.KEY`, each checked.
fn module_names(
    cx: &mut Context<'_>,
    role: &str,
    key: &str,
    names: Option<Vec<String>>,
) -> Vec<String> {
    let mut valid = Vec::new();
    for (i, module) in names.unwrap_or_default().into_iter().enumerate() {
        if is_module_name(&module) {
            valid.push(module);
            continue;
        }
        let item = format!("[{i}]");
        let span = cx.value_span(&["servers", role, key, &item]);
        cx.report(
            Code::EnvBadValue,
            span,
            format!("`servers.{role}.{key}{item}`: `{module}` is not a Prosody module name"),
            "a module's name, without `mod_`",
            "write the name as in `modules_enabled`: e.g. \"server_contact_info\"".into(),
        );
    }
    valid
}

/// `clock = "2008-08-22T21:09:04Z"`: the time a managed Prosody's clock stands still at.
pub(super) fn frozen_clock(
    cx: &mut Context<'_>,
    role: &str,
    text: &str,
) -> Option<time::OffsetDateTime> {
    let parsed = time::OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339);
    match parsed {
        Ok(at) => Some(at),
        Err(error) => {
            let span = cx.value_span(&["servers", role, "clock"]);
            cx.report(
                Code::EnvBadValue,
                span,
                format!("`servers.{role}.clock`: `{text}` is not a date and time ({error})"),
                "an RFC 3339 time is needed",
                "write it as \"2008-08-22T21:09:04Z\"".into(),
            );
            None
        }
    }
}

fn is_module_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

fn is_lua_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// A TOML value as a Lua expression: strings quoted, arrays and tables as Lua tables.
fn lua(value: &toml::Value) -> Result<String, &'static str> {
    Ok(match value {
        toml::Value::String(text) => lua_string(text),
        toml::Value::Integer(n) => n.to_string(),
        toml::Value::Float(x) => x.to_string(),
        toml::Value::Boolean(b) => b.to_string(),
        toml::Value::Datetime(_) => return Err("a date"),
        toml::Value::Array(items) => {
            let items: Result<Vec<String>, _> = items.iter().map(lua).collect();
            format!("{{ {} }}", items?.join("; "))
        }
        toml::Value::Table(table) => {
            let fields: Result<Vec<String>, &'static str> = table
                .iter()
                .map(|(k, v)| Ok(format!("[{}] = {}", lua_string(k), lua(v)?)))
                .collect();
            format!("{{ {} }}", fields?.join("; "))
        }
    })
}

/// A Lua string literal: Lua reads `\"`, `\\`, `\n` and decimal escapes like Rust's debug form
/// except for `\u{...}`, so control characters are written as `\ddd`.
fn lua_string(text: &str) -> String {
    let mut out = String::from("\"");
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if (c as u32) < 0x20 || c == '\u{7f}' => out.push_str(&format!("\\{:03}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn toml_values_become_lua() {
        let table: toml::Table = toml::from_str(
            r#"contact = { abuse = ["mailto:a@b", "xmpp:a@b"] }
               limit = 10
               on = true
               quote = "say \"hi\"\n""#,
        )
        .expect("toml");
        let lua_of = |key: &str| lua(&table[key]).expect("lua");
        assert_eq!(
            lua_of("contact"),
            r#"{ ["abuse"] = { "mailto:a@b"; "xmpp:a@b" } }"#
        );
        assert_eq!(lua_of("limit"), "10");
        assert_eq!(lua_of("on"), "true");
        assert_eq!(lua_of("quote"), r#""say \"hi\"\010""#);
    }

    #[test]
    fn names_are_checked() {
        assert!(is_module_name("server_contact_info"));
        assert!(!is_module_name("x\"; os.exit() --"));
        assert!(is_lua_name("contact_info"));
        assert!(!is_lua_name("1x") && !is_lua_name("a-b") && !is_lua_name(""));
    }
}
