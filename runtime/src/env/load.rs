//! Reading an environment file in four passes, each turning its failures into diagnostics that
//! name the file, the key path, the line and column, what was expected and a hint:
//! TOML syntax, secrets written into the file, the serde schema, then the rules in `build`.

use std::path::Path;

use jspec_lang::diagnostic::{Code, Diagnostic, did_you_mean};
use jspec_lang::span::{Origin, SourceId, SourceMap, Span};
use toml::de::DeTable;

use super::Environment;
use super::build::{Context, build};
use super::error::{EnvError, InvalidFile, quoted};
use super::raw::RawEnvironment;
use super::spans::{KeyPath, SpanIndex, display_path};

/// Where `*_env` keys are looked up (the process environment, or a map in tests).
pub type Variables<'a> = &'a dyn Fn(&str) -> Option<String>;

/// Keys that hold secrets: refused anywhere in a file.
const SECRET_KEYS: &[&str] = &[
    "password",
    "passwd",
    "pass",
    "secret",
    "token",
    "passphrase",
    "api_key",
    "apikey",
    "private_key",
];

/// Parses environment text. `name` is how the file is shown in errors; relative paths in it
/// are relative to `base`.
pub(super) fn parse(
    name: &str,
    origin: Origin,
    text: String,
    base: &Path,
    vars: Variables<'_>,
) -> Result<Environment, EnvError> {
    let mut sources = SourceMap::new();
    let file = sources.add(name, origin, text);
    let result = parse_text(file, sources.get(file).text(), name, base, vars);
    result.map_err(|diagnostics| {
        EnvError::Invalid(Box::new(InvalidFile {
            sources,
            diagnostics,
        }))
    })
}

fn parse_text(
    file: SourceId,
    text: &str,
    name: &str,
    base: &Path,
    vars: Variables<'_>,
) -> Result<Environment, Vec<Diagnostic>> {
    let document = DeTable::parse(text).map_err(|error| vec![syntax(file, &error)])?;
    let index = SpanIndex::build(&document);
    let secrets = secrets_in_file(file, &index);
    if !secrets.is_empty() {
        return Err(secrets);
    }
    let raw: RawEnvironment =
        toml::from_str(text).map_err(|error| vec![schema(file, &index, &error)])?;
    let context = Context {
        file,
        index: &index,
        base,
        file_name: name,
        vars,
        diagnostics: Vec::new(),
    };
    build(raw, context)
}

fn span_of(error: &toml::de::Error) -> Span {
    error
        .span()
        .map_or(Span::default(), |range| Span::new(range.start, range.end))
}

fn syntax(file: SourceId, error: &toml::de::Error) -> Diagnostic {
    Diagnostic::error(
        Code::EnvSyntax,
        file,
        format!(
            "the environment file is not valid TOML: {}",
            error.message()
        ),
    )
    .with_label(span_of(error), "here")
    .with_help("environment files are TOML; docs/environment.md shows every key")
}

fn secrets_in_file(file: SourceId, index: &SpanIndex) -> Vec<Diagnostic> {
    // A managed server's `options` are its configuration, written as given into its config
    // file in the run folder (docs/environment.md): fixtures such as a TURN server's test
    // password, not credentials jspec logs in with.
    let server_option =
        |path: &[String]| path.len() > 3 && path[0] == "servers" && path[2] == "options";
    index
        .keys()
        .filter(|(path, _)| {
            !server_option(path)
                && path
                    .last()
                    .is_some_and(|key| SECRET_KEYS.contains(&key.to_ascii_lowercase().as_str()))
        })
        .map(|(path, span)| {
            let key = path.last().map_or("password", String::as_str);
            Diagnostic::error(
                Code::EnvSecretInFile,
                file,
                format!(
                    "`{}` writes a secret into the environment file",
                    display_path(path)
                ),
            )
            .with_label(span, "secrets never go into environment files")
            .with_help(format!(
                "put the value in an environment variable and name the variable instead: \
                 `{key}_env = \"{}\"`",
                variable_name_for(path)
            ))
        })
        .collect()
}

/// A variable name suggested for a secret key: `servers.of.users.alice.password` ->
/// `OF_ALICE_PASSWORD`.
fn variable_name_for(path: &KeyPath) -> String {
    path.iter()
        .filter(|segment| !["servers", "databases", "users", "nodes"].contains(&segment.as_str()))
        .map(|segment| {
            segment
                .chars()
                .map(|c| {
                    if c.is_ascii_alphanumeric() {
                        c.to_ascii_uppercase()
                    } else {
                        '_'
                    }
                })
                .collect::<String>()
        })
        .collect::<Vec<_>>()
        .join("_")
}

/// Turns a serde error (its message and span) into a diagnostic with the key path.
fn schema(file: SourceId, index: &SpanIndex, error: &toml::de::Error) -> Diagnostic {
    let span = span_of(error);
    let path = index.path_at(span.start as usize);
    let message = error.message();
    let where_ = |path: &[String]| match path {
        [] => "the top level".to_string(),
        path => format!("`{}`", display_path(path)),
    };
    if let Some((field, expected)) = ticked_prefix(message, "unknown field `") {
        let table = &path[..path.len().saturating_sub(1)];
        let known = ticked(&expected);
        let help = match did_you_mean(&field, known.iter().map(String::as_str)) {
            Some(best) => format!(
                "did you mean `{best}`? keys of {}: {}",
                where_(table),
                quoted(&known)
            ),
            None if known.is_empty() => format!("{} takes no keys", where_(table)),
            None => format!("keys of {}: {}", where_(table), quoted(&known)),
        };
        let mut full = table.to_vec();
        full.push(field);
        return Diagnostic::error(
            Code::EnvUnknownKey,
            file,
            format!("unknown key `{}`", display_path(&full)),
        )
        .with_label(span, format!("not a key of {}", where_(table)))
        .with_help(help);
    }
    if let Some((field, _)) = ticked_prefix(message, "missing field `") {
        let mut full = path.clone();
        full.push(field.clone());
        return Diagnostic::error(
            Code::EnvMissingKey,
            file,
            format!("missing key `{}`", display_path(&full)),
        )
        .with_label(span, format!("{} needs `{field}`", where_(&path)))
        .with_help(super::hints::key_hint(&field));
    }
    if let Some((value, expected)) = ticked_prefix(message, "unknown variant `") {
        let allowed = ticked(&expected);
        let help = match did_you_mean(&value, allowed.iter().map(String::as_str)) {
            Some(best) => format!(
                "did you mean `{best}`? expected one of {}",
                quoted(&allowed)
            ),
            None => format!("expected one of {}", quoted(&allowed)),
        };
        return Diagnostic::error(
            Code::EnvBadValue,
            file,
            format!("{} cannot be `{value}`", where_(&path)),
        )
        .with_label(span, "not one of the accepted values")
        .with_help(help);
    }
    let (message, label) = match message.strip_prefix("invalid type: ") {
        Some(detail) => (
            format!("wrong type for {}", where_(&path)),
            plain_types(&format!("found {detail}")),
        ),
        None => (
            format!("bad value for {}", where_(&path)),
            plain_types(message),
        ),
    };
    let key = path
        .iter()
        .rev()
        .find(|s| !s.starts_with('['))
        .cloned()
        .unwrap_or_default();
    Diagnostic::error(Code::EnvBadValue, file, message)
        .with_label(span, label)
        .with_help(super::hints::key_hint(&key))
}

/// For "unknown field `x`, expected ...": `x` and the rest.
fn ticked_prefix(message: &str, prefix: &str) -> Option<(String, String)> {
    let rest = message.strip_prefix(prefix)?;
    let (word, rest) = rest.split_once('`')?;
    Some((word.to_string(), rest.to_string()))
}

/// Every `word` in backticks.
fn ticked(text: &str) -> Vec<String> {
    text.split('`')
        .skip(1)
        .step_by(2)
        .map(str::to_string)
        .collect()
}

/// Serde's names for types, in the words of TOML.
fn plain_types(message: &str) -> String {
    let mut out = message
        .replace("a map", "a table")
        .replace("map", "table")
        .replace("a sequence", "an array")
        .replace("sequence", "array")
        .replace("a boolean", "true or false");
    if let Some(at) = out.find("struct ") {
        let end = out[at + 7..]
            .find(|c: char| !c.is_alphanumeric())
            .map_or(out.len(), |i| at + 7 + i);
        out.replace_range(at..end, "a table");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggested_variable_names() {
        let path: KeyPath = ["servers", "of", "users", "alice", "password"]
            .map(String::from)
            .to_vec();
        assert_eq!(variable_name_for(&path), "OF_ALICE_PASSWORD");
    }

    #[test]
    fn serde_words_become_toml_words() {
        assert_eq!(
            plain_types("integer `3`, expected a map"),
            "integer `3`, expected a table"
        );
        assert_eq!(
            plain_types("string \"x\", expected struct RawTls"),
            "string \"x\", expected a table"
        );
        assert_eq!(ticked("expected one of `a`, `b` or `c`"), ["a", "b", "c"]);
    }
}
