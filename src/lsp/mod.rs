//! `paved lsp`: a Language Server Protocol server over stdio.
//!
//! One thread reads framed messages from stdin (bounded: a header line of
//! at most [`MAX_HEADER_LINE`] bytes, a body of at most [`MAX_MESSAGE`]; a
//! larger body is skipped unread and refused) and hands them over a channel;
//! the main thread answers requests, keeps the open buffers
//! ([`documents`]) and, [`DEBOUNCE`] after the last edit, runs the same
//! compile as `paved validate` (`app::compile`) with the buffers in place of
//! the files, and publishes the findings of every open `platform.yaml` and
//! `paved.yaml` ([`diagnostics`]). Edits that arrive before the pause is over
//! postpone the check, so superseded work is never started; the check of the
//! whole workspace is what makes a change to one spec update the specs that
//! depend on it. What a check costs is what changed: the compile keeps the
//! workspace's file list, each closed spec's text and each spec's own
//! findings between checks ([`SpecCache`]); a save, the client's
//! watched-file events and its file operations tell it the disk changed
//! (docs/editors.md, "Files that change on disk").
//!
//! Findings are published for open files only: an editor shows the files
//! being edited, and the other places a finding names are its related
//! information. A list that became empty is published empty, which clears it.
//!
//! Architecture invariant: the protocol only; every check is `app::compile`'s,
//! and nothing here reads a spec.

mod actions;
mod completion;
mod context;
mod diagnostics;
mod documents;
mod hover;
mod navigation;
mod view;

use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufRead, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::{mpsc, Arc};
use std::time::{Duration, Instant};

use lsp_server::{ErrorCode, Message, Notification, Request, Response};
use lsp_types::{
    CodeActionKind, CodeActionOptions, CodeActionProviderCapability, CompletionOptions,
    DidChangeTextDocumentParams, DidChangeWatchedFilesRegistrationOptions,
    DidCloseTextDocumentParams, DidOpenTextDocumentParams, FileOperationFilter,
    FileOperationPattern, FileOperationRegistrationOptions, FileSystemWatcher, GlobPattern,
    HoverProviderCapability, InitializeParams, InitializeResult, MessageType, OneOf,
    PositionEncodingKind, PublishDiagnosticsParams, Registration, RegistrationParams,
    ServerCapabilities, ServerInfo, ShowMessageParams, TextDocumentSyncCapability,
    TextDocumentSyncKind, TextDocumentSyncOptions, TextDocumentSyncSaveOptions, Uri,
    WorkspaceFileOperationsServerCapabilities, WorkspaceServerCapabilities,
};
use serde_json::{json, Value};

use crate::app::{self, Compiled, Fault, Inputs, SpecCache};
use crate::validate::schema::Kind;
use documents::{Documents, Encoding};

/// The pause after the last edit before the workspace is checked: long
/// enough to take a burst of keystrokes (or an editor's several change
/// notifications for one edit) as one change, short enough that the check
/// after a keystroke is published well within 50 ms (BENCHMARKS.md).
const DEBOUNCE: Duration = Duration::from_millis(10);
/// The largest message body read: room for a document far over any spec
/// size limit (which `load` applies to buffers as to files), and a bound on
/// what one message can make the server allocate.
const MAX_MESSAGE: usize = 64 << 20;
/// The longest header line.
const MAX_HEADER_LINE: u64 = 4096;

enum Incoming {
    Message(Message),
    /// A message that cannot be answered by its id: code and text.
    Bad(i32, String),
    /// The stream ended or lost its framing.
    End,
}

/// Serves until `exit`: `Ok(true)` when `shutdown` came first (exit code 0),
/// `Ok(false)` otherwise (exit code 1).
pub(crate) fn run() -> Result<bool, Fault> {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || read_loop(&tx));
    let mut server = Server {
        docs: Documents::default(),
        enc: Encoding::Utf16,
        initialized: false,
        shutdown: false,
        published: BTreeMap::new(),
        faults: BTreeSet::new(),
        due: None,
        cache: Arc::new(SpecCache::default()),
        last: Vec::new(),
        watch: false,
        dirty: BTreeSet::new(),
        all_dirty: true,
    };
    server
        .serve(&rx)
        .map_err(|e| Fault(format!("cannot write to the client: {e}")))
}

fn read_loop(tx: &mpsc::Sender<Incoming>) {
    let stdin = std::io::stdin();
    let mut r = stdin.lock();
    loop {
        let item = match read_frame(&mut r) {
            Ok(Frame::Body(body)) => parse(&body),
            Ok(Frame::TooLarge(len)) => {
                let refused = Incoming::Bad(
                    ErrorCode::InvalidRequest as i32,
                    format!("a message of {len} bytes is over the limit of {MAX_MESSAGE} bytes; it is skipped"),
                );
                if tx.send(refused).is_err() {
                    return;
                }
                let skipped = std::io::copy(&mut (&mut r).take(len), &mut std::io::sink());
                if skipped.map_or(true, |n| n < len) {
                    Incoming::End
                } else {
                    continue;
                }
            }
            Ok(Frame::Eof) => Incoming::End,
            Err(why) => {
                let _ = tx.send(Incoming::Bad(ErrorCode::ParseError as i32, why));
                Incoming::End
            }
        };
        let end = matches!(item, Incoming::End);
        if tx.send(item).is_err() || end {
            return;
        }
    }
}

enum Frame {
    Body(Vec<u8>),
    TooLarge(u64),
    Eof,
}

/// One frame's body; an `Err` when the framing is lost (a header that is
/// not one, no `Content-Length`), after which nothing can be read.
fn read_frame(r: &mut impl BufRead) -> Result<Frame, String> {
    let mut len = None;
    let mut first = true;
    loop {
        let mut line = Vec::new();
        let n = r
            .take(MAX_HEADER_LINE)
            .read_until(b'\n', &mut line)
            .map_err(|e| format!("cannot read a header: {e}"))?;
        if n == 0 {
            return if first {
                Ok(Frame::Eof)
            } else {
                Err("the stream ended inside a header".into())
            };
        }
        first = false;
        if !line.ends_with(b"\n") {
            return Err(format!(
                "a header line is longer than {MAX_HEADER_LINE} bytes"
            ));
        }
        let line = String::from_utf8_lossy(&line);
        let line = line.trim_end_matches(['\r', '\n']);
        if line.is_empty() {
            break;
        }
        let Some((name, value)) = line.split_once(':') else {
            return Err(format!("`{}` is not a header", crate::diag::escape(line)));
        };
        if name.trim().eq_ignore_ascii_case("content-length") {
            len = Some(
                value
                    .trim()
                    .parse::<u64>()
                    .map_err(|_| "Content-Length is not a number".to_string())?,
            );
        }
    }
    let len = len.ok_or("a message without Content-Length")?;
    if len > MAX_MESSAGE as u64 {
        return Ok(Frame::TooLarge(len));
    }
    let mut body = Vec::new();
    r.take(len)
        .read_to_end(&mut body)
        .map_err(|e| format!("cannot read a message: {e}"))?;
    if (body.len() as u64) < len {
        return Err("the stream ended inside a message".into());
    }
    Ok(Frame::Body(body))
}

fn parse(body: &[u8]) -> Incoming {
    let value: Value = match serde_json::from_slice(body) {
        Ok(v) => v,
        Err(e) => return Incoming::Bad(ErrorCode::ParseError as i32, format!("not JSON: {e}")),
    };
    match serde_json::from_value::<Message>(value) {
        Ok(m) => Incoming::Message(m),
        Err(e) => Incoming::Bad(
            ErrorCode::InvalidRequest as i32,
            format!("not a JSON-RPC request, response or notification: {e}"),
        ),
    }
}

struct Server {
    docs: Documents,
    enc: Encoding,
    initialized: bool,
    shutdown: bool,
    /// What each open file was last sent.
    published: BTreeMap<PathBuf, Vec<lsp_types::Diagnostic>>,
    /// Faults already shown (a workspace that cannot be opened).
    faults: BTreeSet<String>,
    /// When the next check is due.
    due: Option<Instant>,
    /// Each spec's own stages from earlier checks, reused while its text is
    /// the same.
    cache: Arc<SpecCache>,
    /// The workspaces of the open files as the last check left them: what
    /// hover, completion and navigation read.
    last: Vec<Compiled>,
    /// The client watches files for the server (it registers for
    /// `workspace/didChangeWatchedFiles` once initialized).
    watch: bool,
    /// The documents opened, changed or closed since the last check: only
    /// their workspaces are checked again.
    dirty: BTreeSet<PathBuf>,
    /// The disk changed since the last check: every workspace is checked.
    all_dirty: bool,
}

/// The files whose changes on disk the server is told of, when the client
/// can watch files: specs, platform configs and blueprint overrides (in
/// the conventional `blueprints/` folder).
const WATCHED: [&str; 3] = ["**/platform.yaml", "**/paved.yaml", "**/blueprints/**"];

type Sent = std::io::Result<()>;

fn send(v: &Value) -> Sent {
    let body = v.to_string();
    let mut out = std::io::stdout().lock();
    write!(out, "Content-Length: {}\r\n\r\n", body.len())?;
    out.write_all(body.as_bytes())?;
    out.flush()
}

fn send_message(m: Message) -> Sent {
    let mut v = serde_json::to_value(m).unwrap_or(Value::Null);
    if let Some(o) = v.as_object_mut() {
        o.insert("jsonrpc".into(), json!("2.0"));
    }
    send(&v)
}

fn notify(method: &str, params: impl serde::Serialize) -> Sent {
    send_message(Message::Notification(Notification::new(
        method.to_string(),
        params,
    )))
}

impl Server {
    fn serve(&mut self, rx: &mpsc::Receiver<Incoming>) -> std::io::Result<bool> {
        loop {
            let next = match self.due {
                Some(due) => match rx.recv_timeout(due.saturating_duration_since(Instant::now())) {
                    Ok(m) => Some(m),
                    Err(mpsc::RecvTimeoutError::Timeout) => None,
                    Err(mpsc::RecvTimeoutError::Disconnected) => Some(Incoming::End),
                },
                None => Some(rx.recv().unwrap_or(Incoming::End)),
            };
            match next {
                None => {
                    self.due = None;
                    self.check()?;
                }
                Some(Incoming::End) => return Ok(self.shutdown),
                Some(Incoming::Bad(code, message)) => send(&json!({
                    "jsonrpc": "2.0",
                    "id": null,
                    "error": {"code": code, "message": message},
                }))?,
                Some(Incoming::Message(Message::Request(r))) => self.request(r)?,
                Some(Incoming::Message(Message::Notification(n))) => {
                    if n.method == "exit" {
                        return Ok(self.shutdown);
                    }
                    self.notification(n)?;
                }
                Some(Incoming::Message(Message::Response(_))) => {}
            }
        }
    }

    fn request(&mut self, r: Request) -> Sent {
        let refuse = |code: ErrorCode, message: String| {
            send_message(Message::Response(Response::new_err(
                r.id.clone(),
                code as i32,
                message,
            )))
        };
        if self.shutdown {
            return refuse(
                ErrorCode::InvalidRequest,
                "the server is shutting down".into(),
            );
        }
        match r.method.as_str() {
            "initialize" if self.initialized => {
                refuse(ErrorCode::InvalidRequest, "already initialized".into())
            }
            "initialize" => {
                let params: InitializeParams = match serde_json::from_value(r.params.clone()) {
                    Ok(p) => p,
                    Err(e) => return refuse(ErrorCode::InvalidParams, e.to_string()),
                };
                let offered = params
                    .capabilities
                    .general
                    .and_then(|g| g.position_encodings)
                    .unwrap_or_default();
                self.watch = params
                    .capabilities
                    .workspace
                    .as_ref()
                    .and_then(|w| w.did_change_watched_files)
                    .and_then(|w| w.dynamic_registration)
                    .unwrap_or(false);
                self.enc = if offered.contains(&PositionEncodingKind::UTF8) {
                    Encoding::Utf8
                } else {
                    Encoding::Utf16
                };
                self.initialized = true;
                let result = InitializeResult {
                    capabilities: ServerCapabilities {
                        position_encoding: Some(match self.enc {
                            Encoding::Utf8 => PositionEncodingKind::UTF8,
                            Encoding::Utf16 => PositionEncodingKind::UTF16,
                        }),
                        text_document_sync: Some(TextDocumentSyncCapability::Options(
                            TextDocumentSyncOptions {
                                open_close: Some(true),
                                change: Some(TextDocumentSyncKind::INCREMENTAL),
                                save: Some(TextDocumentSyncSaveOptions::Supported(true)),
                                ..Default::default()
                            },
                        )),
                        hover_provider: Some(HoverProviderCapability::Simple(true)),
                        completion_provider: Some(CompletionOptions {
                            trigger_characters: Some(
                                [":", ".", "{", " ", "/"].map(String::from).to_vec(),
                            ),
                            ..Default::default()
                        }),
                        definition_provider: Some(OneOf::Left(true)),
                        code_action_provider: Some(CodeActionProviderCapability::Options(
                            CodeActionOptions {
                                code_action_kinds: Some(vec![CodeActionKind::QUICKFIX]),
                                ..Default::default()
                            },
                        )),
                        document_symbol_provider: Some(OneOf::Left(true)),
                        workspace: Some(WorkspaceServerCapabilities {
                            workspace_folders: None,
                            file_operations: Some(file_operations()),
                        }),
                        ..Default::default()
                    },
                    server_info: Some(ServerInfo {
                        name: "paved".into(),
                        version: Some(env!("CARGO_PKG_VERSION").into()),
                    }),
                };
                send_message(Message::Response(Response::new_ok(r.id.clone(), result)))
            }
            _ if !self.initialized => refuse(
                ErrorCode::ServerNotInitialized,
                "the first request must be `initialize`".into(),
            ),
            "shutdown" => {
                self.shutdown = true;
                send_message(Message::Response(Response::new_ok(r.id.clone(), ())))
            }
            "textDocument/hover"
            | "textDocument/completion"
            | "textDocument/definition"
            | "textDocument/codeAction"
            | "textDocument/documentSymbol" => match self.feature(&r) {
                Ok(result) => {
                    send_message(Message::Response(Response::new_ok(r.id.clone(), result)))
                }
                Err(e) => refuse(ErrorCode::InvalidParams, e),
            },
            other => refuse(
                ErrorCode::MethodNotFound,
                format!("paved lsp does not answer `{}`", crate::diag::escape(other)),
            ),
        }
    }

    fn notification(&mut self, n: Notification) -> Sent {
        if !self.initialized {
            return Ok(());
        }
        let method = n.method.clone();
        let bad = |e: serde_json::Error| {
            notify(
                "window/logMessage",
                json!({"type": MessageType::WARNING, "message": format!("paved lsp: `{}` ignored: {e}", crate::diag::escape(&method))}),
            )
        };
        match n.method.as_str() {
            "initialized" if self.watch => {
                return send_message(Message::Request(Request::new(
                    "paved-watch".to_string().into(),
                    "client/registerCapability".to_string(),
                    RegistrationParams {
                        registrations: vec![Registration {
                            id: "paved-watch".into(),
                            method: "workspace/didChangeWatchedFiles".into(),
                            register_options: serde_json::to_value(
                                DidChangeWatchedFilesRegistrationOptions {
                                    watchers: WATCHED
                                        .iter()
                                        .map(|g| FileSystemWatcher {
                                            glob_pattern: GlobPattern::String(g.to_string()),
                                            kind: None,
                                        })
                                        .collect(),
                                },
                            )
                            .ok(),
                        }],
                    },
                )));
            }
            "textDocument/didOpen" => {
                let p: DidOpenTextDocumentParams = match serde_json::from_value(n.params) {
                    Ok(p) => p,
                    Err(e) => return bad(e),
                };
                if let Some(path) = documents::path_of(&p.text_document.uri) {
                    self.dirty.insert(path);
                }
                self.docs.open(p.text_document.uri, p.text_document.text);
            }
            "textDocument/didChange" => {
                let p: DidChangeTextDocumentParams = match serde_json::from_value(n.params) {
                    Ok(p) => p,
                    Err(e) => return bad(e),
                };
                if let Some(path) = documents::path_of(&p.text_document.uri) {
                    self.dirty.insert(path);
                }
                for c in &p.content_changes {
                    if !self
                        .docs
                        .change(&p.text_document.uri, c.range, &c.text, self.enc)
                    {
                        break;
                    }
                }
            }
            "textDocument/didClose" => {
                let p: DidCloseTextDocumentParams = match serde_json::from_value(n.params) {
                    Ok(p) => p,
                    Err(e) => return bad(e),
                };
                if let Some(uri) = self.docs.close(&p.text_document.uri) {
                    if let Some(path) = documents::path_of(&uri) {
                        // A spec known only from its buffer (written to disk
                        // since the last walk, with no event to say so), or
                        // gone from the disk: the folders are walked again,
                        // as `paved validate` would read them.
                        let spec = path.file_name().is_some_and(|n| n == "platform.yaml");
                        if spec && (!self.cache.walked(&path) || !path.is_file()) {
                            self.cache.disk_changed();
                            self.all_dirty = true;
                        }
                        self.published.remove(&path);
                        self.dirty.insert(path);
                    }
                    publish(uri, Vec::new())?;
                }
            }
            // The disk changed: the folders are walked and the files that
            // are not open are read again at the next check (until then,
            // checks take the files as last read: docs/editors.md).
            "textDocument/didSave"
            | "workspace/didChangeWatchedFiles"
            | "workspace/didCreateFiles"
            | "workspace/didDeleteFiles"
            | "workspace/didRenameFiles" => {
                self.cache.disk_changed();
                self.all_dirty = true;
            }
            _ => return Ok(()),
        }
        self.due = Some(Instant::now() + DEBOUNCE);
        Ok(())
    }

    /// Answers a feature request from the buffer and the last check (run
    /// first when edits are waiting for it).
    fn feature(&mut self, r: &Request) -> Result<Value, String> {
        #[derive(serde::Deserialize)]
        #[serde(rename_all = "camelCase")]
        struct At {
            text_document: lsp_types::TextDocumentIdentifier,
            #[serde(default)]
            position: Option<lsp_types::Position>,
        }
        let at: At = serde_json::from_value(r.params.clone()).map_err(|e| e.to_string())?;
        if self.due.take().is_some() {
            self.check().map_err(|e| e.to_string())?;
        }
        let Some(path) = documents::path_of(&at.text_document.uri) else {
            return Ok(Value::Null);
        };
        let Some(doc) = self.docs.get(&path) else {
            return Ok(Value::Null);
        };
        let kind = if path.file_name().is_some_and(|n| n == "paved.yaml") {
            Kind::Platform
        } else {
            Kind::Application
        };
        let compiled = self.last.iter().find(|c| {
            c.workspace.specs.iter().any(|s| s.path == path)
                || c.workspace.config.as_deref() == Some(path.as_path())
        });
        let config = compiled
            .and_then(|c| c.workspace.config.as_deref())
            .and_then(|p| {
                let text = match self.docs.get(p) {
                    Some(d) => d.text.trim_start_matches('\u{feff}').to_string(),
                    None => std::fs::read_to_string(p).ok()?,
                };
                let src = crate::source::Source::new(p, "paved.yaml", text);
                let (doc, _) = crate::load::load_mapping(&src, "paved.yaml");
                Some((src, doc?))
            });
        let docs = &self.docs;
        let uri_for = |p: &Path| docs.get(p).map(|d| d.uri.clone());
        let v = view::View {
            text: &doc.text,
            kind,
            enc: self.enc,
            compiled,
            config,
            uri_for: &uri_for,
        };
        let offset = at
            .position
            .map(|p| documents::offset(&doc.text, p, self.enc))
            .unwrap_or(0);
        let out = match r.method.as_str() {
            "textDocument/hover" => serde_json::to_value(hover::hover(&v, offset)),
            "textDocument/completion" => serde_json::to_value(completion::complete(&v, offset)),
            "textDocument/definition" => serde_json::to_value(navigation::definition(&v, offset)),
            "textDocument/documentSymbol" => serde_json::to_value(navigation::symbols(&v)),
            _ => {
                let p: lsp_types::CodeActionParams =
                    serde_json::from_value(r.params.clone()).map_err(|e| e.to_string())?;
                serde_json::to_value(actions::actions(&v, &doc.uri, &p.context.diagnostics))
            }
        };
        out.map_err(|e| e.to_string())
    }

    /// Checks the workspaces of the documents opened, changed or closed
    /// since the last check (every open file's after the disk changed), and
    /// publishes what changed. The other workspaces' last checks stand:
    /// nothing of theirs changed.
    fn check(&mut self) -> Sent {
        let overlay = Arc::new(self.docs.overlay());
        let open: Vec<PathBuf> = self.docs.paths().map(Path::to_path_buf).collect();
        let dirty = std::mem::take(&mut self.dirty);
        let all = std::mem::replace(&mut self.all_dirty, false);
        let holds = |c: &Compiled, p: &Path| {
            c.workspace.specs.iter().any(|s| s.path == p)
                || c.workspace.config.as_deref() == Some(p)
        };
        let mut kept: Vec<Compiled> = std::mem::take(&mut self.last);
        if all {
            kept.clear();
        }
        kept.retain(|c| !dirty.iter().any(|p| holds(c, p)));
        let mut found: BTreeMap<PathBuf, Vec<lsp_types::Diagnostic>> = BTreeMap::new();
        let mut faults = BTreeSet::new();
        let mut checked: Vec<Compiled> = Vec::new();
        // The open files a kept check answers, unless they changed.
        let answered: BTreeSet<PathBuf> = open
            .iter()
            .filter(|p| !dirty.contains(*p) && kept.iter().any(|c| holds(c, p)))
            .cloned()
            .collect();
        for path in &open {
            if found.contains_key(path) || answered.contains(path) {
                continue;
            }
            let Some(anchor) = path.ancestors().skip(1).find(|a| a.is_dir()) else {
                found.insert(path.clone(), Vec::new());
                continue;
            };
            let inputs = Inputs {
                paths: vec![anchor.to_path_buf()],
                overlay: Some(overlay.clone()),
                cache: Some(self.cache.clone()),
                ..Inputs::default()
            };
            found.insert(path.clone(), Vec::new());
            let c = match app::compile(&inputs, false) {
                Ok(c) => c,
                Err(Fault(why)) => {
                    faults.insert(why);
                    continue;
                }
            };
            // Every open file of this workspace is answered by this check.
            let ws = &c.workspace;
            let members: BTreeSet<&PathBuf> = open
                .iter()
                .filter(|p| {
                    ws.specs.iter().any(|s| &s.path == *p)
                        || ws.config.as_ref().is_some_and(|cfg| cfg == *p)
                })
                .collect();
            for p in &members {
                found.insert((*p).clone(), Vec::new());
            }
            let docs = &self.docs;
            let uri = |p: &Path| docs.get(p).map(|d| d.uri.clone());
            let bom = |p: &Path| docs.get(p).is_some_and(|d| d.text.starts_with('\u{feff}'));
            for d in &c.diags {
                let Some(file) = d.file().filter(|f| members.contains(&f.path)) else {
                    continue;
                };
                if let Some(list) = found.get_mut(&file.path) {
                    list.push(diagnostics::convert(d, self.enc, &uri, &bom));
                }
            }
            checked.push(c);
        }
        // A workspace checked now replaces its earlier check.
        kept.retain(|k| !checked.iter().any(|c| c.workspace.root == k.workspace.root));
        kept.extend(checked);
        self.last = kept;
        // The cache keeps the workspaces with an open document only.
        let roots: Vec<PathBuf> = self
            .last
            .iter()
            .filter(|c| open.iter().any(|p| holds(c, p)))
            .map(|c| c.workspace.root.clone())
            .collect();
        self.cache.keep_only(&roots);
        for why in faults.difference(&self.faults) {
            notify(
                "window/showMessage",
                ShowMessageParams {
                    typ: MessageType::ERROR,
                    message: format!("paved: {why}"),
                },
            )?;
        }
        self.faults = faults;
        for (path, list) in found {
            if self.published.get(&path) == Some(&list) {
                continue;
            }
            let Some(doc) = self.docs.get(&path) else {
                continue;
            };
            publish(doc.uri.clone(), list.clone())?;
            self.published.insert(path, list);
        }
        Ok(())
    }
}

/// The file operations (create, delete, rename, made in the editor) the
/// client tells the server of: any file or folder, since a folder moved
/// or deleted takes its specs with it.
fn file_operations() -> WorkspaceFileOperationsServerCapabilities {
    let any = || FileOperationRegistrationOptions {
        filters: vec![FileOperationFilter {
            scheme: Some("file".into()),
            pattern: FileOperationPattern {
                glob: "**/*".into(),
                matches: None,
                options: None,
            },
        }],
    };
    WorkspaceFileOperationsServerCapabilities {
        did_create: Some(any()),
        did_rename: Some(any()),
        did_delete: Some(any()),
        ..Default::default()
    }
}

fn publish(uri: Uri, diagnostics: Vec<lsp_types::Diagnostic>) -> Sent {
    notify(
        "textDocument/publishDiagnostics",
        PublishDiagnosticsParams {
            uri,
            diagnostics,
            version: None,
        },
    )
}
