//! Source files and positions.
//!
//! Every span in Paved is a byte range into one [`Source`]. Lines and columns
//! are computed only when a diagnostic is shown, so the hot path carries two
//! integers per node. Columns are counted in characters (like rustc), a
//! `\r\n` line ending counts as one line break and a lone `\r` as one too (as
//! in YAML), so positions stay right in files saved on Windows or old Macs.
//!
//! Architecture invariant: this module knows nothing about YAML or schemas.

use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Unsaved editor buffers that take the place of files on disk (`paved lsp`):
/// absolute path → text. Wherever a spec or the platform config is read
/// (`load::read`) or specs are discovered (`workspace::open`), a path in the
/// overlay is read from here, and a `platform.yaml` that exists only here is
/// a spec of the workspace too.
#[derive(Debug, Clone, Default)]
pub struct Overlay {
    files: std::collections::BTreeMap<PathBuf, Arc<str>>,
}

impl Overlay {
    pub fn insert(&mut self, path: PathBuf, text: Arc<str>) {
        self.files.insert(path, text);
    }

    pub fn remove(&mut self, path: &Path) {
        self.files.remove(path);
    }

    pub fn get(&self, path: &Path) -> Option<&Arc<str>> {
        self.files.get(path)
    }

    /// Every path, sorted.
    pub fn paths(&self) -> impl Iterator<Item = &Path> {
        self.files.keys().map(PathBuf::as_path)
    }
}

/// A half-open byte range `[start, end)` into a [`Source`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Span {
    pub start: usize,
    pub end: usize,
}

impl Span {
    pub fn new(start: usize, end: usize) -> Span {
        Span {
            start,
            end: end.max(start),
        }
    }

    /// A zero-width span at `at`.
    pub fn point(at: usize) -> Span {
        Span { start: at, end: at }
    }

    pub fn len(&self) -> usize {
        self.end - self.start
    }

    pub fn is_empty(&self) -> bool {
        self.start == self.end
    }
}

/// One input file: its path as the user should see it, and its text.
#[derive(Debug)]
pub struct Source {
    /// The path as it was found (used to read the file and in JSON output).
    pub path: PathBuf,
    /// The path as shown to users: relative to where Paved was run when it can be,
    /// always with `/` separators so output is the same on every machine.
    pub name: String,
    /// The text, without a byte-order mark.
    pub text: String,
    /// Byte offsets at which lines start (the first is always 0); computed on
    /// first use, since most sources (rendered output) never need a position.
    line_starts: std::sync::OnceLock<Vec<usize>>,
}

/// A shared handle on a [`Source`]; diagnostics and nodes keep one.
pub(crate) type SourceRef = Arc<Source>;

impl Source {
    pub fn new(path: impl Into<PathBuf>, name: impl Into<String>, text: String) -> SourceRef {
        Arc::new(Source {
            path: path.into(),
            name: name.into(),
            text,
            line_starts: std::sync::OnceLock::new(),
        })
    }

    /// A source that exists only in memory (rendered blueprint output, tests).
    pub fn virtual_file(name: &str, text: String) -> SourceRef {
        Source::new(PathBuf::from(name), name.to_string(), text)
    }

    fn lines(&self) -> &Vec<usize> {
        self.line_starts.get_or_init(|| line_starts(&self.text))
    }

    /// 1-based line and column (in characters) of a byte offset.
    pub fn line_col(&self, offset: usize) -> (usize, usize) {
        let offset = offset.min(self.text.len());
        let line = match self.lines().binary_search(&offset) {
            Ok(i) => i,
            Err(i) => i - 1,
        };
        let start = self.lines()[line];
        let mut end = offset;
        while !self.text.is_char_boundary(end) {
            end -= 1;
        }
        let col = self.text[start..end].chars().count() + 1;
        (line + 1, col)
    }

    /// The text of the 1-based line `line`, without its line break.
    pub fn line_text(&self, line: usize) -> &str {
        let Some(&start) = self.lines().get(line.saturating_sub(1)) else {
            return "";
        };
        let end = self.lines().get(line).copied().unwrap_or(self.text.len());
        self.text[start..end].trim_end_matches(['\n', '\r'])
    }

    /// The number of lines; a text that ends with a line break has an empty
    /// last line after it.
    pub fn line_count(&self) -> usize {
        self.lines().len()
    }

    /// The byte range of the 1-based line `line` without its line break, and
    /// where the next line starts (the end of the text for the last line).
    pub fn line_bounds(&self, line: usize) -> (usize, usize, usize) {
        let Some(&start) = self.lines().get(line.saturating_sub(1)) else {
            return (self.text.len(), self.text.len(), self.text.len());
        };
        let next = self.lines().get(line).copied().unwrap_or(self.text.len());
        // A line holds no `\r` or `\n` but its break: each one ends a line.
        let end = start + self.text[start..next].trim_end_matches(['\n', '\r']).len();
        (start, end, next)
    }

    /// Every line's text, without its line break: `str::lines` with a lone
    /// `\r` as a break too, so line numbers agree with [`Source::line_col`].
    pub fn line_texts(&self) -> impl Iterator<Item = &str> {
        (1..=self.line_count()).map(|line| self.line_text(line))
    }

    /// The byte offset of a 1-based line and column (in characters).
    pub fn offset_of(&self, line: usize, col: usize) -> usize {
        let Some(&start) = self.lines().get(line.saturating_sub(1)) else {
            return self.text.len();
        };
        let rest = &self.text[start..];
        rest.char_indices()
            .nth(col.saturating_sub(1))
            .map(|(i, _)| start + i)
            .unwrap_or(self.text.len())
    }
}

fn line_starts(text: &str) -> Vec<usize> {
    let bytes = text.as_bytes();
    let mut starts = vec![0];
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'\n' => starts.push(i + 1),
            // A lone `\r` is a line break in YAML too; `\r\n` is one break.
            b'\r' if bytes.get(i + 1) != Some(&b'\n') => starts.push(i + 1),
            _ => {}
        }
        i += 1;
    }
    starts
}

/// Shows `path` relative to `base` when it is inside it, with `/` separators.
pub(crate) fn display_path(path: &Path, base: &Path) -> String {
    let shown = path.strip_prefix(base).unwrap_or(path);
    let mut out = String::new();
    for (i, part) in shown.components().enumerate() {
        if i > 0 && !out.ends_with('/') {
            out.push('/');
        }
        out.push_str(&part.as_os_str().to_string_lossy());
    }
    if out.is_empty() {
        ".".to_string()
    } else {
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_col_counts_characters_and_crlf() {
        let src = Source::virtual_file("x", "a: 1\r\nbé: 2\r\nc: 3\n".to_string());
        assert_eq!(src.line_col(0), (1, 1));
        let b = src.text.find("bé").unwrap();
        assert_eq!(src.line_col(b), (2, 1));
        let two = src.text.find('2').unwrap();
        assert_eq!(src.line_col(two), (2, 5));
        assert_eq!(src.line_text(2), "bé: 2");
        assert_eq!(src.offset_of(2, 5), two);
        assert_eq!(src.line_bounds(2), (6, 12, 14));
        assert_eq!(src.line_count(), 4);
    }

    #[test]
    fn a_lone_cr_ends_a_line() {
        let src = Source::virtual_file("x", "a: 1\rb: 2\r\r\nc".to_string());
        assert_eq!(src.line_count(), 4);
        assert_eq!(src.line_col(src.text.find('b').unwrap()), (2, 1));
        assert_eq!(src.line_bounds(2), (5, 9, 10));
        assert_eq!(src.line_bounds(3), (10, 10, 12));
        assert_eq!(src.line_bounds(4), (12, 13, 13));
        assert_eq!(src.line_text(4), "c");
        let lines: Vec<&str> = src.line_texts().collect();
        assert_eq!(lines, ["a: 1", "b: 2", "", "c"]);
    }
}
