//! The editor's open buffers: their text by canonical path, the URI the
//! client named each by, and edits applied in the negotiated position
//! encoding.
//!
//! Architecture invariant: text and positions only; knows nothing of YAML,
//! specs or diagnostics.

use std::collections::BTreeMap;
use std::path::{Component, Path, PathBuf};
use std::sync::Arc;

use lsp_types::{Position, Range, Uri};

use crate::source::Overlay;

/// How LSP positions count a line's characters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Encoding {
    /// UTF-16 code units: the protocol's default.
    Utf16,
    /// Bytes, when the client offers `utf-8`.
    Utf8,
}

impl Encoding {
    /// The length of `s` in this encoding's units.
    pub(crate) fn len(self, s: &str) -> usize {
        match self {
            Encoding::Utf16 => s.encode_utf16().count(),
            Encoding::Utf8 => s.len(),
        }
    }
}

#[derive(Debug)]
pub(crate) struct Document {
    pub uri: Uri,
    pub text: String,
}

/// The open documents, by canonical path.
#[derive(Debug, Default)]
pub(crate) struct Documents {
    open: BTreeMap<PathBuf, Document>,
}

impl Documents {
    /// Keeps a buffer if it is a `platform.yaml` or a `paved.yaml`; an
    /// editor that sends every YAML file gets diagnostics for those only.
    pub(crate) fn open(&mut self, uri: Uri, text: String) {
        let paved_file = |p: &Path| {
            p.file_name()
                .is_some_and(|n| n == "platform.yaml" || n == "paved.yaml")
        };
        if let Some(path) = path_of(&uri).filter(|p| paved_file(p)) {
            self.open.insert(path, Document { uri, text });
        }
    }

    /// Forgets a buffer; its URI, for clearing its diagnostics.
    pub(crate) fn close(&mut self, uri: &Uri) -> Option<Uri> {
        let path = path_of(uri)?;
        self.open.remove(&path).map(|d| d.uri)
    }

    /// Applies one change: the whole text (`range: None`), or a range
    /// replaced. A position past a line's end means the line's end, and one
    /// past the last line the document's end (as the protocol says), so no
    /// edit can fail. `false` when the document is not open.
    pub(crate) fn change(
        &mut self,
        uri: &Uri,
        range: Option<Range>,
        text: &str,
        enc: Encoding,
    ) -> bool {
        let Some(doc) = path_of(uri).and_then(|p| self.open.get_mut(&p)) else {
            return false;
        };
        match range {
            None => doc.text = text.to_string(),
            Some(r) => {
                let a = offset(&doc.text, r.start, enc);
                let b = offset(&doc.text, r.end, enc);
                let (a, b) = (a.min(b), a.max(b));
                doc.text.replace_range(a..b, text);
            }
        }
        true
    }

    pub(crate) fn paths(&self) -> impl Iterator<Item = &Path> {
        self.open.keys().map(PathBuf::as_path)
    }

    pub(crate) fn get(&self, path: &Path) -> Option<&Document> {
        self.open.get(path)
    }

    /// Every buffer, for the compiler to read instead of the disk.
    pub(crate) fn overlay(&self) -> Overlay {
        let mut o = Overlay::default();
        for (path, doc) in &self.open {
            o.insert(path.clone(), Arc::from(doc.text.as_str()));
        }
        o
    }
}

/// The byte offset of an LSP position in `text`, clamped to the text.
pub(crate) fn offset(text: &str, pos: Position, enc: Encoding) -> usize {
    let bytes = text.as_bytes();
    let mut start = 0;
    for _ in 0..pos.line {
        let Some(i) = bytes[start..]
            .iter()
            .position(|b| *b == b'\n' || *b == b'\r')
        else {
            return text.len();
        };
        let mut next = start + i + 1;
        if bytes[start + i] == b'\r' && bytes.get(next) == Some(&b'\n') {
            next += 1;
        }
        start = next;
    }
    let target = pos.character as usize;
    let mut units = 0usize;
    for (i, c) in text[start..].char_indices() {
        let width = match enc {
            Encoding::Utf16 => c.len_utf16(),
            Encoding::Utf8 => c.len_utf8(),
        };
        if c == '\n' || c == '\r' || units + width > target {
            return start + i;
        }
        units += width;
    }
    text.len()
}

/// The local path a `file:` URI names, with its existing part resolved
/// (symlinks, `..`) the way the workspace resolves paths; `None` for other
/// schemes.
pub(crate) fn path_of(uri: &Uri) -> Option<PathBuf> {
    let s = uri.as_str();
    let rest = s.strip_prefix("file://")?;
    let rest = rest.strip_prefix("localhost").unwrap_or(rest);
    let rest = rest.split(['?', '#']).next().unwrap_or_default();
    let path = PathBuf::from(percent_decode(rest)?);
    if !path.is_absolute() || path.components().any(|c| c == Component::ParentDir) {
        return None;
    }
    // The nearest existing ancestor, canonical, and the rest as given: a
    // buffer not saved yet (in a folder not made yet) keeps its place.
    let mut existing = path.as_path();
    let mut tail = Vec::new();
    loop {
        if let Ok(real) = existing.canonicalize() {
            let mut out = real;
            for part in tail.iter().rev() {
                out.push(part);
            }
            return Some(out);
        }
        tail.push(existing.file_name()?.to_os_string());
        existing = existing.parent()?;
    }
}

/// A `file:` URI for a local path (for related locations in files that are
/// not open).
pub(crate) fn uri_of(path: &Path) -> Option<Uri> {
    let s = path.to_str()?;
    if !path.is_absolute() {
        return None;
    }
    let mut out = String::from("file://");
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"/-._~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out.parse().ok()
}

fn percent_decode(s: &str) -> Option<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = s.get(i + 1..i + 3)?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pos(line: u32, character: u32) -> Position {
        Position { line, character }
    }

    #[test]
    fn offsets_count_utf16_units_and_clamp() {
        let text = "a: 1\r\nx😀: 2\rz";
        assert_eq!(offset(text, pos(0, 0), Encoding::Utf16), 0);
        assert_eq!(offset(text, pos(1, 3), Encoding::Utf16), 6 + 5);
        assert_eq!(offset(text, pos(1, 5), Encoding::Utf8), 6 + 5);
        // Past the line's end: the line's end; past the last line: the end.
        assert_eq!(offset(text, pos(0, 99), Encoding::Utf16), 4);
        assert_eq!(offset(text, pos(2, 0), Encoding::Utf16), text.len() - 1);
        assert_eq!(offset(text, pos(99, 3), Encoding::Utf16), text.len());
        // Inside a surrogate pair: before the character.
        assert_eq!(offset(text, pos(1, 2), Encoding::Utf16), 6 + 1);
    }

    #[test]
    fn only_specs_and_platform_configs_are_kept() {
        let dir = std::env::temp_dir().canonicalize().unwrap();
        let mut docs = Documents::default();
        for name in ["values.yaml", "platform.yaml", "paved.yaml", "platform.yml"] {
            docs.open(uri_of(&dir.join(name)).unwrap(), String::new());
        }
        let kept: Vec<&Path> = docs.paths().collect();
        assert_eq!(kept, [dir.join("paved.yaml"), dir.join("platform.yaml")]);
    }

    #[test]
    fn file_uris_round_trip() {
        let dir = std::env::temp_dir().canonicalize().unwrap();
        let p = dir.join("not yet/made é/platform.yaml");
        let uri = uri_of(&p).unwrap();
        assert!(uri.as_str().contains("not%20yet"), "{}", uri.as_str());
        assert_eq!(path_of(&uri), Some(p));
        assert_eq!(path_of(&"untitled:Untitled-1".parse().unwrap()), None);
        assert_eq!(path_of(&"file:///a/../b".parse().unwrap()), None);
    }
}
