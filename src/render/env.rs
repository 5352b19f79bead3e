//! The template environment: blueprints (minijinja templates), built-in and
//! overridden, and rendering one blueprint for one context.
//!
//! Blueprints live in `blueprints/` and are embedded in the binary. The platform
//! team may point `paved.yaml`'s `blueprints:` at a folder whose files replace
//! built-in ones of the same relative path and whose new files add resources.
//!
//! A blueprint's folder decides its scope, which decides its context and where
//! its documents are written (see docs/blueprints.md):
//!
//! | folder         | rendered                     | written to                        |
//! |----------------|------------------------------|-----------------------------------|
//! | `service/`     | per service per environment  | `DIR/<env>/<service>/`            |
//! | `environment/` | per environment              | `DIR/<env>/<sub-folder>/`         |
//! | `platform/`    | once                         | `DIR/platform/<sub-folder>/`      |
//! | `catalog/`     | per service                  | `DIR/catalog/<service>.yaml`      |
//!
//! Files and folders whose name starts with `_` are partials: they are only
//! `include`d or `import`ed.
//!
//! Every template is auto-escaped as JSON, so an interpolated value is always a
//! single YAML scalar (a JSON string is a YAML flow scalar): a description
//! holding a newline and `kind: ClusterRole` stays one string. Templates run
//! with strict undefined checks and a fuel budget, so a broken or hostile
//! blueprint ends in a diagnostic, not a hang.
//!
//! Architecture invariant: never reads a file; the override folder is read by
//! `app` and handed over as `(relative path, text)` pairs.

use crate::codes;
use std::collections::BTreeMap;
use std::sync::Arc;

use include_dir::{include_dir, Dir};
use minijinja::{AutoEscape, Environment, ErrorKind, UndefinedBehavior, Value};

use crate::diag::Diagnostic;
use crate::source::{Source, SourceRef, Span};

static BUILTIN: Dir<'static> = include_dir!("$CARGO_MANIFEST_DIR/blueprints");

/// Enough for the largest built-in blueprint many times over (the Argo CD
/// project of a 5 000-service fleet takes 190 000); a loop that runs away
/// stops here. Fuel also pays for data, 64 bytes a unit (every string, list
/// slot and map entry a render creates, and every byte it outputs), so this
/// is also the most data one render can create: 96 MB.
pub(crate) const FUEL: u64 = 1_500_000;
/// The largest output one blueprint may produce for one instance.
pub(crate) const MAX_OUTPUT: usize = 4 * 1024 * 1024;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Scope {
    Service,
    Environment,
    Platform,
    Catalog,
}

impl Scope {
    fn of(path: &str) -> Option<Scope> {
        match path.split('/').next()? {
            "service" => Some(Scope::Service),
            "environment" => Some(Scope::Environment),
            "platform" => Some(Scope::Platform),
            "catalog" => Some(Scope::Catalog),
            _ => None,
        }
    }
}

/// One blueprint file that renders documents.
#[derive(Debug, Clone)]
pub struct Blueprint {
    /// Relative path with `/`, e.g. `service/deployment.yaml`; also its template name.
    pub name: String,
    pub scope: Scope,
    pub source: SourceRef,
}

impl Blueprint {
    /// The output sub-folder of environment and platform blueprints
    /// (`platform/gatekeeper/x.yaml` → `gatekeeper`).
    pub fn sub_folder(&self) -> String {
        let parts: Vec<&str> = self.name.split('/').collect();
        parts[1..parts.len() - 1].join("/")
    }
}

/// All blueprints, compiled into one template environment.
pub struct Blueprints {
    env: Environment<'static>,
    pub files: Vec<Blueprint>,
    sources: BTreeMap<String, SourceRef>,
    /// Strip line marks from every output (the test of the marked set).
    strip_marks: bool,
}

/// The embedded blueprints as `(relative path, text)`.
pub(crate) fn builtin() -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut stack = vec![&BUILTIN];
    while let Some(dir) = stack.pop() {
        for f in dir.files() {
            if let Some(text) = f.contents_utf8() {
                out.push((
                    f.path().to_string_lossy().replace('\\', "/"),
                    text.to_string(),
                ));
            }
        }
        stack.extend(dir.dirs());
    }
    out.sort();
    out
}

pub(crate) fn is_template(path: &str) -> bool {
    path.ends_with(".yaml") || path.ends_with(".yml") || path.ends_with(".j2")
}

fn is_partial(path: &str) -> bool {
    path.split('/').any(|seg| seg.starts_with('_'))
}

impl Blueprints {
    /// Builds the set from the built-in files and the platform's overrides.
    /// `overrides` holds `(relative path, shown name, text)`.
    pub fn new(overrides: Vec<(String, String, String)>) -> Blueprints {
        let mut sources: BTreeMap<String, SourceRef> = BTreeMap::new();
        for (path, text) in builtin() {
            if is_template(&path) {
                let shown = format!("<built-in>/{path}");
                sources.insert(path, Source::new(shown.clone(), shown, text));
            }
        }
        for (path, shown, text) in overrides {
            if is_template(&path) {
                sources.insert(path, Source::new(shown.clone(), shown, text));
            }
        }
        let files = sources
            .iter()
            .filter(|(p, _)| !is_partial(p))
            .filter_map(|(p, s)| {
                Scope::of(p).map(|scope| Blueprint {
                    name: p.clone(),
                    scope,
                    source: s.clone(),
                })
            })
            .collect();

        let texts: BTreeMap<String, String> = sources
            .iter()
            .map(|(k, v)| (k.clone(), v.text.clone()))
            .collect();
        let env = environment(texts, false);
        Blueprints {
            env,
            files,
            sources,
            strip_marks: false,
        }
    }

    /// The same blueprints with every raw-text line marked with its
    /// template and line (`trace::marks`), for `paved trace` only; ids are
    /// the positions in [`Blueprints::sources`]. `strip`: every output is
    /// stripped of its marks again, which must give exactly what the
    /// unmarked set renders (the test of the marks).
    pub(crate) fn instrumented(&self, strip: bool) -> Blueprints {
        let texts = self
            .sources
            .iter()
            .enumerate()
            .map(|(id, (k, v))| (k.clone(), super::trace::marks::instrument(&v.text, id)))
            .collect();
        Blueprints {
            env: environment(texts, true),
            files: self.files.clone(),
            sources: self.sources.clone(),
            strip_marks: strip,
        }
    }

    /// Every template's source (partials included), by name; a template id
    /// of the instrumented set is a position here.
    pub(crate) fn sources(&self) -> impl Iterator<Item = &SourceRef> {
        self.sources.values()
    }

    /// Every template's source with its relative path (`service/deployment.yaml`),
    /// so the same blueprint can be found in two workspaces (`diff`'s causes).
    pub(crate) fn named_sources(&self) -> impl Iterator<Item = (&str, &SourceRef)> {
        self.sources.iter().map(|(k, v)| (k.as_str(), v))
    }

    pub fn of_scope(&self, scope: Scope) -> impl Iterator<Item = &Blueprint> {
        self.files.iter().filter(move |b| b.scope == scope)
    }

    /// Renders one blueprint with `ctx`. `what` names the thing being rendered
    /// (e.g. "service `orders` in staging") for diagnostics.
    /// (The diagnostic is boxed: it is large, and the happy path is hot.)
    pub fn render(
        &self,
        bp: &Blueprint,
        ctx: &Value,
        what: &str,
    ) -> Result<String, Box<Diagnostic>> {
        let tmpl = self
            .env
            .get_template(&bp.name)
            .map_err(|e| Box::new(self.error(bp, &e, what)))?;
        // Rendered into a capped buffer, so a runaway blueprint stops at the
        // limit instead of first filling memory (fuel bounds time, not bytes).
        // Output is usually one to three times the blueprint's size.
        let mut out = Capped {
            buf: Vec::with_capacity((bp.source.text.len() * 2).min(MAX_OUTPUT)),
            over: false,
        };
        let result = tmpl.render_captured_to(ctx, &mut out).map(drop);
        let too_much = match &result {
            Err(e) => super::functions::is_output_full(innermost(e)),
            Ok(()) => false,
        };
        if out.over || too_much {
            return Err(Box::new(
                Diagnostic::error(
                    codes::BLUEPRINT_TOO_LARGE,
                    format!(
                        "blueprint `{}` produced more than {} MiB for {what}",
                        bp.name,
                        MAX_OUTPUT >> 20
                    ),
                )
                .at(&bp.source, Span::point(0), "this blueprint")
                .help(
                    "a blueprint renders a handful of documents; check for a loop that runs away",
                ),
            ));
        }
        result.map_err(|e| self.error(bp, &e, what))?;
        // Templates produce text; a lossy conversion cannot lose anything real.
        let text = String::from_utf8(out.buf)
            .unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned());
        if self.strip_marks {
            return Ok(super::trace::marks::strip(&text).0);
        }
        Ok(text)
    }

    /// Turns a template error into a diagnostic pointing into the blueprint.
    fn error(&self, bp: &Blueprint, e: &minijinja::Error, what: &str) -> Diagnostic {
        let err = innermost(e);
        let source = err
            .name()
            .and_then(|n| self.sources.get(n))
            .cloned()
            .unwrap_or_else(|| bp.source.clone());
        let span = match (err.range(), err.line()) {
            (Some(r), _) if r.end <= source.text.len() => Span::new(r.start, r.end),
            (_, Some(line)) => {
                let start = source.offset_of(line, 1);
                Span::new(start, start + source.line_text(line).len())
            }
            _ => Span::point(0),
        };
        let detail = err.detail().unwrap_or("").to_string();
        let (code, message, help) = match err.kind() {
            _ if super::functions::is_too_large(err) => (
                codes::BLUEPRINT_VALUE_TOO_LARGE,
                format!("blueprint `{}` built a value over Paved's limits while rendering {what}: {detail}", bp.name),
                "a filter or function may build at most 4 MiB of text or 100000 items, and JSON nested at most 64 levels (docs/blueprints.md); check what this line is given",
            ),
            // The same for every service, so the service is named only in the
            // help: identical messages are then reported once.
            ErrorKind::SyntaxError => (
                codes::BLUEPRINT_SYNTAX,
                format!("template syntax error in blueprint `{}`: {detail}", bp.name),
                &*format!("check the `{{{{ }}}}` and `{{% %}}` tags of this line (found while rendering {what})"),
            ),
            ErrorKind::UndefinedError => (
                codes::BLUEPRINT_UNDEFINED,
                format!("blueprint `{}` uses an undefined value while rendering {what}{}", bp.name, suffix(&detail)),
                "the context is documented in docs/blueprints.md; test optional values with `is defined` or `is none`",
            ),
            ErrorKind::OutOfFuel => (
                codes::BLUEPRINT_TOO_MUCH_WORK,
                format!("blueprint `{}` did too much work while rendering {what}", bp.name),
                "a loop runs away or nests too deeply; blueprints must finish quickly",
            ),
            ErrorKind::TemplateNotFound | ErrorKind::BadInclude => (
                codes::BLUEPRINT_INCLUDE,
                format!("blueprint `{}` includes a template that is not a blueprint while rendering {what}{}", bp.name, suffix(&detail)),
                "include or import other blueprint files by their path relative to the blueprints folder, e.g. `_helpers/labels.yaml`",
            ),
            _ => (
                codes::BLUEPRINT_ERROR,
                format!(
                    "blueprint `{}` failed while rendering {what}: {}",
                    bp.name,
                    if detail.is_empty() { err.kind().to_string() } else { detail.clone() }
                ),
                "",
            ),
        };
        let mut d = Diagnostic::error(code, message).at(
            &source,
            span,
            if detail.is_empty() {
                err.kind().to_string()
            } else {
                detail.clone()
            },
        );
        if !help.is_empty() {
            d = d.help(help);
        }
        d
    }
}

/// The template environment over `texts` (name → template text).
fn environment(texts: BTreeMap<String, String>, marked: bool) -> Environment<'static> {
    let mut env = Environment::new();
    env.set_debug(true);
    env.set_fuel(Some(FUEL));
    env.set_recursion_limit(100);
    env.set_undefined_behavior(UndefinedBehavior::Strict);
    env.set_auto_escape_callback(|_| AutoEscape::Json);
    // `{% if %}` lines leave no blank lines or stray indentation behind,
    // which keeps blueprints readable as plain YAML.
    if let Ok(syntax) = minijinja::syntax::SyntaxConfig::builder()
        .trim_blocks(true)
        .lstrip_blocks(true)
        .keep_trailing_newline(true)
        .build()
    {
        env.set_syntax(syntax);
    }
    let texts: Arc<BTreeMap<String, String>> = Arc::new(texts);
    // Templates are looked up only among the blueprint files by their
    // relative name, so `include "../../etc/passwd"` finds nothing.
    env.set_loader(move |name| Ok(texts.get(name).cloned()));
    super::functions::register(&mut env, marked);
    env
}

/// The innermost error of an `include` chain: it says where it really happened.
fn innermost(e: &minijinja::Error) -> &minijinja::Error {
    let mut err = e;
    while let Some(inner) =
        std::error::Error::source(err).and_then(|s| s.downcast_ref::<minijinja::Error>())
    {
        err = inner;
    }
    err
}

/// An output buffer that refuses to grow past [`MAX_OUTPUT`].
struct Capped {
    buf: Vec<u8>,
    over: bool,
}

impl std::io::Write for Capped {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        if self.buf.len() + bytes.len() > MAX_OUTPUT {
            self.over = true;
            return Err(std::io::Error::other("blueprint output limit reached"));
        }
        self.buf.extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn suffix(detail: &str) -> String {
    if detail.is_empty() {
        String::new()
    } else {
        format!(": {detail}")
    }
}
