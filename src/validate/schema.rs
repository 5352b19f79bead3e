//! JSON Schema validation, with errors translated into plain words.
//!
//! The schemas in `schemas/` are the contract for both file formats; they are
//! embedded in the binary and compiled once per process. A raw validator error
//! ("Additional properties are not allowed ('replica' was unexpected)") is never
//! shown: each error kind is turned into a message that names the field the way
//! the user wrote it (`spec.ports[0].port`), a label on the exact key or value,
//! and help drawn from the schema itself: "did you mean `replicas`?" from the
//! known property names, the allowed values of an enum, and the `x-paved-rule`
//! text that every `pattern` carries in words.
//!
//! Architecture invariant: pure; knows JSON pointers and spans, not the model.

use crate::codes;
use std::sync::OnceLock;

use jsonschema::error::{TypeKind, ValidationErrorKind};
use jsonschema::Validator;
use serde_json::Value as Json;

use crate::diag::Diagnostic;
use crate::load::{Node, Value};
use crate::source::{SourceRef, Span};

// build.rs writes them: `schemas/*.v1.schema.json` with the definitions both
// share copied in from `schemas/common.json`.
pub(crate) const PLATFORM_SCHEMA: &str =
    include_str!(concat!(env!("OUT_DIR"), "/platform.v1.schema.json"));
pub(crate) const PAVED_SCHEMA: &str =
    include_str!(concat!(env!("OUT_DIR"), "/paved.v1.schema.json"));

/// Which of the two file formats a document is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    /// A service's `platform.yaml`.
    Application,
    /// The platform team's `paved.yaml`.
    Platform,
}

struct Compiled {
    schema: Json,
    validator: Validator,
}

fn compiled(kind: Kind) -> &'static Compiled {
    static APP: OnceLock<Compiled> = OnceLock::new();
    static PLATFORM: OnceLock<Compiled> = OnceLock::new();
    let (cell, text) = match kind {
        Kind::Application => (&APP, PLATFORM_SCHEMA),
        Kind::Platform => (&PLATFORM, PAVED_SCHEMA),
    };
    cell.get_or_init(|| {
        // Both schemas are part of the binary and checked by tests, so a
        // failure here is a bug in Paved, not something a user can cause.
        let schema: Json = serde_json::from_str(text).expect("embedded schema is valid JSON");
        let validator = jsonschema::options()
            .with_draft(jsonschema::Draft::Draft202012)
            .build(&schema)
            .expect("embedded schema compiles");
        Compiled { schema, validator }
    })
}

/// The embedded schema of a file format, as JSON.
pub(crate) fn schema_json(kind: Kind) -> &'static Json {
    &compiled(kind).schema
}

/// Validates `doc` (already loaded from `src`) and returns its JSON form when valid.
pub(crate) fn validate(kind: Kind, src: &SourceRef, doc: &Node) -> (Json, Vec<Diagnostic>) {
    let json = doc.to_json();
    let c = compiled(kind);
    let mut diags = Vec::new();
    if !c.validator.is_valid(&json) {
        diags = schema_errors(kind, src, doc, &json);
    }
    whole_numbers(kind, src, doc, &json, &mut diags);
    (json, diags)
}

fn schema_errors(kind: Kind, src: &SourceRef, doc: &Node, json: &Json) -> Vec<Diagnostic> {
    let c = compiled(kind);
    let mut diags = Vec::new();
    for err in c.validator.iter_errors(json) {
        let pointer = err.instance_path().as_str().to_string();
        let schema_path = err.schema_path().as_str().to_string();
        let ctx = Ctx {
            kind,
            src,
            doc,
            root: &c.schema,
            pointer: &pointer,
            schema_path: &schema_path,
        };
        ctx.translate(err.kind(), err.instance(), &mut diags);
    }
    diags
}

/// Floats with a zero fraction (`8080.0`, `1e3`) in fields that take whole
/// numbers. JSON Schema's `integer` accepts them, since 8080.0 is the integer
/// 8080 to it; the model reads such fields as integers and the YAML value is a
/// float, so each one is reported here, at the value. Where a field takes a
/// whole number is the schema's say: the document is validated once more with
/// each such float moved off the whole number (`8080.5`), and a float whose
/// own place then fails (any keyword but a bound: `8080.5` may also pass a
/// maximum) needs a whole number. Every integer in both schemas has a maximum
/// far below 2^52, where adding a half still gives a fraction (a test checks
/// this); a larger float fails the maximum in the first pass.
fn whole_numbers(kind: Kind, src: &SourceRef, doc: &Node, json: &Json, out: &mut Vec<Diagnostic>) {
    let mut floats = Vec::new();
    whole_floats(doc, String::new(), &mut floats);
    if floats.is_empty() {
        return;
    }
    let mut moved = json.clone();
    for (pointer, _, f) in &floats {
        if let Some(v) = moved.pointer_mut(pointer) {
            *v = Json::from(f + 0.5);
        }
    }
    let mut failed = std::collections::HashSet::new();
    for err in compiled(kind).validator.iter_errors(&moved) {
        failed_places(&err, &mut failed);
    }
    for (pointer, span, f) in floats {
        // A value already reported (`-1.0`: "must be at least 0") is not
        // reported twice.
        if !failed.contains(&pointer)
            || out
                .iter()
                .any(|d| d.primary.as_ref().is_some_and(|l| l.span == span))
        {
            continue;
        }
        let field = field_path(&pointer);
        let written = src.text.get(span.start..span.end).unwrap_or_default();
        let d = Diagnostic::error(
            codes::SCHEMA_TYPE,
            format!("`{field}` must be a whole number, found `{written}`"),
        )
        .at(src, span, "expected a whole number")
        .help(if f.abs() < 1e15 {
            format!("write `{}`, without a fraction or exponent", f as i64)
        } else {
            "write the number without a fraction or exponent".to_string()
        });
        out.push(d);
    }
}

/// The places where `err` and the errors of each `anyOf`/`oneOf` branch in
/// it fail, except by a bound.
fn failed_places(err: &jsonschema::ValidationError, out: &mut std::collections::HashSet<String>) {
    match err.kind() {
        ValidationErrorKind::AnyOf { context } | ValidationErrorKind::OneOfNotValid { context } => {
            for e in context.iter().flatten() {
                failed_places(e, out);
            }
        }
        ValidationErrorKind::Minimum { .. }
        | ValidationErrorKind::Maximum { .. }
        | ValidationErrorKind::ExclusiveMinimum { .. }
        | ValidationErrorKind::ExclusiveMaximum { .. } => return,
        _ => {}
    }
    out.insert(err.instance_path().as_str().to_string());
}

/// The pointer, span and value of every finite float with a zero fraction.
fn whole_floats(node: &Node, pointer: String, out: &mut Vec<(String, Span, f64)>) {
    match &node.value {
        Value::Float(f) if f.is_finite() && f.fract() == 0.0 => {
            out.push((pointer, node.span, *f));
        }
        Value::Seq(items) => {
            for (i, item) in items.iter().enumerate() {
                whole_floats(item, format!("{pointer}/{i}"), out);
            }
        }
        Value::Map(entries) => {
            for e in entries {
                whole_floats(&e.value, format!("{pointer}/{}", escape(&e.key)), out);
            }
        }
        _ => {}
    }
}

struct Ctx<'a> {
    kind: Kind,
    src: &'a SourceRef,
    doc: &'a Node,
    root: &'a Json,
    pointer: &'a str,
    schema_path: &'a str,
}

impl Ctx<'_> {
    /// The span of the value at the pointer, or of the closest existing parent.
    fn value_span(&self, pointer: &str) -> Span {
        let mut p = pointer.to_string();
        loop {
            if let Some((node, _)) = self.doc.pointer(&p) {
                return node.span;
            }
            match p.rfind('/') {
                Some(i) => p.truncate(i),
                None => return self.doc.span,
            }
        }
    }

    fn key_span(&self, pointer: &str) -> Span {
        match self.doc.pointer(pointer) {
            Some((_, Some(k))) => k,
            Some((n, None)) => n.span,
            None => self.value_span(pointer),
        }
    }

    /// The schema object that holds the failing keyword.
    fn keyword_parent(&self) -> Option<&Json> {
        let mut segs: Vec<&str> = self.schema_path.split('/').skip(1).collect();
        segs.pop();
        walk_schema(self.root, &segs)
    }

    fn translate(&self, kind: &ValidationErrorKind, instance: &Json, out: &mut Vec<Diagnostic>) {
        let field = field_path(self.pointer);
        let src = self.src;
        let span = self.value_span(self.pointer);
        let parent = self.keyword_parent();
        let rule = parent
            .and_then(|s| s.get("x-paved-rule"))
            .and_then(Json::as_str)
            .map(str::to_string);
        let d = match kind {
            ValidationErrorKind::AdditionalProperties { unexpected } => {
                let known: Vec<&str> = parent
                    .and_then(|s| s.get("properties"))
                    .and_then(Json::as_object)
                    .map(|m| m.keys().map(String::as_str).collect())
                    .unwrap_or_default();
                // paved.yaml has `spec.environments` too, but those are not overrides.
                let in_env_override =
                    self.kind == Kind::Application && is_env_override(self.pointer);
                for name in unexpected {
                    let child = format!("{}/{}", self.pointer, escape(name));
                    let key = self.key_span(&child);
                    let d = if in_env_override {
                        Diagnostic::error(
                            codes::SCHEMA_FORBIDDEN_OVERRIDE,
                            format!("`{name}` cannot be overridden per environment"),
                        )
                        .at(src, key, "not allowed in an environment")
                        .help(format!(
                            "an environment may only set {}; set `{name}` once under `spec` instead",
                            list_code(&known)
                        ))
                    } else {
                        let where_ = if field.is_empty() {
                            "the top level".to_string()
                        } else {
                            format!("`{field}`")
                        };
                        let d = Diagnostic::error(
                            codes::SCHEMA_UNKNOWN_FIELD,
                            format!("unknown field `{name}` in {where_}"),
                        )
                        .at(src, key, "unknown field")
                        .help(match did_you_mean(name, &known) {
                            _ if name == "<<" => "YAML merge keys (`<<: *anchor`) are not supported: YAML 1.2 dropped them; write the fields out".to_string(),
                            Some(s) => format!("did you mean `{s}`?"),
                            None => format!("the fields allowed here are {}", list_code(&known)),
                        });
                        match did_you_mean(name, &known) {
                            // The quick fix of an editor: the text that replaces the key.
                            Some(s) if name != "<<" => d.field("replacement", s),
                            _ => d,
                        }
                    };
                    out.push(d);
                }
                return;
            }
            ValidationErrorKind::Required { property } => {
                let name = property.as_str().unwrap_or_default();
                let about = parent
                    .and_then(|s| s.get("properties"))
                    .and_then(|p| p.get(name))
                    .and_then(|p| resolve_ref(self.root, p))
                    .and_then(|p| p.get("description"))
                    .and_then(Json::as_str);
                let where_ = if field.is_empty() {
                    "the file".to_string()
                } else {
                    format!("`{field}`")
                };
                let span = if self.pointer.is_empty() {
                    Span::point(self.doc.span.start)
                } else {
                    self.key_span(self.pointer)
                };
                Diagnostic::error(
                    codes::SCHEMA_MISSING_FIELD,
                    format!("missing required field `{name}` in {where_}"),
                )
                .at(src, span, format!("`{name}` is required here"))
                .maybe_help(about.map(|a| format!("add `{name}`: {}", lower_first(a))))
            }
            ValidationErrorKind::Type { kind } => {
                let expected = match kind {
                    TypeKind::Single(t) => article(&t.to_string()),
                    TypeKind::Multiple(ts) => ts
                        .iter()
                        .map(|t| article(&t.to_string()))
                        .collect::<Vec<_>>()
                        .join(" or "),
                };
                let found = self
                    .doc
                    .pointer(self.pointer)
                    .map(|(n, _)| n.type_name())
                    .unwrap_or("another type");
                let yaml11 = matches!(
                    instance.as_str(),
                    Some(
                        "yes"
                            | "no"
                            | "on"
                            | "off"
                            | "y"
                            | "n"
                            | "Yes"
                            | "No"
                            | "On"
                            | "Off"
                            | "YES"
                            | "NO"
                            | "ON"
                            | "OFF"
                    )
                );
                Diagnostic::error(
                    codes::SCHEMA_TYPE,
                    format!("`{field}` must be {expected}, found {found}"),
                )
                .at(src, span, format!("expected {expected}"))
                .maybe_help(if yaml11 && expected.contains("boolean") {
                    Some(
                        "YAML 1.2 reads yes/no/on/off as strings; write `true` or `false`"
                            .to_string(),
                    )
                } else if expected.contains("string")
                    && !matches!(found, "a string" | "a list" | "a mapping")
                {
                    Some("put the value in quotes to make it a string".to_string())
                } else {
                    rule.clone()
                })
            }
            ValidationErrorKind::Enum { options } => {
                let allowed: Vec<String> = options
                    .as_array()
                    .map(|a| a.iter().map(json_inline).collect())
                    .unwrap_or_default();
                let got = json_inline(instance);
                let refs: Vec<&str> = allowed.iter().map(String::as_str).collect();
                Diagnostic::error(
                    codes::SCHEMA_ENUM,
                    format!(
                        "`{field}` must be one of {}, found `{got}`",
                        list_code(&refs)
                    ),
                )
                .at(src, span, "not an allowed value")
                .maybe_help(did_you_mean(&got, &refs).map(|s| format!("did you mean `{s}`?")))
            }
            ValidationErrorKind::Constant { expected_value } => Diagnostic::error(
                codes::SCHEMA_CONST,
                format!("`{field}` must be `{}`", json_inline(expected_value)),
            )
            .at(
                src,
                span,
                format!("expected `{}`", json_inline(expected_value)),
            )
            .help(format!(
                "write `{}: {}`",
                last_segment(&field),
                json_inline(expected_value)
            )),
            ValidationErrorKind::Pattern { .. } => Diagnostic::error(
                codes::SCHEMA_PATTERN,
                format!(
                    "`{}` is not a valid value for `{field}`",
                    json_inline(instance)
                ),
            )
            .at(src, span, "does not follow the rule for this field")
            .maybe_help(
                rule.clone()
                    .map(|r| format!("`{}` must be: {r}", last_segment(&field)))
                    .map(|h| match instance.as_str().and_then(non_ascii) {
                        Some(c) => format!(
                            "{h}; `{c}` (U+{:04X}) is not an ASCII character, even if it looks like one",
                            c as u32
                        ),
                        None => h,
                    }),
            ),
            ValidationErrorKind::PropertyNames { error } => {
                let name = error.instance().as_str().unwrap_or_default().to_string();
                let child = format!("{}/{}", self.pointer, escape(&name));
                let key_rule = parent
                    .and_then(|s| s.get("propertyNames"))
                    .and_then(|p| resolve_ref(self.root, p))
                    .and_then(|p| p.get("x-paved-rule"))
                    .and_then(Json::as_str);
                let allowed = parent
                    .and_then(|s| s.get("propertyNames"))
                    .and_then(|p| resolve_ref(self.root, p))
                    .and_then(|p| p.get("enum"))
                    .and_then(Json::as_array)
                    .map(|a| a.iter().map(json_inline).collect::<Vec<_>>());
                // The error's schema path is the name schema's own keyword
                // (`/$defs/envVarName/pattern`), so its rule is `rule`.
                let key_rule = key_rule.or(rule.as_deref());
                let help = match (key_rule, allowed) {
                    (Some(r), _) => Some(format!("names here must be: {r}")),
                    (None, Some(a)) => {
                        let refs: Vec<&str> = a.iter().map(String::as_str).collect();
                        Some(format!("the names allowed here are {}", list_code(&refs)))
                    }
                    _ => None,
                };
                Diagnostic::error(
                    codes::SCHEMA_INVALID_NAME,
                    format!("`{name}` is not a valid name in `{field}`"),
                )
                .at(src, self.key_span(&child), "invalid name")
                .maybe_help(help)
            }
            ValidationErrorKind::Minimum { limit }
            | ValidationErrorKind::ExclusiveMinimum { limit } => {
                let strict = matches!(kind, ValidationErrorKind::ExclusiveMinimum { .. });
                let bound = if strict {
                    format!("greater than {limit}")
                } else {
                    format!("at least {limit}")
                };
                Diagnostic::error(
                    codes::SCHEMA_RANGE,
                    format!("`{field}` must be {bound}, found {instance}"),
                )
                .at(src, span, "too small")
                .maybe_help(range_help(parent))
            }
            ValidationErrorKind::Maximum { limit }
            | ValidationErrorKind::ExclusiveMaximum { limit } => {
                let strict = matches!(kind, ValidationErrorKind::ExclusiveMaximum { .. });
                let bound = if strict {
                    format!("less than {limit}")
                } else {
                    format!("at most {limit}")
                };
                Diagnostic::error(
                    codes::SCHEMA_RANGE,
                    format!("`{field}` must be {bound}, found {instance}"),
                )
                .at(src, span, "too large")
                .maybe_help(range_help(parent))
            }
            ValidationErrorKind::MinLength { limit } | ValidationErrorKind::MaxLength { limit } => {
                let n = instance.as_str().map(|s| s.chars().count()).unwrap_or(0);
                let (bound, label) = if matches!(kind, ValidationErrorKind::MinLength { .. }) {
                    (format!("at least {limit}"), "too short")
                } else {
                    (format!("at most {limit}"), "too long")
                };
                let unit = if *limit == 1 { "character" } else { "characters" };
                Diagnostic::error(
                    codes::SCHEMA_LENGTH,
                    format!("`{field}` must be {bound} {unit} long, found {n}"),
                )
                .at(src, span, label)
                .maybe_help(rule.clone())
            }
            ValidationErrorKind::MinItems { limit } => Diagnostic::error(
                codes::SCHEMA_LENGTH,
                format!(
                    "`{field}` must have at least {limit} item{}",
                    if *limit == 1 { "" } else { "s" }
                ),
            )
            .at(src, span, "too few items"),
            ValidationErrorKind::MaxItems { limit } => Diagnostic::error(
                codes::SCHEMA_LENGTH,
                format!("`{field}` can have at most {limit} items"),
            )
            .at(src, span, "too many items"),
            ValidationErrorKind::MinProperties { limit } => Diagnostic::error(
                codes::SCHEMA_LENGTH,
                format!(
                    "`{field}` must set at least {limit} field{}",
                    if *limit == 1 { "" } else { "s" }
                ),
            )
            .at(src, span, "too few fields")
            .help(
                parent
                    .and_then(|s| s.get("properties"))
                    .and_then(Json::as_object)
                    .map(|m| {
                        let keys: Vec<&str> = m.keys().map(String::as_str).collect();
                        format!("the fields allowed here are {}", list_code(&keys))
                    })
                    .unwrap_or_else(|| "add at least one entry".to_string()),
            ),
            ValidationErrorKind::UniqueItems => {
                let dup = instance.as_array().and_then(|a| {
                    a.iter()
                        .enumerate()
                        .find_map(|(i, v)| a[..i].contains(v).then(|| (i, json_inline(v))))
                });
                let (at, what) = match dup {
                    Some((i, v)) => (self.value_span(&format!("{}/{i}", self.pointer)), v),
                    None => (span, String::new()),
                };
                Diagnostic::error(
                    codes::SCHEMA_DUPLICATE_ITEM,
                    format!("`{field}` lists `{what}` more than once"),
                )
                .at(src, at, "repeated here")
                .help("remove the repeated item")
            }
            ValidationErrorKind::AnyOf { context }
            | ValidationErrorKind::OneOfNotValid { context } => {
                // When the value's type fits exactly one branch (`-1` fits
                // `integer`, not `const: auto`), that branch's own errors say
                // what is wrong ("must be at least 0"); report those instead.
                let misfit = |e: &jsonschema::ValidationError| {
                    e.instance_path().as_str() == self.pointer
                        && matches!(
                            e.kind(),
                            ValidationErrorKind::Type { .. } | ValidationErrorKind::Constant { .. }
                        )
                };
                let fitting: Vec<_> = context
                    .iter()
                    .filter(|errs| !errs.is_empty() && !errs.iter().any(misfit))
                    .collect();
                if let [branch] = fitting.as_slice() {
                    for e in branch.iter() {
                        let pointer = e.instance_path().as_str().to_string();
                        let schema_path = e.schema_path().as_str().to_string();
                        let inner = Ctx {
                            pointer: &pointer,
                            schema_path: &schema_path,
                            ..*self
                        };
                        inner.translate(e.kind(), e.instance(), out);
                    }
                    return;
                }
                let rule = rule.or_else(|| {
                    parent
                        .and_then(|s| s.get("description"))
                        .and_then(Json::as_str)
                        .map(str::to_string)
                });
                Diagnostic::error(
                    codes::SCHEMA_INVALID,
                    format!(
                        "`{}` is not a valid value for `{field}`",
                        json_inline(instance)
                    ),
                )
                .at(src, span, "not an allowed form")
                .maybe_help(rule)
            }
            // The schemas use `not` only for fields that exclude each other
            // (a probe's `path`, `exec` and `tcpPort`); the rule names them.
            ValidationErrorKind::Not { .. } => Diagnostic::error(
                codes::SCHEMA_INVALID,
                format!("`{field}` combines fields that cannot be used together"),
            )
            .at(src, span, "choose one")
            .maybe_help(rule),
            _ => Diagnostic::error(
                codes::SCHEMA_INVALID,
                format!("`{field}` is not valid here"),
            )
            .at(src, span, "invalid value")
            .maybe_help(rule),
        };
        out.push(d);
    }
}

/// The first non-ASCII character of a name: a Cyrillic `о` in `оrders` looks
/// right and is not, so the help names it.
fn non_ascii(s: &str) -> Option<char> {
    s.chars().find(|c| !c.is_ascii())
}

/// Environment overrides live at `/spec/environments/<name>` (and their nested objects).
fn is_env_override(pointer: &str) -> bool {
    let segs: Vec<&str> = pointer.split('/').collect();
    segs.len() >= 4 && segs[1] == "spec" && segs[2] == "environments"
}

fn range_help(parent: Option<&Json>) -> Option<String> {
    let p = parent?;
    let lo = match (p.get("minimum"), p.get("exclusiveMinimum")) {
        (Some(lo), _) => format!("from {lo}"),
        (None, Some(lo)) => format!("greater than {lo}"),
        (None, None) => return None,
    };
    let hi = match (p.get("maximum"), p.get("exclusiveMaximum")) {
        (Some(hi), _) => format!("up to {hi}"),
        (None, Some(hi)) => format!("less than {hi}"),
        (None, None) => return None,
    };
    Some(match (p.get("minimum"), p.get("maximum")) {
        (Some(lo), Some(hi)) => format!("allowed values are {lo} to {hi}"),
        _ => format!("allowed values are {lo}, {hi}"),
    })
}

/// Follows a schema path (`properties/spec/$ref/properties/ports/...`) through local `$ref`s.
fn walk_schema<'a>(root: &'a Json, segs: &[&str]) -> Option<&'a Json> {
    let mut cur = root;
    for seg in segs {
        let seg = seg.replace("~1", "/").replace("~0", "~");
        if seg == "$ref" {
            cur = resolve_ref(root, cur)?;
            continue;
        }
        cur = match cur {
            Json::Object(m) => m.get(&seg)?,
            Json::Array(a) => a.get(seg.parse::<usize>().ok()?)?,
            _ => return None,
        };
    }
    resolve_ref(root, cur)
}

/// Resolves a local `$ref` (`#/$defs/x`) if the schema has one.
fn resolve_ref<'a>(root: &'a Json, schema: &'a Json) -> Option<&'a Json> {
    let mut cur = schema;
    for _ in 0..16 {
        match cur.get("$ref").and_then(Json::as_str) {
            Some(r) => cur = root.pointer(r.strip_prefix('#')?)?,
            None => return Some(cur),
        }
    }
    None
}

/// `/spec/ports/0/port` → `spec.ports[0].port`.
pub(crate) fn field_path(pointer: &str) -> String {
    let mut out = String::new();
    for seg in pointer.split('/').skip(1) {
        let seg = seg.replace("~1", "/").replace("~0", "~");
        if seg.parse::<usize>().is_ok() {
            out.push_str(&format!("[{seg}]"));
        } else {
            if !out.is_empty() {
                out.push('.');
            }
            out.push_str(&seg);
        }
    }
    out
}

fn escape(key: &str) -> String {
    key.replace('~', "~0").replace('/', "~1")
}

fn last_segment(field: &str) -> &str {
    field.rsplit('.').next().unwrap_or(field)
}

fn lower_first(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_lowercase().collect::<String>() + c.as_str(),
        None => String::new(),
    }
}

fn article(t: &str) -> String {
    match t {
        "object" => "a mapping".into(),
        "array" => "a list".into(),
        "integer" => "an integer".into(),
        "null" => "null".into(),
        other => format!("a {other}"),
    }
}

/// A JSON value as the user would have written it in YAML.
fn json_inline(v: &Json) -> String {
    match v {
        Json::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn list_code(items: &[&str]) -> String {
    let quoted: Vec<String> = items.iter().map(|i| format!("`{i}`")).collect();
    match quoted.len() {
        0 => "nothing".into(),
        1 => quoted[0].clone(),
        n => format!("{} or {}", quoted[..n - 1].join(", "), quoted[n - 1]),
    }
}

/// The closest candidate by edit distance, if it is close enough to be a typo.
pub(crate) fn did_you_mean<'a>(got: &str, candidates: &[&'a str]) -> Option<&'a str> {
    let got_l = got.to_lowercase();
    candidates
        .iter()
        .map(|c| (strsim::damerau_levenshtein(&got_l, &c.to_lowercase()), *c))
        .filter(|(d, c)| *d <= (c.len().max(got.len()) / 3).max(1))
        .min_by_key(|(d, c)| (*d, *c))
        .map(|(_, c)| c)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::load::load_mapping;
    use crate::source::Source;

    fn check(text: &str) -> Vec<Diagnostic> {
        let src = Source::virtual_file("platform.yaml", text.to_string());
        let (doc, d) = load_mapping(&src, "platform.yaml");
        assert!(d.is_empty(), "{d:?}");
        validate(Kind::Application, &src, &doc.unwrap()).1
    }

    const OK: &str = "apiVersion: paved.dev/v1\nkind: Application\nmetadata:\n  name: orders\n  owner: team-a\nspec:\n  image: ghcr.io/acme/orders:1.0.0\n  ports:\n    - {name: http, port: 8080}\n";

    #[test]
    fn schemas_compile_and_accept_a_minimal_spec() {
        assert!(check(OK).is_empty());
        let _ = compiled(Kind::Platform);
    }

    #[test]
    fn unknown_field_suggests_the_closest() {
        let d = check(&format!("{OK}  replica: 2\n"));
        assert_eq!(d.len(), 1, "{d:?}");
        assert_eq!(d[0].code, codes::SCHEMA_UNKNOWN_FIELD);
        assert_eq!(d[0].line_col(), (10, 3));
        assert_eq!(d[0].help.as_deref(), Some("did you mean `replicas`?"));
    }

    #[test]
    fn range_and_enum_and_pattern_speak_plainly() {
        let d = check(
            &OK.replace("port: 8080", "port: 0")
                .replace("name: orders", "name: Orders"),
        );
        let codes: Vec<_> = d.iter().map(|d| d.code).collect();
        assert!(codes.contains(&codes::SCHEMA_RANGE), "{d:?}");
        assert!(codes.contains(&codes::SCHEMA_PATTERN), "{d:?}");
        let p = d.iter().find(|d| d.code == codes::SCHEMA_PATTERN).unwrap();
        assert!(p.help.as_deref().unwrap().contains("lower-case"), "{p:?}");
        let d = check(&format!("{OK}  type: servce\n"));
        assert_eq!(d[0].code, codes::SCHEMA_ENUM);
        assert_eq!(d[0].help.as_deref(), Some("did you mean `service`?"));
    }

    #[test]
    fn whole_floats_in_integer_fields_are_located_type_errors() {
        let d = check(&OK.replace("port: 8080", "port: 8080.0"));
        assert_eq!(d.len(), 1, "{d:?}");
        assert_eq!(d[0].code, codes::SCHEMA_TYPE);
        assert_eq!(d[0].line_col(), (9, 26));
        assert_eq!(
            d[0].message,
            "`spec.ports[0].port` must be a whole number, found `8080.0`"
        );
        assert_eq!(
            d[0].help.as_deref(),
            Some("write `8080`, without a fraction or exponent")
        );
        // `replicas` is an integer or `auto`: the float fits neither.
        let d = check(&format!("{OK}  replicas: 1e0\n"));
        assert_eq!(d.len(), 1, "{d:?}");
        assert_eq!(d[0].line_col(), (10, 13));
        // Out of range too: reported once, as out of range.
        let d = check(&format!("{OK}  replicas: -1.0\n"));
        assert_eq!(d.len(), 1, "{d:?}");
        assert_eq!(d[0].code, codes::SCHEMA_RANGE);
        // Fields that take any number accept whole floats.
        let d = check(&format!(
            "{OK}  env: {{RATIO: 1.0}}\n  compute: {{cpu: 1.0, memory: 1Gi}}\n  observability: {{slo: {{availability: 99.0}}}}\n"
        ));
        assert!(d.is_empty(), "{d:?}");
    }

    /// The whole-number check moves a float off the whole number by adding a
    /// half; that is exact only below 2^52, so every integer must be bounded
    /// below it (a larger value then fails the maximum instead).
    #[test]
    fn every_integer_in_the_schemas_has_a_maximum_below_2_pow_52() {
        fn walk(v: &Json, at: &str, out: &mut Vec<String>) {
            match v {
                Json::Object(m) => {
                    let integer = match m.get("type") {
                        Some(Json::String(t)) => t == "integer",
                        Some(Json::Array(ts)) => ts.iter().any(|t| t == "integer"),
                        _ => false,
                    };
                    let max = m
                        .get("maximum")
                        .or(m.get("exclusiveMaximum"))
                        .and_then(Json::as_f64);
                    if integer && !max.is_some_and(|max| max < 2f64.powi(52)) {
                        out.push(at.to_string());
                    }
                    for (k, v) in m {
                        walk(v, &format!("{at}/{k}"), out);
                    }
                }
                Json::Array(items) => {
                    for (i, v) in items.iter().enumerate() {
                        walk(v, &format!("{at}/{i}"), out);
                    }
                }
                _ => {}
            }
        }
        for kind in [Kind::Application, Kind::Platform] {
            let mut unbounded = Vec::new();
            walk(schema_json(kind), "", &mut unbounded);
            assert!(unbounded.is_empty(), "{kind:?}: {unbounded:?}");
        }
    }

    /// The files in `schemas/` are what Paved embeds and `paved schema`
    /// prints. build.rs writes the embedded ones, copying in the definitions
    /// of `schemas/common.json`; `PAVED_BLESS=1` rewrites a stale file.
    #[test]
    fn the_published_schemas_are_the_embedded_ones() {
        let bless = std::env::var_os("PAVED_BLESS").is_some_and(|v| !v.is_empty() && v != "0");
        for (file, embedded) in [
            ("platform.v1.schema.json", PLATFORM_SCHEMA),
            ("paved.v1.schema.json", PAVED_SCHEMA),
        ] {
            let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("schemas")
                .join(file);
            let published = std::fs::read_to_string(&path).unwrap();
            if published == embedded {
                continue;
            }
            if bless {
                std::fs::write(&path, embedded).unwrap();
                continue;
            }
            panic!(
                "schemas/{file} is not the schema Paved embeds. Its shared $defs come from \
                 schemas/common.json (edit them there), and it is written as serde_json's \
                 pretty JSON. Run `PAVED_BLESS=1 cargo test --lib` to rewrite it, then review the diff."
            );
        }
    }

    /// Each definition of `schemas/common.json` is in both schemas byte for
    /// byte, and any definition the two schemas hold alike comes from there:
    /// nothing shared is kept as two copies by hand.
    #[test]
    fn shared_definitions_have_one_source() {
        let common: Json = serde_json::from_str(include_str!("../../schemas/common.json")).unwrap();
        let common = common["$defs"].as_object().unwrap();
        for (name, def) in common {
            let text = serde_json::to_string_pretty(def)
                .unwrap()
                .replace('\n', "\n    ");
            let entry = format!("\n    {}: {text}", Json::from(name.as_str()));
            assert!(PLATFORM_SCHEMA.contains(&entry), "platform.v1 lacks {name}");
            assert!(PAVED_SCHEMA.contains(&entry), "paved.v1 lacks {name}");
        }
        let app = schema_json(Kind::Application)["$defs"].as_object().unwrap();
        let platform = schema_json(Kind::Platform)["$defs"].as_object().unwrap();
        for (name, def) in app {
            if platform.get(name) == Some(def) {
                assert!(
                    common.contains_key(name),
                    "`{name}` is the same in both schemas: move it to schemas/common.json"
                );
            }
        }
    }

    #[test]
    fn field_paths_read_like_yaml() {
        assert_eq!(field_path("/spec/ports/0/port"), "spec.ports[0].port");
        assert_eq!(field_path(""), "");
    }
}
