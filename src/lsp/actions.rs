//! Code actions: the quick fixes a finding carries in its data.
//!
//! - `data.fields.replacement` (the "did you mean" suggestions of unknown
//!   fields and unknown dependencies): put it in place of the finding's range.
//! - `data.fields.fix` with `action: move-to-secrets` (a literal secret in
//!   `env`): remove the `env` entry and declare `{env, ref}` under
//!   `spec.secrets`, in the spec's own style (`edit::move_to_secrets`); the
//!   edits are the changed lines only, and neither they nor the title hold the
//!   value, which the developer puts in the secret store.
//! - `data.fields.fix` with `action: pin-tag` (an image tagged `latest` or
//!   not at all): one action per tag in `tags`, in their order, replacing only
//!   the tag's text (or adding `:TAG` after the repository).
//!
//! Architecture invariant: built from the diagnostics' data and the buffer's
//! text, not from their messages; runs no check.

use std::collections::HashMap;

use lsp_types::{
    CodeAction, CodeActionKind, CodeActionOrCommand, Diagnostic, TextEdit, Uri, WorkspaceEdit,
};
use serde_json::Value;

use super::documents;
use super::view::View;
use crate::edit;
use crate::validate::schema::Kind;

pub(crate) fn actions(v: &View, uri: &Uri, diags: &[Diagnostic]) -> Vec<CodeActionOrCommand> {
    let mut out = Vec::new();
    for d in diags
        .iter()
        .filter(|d| d.source.as_deref() == Some("paved"))
    {
        let Some(data) = d.data.as_ref() else {
            continue;
        };
        if let Some(new) = data.pointer("/fields/replacement").and_then(Value::as_str) {
            let edit = TextEdit {
                range: d.range,
                new_text: new.to_string(),
            };
            out.push(action(
                format!("Replace with `{new}`"),
                d,
                uri,
                vec![edit],
                true,
            ));
        }
        let Some(fix) = data.pointer("/fields/fix") else {
            continue;
        };
        match fix.get("action").and_then(Value::as_str) {
            Some("move-to-secrets") => out.extend(move_to_secrets(v, uri, d, fix)),
            Some("pin-tag") => out.extend(pin_tag(v, uri, d, fix)),
            _ => {}
        }
    }
    out
}

fn action(
    title: String,
    d: &Diagnostic,
    uri: &Uri,
    edits: Vec<TextEdit>,
    preferred: bool,
) -> CodeActionOrCommand {
    CodeActionOrCommand::CodeAction(CodeAction {
        title,
        kind: Some(CodeActionKind::QUICKFIX),
        diagnostics: Some(vec![d.clone()]),
        edit: Some(WorkspaceEdit {
            changes: Some(HashMap::from([(uri.clone(), edits)])),
            ..Default::default()
        }),
        is_preferred: Some(preferred),
        ..Default::default()
    })
}

fn move_to_secrets(
    v: &View,
    uri: &Uri,
    d: &Diagnostic,
    fix: &Value,
) -> Option<CodeActionOrCommand> {
    if v.kind != Kind::Application {
        return None;
    }
    let text = |k: &str| fix.get(k).and_then(Value::as_str);
    let (env, reference, from) = (text("env")?, text("ref")?, text("from")?);
    let moved = edit::move_to_secrets(v.text, from, env, reference).ok()?;
    let title = if moved.declared {
        format!(
            "Move `{env}` to `secrets:` as `{reference}`; put its value in the secret store there"
        )
    } else {
        format!("Remove the literal `{env}`: `secrets:` already reads it from the secret store")
    };
    Some(action(title, d, uri, line_edits(v, &moved.text), true))
}

/// The edits that turn the buffer into `new`: one per run of changed lines.
fn line_edits(v: &View, new: &str) -> Vec<TextEdit> {
    let old = v.text;
    let starts = |t: &str| {
        let mut at = vec![0];
        at.extend(t.match_indices('\n').map(|(i, _)| i + 1));
        if !t.ends_with('\n') {
            at.push(t.len());
        }
        at
    };
    let (old_at, new_at) = (starts(old), starts(new));
    let diff = similar::TextDiff::from_lines(old, new);
    let mut edits = Vec::new();
    let mut run: Option<(usize, usize, usize, usize)> = None;
    let mut flush = |run: &mut Option<(usize, usize, usize, usize)>| {
        if let Some((a, b, c, d)) = run.take() {
            let byte = |at: &[usize], i: usize| at.get(i).copied().unwrap_or(at[at.len() - 1]);
            edits.push(TextEdit {
                range: v.range(byte(&old_at, a), byte(&old_at, b)),
                new_text: new[byte(&new_at, c)..byte(&new_at, d)].to_string(),
            });
        }
    };
    for op in diff.ops() {
        let (o, n) = (op.old_range(), op.new_range());
        if op.tag() == similar::DiffTag::Equal {
            flush(&mut run);
            continue;
        }
        run = Some(match run {
            Some((a, _, c, _)) => (a, o.end, c, n.end),
            None => (o.start, o.end, n.start, n.end),
        });
    }
    flush(&mut run);
    edits
}

fn pin_tag(v: &View, uri: &Uri, d: &Diagnostic, fix: &Value) -> Vec<CodeActionOrCommand> {
    let Some(repository) = fix.get("repository").and_then(Value::as_str) else {
        return Vec::new();
    };
    let tags: Vec<&str> = fix
        .get("tags")
        .and_then(Value::as_array)
        .map(|t| t.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    let a = documents::offset(v.text, d.range.start, v.enc);
    let b = documents::offset(v.text, d.range.end, v.enc).max(a);
    let Some(at) = v.text[a..b]
        .find(repository)
        .map(|i| a + i + repository.len())
    else {
        return Vec::new();
    };
    let tag_char = |c: char| c.is_ascii_alphanumeric() || "_.-".contains(c);
    // What follows the repository: its tag, a digest, or the end of the value.
    let (start, end, colon) = match v.text[at..].chars().next() {
        Some(':') => {
            let len = v.text[at + 1..]
                .find(|c: char| !tag_char(c))
                .unwrap_or(v.text.len() - at - 1);
            (at + 1, at + 1 + len, "")
        }
        Some(c) if tag_char(c) || c == '/' => return Vec::new(),
        _ => (at, at, ":"),
    };
    tags.iter()
        .enumerate()
        .map(|(i, tag)| {
            let edit = TextEdit {
                range: v.range(start, end),
                new_text: format!("{colon}{tag}"),
            };
            action(
                format!("Pin `{repository}` to `{tag}`"),
                d,
                uri,
                vec![edit],
                i == 0,
            )
        })
        .collect()
}
