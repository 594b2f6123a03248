//! Where each key of a TOML document is: key paths (`servers.ext.tls.ca_file`) to byte spans and
//! back, so that every error names its key and points at its line and column.

use std::collections::BTreeMap;

use jspec_lang::span::Span;
use toml::Spanned;
use toml::de::{DeTable, DeValue};

/// A key path: table keys, and `[i]` for array items.
pub(super) type KeyPath = Vec<String>;

#[derive(Clone, Copy, Debug)]
struct Entry {
    /// The key as written (`None` for array items).
    key: Option<Span>,
    /// The value; for a `[table]` the header, for an implicit table its first key.
    value: Span,
}

/// Spans of every key and value of one document.
#[derive(Debug, Default)]
pub(super) struct SpanIndex {
    entries: BTreeMap<KeyPath, Entry>,
}

impl SpanIndex {
    pub(super) fn build(document: &Spanned<DeTable<'_>>) -> Self {
        let mut index = SpanIndex::default();
        index.table(&mut Vec::new(), document.get_ref());
        index
    }

    fn table(&mut self, path: &mut KeyPath, table: &DeTable<'_>) {
        for (key, value) in table {
            path.push(key.get_ref().to_string());
            let entry = Entry {
                key: Some(span(key.span())),
                value: span(value.span()),
            };
            self.entries.insert(path.clone(), entry);
            self.value(path, value.get_ref());
            path.pop();
        }
    }

    fn value(&mut self, path: &mut KeyPath, value: &DeValue<'_>) {
        match value {
            DeValue::Table(table) => self.table(path, table),
            DeValue::Array(array) => {
                for (i, item) in array.iter().enumerate() {
                    path.push(format!("[{i}]"));
                    let entry = Entry {
                        key: None,
                        value: span(item.span()),
                    };
                    self.entries.insert(path.clone(), entry);
                    self.value(path, item.get_ref());
                    path.pop();
                }
            }
            _ => {}
        }
    }

    fn entry(&self, path: &[&str]) -> Option<Entry> {
        let path: KeyPath = path.iter().map(|s| s.to_string()).collect();
        self.entries.get(&path).copied()
    }

    /// The span of the key at `path` (of the value for array items).
    pub(super) fn key(&self, path: &[&str]) -> Option<Span> {
        self.entry(path).map(|e| e.key.unwrap_or(e.value))
    }

    /// The span of the value at `path`.
    pub(super) fn value_span(&self, path: &[&str]) -> Option<Span> {
        self.entry(path).map(|e| e.value)
    }

    /// Every key with its span, for checks that look at key names anywhere in the file.
    pub(super) fn keys(&self) -> impl Iterator<Item = (&KeyPath, Span)> {
        self.entries
            .iter()
            .filter_map(|(path, entry)| entry.key.map(|key| (path, key)))
    }

    /// The deepest key path whose key or value contains `offset`.
    pub(super) fn path_at(&self, offset: usize) -> KeyPath {
        let offset = offset as u32;
        let contains = |span: Span| {
            span.start <= offset && (offset < span.end || (span.is_empty() && offset == span.start))
        };
        self.entries
            .iter()
            .filter(|(_, entry)| entry.key.is_some_and(contains) || contains(entry.value))
            .max_by_key(|(path, _)| path.len())
            .map(|(path, _)| path.clone())
            .unwrap_or_default()
    }
}

fn span(range: std::ops::Range<usize>) -> Span {
    Span::new(range.start, range.end)
}

/// `servers.ext.tls.ca_file`, `servers.a.capabilities[1]`; keys that are not bare TOML keys
/// are quoted.
pub(super) fn display_path<S: AsRef<str>>(path: &[S]) -> String {
    let mut out = String::new();
    for segment in path {
        let segment = segment.as_ref();
        if segment.starts_with('[') {
            out.push_str(segment);
            continue;
        }
        if !out.is_empty() {
            out.push('.');
        }
        let bare = !segment.is_empty()
            && segment
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
        if bare {
            out.push_str(segment);
        } else {
            out.push_str(&format!("{segment:?}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEXT: &str = "name = \"x\"\n[servers.a]\nsoftware = \"prosody\"\ncapabilities = [\"mam\", \"fmuc\"]\n[servers.a.tls]\nca_file = \"ca.pem\"\n";

    fn index() -> SpanIndex {
        SpanIndex::build(&DeTable::parse(TEXT).unwrap())
    }

    fn at(path: &[&str], index: &SpanIndex) -> &'static str {
        let span = index.key(path).unwrap();
        &TEXT[span.range()]
    }

    #[test]
    fn keys_and_values_have_spans() {
        let index = index();
        assert_eq!(at(&["servers", "a", "software"], &index), "software");
        assert_eq!(at(&["servers", "a", "tls", "ca_file"], &index), "ca_file");
        assert_eq!(
            at(&["servers", "a", "capabilities", "[1]"], &index),
            "\"fmuc\""
        );
        let header = index.value_span(&["servers", "a", "tls"]).unwrap();
        assert_eq!(&TEXT[header.range()], "[servers.a.tls]");
    }

    #[test]
    fn offsets_map_to_the_deepest_path() {
        let index = index();
        let path = |needle: &str| display_path(&index.path_at(TEXT.find(needle).unwrap()));
        assert_eq!(path("ca_file"), "servers.a.tls.ca_file");
        assert_eq!(path("\"ca.pem\""), "servers.a.tls.ca_file");
        assert_eq!(path("[servers.a.tls]"), "servers.a.tls");
        assert_eq!(path("\"fmuc\""), "servers.a.capabilities[1]");
        assert_eq!(path("[servers.a]"), "servers.a");
        assert_eq!(path("name"), "name");
    }

    #[test]
    fn paths_quote_keys_that_are_not_bare() {
        assert_eq!(display_path(&["servers", "a.b", "x"]), "servers.\"a.b\".x");
    }
}
