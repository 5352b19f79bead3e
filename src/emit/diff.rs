//! Semantic diff of two renders, resource by resource.
//!
//! Input is two sets of files (a folder read from disk, or a plan rendered in
//! memory); output is a [`Report`] and its three renderings (text, markdown,
//! JSON). A resource is identified by apiVersion, kind, namespace and name,
//! never by the file it is in, so moving a file is not a change. Each side is
//! compared in a canonical form (keys sorted at every level, emitted by
//! `yaml_emit`), so reordering keys is not a change either; the diff shown is
//! the diff of those canonical forms.
//!
//! Values of `Secret` data and values that look like credentials (the set
//! `credentials::in_object` finds, which `render` refuses) are replaced
//! before anything is compared for display: the report still names the keys
//! that changed, but never their values, unless the caller asks for them.
//!
//! Architecture invariant: pure; no disk, no clock, no terminal.

use crate::codes;
use crate::credentials;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;

use serde_json::{Map, Value as Json};
use similar::TextDiff;

use super::risk::Risk;
use super::OutFile;
use crate::diag::Diagnostic;
use crate::load::{self, Documents};
use crate::source::Source;

/// How a diff is computed and shown.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Options {
    /// Show the values of secrets and credential-looking fields.
    pub show_secrets: bool,
    /// Lines of context around each change.
    pub context: usize,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            show_secrets: false,
            context: 3,
        }
    }
}

/// What identifies a resource: the environment (each is its own cluster, so
/// the same Namespace in staging and production are two resources), then
/// apiVersion, kind, namespace and name; plus an occurrence number, so two
/// copies of the same object in one environment are both kept and compared in order.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) struct Key {
    pub environment: String,
    pub api_version: String,
    pub kind: String,
    pub namespace: String,
    pub name: String,
    pub occurrence: usize,
}

impl Key {
    /// `apps/v1 Deployment orders/orders`, or `v1 Namespace orders` when cluster-wide.
    pub(crate) fn display(&self) -> String {
        let mut s = format!("{} {} ", self.api_version, self.kind);
        if !self.namespace.is_empty() {
            s.push_str(&self.namespace);
            s.push('/');
        }
        s.push_str(&self.name);
        if self.occurrence > 0 {
            let _ = write!(s, " (copy {})", self.occurrence + 1);
        }
        s
    }
}

/// One document of one side.
#[derive(Debug, Clone)]
pub(crate) struct Resource {
    pub key: Key,
    /// The file it came from, relative to its tree.
    pub path: String,
    /// Where a reviewer looks for it: the environment and service it belongs to.
    pub environment: String,
    pub service: String,
    pub value: Json,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum ChangeKind {
    Added,
    Removed,
    Changed,
}

impl ChangeKind {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            ChangeKind::Added => "added",
            ChangeKind::Removed => "removed",
            ChangeKind::Changed => "changed",
        }
    }

    fn sigil(self) -> char {
        match self {
            ChangeKind::Added => '+',
            ChangeKind::Removed => '-',
            ChangeKind::Changed => '~',
        }
    }
}

/// One resource that differs between the two sides.
#[derive(Debug, Clone)]
pub(crate) struct Change {
    pub kind: ChangeKind,
    pub key: Key,
    pub environment: String,
    pub service: String,
    pub old_path: Option<String>,
    pub new_path: Option<String>,
    /// The fields that differ, as paths (`spec.replicas`); for an added or
    /// removed resource, empty.
    pub fields: Vec<String>,
    /// Hunks of the unified diff of the canonical (and redacted) forms.
    pub diff: String,
    /// How many values were hidden.
    pub redacted: usize,
    /// For a resource renamed (`pair_renames`): the name it had on the old
    /// side; `key` is the new one.
    pub renamed_from: Option<String>,
}

#[derive(Debug, Clone, Default)]
pub(crate) struct Report {
    /// Sorted by environment, service, then key.
    pub changes: Vec<Change>,
    pub unchanged: usize,
    /// Resources found under another path but otherwise identical.
    pub moved: usize,
    /// The risky changes (`risk::classify`), shown first in every format.
    pub risks: Vec<Risk>,
    /// Images that move into an environment where another one ran them
    /// on the old side (`promotions`), grouped per release.
    pub promotions: Vec<Promotion>,
}

/// One release promoted: an image that an environment runs on the new side
/// and did not on the old, which other environments ran on the old side.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Promotion {
    pub image: String,
    /// The environments that ran it on the old side.
    pub from: Vec<String>,
    pub to: String,
    /// The services that run it in `to` now and did not before.
    pub services: Vec<String>,
}

impl Promotion {
    /// `promotes `IMAGE` from staging to production: 3 services`.
    pub(crate) fn line(&self) -> String {
        format!(
            "promotes `{}` from {} to {}: {} service{}",
            self.image,
            self.from.join(", "),
            self.to,
            self.services.len(),
            if self.services.len() == 1 { "" } else { "s" }
        )
    }
}

/// The container images of a resource (`containers` and `initContainers`
/// anywhere in it).
fn images(v: &Json, out: &mut BTreeSet<String>) {
    match v {
        Json::Object(m) => {
            for (k, v) in m {
                if k == "containers" || k == "initContainers" {
                    for c in v.as_array().into_iter().flatten() {
                        if let Some(i) = c.get("image").and_then(Json::as_str) {
                            out.insert(i.to_string());
                        }
                    }
                } else {
                    images(v, out);
                }
            }
        }
        Json::Array(items) => items.iter().for_each(|i| images(i, out)),
        _ => {}
    }
}

/// The promotions between two sides: per service and environment, each image
/// it runs on the new side and did not on the old, when another environment
/// ran that image on the old side. Grouped by image, source environments and
/// target, in that order.
pub(crate) fn promotions(old: &[Resource], new: &[Resource]) -> Vec<Promotion> {
    // (environment, service) → images; environment → images, on the old side.
    let by_unit = |side: &[Resource]| {
        let mut m: BTreeMap<(String, String), BTreeSet<String>> = BTreeMap::new();
        for r in side {
            images(
                &r.value,
                m.entry((r.environment.clone(), r.service.clone()))
                    .or_default(),
            );
        }
        m
    };
    let (before, after) = (by_unit(old), by_unit(new));
    let mut ran: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
    for ((env, _), imgs) in &before {
        for i in imgs {
            ran.entry(i.as_str()).or_default().insert(env.as_str());
        }
    }
    let mut groups: BTreeMap<(String, Vec<String>, String), BTreeSet<String>> = BTreeMap::new();
    for ((env, service), imgs) in &after {
        let had = before.get(&(env.clone(), service.clone()));
        for i in imgs {
            if had.is_some_and(|h| h.contains(i)) {
                continue;
            }
            let from: Vec<String> = ran
                .get(i.as_str())
                .into_iter()
                .flatten()
                .filter(|e| *e != env)
                .map(|e| e.to_string())
                .collect();
            if from.is_empty() || env.is_empty() {
                continue;
            }
            groups
                .entry((i.clone(), from, env.clone()))
                .or_default()
                .insert(service.clone());
        }
    }
    groups
        .into_iter()
        .map(|((image, from, to), services)| Promotion {
            image,
            from,
            to,
            services: services.into_iter().collect(),
        })
        .collect()
}

impl Report {
    pub(crate) fn is_empty(&self) -> bool {
        self.changes.is_empty()
    }

    pub(crate) fn count(&self, kind: ChangeKind) -> usize {
        self.changes.iter().filter(|c| c.kind == kind).count()
    }
}

/// Parses every document of every file. `kustomization.yaml` documents are
/// build instructions, not resources (and list file names, so they change when
/// a file moves): they are left out. `side` names where the files are (the
/// folder as given, or the Git revision) so that a finding says which side
/// of the comparison it is about.
pub(crate) fn parse(files: &[OutFile], side: &str) -> (Vec<Resource>, Vec<Diagnostic>) {
    let mut out = Vec::new();
    let mut diags = Vec::new();
    let mut seen: BTreeMap<(String, String, String, String, String), usize> = BTreeMap::new();
    let mut files: Vec<&OutFile> = files.iter().collect();
    files.sort_by(|a, b| a.path.cmp(&b.path));
    for f in files {
        let shown = if side.is_empty() {
            f.path.clone()
        } else {
            format!("{}/{}", side.trim_end_matches('/'), f.path)
        };
        // A generated template file (the portal's scaffolder skeleton) is
        // text, not YAML: compared as one value, its lines, keyed by path.
        if f.content.starts_with(super::header::TEMPLATE_MARK) {
            let (environment, service) = group_of(&Json::Null, &f.path);
            out.push(Resource {
                key: Key {
                    environment: environment.clone(),
                    api_version: String::new(),
                    kind: "TemplateFile".to_string(),
                    namespace: String::new(),
                    name: f.path.clone(),
                    occurrence: 0,
                },
                path: f.path.clone(),
                environment,
                service,
                value: Json::from(f.content.lines().collect::<Vec<_>>()),
            });
            continue;
        }
        let src = Source::virtual_file(&shown, f.content.clone());
        let (nodes, d) = load::parse(&src, Documents::Many);
        if !d.is_empty() {
            diags.extend(d.into_iter().map(|d| Diagnostic {
                code: codes::DIFF_INVALID_YAML,
                message: format!("cannot compare `{shown}`: {}", d.message),
                help: Some("only YAML manifests can be compared; fix or remove the file".into()),
                ..d
            }));
            continue;
        }
        for (i, node) in nodes.iter().enumerate() {
            let value = node.to_json();
            if value.is_null() || is_kustomization(&value) {
                continue;
            }
            let text = |v: Option<&Json>| v.and_then(Json::as_str).unwrap_or("").to_string();
            let meta = value.get("metadata");
            let api_version = text(value.get("apiVersion"));
            let kind = text(value.get("kind"));
            let namespace = text(meta.and_then(|m| m.get("namespace")));
            let mut name = text(meta.and_then(|m| m.get("name")));
            if name.is_empty() {
                // Not a Kubernetes object: its place is all that identifies it.
                name = format!("{}#{}", f.path, i + 1);
            }
            let (environment, service) = group_of(&value, &f.path);
            let n = seen
                .entry((
                    environment.clone(),
                    api_version.clone(),
                    kind.clone(),
                    namespace.clone(),
                    name.clone(),
                ))
                .or_insert(0);
            let key = Key {
                environment: environment.clone(),
                api_version,
                kind,
                namespace,
                name,
                occurrence: *n,
            };
            *n += 1;
            out.push(Resource {
                key,
                path: f.path.clone(),
                environment,
                service,
                value,
            });
        }
    }
    (out, diags)
}

fn is_kustomization(v: &Json) -> bool {
    v.get("kind").and_then(Json::as_str) == Some("Kustomization")
        && v.get("apiVersion")
            .and_then(Json::as_str)
            .is_some_and(|a| a.starts_with("kustomize.config.k8s.io/"))
}

/// The environment and service a resource belongs to: from the labels Paved
/// puts on every service object, else from Paved's folder layout
/// (`<environment>/<service>/<file>`), which covers platform-wide files too.
fn group_of(v: &Json, path: &str) -> (String, String) {
    let labels = v.pointer("/metadata/labels");
    let label = |k: &str| {
        labels
            .and_then(|l| l.get(k))
            .and_then(Json::as_str)
            .filter(|s| !s.is_empty())
            .map(str::to_string)
    };
    let segs: Vec<&str> = path.split('/').collect();
    let (env_p, svc_p) = match segs.len() {
        0 | 1 => (String::new(), String::new()),
        2 => (segs[0].to_string(), String::new()),
        _ => (segs[0].to_string(), segs[1].to_string()),
    };
    let env = label("paved.dev/environment").unwrap_or(env_p);
    // `paved.dev/service` since selectors moved off the label Argo CD
    // rewrites; renders from before it name the service in the other two.
    let svc = label("paved.dev/service")
        .or_else(|| label("app.kubernetes.io/name"))
        .or_else(|| label("app.kubernetes.io/instance"))
        .filter(|_| {
            labels
                .and_then(|l| l.get("paved.dev/environment"))
                .is_some()
        })
        .unwrap_or(svc_p);
    (env, svc)
}

/// Compares two sides resource by resource.
pub(crate) fn diff(old: &[Resource], new: &[Resource], opts: &Options) -> Report {
    let old_by: BTreeMap<&Key, &Resource> = old.iter().map(|r| (&r.key, r)).collect();
    let new_by: BTreeMap<&Key, &Resource> = new.iter().map(|r| (&r.key, r)).collect();
    let keys: BTreeSet<&Key> = old_by.keys().chain(new_by.keys()).copied().collect();
    let mut report = Report::default();
    for key in keys {
        let (o, n) = (old_by.get(key).copied(), new_by.get(key).copied());
        let mut ov = o.map(|r| sorted(&r.value));
        let mut nv = n.map(|r| sorted(&r.value));
        if let (Some(a), Some(b)) = (&ov, &nv) {
            if a == b {
                report.unchanged += 1;
                if o.map(|r| &r.path) != n.map(|r| &r.path) {
                    report.moved += 1;
                }
                continue;
            }
        }
        let fields = match (&ov, &nv) {
            (Some(a), Some(b)) => {
                let mut f = Vec::new();
                changed_fields(Some(a), Some(b), &mut String::new(), &mut f);
                f
            }
            _ => Vec::new(),
        };
        let redacted = if opts.show_secrets {
            0
        } else {
            redact(ov.as_mut(), nv.as_mut())
        };
        let old_text = ov.as_ref().map(canonical).unwrap_or_default();
        let new_text = nv.as_ref().map(canonical).unwrap_or_default();
        let kind = match (o, n) {
            (None, _) => ChangeKind::Added,
            (_, None) => ChangeKind::Removed,
            _ => ChangeKind::Changed,
        };
        let at = n.or(o).expect("a key comes from one side at least");
        report.changes.push(Change {
            kind,
            key: key.clone(),
            environment: at.environment.clone(),
            service: at.service.clone(),
            old_path: o.map(|r| r.path.clone()),
            new_path: n.map(|r| r.path.clone()),
            fields,
            diff: hunks(&old_text, &new_text, opts.context),
            redacted,
            renamed_from: None,
        });
    }
    report.changes.sort_by(|a, b| {
        (&a.environment, &a.service, &a.key).cmp(&(&b.environment, &b.service, &b.key))
    });
    report
}

/// Shows each renamed resource (`renames`: old key → new key, e.g.
/// `risk::renamed`) as one change of the new key, diffed against the old
/// one, instead of a removal and an unrelated addition.
pub(crate) fn pair_renames(
    report: &mut Report,
    old: &[Resource],
    new: &[Resource],
    renames: &[(Key, Key)],
    opts: &Options,
) {
    for (from, to) in renames {
        let o = old.iter().find(|r| &r.key == from);
        let n = new.iter().find(|r| &r.key == to);
        let removed = report
            .changes
            .iter()
            .position(|c| c.kind == ChangeKind::Removed && &c.key == from);
        let added = report
            .changes
            .iter()
            .position(|c| c.kind == ChangeKind::Added && &c.key == to);
        let (Some(o), Some(n), Some(removed), Some(added)) = (o, n, removed, added) else {
            continue;
        };
        let (mut ov, mut nv) = (sorted(&o.value), sorted(&n.value));
        let mut fields = Vec::new();
        changed_fields(Some(&ov), Some(&nv), &mut String::new(), &mut fields);
        let redacted = if opts.show_secrets {
            0
        } else {
            redact(Some(&mut ov), Some(&mut nv))
        };
        let change = &mut report.changes[added];
        change.kind = ChangeKind::Changed;
        change.old_path = Some(o.path.clone());
        change.fields = fields;
        change.diff = hunks(&canonical(&ov), &canonical(&nv), opts.context);
        change.redacted = redacted;
        change.renamed_from = Some(from.name.clone());
        report.changes.remove(removed);
    }
}

/// The value with every mapping's keys in sorted order.
fn sorted(v: &Json) -> Json {
    match v {
        Json::Object(m) => {
            let mut keys: Vec<&String> = m.keys().collect();
            keys.sort();
            Json::Object(
                keys.into_iter()
                    .map(|k| (k.clone(), sorted(&m[k])))
                    .collect::<Map<String, Json>>(),
            )
        }
        Json::Array(a) => Json::Array(a.iter().map(sorted).collect()),
        other => other.clone(),
    }
}

/// The canonical YAML text of an (already sorted) value.
pub(crate) fn canonical(v: &Json) -> String {
    let mut s = String::new();
    crate::yaml_emit::emit(v, &mut s);
    s
}

/// Unified-diff hunks (no file header: the resource is named by the caller).
fn hunks(old: &str, new: &str, context: usize) -> String {
    let diff = TextDiff::from_lines(old, new);
    let mut out = String::new();
    for hunk in diff.unified_diff().context_radius(context).iter_hunks() {
        let _ = write!(out, "{hunk}");
    }
    out
}

/// A mapping key as a path segment: bare when it reads unambiguously.
fn seg(key: &str) -> String {
    if !key.is_empty()
        && key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
    {
        format!(".{key}")
    } else {
        format!("[{}]", Json::String(key.to_string()))
    }
}

/// Lists with a unique `name` in every item (containers, ports, env) are
/// matched by name, so inserting one item changes one path, not every later index.
fn names(a: &[Json]) -> Option<Vec<&str>> {
    let n: Vec<&str> = a
        .iter()
        .map(|v| v.get("name").and_then(Json::as_str))
        .collect::<Option<_>>()?;
    let set: BTreeSet<&&str> = n.iter().collect();
    (set.len() == n.len()).then_some(n)
}

/// Collects the paths where `a` and `b` differ (leaves, or the highest point
/// where one side has something the other lacks).
fn changed_fields(a: Option<&Json>, b: Option<&Json>, path: &mut String, out: &mut Vec<String>) {
    let here = |p: &String| p.trim_start_matches('.').to_string();
    match (a, b) {
        (Some(Json::Object(x)), Some(Json::Object(y))) => {
            let keys: BTreeSet<&String> = x.keys().chain(y.keys()).collect();
            for k in keys {
                let len = path.len();
                path.push_str(&seg(k));
                changed_fields(x.get(k), y.get(k), path, out);
                path.truncate(len);
            }
        }
        (Some(Json::Array(x)), Some(Json::Array(y))) => {
            if let (Some(nx), Some(ny)) = (names(x), names(y)) {
                let all: BTreeSet<&str> = nx.iter().chain(ny.iter()).copied().collect();
                for n in all {
                    let len = path.len();
                    let _ = write!(path, "[name={n}]");
                    let ix = nx.iter().position(|m| *m == n).map(|i| &x[i]);
                    let iy = ny.iter().position(|m| *m == n).map(|i| &y[i]);
                    changed_fields(ix, iy, path, out);
                    path.truncate(len);
                }
            } else {
                for i in 0..x.len().max(y.len()) {
                    let len = path.len();
                    let _ = write!(path, "[{i}]");
                    changed_fields(x.get(i), y.get(i), path, out);
                    path.truncate(len);
                }
            }
        }
        (x, y) if x == y => {}
        _ => out.push(here(path)),
    }
}

// ---------------------------------------------------------------------------
// Redaction

/// What a hidden value is shown as.
pub(crate) const REDACTED: &str = "<redacted>";
/// What a hidden value that differs from the other side's is shown as.
pub(crate) const REDACTED_CHANGED: &str = "<redacted, changed>";

/// Hides sensitive values on both sides (a value is sensitive when it is on
/// either side), keeping the fact that it changed. Which values are
/// sensitive is `credentials::in_object`'s answer, the set `render` refuses.
/// A text that only holds a credential (`password=…` in a file's text, a
/// `--token=…` argument) keeps its other parts. Returns how many were hidden.
fn redact(old: Option<&mut Json>, new: Option<&mut Json>) -> usize {
    // Pointer → whether only parts of the text are hidden (on every side).
    let mut found: BTreeMap<String, bool> = BTreeMap::new();
    for v in [&old, &new].into_iter().flatten() {
        for f in credentials::in_object(v) {
            found
                .entry(f.pointer)
                .and_modify(|p| *p &= f.partial)
                .or_insert(f.partial);
        }
    }
    let (mut old, mut new) = (old, new);
    for (p, partial) in &found {
        let a = old.as_deref().and_then(|v| v.pointer(p)).cloned();
        let b = new.as_deref().and_then(|v| v.pointer(p)).cloned();
        if *partial {
            if let Some(Json::String(s)) = old.as_deref_mut().and_then(|v| v.pointer_mut(p)) {
                *s = mask(s, None);
            }
            if let Some(Json::String(s)) = new.as_deref_mut().and_then(|v| v.pointer_mut(p)) {
                *s = mask(s, a.as_ref().map(|a| a.as_str().unwrap_or("")));
            }
            continue;
        }
        if let Some(slot) = old.as_deref_mut().and_then(|v| v.pointer_mut(p)) {
            *slot = Json::String(REDACTED.into());
        }
        if let Some(slot) = new.as_deref_mut().and_then(|v| v.pointer_mut(p)) {
            let changed = a.is_some() && a != b;
            *slot = Json::String(if changed { REDACTED_CHANGED } else { REDACTED }.into());
        }
    }
    found.len()
}

/// `text` with each credential in it replaced; one that `old` (the other
/// side's text) does not hold is shown as changed.
fn mask(text: &str, old: Option<&str>) -> String {
    let mut out = String::with_capacity(text.len());
    let mut last = 0;
    for (r, _) in credentials::find_all(text) {
        out.push_str(&text[last..r.start]);
        let changed = old.is_some_and(|o| !o.contains(&text[r.clone()]));
        out.push_str(if changed { REDACTED_CHANGED } else { REDACTED });
        last = r.end;
    }
    out.push_str(&text[last..]);
    out
}

// ---------------------------------------------------------------------------
// Rendering

fn counts_line(r: &Report) -> String {
    let mut s = format!(
        "{} changed, {} added, {} removed; {} unchanged",
        r.count(ChangeKind::Changed),
        r.count(ChangeKind::Added),
        r.count(ChangeKind::Removed),
        r.unchanged
    );
    if r.moved > 0 {
        let _ = write!(s, " ({} moved to another file, not a change)", r.moved);
    }
    s
}

fn unchanged_line(r: &Report) -> String {
    let mut s = format!("{} unchanged", r.unchanged);
    if r.moved > 0 {
        let _ = write!(
            s,
            " ({} moved to another file, which is not a change)",
            r.moved
        );
    }
    s
}

fn group_name(c: &Change) -> String {
    match (c.environment.as_str(), c.service.as_str()) {
        ("", "") => "(ungrouped)".into(),
        (e, "") => e.into(),
        ("", s) => s.into(),
        (e, s) => format!("{e} / {s}"),
    }
}

fn paths_note(c: &Change) -> String {
    match (&c.old_path, &c.new_path) {
        (Some(a), Some(b)) if a != b => format!("{a} → {b}"),
        (_, Some(p)) | (Some(p), None) => p.clone(),
        (None, None) => String::new(),
    }
}

fn redaction_note(c: &Change) -> Option<String> {
    (c.redacted > 0).then(|| {
        format!(
            "{} hidden (secret or credential-like); --show-secrets shows {}",
            if c.redacted == 1 {
                "1 value".to_string()
            } else {
                format!("{} values", c.redacted)
            },
            if c.redacted == 1 { "it" } else { "them" }
        )
    })
}

/// Plain text for a terminal: grouped by environment and service, each
/// resource with its changed fields and diff; coloured when asked.
pub(crate) fn text(r: &Report, color: bool) -> String {
    let paint = |code: &str, s: &str| {
        if color {
            format!("\x1b[{code}m{s}\x1b[0m")
        } else {
            s.to_string()
        }
    };
    let mut out = String::new();
    if r.is_empty() {
        let _ = writeln!(
            out,
            "No changes to rendered resources: {}.",
            unchanged_line(r)
        );
        return out;
    }
    if !r.risks.is_empty() {
        let _ = writeln!(out, "{}", paint("1", &format!("Risks ({})", r.risks.len())));
        for k in &r.risks {
            let head = format!("{:<6} {:<9}", k.severity.as_str(), k.category.as_str());
            let colour = match k.severity {
                super::risk::Severity::High => "31",
                super::risk::Severity::Medium => "33",
                super::risk::Severity::Low => "36",
            };
            let _ = writeln!(
                out,
                "  {}  {}{}: {}",
                paint(colour, &head),
                if k.environment.is_empty() {
                    String::new()
                } else {
                    format!("{} / ", k.environment)
                },
                k.resource,
                k.message
            );
        }
        out.push('\n');
    }
    if !r.promotions.is_empty() {
        let _ = writeln!(
            out,
            "{}",
            paint("1", &format!("Promotions ({})", r.promotions.len()))
        );
        for p in &r.promotions {
            let _ = writeln!(out, "  {}", p.line());
        }
        out.push('\n');
    }
    let mut group = None;
    for c in &r.changes {
        let g = group_name(c);
        if group.as_ref() != Some(&g) {
            if group.is_some() {
                out.push('\n');
            }
            let _ = writeln!(out, "{}", paint("1", &g));
            group = Some(g);
        }
        let head = format!(
            "{} {:<7} {}",
            c.kind.sigil(),
            c.kind.as_str(),
            c.key.display()
        );
        let colour = match c.kind {
            ChangeKind::Added => "32",
            ChangeKind::Removed => "31",
            ChangeKind::Changed => "33",
        };
        let _ = writeln!(out, "  {}  [{}]", paint(colour, &head), paths_note(c));
        if !c.fields.is_empty() {
            let _ = writeln!(out, "      fields: {}", c.fields.join(", "));
        }
        if let Some(n) = redaction_note(c) {
            let _ = writeln!(out, "      {n}");
        }
        for line in c.diff.lines() {
            let shown = match line.as_bytes().first() {
                Some(b'+') => paint("32", line),
                Some(b'-') => paint("31", line),
                Some(b'@') => paint("36", line),
                _ => line.to_string(),
            };
            let _ = writeln!(out, "      {shown}");
        }
    }
    let _ = writeln!(out, "\n{}", counts_line(r));
    out
}

/// The largest markdown report, in bytes: GitHub rejects comments over
/// 65536 characters, and a workflow may add a few lines of its own around it.
pub(crate) const MARKDOWN_LIMIT: usize = 60_000;

/// The first line of the markdown report, so a CI job can find and update
/// its earlier comment instead of adding a new one on every push.
pub(crate) const MARKDOWN_MARKER: &str = "<!-- paved-diff -->";

fn html(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// A code fence longer than any run of backticks in `body`.
fn fence(body: &str) -> String {
    let mut longest = 0;
    let mut run = 0;
    for c in body.chars() {
        if c == '`' {
            run += 1;
            longest = longest.max(run);
        } else {
            run = 0;
        }
    }
    "`".repeat((longest + 1).max(3))
}

fn details(c: &Change, diff: &str) -> String {
    let mut fields = c
        .fields
        .iter()
        .take(3)
        .map(|f| html(f))
        .collect::<Vec<_>>()
        .join(", ");
    if c.fields.len() > 3 {
        let _ = write!(fields, ", … {} more", c.fields.len() - 3);
    }
    let mut s = format!(
        "<details><summary><code>{} {}</code> {}",
        c.kind.sigil(),
        html(&c.key.display()),
        c.kind.as_str()
    );
    if !fields.is_empty() {
        let _ = write!(s, ": {fields}");
    }
    s.push_str("</summary>\n\n");
    let _ = writeln!(s, "`{}`", paths_note(c).replace('`', "'"));
    if let Some(n) = redaction_note(c) {
        let _ = writeln!(s, "\n_{n}_");
    }
    let f = fence(diff);
    let _ = write!(s, "\n{f}diff\n{diff}");
    if !diff.ends_with('\n') {
        s.push('\n');
    }
    let _ = write!(s, "{f}\n\n</details>\n\n");
    s
}

/// Markdown for a pull-request comment: a summary table, then one collapsed
/// `<details>` per resource; never longer than `limit` bytes, with a note
/// naming whatever had to be cut.
pub(crate) fn markdown(r: &Report, limit: usize) -> String {
    let mut out = format!("{MARKDOWN_MARKER}\n### Paved: changes to rendered resources\n\n");
    if r.is_empty() {
        let _ = writeln!(out, "No changes: {}.", unchanged_line(r));
        return out;
    }
    if !r.risks.is_empty() {
        risks_markdown(r, limit, &mut out);
    }
    if !r.promotions.is_empty() {
        let _ = writeln!(out, "**Promotions ({})**\n", r.promotions.len());
        for p in &r.promotions {
            let _ = writeln!(out, "- {}", html(&p.line()));
        }
        out.push('\n');
    }
    let _ = writeln!(out, "{}.\n", counts_line(r));
    out.push_str("| Environment | Service | Changed | Added | Removed |\n|---|---|--:|--:|--:|\n");
    let mut groups: BTreeMap<(&str, &str), [usize; 3]> = BTreeMap::new();
    for c in &r.changes {
        let g = groups
            .entry((c.environment.as_str(), c.service.as_str()))
            .or_default();
        g[match c.kind {
            ChangeKind::Changed => 0,
            ChangeKind::Added => 1,
            ChangeKind::Removed => 2,
        }] += 1;
    }
    // Room kept for the note about what was cut.
    let reserve = 3_000.min(limit / 4);
    let rows = groups.len();
    for (i, ((e, s), n)) in groups.iter().enumerate() {
        let row = format!(
            "| {} | {} | {} | {} | {} |\n",
            html(if e.is_empty() { "—" } else { e }),
            html(if s.is_empty() { "—" } else { s }),
            n[0],
            n[1],
            n[2]
        );
        if out.len() + row.len() + reserve > limit / 2 {
            let _ = writeln!(out, "| … {} more rows | | | | |", rows - i);
            break;
        }
        out.push_str(&row);
    }
    out.push('\n');
    let mut cut: Vec<&Change> = Vec::new();
    let mut shortened = 0;
    for c in &r.changes {
        if !cut.is_empty() {
            // Once one is cut, later ones are too, so what is shown is a prefix
            // of the sorted list and the note's list is easy to follow.
            cut.push(c);
            continue;
        }
        let block = details(c, &c.diff);
        if out.len() + block.len() + reserve <= limit {
            out.push_str(&block);
            continue;
        }
        // Too big for what is left: show the start of its diff if a useful part fits.
        let room = limit.saturating_sub(out.len() + reserve + 600 + c.key.display().len());
        if room < 1_000 {
            cut.push(c);
            continue;
        }
        let mut kept = String::new();
        let total = c.diff.lines().count();
        let mut n = 0;
        for line in c.diff.lines() {
            if kept.len() + line.len() + 1 > room {
                break;
            }
            kept.push_str(line);
            kept.push('\n');
            n += 1;
        }
        let _ = writeln!(kept, "… {} more lines cut to fit the comment", total - n);
        out.push_str(&details(c, &kept));
        shortened += 1;
    }
    if shortened > 0 || !cut.is_empty() {
        let _ = write!(
            out,
            "> [!NOTE]\n> Cut to stay under GitHub's comment size limit: "
        );
        if shortened > 0 {
            let _ = write!(
                out,
                "{} shortened",
                if shortened == 1 {
                    "the diff of 1 resource is".to_string()
                } else {
                    format!("the diffs of {shortened} resources are")
                }
            );
            if !cut.is_empty() {
                out.push_str("; ");
            }
        }
        if !cut.is_empty() {
            let _ = write!(
                out,
                "{} of {} resources are not shown",
                cut.len(),
                r.changes.len()
            );
        }
        out.push_str(". Run `paved diff` locally for the full diff.\n");
        for (i, c) in cut.iter().enumerate() {
            let line = format!(
                "> - `{} {}` ({})\n",
                c.kind.sigil(),
                c.key.display().replace('`', "'"),
                html(&group_name(c))
            );
            if out.len() + line.len() + 40 > limit {
                let _ = writeln!(out, "> - … and {} more", cut.len() - i);
                break;
            }
            out.push_str(&line);
        }
    }
    out
}

/// The risk table of the markdown report, at most a quarter of `limit`.
fn risks_markdown(r: &Report, limit: usize, out: &mut String) {
    let _ = writeln!(out, "#### Risks\n");
    out.push_str(
        "| Severity | Category | Environment | Resource | What |\n|---|---|---|---|---|\n",
    );
    let cell = |s: &str| html(s).replace('|', "\\|").replace('\n', " ");
    let start = out.len();
    for (i, k) in r.risks.iter().enumerate() {
        let row = format!(
            "| {} | {} | {} | `{}` | {} |\n",
            k.severity.as_str(),
            k.category.as_str(),
            cell(if k.environment.is_empty() {
                "—"
            } else {
                &k.environment
            }),
            k.resource.replace('`', "'").replace('|', "\\|"),
            cell(&k.message)
        );
        if out.len() - start + row.len() > limit / 4 {
            let _ = writeln!(out, "| … {} more risks | | | | |", r.risks.len() - i);
            break;
        }
        out.push_str(&row);
    }
    out.push('\n');
}

/// One JSON document: the risks, a summary and every change with its fields and diff.
pub(crate) fn json(r: &Report) -> String {
    let changes: Vec<Json> = r
        .changes
        .iter()
        .map(|c| {
            let mut v = serde_json::json!({
                "change": c.kind.as_str(),
                "apiVersion": c.key.api_version,
                "kind": c.key.kind,
                "namespace": if c.key.namespace.is_empty() { Json::Null } else { Json::from(c.key.namespace.clone()) },
                "name": c.key.name,
                "environment": c.environment,
                "service": c.service,
                "oldPath": c.old_path,
                "newPath": c.new_path,
                "fields": c.fields,
                "redacted": c.redacted,
                "diff": c.diff,
            });
            // Only on a renamed resource: the name it had before.
            if let (Some(from), Some(o)) = (&c.renamed_from, v.as_object_mut()) {
                o.insert("renamedFrom".into(), Json::from(from.clone()));
            }
            v
        })
        .collect();
    let risks: Vec<Json> = r
        .risks
        .iter()
        .map(|k| {
            serde_json::json!({
                "category": k.category.as_str(),
                "severity": k.severity.as_str(),
                "resource": k.resource,
                "environment": k.environment,
                "message": k.message,
            })
        })
        .collect();
    let promotions: Vec<Json> = r
        .promotions
        .iter()
        .map(|p| {
            serde_json::json!({
                "image": p.image,
                "from": p.from,
                "to": p.to,
                "services": p.services,
            })
        })
        .collect();
    let v = serde_json::json!({
        "risks": risks,
        "promotions": promotions,
        "summary": {
            "changed": r.count(ChangeKind::Changed),
            "added": r.count(ChangeKind::Added),
            "removed": r.count(ChangeKind::Removed),
            "unchanged": r.unchanged,
            "moved": r.moved,
        },
        "changes": changes,
    });
    let mut s = serde_json::to_string_pretty(&v).unwrap_or_default();
    s.push('\n');
    s
}

/// Counts the `+`/`-` lines of a diff (for tests and summaries).
#[cfg(test)]
pub(crate) fn line_counts(diff: &str) -> (usize, usize) {
    let plus = diff
        .lines()
        .filter(|l| l.starts_with('+') && !l.starts_with("+++"))
        .count();
    let minus = diff
        .lines()
        .filter(|l| l.starts_with('-') && !l.starts_with("---"))
        .count();
    (plus, minus)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(path: &str, content: &str) -> OutFile {
        OutFile {
            path: path.into(),
            content: content.into(),
        }
    }

    fn run(old: &[OutFile], new: &[OutFile], show: bool) -> Report {
        let (a, d1) = parse(old, "old");
        let (b, d2) = parse(new, "new");
        assert!(d1.is_empty() && d2.is_empty(), "{d1:?} {d2:?}");
        diff(
            &a,
            &b,
            &Options {
                show_secrets: show,
                ..Options::default()
            },
        )
    }

    const DEPLOY: &str = "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: orders\n  namespace: orders\n  labels:\n    paved.dev/environment: staging\n    app.kubernetes.io/instance: orders\nspec:\n  replicas: 2\n  template:\n    spec:\n      containers:\n        - name: orders\n          image: ghcr.io/acme/orders:1.0.0\n";

    #[test]
    fn one_field_changed_is_one_change_with_that_field() {
        let old = [file("staging/orders/deployment-orders.yaml", DEPLOY)];
        let new = [file(
            "staging/orders/deployment-orders.yaml",
            &DEPLOY.replace("replicas: 2", "replicas: 3"),
        )];
        let r = run(&old, &new, false);
        assert_eq!(r.changes.len(), 1);
        let c = &r.changes[0];
        assert_eq!(c.kind, ChangeKind::Changed);
        assert_eq!(c.key.display(), "apps/v1 Deployment orders/orders");
        assert_eq!(
            (c.environment.as_str(), c.service.as_str()),
            ("staging", "orders")
        );
        assert_eq!(c.fields, ["spec.replicas"]);
        assert_eq!(line_counts(&c.diff), (1, 1));
        assert!(
            c.diff.contains("-  replicas: 2\n+  replicas: 3\n"),
            "{}",
            c.diff
        );
    }

    #[test]
    fn moving_a_file_or_reordering_keys_is_not_a_change() {
        let reordered = "kind: Deployment\napiVersion: apps/v1\nspec:\n  template:\n    spec:\n      containers:\n        - image: ghcr.io/acme/orders:1.0.0\n          name: orders\n  replicas: 2\nmetadata:\n  labels:\n    app.kubernetes.io/instance: orders\n    paved.dev/environment: staging\n  namespace: orders\n  name: orders\n";
        let old = [file("staging/orders/deployment-orders.yaml", DEPLOY)];
        let new = [file("elsewhere/all.yaml", &format!("---\n{reordered}"))];
        let r = run(&old, &new, false);
        assert!(r.is_empty(), "{r:?}");
        assert_eq!((r.unchanged, r.moved), (1, 1));
    }

    #[test]
    fn each_environment_is_its_own_cluster() {
        let ns = |env: &str, owner: &str| {
            format!("apiVersion: v1\nkind: Namespace\nmetadata:\n  name: orders\n  labels: {{paved.dev/environment: {env}, owner: {owner}}}\n")
        };
        let old = [
            file("staging/orders/namespace-orders.yaml", &ns("staging", "a")),
            file(
                "production/orders/namespace-orders.yaml",
                &ns("production", "a"),
            ),
        ];
        // Production's file moves and changes; staging's moves only.
        let new = [
            file("a/namespace-orders.yaml", &ns("production", "b")),
            file("z/namespace-orders.yaml", &ns("staging", "a")),
        ];
        let r = run(&old, &new, false);
        assert_eq!(r.changes.len(), 1, "{r:?}");
        assert_eq!(r.changes[0].environment, "production");
        assert_eq!(r.changes[0].fields, ["metadata.labels.owner"]);
        assert_eq!((r.unchanged, r.moved), (1, 1));
    }

    #[test]
    fn added_removed_and_kustomizations_left_out() {
        let kust = "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources: [a.yaml]\n";
        let svc = "apiVersion: v1\nkind: Service\nmetadata: {name: orders, namespace: orders}\n";
        let old = [
            file("staging/orders/service-orders.yaml", svc),
            file("staging/orders/kustomization.yaml", kust),
        ];
        let new = [
            file("staging/orders/deployment-orders.yaml", DEPLOY),
            file(
                "staging/orders/kustomization.yaml",
                &kust.replace("a.yaml", "b.yaml"),
            ),
        ];
        let r = run(&old, &new, false);
        let kinds: Vec<_> = r
            .changes
            .iter()
            .map(|c| (c.kind, c.key.kind.as_str()))
            .collect();
        assert_eq!(
            kinds,
            [
                (ChangeKind::Added, "Deployment"),
                (ChangeKind::Removed, "Service")
            ]
        );
        assert!(
            r.changes[0].diff.starts_with("@@ -0,0 +1,"),
            "{}",
            r.changes[0].diff
        );
    }

    #[test]
    fn named_list_items_are_matched_by_name() {
        let new = DEPLOY.replace(
            "        - name: orders\n",
            "        - name: proxy\n          image: envoy:1\n        - name: orders\n",
        );
        let r = run(&[file("a.yaml", DEPLOY)], &[file("a.yaml", &new)], false);
        assert_eq!(
            r.changes[0].fields,
            ["spec.template.spec.containers[name=proxy]"]
        );
    }

    #[test]
    fn label_keys_with_dots_are_quoted_in_paths() {
        let new = DEPLOY.replace(
            "app.kubernetes.io/instance: orders",
            "app.kubernetes.io/instance: x",
        );
        let r = run(&[file("a.yaml", DEPLOY)], &[file("a.yaml", &new)], false);
        assert_eq!(
            r.changes[0].fields,
            ["metadata.labels[\"app.kubernetes.io/instance\"]"]
        );
    }

    const SECRET: &str = "apiVersion: v1\nkind: Secret\nmetadata: {name: db, namespace: orders}\ndata:\n  password: aHVudGVyMg==\n  user: YWRtaW4=\nstringData:\n  url: postgres://app@db:5432/app\n";

    #[test]
    fn secret_values_are_redacted_but_changed_keys_shown() {
        let new = SECRET.replace("aHVudGVyMg==", "c2VjcmV0Mg==");
        let r = run(&[file("s.yaml", SECRET)], &[file("s.yaml", &new)], false);
        let c = &r.changes[0];
        assert_eq!(c.fields, ["data.password"]);
        assert!(
            !c.diff.contains("aHVudGVyMg") && !c.diff.contains("c2VjcmV0Mg"),
            "{}",
            c.diff
        );
        assert!(!c.diff.contains("YWRtaW4"), "{}", c.diff);
        assert!(
            c.diff.contains(&format!("-  password: {REDACTED}\n")),
            "{}",
            c.diff
        );
        assert!(
            c.diff
                .contains(&format!("+  password: {REDACTED_CHANGED}\n")),
            "{}",
            c.diff
        );
        assert_eq!(c.redacted, 3);
        let shown = run(&[file("s.yaml", SECRET)], &[file("s.yaml", &new)], true);
        assert!(shown.changes[0]
            .diff
            .contains("+  password: c2VjcmV0Mg==\n"));
        assert_eq!(shown.changes[0].redacted, 0);
    }

    #[test]
    fn an_added_secret_shows_keys_only() {
        let r = run(&[], &[file("s.yaml", SECRET)], false);
        let d = &r.changes[0].diff;
        assert!(
            d.contains("+  password: <redacted>\n") && d.contains("+  user: <redacted>\n"),
            "{d}"
        );
        assert!(!d.contains("aHVudGVyMg"));
    }

    #[test]
    fn credential_looking_values_are_redacted_anywhere() {
        let cm = |v: &str| {
            format!("apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: c}}\ndata:\n  LOG_LEVEL: info\n  DB_PASSWORD: {v}\n  cert: \"-----BEGIN PRIVATE KEY-----\\nabc\"\n  aws: AKIAIOSFODNN7EXAMPLE\n  url: \"https://u:p4ss@example.com/x\"\n")
        };
        let r = run(
            &[file("c.yaml", &cm("one"))],
            &[file("c.yaml", &cm("two"))],
            false,
        );
        let d = &r.changes[0].diff;
        for leaked in ["one", "two", "BEGIN", "AKIA", "p4ss"] {
            assert!(!d.contains(leaked), "{leaked} in {d}");
        }
        let env = DEPLOY.replace(
            "          image: ghcr.io/acme/orders:1.0.0\n",
            "          image: ghcr.io/acme/orders:1.0.0\n          env:\n            - name: API_TOKEN\n              value: tok-123\n            - name: LOG_LEVEL\n              value: info\n",
        );
        let r = run(&[], &[file("a.yaml", &env)], false);
        assert!(!r.changes[0].diff.contains("tok-123"));
        assert!(r.changes[0].diff.contains("value: info"));
    }

    #[test]
    fn the_cases_redaction_used_to_miss_are_hidden() {
        let pat = "ghp_0123456789abcdefghijABCDEFGHIJ012345";
        let aiza = "AIzaSyA0123456789abcdefghijklmnopqrstuv";
        let applied = r#"{"apiVersion":"v1","kind":"Secret","metadata":{"name":"db"},"data":{"password":"aHVudGVyMg=="}}"#;
        let tree = |v: &str| {
            format!(
                "apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\n  namespace: orders\n  annotations:\n    kubectl.kubernetes.io/last-applied-configuration: '{applied}'\n---\napiVersion: v1\nkind: List\nitems:\n  - apiVersion: v1\n    kind: Secret\n    metadata: {{name: nested, namespace: orders}}\n    stringData: {{token: nested-{v}}}\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: {{name: app, namespace: orders}}\ndata:\n  application.properties: |\n    server.port=8080\n    spring.datasource.password=pw-{v}\n  maps: \"key={aiza}\"\n---\napiVersion: batch/v1\nkind: Job\nmetadata: {{name: j, namespace: orders}}\nspec:\n  args: [\"--x={pat}\", \"--verbose\"]\n"
            )
        };
        let r = run(
            &[file("a.yaml", &tree("one"))],
            &[file("a.yaml", &tree("two"))],
            false,
        );
        let all: String = r.changes.iter().map(|c| c.diff.clone()).collect();
        for leaked in [
            "aHVudGVyMg",
            "nested-one",
            "nested-two",
            "pw-one",
            "pw-two",
            "AIza",
            "ghp_",
        ] {
            assert!(!all.contains(leaked), "{leaked} in {all}");
        }
        // The rest of a text stays visible; the changed credential says so.
        assert!(all.contains("server.port=8080"), "{all}");
        assert!(
            all.contains(&format!("spring.datasource.password={REDACTED_CHANGED}")),
            "{all}"
        );
        let shown = run(
            &[file("a.yaml", &tree("one"))],
            &[file("a.yaml", &tree("two"))],
            true,
        );
        let all: String = shown.changes.iter().map(|c| c.diff.clone()).collect();
        assert!(
            all.contains("pw-two") && all.contains("nested-two"),
            "{all}"
        );
        let added = run(&[], &[file("a.yaml", &tree("one"))], false);
        let all: String = added.changes.iter().map(|c| c.diff.clone()).collect();
        for leaked in ["aHVudGVyMg", "nested-one", "pw-one", "AIza", "ghp_"] {
            assert!(!all.contains(leaked), "{leaked} in {all}");
        }
        assert!(all.contains(&format!("--x={REDACTED}")), "{all}");
    }

    fn many_changes(n: usize, lines: usize) -> Report {
        let body: String = (0..lines).map(|i| format!("  k{i}: v{i}\n")).collect();
        let mk = |i: usize, v: &str| {
            file(
                &format!("staging/s{i}/configmap-c.yaml"),
                &format!("apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: c{i}, namespace: s{i}}}\ndata:\n{}", body.replace(": v", &format!(": {v}"))),
            )
        };
        let old: Vec<OutFile> = (0..n).map(|i| mk(i, "a")).collect();
        let new: Vec<OutFile> = (0..n).map(|i| mk(i, "b")).collect();
        run(&old, &new, false)
    }

    #[test]
    fn markdown_has_a_table_and_details() {
        let r = many_changes(2, 3);
        let md = markdown(&r, MARKDOWN_LIMIT);
        assert!(md.starts_with(MARKDOWN_MARKER));
        assert!(md.contains("| staging | s0 | 1 | 0 | 0 |"), "{md}");
        assert_eq!(md.matches("<details>").count(), 2);
        assert!(md.contains("```diff\n@@"), "{md}");
        assert!(!md.contains("[!NOTE]"));
    }

    #[test]
    fn markdown_is_capped_with_a_note() {
        let r = many_changes(200, 40);
        let md = markdown(&r, MARKDOWN_LIMIT);
        assert!(md.len() <= MARKDOWN_LIMIT, "{}", md.len());
        assert!(
            md.contains("[!NOTE]\n> Cut to stay under GitHub's comment size limit"),
            "{md}"
        );
        let shown = md.matches("<details>").count();
        assert!(shown > 10 && shown < 200, "{shown}");
        assert!(
            md.contains(&format!("{} of 200 resources are not shown", 200 - shown)),
            "{md}"
        );
        // One huge resource: its diff is shortened, not dropped.
        let r = many_changes(1, 5_000);
        let md = markdown(&r, MARKDOWN_LIMIT);
        assert!(md.len() <= MARKDOWN_LIMIT);
        assert!(md.contains("more lines cut to fit the comment"));
        assert!(md.contains("the diff of 1 resource is shortened"));
    }

    #[test]
    fn fences_outgrow_backticks_in_the_diff() {
        assert_eq!(fence("a ``` b"), "````");
        assert_eq!(fence("plain"), "```");
    }

    #[test]
    fn json_and_text_shapes() {
        let r = many_changes(1, 1);
        let v: Json = serde_json::from_str(&json(&r)).unwrap();
        assert_eq!(v["summary"]["changed"], 1);
        assert_eq!(v["changes"][0]["kind"], "ConfigMap");
        assert_eq!(v["changes"][0]["fields"][0], "data.k0");
        let t = text(&r, false);
        assert!(t.starts_with("staging / s0\n  ~ changed v1 ConfigMap s0/c0  [staging/s0/configmap-c.yaml]\n      fields: data.k0\n"), "{t}");
        assert!(
            t.ends_with("\n1 changed, 0 added, 0 removed; 0 unchanged\n"),
            "{t}"
        );
        assert!(!t.contains('\x1b'));
        assert!(text(&r, true).contains("\x1b[32m+"));
    }

    #[test]
    fn invalid_yaml_is_a_diagnostic() {
        let (_, d) = parse(&[file("bad.yaml", "a: [1\n")], "before/");
        assert_eq!(d[0].code, codes::DIFF_INVALID_YAML);
        // The report names the side the file is on.
        let primary = d[0].primary.as_ref().unwrap();
        assert_eq!(primary.source.name, "before/bad.yaml");
    }
}
