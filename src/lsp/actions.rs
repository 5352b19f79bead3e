//! Code actions: the quick fixes a finding carries. A finding whose
//! `data.fields.replacement` names the right text (the "did you mean"
//! suggestions of unknown fields and unknown dependencies) offers to put it
//! in place of the finding's range.
//!
//! Architecture invariant: built from the diagnostics' data, not from their
//! messages; runs no check.

use std::collections::HashMap;

use lsp_types::{
    CodeAction, CodeActionKind, CodeActionOrCommand, Diagnostic, TextEdit, Uri, WorkspaceEdit,
};

pub(crate) fn actions(uri: &Uri, diags: &[Diagnostic]) -> Vec<CodeActionOrCommand> {
    diags
        .iter()
        .filter(|d| d.source.as_deref() == Some("paved"))
        .filter_map(|d| {
            let data = d.data.as_ref()?;
            let new = data.pointer("/fields/replacement")?.as_str()?;
            let edit = TextEdit {
                range: d.range,
                new_text: new.to_string(),
            };
            Some(CodeActionOrCommand::CodeAction(CodeAction {
                title: format!("Replace with `{new}`"),
                kind: Some(CodeActionKind::QUICKFIX),
                diagnostics: Some(vec![d.clone()]),
                edit: Some(WorkspaceEdit {
                    changes: Some(HashMap::from([(uri.clone(), vec![edit])])),
                    ..Default::default()
                }),
                is_preferred: Some(true),
                ..Default::default()
            }))
        })
        .collect()
}
