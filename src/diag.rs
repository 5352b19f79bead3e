//! Diagnostics: findings about the user's input, as data.
//!
//! Stages push [`Diagnostic`]s and carry on; nothing here is printed until the
//! orchestrator hands the sorted list to one of the renderers at the bottom
//! (`human`, `json`, `github`). All wording of a finding is decided where it is
//! created; this module only decides how a finding looks.
//!
//! Text that comes from the input (a value quoted in a message, a file name,
//! the snippet of the file itself) may hold anything. Every renderer shows a
//! control character (C0, DEL, C1) or a bidi control (`U+202E` and kin) as a
//! Rust escape, `\u{1b}`, so a spec cannot retitle or clear the terminal,
//! overwrite a line with `\r`, or reorder what a reviewer reads; see [`escape`].
//! Only a help keeps its line breaks ([`escape_help`]): Paved writes some
//! helps as a few lines of YAML.
//! The human renderer hands miette only the lines a report shows, escaped,
//! with tabs expanded, and clipped around the label to [`SNIPPET_WIDTH`]
//! columns, so a label past any column renders (miette cannot draw past column
//! 65 535) while the header keeps the true line and column.
//!
//! Architecture invariant: no stage prints. Faults of the environment (an
//! unreadable output folder) are not diagnostics; they are `app::Fault`s.

use std::borrow::Cow;
use std::fmt::Write as _;

use miette::{
    GraphicalReportHandler, GraphicalTheme, LabeledSpan, MietteError, MietteSpanContents,
    SourceCode, SourceSpan, SpanContents,
};
use unicode_width::UnicodeWidthChar;

use crate::codes::Code;
use crate::source::{Source, SourceRef, Span};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Severity {
    Error,
    Warning,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
        }
    }
}

/// A place in a source with a short note on what is there.
#[derive(Debug, Clone)]
pub struct Label {
    pub source: SourceRef,
    pub span: Span,
    pub text: String,
}

#[derive(Debug, Clone)]
pub struct Diagnostic {
    /// Stable identifier, e.g. `paved::schema::unknown-field`; see `codes.rs`.
    pub code: &'static Code,
    pub severity: Severity,
    /// What is wrong, in plain words, one sentence.
    pub message: String,
    /// Where it is wrong. Only faults of a whole file (unreadable UTF-8) lack a span,
    /// and those still name the file through `file_only`.
    pub primary: Option<Label>,
    pub file_only: Option<SourceRef>,
    pub secondary: Vec<Label>,
    /// How to fix it.
    pub help: Option<String>,
    /// Facts of this kind of finding for programs, added to its JSON object
    /// after the common fields (`check`'s `drift` and `diff`).
    pub fields: Vec<(&'static str, serde_json::Value)>,
}

impl Diagnostic {
    pub fn error(code: &'static Code, message: impl Into<String>) -> Diagnostic {
        Diagnostic {
            code,
            severity: Severity::Error,
            message: message.into(),
            primary: None,
            file_only: None,
            secondary: Vec::new(),
            help: None,
            fields: Vec::new(),
        }
    }

    pub fn warning(code: &'static Code, message: impl Into<String>) -> Diagnostic {
        Diagnostic {
            severity: Severity::Warning,
            ..Diagnostic::error(code, message)
        }
    }

    pub fn at(mut self, source: &SourceRef, span: Span, label: impl Into<String>) -> Diagnostic {
        self.primary = Some(Label {
            source: source.clone(),
            span,
            text: label.into(),
        });
        self
    }

    pub fn in_file(mut self, source: &SourceRef) -> Diagnostic {
        self.file_only = Some(source.clone());
        self
    }

    pub fn also(mut self, source: &SourceRef, span: Span, label: impl Into<String>) -> Diagnostic {
        self.secondary.push(Label {
            source: source.clone(),
            span,
            text: label.into(),
        });
        self
    }

    pub fn help(mut self, help: impl Into<String>) -> Diagnostic {
        self.help = Some(help.into());
        self
    }

    /// Adds a field to the finding's JSON object.
    pub fn field(mut self, name: &'static str, value: impl Into<serde_json::Value>) -> Diagnostic {
        self.fields.push((name, value.into()));
        self
    }

    pub fn maybe_help(mut self, help: Option<String>) -> Diagnostic {
        if help.is_some() {
            self.help = help;
        }
        self
    }

    /// The file this diagnostic is about, as shown to users.
    pub fn file(&self) -> Option<&SourceRef> {
        self.primary
            .as_ref()
            .map(|l| &l.source)
            .or(self.file_only.as_ref())
    }

    /// 1-based line and column of the primary span (1:1 for whole-file findings).
    pub fn line_col(&self) -> (usize, usize) {
        match &self.primary {
            Some(l) => l.source.line_col(l.span.start),
            None => (1, 1),
        }
    }

    fn sort_key(&self) -> (String, usize, &'static str, String) {
        let file = self.file().map(|s| s.name.clone()).unwrap_or_default();
        let at = self.primary.as_ref().map(|l| l.span.start).unwrap_or(0);
        (file, at, self.code.as_str(), self.message.clone())
    }
}

/// Sorts by file, position, code and message, and drops exact repeats, so the
/// same input always prints the same list in the same order.
pub(crate) fn sort(diags: &mut Vec<Diagnostic>) {
    diags.sort_by_cached_key(|d| d.sort_key());
    diags.dedup_by(|a, b| {
        a.sort_key() == b.sort_key()
            && a.primary.as_ref().map(|l| l.span) == b.primary.as_ref().map(|l| l.span)
    });
}

pub fn count_errors(diags: &[Diagnostic]) -> usize {
    diags
        .iter()
        .filter(|d| d.severity == Severity::Error)
        .count()
}

/// Every output format of every command, in one place. Which of them a
/// command takes is its command line's business; here each format has its
/// name and decides how diagnostics look in it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// Diagnostics for people (graphical, on stderr).
    Human,
    /// One JSON object per diagnostic, or a command's product as one JSON document.
    Json,
    /// GitHub Actions annotations.
    Github,
    /// `diff`: plain text.
    Text,
    /// `diff`: a pull-request comment.
    Markdown,
    /// `graph`: a Mermaid flowchart.
    Mermaid,
    /// `graph`: Graphviz DOT.
    Dot,
    /// One SARIF 2.1.0 log (for code scanning), whatever the number of findings.
    Sarif,
    /// `cost`: comma-separated values, a header line first.
    Csv,
}

impl Format {
    pub fn name(self) -> &'static str {
        match self {
            Format::Human => "human",
            Format::Json => "json",
            Format::Github => "github",
            Format::Text => "text",
            Format::Markdown => "markdown",
            Format::Mermaid => "mermaid",
            Format::Dot => "dot",
            Format::Sarif => "sarif",
            Format::Csv => "csv",
        }
    }

    /// How diagnostics print in this format: a command's own report for
    /// people (`text`, `markdown`, `mermaid`, `dot`) prints its diagnostics as
    /// `human` does.
    pub fn findings(self) -> Format {
        match self {
            Format::Json => Format::Json,
            Format::Github => Format::Github,
            Format::Sarif => Format::Sarif,
            _ => Format::Human,
        }
    }
}

/// Renders diagnostics for stderr (`human`) or stdout (`json`, `github`, `sarif`).
pub fn render(diags: &[Diagnostic], format: Format, color: bool) -> String {
    match format.findings() {
        Format::Json => json(diags),
        Format::Github => github(diags),
        Format::Sarif => sarif::log(diags, &[]),
        _ => human(diags, color),
    }
}

/// The summary line that ends a human report, like cargo's.
pub(crate) fn summary(diags: &[Diagnostic]) -> Option<String> {
    let errors = count_errors(diags);
    let warnings = diags.len() - errors;
    let mut files: Vec<&str> = diags
        .iter()
        .filter_map(|d| d.file().map(|s| s.name.as_str()))
        .collect();
    files.sort_unstable();
    files.dedup();
    let plural = |n: usize, w: &str| format!("{n} {w}{}", if n == 1 { "" } else { "s" });
    match (errors, warnings) {
        (0, 0) => None,
        (0, w) => Some(format!("paved: {}", plural(w, "warning"))),
        (e, 0) => Some(format!(
            "paved: {} in {}",
            plural(e, "error"),
            plural(files.len().max(1), "file")
        )),
        (e, w) => Some(format!(
            "paved: {} and {} in {}",
            plural(e, "error"),
            plural(w, "warning"),
            plural(files.len().max(1), "file")
        )),
    }
}

/// Whether a character must not reach a terminal as it is: C0 and C1
/// controls and DEL (escape sequences, `\r`, BEL), line and paragraph
/// separators, and the bidi controls that reorder text on screen.
pub fn is_hidden(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{061c}'
                | '\u{200e}'
                | '\u{200f}'
                | '\u{2028}'
                | '\u{2029}'
                | '\u{202a}'..='\u{202e}'
                | '\u{2066}'..='\u{2069}'
        )
}

/// Text from the input as it is shown: every [hidden](is_hidden) character
/// as a Rust escape (`\u{1b}`, `\u{d}`, `\u{202e}`), everything else as is.
pub(crate) fn escape(s: &str) -> Cow<'_, str> {
    if !s.chars().any(is_hidden) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 16);
    for c in s.chars() {
        push_shown(&mut out, c);
    }
    Cow::Owned(out)
}

/// A help text as it is shown: like [`escape`], but its line breaks stay,
/// since a help may show a few lines of YAML to write.
pub(crate) fn escape_help(s: &str) -> Cow<'_, str> {
    if !s.chars().any(|c| is_hidden(c) && c != '\n') {
        return Cow::Borrowed(s);
    }
    Cow::Owned(s.split('\n').map(escape).collect::<Vec<_>>().join("\n"))
}

fn push_shown(out: &mut String, c: char) {
    if is_hidden(c) {
        let _ = write!(out, "\\u{{{:x}}}", c as u32);
    } else {
        out.push(c);
    }
}

/// The widest a snippet line is shown, in columns; a longer line is clipped
/// around its label, with `…` where text was cut.
pub(crate) const SNIPPET_WIDTH: usize = 120;
/// How many columns a snippet line keeps before the label when it is clipped.
const CLIP_BEFORE: usize = 40;
/// Tab stops in snippets, as miette draws them.
const TAB_WIDTH: usize = 4;
/// Lines shown above and below a label.
const CONTEXT_LINES: usize = 1;

/// One source as miette is given it: only the lines a report shows (lines in
/// between are left empty), each escaped, with tabs expanded and clipped, and
/// `\n` as the only line break, so miette never sees a control character, a
/// lone `\r` or a huge column. Line numbers and the header's column are the
/// source's own.
#[derive(Debug)]
struct Excerpt {
    /// The source's name, escaped.
    name: String,
    text: String,
    /// The 0-based line of the source that `text` starts with.
    first_line: usize,
    /// Each label's span in `text`, with the 0-based column (in characters)
    /// of its start in the source.
    columns: Vec<(SourceSpan, usize)>,
}

impl Excerpt {
    /// The excerpt of `src` for labels at `spans` (the primary first), and
    /// each span moved into it.
    fn new(src: &Source, spans: &[Span]) -> (Excerpt, Vec<SourceSpan>) {
        let len = src.text.len();
        let spans: Vec<Span> = spans
            .iter()
            .map(|s| Span::new(s.start.min(len), s.end.min(len)))
            .collect();
        // The line of each label's start and end, and the lines shown around them.
        let ends: Vec<[usize; 2]> = spans
            .iter()
            .map(|s| [src.line_col(s.start).0, src.line_col(s.end).0])
            .collect();
        let last_line = src.line_count();
        let shown: Vec<(usize, usize)> = ends
            .iter()
            .map(|&[first, last]| {
                (
                    first.saturating_sub(CONTEXT_LINES).max(1),
                    (last + CONTEXT_LINES).min(last_line),
                )
            })
            .collect();
        let from = shown.iter().map(|r| r.0).min().unwrap_or(1);
        let to = shown.iter().map(|r| r.1).max().unwrap_or(1);
        // Where the primary label starts, for clipping lines without a label.
        let primary_col = spans.first().zip(ends.first()).map(|(s, e)| {
            let (start, end, _) = src.line_bounds(e[0]);
            width_to(&src.text[start..end], s.start - start)
        });

        let mut text = String::new();
        let mut moved: Vec<[usize; 2]> = vec![[0; 2]; spans.len()];
        for line in from..=to {
            let (start, end, next) = src.line_bounds(line);
            if shown.iter().any(|&(a, b)| a <= line && line <= b) {
                let content = &src.text[start..end];
                // Clip around the first label that starts on this line.
                let anchor = spans
                    .iter()
                    .zip(&ends)
                    .find(|(_, e)| e[0] == line)
                    .map(|(s, _)| width_to(content, s.start - start))
                    .or(primary_col)
                    .unwrap_or(0);
                let drawn = ShownLine::new(content, anchor);
                for (i, s) in spans.iter().enumerate() {
                    for (k, at) in [s.start, s.end].into_iter().enumerate() {
                        if ends[i][k] == line {
                            // A place in the line break is drawn at the line's end.
                            moved[i][k] = text.len() + drawn.offset(at.min(end) - start);
                        }
                    }
                }
                text.push_str(&drawn.text);
            }
            if next > end {
                text.push('\n');
            }
        }
        let spans_in_text: Vec<SourceSpan> = moved
            .iter()
            .map(|&[a, b]| SourceSpan::new(a.into(), b.saturating_sub(a)))
            .collect();
        let columns = spans_in_text
            .iter()
            .zip(&spans)
            .map(|(t, s)| (*t, src.line_col(s.start).1 - 1))
            .collect();
        (
            Excerpt {
                name: escape(&src.name).into_owned(),
                text,
                first_line: from - 1,
                columns,
            },
            spans_in_text,
        )
    }
}

impl SourceCode for Excerpt {
    fn read_span<'a>(
        &'a self,
        span: &SourceSpan,
        context_lines_before: usize,
        context_lines_after: usize,
    ) -> Result<Box<dyn SpanContents<'a> + 'a>, MietteError> {
        let inner = self
            .text
            .read_span(span, context_lines_before, context_lines_after)?;
        // miette takes the header's column from a label's own span; give it
        // the column in the source, not in the escaped, clipped text.
        let column = match self.columns.iter().find(|(s, _)| s == span) {
            Some(&(_, col)) if context_lines_before == 0 => col,
            _ => inner.column(),
        };
        Ok(Box::new(
            MietteSpanContents::new_named(
                self.name.clone(),
                inner.data(),
                *inner.span(),
                inner.line() + self.first_line,
                column,
                inner.line_count(),
            )
            .with_language("yaml"),
        ))
    }
}

/// The columns a character takes in a snippet: a tab runs to the next tab
/// stop, an escaped one takes its escape. A zero-width character counts as
/// one, so a line of them is clipped too.
fn char_width(c: char, column: usize) -> usize {
    if c == '\t' {
        TAB_WIDTH - column % TAB_WIDTH
    } else if is_hidden(c) {
        // `\u{` + hex digits + `}`
        4 + format!("{:x}", c as u32).len()
    } else {
        c.width().unwrap_or(0).max(1)
    }
}

/// The column (width) at which byte `at` of `line` is drawn.
fn width_to(line: &str, at: usize) -> usize {
    let mut col = 0;
    for (i, c) in line.char_indices() {
        if i >= at {
            break;
        }
        col += char_width(c, col);
    }
    col
}

/// One line of a snippet as drawn: escaped, tabs expanded, clipped.
struct ShownLine {
    text: String,
    /// `(byte in the line, offset in text)` where each kept character starts,
    /// and one more entry where the last kept character ends.
    kept: Vec<(usize, usize)>,
}

impl ShownLine {
    /// Draws `line`, keeping the window of [`SNIPPET_WIDTH`] columns that
    /// shows column `anchor` (when the line is wider than that).
    fn new(line: &str, anchor: usize) -> ShownLine {
        let total = width_to(line, line.len());
        let (from, to) = if total <= SNIPPET_WIDTH {
            (0, total)
        } else {
            let from = anchor
                .saturating_sub(CLIP_BEFORE)
                .min(total - SNIPPET_WIDTH);
            (from, from + SNIPPET_WIDTH)
        };
        let mut text = String::new();
        let mut kept = Vec::new();
        if from > 0 {
            text.push('…');
        }
        let mut col = 0;
        let mut last_end = None;
        for (i, c) in line.char_indices() {
            let w = char_width(c, col);
            if col >= from && col + w <= to {
                kept.push((i, text.len()));
                if c == '\t' {
                    text.extend(std::iter::repeat_n(' ', w));
                } else {
                    push_shown(&mut text, c);
                }
                last_end = Some(i + c.len_utf8());
            }
            col += w;
            if col > to {
                break;
            }
        }
        kept.push((last_end.unwrap_or(0), text.len()));
        if to < total {
            text.push('…');
        }
        ShownLine { text, kept }
    }

    /// Where byte `at` of the line is in `text`: a place left of the window
    /// is drawn at its start, a place right of it at its end.
    fn offset(&self, at: usize) -> usize {
        let i = self.kept.partition_point(|&(b, _)| b <= at);
        match i {
            0 => 0,
            i if i == self.kept.len() => {
                let (b, t) = self.kept[i - 1];
                if at == b {
                    t
                } else {
                    self.text.len()
                }
            }
            i => self.kept[i - 1].1,
        }
    }
}

/// The adapter that lets miette draw one of our diagnostics.
#[derive(Debug)]
struct Miette<'a> {
    diag: &'a Diagnostic,
    message: String,
    source: Option<Excerpt>,
    labels: Vec<LabeledSpan>,
    related: Vec<Miette<'a>>,
    help: Option<String>,
    /// A secondary label in another file, drawn as a note under the main report.
    note: Option<String>,
}

impl std::fmt::Display for Miette<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.note.as_deref().unwrap_or(&self.message))
    }
}

impl std::error::Error for Miette<'_> {}

impl miette::Diagnostic for Miette<'_> {
    fn code<'b>(&'b self) -> Option<Box<dyn std::fmt::Display + 'b>> {
        if self.note.is_some() {
            return None;
        }
        Some(Box::new(self.diag.code))
    }
    fn severity(&self) -> Option<miette::Severity> {
        if self.note.is_some() {
            return Some(miette::Severity::Advice);
        }
        Some(match self.diag.severity {
            Severity::Error => miette::Severity::Error,
            Severity::Warning => miette::Severity::Warning,
        })
    }
    fn help<'b>(&'b self) -> Option<Box<dyn std::fmt::Display + 'b>> {
        self.help
            .as_ref()
            .map(|h| Box::new(h) as Box<dyn std::fmt::Display>)
    }
    fn source_code(&self) -> Option<&dyn miette::SourceCode> {
        self.source.as_ref().map(|s| s as &dyn miette::SourceCode)
    }
    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        if self.labels.is_empty() {
            None
        } else {
            Some(Box::new(self.labels.iter().cloned()))
        }
    }
    fn related<'b>(&'b self) -> Option<Box<dyn Iterator<Item = &'b dyn miette::Diagnostic> + 'b>> {
        if self.related.is_empty() {
            None
        } else {
            Some(Box::new(
                self.related.iter().map(|r| r as &dyn miette::Diagnostic),
            ))
        }
    }
}

fn adapter(d: &Diagnostic) -> Miette<'_> {
    let mut related = Vec::new();
    let label = |l: &Label| Some(escape(&l.text).into_owned());
    let help = d.help.as_deref().map(|h| escape_help(h).into_owned());
    let (source, labels, help) = match (&d.primary, &d.file_only) {
        (Some(p), _) => {
            let mut here = vec![p];
            for s in &d.secondary {
                if std::sync::Arc::ptr_eq(&s.source, &p.source) {
                    here.push(s);
                } else {
                    let (excerpt, spans) = Excerpt::new(&s.source, &[s.span]);
                    related.push(Miette {
                        diag: d,
                        message: String::new(),
                        labels: vec![LabeledSpan::new_primary_with_span(label(s), spans[0])],
                        note: Some(format!("see also {}", excerpt.name)),
                        source: Some(excerpt),
                        related: Vec::new(),
                        help: None,
                    });
                }
            }
            let all: Vec<Span> = here.iter().map(|l| l.span).collect();
            let (excerpt, spans) = Excerpt::new(&p.source, &all);
            let labels = here
                .iter()
                .zip(spans)
                .enumerate()
                .map(|(i, (l, span))| {
                    if i == 0 {
                        LabeledSpan::new_primary_with_span(label(l), span)
                    } else {
                        LabeledSpan::new_with_span(label(l), span)
                    }
                })
                .collect();
            (Some(excerpt), labels, help)
        }
        (None, Some(file)) => {
            let name = escape(&file.name);
            (
                None,
                Vec::new(),
                Some(match &help {
                    Some(h) => format!("in {name}\n{h}"),
                    None => format!("in {name}"),
                }),
            )
        }
        (None, None) => (None, Vec::new(), help),
    };
    Miette {
        diag: d,
        message: escape(&d.message).into_owned(),
        source,
        labels,
        related,
        help,
        note: None,
    }
}

fn human(diags: &[Diagnostic], color: bool) -> String {
    let theme = if color {
        GraphicalTheme::unicode()
    } else {
        GraphicalTheme::unicode_nocolor()
    };
    let handler = GraphicalReportHandler::new_themed(theme)
        .with_width(100)
        .with_context_lines(CONTEXT_LINES)
        .tab_width(TAB_WIDTH);
    let mut out = String::new();
    for d in diags {
        let a = adapter(d);
        if handler.render_report(&mut out, &a).is_err() {
            // Rendering into a String cannot fail in practice; fall back to one line.
            let (line, col) = d.line_col();
            let file = d.file().map(|f| escape(&f.name)).unwrap_or("-".into());
            let _ = writeln!(
                out,
                "{file}:{line}:{col}: {}[{}] {}",
                d.severity.as_str(),
                d.code,
                a.message
            );
        }
        out.push('\n');
    }
    if let Some(s) = summary(diags) {
        out.push_str(&s);
        out.push('\n');
    }
    out
}

/// One JSON object per line. Text fields are [escaped](escape) as in the other
/// formats, so a reader that prints them shows what the terminal shows.
fn json(diags: &[Diagnostic]) -> String {
    let mut out = String::new();
    for d in diags {
        let (line, column) = d.line_col();
        let (end_line, end_column) = match &d.primary {
            Some(l) => l.source.line_col(l.span.end),
            None => (line, column),
        };
        let shown = |t: &str| escape(t).into_owned();
        let mut obj = serde_json::json!({
            "file": d.file().map(|f| shown(&f.name)),
            "line": line,
            "column": column,
            "endLine": end_line,
            "endColumn": end_column,
            "code": d.code.as_str(),
            "severity": d.severity.as_str(),
            "message": shown(&d.message),
            "label": d.primary.as_ref().map(|l| shown(&l.text)),
            "help": d.help.as_deref().map(|h| escape_help(h).into_owned()),
        });
        for (name, value) in &d.fields {
            obj[*name] = value.clone();
        }
        out.push_str(&obj.to_string());
        out.push('\n');
    }
    out
}

/// SARIF 2.1.0, for code scanning (GitHub uploads it with
/// `github/codeql-action/upload-sarif`).
pub(crate) mod sarif {
    use std::collections::BTreeMap;

    use serde_json::{json, Value};

    use super::{escape, escape_help, Diagnostic, Label, Severity};
    use crate::codes::Code;

    /// The base the artifact URIs are relative to: the folder Paved ran in.
    const SRCROOT: &str = "%SRCROOT%";

    /// One log with one run: the `paved` driver with a rule for each code
    /// of `diags` and of `extra` (a code of `extra` with `false` is listed
    /// as disabled), and a result per diagnostic, in the order given. Columns
    /// are counted in Unicode code points, as Paved counts them everywhere.
    pub(crate) fn log(diags: &[Diagnostic], extra: &[(&'static Code, bool)]) -> String {
        let mut rules: BTreeMap<&'static str, (&'static Code, bool)> = BTreeMap::new();
        for (code, enabled) in extra {
            rules.insert(code.as_str(), (code, *enabled));
        }
        for d in diags {
            rules.entry(d.code.as_str()).or_insert((d.code, true));
        }
        let index: BTreeMap<&str, usize> =
            rules.keys().enumerate().map(|(i, id)| (*id, i)).collect();
        let rules: Vec<Value> = rules
            .values()
            .map(|(c, enabled)| rule(c, *enabled))
            .collect();
        let results: Vec<Value> = diags
            .iter()
            .map(|d| result(d, index.get(d.code.as_str()).copied().unwrap_or(0)))
            .collect();
        let mut driver = json!({
            "name": "paved",
            "version": env!("CARGO_PKG_VERSION"),
        });
        let home = env!("CARGO_PKG_HOMEPAGE");
        if !home.is_empty() {
            driver["informationUri"] = home.into();
        }
        driver["rules"] = rules.into();
        let log = json!({
            "$schema": "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json",
            "version": "2.1.0",
            "runs": [{
                "tool": {"driver": driver},
                "columnKind": "unicodeCodePoints",
                "results": results,
            }],
        });
        let mut text = serde_json::to_string_pretty(&log).unwrap_or_default();
        text.push('\n');
        text
    }

    fn rule(code: &Code, enabled: bool) -> Value {
        let mut r = json!({
            "id": code.as_str(),
            "shortDescription": {"text": code.title},
            "fullDescription": {"text": code.explanation},
        });
        if !enabled {
            r["defaultConfiguration"] = json!({"enabled": false});
        }
        r
    }

    fn result(d: &Diagnostic, rule_index: usize) -> Value {
        let mut text = escape(&d.message).into_owned();
        if let Some(h) = &d.help {
            text.push_str("\nhelp: ");
            text.push_str(&escape_help(h));
        }
        let mut r = json!({
            "ruleId": d.code.as_str(),
            "ruleIndex": rule_index,
            "level": match d.severity {
                Severity::Error => "error",
                Severity::Warning => "warning",
            },
            "message": {"text": text},
        });
        let location = match (&d.primary, &d.file_only) {
            (Some(l), _) => Some(located(l)),
            (None, Some(f)) => {
                Some(json!({"physicalLocation": {"artifactLocation": artifact(&f.name)}}))
            }
            (None, None) => None,
        };
        if let Some(location) = location {
            r["locations"] = json!([location]);
        }
        let related: Vec<Value> = d
            .secondary
            .iter()
            .enumerate()
            .map(|(i, l)| {
                let mut loc = located(l);
                loc["id"] = i.into();
                loc["message"] = json!({"text": escape(&l.text)});
                loc
            })
            .collect();
        if !related.is_empty() {
            r["relatedLocations"] = related.into();
        }
        // Stable when lines move: the code, the file, the text of the
        // finding's line and the message.
        if let Some(f) = d.file() {
            let line = d.primary.as_ref().map_or("", |l| {
                f.line_text(l.source.line_col(l.span.start).0).trim()
            });
            let key = format!("{}\0{}\0{line}\0{}", d.code.as_str(), f.name, d.message);
            let hash = xxhash_rust::xxh3::xxh3_64(key.as_bytes());
            r["partialFingerprints"] = json!({"pavedFindingHash/v1": format!("{hash:016x}")});
        }
        r
    }

    fn located(l: &Label) -> Value {
        let (start_line, start_column) = l.source.line_col(l.span.start);
        let (end_line, end_column) = l.source.line_col(l.span.end);
        json!({"physicalLocation": {
            "artifactLocation": artifact(&l.source.name),
            "region": {
                "startLine": start_line,
                "startColumn": start_column,
                "endLine": end_line,
                "endColumn": end_column,
            },
        }})
    }

    /// A file as a URI reference: relative to `%SRCROOT%`, or a `file:` URI
    /// for a file outside the folder Paved ran in (an absolute name).
    fn artifact(name: &str) -> Value {
        match name.strip_prefix('/') {
            Some(absolute) => json!({"uri": format!("file:///{}", uri_path(absolute))}),
            None => json!({"uri": uri_path(name), "uriBaseId": SRCROOT}),
        }
    }

    /// Percent-encodes every byte but unreserved characters and `/`, so no
    /// name can read as a scheme, a query, a fragment or a control character.
    pub(crate) fn uri_path(name: &str) -> String {
        let mut out = String::with_capacity(name.len());
        for b in name.bytes() {
            if b.is_ascii_alphanumeric() || b"-._~/".contains(&b) {
                out.push(b as char);
            } else {
                out.push_str(&format!("%{b:02X}"));
            }
        }
        out
    }
}

/// Escaping for GitHub Actions workflow commands, shared by every command
/// that prints annotations.
pub(crate) mod github_escape {
    /// A command's message: `%`, CR and LF are escaped.
    pub(crate) fn data(s: &str) -> String {
        s.replace('%', "%25")
            .replace('\r', "%0D")
            .replace('\n', "%0A")
    }

    /// A property value (`file=`, `title=`): also `:` and `,`.
    pub(crate) fn prop(s: &str) -> String {
        data(s).replace(':', "%3A").replace(',', "%2C")
    }
}

/// GitHub Actions workflow commands; the data and properties are escaped as the
/// runner expects (`%`, CR and LF everywhere, plus `:` and `,` in properties),
/// after control characters from the input are [escaped](escape).
fn github(diags: &[Diagnostic]) -> String {
    use github_escape::{data, prop};
    let mut out = String::new();
    for d in diags {
        let level = match d.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        let mut props = Vec::new();
        if let Some(f) = d.file() {
            let (line, col) = d.line_col();
            props.push(format!("file={}", prop(&escape(&f.name))));
            props.push(format!("line={line}"));
            props.push(format!("col={col}"));
            if let Some(l) = &d.primary {
                let (el, ec) = l.source.line_col(l.span.end);
                props.push(format!("endLine={el}"));
                props.push(format!("endColumn={ec}"));
            }
        }
        props.push(format!("title={}", prop(d.code.as_str())));
        let mut message = escape(&d.message).into_owned();
        if let Some(h) = &d.help {
            message.push_str("\nhelp: ");
            message.push_str(&escape_help(h));
        }
        let _ = writeln!(out, "::{level} {}::{}", props.join(","), data(&message));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn github_escapes_properties_and_data() {
        let src = Source::virtual_file("a,b:c.yaml", "x: 1\n".into());
        // A line break in a message comes from the input: it is escaped too.
        let d = Diagnostic::error(crate::codes::INTERNAL, "100% bad\nreally")
            .at(&src, Span::new(3, 4), "here")
            .help("fix it");
        let out = github(&[d]);
        assert_eq!(
            out,
            "::error file=a%2Cb%3Ac.yaml,line=1,col=4,endLine=1,endColumn=5,title=paved%3A%3Ainternal::100%25 bad\\u{a}really%0Ahelp: fix it\n"
        );
    }

    /// The display column of `needle` in `line`, as a terminal draws it.
    fn column_of(line: &str, needle: char) -> usize {
        let at = line.find(needle).unwrap();
        line[..at].chars().map(|c| c.width().unwrap_or(0)).sum()
    }

    #[test]
    fn human_reports_render_a_label_at_any_column() {
        let fillers: [(&str, &str); 7] = [
            ("spaces", " "),
            ("tabs", "\t"),
            ("cjk", "界"),
            ("emoji", "🚚"),
            ("zero-width", "\u{200b}"),
            ("controls", "\u{1b}[2J\u{7}\u{9b}"),
            ("mixed", "a\t界\u{301}🚚\u{202e}"),
        ];
        for (what, filler) in fillers {
            for col in [0, 1, 119, 121, 70_000, 200_000] {
                let prefix: String = filler.chars().cycle().take(col).collect();
                // The label is on the `X`; the lines around it are long too.
                let text = format!("a: 1\n{prefix}{prefix}\nk: {prefix}X{prefix}\nb: 2\n");
                let src = Source::virtual_file("t.yaml", text.clone());
                let at = text.find('X').unwrap();
                let d = Diagnostic::warning(crate::codes::INTERNAL, format!("bad {filler}"))
                    .at(&src, Span::new(at, at + 1), "here")
                    .also(&src, Span::point(0), "start");
                let (line, column) = d.line_col();
                assert_eq!((line, column), (3, col + 4));
                for color in [false, true] {
                    let out = human(std::slice::from_ref(&d), color);
                    // Colour is the only escape sequence in a report.
                    assert!(!out
                        .chars()
                        .any(|c| is_hidden(c) && c != '\n' && c != '\u{1b}'));
                    if color {
                        continue;
                    }
                    assert!(!out.contains('\u{1b}'), "{what} {col}: {out}");
                    assert!(
                        out.contains(&format!("t.yaml:3:{column}]")),
                        "{what} {col}: {out}"
                    );
                    for l in out.lines() {
                        assert!(l.chars().count() < 300, "{what} {col}: {l}");
                    }
                    // The label's mark sits under the `X`.
                    let lines: Vec<&str> = out.lines().collect();
                    let i = lines.iter().position(|l| l.contains('X')).unwrap();
                    let mark = lines[i + 1].find('┬').map(|_| column_of(lines[i + 1], '┬'));
                    assert_eq!(Some(column_of(lines[i], 'X')), mark, "{what} {col}:\n{out}");
                }
            }
        }
    }

    #[test]
    fn a_span_past_the_end_or_over_many_lines_still_renders() {
        let text = format!("a: 1\r{}\rb: [\r  2]\r", "x".repeat(100_000));
        let src = Source::virtual_file("t.yaml", text.clone());
        let b = text.find("b:").unwrap();
        let diags = [
            Diagnostic::error(crate::codes::INTERNAL, "end").at(
                &src,
                Span::point(text.len() + 5),
                "end",
            ),
            Diagnostic::error(crate::codes::INTERNAL, "all").at(
                &src,
                Span::new(0, text.len()),
                "all",
            ),
            Diagnostic::error(crate::codes::INTERNAL, "b").at(
                &src,
                Span::new(b, text.len() - 1),
                "b",
            ),
        ];
        let out = human(&diags, false);
        assert!(out.contains("t.yaml:5:1]"), "{out}");
        assert!(out.contains("t.yaml:1:1]"), "{out}");
        assert!(out.contains("t.yaml:3:1]"), "{out}");
        assert!(out.contains(" 4 │   2]"), "{out}");
        assert!(!out.contains('\r'), "{out}");
    }

    #[test]
    fn escape_shows_controls_and_bidi_controls_as_rust_escapes() {
        assert_eq!(escape("plain: é 界 🚚 \u{200b}"), "plain: é 界 🚚 \u{200b}");
        assert_eq!(
            escape("\u{1b}]0;x\u{7}\r\n\t\u{7f}\u{9b}\u{202e}\u{2066}"),
            r"\u{1b}]0;x\u{7}\u{d}\u{a}\u{9}\u{7f}\u{9b}\u{202e}\u{2066}"
        );
    }

    #[test]
    fn a_help_keeps_its_line_breaks() {
        assert_eq!(
            escape_help("write:\n  a: \u{1b}[2J\r\n"),
            "write:\n  a: \\u{1b}[2J\\u{d}\n"
        );
        assert_eq!(escape_help("one line"), "one line");
    }

    #[test]
    fn input_text_is_escaped_in_every_format() {
        let src = Source::virtual_file("a\u{1b}[2J.yaml", "x: \"\u{1b}]0;t\u{7}\"\n".into());
        let d = Diagnostic::error(crate::codes::INTERNAL, "found `\u{1b}]0;t\u{7}`\r")
            .at(&src, Span::new(3, 12), "label \u{202e}")
            .help("help \u{9b}");
        for format in [Format::Human, Format::Json, Format::Github, Format::Sarif] {
            let out = render(std::slice::from_ref(&d), format, false);
            let raw = out.chars().find(|&c| is_hidden(c) && c != '\n');
            assert_eq!(raw, None, "{format:?}: {out:?}");
            let file = match format {
                Format::Json => r"a\\u{1b}[2J.yaml",
                // A URI: the name's bytes percent-encoded.
                Format::Sarif => "a%1B%5B2J.yaml",
                _ => r"a\u{1b}[2J.yaml",
            };
            assert!(out.contains(file), "{format:?}: {out}");
        }
    }

    #[test]
    fn sarif_uris_cannot_read_as_a_scheme_query_or_fragment() {
        assert_eq!(
            sarif::uri_path("svc/a b:c?d#e%f/é.yaml"),
            "svc/a%20b%3Ac%3Fd%23e%25f/%C3%A9.yaml"
        );
        let src = Source::virtual_file("/abs/p.yaml", "a: 1\n".into());
        let d = Diagnostic::warning(crate::codes::INTERNAL, "w").at(&src, Span::new(3, 4), "x");
        let v: serde_json::Value = serde_json::from_str(&sarif::log(&[d], &[])).unwrap();
        let loc = &v["runs"][0]["results"][0]["locations"][0]["physicalLocation"];
        assert_eq!(loc["artifactLocation"]["uri"], "file:///abs/p.yaml");
        assert_eq!(loc["artifactLocation"].get("uriBaseId"), None);
        assert_eq!(loc["region"]["startColumn"], 4);
        assert_eq!(loc["region"]["endColumn"], 5);
        assert_eq!(v["runs"][0]["results"][0]["level"], "warning");
    }

    #[test]
    fn json_has_every_field() {
        let src = Source::virtual_file("p.yaml", "a: 1\nbb: 2\n".into());
        let d = Diagnostic::error(crate::codes::INTERNAL, "bad").at(&src, Span::new(5, 7), "this");
        let v: serde_json::Value = serde_json::from_str(json(&[d]).trim()).unwrap();
        assert_eq!(v["file"], "p.yaml");
        assert_eq!(v["line"], 2);
        assert_eq!(v["column"], 1);
        assert_eq!(v["endColumn"], 3);
        assert_eq!(v["code"], crate::codes::INTERNAL.as_str());
        assert_eq!(v["severity"], "error");
        assert_eq!(v["help"], serde_json::Value::Null);
    }
}
