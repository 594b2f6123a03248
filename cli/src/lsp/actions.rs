//! Code actions: the quick fix of a diagnostic that carries a did-you-mean suggestion
//! (diagnostics.rs puts it in the diagnostic's `data`).

use std::collections::HashMap;

use lsp_types::{
    CodeAction, CodeActionKind, CodeActionOrCommand, CodeActionParams, TextEdit, WorkspaceEdit,
};

use super::diagnostics::Suggestion;

pub(crate) fn actions(params: &CodeActionParams) -> Vec<CodeActionOrCommand> {
    let uri = &params.text_document.uri;
    params
        .context
        .diagnostics
        .iter()
        .filter_map(|diagnostic| {
            let data = diagnostic.data.clone()?;
            let Suggestion { replacement } = serde_json::from_value(data).ok()?;
            let edit = TextEdit::new(diagnostic.range, replacement.clone());
            Some(CodeActionOrCommand::CodeAction(CodeAction {
                title: format!("did you mean `{replacement}`?"),
                kind: Some(CodeActionKind::QUICKFIX),
                diagnostics: Some(vec![diagnostic.clone()]),
                edit: Some(WorkspaceEdit {
                    changes: Some(HashMap::from([(uri.clone(), vec![edit])])),
                    ..WorkspaceEdit::default()
                }),
                is_preferred: Some(true),
                ..CodeAction::default()
            }))
        })
        .collect()
}
