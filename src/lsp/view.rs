//! What the features (hover, completion, navigation) read: the buffer at
//! hand, which file it is, and the workspace as the last check left it
//! (platform, services, the paved.yaml tree with its spans).
//!
//! Architecture invariant: lookups in data already checked; runs no check.

use std::path::Path;

use lsp_types::{Location, Position, Range, Uri};

use super::documents::{uri_of, Encoding};
use crate::app::Compiled;
use crate::load::Node;
use crate::model::{Platform, Service};
use crate::source::{Source, SourceRef, Span};
use crate::validate::schema::Kind;

pub(crate) struct View<'a> {
    pub text: &'a str,
    pub kind: Kind,
    pub enc: Encoding,
    /// The workspace as last checked, when the file is in one.
    pub compiled: Option<&'a Compiled>,
    /// paved.yaml as read by the last check (buffer or file) and its tree.
    pub config: Option<(SourceRef, Node)>,
    /// The URI of an open file, as the client named it.
    pub uri_for: &'a dyn Fn(&Path) -> Option<Uri>,
}

impl View<'_> {
    pub(crate) fn platform(&self) -> Option<&Platform> {
        self.compiled.and_then(|c| c.platform.as_ref())
    }

    pub(crate) fn services(&self) -> &[Service] {
        self.compiled.map_or(&[], |c| c.services.as_slice())
    }

    pub(crate) fn service(&self, name: &str) -> Option<&Service> {
        self.services().iter().find(|s| s.meta.name == name)
    }

    /// The position of byte `offset` of this buffer.
    pub(crate) fn position(&self, offset: usize) -> Position {
        position(self.text, offset, self.enc)
    }

    pub(crate) fn range(&self, a: usize, b: usize) -> Range {
        Range {
            start: self.position(a),
            end: self.position(b),
        }
    }

    /// A place in paved.yaml: the key at `pointer` (`/spec/sizes/medium`).
    pub(crate) fn config_key(&self, pointer: &str) -> Option<Location> {
        let (src, doc) = self.config.as_ref()?;
        let (node, key) = doc.pointer(pointer)?;
        self.location(src, key.unwrap_or(node.span))
    }

    /// A place in a source, as a location the client can open.
    pub(crate) fn location(&self, src: &Source, span: Span) -> Option<Location> {
        let uri = (self.uri_for)(&src.path).or_else(|| uri_of(&src.path))?;
        let at = |o: usize| position(&src.text, o, self.enc);
        Some(Location {
            uri,
            range: Range {
                start: at(span.start),
                end: at(span.end),
            },
        })
    }
}

/// The LSP position of byte `offset` in `text`.
pub(crate) fn position(text: &str, offset: usize, enc: Encoding) -> Position {
    let mut offset = offset.min(text.len());
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    let before = &text[..offset];
    let line = before.matches('\n').count();
    let start = before.rfind('\n').map_or(0, |i| i + 1);
    Position {
        line: u32::try_from(line).unwrap_or(u32::MAX),
        character: u32::try_from(enc.len(&text[start..offset])).unwrap_or(u32::MAX),
    }
}
