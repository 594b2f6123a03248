//! What an environment file adds to a managed Prosody: modules beyond the lab's own
//! (`modules = ["server_contact_info"]`) and options (`[servers.a.options]`), written as TOML
//! and rendered as Lua for `prosody.cfg.lua`.

use jspec_lang::diagnostic::Code;

use super::build::Context;
use crate::lab::ProsodyExtensions;

/// Checks the `modules` and `options` of a managed Prosody; what is wrong is reported and
/// left out.
pub(super) fn prosody_extensions(
    cx: &mut Context<'_>,
    role: &str,
    modules: Option<Vec<String>>,
    options: Option<toml::Table>,
) -> ProsodyExtensions {
    let mut extensions = ProsodyExtensions::default();
    for (i, module) in modules.unwrap_or_default().into_iter().enumerate() {
        if is_module_name(&module) {
            extensions.modules.push(module);
            continue;
        }
        let item = format!("[{i}]");
        let span = cx.value_span(&["servers", role, "modules", &item]);
        cx.report(
            Code::EnvBadValue,
            span,
            format!("`servers.{role}.modules{item}`: `{module}` is not a Prosody module name"),
            "a module's name, without `mod_`",
            "write the name as in `modules_enabled`: e.g. \"server_contact_info\"".into(),
        );
    }
    for (key, value) in options.unwrap_or_default() {
        let path = ["servers", role, "options", key.as_str()];
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
