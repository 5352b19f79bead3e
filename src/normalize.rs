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

use serde_json::Value as Json;

use crate::diag::Diagnostic;
use crate::load::{self, Documents};
use crate::render::Blueprint;
use crate::source::{Source, Span};

/// One rendered, checked object.
#[derive(Debug, Clone)]
pub struct Doc {
    pub api_version: String,
    pub kind: String,
    pub name: String,
    pub namespace: Option<String>,
    pub value: Json,
}

impl Doc {
    /// `<kind>-<name>.yaml`, the file name of a document in its folder.
    pub fn file_name(&self) -> String {
        format!("{}-{}.yaml", self.kind.to_ascii_lowercase(), self.name)
    }
}

/// Parses and checks everything one blueprint rendered for one instance.
pub fn documents(text: &str, bp: &Blueprint, what: &str) -> Result<Vec<Doc>, Vec<Diagnostic>> {
    // A virtual file holding the output, so a YAML error can show the rendered
    // line that is wrong; the blueprint is named in the message.
    let shown = format!("{} (rendered for {what})", bp.source.name);
    let src = Source::virtual_file(&shown, text.to_string());
    let (nodes, diags) = load::parse(&src, Documents::Many);
    if !diags.is_empty() {
        return Err(diags
            .into_iter()
            .map(|d| Diagnostic {
                code: "paved::blueprint::invalid-yaml",
                message: format!("blueprint `{}` produced invalid YAML for {what}: {}", bp.name, d.message),
                help: Some(
                    "interpolate values with `{{ value }}` only where a whole YAML value goes (it is written as a quoted JSON string); join strings inside the tag: `{{ name ~ \"-tls\" }}`".into(),
                ),
                ..d
            })
            .collect());
    }
    let mut out = Vec::new();
    let mut errs = Vec::new();
    for node in nodes {
        match check(&node.to_json()) {
            Ok(doc) => out.push(doc),
            Err(problem) => errs.push(
                Diagnostic::error(
                    "paved::blueprint::invalid-object",
                    format!("blueprint `{}` produced an invalid object for {what}: {problem}", bp.name),
                )
                .at(&src, Span::new(node.span.start, node.span.start.max(node.span.end.min(node.span.start + 1))), "this document")
                .help("every document needs `apiVersion`, `kind` and `metadata.name` (a lower-case DNS name)"),
            ),
        }
    }
    if errs.is_empty() {
        Ok(out)
    } else {
        Err(errs)
    }
}

fn check(v: &Json) -> Result<Doc, String> {
    let Some(obj) = v.as_object() else {
        return Err("a document must be a mapping".into());
    };
    let text = |k: &str| obj.get(k).and_then(Json::as_str).filter(|s| !s.is_empty());
    let api_version = text("apiVersion").ok_or("`apiVersion` is missing")?;
    let kind = text("kind").ok_or("`kind` is missing")?;
    if !kind.chars().all(|c| c.is_ascii_alphanumeric()) {
        return Err(format!("`kind: {kind}` is not a valid kind"));
    }
    let meta = obj
        .get("metadata")
        .and_then(Json::as_object)
        .ok_or("`metadata` is missing")?;
    let name = meta
        .get("name")
        .and_then(Json::as_str)
        .ok_or("`metadata.name` is missing")?;
    if !is_dns_subdomain(name) {
        return Err(format!(
            "`metadata.name: {name}` is not a lower-case DNS name"
        ));
    }
    let namespace = match meta.get("namespace") {
        None => None,
        Some(Json::String(ns)) if is_dns_label(ns) => Some(ns.clone()),
        Some(other) => {
            return Err(format!(
                "`metadata.namespace: {other}` is not a valid namespace"
            ))
        }
    };
    Ok(Doc {
        api_version: api_version.to_string(),
        kind: kind.to_string(),
        name: name.to_string(),
        namespace,
        value: v.clone(),
    })
}

/// RFC 1123 subdomain, as Kubernetes checks object names: this is also what
/// keeps a name from ever forming a path (`/`, `..`) in the output folder.
pub fn is_dns_subdomain(s: &str) -> bool {
    !s.is_empty() && s.len() <= 253 && s.split('.').all(is_dns_label)
}

pub fn is_dns_label(s: &str) -> bool {
    let b = s.as_bytes();
    !b.is_empty()
        && b.len() <= 63
        && b.iter()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == b'-')
        && b[0] != b'-'
        && b[b.len() - 1] != b'-'
}

/// The first line of every generated file; also how Paved recognises its own
/// files in the output folder (it never touches files without it).
pub const HEADER_MARK: &str = "# Generated by paved";

/// A generated file's full text: header, then the documents.
pub fn file_text(origin: &str, docs: &[&Json]) -> String {
    let mut out = String::with_capacity(2048);
    out.push_str(HEADER_MARK);
    out.push_str(" from ");
    out.push_str(origin);
    out.push_str(". Do not edit: change the source and run `paved render`.\n");
    for (i, d) in docs.iter().enumerate() {
        if i > 0 {
            out.push_str("---\n");
        }
        crate::yaml_emit::emit(d, &mut out);
    }
    out
}

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
