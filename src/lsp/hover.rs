//! Hover: on a key, what `paved explain FIELD.PATH` prints; on a size, its
//! cpu and memory from paved.yaml; on `component:NAME`, that service's owner
//! and description; on `${resources.NAME.KEY}`, the Secret and key it
//! becomes.
//!
//! Architecture invariant: describes what the schema and the last check
//! know; runs no check.

use lsp_types::{Hover, HoverContents, MarkupContent, MarkupKind};

use super::context;
use super::view::View;
use crate::fields;
use crate::placeholder::connection_secret;

pub(crate) fn hover(v: &View, offset: usize) -> Option<Hover> {
    let (text, a, b) = hover_text(v, offset)?;
    Some(Hover {
        contents: HoverContents::Markup(MarkupContent {
            kind: MarkupKind::Markdown,
            value: text,
        }),
        range: Some(v.range(a, b)),
    })
}

fn hover_text(v: &View, offset: usize) -> Option<(String, usize, usize)> {
    let ctx = context::at(v.text, offset);
    // Inside a placeholder.
    if let Some((inside, a, b)) = context::placeholder(v.text, offset) {
        let parts: Vec<&str> = inside.trim().split('.').collect();
        if let ["resources", name, key] = parts.as_slice() {
            return Some((
                format!("`${{resources.{name}.{key}}}` becomes a reference to key `{key}` of Secret `{}` (the connection details of resource `{name}`); the value never appears in the manifests.", connection_secret(name)),
                a,
                b,
            ));
        }
        return None;
    }
    let (word, wa, wb) = context::word(v.text, offset);
    if let Some(name) = word.strip_prefix("component:") {
        let s = v.service(name)?;
        let mut out = format!("**{}** (service)\n\nowner: `{}`", s.meta.name, s.meta.owner);
        if !s.meta.description.is_empty() {
            out.push_str(&format!("\n\n{}", s.meta.description));
        }
        out.push_str(&format!("\n\nspec: `{}`", s.origin));
        return Some((out, wa, wb));
    }
    let mut path = ctx.path.clone();
    let (key, ka, kb) = ctx.key.clone()?;
    if !ctx.in_key {
        let (value, va, vb) = ctx.value.clone()?;
        if key == "size" && v.kind == crate::validate::schema::Kind::Application {
            let p = v.platform()?;
            let c = p.sizes.get(&value)?;
            return Some((
                format!(
                    "size `{value}`: cpu `{}`, memory `{}` (requests and limits, from paved.yaml `spec.sizes`)",
                    c.cpu.as_string(),
                    c.memory
                ),
                va,
                vb,
            ));
        }
        return None;
    }
    path.push(key);
    let f = fields::field(v.kind, &path.join(".")).ok()?;
    Some((
        format!("```text\n{}```", fields::field_text(&f, v.kind)),
        ka,
        kb,
    ))
}
