//! Paved's diagnostics as LSP diagnostics: byte spans to line and character
//! in the negotiated encoding, code, severity, `source: "paved"`, the help
//! after the message, the other places as related information, what
//! `paved explain CODE` says in `data.explain`, and the finding's facts for
//! programs in `data.fields` (a quick fix's `replacement`).
//!
//! Architecture invariant: a conversion of findings already made; it runs no
//! check and reads no file.

use std::path::Path;

use lsp_types::{
    DiagnosticRelatedInformation, DiagnosticSeverity, Location, NumberOrString, Position, Range,
    Uri,
};
use serde_json::json;

use super::documents::{uri_of, Encoding};
use crate::diag::{Diagnostic, Severity};
use crate::source::{Source, Span};

/// The LSP form of `d`. `uri` names a file as the client does (its own URI
/// for open files); `bom` says whether the editor's text of a file starts with
/// a byte-order mark, which Paved's spans do not count.
pub(crate) fn convert(
    d: &Diagnostic,
    enc: Encoding,
    uri: &dyn Fn(&Path) -> Option<Uri>,
    bom: &dyn Fn(&Path) -> bool,
) -> lsp_types::Diagnostic {
    let at = match &d.primary {
        Some(l) => range(&l.source, l.span, enc, bom(&l.source.path)),
        None => Range::default(),
    };
    let mut message = d.message.clone();
    if let Some(l) = d
        .primary
        .as_ref()
        .filter(|l| !l.text.is_empty() && !d.message.contains(&l.text))
    {
        message.push_str(&format!(" ({})", l.text));
    }
    if let Some(help) = &d.help {
        message.push_str(&format!("\nhelp: {help}"));
    }
    let related: Vec<DiagnosticRelatedInformation> = d
        .secondary
        .iter()
        .filter_map(|l| {
            Some(DiagnosticRelatedInformation {
                location: Location {
                    uri: uri(&l.source.path).or_else(|| uri_of(&l.source.path))?,
                    range: range(&l.source, l.span, enc, bom(&l.source.path)),
                },
                message: l.text.clone(),
            })
        })
        .collect();
    let code = d.code;
    lsp_types::Diagnostic {
        range: at,
        severity: Some(match d.severity {
            Severity::Error => DiagnosticSeverity::ERROR,
            Severity::Warning => DiagnosticSeverity::WARNING,
        }),
        code: Some(NumberOrString::String(code.as_str().to_string())),
        code_description: None,
        source: Some("paved".to_string()),
        message,
        related_information: (!related.is_empty()).then_some(related),
        tags: None,
        data: Some(json!({
            "help": d.help,
            "fields": d.fields.iter().map(|(k, v)| ((*k).to_string(), v.clone())).collect::<serde_json::Map<_, _>>(),
            "explain": {
                "code": code.as_str(),
                "title": code.title,
                "explanation": code.explanation,
                "example": code.example,
                "fix": code.fix,
            },
        })),
    }
}

/// A span of `src` as an LSP range.
pub(crate) fn range(src: &Source, span: Span, enc: Encoding, bom: bool) -> Range {
    Range {
        start: position(src, span.start, enc, bom),
        end: position(src, span.end, enc, bom),
    }
}

fn position(src: &Source, offset: usize, enc: Encoding, bom: bool) -> Position {
    let offset = offset.min(src.text.len());
    let (line, _) = src.line_col(offset);
    let (start, _, _) = src.line_bounds(line);
    let mut end = offset.max(start);
    while !src.text.is_char_boundary(end) {
        end -= 1;
    }
    let mut character = enc.len(&src.text[start..end]);
    if bom && line == 1 {
        character += enc.len("\u{feff}");
    }
    Position {
        line: u32::try_from(line - 1).unwrap_or(u32::MAX),
        character: u32::try_from(character).unwrap_or(u32::MAX),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_count_units_of_the_encoding() {
        let src = Source::virtual_file("x", "a: 1\r\nx😀é: 2\n".to_string());
        let at = src.text.find(':').unwrap();
        let two = src.text.rfind(':').unwrap();
        let r = range(&src, Span::new(two, two + 1), Encoding::Utf16, false);
        assert_eq!((r.start.line, r.start.character), (1, 4));
        let r = range(&src, Span::new(two, two + 1), Encoding::Utf8, false);
        assert_eq!((r.start.line, r.start.character), (1, 7));
        let r = range(&src, Span::point(at), Encoding::Utf16, true);
        assert_eq!((r.start.line, r.start.character), (0, 2));
        let r = range(&src, Span::point(10_000), Encoding::Utf16, false);
        assert_eq!((r.start.line, r.start.character), (2, 0));
    }
}
