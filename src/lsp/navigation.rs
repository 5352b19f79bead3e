//! Go to definition (`component:NAME` → that service's spec; a size or an
//! environment → its entry in paved.yaml) and document symbols (the
//! top-level keys and their children, with their ranges).
//!
//! Architecture invariant: places already known to the last check or the
//! loader's spans; runs no check.

use lsp_types::{DocumentSymbol, Location, SymbolKind};

use super::context;
use super::view::View;
use crate::load::{self, Node, Value};
use crate::source::{Source, Span};
use crate::validate::schema::Kind;

pub(crate) fn definition(v: &View, offset: usize) -> Option<Location> {
    let (word, _, _) = context::word(v.text, offset);
    if let Some(name) = word.strip_prefix("component:") {
        let s = v.service(name)?;
        let doc = &s.doc;
        let span = doc
            .pointer("/metadata/name")
            .map_or(Span::new(0, 0), |(n, _)| n.span);
        return v.location(&s.source, span);
    }
    if v.kind != Kind::Application {
        return None;
    }
    let ctx = context::at(v.text, offset);
    let (key, _, _) = ctx.key.clone()?;
    if ctx.in_key && ctx.path == ["spec", "environments"] {
        return v.config_key(&format!("/spec/environments/{}", pointer_escape(&key)));
    }
    let (value, _, _) = ctx.value.clone()?;
    match key.as_str() {
        "size" => v.config_key(&format!("/spec/sizes/{}", pointer_escape(&value))),
        _ => None,
    }
}

fn pointer_escape(s: &str) -> String {
    s.replace('~', "~0").replace('/', "~1")
}

/// The document's keys as symbols: the top-level ones and their children
/// (and theirs, down to three levels).
pub(crate) fn symbols(v: &View) -> Vec<DocumentSymbol> {
    let src = Source::virtual_file("doc.yaml", v.text.to_string());
    let (Some(doc), _) = load::load_mapping(&src, "the document") else {
        return Vec::new();
    };
    // The loader does not count a byte-order mark; the buffer does.
    let shift = if v.text.starts_with('\u{feff}') { 3 } else { 0 };
    children(v, &doc, shift, 3)
}

#[allow(deprecated)] // `DocumentSymbol::deprecated` has to be named.
fn children(v: &View, node: &Node, shift: usize, depth: usize) -> Vec<DocumentSymbol> {
    let Value::Map(entries) = &node.value else {
        return Vec::new();
    };
    entries
        .iter()
        .map(|e| {
            let whole = Span::new(e.key_span.start, e.value.span.end.max(e.key_span.end));
            let kind = match &e.value.value {
                Value::Map(_) => SymbolKind::OBJECT,
                Value::Seq(_) => SymbolKind::ARRAY,
                Value::Str(_) => SymbolKind::STRING,
                Value::Int(_) | Value::Float(_) => SymbolKind::NUMBER,
                Value::Bool(_) => SymbolKind::BOOLEAN,
                Value::Null => SymbolKind::NULL,
            };
            let detail = match &e.value.value {
                Value::Str(s) => Some(s.clone()),
                Value::Int(i) => Some(i.to_string()),
                Value::Seq(items) => Some(format!("{} items", items.len())),
                _ => None,
            };
            let kids = if depth > 1 {
                children(v, &e.value, shift, depth - 1)
            } else {
                Vec::new()
            };
            DocumentSymbol {
                name: e.key.clone(),
                detail,
                kind,
                tags: None,
                deprecated: None,
                range: v.range(whole.start + shift, whole.end + shift),
                selection_range: v.range(e.key_span.start + shift, e.key_span.end + shift),
                children: (!kids.is_empty()).then_some(kids),
            }
        })
        .collect()
}
