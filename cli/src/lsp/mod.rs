//! `jspec lsp`: a language server over stdio (rust-analyzer's lsp-server: synchronous, one
//! thread, which suits a checker that answers in milliseconds). Each request is answered from a
//! fresh analysis of the document; a panic while answering becomes an error reply, never a dead
//! server.

mod actions;
mod completion;
mod definition;
mod diagnostics;
mod documents;
mod formatting;
mod hover;
mod position;
mod symbols;

use std::collections::{HashMap, HashSet};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::PathBuf;

use anyhow::Context as _;
use lsp_server::{Connection, ErrorCode, Message, Notification, Request, Response};
use lsp_types::notification::{
    DidChangeTextDocument, DidCloseTextDocument, DidOpenTextDocument, DidSaveTextDocument, Exit,
    Notification as _, PublishDiagnostics,
};
use lsp_types::request::{
    CodeActionRequest, Completion, DocumentSymbolRequest, Formatting, GotoDefinition, HoverRequest,
    Request as _,
};
use lsp_types::{
    CodeActionProviderCapability, CompletionOptions, OneOf, PublishDiagnosticsParams,
    ServerCapabilities, TextDocumentPositionParams, TextDocumentSyncCapability,
    TextDocumentSyncKind, Url,
};

use documents::{Analysis, Documents};
use position::LineIndex;

/// Serves until the client says `exit`.
pub(crate) fn run() -> anyhow::Result<()> {
    let (connection, io_threads) = Connection::stdio();
    let capabilities = ServerCapabilities {
        text_document_sync: Some(TextDocumentSyncCapability::Kind(TextDocumentSyncKind::FULL)),
        completion_provider: Some(CompletionOptions {
            // Not space: a list after every word would be noise; words complete as typed.
            trigger_characters: Some(vec!["\"".to_string()]),
            ..CompletionOptions::default()
        }),
        hover_provider: Some(lsp_types::HoverProviderCapability::Simple(true)),
        definition_provider: Some(OneOf::Left(true)),
        document_symbol_provider: Some(OneOf::Left(true)),
        document_formatting_provider: Some(OneOf::Left(true)),
        code_action_provider: Some(CodeActionProviderCapability::Simple(true)),
        ..ServerCapabilities::default()
    };
    let capabilities = serde_json::to_value(capabilities).context("server capabilities")?;
    connection
        .initialize(capabilities)
        .context("the initialize handshake")?;
    let mut server = Server {
        connection: &connection,
        documents: Documents::default(),
        uses: HashMap::new(),
    };
    server.serve()?;
    drop(connection);
    io_threads.join().context("the stdio threads")?;
    Ok(())
}

struct Server<'c> {
    connection: &'c Connection,
    documents: Documents,
    /// For each open document, the files on disk its last analysis loaded (itself included).
    uses: HashMap<Url, HashSet<PathBuf>>,
}

impl Server<'_> {
    fn serve(&mut self) -> anyhow::Result<()> {
        for message in &self.connection.receiver {
            match message {
                Message::Request(request) => {
                    if self.connection.handle_shutdown(&request)? {
                        return Ok(());
                    }
                    let response = self.answer(request);
                    self.connection.sender.send(response.into())?;
                }
                Message::Notification(notification) if notification.method == Exit::METHOD => {
                    anyhow::bail!("the client sent exit before shutdown");
                }
                Message::Notification(notification) => {
                    // A malformed notification is the client's bug: say so and serve on.
                    if let Err(error) = self.notify(notification) {
                        tracing::warn!("{error:#}");
                    }
                }
                Message::Response(_) => {}
            }
        }
        Ok(())
    }

    fn notify(&mut self, notification: Notification) -> anyhow::Result<()> {
        let uri = match notification.method.as_str() {
            DidOpenTextDocument::METHOD => {
                let params: lsp_types::DidOpenTextDocumentParams = parse(notification.params)?;
                let document = params.text_document;
                let version = document.version;
                self.documents
                    .set(document.uri.clone(), document.text, version);
                document.uri
            }
            DidChangeTextDocument::METHOD => {
                let params: lsp_types::DidChangeTextDocumentParams = parse(notification.params)?;
                // Full sync: the last change holds the whole text.
                let Some(change) = params.content_changes.into_iter().last() else {
                    return Ok(());
                };
                let version = params.text_document.version;
                self.documents
                    .set(params.text_document.uri.clone(), change.text, version);
                params.text_document.uri
            }
            DidSaveTextDocument::METHOD => {
                let params: lsp_types::DidSaveTextDocumentParams = parse(notification.params)?;
                params.text_document.uri
            }
            DidCloseTextDocument::METHOD => {
                let params: lsp_types::DidCloseTextDocumentParams = parse(notification.params)?;
                self.documents.close(&params.text_document.uri);
                self.uses.remove(&params.text_document.uri);
                // Clear what the closed document showed; its users now read it from disk.
                self.publish(params.text_document.uri.clone(), Vec::new())?;
                return self.check_dependents(&params.text_document.uri);
            }
            _ => return Ok(()),
        };
        self.check(uri.clone())?;
        self.check_dependents(&uri)
    }

    /// Open documents that use this one see its unsaved text: check them again.
    fn check_dependents(&mut self, uri: &Url) -> anyhow::Result<()> {
        let changed = uri.to_file_path().ok();
        let dependents: Vec<Url> = self
            .uses
            .iter()
            .filter(|(other, files)| {
                *other != uri && changed.as_ref().is_some_and(|p| files.contains(p))
            })
            .map(|(other, _)| other.clone())
            .collect();
        for other in dependents {
            self.check(other)?;
        }
        Ok(())
    }

    /// Analyses a document, remembers the files it uses, and publishes its diagnostics.
    fn check(&mut self, uri: Url) -> anyhow::Result<()> {
        let checked = guarded(|| {
            self.documents.analyze(&uri).map(|analysis| {
                (
                    analysis.files_on_disk(),
                    diagnostics::for_document(&analysis),
                )
            })
        })
        .flatten();
        let diagnostics = match checked {
            Some((files, diagnostics)) => {
                self.uses.insert(uri.clone(), files);
                diagnostics
            }
            None => Vec::new(),
        };
        self.publish(uri, diagnostics)
    }

    fn publish(&self, uri: Url, diagnostics: Vec<lsp_types::Diagnostic>) -> anyhow::Result<()> {
        let version = self.documents.version(&uri);
        let params = PublishDiagnosticsParams::new(uri, diagnostics, version);
        let notification = Notification::new(PublishDiagnostics::METHOD.to_string(), params);
        self.connection.sender.send(notification.into())?;
        Ok(())
    }

    fn answer(&self, request: Request) -> Response {
        let id = request.id.clone();
        let documents = &self.documents;
        let result = guarded(|| -> Result<serde_json::Value, String> {
            let params = request.params;
            let value = match request.method.as_str() {
                Completion::METHOD => {
                    let p: lsp_types::CompletionParams = params_of(params)?;
                    at(documents, &p.text_document_position, completion::complete)
                        .map(lsp_types::CompletionResponse::Array)
                        .to_json()
                }
                HoverRequest::METHOD => {
                    let p: lsp_types::HoverParams = params_of(params)?;
                    at(documents, &p.text_document_position_params, hover::hover)
                        .flatten()
                        .to_json()
                }
                GotoDefinition::METHOD => {
                    let p: lsp_types::GotoDefinitionParams = params_of(params)?;
                    at(
                        documents,
                        &p.text_document_position_params,
                        definition::definition,
                    )
                    .flatten()
                    .map(lsp_types::GotoDefinitionResponse::Scalar)
                    .to_json()
                }
                DocumentSymbolRequest::METHOD => {
                    let p: lsp_types::DocumentSymbolParams = params_of(params)?;
                    documents
                        .analyze(&p.text_document.uri)
                        .map(|a| lsp_types::DocumentSymbolResponse::Nested(symbols::symbols(&a)))
                        .to_json()
                }
                Formatting::METHOD => {
                    let p: lsp_types::DocumentFormattingParams = params_of(params)?;
                    documents
                        .get(&p.text_document.uri)
                        .and_then(formatting::format)
                        .to_json()
                }
                CodeActionRequest::METHOD => {
                    let p: lsp_types::CodeActionParams = params_of(params)?;
                    actions::actions(&p).to_json()
                }
                other => return Err(format!("unsupported request {other}")),
            };
            value.map_err(|error| error.to_string())
        });
        match result {
            Some(Ok(value)) => Response::new_ok(id, value),
            Some(Err(message)) => Response::new_err(id, ErrorCode::InvalidParams as i32, message),
            None => Response::new_err(
                id,
                ErrorCode::InternalError as i32,
                "jspec panicked answering this request (a bug: please report it)".to_string(),
            ),
        }
    }
}

/// Analyses a document and answers at a position; `None` when the document is not open.
fn at<T>(
    documents: &Documents,
    position: &TextDocumentPositionParams,
    answer: impl FnOnce(&Analysis, usize) -> T,
) -> Option<T> {
    let analysis = documents.analyze(&position.text_document.uri)?;
    let offset = LineIndex::new(analysis.text()).offset(position.position);
    Some(answer(&analysis, offset))
}

trait ToJson {
    fn to_json(&self) -> serde_json::Result<serde_json::Value>;
}

impl<T: serde::Serialize> ToJson for T {
    fn to_json(&self) -> serde_json::Result<serde_json::Value> {
        serde_json::to_value(self)
    }
}

fn params_of<P: serde::de::DeserializeOwned>(params: serde_json::Value) -> Result<P, String> {
    serde_json::from_value(params).map_err(|error| format!("bad parameters: {error}"))
}

fn parse<P: serde::de::DeserializeOwned>(params: serde_json::Value) -> anyhow::Result<P> {
    serde_json::from_value(params).context("bad notification parameters")
}

/// Runs `f`, turning a panic into `None` so one bad input cannot stop the server.
fn guarded<T>(f: impl FnOnce() -> T) -> Option<T> {
    catch_unwind(AssertUnwindSafe(f)).ok()
}
