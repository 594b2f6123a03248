//! Byte offsets (what spans hold) to LSP positions and back. LSP counts columns in UTF-16 code
//! units, so a line with `é` or an emoji before the cursor shifts the two apart.

use lsp_types::{Position, Range};

/// Line starts of one text, for conversions in both directions.
#[derive(Debug)]
pub(crate) struct LineIndex<'t> {
    text: &'t str,
    line_starts: Vec<usize>,
}

impl<'t> LineIndex<'t> {
    pub(crate) fn new(text: &'t str) -> Self {
        let mut line_starts = vec![0];
        line_starts.extend(text.match_indices('\n').map(|(i, _)| i + 1));
        LineIndex { text, line_starts }
    }

    pub(crate) fn position(&self, offset: usize) -> Position {
        let mut offset = offset.min(self.text.len());
        while !self.text.is_char_boundary(offset) {
            offset -= 1;
        }
        let line = self.line_starts.partition_point(|&start| start <= offset) - 1;
        let start = self.line_starts[line];
        let column = self.text[start..offset].encode_utf16().count();
        Position::new(saturate(line), saturate(column))
    }

    pub(crate) fn range(&self, span: jspec_lang::span::Span) -> Range {
        Range::new(
            self.position(span.start as usize),
            self.position(span.end as usize),
        )
    }

    /// The byte offset of a position; past the end of a line means its end (before the newline),
    /// past the last line means the end of the text.
    pub(crate) fn offset(&self, position: Position) -> usize {
        let Some(&start) = self.line_starts.get(position.line as usize) else {
            return self.text.len();
        };
        let line = &self.text[start..];
        let line = &line[..line.find('\n').unwrap_or(line.len())];
        let mut units = 0;
        for (index, c) in line.char_indices() {
            if units >= position.character as usize {
                return start + index;
            }
            units += c.len_utf16();
        }
        start + line.len()
    }

    /// The range of the whole text.
    pub(crate) fn full_range(&self) -> Range {
        Range::new(Position::new(0, 0), self.position(self.text.len()))
    }
}

fn saturate(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

/// Whether a character can be part of a name or keyword (`wrong-host`, `c1`, `expect_items`).
pub(crate) fn is_word_char(c: char) -> bool {
    c.is_alphanumeric() || c == '_' || c == '-'
}

/// The word around a byte offset, with its start offset.
pub(crate) fn word_at(text: &str, offset: usize) -> Option<(usize, &str)> {
    let offset = offset.min(text.len());
    if !text.is_char_boundary(offset) {
        return None;
    }
    let start = text[..offset]
        .char_indices()
        .rev()
        .take_while(|&(_, c)| is_word_char(c))
        .last()
        .map_or(offset, |(i, _)| i);
    let end = text[offset..]
        .char_indices()
        .find(|&(_, c)| !is_word_char(c))
        .map_or(text.len(), |(i, _)| offset + i);
    (start < end).then(|| (start, &text[start..end]))
}

/// The text of the line before an offset, and where that line starts.
pub(crate) fn line_prefix(text: &str, offset: usize) -> (usize, &str) {
    let mut offset = offset.min(text.len());
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    let start = text[..offset].rfind('\n').map_or(0, |i| i + 1);
    (start, &text[start..offset])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utf16_columns_round_trip() {
        let text = "a é😀b\nsecond";
        let index = LineIndex::new(text);
        let b = text.find('b').unwrap_or(0);
        assert_eq!(index.position(b), Position::new(0, 5));
        assert_eq!(index.offset(Position::new(0, 5)), b);
        assert_eq!(index.offset(Position::new(1, 99)), text.len());
        assert_eq!(index.offset(Position::new(7, 0)), text.len());
        assert_eq!(index.position(text.len() + 10), Position::new(1, 6));
    }

    #[test]
    fn words_and_prefixes() {
        assert_eq!(word_at("connect alice", 10), Some((8, "alice")));
        assert_eq!(word_at("a  b", 2), None);
        assert_eq!(line_prefix("x\n  join bo", 11), (2, "  join bo"));
    }
}
