//! Completion: the fields allowed at the cursor (from the JSON Schema, a
//! snippet for required ones; those the mapping already has are left out),
//! enum values, the sizes and environments of
//! paved.yaml, the other services after `component:`, resource names and
//! their connection keys inside `${resources.…}`, and the allowed
//! registries for `image`.
//!
//! Architecture invariant: offers what the schema and the last check know;
//! runs no check.

use lsp_types::{
    CompletionItem, CompletionItemKind, CompletionTextEdit, Documentation, InsertTextFormat,
    TextEdit,
};

use super::context;
use super::view::View;
use crate::fields;
use crate::load::{self, Value};
use crate::resource_types;
use crate::source::Source;
use crate::validate::schema::Kind;

fn item(label: &str, kind: CompletionItemKind, detail: String) -> CompletionItem {
    CompletionItem {
        label: label.to_string(),
        kind: Some(kind),
        detail: (!detail.is_empty()).then_some(detail),
        ..Default::default()
    }
}

/// Items replacing the byte range `a..b` of the buffer.
fn replacing(v: &View, mut it: CompletionItem, a: usize, b: usize, new: String) -> CompletionItem {
    it.text_edit = Some(CompletionTextEdit::Edit(TextEdit {
        range: v.range(a, b),
        new_text: new,
    }));
    it
}

pub(crate) fn complete(v: &View, offset: usize) -> Vec<CompletionItem> {
    let ctx = context::at(v.text, offset);
    if let Some((inside, a, _)) = context::placeholder(v.text, offset) {
        return placeholder(v, &inside[..(offset - a).min(inside.len())], offset);
    }
    let (word, wa, _) = context::word(v.text, offset);
    let typed = &word[..(offset - wa).min(word.len())];
    if let Some(prefix) = typed.strip_prefix("component:") {
        let own = own_name(v);
        return v
            .services()
            .iter()
            .filter(|s| Some(s.meta.name.as_str()) != own.as_deref())
            .filter(|s| s.meta.name.starts_with(prefix))
            .map(|s| {
                let mut it = item(
                    &s.meta.name,
                    CompletionItemKind::MODULE,
                    format!("owner {}", s.meta.owner),
                );
                it.documentation = (!s.meta.description.is_empty())
                    .then(|| Documentation::String(s.meta.description.clone()));
                let start = wa + "component:".len();
                replacing(v, it, start, offset, s.meta.name.clone())
            })
            .collect();
    }
    let mut path = ctx.path.clone();
    if ctx.in_key {
        let joined = path.join(".");
        // Keys the mapping at the cursor already has (on other lines).
        let present = context::siblings(v.text, offset);
        let absent = |k: &str| !present.iter().any(|p| p == k);
        // Environments of a spec: those of the platform.
        if v.kind == Kind::Application && joined == "spec.environments" {
            return v
                .platform()
                .map(|p| {
                    p.environments
                        .keys()
                        .filter(|e| absent(e))
                        .map(|e| {
                            let mut it =
                                item(e, CompletionItemKind::ENUM_MEMBER, "environment".into());
                            it.insert_text = Some(format!("{e}:"));
                            it
                        })
                        .collect()
                })
                .unwrap_or_default();
        }
        let Ok(f) = fields::field(v.kind, &joined) else {
            return Vec::new();
        };
        if f.keys.is_some() {
            return Vec::new();
        }
        return f
            .children
            .iter()
            .filter(|(name, ..)| absent(name))
            .map(|(name, t, required, desc)| {
                let mut it = item(
                    name,
                    CompletionItemKind::FIELD,
                    format!("<{t}>{}", if *required { " required" } else { "" }),
                );
                it.documentation = (!desc.is_empty()).then(|| Documentation::String(desc.clone()));
                if *required {
                    it.insert_text = Some(format!("{name}: ${{1}}"));
                    it.insert_text_format = Some(InsertTextFormat::SNIPPET);
                } else {
                    it.insert_text = Some(format!("{name}: "));
                }
                it
            })
            .collect();
    }
    let Some((key, _, _)) = ctx.key.clone() else {
        return Vec::new();
    };
    let (va, typed) = match &ctx.value {
        Some((_, va, _)) => (*va, &v.text[(*va).min(offset)..offset.max(*va)]),
        None => (offset, ""),
    };
    let platform = v.platform();
    let mut out = Vec::new();
    if v.kind == Kind::Application && key == "size" {
        if let Some(p) = platform {
            for (name, c) in &p.sizes {
                let it = item(
                    name,
                    CompletionItemKind::ENUM_MEMBER,
                    format!("cpu {}, memory {}", c.cpu.as_string(), c.memory),
                );
                out.push(replacing(v, it, va, offset, name.clone()));
            }
        }
        return out;
    }
    if v.kind == Kind::Application && key == "image" {
        if let Some(p) = platform {
            for r in &p.allowed_registries {
                let it = item(r, CompletionItemKind::VALUE, "allowed registry".into());
                let text = format!("{}/", r.trim_end_matches('/'));
                out.push(replacing(v, it, va, offset, text));
            }
        }
        return out;
    }
    path.push(key);
    if let Ok(f) = fields::field(v.kind, &path.join(".")) {
        for a in &f.allowed {
            let s = fields::yaml_value(a);
            if s.starts_with(typed) {
                let it = item(&s, CompletionItemKind::ENUM_MEMBER, f.path.clone());
                out.push(replacing(v, it, va, offset, s.clone()));
            }
        }
    }
    out
}

/// The name of the service this buffer is, when it says.
fn own_name(v: &View) -> Option<String> {
    let src = Source::virtual_file("platform.yaml", v.text.to_string());
    let (doc, _) = load::load_mapping(&src, "platform.yaml");
    doc?.pointer("/metadata/name")?
        .0
        .as_str()
        .map(str::to_string)
}

/// Inside `${…}`: resource names after `resources.`, their keys after
/// `resources.NAME.`.
fn placeholder(v: &View, typed: &str, offset: usize) -> Vec<CompletionItem> {
    let parts: Vec<&str> = typed.split('.').collect();
    let start = offset - parts.last().map_or(0, |p| p.len());
    let resources = own_resources(v);
    match parts.as_slice() {
        [first] => ["resources"]
            .iter()
            .filter(|r| r.starts_with(first))
            .map(|r| {
                replacing(
                    v,
                    item(r, CompletionItemKind::KEYWORD, String::new()),
                    start,
                    offset,
                    (*r).to_string(),
                )
            })
            .collect(),
        ["resources", name] => resources
            .iter()
            .filter(|(r, _)| r.starts_with(name))
            .map(|(r, t)| {
                replacing(
                    v,
                    item(r, CompletionItemKind::VARIABLE, t.clone()),
                    start,
                    offset,
                    r.clone(),
                )
            })
            .collect(),
        ["resources", name, key] => resources
            .iter()
            .filter(|(r, _)| r == name)
            .flat_map(|(_, t)| resource_types::connection_keys(t).iter())
            .filter(|k| k.starts_with(key))
            .map(|k| {
                let it = item(
                    k,
                    CompletionItemKind::PROPERTY,
                    format!("key of Secret {name}-connection"),
                );
                replacing(v, it, start, offset, (*k).to_string())
            })
            .collect(),
        _ => Vec::new(),
    }
}

/// The buffer's `spec.resources`: name and type, read from the buffer
/// (which may not parse; then none).
fn own_resources(v: &View) -> Vec<(String, String)> {
    let src = Source::virtual_file("platform.yaml", v.text.to_string());
    let (Some(doc), _) = load::load_mapping(&src, "platform.yaml") else {
        return Vec::new();
    };
    let Some((node, _)) = doc.pointer("/spec/resources") else {
        return Vec::new();
    };
    let Value::Map(entries) = &node.value else {
        return Vec::new();
    };
    entries
        .iter()
        .map(|e| {
            let t = e
                .value
                .get("type")
                .and_then(|t| t.as_str())
                .unwrap_or_default();
            (e.key.clone(), t.to_string())
        })
        .collect()
}
