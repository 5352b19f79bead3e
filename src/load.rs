//! Loading YAML into a tree that remembers where every key and value came from.
//!
//! `serde_yaml` forgets positions, so Paved reads YAML through `saphyr-parser`'s
//! event stream (which reports a span for every event) and builds its own small
//! tree, [`Node`]. Every later stage that finds a problem in a value asks the
//! tree where that value was (via a JSON pointer, see [`Node::pointer`]), which is
//! how a schema error in `spec.ports[1].port` points at line 14, column 15.
//!
//! The tree is built iteratively (an explicit stack, no recursion), nesting is
//! capped, and alias expansion is budgeted both in values and in bytes, so a
//! hostile file (10 000 nested brackets, a "billion laughs" alias bomb, a long
//! string aliased thousands of times) costs bounded time and memory and gets a
//! diagnostic instead of a crash.
//!
//! Plain scalars are resolved with the YAML 1.2 core schema (`yes` and `on` are
//! strings, as in every YAML 1.2 tool); quoted scalars are always strings.
//!
//! [`read`] is this stage's only IO: it reads one file (or the editor's unsaved
//! buffer that stands for it, [`Overlay`]), bounded, and reports
//! its size and encoding problems (`paved::load::*`) before any YAML is seen.
//!
//! Architecture invariant: this module knows files, text, YAML and spans,
//! nothing about platform specs, schemas or Kubernetes.

use crate::codes;
use std::collections::HashMap;
use std::path::Path;

use saphyr_parser::{Event, Parser, ScalarStyle, ScanError};

use crate::diag::Diagnostic;
use crate::source::{Overlay, Source, SourceRef, Span};

/// Reads a spec or config file into a [`Source`]: at most `limit` bytes,
/// and every problem of size or encoding (too large, UTF-16, not UTF-8,
/// binary, a byte-order mark) as a diagnostic on the file. An `Err` is a
/// fault of the environment (the file cannot be read), with its message.
pub(crate) fn read(
    path: &Path,
    name: String,
    limit: u64,
    what: &str,
    overlay: Option<&Overlay>,
    diags: &mut Vec<Diagnostic>,
) -> Result<Option<SourceRef>, String> {
    // An editor's unsaved buffer takes the place of the file, under the same limit.
    let buffer = overlay.and_then(|o| o.get(path));
    let size = match buffer {
        Some(text) => text.len() as u64,
        None => std::fs::metadata(path)
            .map_err(|e| format!("cannot read `{name}`: {e}"))?
            .len(),
    };
    if size > limit {
        let src = Source::new(path, name.clone(), String::new());
        diags.push(
            Diagnostic::error(codes::LOAD_TOO_LARGE, format!("{what} is {size} bytes, over the limit of {limit} bytes"))
                .in_file(&src)
                .help("a platform spec is a few dozen lines; the limit is `spec.limits.maxFileSize` in paved.yaml"),
        );
        return Ok(None);
    }
    // Never more than the limit, whatever the size said: a file that grew
    // since, or a device named on the command line, cannot fill memory.
    let mut bytes = Vec::new();
    if let Some(text) = buffer {
        bytes.extend_from_slice(text.as_bytes());
    } else {
        use std::io::Read as _;
        std::fs::File::open(path)
            .and_then(|f| f.take(limit.saturating_add(1)).read_to_end(&mut bytes))
            .map_err(|e| format!("cannot read `{name}`: {e}"))?;
    }
    if bytes.len() as u64 > limit {
        let src = Source::new(path, name.clone(), String::new());
        diags.push(
            Diagnostic::error(codes::LOAD_TOO_LARGE, format!("{what} is over the limit of {limit} bytes"))
                .in_file(&src)
                .help("a platform spec is a few dozen lines; the limit is `spec.limits.maxFileSize` in paved.yaml"),
        );
        return Ok(None);
    }
    // Windows editors save "Unicode" as UTF-16; say so rather than "binary".
    if bytes.starts_with(b"\xFF\xFE") || bytes.starts_with(b"\xFE\xFF") {
        let src = Source::new(path, name, String::new());
        diags.push(
            Diagnostic::error(
                codes::LOAD_INVALID_UTF8,
                format!("{what} is encoded as UTF-16, not UTF-8"),
            )
            .in_file(&src)
            .help("save the file as UTF-8 text (in most editors: \"Save with encoding\" → UTF-8)"),
        );
        return Ok(None);
    }
    let (text, bom) = match bytes.strip_prefix(b"\xEF\xBB\xBF") {
        Some(rest) => (rest, true),
        None => (&bytes[..], false),
    };
    let text = match std::str::from_utf8(text) {
        Ok(t) => t.to_string(),
        Err(e) => {
            let lossy = String::from_utf8_lossy(text).into_owned();
            let at = e.valid_up_to();
            let src = Source::new(path, name, lossy);
            let binary = text.contains(&0);
            let (code, msg) = if binary {
                (
                    codes::LOAD_BINARY,
                    format!("{what} holds binary data, not text"),
                )
            } else {
                (
                    codes::LOAD_INVALID_UTF8,
                    format!("{what} is not valid UTF-8"),
                )
            };
            diags.push(
                Diagnostic::error(code, msg)
                    .at(
                        &src,
                        Span::new(at, (at + 3).min(src.text.len())),
                        "the first invalid byte is here",
                    )
                    .help("save the file as UTF-8 text"),
            );
            return Ok(None);
        }
    };
    let src = Source::new(path, name, text);
    if let Some(at) = src.text.find('\0') {
        diags.push(
            Diagnostic::error(
                codes::LOAD_BINARY,
                format!("{what} holds binary data (a NUL byte), not text"),
            )
            .at(&src, Span::new(at, at + 1), "NUL byte")
            .help("save the file as plain UTF-8 text"),
        );
        return Ok(None);
    }
    if bom {
        diags.push(
            Diagnostic::warning(
                codes::LOAD_BYTE_ORDER_MARK,
                format!("{what} starts with a byte-order mark"),
            )
            .at(
                &src,
                Span::point(0),
                "invisible BOM before the first character",
            )
            .help("it is ignored; save the file as UTF-8 without BOM to silence this"),
        );
    }
    Ok(Some(src))
}

/// The deepest nesting accepted. Real specs nest about 6 levels; rendered
/// dashboards about 10.
pub(crate) const MAX_DEPTH: usize = 64;
/// The most values one file may hold after aliases are expanded.
pub(crate) const MAX_NODES: usize = 200_000;
/// The least text (keys and strings) a file may expand to through aliases:
/// four times the default `spec.limits.maxFileSize`, a thousand times a real
/// spec. A larger file may expand to [`EXPANSION_FACTOR`] times its own size.
pub(crate) const MIN_EXPANSION: usize = 4 * 1024 * 1024;
/// How many times its own size a file may expand to through aliases.
pub(crate) const EXPANSION_FACTOR: usize = 4;

/// The most text (bytes of keys and strings, each counted every time an alias
/// repeats it) a file of `len` bytes may hold after aliases are expanded. A
/// file without aliases stays far below it: its text is at most its size
/// (one and a half times with escapes such as `\L`).
pub(crate) fn expansion_budget(len: usize) -> usize {
    MIN_EXPANSION.max(len.saturating_mul(EXPANSION_FACTOR))
}
/// Mappings up to this size find duplicate keys by scanning.
const SCAN_LIMIT: usize = 16;

#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    pub span: Span,
    pub value: Value,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(String),
    Seq(Vec<Node>),
    Map(Vec<Entry>),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    pub key: String,
    pub key_span: Span,
    pub value: Node,
}

impl Node {
    /// The YAML type name of this value, for messages ("a string", "a mapping").
    pub fn type_name(&self) -> &'static str {
        match &self.value {
            Value::Null => "null",
            Value::Bool(_) => "a boolean",
            Value::Int(_) => "an integer",
            Value::Float(f) if f.is_nan() => "not a number (`.nan`)",
            Value::Float(f) if f.is_infinite() => "a number too large to represent",
            Value::Float(_) => "a number",
            Value::Str(_) => "a string",
            Value::Seq(_) => "a list",
            Value::Map(_) => "a mapping",
        }
    }

    pub fn get(&self, key: &str) -> Option<&Node> {
        self.entry(key).map(|e| &e.value)
    }

    pub fn entry(&self, key: &str) -> Option<&Entry> {
        match &self.value {
            Value::Map(entries) => entries.iter().find(|e| e.key == key),
            _ => None,
        }
    }

    pub fn as_str(&self) -> Option<&str> {
        match &self.value {
            Value::Str(s) => Some(s),
            _ => None,
        }
    }

    /// Finds the node at a JSON pointer (`/spec/ports/0/name`). Returns the node
    /// and, when the last step was a mapping key, the key's span too.
    pub fn pointer(&self, pointer: &str) -> Option<(&Node, Option<Span>)> {
        let mut node = self;
        let mut key_span = None;
        if pointer.is_empty() {
            return Some((node, None));
        }
        for raw in pointer.strip_prefix('/')?.split('/') {
            let step = raw.replace("~1", "/").replace("~0", "~");
            match &node.value {
                Value::Map(entries) => {
                    let e = entries.iter().find(|e| e.key == step)?;
                    key_span = Some(e.key_span);
                    node = &e.value;
                }
                Value::Seq(items) => {
                    node = items.get(step.parse::<usize>().ok()?)?;
                    key_span = None;
                }
                _ => return None,
            }
        }
        Some((node, key_span))
    }

    /// Converts to JSON for schema validation and for the typed model.
    /// Non-finite floats have no JSON form; they become strings, which the
    /// schema then reports as the wrong type.
    pub fn to_json(&self) -> serde_json::Value {
        use serde_json::Value as J;
        match &self.value {
            Value::Seq(items) => J::Array(items.iter().map(Node::to_json).collect()),
            Value::Map(entries) => J::Object(
                entries
                    .iter()
                    .map(|e| (e.key.clone(), e.value.to_json()))
                    .collect(),
            ),
            scalar => scalar_json(scalar.clone()),
        }
    }

    /// What this value costs against the file's expansion budget: its values
    /// (a mapping's keys included) and the bytes of its keys and strings.
    fn size(&self) -> Size {
        let mut size = Size::default();
        let mut stack = vec![self];
        while let Some(node) = stack.pop() {
            size.values += 1;
            match &node.value {
                Value::Str(s) => size.bytes += s.len(),
                Value::Seq(items) => stack.extend(items),
                Value::Map(entries) => {
                    for e in entries {
                        size.values += 1;
                        size.bytes += e.key.len();
                        stack.push(&e.value);
                    }
                }
                _ => {}
            }
        }
        size
    }
}

/// A cost against the expansion budget, see [`Node::size`].
#[derive(Debug, Clone, Copy, Default)]
struct Size {
    values: usize,
    bytes: usize,
}

/// What to do with several documents in one stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Documents {
    /// An input file: exactly one document, a mapping.
    One,
    /// Rendered blueprint output: any number of documents, empty ones skipped.
    Many,
}

/// Parses one input file that must hold exactly one mapping.
pub(crate) fn load_mapping(src: &SourceRef, what: &str) -> (Option<Node>, Vec<Diagnostic>) {
    let (mut docs, mut diags) = parse(src, Documents::One);
    if !diags.is_empty() {
        return (None, diags);
    }
    // A document of only `---` is an implicit, zero-width null: "empty" too.
    let doc = docs
        .pop()
        .filter(|d| !(d.value == Value::Null && d.span.is_empty()));
    match doc {
        None => {
            let help = if what == "platform.yaml" {
                format!(
                    "a {what} starts with `apiVersion: paved.dev/v1`; `paved init NAME` writes one"
                )
            } else {
                format!("a {what} starts with `apiVersion: paved.dev/v1`")
            };
            diags.push(
                Diagnostic::error(codes::YAML_EMPTY, format!("{what} is empty"))
                    .at(src, Span::point(0), "no document here")
                    .help(help),
            );
            (None, diags)
        }
        Some(doc) if matches!(doc.value, Value::Map(_)) => (Some(doc), diags),
        Some(doc) => {
            let (code, msg) = if doc.value == Value::Null {
                (codes::YAML_EMPTY, format!("{what} holds only `null`"))
            } else {
                (
                    codes::YAML_NOT_A_MAPPING,
                    format!("{what} must be a mapping, found {}", doc.type_name()),
                )
            };
            diags.push(
                Diagnostic::error(code, msg)
                    .at(src, doc.span, "expected `key: value` pairs here")
                    .help("the file's top level holds `apiVersion`, `kind`, `metadata` and `spec`"),
            );
            (None, diags)
        }
    }
}

/// Parses a YAML stream into documents. Syntax errors stop the parse (YAML
/// cannot be resynchronised reliably); structural findings (duplicate keys,
/// depth) are all collected.
pub fn parse(src: &SourceRef, docs_mode: Documents) -> (Vec<Node>, Vec<Diagnostic>) {
    let mut b = Builder::new(src);
    let mut parser = Parser::new_from_str(&src.text);
    let mut documents: Vec<Node> = Vec::new();
    let mut doc_starts: Vec<Span> = Vec::new();
    loop {
        let (event, span) = match parser.next_event() {
            None => break,
            Some(Ok(ev)) => ev,
            Some(Err(e)) => {
                b.diags.push(syntax_error(src, &b.offsets, &e));
                break;
            }
        };
        let span = b.offsets.span(&span);
        match event {
            Event::StreamStart | Event::Nothing | Event::DocumentEnd => {}
            Event::StreamEnd => break,
            Event::DocumentStart(_) => {
                doc_starts.push(span);
                b.anchors.clear();
                // Rendered output may hold many documents; the value budget
                // guards each one, so a large fleet's output is never refused.
                // The byte budget guards the whole text (at most four times
                // its size, which no document without aliases reaches).
                if docs_mode == Documents::Many {
                    b.nodes = 0;
                }
            }
            Event::Alias(id) => b.alias(id, span),
            Event::Scalar(text, style, anchor, tag) => {
                let value = match tag {
                    Some(tag) if tag.handle == "tag:yaml.org,2002:" && tag.suffix == "str" => {
                        Value::Str(text.into_owned())
                    }
                    Some(tag) => {
                        b.diags.push(
                            Diagnostic::error(
                                codes::YAML_TAG,
                                format!(
                                    "YAML tags such as `{}{}` are not supported",
                                    tag.handle, tag.suffix
                                ),
                            )
                            .at(src, span, "tag used here")
                            .help("remove the tag; quote the value if it must be a string"),
                        );
                        Value::Null
                    }
                    None => resolve_scalar(&text, style),
                };
                b.push(Node { span, value }, anchor);
            }
            Event::SequenceStart(anchor, _) => b.open(span, anchor, false),
            Event::MappingStart(anchor, _) => b.open(span, anchor, true),
            Event::SequenceEnd | Event::MappingEnd => b.close(span),
        }
        if let Some(doc) = b.finished.take() {
            documents.push(doc);
        }
        if b.fatal {
            break;
        }
    }
    if docs_mode == Documents::One && documents.len() > 1 && b.diags.is_empty() {
        let second = doc_starts.get(1).copied().unwrap_or(documents[1].span);
        b.diags.push(
            Diagnostic::error(
                codes::YAML_MULTIPLE_DOCUMENTS,
                format!(
                    "this file holds {} YAML documents; Paved reads one per file",
                    documents.len()
                ),
            )
            .at(src, second, "a second document starts here")
            .help("put each service in its own folder with its own platform.yaml"),
        );
    }
    if docs_mode == Documents::Many {
        documents.retain(|d| d.value != Value::Null);
    }
    (documents, b.diags)
}

/// Builds nodes from events with an explicit stack.
struct Builder<'a> {
    src: &'a SourceRef,
    offsets: Offsets<'a>,
    stack: Vec<Frame>,
    /// Each anchored value and its size.
    anchors: HashMap<usize, (Node, Size)>,
    finished: Option<Node>,
    nodes: usize,
    /// Bytes of keys and strings so far, aliases expanded, against `max_bytes`.
    bytes: usize,
    max_bytes: usize,
    diags: Vec<Diagnostic>,
    fatal: bool,
}

struct Frame {
    span: Span,
    anchor: usize,
    is_map: bool,
    items: Vec<Node>,
    entries: Vec<Entry>,
    /// A mapping's key waiting for its value.
    pending_key: Option<(String, Span)>,
    /// Keys seen so far, for large mappings only; small ones are scanned,
    /// which costs less than hashing every key of every rendered document.
    seen: Option<HashMap<String, Span>>,
}

impl<'a> Builder<'a> {
    fn new(src: &'a SourceRef) -> Self {
        Builder {
            src,
            offsets: Offsets::new(&src.text),
            stack: Vec::new(),
            anchors: HashMap::new(),
            finished: None,
            nodes: 0,
            bytes: 0,
            max_bytes: expansion_budget(src.text.len()),
            diags: Vec::new(),
            fatal: false,
        }
    }

    fn open(&mut self, span: Span, anchor: usize, is_map: bool) {
        if self.stack.len() >= MAX_DEPTH {
            self.diags.push(
                Diagnostic::error(
                    codes::YAML_TOO_DEEP,
                    format!("this value is nested more than {MAX_DEPTH} levels deep"),
                )
                .at(self.src, span, "nesting limit reached here")
                .help(
                    "a platform spec never needs this much nesting; check for unbalanced brackets",
                ),
            );
            self.fatal = true;
            return;
        }
        self.stack.push(Frame {
            span,
            anchor,
            is_map,
            items: Vec::new(),
            entries: Vec::new(),
            pending_key: None,
            seen: None,
        });
    }

    fn close(&mut self, end: Span) {
        let Some(frame) = self.stack.pop() else {
            return;
        };
        let span = Span::new(frame.span.start, end.end.max(frame.span.end));
        let value = if frame.is_map {
            Value::Map(frame.entries)
        } else {
            Value::Seq(frame.items)
        };
        self.push(Node { span, value }, frame.anchor);
    }

    fn alias(&mut self, id: usize, span: Span) {
        let Some((_, size)) = self.anchors.get(&id) else {
            self.diags.push(
                Diagnostic::error(codes::YAML_SYNTAX, "this alias refers to an unknown anchor").at(
                    self.src,
                    span,
                    "unknown alias",
                ),
            );
            self.fatal = true;
            return;
        };
        // Charged before the copy is made, so a copy never outgrows the budget.
        let size = *size;
        if !self.budget(size, span, "at this alias") {
            return;
        }
        let Some((target, _)) = self.anchors.get(&id) else {
            return;
        };
        let mut node = target.clone();
        // The copy is reported where the alias is written, so a later error in
        // it points at the place that brought it in.
        node.span = span;
        self.attach(node, 0);
    }

    /// Charges `size` against the file's budget; false when it is exhausted.
    /// `where_` says where in the file the budget ran out.
    fn budget(&mut self, size: Size, span: Span, where_: &str) -> bool {
        self.nodes += size.values;
        self.bytes = self.bytes.saturating_add(size.bytes);
        let (message, help) = if self.nodes > MAX_NODES {
            (
                format!("this file expands to more than {MAX_NODES} values"),
                "aliases that refer to aliases multiply; write the values out or use fewer levels",
            )
        } else if self.bytes > self.max_bytes {
            (
                format!(
                    "aliases expand this file to more than {} of text",
                    mib(self.max_bytes)
                ),
                "each alias repeats the whole value it names, so a long string aliased many times grows the file \
                 many times over; write the value once, or alias only short values",
            )
        } else {
            return true;
        };
        self.diags.push(
            Diagnostic::error(codes::YAML_TOO_LARGE, message)
                .at(self.src, span, format!("expansion limit reached {where_}"))
                .help(help),
        );
        self.fatal = true;
        false
    }

    /// Adds a value read from the file (an alias's copy is charged by `alias`).
    fn push(&mut self, node: Node, anchor: usize) {
        if let Value::Str(s) = &node.value {
            let size = Size {
                values: 1,
                bytes: s.len(),
            };
            if !self.budget(size, node.span, "here") {
                return;
            }
        } else if !matches!(node.value, Value::Seq(_) | Value::Map(_))
            && !self.budget(
                Size {
                    values: 1,
                    bytes: 0,
                },
                node.span,
                "here",
            )
        {
            return;
        }
        self.attach(node, anchor);
    }

    /// Adds a value to the collection being read, or finishes the document.
    fn attach(&mut self, node: Node, anchor: usize) {
        if anchor != 0 {
            // The copy kept for aliases is charged too: anchors nested in
            // anchors would otherwise copy a large value once per level.
            let size = node.size();
            if !self.budget(size, node.span, "at this anchored value") {
                return;
            }
            self.anchors.insert(anchor, (node.clone(), size));
        }
        let Some(frame) = self.stack.last_mut() else {
            self.finished = Some(node);
            return;
        };
        if !frame.is_map {
            frame.items.push(node);
            return;
        }
        match frame.pending_key.take() {
            Some((key, key_span)) => {
                let first = match &mut frame.seen {
                    Some(seen) => seen.get(&key).copied(),
                    None => frame
                        .entries
                        .iter()
                        .find(|e| e.key == key)
                        .map(|e| e.key_span),
                };
                if frame.seen.is_none() && frame.entries.len() >= SCAN_LIMIT {
                    frame.seen = Some(
                        frame
                            .entries
                            .iter()
                            .map(|e| (e.key.clone(), e.key_span))
                            .collect(),
                    );
                }
                if let Some(first) = first {
                    self.diags.push(
                        Diagnostic::error(codes::YAML_DUPLICATE_KEY, format!("the key `{key}` appears twice in this mapping"))
                            .at(self.src, key_span, "duplicate key")
                            .also(self.src, first, "first defined here")
                            .help("YAML keys must be unique; remove one of them (Paved never lets the last one win silently)"),
                    );
                } else if let Some(seen) = &mut frame.seen {
                    seen.insert(key.clone(), key_span);
                }
                frame.entries.push(Entry {
                    key,
                    key_span,
                    value: node,
                });
            }
            None => {
                // A plain key stays as written (`0755` is not the integer 755,
                // `0x1F` not 31): keys are names, and JSON keys are strings.
                // An alias used as a key has only `*name` as its text.
                let raw = self
                    .src
                    .text
                    .get(node.span.start..node.span.end)
                    .filter(|r| !r.starts_with('*'));
                let key = match node.value {
                    Value::Str(s) => s,
                    Value::Null => raw.unwrap_or("").to_string(),
                    Value::Bool(b) => raw.map_or_else(|| b.to_string(), str::to_string),
                    Value::Int(i) => raw.map_or_else(|| i.to_string(), str::to_string),
                    Value::Float(f) => raw.map_or_else(|| f.to_string(), str::to_string),
                    Value::Seq(_) | Value::Map(_) => {
                        self.diags.push(
                            Diagnostic::error(
                                codes::YAML_COMPLEX_KEY,
                                "a mapping key must be a plain value, not a list or mapping",
                            )
                            .at(self.src, node.span, "complex key")
                            .help("write the key as a plain string"),
                        );
                        String::new()
                    }
                };
                frame.pending_key = Some((key, node.span));
            }
        }
    }
}

/// `n` bytes in MiB, for messages: "4 MiB", "6.5 MiB".
fn mib(n: usize) -> String {
    let tenths = n * 10 / (1024 * 1024);
    if tenths.is_multiple_of(10) {
        format!("{} MiB", tenths / 10)
    } else {
        format!("{}.{} MiB", tenths / 10, tenths % 10)
    }
}

/// Converts saphyr's character indices to byte offsets.
struct Offsets<'a> {
    text: &'a str,
    /// Byte offset of every character, built only for non-ASCII text.
    table: Option<Vec<usize>>,
}

impl<'a> Offsets<'a> {
    fn new(text: &'a str) -> Self {
        let table = if text.is_ascii() {
            None
        } else {
            Some(text.char_indices().map(|(i, _)| i).collect())
        };
        Offsets { text, table }
    }

    fn byte(&self, char_index: usize) -> usize {
        match &self.table {
            None => char_index.min(self.text.len()),
            Some(t) => t.get(char_index).copied().unwrap_or(self.text.len()),
        }
    }

    fn span(&self, s: &saphyr_parser::Span) -> Span {
        Span::new(self.byte(s.start.index()), self.byte(s.end.index()))
    }
}

fn syntax_error(src: &SourceRef, offsets: &Offsets, e: &ScanError) -> Diagnostic {
    let at = offsets.byte(e.marker().index());
    let (line, _) = src.line_col(at);
    let line_text = src.line_text(line);
    let info = e.info();
    let indent: String = line_text
        .chars()
        .take_while(|c| *c == ' ' || *c == '\t')
        .collect();
    if info.contains("recursion limit") {
        return Diagnostic::error(
            codes::YAML_TOO_DEEP,
            format!("this value is nested too deeply (the limit is {MAX_DEPTH} levels)"),
        )
        .at(src, Span::point(at), "nesting limit reached here")
        .help("a platform spec never needs this much nesting; check for unbalanced brackets");
    }
    let tab = indent.contains('\t') || info.contains("tab");
    // saphyr reports a tab where it gave up, which can be the start of the
    // value before it; point at the tab itself: in this line's indentation,
    // else the next tab after the marker.
    let at = if tab {
        let line_start = src.offset_of(line, 1);
        if indent.contains('\t') {
            line_start + indent.find('\t').unwrap_or(0)
        } else {
            src.text[at..].find('\t').map_or(at, |i| at + i)
        }
    } else {
        at
    };
    let (message, help) = syntax_words(info, tab);
    let end = (at + 1).min(src.text.len());
    let span = if src.text.is_char_boundary(end) {
        Span::new(at, end)
    } else {
        Span::point(at)
    };
    Diagnostic::error(codes::YAML_SYNTAX, message)
        .at(src, span, "the YAML reader stopped here")
        .maybe_help(help)
}

/// Plain words for saphyr's messages: what is wrong, and how to fix it.
/// Anything not listed keeps saphyr's own text after "YAML syntax error".
fn syntax_words(info: &str, tab: bool) -> (String, Option<String>) {
    let s = |m: &str, h: &str| (m.to_string(), Some(h.to_string()));
    if tab {
        return s(
            "a tab character is used for indentation",
            "YAML indentation must use spaces; replace the tab with spaces",
        );
    }
    if info.contains("mapping values are not allowed") {
        return s(
            "a `:` followed by a space is not allowed in this value",
            "quote the value (`key: \"a: b\"`), or check the indentation of this line",
        );
    }
    if info.contains("simple key expect") {
        return s(
            "a line here is not `key: value`: a `:` is missing or the indentation is wrong",
            "every line of a mapping is `key: value`; check this line and the one above it",
        );
    }
    if info.contains("unknown anchor") {
        return s(
            "this alias refers to an anchor that is not defined",
            "define the anchor with `&NAME` on a value above this line, or remove the `*`",
        );
    }
    if info.contains("quoted scalar, found unexpected end of stream")
        || info.contains("invalid indentation in quoted scalar")
        || info.contains("quoted scalar, found unexpected document indicator")
    {
        return s(
            "a quoted string is not closed",
            "close the quote on the same line (`name: \"orders\"`); a quoted string that goes on over several lines must indent them",
        );
    }
    if info.contains("invalid indentation in flow construct") {
        return s(
            "a `[` or `{` is not closed before the next line",
            "close every `[` with `]` and every `{` with `}`; a list or mapping in brackets that goes on over several lines must indent them",
        );
    }
    if info.contains("expected ',' or '}'") || info.contains("expected ',' or ']'") {
        let (open, close) = if info.contains('}') {
            ("{", "}")
        } else {
            ("[", "]")
        };
        return s(
            &format!("a `{open}` is not closed: expected `,` or `{close}`"),
            &format!("close the `{open}` with `{close}`, and separate items with `, `"),
        );
    }
    if info.contains("escape") || info.contains("hexadecimal") {
        return s(
            &format!("YAML syntax error: {info}"),
            "inside double quotes `\\` starts an escape (`\\n`, `\\t`, `\\\\`); use single quotes for text with backslashes",
        );
    }
    if info.contains("misplaced bracket") {
        return s(
            "a closing bracket has no opening bracket",
            "remove the extra `]` or `}`, or add the `[` or `{` it closes",
        );
    }
    if info.contains("block sequence entries are not allowed") {
        return s(
            "a `- ` list item is not allowed here",
            "list items go on their own lines under a key that has no value on its line; check the indentation",
        );
    }
    if info.contains("unprintable character") {
        return s(
            "the file holds a control character YAML does not allow",
            "remove it; if it is meant, write it as an escape inside double quotes (e.g. `\\x07`)",
        );
    }
    if info.contains("did not find expected") || info.contains("while parsing") {
        return s(
            &format!("YAML syntax error: {info}"),
            "check the indentation and that every bracket and quote is closed",
        );
    }
    (format!("YAML syntax error: {info}"), None)
}

/// The JSON form of a scalar (see [`Node::to_json`]); collections are
/// converted by `to_json` itself and never reach here.
fn scalar_json(v: Value) -> serde_json::Value {
    use serde_json::Value as J;
    match v {
        Value::Bool(b) => J::Bool(b),
        Value::Int(i) => J::from(i),
        Value::Float(f) => serde_json::Number::from_f64(f)
            .map(J::Number)
            .unwrap_or_else(|| J::String(f.to_string())),
        Value::Str(s) => J::String(s),
        Value::Null | Value::Seq(_) | Value::Map(_) => J::Null,
    }
}

/// A plain (unquoted) scalar's JSON value, resolved exactly as [`parse`]
/// resolves it: the fast path of normalisation shares this, so both paths
/// agree on what `8080`, `true` or `1e3` mean.
pub(crate) fn plain_scalar_json(text: &str) -> serde_json::Value {
    scalar_json(resolve_scalar(text, ScalarStyle::Plain))
}

/// YAML 1.2 core schema resolution of a scalar.
fn resolve_scalar(text: &str, style: ScalarStyle) -> Value {
    if style != ScalarStyle::Plain {
        return Value::Str(text.to_string());
    }
    match text {
        "" | "~" | "null" | "Null" | "NULL" => return Value::Null,
        "true" | "True" | "TRUE" => return Value::Bool(true),
        "false" | "False" | "FALSE" => return Value::Bool(false),
        ".inf" | ".Inf" | ".INF" | "+.inf" | "+.Inf" | "+.INF" => {
            return Value::Float(f64::INFINITY)
        }
        "-.inf" | "-.Inf" | "-.INF" => return Value::Float(f64::NEG_INFINITY),
        ".nan" | ".NaN" | ".NAN" => return Value::Float(f64::NAN),
        _ => {}
    }
    let bytes = text.as_bytes();
    let digits = |s: &str, radix: u32| !s.is_empty() && s.chars().all(|c| c.is_digit(radix));
    if let Some(hex) = text.strip_prefix("0x") {
        if digits(hex, 16) {
            if let Ok(i) = i64::from_str_radix(hex, 16) {
                return Value::Int(i);
            }
        }
    }
    if let Some(oct) = text.strip_prefix("0o") {
        if digits(oct, 8) {
            if let Ok(i) = i64::from_str_radix(oct, 8) {
                return Value::Int(i);
            }
        }
    }
    let unsigned = text.strip_prefix(['-', '+']).unwrap_or(text);
    if digits(unsigned, 10) {
        return match text.parse::<i64>() {
            Ok(i) => Value::Int(i),
            Err(_) => text
                .parse::<f64>()
                .map(Value::Float)
                .unwrap_or(Value::Str(text.to_string())),
        };
    }
    // [-+]? ( \. [0-9]+ | [0-9]+ ( \. [0-9]* )? ) ( [eE] [-+]? [0-9]+ )?
    if bytes.iter().any(u8::is_ascii_digit) && is_core_float(unsigned) {
        if let Ok(f) = text.parse::<f64>() {
            return Value::Float(f);
        }
    }
    Value::Str(text.to_string())
}

fn is_core_float(s: &str) -> bool {
    let (mantissa, exp) = match s.find(['e', 'E']) {
        Some(i) => (&s[..i], Some(&s[i + 1..])),
        None => (s, None),
    };
    let mantissa_ok = match mantissa.split_once('.') {
        Some((int, frac)) => {
            (int.chars().all(|c| c.is_ascii_digit()) && frac.chars().all(|c| c.is_ascii_digit()))
                && !(int.is_empty() && frac.is_empty())
        }
        None => !mantissa.is_empty() && mantissa.chars().all(|c| c.is_ascii_digit()),
    };
    let exp_ok = match exp {
        None => true,
        Some(e) => {
            let e = e.strip_prefix(['-', '+']).unwrap_or(e);
            !e.is_empty() && e.chars().all(|c| c.is_ascii_digit())
        }
    };
    mantissa_ok && exp_ok
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::Source;

    fn load(text: &str) -> (Option<Node>, Vec<Diagnostic>) {
        load_mapping(
            &Source::virtual_file("t.yaml", text.to_string()),
            "platform.yaml",
        )
    }

    #[test]
    fn scalars_follow_yaml_1_2() {
        let (n, d) =
            load("a: yes\nb: 08\nc: 0x1F\nd: 1.5\ne: ~\nf: 'true'\ng: .5\nh: 1e3\ni: 12:30\n");
        assert!(d.is_empty(), "{d:?}");
        let j = n.unwrap().to_json();
        assert_eq!(j["a"], "yes");
        assert_eq!(j["b"], 8);
        assert_eq!(j["c"], 31);
        assert_eq!(j["d"], 1.5);
        assert!(j["e"].is_null());
        assert_eq!(j["f"], "true");
        assert_eq!(j["g"], 0.5);
        assert_eq!(j["h"], 1000.0);
        assert_eq!(j["i"], "12:30");
    }

    #[test]
    fn pointer_finds_spans() {
        let text = "spec:\n  ports:\n    - name: http\n      port: 80\n";
        let src = Source::virtual_file("t.yaml", text.to_string());
        let (n, _) = load_mapping(&src, "platform.yaml");
        let n = n.unwrap();
        let (node, key) = n.pointer("/spec/ports/0/port").unwrap();
        assert_eq!(src.line_col(node.span.start), (4, 13));
        assert_eq!(src.line_col(key.unwrap().start), (4, 7));
    }

    #[test]
    fn duplicate_keys_are_errors_with_both_places() {
        let (_, d) = load("a: 1\nb: 2\na: 3\n");
        assert_eq!(d.len(), 1);
        assert_eq!(d[0].code, codes::YAML_DUPLICATE_KEY);
        assert_eq!(d[0].line_col(), (3, 1));
        assert_eq!(d[0].secondary.len(), 1);
    }

    #[test]
    fn crlf_and_unicode_positions() {
        let (_, d) = load("é: 1\r\nb: 2\r\nb: 3\r\n");
        assert_eq!(d[0].line_col(), (3, 1));
    }

    #[test]
    fn alias_bomb_is_bounded() {
        let mut text = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
        for i in 1..12 {
            let p = i - 1;
            text.push_str(&format!(
                "a{i}: &a{i} [*a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}]\n"
            ));
        }
        let (_, d) = load(&text);
        assert_eq!(d[0].code, codes::YAML_TOO_LARGE);
    }

    #[test]
    fn a_long_string_aliased_many_times_is_bounded_by_its_bytes() {
        // 300 KB, aliased 3 000 times: 900 MB of text in a few hundred values.
        let long = "x".repeat(300_000);
        let text = format!("a: &a \"{long}\"\nb: [{}]\n", vec!["*a"; 3000].join(", "));
        let (_, d) = load(&text);
        assert_eq!(d.len(), 1, "{d:?}");
        assert_eq!(d[0].code, codes::YAML_TOO_LARGE);
        assert!(d[0].message.contains("4 MiB"), "{}", d[0].message);
        // Stopped at the alias that crossed the budget: the 12th, as the
        // anchored string and its copy kept for aliases count too.
        let twelfth = text.find("b: [").unwrap() + 4 + 11 * 4;
        assert_eq!(d[0].primary.as_ref().unwrap().span.start, twelfth);
    }

    #[test]
    fn nested_anchors_do_not_copy_a_value_once_per_level() {
        let mut text = String::from("a: ");
        for i in 0..60 {
            text.push_str(&format!("&a{i} ["));
        }
        text.push_str(&vec!["x"; 5000].join(", "));
        text.push_str(&"]".repeat(60));
        text.push('\n');
        let (_, d) = load(&text);
        assert_eq!(d[0].code, codes::YAML_TOO_LARGE, "{d:?}");
    }

    #[test]
    fn aliases_within_the_budget_are_expanded() {
        let long = "x".repeat(100_000);
        let text = format!("a: &a \"{long}\"\nb: [*a, *a, *a]\n");
        let (n, d) = load(&text);
        assert!(d.is_empty(), "{d:?}");
        assert_eq!(
            n.unwrap().to_json()["b"][2].as_str().unwrap().len(),
            100_000
        );
        assert_eq!(expansion_budget(10), MIN_EXPANSION);
        assert_eq!(expansion_budget(4 << 20), 16 << 20);
    }

    #[test]
    fn deep_nesting_is_bounded() {
        let text = format!("a: {}{}\n", "[".repeat(10_000), "]".repeat(10_000));
        let (_, d) = load(&text);
        assert_eq!(d[0].code, codes::YAML_TOO_DEEP, "{:?}", d[0].message);
    }

    #[test]
    fn several_documents_and_empty_and_scalars() {
        assert_eq!(
            load("a: 1\n---\nb: 2\n").1[0].code,
            codes::YAML_MULTIPLE_DOCUMENTS
        );
        assert_eq!(load("").1[0].code, codes::YAML_EMPTY);
        assert_eq!(load("null\n").1[0].code, codes::YAML_EMPTY);
        assert_eq!(load("- a\n").1[0].code, codes::YAML_NOT_A_MAPPING);
    }

    #[test]
    fn plain_keys_keep_their_text() {
        let (n, d) = load("0755: a\n0x1F: b\nTrue: c\n~: d\n1e3: e\n");
        assert!(d.is_empty(), "{d:?}");
        let keys: Vec<String> = match n.unwrap().value {
            Value::Map(entries) => entries.into_iter().map(|e| e.key).collect(),
            _ => unreachable!(),
        };
        assert_eq!(keys, ["0755", "0x1F", "True", "~", "1e3"]);
    }

    #[test]
    fn tabs_are_explained() {
        let (_, d) = load("a:\n\tb: 1\n");
        assert_eq!(d[0].code, codes::YAML_SYNTAX);
        assert!(
            d[0].help.as_deref().unwrap_or("").contains("spaces"),
            "{:?}",
            d[0]
        );
    }
}
