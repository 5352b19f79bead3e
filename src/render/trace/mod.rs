//! Origins of rendered fields (`paved trace`): for a field of a rendered
//! object, the chain of places that produced its value, most specific
//! first: the spec line (and the environment override), the platform
//! config line (sizes, defaults), a built-in default, the blueprint line.
//!
//! Blueprint lines come from a side render with marked blueprints
//! ([`marks`]): every output line knows the template line that wrote it, and
//! the span-aware loader maps a field to its output line. Value origins come
//! from the expressions on that blueprint line: each context path it reads
//! (`service.image`, `service.compute.requests.cpu`) is looked up in the spec
//! tree and the platform config tree, following the model's rules
//! (`model::instance`): an environment override wins over the base value, a
//! size names a `sizes` entry, what nobody wrote is a built-in default.
//! Values read through loop variables or macro arguments other than
//! `service` are reported with their blueprint line only.
//!
//! Architecture invariant: runs only for `trace`, for `diff --base`'s
//! causes (one object per group) and for an instance with a compile-time
//! policy finding (`locate`, from the unit driver; never for a unit
//! without findings);
//! no file system access, no output format.

pub(crate) mod marks;

use serde::Serialize;
use serde_json::Value as Json;

use super::env::Blueprints;
use super::units::Units;
use crate::load::{self, Node};
use crate::model::{Instance, Platform, Service};
use crate::source::{Source, SourceRef, Span};

/// One place in an origin chain.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub(crate) struct Step {
    /// `spec`, `environment-override`, `size`, `platform-config`,
    /// `built-in-default`, `blueprint`, `blueprint-literal` or `paved`.
    pub kind: &'static str,
    /// `file:line:col`, or `file:line` for a blueprint line; none for a
    /// built-in default that no file states.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub at: Option<String>,
    /// What this place says (`spec.image`, `sizes.medium.cpu`, the
    /// blueprint line's text).
    pub detail: String,
    /// The file and span of `at`, for a diagnostic to point at.
    #[serde(skip)]
    pub loc: Option<Loc>,
}

/// A span in a source, compared by file name and span.
#[derive(Debug, Clone)]
pub(crate) struct Loc(pub SourceRef, pub Span);

impl PartialEq for Loc {
    fn eq(&self, other: &Loc) -> bool {
        self.0.name == other.0.name && self.1 == other.1
    }
}

/// One traced field of a rendered object.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct Field {
    /// Dotted path with list indexes, e.g. `spec.template.spec.containers[0].image`.
    pub path: String,
    /// The same as a JSON pointer.
    pub pointer: String,
    pub value: Json,
    pub origins: Vec<Step>,
}

/// The object a trace is about.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct Resource {
    pub kind: String,
    pub namespace: Option<String>,
    pub name: String,
    pub environment: String,
    pub service: String,
    /// The blueprint that rendered it.
    pub blueprint: String,
}

/// A rendered object, with what it takes to trace its fields.
pub(crate) struct Traced {
    pub resource: Resource,
    /// The object as written (canonical, with Paved's annotations).
    pub value: Json,
    /// The blueprint's output without marks, and the object's node in it.
    output: SourceRef,
    node: Node,
    /// Output line (0-based) → (template id, line).
    lines: Vec<Option<(usize, usize)>>,
    instance: usize,
}

/// What a trace reads: the compiled model and the sources it came from.
pub(crate) struct Inputs<'a> {
    pub platform: &'a Platform,
    pub services: &'a [Service],
    pub instances: &'a [Instance],
    pub blueprints: &'a Blueprints,
    /// The platform config with spans (`paved.yaml`, or the built-in one).
    pub config: Option<&'a (SourceRef, Node)>,
    /// The built-in config with spans (`<built-in paved.yaml>`): where a
    /// section the user's `paved.yaml` leaves out comes from (its `sizes`).
    pub builtin: Option<&'a (SourceRef, Node)>,
}

/// The sections of the platform config that, when `paved.yaml` leaves them
/// out, take the built-in config's value as it is written there (the model's
/// default equals the built-in file's; `model::default_sizes`).
const BUILT_IN_SECTIONS: &[&str] = &["/spec/sizes"];

/// Which object: kind, name, and optionally namespace and environment.
pub(crate) struct Query<'q> {
    pub kind: &'q str,
    pub namespace: Option<&'q str>,
    pub name: &'q str,
    pub environment: Option<&'q str>,
}

/// Finds the objects `q` names among every instance's `service/` blueprints
/// (rendered with marks). More than one: one per environment.
pub(crate) fn find(inputs: &Inputs, q: &Query) -> Vec<Traced> {
    Finder::new(inputs).find(q)
}

/// The marked blueprints and the render units, made once for many queries
/// (`diff`'s causes trace one object per group).
pub(crate) struct Finder<'a> {
    inputs: &'a Inputs<'a>,
    units: Units<'a>,
    marked: Blueprints,
}

impl<'a> Finder<'a> {
    pub(crate) fn new(inputs: &'a Inputs<'a>) -> Finder<'a> {
        let select = super::Select {
            services: None,
            envs: None,
            preview: false,
        };
        Finder {
            units: Units::new(
                inputs.platform,
                inputs.services,
                inputs.instances,
                inputs.blueprints,
                &select,
            ),
            marked: inputs.blueprints.instrumented(false),
            inputs,
        }
    }

    /// The objects `q` names; only the instances `q` may name are rendered.
    pub(crate) fn find(&self, q: &Query) -> Vec<Traced> {
        let inputs = self.inputs;
        let mut found = Vec::new();
        for (i, inst) in inputs.instances.iter().enumerate() {
            if q.environment.is_some_and(|e| e != inst.environment.name)
                || q.namespace.is_some_and(|n| n != inst.namespace)
            {
                continue;
            }
            found.extend(
                objects(inputs, &self.units, &self.marked, i)
                    .into_iter()
                    .map(|(_, t)| t)
                    .filter(|t| {
                        t.resource.kind == q.kind
                            && t.resource.name == q.name
                            && q.namespace.is_none_or(|ns| {
                                t.resource.namespace.as_deref().is_none_or(|d| d == ns)
                            })
                    }),
            );
        }
        found
    }
}

/// Every object the `service/` blueprints render for instance `i`, rendered
/// with `marked` (`Blueprints::instrumented(false)` of `inputs.blueprints`),
/// each with the name of its blueprint (`service/deployment.yaml`).
pub(crate) fn objects(
    inputs: &Inputs,
    units: &Units,
    marked: &Blueprints,
    i: usize,
) -> Vec<(String, Traced)> {
    let mut found = Vec::new();
    let Some(inst) = inputs.instances.get(i) else {
        return found;
    };
    for (bp, text) in units.raw_instance(marked, i) {
        let Ok(text) = text else { continue };
        let (plain, lines) = marks::strip(&text);
        if plain.contains(marks::MARK) {
            continue;
        }
        let output = Source::virtual_file(&bp.source.name, plain.clone());
        let (nodes, _) = load::parse(&output, load::Documents::Many);
        let docs = match crate::normalize::documents(
            plain,
            crate::normalize::Blueprint {
                name: &bp.name,
                source: &bp.source,
            },
            "trace",
        ) {
            Ok(d) => d,
            Err(_) => continue,
        };
        for mut doc in docs {
            let Some(node) = nodes
                .iter()
                .find(|n| {
                    n.get("kind").and_then(Node::as_str) == Some(&doc.kind)
                        && n.pointer("/metadata/name").and_then(|(m, _)| m.as_str())
                            == Some(&doc.name)
                })
                .cloned()
            else {
                continue;
            };
            if bp.scope != super::env::Scope::Catalog {
                super::ordering::annotate(&mut doc, &inputs.platform.crossplane.api_group);
            }
            found.push((
                bp.name.clone(),
                Traced {
                    resource: Resource {
                        kind: doc.kind.clone(),
                        namespace: doc.namespace.clone(),
                        name: doc.name.clone(),
                        environment: inst.environment.name.clone(),
                        service: inst.name.clone(),
                        blueprint: bp.source.name.clone(),
                    },
                    value: doc.value,
                    output: output.clone(),
                    node,
                    lines: lines.clone(),
                    instance: i,
                },
            ));
        }
    }
    found
}

/// Every leaf field of `value` as (dotted path, pointer, value), in order.
pub(crate) fn leaves(value: &Json) -> Vec<(String, String, Json)> {
    fn walk(v: &Json, path: &str, ptr: &str, out: &mut Vec<(String, String, Json)>) {
        match v {
            Json::Object(m) if !m.is_empty() => {
                for (k, x) in m {
                    let p = if path.is_empty() {
                        k.clone()
                    } else {
                        format!("{path}.{k}")
                    };
                    let esc = k.replace('~', "~0").replace('/', "~1");
                    walk(x, &p, &format!("{ptr}/{esc}"), out);
                }
            }
            Json::Array(a) if !a.is_empty() => {
                for (n, x) in a.iter().enumerate() {
                    walk(x, &format!("{path}[{n}]"), &format!("{ptr}/{n}"), out);
                }
            }
            _ => out.push((path.to_string(), ptr.to_string(), v.clone())),
        }
    }
    let mut out = Vec::new();
    walk(value, "", "", &mut out);
    out
}

/// Traces every leaf field of `t`.
pub(crate) fn fields(inputs: &Inputs, t: &Traced) -> Vec<Field> {
    leaves(&t.value)
        .into_iter()
        .map(|(path, pointer, value)| Field {
            origins: origin(inputs, t, &pointer),
            path,
            pointer,
            value,
        })
        .collect()
}

/// The origin chain of the field at `pointer` (a JSON pointer) of a traced
/// object, most specific first: what `diff`'s causes and policy findings
/// can call.
pub(crate) fn origin(inputs: &Inputs, t: &Traced, pointer: &str) -> Vec<Step> {
    origin_at(inputs, t, pointer, false)
}

/// [`origin`]; `by_key`: the field's line is its key's (a block mapping's
/// `resources:` line, not the line of its first entry).
fn origin_at(inputs: &Inputs, t: &Traced, pointer: &str, by_key: bool) -> Vec<Step> {
    let Some((node, key)) = t.node.pointer(pointer) else {
        return vec![Step {
            kind: "paved",
            at: None,
            detail: "added by Paved after rendering: Argo CD sync order (docs/resources.md)".into(),
            loc: None,
        }];
    };
    let start = match key {
        Some(k) if by_key => k.start,
        _ => node.span.start,
    };
    let (line, _) = t.output.line_col(start);
    let Some((id, bp_line)) = t.lines.get(line.saturating_sub(1)).copied().flatten() else {
        return vec![];
    };
    let Some(src) = inputs.blueprints.sources().nth(id) else {
        return vec![];
    };
    let text = src.line_text(bp_line).trim().to_string();
    let at = Some(format!("{}:{bp_line}", src.name));
    let (start, end, _) = src.line_bounds(bp_line);
    let indent = src.line_text(bp_line).len() - src.line_text(bp_line).trim_start().len();
    let loc = Some(Loc(src.clone(), Span::new(start + indent, end)));
    let mut chain = Vec::new();
    let exprs = expressions(src.line_text(bp_line));
    if exprs.is_empty() {
        chain.push(Step {
            kind: "blueprint-literal",
            at,
            detail: text,
            loc,
        });
        return chain;
    }
    if let Some(inst) = inputs.instances.get(t.instance) {
        let service = inputs.services.iter().find(|s| s.name() == inst.name);
        let origins = Origins {
            inputs,
            inst,
            service,
        };
        for path in exprs {
            for step in origins.of(&path) {
                if !chain.contains(&step) {
                    chain.push(step);
                }
            }
        }
    }
    chain.push(Step {
        kind: "blueprint",
        at,
        detail: text,
        loc,
    });
    chain
}

/// Where a policy finding on the field at `pointer` of `t` points: the
/// blueprint line that wrote the field (the partial's line when a partial
/// wrote it), and the spec line (or environment override) its value comes
/// from, when the chain has one.
pub(crate) fn locate(inputs: &Inputs, t: &Traced, pointer: &str) -> Option<(Loc, Option<Loc>)> {
    let chain = origin_at(inputs, t, pointer, true);
    let blueprint = chain
        .iter()
        .find(|s| s.kind.starts_with("blueprint"))
        .and_then(|s| s.loc.clone())?;
    let value = chain
        .iter()
        .find(|s| matches!(s.kind, "spec" | "environment-override" | "size"))
        .and_then(|s| s.loc.clone());
    Some((blueprint, value))
}

/// The context paths (`service.compute.requests.cpu`) the `{{ }}` tags of a
/// blueprint line read.
fn expressions(line: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = line;
    let mut any = false;
    while let Some(open) = rest.find("{{") {
        any = true;
        let after = &rest[open + 2..];
        let end = after.find("}}").unwrap_or(after.len());
        let inner = &after[..end];
        let mut in_str: Option<char> = None;
        let mut start: Option<usize> = None;
        let bytes = inner.as_bytes();
        for (i, c) in inner.char_indices() {
            if let Some(q) = in_str {
                if c == q {
                    in_str = None;
                }
                continue;
            }
            let word = c.is_ascii_alphanumeric() || c == '_' || c == '.';
            match (start, word) {
                (None, true) if c.is_ascii_alphabetic() || c == '_' => {
                    let prev = i.checked_sub(1).map(|p| bytes[p]);
                    if prev != Some(b'|') && prev != Some(b'.') {
                        start = Some(i);
                    }
                }
                (Some(s), false) => {
                    push_path(&inner[s..i], &mut out);
                    start = None;
                }
                _ => {}
            }
            if c == '"' || c == '\'' {
                in_str = Some(c);
            }
        }
        if let Some(s) = start {
            push_path(&inner[s..], &mut out);
        }
        rest = &after[end.min(after.len())..];
    }
    if any && out.is_empty() {
        out.push(String::new());
    }
    out
}

fn push_path(word: &str, out: &mut Vec<String>) {
    let root = word.split('.').next().unwrap_or("");
    if ["service", "environment", "platform"].contains(&root) && !out.iter().any(|w| w == word) {
        out.push(word.trim_end_matches('.').to_string());
    }
}

/// `target_cpu_utilization` → `targetCpuUtilization`.
fn camel(s: &str) -> String {
    let mut out = String::new();
    let mut up = false;
    for c in s.chars() {
        if c == '_' {
            up = true;
        } else if up {
            out.extend(c.to_uppercase());
            up = false;
        } else {
            out.push(c);
        }
    }
    out
}

struct Origins<'a> {
    inputs: &'a Inputs<'a>,
    inst: &'a Instance,
    service: Option<&'a Service>,
}

impl Origins<'_> {
    /// A step at `pointer` of the spec, if the spec holds it.
    fn spec(&self, kind: &'static str, pointer: &str) -> Option<Step> {
        let s = self.service?;
        let (node, _) = s.doc.pointer(pointer)?;
        Some(step(kind, &s.source, node.span, pointer))
    }

    /// The environment override of `rest` (`/image`), else the base value.
    fn spec_or_override(&self, rest: &str) -> Option<Step> {
        let env = &self.inst.environment.name;
        self.spec(
            "environment-override",
            &format!("/spec/environments/{env}{rest}"),
        )
        .or_else(|| self.spec("spec", &format!("/spec{rest}")))
    }

    /// A step at `pointer` of the platform config, if it holds it; else of
    /// the built-in config, when the section is one `paved.yaml` left out
    /// and the built-in one applies ([`BUILT_IN_SECTIONS`]).
    fn config(&self, pointer: &str) -> Option<Step> {
        let (src, doc) = self.inputs.config?;
        if let Some((node, _)) = doc.pointer(pointer) {
            return Some(step("platform-config", src, node.span, pointer));
        }
        let section = BUILT_IN_SECTIONS.iter().find(|s| {
            pointer
                .strip_prefix(**s)
                .is_some_and(|r| r.starts_with('/'))
        })?;
        if doc.pointer(section).is_some() {
            return None;
        }
        let (src, doc) = self.inputs.builtin?;
        let (node, _) = doc.pointer(pointer)?;
        Some(step("platform-config", src, node.span, pointer))
    }

    fn builtin(detail: String) -> Step {
        Step {
            kind: "built-in-default",
            at: None,
            detail,
            loc: None,
        }
    }

    /// The origin chain of one context path.
    fn of(&self, path: &str) -> Vec<Step> {
        let parts: Vec<&str> = path.split('.').collect();
        let env = &self.inst.environment.name;
        match parts[..] {
            ["service", "compute", which, field @ ("cpu" | "memory")] => {
                self.compute(which == "limits", field)
            }
            ["service", "replicas"] => self
                .spec_or_override("/replicas")
                .map(|s| vec![s])
                .unwrap_or_else(|| {
                    vec![Self::builtin(
                        "replicas: 1 (a service without `replicas` or autoscaling runs one pod)"
                            .into(),
                    )]
                }),
            ["service", "autoscaling", field] => {
                let f = camel(field);
                let spec = self
                    .spec(
                        "environment-override",
                        &format!("/spec/environments/{env}/autoscaling/{f}"),
                    )
                    .or_else(|| self.spec("spec", &format!("/spec/autoscaling/{f}")));
                match spec.or_else(|| self.config(&format!("/spec/autoscaling/{f}"))) {
                    Some(s) => vec![s],
                    None => vec![Self::builtin(format!(
                        "autoscaling.{f} (the model's default; nobody wrote it)"
                    ))],
                }
            }
            ["service", "image"] => self.spec_or_override("/image").into_iter().collect(),
            ["service", field @ ("name" | "description" | "owner")] => self
                .spec("spec", &format!("/metadata/{field}"))
                .into_iter()
                .collect(),
            ["service", ref rest @ ..] if !rest.is_empty() => {
                let p: String = rest.iter().map(|k| format!("/{}", camel(k))).collect();
                self.spec_or_override(&p).into_iter().collect()
            }
            ["environment", ref rest @ ..] if !rest.is_empty() => {
                let p: String = rest.iter().map(|k| format!("/{}", camel(k))).collect();
                self.config(&format!("/spec/environments/{env}{p}"))
                    .into_iter()
                    .collect()
            }
            ["platform", ref rest @ ..] if !rest.is_empty() => {
                let p: String = rest.iter().map(|k| format!("/{}", camel(k))).collect();
                self.config(&format!("/spec{p}")).into_iter().collect()
            }
            _ => vec![],
        }
    }

    /// Requests and limits: an override's `compute` or `size`, else the
    /// base's, else the platform's default size (`model::resolve_compute`).
    fn compute(&self, limit: bool, field: &str) -> Vec<Step> {
        let env = &self.inst.environment.name;
        let mut chain = Vec::new();
        let bases = [
            ("environment-override", format!("/spec/environments/{env}")),
            ("spec", "/spec".to_string()),
        ];
        let mut found = false;
        for (kind, base) in &bases {
            let has = |k: &str| {
                self.service
                    .and_then(|s| s.doc.pointer(&format!("{base}/{k}")))
                    .is_some()
            };
            if !has("size") && !has("compute") {
                continue;
            }
            found = true;
            if let Some(s) = self.spec(kind, &format!("{base}/compute/{field}")) {
                chain.push(s);
            } else if let Some(mut s) = self.spec(kind, &format!("{base}/size")) {
                s.kind = if *kind == "spec" { "size" } else { kind };
                chain.push(s);
                if let Some(size) = &self.inst.compute.size {
                    chain.extend(self.config(&format!("/spec/sizes/{size}/{field}")));
                }
            }
            break;
        }
        if !found {
            if let Some(size) = &self.inst.compute.size {
                chain.push(Self::builtin(format!(
                    "size `{size}` (the platform's default size: the service sets neither `size` nor `compute`)"
                )));
                chain.extend(self.config(&format!("/spec/sizes/{size}/{field}")));
            } else {
                chain.push(Self::builtin(format!(
                    "{field}: the fallback request (no size applies)"
                )));
            }
        }
        if limit {
            let factor = if field == "cpu" {
                "cpuLimitFactor"
            } else {
                "memoryLimitFactor"
            };
            chain.push(
                self.config(&format!("/spec/resourcePolicy/{factor}"))
                    .unwrap_or_else(|| {
                        Self::builtin(format!("resourcePolicy.{factor} (the model's default)"))
                    }),
            );
        }
        chain
    }
}

fn step(kind: &'static str, src: &SourceRef, span: Span, pointer: &str) -> Step {
    let (line, col) = src.line_col(span.start);
    let detail: Vec<String> = pointer
        .split('/')
        .skip(1)
        .map(|k| k.replace("~1", "/").replace("~0", "~"))
        .collect();
    Step {
        kind,
        at: Some(format!("{}:{line}:{col}", src.name)),
        detail: detail.join("."),
        loc: Some(Loc(src.clone(), span)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_context_paths_from_tags() {
        assert_eq!(
            expressions("    cpu: {{ service.compute.requests.cpu }}"),
            vec!["service.compute.requests.cpu"]
        );
        assert_eq!(
            expressions(r#"  x: {{ "a" if "@" in service.image else service.name | lower }}"#),
            vec!["service.image", "service.name"]
        );
        assert!(expressions("  revisionHistoryLimit: 5").is_empty());
        assert_eq!(expressions("  - {{ p.port }}"), vec![String::new()]);
    }

    /// Every unit of every golden fixture renders the same bytes with the
    /// marked blueprints, once the marks are stripped: marks never change
    /// what whitespace control, `trim_blocks` or a filter produces.
    #[test]
    fn marked_blueprints_render_every_fixture_byte_for_byte() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures");
        let mut cases: Vec<_> = std::fs::read_dir(&root)
            .into_iter()
            .flatten()
            .flatten()
            .map(|e| e.path().join("input"))
            .filter(|p| p.is_dir())
            .collect();
        cases.sort();
        assert!(cases.len() >= 5, "the golden fixtures: {cases:?}");
        let mut compared = 0;
        for input in cases {
            let inputs = crate::app::Inputs {
                paths: vec![input.clone()],
                ..Default::default()
            };
            let c = match crate::app::compile(&inputs, true) {
                Ok(c) => c,
                Err(e) => panic!("{}: {}", input.display(), e.0),
            };
            let units = c
                .units()
                .unwrap_or_else(|| panic!("{}: errors", input.display()));
            let (Some(p), Some(b)) = (&c.platform, &c.blueprints) else {
                panic!("{}: no platform", input.display())
            };
            let marked = b.instrumented(true);
            let units2 = Units::new(p, &c.services, &c.instances, &marked, &c.select());
            for u in &units.list {
                let (want, _) = units.render(*u);
                let (got, d) = units2.render(*u);
                let paths = |f: &[crate::emit::OutFile]| -> Vec<String> {
                    f.iter().map(|f| f.path.clone()).collect()
                };
                assert_eq!(
                    paths(&got),
                    paths(&want),
                    "{}: {u:?}: {d:?}",
                    input.display()
                );
                for (g, w) in got.iter().zip(&want) {
                    let first = g
                        .content
                        .lines()
                        .zip(w.content.lines())
                        .find(|(a, b)| a != b);
                    assert!(
                        g.content == w.content,
                        "{}: {}: first differing line (marked, plain): {first:?}",
                        input.display(),
                        w.path
                    );
                }
                compared += want.len();
            }
        }
        assert!(compared > 100, "only {compared} files compared");
    }

    #[test]
    fn camel_case() {
        assert_eq!(camel("target_cpu_utilization"), "targetCpuUtilization");
        assert_eq!(camel("image"), "image");
    }

    #[test]
    fn leaves_in_order() {
        let v = serde_json::json!({"a": {"b": [1, {"c": "x"}]}, "d.e": true});
        let l: Vec<String> = leaves(&v).into_iter().map(|(p, _, _)| p).collect();
        assert_eq!(l, ["a.b[0]", "a.b[1].c", "d.e"]);
        assert_eq!(leaves(&v)[1].1, "/a/b/1/c");
    }
}
