//! Diagnostics: findings about the user's input, as data.
//!
//! Stages push [`Diagnostic`]s and carry on; nothing here is printed until the
//! orchestrator hands the sorted list to one of the renderers at the bottom
//! (`human`, `json`, `github`). All wording of a finding is decided where it is
//! created; this module only decides how a finding looks.
//!
//! Architecture invariant: no stage prints. Faults of the environment (an
//! unreadable output folder) are not diagnostics; they are `app::Fault`s.

use std::fmt::Write as _;

use miette::{GraphicalReportHandler, GraphicalTheme, LabeledSpan, NamedSource, SourceSpan};

use crate::source::{SourceRef, Span};

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
    pub code: &'static str,
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
}

impl Diagnostic {
    pub fn error(code: &'static str, message: impl Into<String>) -> Diagnostic {
        Diagnostic {
            code,
            severity: Severity::Error,
            message: message.into(),
            primary: None,
            file_only: None,
            secondary: Vec::new(),
            help: None,
        }
    }

    pub fn warning(code: &'static str, message: impl Into<String>) -> Diagnostic {
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
        (file, at, self.code, self.message.clone())
    }
}

/// Sorts by file, position, code and message, and drops exact repeats, so the
/// same input always prints the same list in the same order.
pub fn sort(diags: &mut Vec<Diagnostic>) {
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

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Human,
    Json,
    Github,
}

/// Renders diagnostics for stderr (`human`) or stdout (`json`, `github`).
pub fn render(diags: &[Diagnostic], format: Format, color: bool) -> String {
    match format {
        Format::Human => human(diags, color),
        Format::Json => json(diags),
        Format::Github => github(diags),
    }
}

/// The summary line that ends a human report, like cargo's.
pub fn summary(diags: &[Diagnostic]) -> Option<String> {
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

/// The adapter that lets miette draw one of our diagnostics.
#[derive(Debug)]
struct Miette<'a> {
    diag: &'a Diagnostic,
    source: Option<NamedSource<String>>,
    labels: Vec<LabeledSpan>,
    related: Vec<Miette<'a>>,
    help: Option<String>,
    /// A secondary label in another file, drawn as a note under the main report.
    note: Option<String>,
}

impl std::fmt::Display for Miette<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.note.as_deref().unwrap_or(&self.diag.message))
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

fn miette_span(span: Span, text: &str) -> SourceSpan {
    // An empty span at the very end still needs a place miette can draw.
    let start = span.start.min(text.len());
    SourceSpan::new(start.into(), span.len().min(text.len() - start))
}

fn adapter(d: &Diagnostic) -> Miette<'_> {
    let mut related = Vec::new();
    let (source, labels, help) = match (&d.primary, &d.file_only) {
        (Some(p), _) => {
            let mut labels = vec![LabeledSpan::new_primary_with_span(
                Some(p.text.clone()),
                miette_span(p.span, &p.source.text),
            )];
            for s in &d.secondary {
                if std::sync::Arc::ptr_eq(&s.source, &p.source) {
                    labels.push(LabeledSpan::new_with_span(
                        Some(s.text.clone()),
                        miette_span(s.span, &s.source.text),
                    ));
                } else {
                    related.push(Miette {
                        diag: d,
                        source: Some(NamedSource::new(&s.source.name, s.source.text.clone())),
                        labels: vec![LabeledSpan::new_primary_with_span(
                            Some(s.text.clone()),
                            miette_span(s.span, &s.source.text),
                        )],
                        related: Vec::new(),
                        help: None,
                        note: Some(format!("see also {}", s.source.name)),
                    });
                }
            }
            (
                Some(NamedSource::new(&p.source.name, p.source.text.clone()).with_language("yaml")),
                labels,
                d.help.clone(),
            )
        }
        (None, Some(file)) => (
            None,
            Vec::new(),
            Some(match &d.help {
                Some(h) => format!("in {}\n{h}", file.name),
                None => format!("in {}", file.name),
            }),
        ),
        (None, None) => (None, Vec::new(), d.help.clone()),
    };
    Miette {
        diag: d,
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
        .with_context_lines(1);
    let mut out = String::new();
    for d in diags {
        let a = adapter(d);
        if handler.render_report(&mut out, &a).is_err() {
            // Rendering into a String cannot fail in practice; fall back to one line.
            let (line, col) = d.line_col();
            let file = d.file().map(|f| f.name.as_str()).unwrap_or("-");
            let _ = writeln!(
                out,
                "{file}:{line}:{col}: {}[{}] {}",
                d.severity.as_str(),
                d.code,
                d.message
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

fn json(diags: &[Diagnostic]) -> String {
    let mut out = String::new();
    for d in diags {
        let (line, column) = d.line_col();
        let (end_line, end_column) = match &d.primary {
            Some(l) => l.source.line_col(l.span.end),
            None => (line, column),
        };
        let obj = serde_json::json!({
            "file": d.file().map(|f| f.name.clone()),
            "line": line,
            "column": column,
            "endLine": end_line,
            "endColumn": end_column,
            "code": d.code,
            "severity": d.severity.as_str(),
            "message": d.message,
            "label": d.primary.as_ref().map(|l| l.text.clone()),
            "help": d.help,
        });
        out.push_str(&obj.to_string());
        out.push('\n');
    }
    out
}

/// Escaping for GitHub Actions workflow commands, shared by every command
/// that prints annotations.
pub mod github_escape {
    /// A command's message: `%`, CR and LF are escaped.
    pub fn data(s: &str) -> String {
        s.replace('%', "%25")
            .replace('\r', "%0D")
            .replace('\n', "%0A")
    }

    /// A property value (`file=`, `title=`): also `:` and `,`.
    pub fn prop(s: &str) -> String {
        data(s).replace(':', "%3A").replace(',', "%2C")
    }
}

/// GitHub Actions workflow commands; the data and properties are escaped as the
/// runner expects (`%`, CR and LF everywhere, plus `:` and `,` in properties).
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
            props.push(format!("file={}", prop(&f.name)));
            props.push(format!("line={line}"));
            props.push(format!("col={col}"));
            if let Some(l) = &d.primary {
                let (el, ec) = l.source.line_col(l.span.end);
                props.push(format!("endLine={el}"));
                props.push(format!("endColumn={ec}"));
            }
        }
        props.push(format!("title={}", prop(d.code)));
        let mut message = d.message.clone();
        if let Some(h) = &d.help {
            message.push_str("\nhelp: ");
            message.push_str(h);
        }
        let _ = writeln!(out, "::{level} {}::{}", props.join(","), data(&message));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::Source;

    #[test]
    fn github_escapes_properties_and_data() {
        let src = Source::virtual_file("a,b:c.yaml", "x: 1\n".into());
        let d = Diagnostic::error("paved::test", "100% bad\nreally")
            .at(&src, Span::new(3, 4), "here")
            .help("fix it");
        let out = github(&[d]);
        assert_eq!(
            out,
            "::error file=a%2Cb%3Ac.yaml,line=1,col=4,endLine=1,endColumn=5,title=paved%3A%3Atest::100%25 bad%0Areally%0Ahelp: fix it\n"
        );
    }

    #[test]
    fn json_has_every_field() {
        let src = Source::virtual_file("p.yaml", "a: 1\nbb: 2\n".into());
        let d = Diagnostic::error("paved::test", "bad").at(&src, Span::new(5, 7), "this");
        let v: serde_json::Value = serde_json::from_str(json(&[d]).trim()).unwrap();
        assert_eq!(v["file"], "p.yaml");
        assert_eq!(v["line"], 2);
        assert_eq!(v["column"], 1);
        assert_eq!(v["endColumn"], 3);
        assert_eq!(v["code"], "paved::test");
        assert_eq!(v["severity"], "error");
        assert_eq!(v["help"], serde_json::Value::Null);
    }
}
