//! Normalisation: rendered blueprint text → checked objects → canonical YAML.
//!
//! Each rendered document is parsed back (with the same span-aware loader as
//! the input), checked to be an object a cluster would accept (`apiVersion`,
//! `kind`, `metadata.name` present and well-formed), and emitted in one
//! canonical form by `yaml_emit`: key order as the blueprint wrote it, 2-space
//! indent, strings quoted wherever a YAML 1.1 reader would misread them. That
//! form, not the blueprint's whitespace, is what lands in Git, so reviewers
//! see only real changes.
//!
//! Architecture invariant: pure; knows documents, not files or folders.

use crate::codes;
use std::sync::atomic::{AtomicUsize, Ordering};

use serde_json::Value as Json;

pub(crate) mod fast;

use crate::diag::Diagnostic;
use crate::load::{self, Documents};
use crate::source::{Source, SourceRef, Span};

/// One rendered, checked object.
#[derive(Debug, Clone)]
pub struct Doc {
    pub api_version: String,
    pub kind: String,
    pub name: String,
    pub namespace: Option<String>,
    pub value: Json,
    /// The blueprint that rendered it (`service/deployment.yaml`), so a later
    /// check (`policy`) can point at the blueprint.
    pub blueprint: String,
}

/// The blueprint a text was rendered from: its name (`service/deployment.yaml`)
/// and its source, so an error can point at the blueprint line.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Blueprint<'a> {
    pub name: &'a str,
    pub source: &'a SourceRef,
}

/// Parses and checks everything one blueprint rendered for one instance.
pub(crate) fn documents(
    text: String,
    bp: Blueprint<'_>,
    what: &str,
) -> Result<Vec<Doc>, Vec<Diagnostic>> {
    // The fast path reads the usual shape of blueprint output without spans;
    // anything else, and every error, goes through the span-aware loader,
    // which reads the same values and reports problems with their place.
    if let Some(values) = fast::parse(&text) {
        #[cfg(debug_assertions)]
        agrees_with_loader(&text, &values);
        let docs: Result<Vec<Doc>, _> = values
            .into_iter()
            .map(|v| {
                check(v).map(|doc| Doc {
                    blueprint: bp.name.to_string(),
                    ..doc
                })
            })
            .collect();
        if let Ok(docs) = docs {
            return Ok(docs);
        }
    }
    SLOW_READS.fetch_add(1, Ordering::Relaxed);
    read_with_spans(text, bp, what)
}

/// How many rendered texts went through the span-aware path in this process:
/// the built-in blueprints should never need it (`tests/fast_path.rs`).
static SLOW_READS: AtomicUsize = AtomicUsize::new(0);

pub fn slow_reads() -> usize {
    SLOW_READS.load(Ordering::Relaxed)
}

/// In debug builds (every test, the fuzz target), each text the fast path
/// reads is read again by the loader, and the two must agree exactly.
#[cfg(debug_assertions)]
fn agrees_with_loader(text: &str, fast: &[Json]) {
    let src = Source::virtual_file("rendered", text.to_string());
    let (nodes, diags) = load::parse(&src, Documents::Many);
    let slow: Vec<Json> = nodes.iter().map(load::Node::to_json).collect();
    assert!(
        diags.is_empty(),
        "the fast path read text the loader rejects: {:?}\n{text}",
        diags.first().map(|d| &d.message)
    );
    assert_eq!(
        serde_json::to_string(&slow).ok(),
        serde_json::to_string(fast).ok(),
        "the fast path read other values than the loader from:\n{text}"
    );
}

/// The span-aware path of [`documents`]: the same values, or diagnostics
/// that point at the blueprint line.
fn read_with_spans(
    text: String,
    bp: Blueprint<'_>,
    what: &str,
) -> Result<Vec<Doc>, Vec<Diagnostic>> {
    // A virtual file holding the output, so a YAML error can show the rendered
    // line that is wrong; the blueprint is named in the message.
    let shown = format!("{} (rendered for {what})", bp.source.name);
    let src = Source::virtual_file(&shown, text);
    let (nodes, diags) = load::parse(&src, Documents::Many);
    if !diags.is_empty() {
        return Err(diags
            .into_iter()
            .map(|d| {
                let d = Diagnostic {
                    code: codes::BLUEPRINT_INVALID_YAML,
                    message: format!("blueprint `{}` produced invalid YAML for {what}: {}", bp.name, d.message),
                    help: Some(
                        "interpolate values with `{{ value }}` only where a whole YAML value goes (it is written as a quoted JSON string); join strings inside the tag: `{{ name ~ \"-tls\" }}`".into(),
                    ),
                    ..d
                };
                in_blueprint(d, bp, |rendered| blueprint_line_like(bp.source, rendered))
            })
            .collect());
    }
    let mut out = Vec::new();
    let mut errs = Vec::new();
    for node in nodes {
        match check(node.to_json()) {
            Ok(doc) => out.push(Doc {
                blueprint: bp.name.to_string(),
                ..doc
            }),
            Err((field, problem)) => errs.push(in_blueprint(
                Diagnostic::error(
                    codes::BLUEPRINT_INVALID_OBJECT,
                    format!("blueprint `{}` produced an invalid object for {what}: {problem}", bp.name),
                )
                .at(&src, Span::new(node.span.start, node.span.start.max(node.span.end.min(node.span.start + 1))), "this document")
                .help("every document needs `apiVersion`, `kind` and `metadata.name` (a lower-case DNS name)"),
                bp,
                |_| blueprint_field_line(bp.source, field),
            )),
        }
    }
    if errs.is_empty() {
        Ok(out)
    } else {
        Err(errs)
    }
}

/// Checks one document. An error names the field at fault (`""` for the
/// whole document) so the diagnostic can point at its line in the blueprint.
fn check(v: Json) -> Result<Doc, (&'static str, String)> {
    let Some(obj) = v.as_object() else {
        return Err(("", "a document must be a mapping".into()));
    };
    let text = |k: &str| obj.get(k).and_then(Json::as_str).filter(|s| !s.is_empty());
    let missing = |field: &'static str| (field, format!("`{field}` is missing"));
    let api_version = text("apiVersion").ok_or_else(|| missing("apiVersion"))?;
    let kind = text("kind").ok_or_else(|| missing("kind"))?;
    if !kind.chars().all(|c| c.is_ascii_alphanumeric()) {
        return Err(("kind", format!("`kind: {kind}` is not a valid kind")));
    }
    let meta = obj
        .get("metadata")
        .and_then(Json::as_object)
        .ok_or_else(|| missing("metadata"))?;
    let name = meta
        .get("name")
        .and_then(Json::as_str)
        .ok_or_else(|| missing("metadata.name"))?;
    if !is_dns_subdomain(name) {
        return Err((
            "metadata.name",
            format!("`metadata.name: {name}` is not a lower-case DNS name"),
        ));
    }
    let namespace = match meta.get("namespace") {
        None => None,
        Some(Json::String(ns)) if is_dns_label(ns) => Some(ns.clone()),
        Some(other) => {
            return Err((
                "metadata.namespace",
                format!("`metadata.namespace: {other}` is not a valid namespace"),
            ))
        }
    };
    Ok(Doc {
        api_version: api_version.to_string(),
        kind: kind.to_string(),
        name: name.to_string(),
        namespace,
        value: v,
        blueprint: String::new(),
    })
}

/// Moves a finding about rendered text to the blueprint line that produced
/// it, so the report (and a GitHub annotation) names the blueprint file and
/// line; the rendered text stays attached as a second label. Rendered and
/// blueprint lines do not correspond one to one (loops, includes), so the
/// line is found by its text; when none matches, the finding stays on the
/// rendered text, whose name also names the blueprint.
fn in_blueprint(
    mut d: Diagnostic,
    bp: Blueprint<'_>,
    find: impl Fn(&str) -> Option<usize>,
) -> Diagnostic {
    let Some(primary) = d.primary.clone() else {
        return d;
    };
    let (line, _) = primary.source.line_col(primary.span.start);
    let Some(bp_line) = find(primary.source.line_text(line)) else {
        return d;
    };
    let text = bp.source.line_text(bp_line);
    let indent = text.len() - text.trim_start().len();
    let start = bp.source.offset_of(bp_line, 1) + indent;
    let span = Span::new(start, start + text.trim().len());
    d.primary = Some(crate::diag::Label {
        source: bp.source.clone(),
        span,
        text: "this blueprint line".into(),
    });
    d.secondary.insert(
        0,
        crate::diag::Label {
            text: "rendered as this".into(),
            ..primary
        },
    );
    d
}

/// The blueprint line (1-based) whose literal start matches a rendered
/// line: the text before the first `{{`/`{%`, at the same indentation when
/// possible. `description: {{ x }} and: more` matches
/// `description: "..." and: more`.
fn blueprint_line_like(blueprint: &Source, rendered: &str) -> Option<usize> {
    let key = rendered.trim_start();
    let key = match key.find(':') {
        Some(i) if i > 0 => &key[..=i],
        _ => key.get(..key.len().min(12))?,
    };
    if key.trim().is_empty() {
        return None;
    }
    let indent = rendered.len() - rendered.trim_start().len();
    let candidates: Vec<(usize, &str)> = blueprint
        .line_texts()
        .enumerate()
        .filter(|(_, l)| l.trim_start().starts_with(key))
        .collect();
    candidates
        .iter()
        .find(|(_, l)| l.len() - l.trim_start().len() == indent)
        .or(candidates.first())
        .map(|(i, _)| i + 1)
}

/// The blueprint line (1-based) that sets a document field (`kind`,
/// `metadata.name`, ...), or the closest line that should have: `metadata:`
/// for a missing name, the first line for a missing `kind`.
fn blueprint_field_line(blueprint: &Source, field: &str) -> Option<usize> {
    let lines: Vec<&str> = blueprint.line_texts().collect();
    let find = |key: &str, from: usize| {
        lines
            .iter()
            .enumerate()
            .skip(from)
            .find(|(_, l)| l.trim_start().starts_with(key))
            .map(|(i, _)| i)
    };
    let first_content = lines
        .iter()
        .position(|l| {
            !l.trim().is_empty()
                && !l.trim_start().starts_with("{%")
                && !l.trim_start().starts_with('#')
        })
        .unwrap_or(0);
    let at = match field {
        "apiVersion" => find("apiVersion:", 0),
        "kind" => find("kind:", 0),
        "metadata" => find("metadata:", 0),
        "metadata.name" | "metadata.namespace" => {
            let key = if field == "metadata.name" {
                "name:"
            } else {
                "namespace:"
            };
            find("metadata:", 0).map(|m| find(key, m + 1).unwrap_or(m))
        }
        _ => None,
    };
    Some(at.unwrap_or(first_content) + 1)
}

/// RFC 1123 subdomain, as Kubernetes checks object names: this is also what
/// keeps a name from ever forming a path (`/`, `..`) in the output folder.
pub(crate) fn is_dns_subdomain(s: &str) -> bool {
    !s.is_empty() && s.len() <= 253 && s.split('.').all(is_dns_label)
}

pub(crate) fn is_dns_label(s: &str) -> bool {
    let b = s.as_bytes();
    !b.is_empty()
        && b.len() <= 63
        && b.iter()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == b'-')
        && b[0] != b'-'
        && b[b.len() - 1] != b'-'
}

/// A generated file's full text: header (see `emit::header`), then the documents.
#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_that_could_escape_are_not_dns() {
        for bad in ["..", "a/b", "../x", "A", "-a", "a..b", "", "é"] {
            assert!(!is_dns_subdomain(bad), "{bad}");
        }
        assert!(is_dns_subdomain("orders-db.v1"));
    }
}
