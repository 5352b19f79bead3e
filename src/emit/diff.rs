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
    /// The changed input lines that made this change (`diff --base` only,
    /// on the first change of each group): see [`Cause`].
    pub causes: Vec<Cause>,
}

/// A changed line of an input (`paved.yaml`, a blueprint override, a spec)
/// found in the origin chain of a changed field: what the change is
/// "caused by".
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct Cause {
    /// The input as the work tree names it (`paved.yaml`).
    pub file: String,
    /// 1-based line; at the base revision when `base`.
    pub line: usize,
    /// What the line sets (`spec.sizes.small.cpu`) or, for a blueprint,
    /// its text.
    pub text: String,
    /// The line is one the change removed: its number is the base's.
    pub base: bool,
}

impl Cause {
    /// `paved.yaml:27 (spec.sizes.small.cpu)`.
    fn display(&self) -> String {
        format!(
            "{}:{} ({}){}",
            self.file,
            self.line,
            self.text,
            if self.base {
                ", as it was at the base"
            } else {
                ""
            }
        )
    }

    fn markdown(&self) -> String {
        format!(
            "<code>{}:{}</code> ({}){}",
            html(&self.file),
            self.line,
            html(&self.text),
            if self.base {
                ", as it was at the base"
            } else {
                ""
            }
        )
    }

    fn json(&self) -> Json {
        let mut v = serde_json::json!({"file": self.file, "line": self.line, "text": self.text});
        if let (true, Some(o)) = (self.base, v.as_object_mut()) {
            o.insert("base".into(), Json::Bool(true));
        }
        v
    }
}

/// `caused by a, b` (plain text), or `None` when there is no cause.
fn causes_line(c: &Change) -> Option<String> {
    (!c.causes.is_empty()).then(|| {
        format!(
            "caused by {}",
            c.causes
                .iter()
                .map(Cause::display)
                .collect::<Vec<_>>()
                .join(", ")
        )
    })
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
    /// The monthly cost estimates that changed, per environment and
    /// service; `None` without a price table (docs/cost.md, "In review").
    pub cost: Option<crate::cost::Review>,
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
    /// `to` takes back an image that an environment after it in paved.yaml
    /// `promotion.order` ran: a rollback, not a promotion.
    pub rollback: bool,
}

impl Promotion {
    /// `promotes `IMAGE` from staging to production: 3 services`, or for a
    /// rollback `rolls staging back to `IMAGE`, which production runs: 1 service`.
    pub(crate) fn line(&self) -> String {
        if self.rollback {
            return format!(
                "rolls {} back to `{}`, which {} runs: {} service{}",
                self.to,
                self.image,
                self.from.join(", "),
                self.services.len(),
                if self.services.len() == 1 { "" } else { "s" }
            );
        }
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

/// The environment before `to` in paved.yaml `promotion.order` for one
/// service: the nearest earlier environment of the order that `runs_in`
/// says the service runs in; `None` when `to` is first, or not in the
/// order, or the service runs in no earlier one. `paved promote` checks a
/// promotion against it and `paved diff` names promotions from it.
pub(crate) fn before_in_order<'o>(
    order: &'o [String],
    to: &str,
    runs_in: impl Fn(&str) -> bool,
) -> Option<&'o str> {
    let at = order.iter().position(|o| o == to)?;
    order[..at]
        .iter()
        .rev()
        .map(String::as_str)
        .find(|e| runs_in(e))
}

/// The promotions between two sides. Service S promotes image I into
/// environment B when S ran something in B on the old side (a service new
/// in B promotes nothing), runs I in B on the new side and did not before,
/// and ran I on the old side in the environment before B in `order`
/// (paved.yaml `promotion.order`): the nearest earlier one S ran in on the
/// old side ([`before_in_order`], the rule `paved promote` checks); without
/// an order, or for a B the order does not name, in any other environment
/// of S. With an order, an image S ran only in environments after B is a
/// rollback (`rollback`); one S ran only further back than the environment
/// before B is neither. Grouped by
/// kind, image, source environments and target, in that order.
pub(crate) fn promotions(old: &[Resource], new: &[Resource], order: &[String]) -> Vec<Promotion> {
    // (environment, service) → images, on each side.
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
    // service → image → the environments that ran it, on the old side.
    let mut ran: BTreeMap<&str, BTreeMap<&str, BTreeSet<&str>>> = BTreeMap::new();
    for ((env, service), imgs) in &before {
        for i in imgs {
            ran.entry(service.as_str())
                .or_default()
                .entry(i.as_str())
                .or_default()
                .insert(env.as_str());
        }
    }
    let place = |e: &str| order.iter().position(|o| o == e);
    type GroupKey = (bool, String, Vec<String>, String);
    let mut groups: BTreeMap<GroupKey, BTreeSet<String>> = BTreeMap::new();
    for ((env, service), imgs) in &after {
        if env.is_empty() || service.is_empty() {
            continue;
        }
        let Some(had) = before
            .get(&(env.clone(), service.clone()))
            .filter(|h| !h.is_empty())
        else {
            continue;
        };
        for i in imgs.difference(had) {
            let others: Vec<&str> = ran
                .get(service.as_str())
                .and_then(|m| m.get(i.as_str()))
                .into_iter()
                .flatten()
                .copied()
                .filter(|e| *e != env)
                .collect();
            let (rollback, from): (bool, Vec<&str>) = match place(env) {
                None => (false, others),
                Some(at) => {
                    let previous = before_in_order(order, env, |e| {
                        before
                            .get(&(e.to_string(), service.clone()))
                            .is_some_and(|h| !h.is_empty())
                    });
                    if let Some(p) = previous.filter(|p| others.contains(p)) {
                        (false, vec![p])
                    } else {
                        let later: Vec<&str> = others
                            .into_iter()
                            .filter(|e| place(e).is_some_and(|q| q > at))
                            .collect();
                        (true, later)
                    }
                }
            };
            if from.is_empty() {
                continue;
            }
            groups
                .entry((
                    rollback,
                    i.clone(),
                    from.into_iter().map(str::to_string).collect(),
                    env.clone(),
                ))
                .or_default()
                .insert(service.clone());
        }
    }
    groups
        .into_iter()
        .map(|((rollback, image, from, to), services)| Promotion {
            image,
            from,
            to,
            services: services.into_iter().collect(),
            rollback,
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

/// One document of a file, before it is numbered among its side's copies.
struct Doc {
    id: Identity,
    value: Json,
    /// Numbered among its identity's copies (a template file is keyed by
    /// its path alone).
    numbered: bool,
}

/// What names a document: its environment, apiVersion, kind, namespace and
/// name (a [`Key`] without the occurrence), and the service it belongs to.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct Identity {
    pub environment: String,
    pub api_version: String,
    pub kind: String,
    pub namespace: String,
    pub name: String,
    pub service: String,
}

impl Identity {
    fn of(value: &Json, path: &str, index: usize) -> Identity {
        let text = |v: Option<&Json>| v.and_then(Json::as_str).unwrap_or("").to_string();
        let meta = value.get("metadata");
        let mut name = text(meta.and_then(|m| m.get("name")));
        if name.is_empty() {
            // Not a Kubernetes object: its place is all that identifies it.
            name = format!("{path}#{}", index + 1);
        }
        let (environment, service) = group_of(value, path);
        Identity {
            environment,
            api_version: text(value.get("apiVersion")),
            kind: text(value.get("kind")),
            namespace: text(meta.and_then(|m| m.get("namespace"))),
            name,
            service,
        }
    }

    /// A generated template file (the portal's scaffolder skeleton): text,
    /// not YAML, keyed by its path.
    fn template(path: &str) -> Identity {
        let (environment, service) = group_of(&Json::Null, path);
        Identity {
            environment,
            api_version: String::new(),
            kind: "TemplateFile".to_string(),
            namespace: String::new(),
            name: path.to_string(),
            service,
        }
    }

    fn tuple(&self) -> (&str, &str, &str, &str, &str) {
        (
            &self.environment,
            &self.api_version,
            &self.kind,
            &self.namespace,
            &self.name,
        )
    }
}

/// What the differing files of a comparison name: their documents'
/// identities, and the (environment, service) pairs they belong to. An
/// identical file is needed (parsed) when one of its documents shares an
/// identity or a pair with them, or when its identities are unknown.
#[derive(Debug, Default)]
pub(crate) struct Affected {
    /// Identities as `environment\0apiVersion\0kind\0namespace\0name`.
    tuples: BTreeSet<String>,
    /// Services with a difference, in any environment.
    groups: BTreeSet<String>,
}

impl Affected {
    pub(crate) fn of<'i>(ids: impl IntoIterator<Item = &'i Identity>) -> Affected {
        let mut a = Affected::default();
        for id in ids {
            a.tuples.insert(Affected::tuple_key(id));
            if !id.service.is_empty() {
                a.groups.insert(Affected::group_key(id));
            }
        }
        a
    }

    fn tuple_key(id: &Identity) -> String {
        let (e, v, k, n, m) = id.tuple();
        [e, v, k, n, m].join("\0")
    }

    /// A changed service is read whole in every environment: the risk rules
    /// read its other resources, a promotion the image its other
    /// environments ran.
    fn group_key(id: &Identity) -> String {
        id.service.clone()
    }

    /// Whether an identical file whose documents are `ids` (`None`: the
    /// scan declined it) must be parsed.
    pub(crate) fn needs(&self, ids: Option<&[Identity]>) -> bool {
        let Some(ids) = ids else { return true };
        ids.iter().any(|id| {
            self.tuples.contains(&Affected::tuple_key(id))
                || self.groups.contains(&Affected::group_key(id))
        })
    }
}

/// The resources of one file, or the findings that stop it from being compared.
type Parsed = Result<Vec<Doc>, Vec<Diagnostic>>;

fn parse_file(f: &OutFile, side: &str) -> Parsed {
    // A generated template file (the portal's scaffolder skeleton) is
    // text, not YAML: compared as one value, its lines, keyed by path.
    if f.content.starts_with(super::header::TEMPLATE_MARK) {
        return Ok(vec![Doc {
            id: Identity::template(&f.path),
            value: Json::from(f.content.lines().collect::<Vec<_>>()),
            numbered: false,
        }]);
    }
    let shown = if side.is_empty() {
        f.path.clone()
    } else {
        format!("{}/{}", side.trim_end_matches('/'), f.path)
    };
    let src = Source::virtual_file(&shown, f.content.clone());
    let (nodes, d) = load::parse(&src, Documents::Many);
    if !d.is_empty() {
        return Err(d
            .into_iter()
            .map(|d| Diagnostic {
                code: codes::DIFF_INVALID_YAML,
                message: format!("cannot compare `{shown}`: {}", d.message),
                help: Some("only YAML manifests can be compared; fix or remove the file".into()),
                ..d
            })
            .collect());
    }
    Ok(nodes
        .iter()
        .enumerate()
        .filter_map(|(i, node)| {
            let value = node.to_json();
            if value.is_null() || is_kustomization(&value) {
                return None;
            }
            Some(Doc {
                id: Identity::of(&value, &f.path, i),
                value,
                numbered: true,
            })
        })
        .collect())
}

/// Numbers the documents of one side (files in path order) into resources:
/// the n-th copy of an identity gets occurrence n.
fn number<'f>(files: impl Iterator<Item = (&'f OutFile, Vec<Doc>)>) -> Vec<Resource> {
    let mut out = Vec::new();
    let mut seen: BTreeMap<(String, String, String, String, String), usize> = BTreeMap::new();
    for (f, docs) in files {
        for Doc {
            id,
            value,
            numbered,
        } in docs
        {
            let mut occurrence = 0;
            if numbered {
                let n = seen
                    .entry((
                        id.environment.clone(),
                        id.api_version.clone(),
                        id.kind.clone(),
                        id.namespace.clone(),
                        id.name.clone(),
                    ))
                    .or_insert(0);
                occurrence = *n;
                *n += 1;
            }
            let key = Key {
                environment: id.environment.clone(),
                api_version: id.api_version,
                kind: id.kind,
                namespace: id.namespace,
                name: id.name,
                occurrence,
            };
            out.push(Resource {
                key,
                path: f.path.clone(),
                environment: id.environment,
                service: id.service,
                value,
            });
        }
    }
    out
}

/// The two sides of a comparison, as far as it needed to read them.
#[derive(Debug, Default)]
pub(crate) struct Sides {
    /// The resources of the files that were parsed, numbered as in a
    /// [`parse`] of every file.
    pub old: Vec<Resource>,
    pub new: Vec<Resource>,
    /// Resources of identical files that were not parsed: unchanged.
    pub unchanged: usize,
    /// The paths of the files that were parsed (both sides).
    pub parsed: BTreeSet<String>,
}

/// Both sides, reading only what can differ. A file with the same bytes at
/// the same path on both sides holds the same resources on both: it is
/// counted as unchanged from a cheap scan of its documents' names
/// ([`identities`]), and parsed only when the comparison needs its values:
/// a document of it has the identity of a document in a file that differs
/// (a copy or a move, so occurrences are numbered as in a full parse), or
/// belongs to a service with a differing resource, in any environment (so
/// the risk rules see every resource of a service that changed, and a
/// promotion sees the environment the image came from), or its text holds
/// an image that a differing resource runs (so a promotion sees another
/// service that ran the image), or the scan declines its text. Every other
/// file is parsed. An identical file is not
/// checked as YAML (it is not a change).
///
/// `risk::classify` and [`diff`] given `old` and `new` find what they would
/// find given a [`parse`] of every file; the report's `unchanged` count is
/// short by `unchanged`.
pub(crate) fn compare(
    old: &[OutFile],
    new: &[OutFile],
    old_side: &str,
    new_side: &str,
) -> (Sides, Vec<Diagnostic>) {
    use rayon::prelude::*;
    let mut old: Vec<&OutFile> = old.iter().collect();
    let mut new: Vec<&OutFile> = new.iter().collect();
    old.sort_by(|a, b| a.path.cmp(&b.path));
    new.sort_by(|a, b| a.path.cmp(&b.path));
    let new_by: std::collections::HashMap<&str, &OutFile> =
        new.iter().map(|f| (f.path.as_str(), *f)).collect();
    let same = |f: &OutFile| {
        new_by
            .get(f.path.as_str())
            .is_some_and(|n| n.content == f.content)
    };
    let identical: BTreeSet<&str> = old
        .iter()
        .filter(|f| same(f))
        .map(|f| f.path.as_str())
        .collect();
    // Identical files: their documents' identities, or None (parse it).
    let scanned: Vec<(&OutFile, Option<Vec<Identity>>)> = new
        .par_iter()
        .filter(|f| identical.contains(f.path.as_str()))
        .map(|f| (*f, identities(f)))
        .collect();
    let differs = |f: &&&OutFile| !identical.contains(f.path.as_str());
    let parse_all = |files: &[&OutFile], side: &str| -> Vec<Parsed> {
        files.par_iter().map(|f| parse_file(f, side)).collect()
    };
    let old_differing: Vec<&OutFile> = old.iter().filter(differs).copied().collect();
    let new_differing: Vec<&OutFile> = new.iter().filter(differs).copied().collect();
    let old_parsed = parse_all(&old_differing, old_side);
    let new_parsed = parse_all(&new_differing, new_side);
    // What the differing files name: identities, and environments and services.
    let affected = Affected::of(
        old_parsed
            .iter()
            .chain(&new_parsed)
            .flatten()
            .flatten()
            .map(|doc| &doc.id),
    );
    // The images the differing resources run: an unchanged file that runs
    // one is read too (a promotion looks for where the image ran before).
    let mut run: BTreeSet<String> = BTreeSet::new();
    for doc in old_parsed.iter().chain(&new_parsed).flatten().flatten() {
        images(&doc.value, &mut run);
    }
    let mut sides = Sides::default();
    let mut wanted: BTreeSet<&str> = BTreeSet::new();
    for (f, ids) in &scanned {
        let needed =
            affected.needs(ids.as_deref()) || run.iter().any(|i| f.content.contains(i.as_str()));
        if needed {
            wanted.insert(f.path.as_str());
        } else if let Some(ids) = ids {
            sides.unchanged += ids.len();
        }
    }
    let old_wanted: Vec<&OutFile> = old
        .iter()
        .filter(|f| wanted.contains(f.path.as_str()))
        .copied()
        .collect();
    let new_wanted: Vec<&OutFile> = new
        .iter()
        .filter(|f| wanted.contains(f.path.as_str()))
        .copied()
        .collect();
    let old_extra = parse_all(&old_wanted, old_side);
    let new_extra = parse_all(&new_wanted, new_side);
    let mut diags = Vec::new();
    let mut side = |files: Vec<(&OutFile, Parsed)>| {
        let mut files = files;
        files.sort_by(|a, b| a.0.path.cmp(&b.0.path));
        let mut docs = Vec::with_capacity(files.len());
        for (f, r) in files {
            sides.parsed.insert(f.path.clone());
            match r {
                Ok(d) => docs.push((f, d)),
                Err(d) => diags.extend(d),
            }
        }
        number(docs.into_iter())
    };
    sides.old = side(
        old_differing
            .into_iter()
            .zip(old_parsed)
            .chain(old_wanted.into_iter().zip(old_extra))
            .collect(),
    );
    sides.new = side(
        new_differing
            .into_iter()
            .zip(new_parsed)
            .chain(new_wanted.into_iter().zip(new_extra))
            .collect(),
    );
    (sides, diags)
}

/// The identities of a file's documents, read without parsing it, or
/// `None` when its text is not of the plain shape this scan reads: block
/// mappings, `apiVersion`, `kind` and `metadata` at the top, `name`,
/// `namespace` and `labels` in `metadata`, each value a plain or simply
/// quoted scalar on its line (the shape Paved writes). The caller parses
/// what it declines, so it declines whatever it is not sure of.
pub(crate) fn identities(f: &OutFile) -> Option<Vec<Identity>> {
    if f.content.starts_with(super::header::TEMPLATE_MARK) {
        return Some(vec![Identity::template(&f.path)]);
    }
    let text = f.content.as_str();
    if text.contains(['\r', '\u{feff}']) {
        return None;
    }
    let mut out = Vec::new();
    let mut doc = ScanDoc::default();
    for line in text.split('\n') {
        if line.trim_end_matches(' ') == "---" {
            doc.finish(&f.path, &mut out)?;
            doc = ScanDoc::default();
            continue;
        }
        if line.starts_with("...") || line.starts_with('%') || line.starts_with("---") {
            return None;
        }
        doc.line(line)?;
    }
    doc.finish(&f.path, &mut out)?;
    Some(out)
}

/// Where the scan of one document is.
#[derive(Default)]
struct ScanDoc {
    content: bool,
    /// The top-level key being read, and the `metadata` child.
    top: String,
    meta_child: String,
    /// Indentation of `metadata`'s keys and of `labels`' keys, once seen.
    meta_indent: Option<usize>,
    labels_indent: Option<usize>,
    /// A scalar just read at this indentation: a deeper line would continue it.
    scalar_at: Option<usize>,
    api_version: Option<String>,
    kind: Option<String>,
    name: Option<String>,
    namespace: Option<String>,
    labels: Map<String, Json>,
    seen_meta: bool,
}

/// A plain key followed by `:`, and the rest of the line trimmed.
fn key_value(line: &str) -> Option<(&str, &str)> {
    let (key, rest) = line.split_once(':')?;
    let plain = !key.is_empty()
        && key
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'/' | b'-'))
        && !key.starts_with('-');
    if !plain || !(rest.is_empty() || rest.starts_with(' ')) {
        return None;
    }
    Some((key, rest.trim_matches(' ')))
}

/// A scalar on one line that reads as a string for certain.
fn string_scalar(v: &str) -> Option<String> {
    let quoted = |q: char| {
        v.strip_prefix(q)
            .and_then(|r| r.strip_suffix(q))
            .filter(|inner| !inner.contains([q, '\\']))
    };
    if v.len() >= 2 {
        if let Some(inner) = quoted('"').or_else(|| quoted('\'')) {
            return Some(inner.to_string());
        }
    }
    let plain = !v.is_empty()
        && v.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'/' | b'-'))
        && !v.starts_with('-');
    if !plain {
        return None;
    }
    match load::plain_scalar_json(v) {
        Json::String(s) => Some(s),
        _ => None,
    }
}

impl ScanDoc {
    fn line(&mut self, line: &str) -> Option<()> {
        let body = line.trim_start_matches(' ');
        if body.is_empty() || body.starts_with('#') {
            return Some(());
        }
        let indent = line.len() - body.len();
        if let Some(at) = self.scalar_at.take() {
            if indent > at {
                return None;
            }
        }
        let item = body == "-" || body.starts_with("- ");
        if indent == 0 {
            if item && self.content && self.top != "metadata" {
                // A compact sequence, the value of the top-level key above.
                return Some(());
            }
            self.content = true;
            let (key, value) = key_value(line)?;
            self.meta_child.clear();
            self.top = key.to_string();
            match key {
                "apiVersion" | "kind" => {
                    let slot = if key == "kind" {
                        &mut self.kind
                    } else {
                        &mut self.api_version
                    };
                    if slot.is_some() {
                        return None;
                    }
                    *slot = Some(string_scalar(value)?);
                    self.scalar_at = Some(0);
                }
                "metadata" => {
                    if self.seen_meta || !(value.is_empty() || value == "{}") {
                        return None;
                    }
                    self.seen_meta = true;
                    if value == "{}" {
                        self.meta_indent = Some(usize::MAX);
                    }
                }
                _ => {}
            }
            return Some(());
        }
        if !self.content {
            return None;
        }
        if self.top != "metadata" {
            return Some(());
        }
        let meta = *self.meta_indent.get_or_insert(indent);
        if indent < meta {
            return None;
        }
        if indent == meta {
            if item
                && !matches!(
                    self.meta_child.as_str(),
                    "" | "name" | "namespace" | "labels"
                )
            {
                return Some(());
            }
            let (key, value) = key_value(body)?;
            self.meta_child = key.to_string();
            match key {
                "name" | "namespace" => {
                    let slot = if key == "name" {
                        &mut self.name
                    } else {
                        &mut self.namespace
                    };
                    if slot.is_some() {
                        return None;
                    }
                    *slot = Some(string_scalar(value)?);
                    self.scalar_at = Some(indent);
                }
                "labels" => {
                    if self.labels_indent.is_some() || !(value.is_empty() || value == "{}") {
                        return None;
                    }
                    if value == "{}" {
                        self.labels_indent = Some(usize::MAX);
                    }
                }
                _ => {}
            }
            return Some(());
        }
        if self.meta_child != "labels" {
            return Some(());
        }
        let labels = *self.labels_indent.get_or_insert(indent);
        if indent < labels {
            return None;
        }
        if indent == labels {
            let (key, value) = key_value(body)?;
            if self.labels.contains_key(key) {
                return None;
            }
            if matches!(
                key,
                "paved.dev/environment"
                    | "paved.dev/service"
                    | "app.kubernetes.io/name"
                    | "app.kubernetes.io/instance"
            ) {
                self.labels
                    .insert(key.to_string(), Json::String(string_scalar(value)?));
                self.scalar_at = Some(indent);
            } else {
                self.labels.insert(key.to_string(), Json::Null);
            }
        }
        Some(())
    }

    fn finish(&mut self, path: &str, out: &mut Vec<Identity>) -> Option<()> {
        if !self.content {
            return Some(());
        }
        let api_version = self.api_version.take().unwrap_or_default();
        let kind = self.kind.take().unwrap_or_default();
        if kind == "Kustomization" && api_version.starts_with("kustomize.config.k8s.io/") {
            return Some(());
        }
        // Without a name, a document is named by its place in the file,
        // which only a parse knows.
        let name = self.name.take().filter(|n| !n.is_empty())?;
        let labels: Map<String, Json> = std::mem::take(&mut self.labels)
            .into_iter()
            .filter(|(_, v)| v.is_string())
            .collect();
        let value = serde_json::json!({ "metadata": { "labels": labels } });
        let (environment, service) = group_of(&value, path);
        out.push(Identity {
            environment,
            api_version,
            kind,
            namespace: self.namespace.take().unwrap_or_default(),
            name,
            service,
        });
        Some(())
    }
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
            causes: Vec::new(),
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
// Grouping

/// Changes that make the same edit to several resources (a blueprint or
/// `paved.yaml` change repeats one hunk on every object it touches): shown
/// once, with the resources it applies to.
#[derive(Debug, Clone)]
pub(crate) struct Group {
    /// Indices into `Report::changes`, in its order; the first one's diff is
    /// the one shown.
    pub members: Vec<usize>,
}

/// What makes two changes the same edit: their kind, the field paths (a
/// list item's name left out: each service's container is named after it),
/// how many values were hidden and the `-`/`+` lines of the canonical diff.
/// Context lines and hunk positions are left out, so the same label added to
/// two Deployments with different images is one edit.
type Signature<'a> = (ChangeKind, Vec<String>, usize, Vec<&'a str>);

fn signature(c: &Change) -> Signature<'_> {
    let lines = c
        .diff
        .lines()
        .filter(|l| l.starts_with('+') || l.starts_with('-'))
        .collect();
    let fields = c.fields.iter().map(|f| unnamed(f)).collect();
    (c.kind, fields, c.redacted, lines)
}

/// `a[name=orders].b` → `a[name=].b`.
fn unnamed(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    let mut rest = path;
    while let Some(at) = rest.find("[name=") {
        out.push_str(&rest[..at + "[name=".len()]);
        rest = &rest[at + "[name=".len()..];
        match rest.find(']') {
            Some(end) => rest = &rest[end..],
            None => break,
        }
    }
    out.push_str(rest);
    out
}

/// The distinct edits of a report, each with every resource it applies to:
/// the largest first, then in the order of the report (so the same report
/// always gives the same order). Every change is in exactly one group.
pub(crate) fn groups(r: &Report) -> Vec<Group> {
    let mut index: BTreeMap<Signature<'_>, usize> = BTreeMap::new();
    let mut out: Vec<Group> = Vec::new();
    for (i, c) in r.changes.iter().enumerate() {
        let slot = *index.entry(signature(c)).or_insert_with(|| {
            out.push(Group {
                members: Vec::new(),
            });
            out.len() - 1
        });
        out[slot].members.push(i);
    }
    out.sort_by(|a, b| {
        b.members
            .len()
            .cmp(&a.members.len())
            .then(a.members[0].cmp(&b.members[0]))
    });
    out
}

/// `1,412`.
fn thousands(n: usize) -> String {
    let digits = n.to_string();
    let mut s = String::new();
    for (i, ch) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            s.push(',');
        }
        s.push(ch);
    }
    s
}

fn counted(n: usize, word: &str) -> String {
    format!("{} {word}{}", thousands(n), if n == 1 { "" } else { "s" })
}

/// `applies to 2,000 resources (Deployment in 1,000 namespaces × 2 environments)`.
fn applies_to(r: &Report, g: &Group) -> String {
    let mut kinds = BTreeSet::new();
    let mut namespaces = BTreeSet::new();
    let mut environments = BTreeSet::new();
    for &i in &g.members {
        let c = &r.changes[i];
        kinds.insert(c.key.kind.as_str());
        if !c.key.namespace.is_empty() {
            namespaces.insert(c.key.namespace.as_str());
        }
        if !c.environment.is_empty() {
            environments.insert(c.environment.as_str());
        }
    }
    let mut scope = kinds.into_iter().collect::<Vec<_>>().join(", ");
    let mut places = Vec::new();
    if !namespaces.is_empty() {
        places.push(counted(namespaces.len(), "namespace"));
    }
    if !environments.is_empty() {
        places.push(counted(environments.len(), "environment"));
    }
    if !places.is_empty() {
        let _ = write!(scope, " in {}", places.join(" × "));
    }
    format!(
        "applies to {} ({scope})",
        counted(g.members.len(), "resource")
    )
}

/// How many resources of a group the text lists before counting the rest.
const TEXT_MEMBERS: usize = 20;
/// The same, in the markdown comment.
const MARKDOWN_MEMBERS: usize = 10;

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
    // Every name, value and message comes from the input: shown escaped.
    let e = |s: &str| shown(s).into_owned();
    let mut out = String::new();
    if r.is_empty() {
        let _ = writeln!(
            out,
            "No changes to rendered resources: {}.",
            unchanged_line(r)
        );
        cost_text(r, &mut out);
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
                    format!("{} / ", e(&k.environment))
                },
                e(&k.resource),
                e(&k.message)
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
            let _ = writeln!(out, "  {}", e(&p.line()));
        }
        out.push('\n');
    }
    let colour_of = |k: ChangeKind| match k {
        ChangeKind::Added => "32",
        ChangeKind::Removed => "31",
        ChangeKind::Changed => "33",
    };
    let diff_lines = |out: &mut String, diff: &str| {
        for line in diff.lines() {
            let line = &e(line);
            let shown = match line.as_bytes().first() {
                Some(b'+') => paint("32", line),
                Some(b'-') => paint("31", line),
                Some(b'@') => paint("36", line),
                _ => line.to_string(),
            };
            let _ = writeln!(out, "      {shown}");
        }
    };
    let all = groups(r);
    // The edits shared by several resources first, each shown once.
    for g in all.iter().filter(|g| g.members.len() > 1) {
        let c = &r.changes[g.members[0]];
        let head = format!(
            "{} {:<7} {}",
            c.kind.sigil(),
            c.kind.as_str(),
            e(&applies_to(r, g))
        );
        let _ = writeln!(out, "{}", paint(colour_of(c.kind), &head));
        if let Some(line) = causes_line(c) {
            let _ = writeln!(out, "      {}", paint("1", &line));
        }
        if !c.fields.is_empty() {
            let _ = writeln!(out, "      fields: {}", e(&c.fields.join(", ")));
        }
        for &i in g.members.iter().take(TEXT_MEMBERS) {
            let m = &r.changes[i];
            let _ = writeln!(
                out,
                "      {}: {}  [{}]",
                e(&group_name(m)),
                e(&m.key.display()),
                e(&paths_note(m))
            );
        }
        if g.members.len() > TEXT_MEMBERS {
            let _ = writeln!(
                out,
                "      … and {} more (`--format json` lists them all)",
                thousands(g.members.len() - TEXT_MEMBERS)
            );
        }
        if let Some(n) = redaction_note(c) {
            let _ = writeln!(out, "      {n}");
        }
        diff_lines(&mut out, &c.diff);
        out.push('\n');
    }
    // Then each resource whose edit is its own, by environment and service.
    let mut single: Vec<usize> = all
        .iter()
        .filter(|g| g.members.len() == 1)
        .map(|g| g.members[0])
        .collect();
    single.sort_unstable();
    let mut group = None;
    for c in single.iter().map(|&i| &r.changes[i]) {
        let g = e(&group_name(c));
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
            e(&c.key.display())
        );
        let _ = writeln!(
            out,
            "  {}  [{}]",
            paint(colour_of(c.kind), &head),
            e(&paths_note(c))
        );
        if let Some(line) = causes_line(c) {
            let _ = writeln!(out, "      {}", paint("1", &line));
        }
        if !c.fields.is_empty() {
            let _ = writeln!(out, "      fields: {}", e(&c.fields.join(", ")));
        }
        if let Some(n) = redaction_note(c) {
            let _ = writeln!(out, "      {n}");
        }
        diff_lines(&mut out, &c.diff);
    }
    if group.is_none() && out.ends_with("\n\n") {
        out.pop();
    }
    let _ = writeln!(out, "\n{}", counts_line(r));
    cost_text(r, &mut out);
    out
}

/// A range as shown: `36.50`, or `36.50–91.25`; `—` for none.
fn cost_range(r: Option<crate::cost::Range>) -> String {
    let Some(r) = r else { return "—".into() };
    let (min, max) = (crate::cost::money(r.min), crate::cost::money(r.max));
    if min == max {
        min
    } else {
        format!("{min}–{max}")
    }
}

/// A change as shown: `+3.38`, `-60.00`, or `+58.95 to +294.74`.
fn cost_change(r: crate::cost::Range) -> String {
    let (min, max) = (crate::cost::signed(r.min), crate::cost::signed(r.max));
    if min == max {
        min
    } else {
        format!("{min} to {max}")
    }
}

/// The cost rows as cells: name (environment / service), old, new, change;
/// the total last.
fn cost_cells(c: &crate::cost::Review) -> Vec<[String; 5]> {
    let mut rows: Vec<[String; 5]> = c
        .changes
        .iter()
        .map(|d| {
            [
                d.environment.clone(),
                d.service.clone(),
                cost_range(d.old),
                cost_range(d.new),
                cost_change(d.change()),
            ]
        })
        .collect();
    let (o, n, ch) = c.total();
    rows.push([
        "total".into(),
        String::new(),
        cost_range(Some(o)),
        cost_range(Some(n)),
        cost_change(ch),
    ]);
    rows
}

/// The line that says what the figures are.
fn cost_preamble(c: &crate::cost::Review) -> String {
    format!(
        "Monthly cost estimate in {} ({} × {} h; an estimate, not a bill: docs/cost.md)",
        c.currency,
        c.basis,
        crate::cost::HOURS_PER_MONTH
    )
}

/// The text's cost section: each changed estimate, old → new and the
/// change, and the total of those rows; nothing when no estimate changed
/// or there is no price table.
fn cost_text(r: &Report, out: &mut String) {
    let Some(c) = r.cost.as_ref().filter(|c| !c.changes.is_empty()) else {
        return;
    };
    let e = |s: &str| shown(s).into_owned();
    let rows: Vec<[String; 4]> = cost_cells(c)
        .into_iter()
        .map(|[env, svc, o, n, ch]| {
            let name = if svc.is_empty() {
                env
            } else {
                format!("{} / {}", e(&env), e(&svc))
            };
            [name, o, n, ch]
        })
        .collect();
    let width = |i: usize| rows.iter().map(|r| r[i].chars().count()).max().unwrap_or(0);
    let (w0, w1, w2) = (width(0), width(1), width(2));
    let _ = writeln!(out, "\n{}", e(&cost_preamble(c)));
    for [name, o, n, ch] in &rows {
        let pad = |s: &str, w: usize| " ".repeat(w - s.chars().count());
        let _ = writeln!(
            out,
            "  {name}{}  {}{o} → {n}{}  {ch}",
            pad(name, w0),
            pad(o, w1),
            pad(n, w2)
        );
    }
}

/// The largest markdown report, in bytes: GitHub rejects comments over
/// 65536 characters, and a workflow may add a few lines of its own around it.
pub(crate) const MARKDOWN_LIMIT: usize = 60_000;

/// The first line of the markdown report, so a CI job can find and update
/// its earlier comment instead of adding a new one on every push.
pub(crate) const MARKDOWN_MARKER: &str = "<!-- paved-diff -->";

/// Text from the input as it is shown: control characters (terminal
/// escapes, line breaks that would start a workflow command) and bidi
/// controls as Rust escapes, the one rule diagnostics use.
fn shown(s: &str) -> std::borrow::Cow<'_, str> {
    crate::diag::escape(s)
}

/// The markdown of one comment, every line with its control characters
/// escaped ([`shown`]): names, values and diff bodies all come from the input.
fn escape_lines(md: &str) -> String {
    let mut out = String::with_capacity(md.len());
    for line in md.split_inclusive('\n') {
        let (body, end) = match line.strip_suffix('\n') {
            Some(b) => (b, "\n"),
            None => (line, ""),
        };
        out.push_str(&shown(body));
        out.push_str(end);
    }
    out
}

/// The share of the comment the promotions list may take.
const PROMOTIONS_SHARE: usize = 8;

/// The last resort of the size bound: `md` cut at a line boundary so that,
/// with any open code fence and `<details>` closed and a note saying so, it
/// is at most `limit` bytes.
fn fit(md: String, limit: usize) -> String {
    if md.len() <= limit {
        return md;
    }
    let note = "\n> [!NOTE]\n> Cut at this line to stay under GitHub's comment size limit; \
                run `paved diff --format text` locally or see the job log.\n";
    let mut room = limit.saturating_sub(note.len());
    loop {
        let cut = md[..room.min(md.len())].rfind('\n').map_or(0, |i| i + 1);
        let kept = &md[..cut];
        let mut fence: Option<&str> = None;
        let mut open = 0usize;
        for line in kept.lines() {
            match fence {
                Some(f) if line.trim_end() == f => fence = None,
                Some(_) => {}
                None => {
                    let ticks = line.len() - line.trim_start_matches('`').len();
                    if ticks >= 3 {
                        fence = Some(&line[..ticks]);
                    } else {
                        open += line.matches("<details>").count();
                        open = open.saturating_sub(line.matches("</details>").count());
                    }
                }
            }
        }
        let mut closers = String::new();
        if let Some(f) = fence {
            let _ = writeln!(closers, "{f}");
        }
        for _ in 0..open {
            closers.push_str("\n</details>\n");
        }
        if cut + closers.len() + note.len() <= limit || cut == 0 {
            let mut out = String::with_capacity(limit);
            out.push_str(kept);
            out.push_str(&closers);
            if out.len() + note.len() <= limit {
                out.push_str(note);
            }
            return out;
        }
        room = cut.saturating_sub(closers.len() + 1);
    }
}

/// Input text in a markdown code span: escaped ([`shown`]), backticks made quotes.
fn code(s: &str) -> String {
    shown(s).replace('`', "'")
}

/// Input text in markdown: escaped ([`shown`]) and HTML-quoted.
fn html(s: &str) -> String {
    shown(s)
        .replace('&', "&amp;")
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

/// The first three changed fields of a `<summary>`, and how many more.
fn summary_fields(c: &Change) -> String {
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
    fields
}

fn details(c: &Change, diff: &str) -> String {
    let fields = summary_fields(c);
    let mut s = format!(
        "<details><summary><code>{} {}</code> {}",
        c.kind.sigil(),
        html(&c.key.display()),
        c.kind.as_str()
    );
    if !fields.is_empty() {
        let _ = write!(s, ": {fields}");
    }
    s.push_str(&causes_summary(c));
    s.push_str("</summary>\n\n");
    let _ = writeln!(s, "`{}`", code(&paths_note(c)));
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
        if let Some((shown, all)) = cost_markdown(r, limit, &mut out) {
            let _ = writeln!(
                out,
                "> [!NOTE]\n> Cut to stay under GitHub's comment size limit: the cost table \
                 shows {} of {} rows; run `paved diff --format text` locally or see the job log.",
                thousands(shown),
                thousands(all)
            );
        }
        return fit(escape_lines(&out), limit);
    }
    if !r.risks.is_empty() {
        risks_markdown(r, limit, &mut out);
    }
    let mut promotions_cut = 0;
    if !r.promotions.is_empty() {
        let _ = writeln!(out, "**Promotions ({})**\n", r.promotions.len());
        let start = out.len();
        for (i, p) in r.promotions.iter().enumerate() {
            let item = format!("- {}\n", html(&p.line()).replace('\n', " "));
            if out.len() - start + item.len() > limit / PROMOTIONS_SHARE {
                promotions_cut = r.promotions.len() - i;
                let _ = writeln!(
                    out,
                    "- … and {} (`paved diff --format json` lists them all)",
                    counted(promotions_cut, "more promotion")
                );
                break;
            }
            out.push_str(&item);
        }
        out.push('\n');
    }
    let _ = writeln!(out, "{}.\n", counts_line(r));
    out.push_str("| Environment | Service | Changed | Added | Removed |\n|---|---|--:|--:|--:|\n");
    let mut per_service: BTreeMap<(&str, &str), [usize; 3]> = BTreeMap::new();
    for c in &r.changes {
        let g = per_service
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
    let rows = per_service.len();
    for (i, ((e, s), n)) in per_service.iter().enumerate() {
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
    let cost_cut = cost_markdown(r, limit, &mut out);
    // Shared edits first (largest first), then each resource's own edit in
    // the report's order.
    let mut items = groups(r);
    let shared = items.iter().filter(|g| g.members.len() > 1).count();
    items[shared..].sort_by_key(|g| g.members[0]);
    let block = |g: &Group, diff: &str| {
        let c = &r.changes[g.members[0]];
        if g.members.len() == 1 {
            details(c, diff)
        } else {
            group_details(r, g, diff)
        }
    };
    let mut cut: Vec<&Group> = Vec::new();
    let mut shortened = 0;
    for g in &items {
        if !cut.is_empty() {
            // Once one is cut, later ones are too, so what is shown is a prefix
            // of the list and the note's list is easy to follow.
            cut.push(g);
            continue;
        }
        let c = &r.changes[g.members[0]];
        let whole = block(g, &c.diff);
        if out.len() + whole.len() + reserve <= limit {
            out.push_str(&whole);
            continue;
        }
        // Too big for what is left: show the start of its diff if a useful part fits.
        let room = limit.saturating_sub(out.len() + reserve + 200 + block(g, "").len());
        if room < 1_000 {
            cut.push(g);
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
        out.push_str(&block(g, &kept));
        shortened += 1;
    }
    if let (Some((shown, all)), 0, true) = (cost_cut, shortened, cut.is_empty()) {
        let _ = writeln!(
            out,
            "> [!NOTE]\n> Cut to stay under GitHub's comment size limit: the cost table \
             shows {} of {} rows; run `paved diff --format text` locally or see the job log.",
            thousands(shown),
            thousands(all)
        );
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
                    "the diff of 1 change is".to_string()
                } else {
                    format!("the diffs of {shortened} changes are")
                }
            );
            if !cut.is_empty() {
                out.push_str("; ");
            }
        }
        if !cut.is_empty() {
            let resources: usize = cut.iter().map(|g| g.members.len()).sum();
            let _ = write!(
                out,
                "{} not shown ({} of {} resources)",
                if cut.len() == 1 {
                    "1 more group".to_string()
                } else {
                    format!("{} more groups", thousands(cut.len()))
                },
                thousands(resources),
                thousands(r.changes.len())
            );
        }
        out.push_str("; run `paved diff --format text` locally or see the job log.\n");
        if promotions_cut > 0 {
            let _ = writeln!(
                out,
                "> The promotions list shows {} of {}.",
                thousands(r.promotions.len() - promotions_cut),
                thousands(r.promotions.len())
            );
        }
        if let Some((shown, all)) = cost_cut {
            let _ = writeln!(
                out,
                "> The cost table shows {} of {} rows.",
                thousands(shown),
                thousands(all)
            );
        }
        for (i, g) in cut.iter().enumerate() {
            let c = &r.changes[g.members[0]];
            let mut line = format!(
                "> - `{} {}` ({}",
                c.kind.sigil(),
                code(&c.key.display()),
                html(&group_name(c))
            );
            if g.members.len() > 1 {
                let _ = write!(
                    line,
                    ", and {} more like it",
                    thousands(g.members.len() - 1)
                );
            }
            line.push_str(")\n");
            if out.len() + line.len() + 120 > limit {
                let _ = writeln!(
                    out,
                    "> - … and {} (`paved diff --format json` lists every change)",
                    counted(cut.len() - i, if i == 0 { "group" } else { "more group" })
                );
                break;
            }
            out.push_str(&line);
        }
    }
    fit(escape_lines(&out), limit)
}

/// The share of the comment the cost table may take.
const COST_SHARE: usize = 8;

/// The markdown's cost section (see [`cost_text`]), at most `limit /
/// COST_SHARE` bytes, the largest changes first: rows that do not fit are
/// counted in one row, the total always shown. When rows were folded: how many are shown, of how many.
fn cost_markdown(r: &Report, limit: usize, out: &mut String) -> Option<(usize, usize)> {
    let c = r.cost.as_ref().filter(|c| !c.changes.is_empty())?;
    let _ = writeln!(out, "#### Monthly cost ({})\n", html(&c.currency));
    out.push_str("| Environment | Service | Before | After | Change |\n|---|---|--:|--:|--:|\n");
    let start = out.len();
    // The largest changes first (by the size of the change at the maximum,
    // then at the minimum, then by name), so a folded table keeps them.
    let mut sorted = c.clone();
    sorted.changes.sort_by(|a, b| {
        let (ca, cb) = (a.change(), b.change());
        (cb.max.abs(), cb.min.abs())
            .cmp(&(ca.max.abs(), ca.min.abs()))
            .then_with(|| (&a.environment, &a.service).cmp(&(&b.environment, &b.service)))
    });
    let mut cells = cost_cells(&sorted);
    let total = cells.pop().unwrap_or_default();
    let total_row = format!(
        "| **total** | | **{}** | **{}** | **{}** |\n",
        total[2], total[3], total[4]
    );
    let mut folded = None;
    for (i, [env, svc, o, n, ch]) in cells.iter().enumerate() {
        let row = format!(
            "| {} | {} | {o} | {n} | {ch} |\n",
            html(env).replace('|', "\\|"),
            html(svc).replace('|', "\\|")
        );
        if out.len() - start + row.len() + total_row.len() + 80 > limit / COST_SHARE {
            let _ = writeln!(out, "| … {} more rows | | | | |", cells.len() - i);
            folded = Some((i, cells.len()));
            break;
        }
        out.push_str(&row);
    }
    out.push_str(&total_row);
    let _ = writeln!(out, "\n_{}_\n", html(&cost_preamble(c)));
    folded
}

/// ` — caused by <code>paved.yaml:27</code> (…)` for a block's summary, or
/// nothing.
fn causes_summary(c: &Change) -> String {
    if c.causes.is_empty() {
        return String::new();
    }
    format!(
        " — caused by {}",
        c.causes
            .iter()
            .map(Cause::markdown)
            .collect::<Vec<_>>()
            .join(", ")
    )
}

/// A `<details>` block for an edit shared by several resources: what it
/// applies to, the first few of them, and the first one's diff.
fn group_details(r: &Report, g: &Group, diff: &str) -> String {
    let c = &r.changes[g.members[0]];
    let fields = summary_fields(c);
    let mut s = format!(
        "<details><summary><code>{} {}</code> {}",
        c.kind.sigil(),
        html(&c.key.kind),
        c.kind.as_str()
    );
    if !fields.is_empty() {
        let _ = write!(s, ": {fields}");
    }
    let _ = write!(
        s,
        " — <b>{}</b>{}</summary>\n\n",
        html(&applies_to(r, g)),
        causes_summary(c)
    );
    for &i in g.members.iter().take(MARKDOWN_MEMBERS) {
        let m = &r.changes[i];
        let _ = writeln!(
            s,
            "- `{}` ({})",
            code(&m.key.display()),
            html(&group_name(m))
        );
    }
    if g.members.len() > MARKDOWN_MEMBERS {
        let _ = writeln!(
            s,
            "- … and {} more",
            thousands(g.members.len() - MARKDOWN_MEMBERS)
        );
    }
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
            code(&k.resource).replace('|', "\\|"),
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
    let groups: Vec<Json> = groups(r)
        .iter()
        .map(|g| {
            let c = &r.changes[g.members[0]];
            serde_json::json!({
                "change": c.kind.as_str(),
                "fields": c.fields,
                "count": g.members.len(),
                "appliesTo": applies_to(r, g),
                "resources": g.members,
                "causes": c.causes.iter().map(Cause::json).collect::<Vec<_>>(),
                "diff": c.diff,
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
                "rollback": p.rollback,
            })
        })
        .collect();
    let range = |r: Option<crate::cost::Range>| {
        r.map_or(Json::Null, |r| {
            serde_json::json!({"min": crate::cost::money(r.min), "max": crate::cost::money(r.max)})
        })
    };
    let cost = r.cost.as_ref().map_or(Json::Null, |c| {
        let (o, n, ch) = c.total();
        serde_json::json!({
            "currency": c.currency,
            "basis": c.basis,
            "hoursPerMonth": crate::cost::HOURS_PER_MONTH,
            "changes": c.changes.iter().map(|d| serde_json::json!({
                "environment": d.environment,
                "service": d.service,
                "old": range(d.old),
                "new": range(d.new),
                "delta": range(Some(d.change())),
            })).collect::<Vec<_>>(),
            "total": {"old": range(Some(o)), "new": range(Some(n)), "delta": range(Some(ch))},
        })
    });
    let v = serde_json::json!({
        "risks": risks,
        "promotions": promotions,
        "cost": cost,
        "summary": {
            "changed": r.count(ChangeKind::Changed),
            "added": r.count(ChangeKind::Added),
            "removed": r.count(ChangeKind::Removed),
            "unchanged": r.unchanged,
            "moved": r.moved,
        },
        "changes": changes,
        "groups": groups,
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
pub(crate) mod tests {
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

    #[test]
    fn flag_values_in_args_and_slack_webhooks_are_redacted() {
        let with = |pw: &str, hook: &str| {
            DEPLOY.replace(
                "          image: ghcr.io/acme/orders:1.0.0\n",
                &format!("          image: ghcr.io/acme/orders:1.0.0\n          args: [\"--password\", \"{pw}\", \"--auth-token\", \"tok-{pw}\"]\n          command: [\"run\", \"--client-secret\", \"cs-{pw}\"]\n          env:\n            - name: ALERTS\n              value: \"{hook}\"\n"),
            )
        };
        let hook = |k: &str| {
            format!("https://hooks.slack.com/services/T0123ABCD/B0456EFGH/{k}abcdefghijklmnopqrstu")
        };
        let r = run(
            &[file("a.yaml", &with("hunter2", &hook("old")))],
            &[file("a.yaml", &with("correct-horse", &hook("new")))],
            false,
        );
        let all: String = r.changes.iter().map(|c| c.diff.clone()).collect();
        for leaked in ["hunter2", "correct-horse", "hooks.slack.com", "tok-", "cs-"] {
            assert!(!all.contains(leaked), "{leaked} in {all}");
        }
        assert!(all.contains(REDACTED_CHANGED), "{all}");
    }

    fn many_changes(n: usize, lines: usize) -> Report {
        let body: String = (0..lines).map(|i| format!("  k{i}: v{i}\n")).collect();
        let mk = |i: usize, v: &str| {
            file(
                &format!("staging/s{i}/configmap-c.yaml"),
                &format!("apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: c{i}, namespace: s{i}}}\ndata:\n{}", body.replace(": v", &format!(": {v}{i}-"))),
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
            md.contains(&format!(
                "{} more groups not shown ({} of 200 resources); run `paved diff --format text` locally",
                200 - shown,
                200 - shown
            )),
            "{md}"
        );
        // One huge resource: its diff is shortened, not dropped.
        let r = many_changes(1, 5_000);
        let md = markdown(&r, MARKDOWN_LIMIT);
        assert!(md.len() <= MARKDOWN_LIMIT);
        assert!(md.contains("more lines cut to fit the comment"));
        assert!(md.contains("the diff of 1 change is shortened"));
    }

    /// A report with every section over its share: 1,200 promotions, 2,000
    /// risks and 300 distinct groups.
    fn crowded() -> Report {
        let mut r = many_changes(300, 3);
        for i in 0..1_200 {
            r.promotions.push(Promotion {
                image: format!("ghcr.io/acme/service-number-{i:05}:1.{i}.0"),
                from: vec!["staging".into()],
                to: "production".into(),
                services: vec![format!("service-number-{i:05}")],
                rollback: false,
            });
        }
        for i in 0..2_000 {
            r.risks.push(super::super::risk::Risk {
                severity: super::super::risk::Severity::High,
                category: super::super::risk::Category::DataLoss,
                resource: format!("PersistentVolumeClaim/s{i}/data"),
                environment: "production".into(),
                message: "a stateful resource is removed".into(),
            });
        }
        r.cost = Some(cost_review(2_000));
        r
    }

    /// `n` services whose estimate goes from 10 to 10–(20 + i) a month.
    fn cost_review(n: usize) -> crate::cost::Review {
        use rust_decimal::Decimal;
        crate::cost::Review {
            currency: "EUR".into(),
            basis: "requests",
            changes: (0..n)
                .map(|i| crate::cost::Delta {
                    environment: "production".into(),
                    service: format!("service-number-{i:05}"),
                    old: Some(crate::cost::Range::fixed(Decimal::from(10))),
                    new: Some(crate::cost::Range {
                        min: Decimal::from(10),
                        max: Decimal::from(20 + i as i64),
                    }),
                })
                .collect(),
        }
    }

    #[test]
    fn the_cost_section_in_text_markdown_and_json() {
        use crate::cost::{Delta, Range, Review};
        use rust_decimal::Decimal;
        let d = |s: &str| s.parse::<Decimal>().unwrap();
        let mut r = many_changes(1, 1);
        // Without a price table: no section, and `cost: null`.
        assert!(!text(&r, false).contains("Monthly cost"));
        assert!(!markdown(&r, MARKDOWN_LIMIT).contains("Monthly cost"));
        let v: Json = serde_json::from_str(&json(&r)).unwrap();
        assert_eq!(v.get("cost"), Some(&Json::Null));
        r.cost = Some(Review {
            currency: "EUR".into(),
            basis: "requests",
            changes: vec![
                // 2–10 pods of 3.37625 → of 32.85, and a database of 120.
                Delta {
                    environment: "production".into(),
                    service: "inventory".into(),
                    old: Some(Range {
                        min: d("126.7525"),
                        max: d("153.7625"),
                    }),
                    new: Some(Range {
                        min: d("185.7"),
                        max: d("448.5"),
                    }),
                },
                // Removed: its figure goes.
                Delta {
                    environment: "staging".into(),
                    service: "old".into(),
                    old: Some(Range::fixed(d("9.125"))),
                    new: None,
                },
            ],
        });
        let t = text(&r, false);
        assert!(
            t.ends_with(concat!(
                "\nMonthly cost estimate in EUR (requests × 730 h; an estimate, not a bill: docs/cost.md)\n",
                "  production / inventory  126.75–153.76 → 185.70–448.50  +58.95 to +294.74\n",
                "  staging / old                    9.13 → —              -9.13\n",
                "  total                   135.88–162.89 → 185.70–448.50  +49.82 to +285.61\n",
            )),
            "{t}"
        );
        let md = markdown(&r, MARKDOWN_LIMIT);
        assert!(
            md.contains("| staging | old | 9.13 | — | -9.13 |\n"),
            "{md}"
        );
        assert!(
            md.contains(
                "| **total** | | **135.88–162.89** | **185.70–448.50** | **+49.82 to +285.61** |\n"
            ),
            "{md}"
        );
        let v: Json = serde_json::from_str(&json(&r)).unwrap();
        assert_eq!(
            v["cost"],
            serde_json::json!({
                "currency": "EUR", "basis": "requests", "hoursPerMonth": 730,
                "changes": [
                    {"environment": "production", "service": "inventory",
                     "old": {"min": "126.75", "max": "153.76"},
                     "new": {"min": "185.70", "max": "448.50"},
                     "delta": {"min": "58.95", "max": "294.74"}},
                    {"environment": "staging", "service": "old",
                     "old": {"min": "9.13", "max": "9.13"},
                     "new": null,
                     "delta": {"min": "-9.13", "max": "-9.13"}}
                ],
                "total": {
                    "old": {"min": "135.88", "max": "162.89"},
                    "new": {"min": "185.70", "max": "448.50"},
                    "delta": {"min": "49.82", "max": "285.61"}
                }
            })
        );
        // A cost change alone (a new price): no resource changed, the
        // section is still shown.
        let alone = Report {
            cost: r.cost.clone(),
            ..Report::default()
        };
        assert!(
            text(&alone, false).contains("  staging / old"),
            "{}",
            text(&alone, false)
        );
        assert!(markdown(&alone, MARKDOWN_LIMIT).contains("| staging | old |"));
    }

    #[test]
    fn markdown_folds_the_cost_table_to_its_share_even_alone() {
        let r = Report {
            cost: Some(cost_review(5_000)),
            ..Report::default()
        };
        for limit in [MARKDOWN_LIMIT, 20_000, 7_777, 3_001] {
            let md = markdown(&r, limit);
            assert!(md.len() <= limit, "{limit}: {}", md.len());
            assert!(md.contains("| **total** |"), "{limit}: {md}");
            assert!(md.contains("more rows |"), "{limit}: {md}");
            // The note the CI action looks for to print the whole report.
            assert!(
                md.contains(
                    "> Cut to stay under GitHub's comment size limit: the cost table shows"
                ),
                "{limit}: {md}"
            );
            let table =
                &md[md.find("#### Monthly cost").unwrap()..md.find("| **total** |").unwrap()];
            assert!(
                table.len() <= limit / COST_SHARE,
                "{limit}: {}",
                table.len()
            );
        }
    }

    #[test]
    fn a_folded_cost_table_keeps_the_largest_changes() {
        // service i rises by 10 + i at the maximum: the last is the largest.
        let r = Report {
            cost: Some(cost_review(2000)),
            ..Default::default()
        };
        let md = markdown(&r, MARKDOWN_LIMIT);
        assert!(md.contains("more rows | | | | |"), "{md}");
        let rows: Vec<&str> = md
            .lines()
            .filter(|l| l.starts_with("| production | service-number-"))
            .collect();
        assert!(rows.len() > 2, "{md}");
        assert!(rows[0].contains("service-number-01999"), "{rows:?}");
        assert!(rows[1].contains("service-number-01998"), "{rows:?}");
        assert!(!md.contains("service-number-00000"), "{md}");
    }

    #[test]
    fn markdown_caps_promotions_and_every_section_together() {
        let r = crowded();
        for limit in [MARKDOWN_LIMIT, 20_000, 7_777, 3_001] {
            let md = markdown(&r, limit);
            assert!(md.len() <= limit, "{limit}: {}", md.len());
        }
        let md = markdown(&r, MARKDOWN_LIMIT);
        assert!(md.contains("more promotions"), "{md}");
        assert!(md.contains("[!NOTE]"), "{md}");
        // The cost table takes its share and folds the rest, its total kept.
        assert!(md.contains("#### Monthly cost (EUR)"), "{md}");
        assert!(md.contains("| **total** | | **20000.00** |"), "{md}");
        assert!(md.contains("more rows | | | | |"), "{md}");
        assert!(
            md.lines()
                .any(|l| l.starts_with("> The cost table shows ") && l.ends_with(" of 2,000 rows.")),
            "{md}"
        );
        // The note names the cut groups it has room for, not just their count.
        let listed = md.matches("\n> - `~ v1 ConfigMap").count();
        assert!(listed > 0, "{md}");
        assert!(md.contains("or see the job log"), "{md}");
    }

    #[test]
    fn markdown_final_guard_holds_whatever_the_sections() {
        // Diff bodies that grow when escaped (a right-to-left override is 3
        // bytes, `\u{202e}` 8): the sections are measured before escaping.
        let cm = |i: usize, v: &str| {
            file(
                &format!("staging/s{i}/cm.yaml"),
                &format!("apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: c{i}, namespace: s{i}}}\ndata:\n  k: \"{v}{i}\"\n"),
            )
        };
        let rtl = "\u{202e}".repeat(3_000);
        let old: Vec<OutFile> = (0..40).map(|i| cm(i, "a")).collect();
        let new: Vec<OutFile> = (0..40).map(|i| cm(i, &rtl)).collect();
        let r = run(&old, &new, false);
        for limit in [MARKDOWN_LIMIT, 7_777, 3_001] {
            let md = markdown(&r, limit);
            assert!(md.len() <= limit, "{limit}: {}", md.len());
            assert!(md.contains("[!NOTE]"), "{md}");
        }
    }

    /// Names and values with terminal escapes, a line break that would start
    /// a GitHub workflow command, and a right-to-left override.
    fn hostile() -> Report {
        let cm = |name: &str, v: &str| {
            format!("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: \"{name}\"\n  namespace: \"{name}\"\n  labels:\n    paved.dev/environment: \"{name}\"\n    paved.dev/service: \"{name}\"\ndata:\n  k: \"{v}\"\n")
        };
        let names = [
            "evil\\e]0;pwned\\a\\e[2J",
            "x\\n::error title=pwned::boom",
            "rtl\\u202Eexe.txt",
        ];
        let old: Vec<OutFile> = names
            .iter()
            .enumerate()
            .map(|(i, n)| file(&format!("staging/s{i}/cm.yaml"), &cm(n, "a\\u202Eb")))
            .collect();
        let new: Vec<OutFile> = names
            .iter()
            .enumerate()
            .map(|(i, n)| file(&format!("staging/s{i}/cm.yaml"), &cm(n, "c\\u202Ed\\e[31m")))
            .collect();
        let mut r = run(&old, &new, false);
        // And one added alone, so a heading of its own is printed.
        let added = run(&[], &[file("staging/z/cm.yaml", &cm(names[0], "v"))], false);
        r.changes.extend(added.changes);
        r.promotions.push(Promotion {
            image: "ghcr.io/acme/x:1\n::error title=pwned::boom\u{1b}[2J".into(),
            from: vec!["staging\u{202e}".into()],
            to: "production\u{7}".into(),
            services: vec!["x".into()],
            rollback: false,
        });
        r.cost = Some(crate::cost::Review {
            currency: "EUR\u{1b}[2J".into(),
            basis: "requests",
            changes: vec![crate::cost::Delta {
                environment: "staging\u{202e}".into(),
                service: "x\n::error title=pwned::boom\u{7}".into(),
                old: None,
                new: Some(crate::cost::Range::fixed(1.into())),
            }],
        });
        r
    }

    fn assert_inert(out: &str, what: &str) {
        for bad in ['\u{1b}', '\u{7}', '\u{202e}'] {
            assert!(!out.contains(bad), "{what}: {bad:?} in {out}");
        }
        assert!(
            !out.lines().any(|l| l.trim_start().starts_with("::")),
            "{what}: a workflow command line in {out}"
        );
    }

    #[test]
    fn control_characters_in_names_and_values_are_escaped() {
        let r = hostile();
        assert!(r.changes.len() >= 4, "{r:?}");
        assert_inert(&text(&r, false), "text");
        assert_inert(&markdown(&r, MARKDOWN_LIMIT), "markdown");
        let t = text(&r, false);
        assert!(t.contains("\\u{1b}]0;pwned"), "{t}");
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

    /// A Deployment of service `svc` in `env`, with `extra` labels; its image
    /// differs per service, so the context around a label differs too.
    fn deploy_of(env: &str, svc: &str, image: &str, extra: &str) -> OutFile {
        file(
            &format!("{env}/{svc}/deployment-{svc}.yaml"),
            &format!("apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: {svc}\n  namespace: {svc}\n  labels:\n    paved.dev/environment: {env}\n    paved.dev/service: {svc}\n{extra}spec:\n  replicas: 2\n  template:\n    spec:\n      containers:\n        - name: app\n          image: ghcr.io/acme/{image}\n"),
        )
    }

    fn promoted(old: &[OutFile], new: &[OutFile], order: &[&str]) -> Vec<Promotion> {
        let (a, d1) = parse(old, "old");
        let (b, d2) = parse(new, "new");
        assert!(d1.is_empty() && d2.is_empty());
        let order: Vec<String> = order.iter().map(|e| e.to_string()).collect();
        promotions(&a, &b, &order)
    }

    #[test]
    fn a_promotion_is_the_same_services_image_from_another_environment() {
        let old = [
            deploy_of("staging", "orders", "orders:1.1.0", ""),
            deploy_of("production", "orders", "orders:1.0.0", ""),
            deploy_of("production", "billing", "billing:7.0.0", ""),
        ];
        // Production's orders takes staging's image; production's billing
        // switches to orders' image, which no environment of billing ran.
        let new = [
            deploy_of("staging", "orders", "orders:1.1.0", ""),
            deploy_of("production", "orders", "orders:1.1.0", ""),
            deploy_of("production", "billing", "orders:1.1.0", ""),
        ];
        for order in [&[][..], &["staging", "production"][..]] {
            let got = promoted(&old, &new, order);
            assert_eq!(
                got,
                [Promotion {
                    image: "ghcr.io/acme/orders:1.1.0".into(),
                    from: vec!["staging".into()],
                    to: "production".into(),
                    services: vec!["orders".into()],
                    rollback: false,
                }],
                "{order:?}"
            );
        }
    }

    #[test]
    fn a_new_service_is_not_a_promotion() {
        // Orders starts running in production with staging's image: there
        // was nothing in production to promote from.
        let old = [deploy_of("staging", "orders", "orders:1.1.0", "")];
        let new = [
            deploy_of("staging", "orders", "orders:1.1.0", ""),
            deploy_of("production", "orders", "orders:1.1.0", ""),
        ];
        assert_eq!(promoted(&old, &new, &[]), []);
        assert_eq!(promoted(&old, &new, &["staging", "production"]), []);
    }

    #[test]
    fn an_image_moving_against_the_order_is_a_rollback() {
        // Staging goes back to what production runs.
        let old = [
            deploy_of("staging", "orders", "orders:1.1.0", ""),
            deploy_of("production", "orders", "orders:1.0.0", ""),
        ];
        let new = [
            deploy_of("staging", "orders", "orders:1.0.0", ""),
            deploy_of("production", "orders", "orders:1.0.0", ""),
        ];
        let got = promoted(&old, &new, &["staging", "production"]);
        assert_eq!(
            got,
            [Promotion {
                image: "ghcr.io/acme/orders:1.0.0".into(),
                from: vec!["production".into()],
                to: "staging".into(),
                services: vec!["orders".into()],
                rollback: true,
            }]
        );
        assert_eq!(
            got[0].line(),
            "rolls staging back to `ghcr.io/acme/orders:1.0.0`, which production runs: 1 service"
        );
        let r = Report {
            promotions: got,
            ..Report::default()
        };
        assert!(json(&r).contains("\"rollback\": true"), "{}", json(&r));
        // Without an order, any other environment of the service counts.
        assert!(!promoted(&old, &new, &[])[0].rollback);
    }

    #[test]
    fn with_an_order_only_the_environment_before_promotes() {
        // Production takes dev's image, which staging does not run: it
        // skips staging, so it is not a promotion from the order's step.
        let old = [
            deploy_of("dev", "orders", "orders:1.2.0", ""),
            deploy_of("staging", "orders", "orders:1.1.0", ""),
            deploy_of("production", "orders", "orders:1.0.0", ""),
        ];
        let mut new = old.clone();
        new[2] = deploy_of("production", "orders", "orders:1.2.0", "");
        assert_eq!(promoted(&old, &new, &["dev", "staging", "production"]), []);
        // Staging taking dev's image is one.
        let mut new = old.clone();
        new[1] = deploy_of("staging", "orders", "orders:1.2.0", "");
        let got = promoted(&old, &new, &["dev", "staging", "production"]);
        assert_eq!(got.len(), 1);
        assert_eq!(
            (got[0].from.clone(), got[0].to.as_str(), got[0].rollback),
            (vec!["dev".to_string()], "staging", false)
        );
    }

    #[test]
    fn the_environment_before_is_the_nearest_earlier_one_the_service_runs_in() {
        // Orders does not run in staging: for it, the environment before
        // production is dev (the rule `paved promote` checks).
        let order = ["dev", "staging", "production"];
        let old = [
            deploy_of("dev", "orders", "orders:3.0.0", ""),
            deploy_of("production", "orders", "orders:1.0.0", ""),
        ];
        let new = [
            deploy_of("dev", "orders", "orders:3.0.0", ""),
            deploy_of("production", "orders", "orders:3.0.0", ""),
        ];
        assert_eq!(
            promoted(&old, &new, &order),
            [Promotion {
                image: "ghcr.io/acme/orders:3.0.0".into(),
                from: vec!["dev".into()],
                to: "production".into(),
                services: vec!["orders".into()],
                rollback: false,
            }]
        );
        // Dev taking back production's image is a rollback, as before.
        let back = [
            deploy_of("dev", "orders", "orders:1.0.0", ""),
            deploy_of("production", "orders", "orders:1.0.0", ""),
        ];
        let got = promoted(&old, &back, &order);
        assert_eq!(
            (got[0].from.clone(), got[0].to.as_str(), got[0].rollback),
            (vec!["production".to_string()], "dev", true)
        );
        // The shared rule itself.
        let order: Vec<String> = order.iter().map(|e| e.to_string()).collect();
        assert_eq!(
            before_in_order(&order, "production", |e| e != "staging"),
            Some("dev")
        );
        assert_eq!(
            before_in_order(&order, "production", |_| true),
            Some("staging")
        );
        assert_eq!(before_in_order(&order, "dev", |_| true), None);
        assert_eq!(before_in_order(&order, "qa", |_| true), None);
    }

    #[test]
    fn the_same_change_to_two_resources_is_one_group_listing_both() {
        let old = [
            deploy_of("staging", "orders", "orders:1.0.0", ""),
            deploy_of("staging", "billing", "billing:7.3.1", "    tier: gold\n"),
        ];
        let new = [
            deploy_of("staging", "orders", "orders:1.0.0", "    team: core\n"),
            deploy_of(
                "staging",
                "billing",
                "billing:7.3.1",
                "    team: core\n    tier: gold\n",
            ),
        ];
        let r = run(&old, &new, false);
        assert_eq!(r.changes.len(), 2);
        assert_ne!(r.changes[0].diff, r.changes[1].diff, "context differs");
        let t = text(&r, false);
        assert_eq!(t.matches("+    team: core").count(), 1, "{t}");
        assert!(
            t.contains("applies to 2 resources (Deployment in 2 namespaces × 1 environment)"),
            "{t}"
        );
        assert!(
            t.contains("apps/v1 Deployment billing/billing")
                && t.contains("apps/v1 Deployment orders/orders"),
            "{t}"
        );
        let md = markdown(&r, MARKDOWN_LIMIT);
        assert_eq!(md.matches("+    team: core").count(), 1, "{md}");
        assert!(md.contains("applies to 2 resources"), "{md}");
        let v: Json = serde_json::from_str(&json(&r)).unwrap();
        assert_eq!(v["changes"].as_array().map(Vec::len), Some(2));
        let groups = v["groups"].as_array().expect("a groups list");
        assert_eq!(groups.len(), 1, "{v:#}");
        assert_eq!(groups[0]["resources"], serde_json::json!([0, 1]));
        assert_eq!(groups[0]["count"], 2);
        assert_eq!(groups[0]["fields"][0], "metadata.labels.team");
    }

    #[test]
    fn different_changes_are_different_groups() {
        let old = [
            deploy_of("staging", "orders", "orders:1.0.0", ""),
            deploy_of("staging", "billing", "billing:7.3.1", ""),
        ];
        let new = [
            deploy_of("staging", "orders", "orders:1.0.0", "    team: core\n"),
            deploy_of("staging", "billing", "billing:7.3.1", "    team: money\n"),
        ];
        let r = run(&old, &new, false);
        let t = text(&r, false);
        assert!(
            t.contains("+    team: core") && t.contains("+    team: money"),
            "{t}"
        );
        assert!(!t.contains("applies to"), "{t}");
        let v: Json = serde_json::from_str(&json(&r)).unwrap();
        let groups = v["groups"].as_array().expect("a groups list");
        assert_eq!(groups.len(), 2, "{v:#}");
        assert_eq!(groups[0]["resources"], serde_json::json!([0]));
        assert_eq!(groups[1]["resources"], serde_json::json!([1]));
    }

    /// A generated fleet of `n` services in two environments, each rendered
    /// as a Namespace, a Deployment, a Service and a ConfigMap (the shapes
    /// Paved writes), at `version` with the `size` of `paved.yaml`.
    fn fleet(n: usize, version: impl Fn(usize) -> String, cpu: &str) -> Vec<OutFile> {
        let mut out = Vec::new();
        for env in ["production", "staging"] {
            for i in 0..n {
                let svc = format!("svc-{i:05}");
                let labels = format!("  labels:\n    paved.dev/environment: {env}\n    paved.dev/service: {svc}\n    app.kubernetes.io/name: {svc}\n    owner: team-{}\n", i % 8);
                out.push(file(
                    &format!("{env}/{svc}/namespace-{svc}.yaml"),
                    &format!("apiVersion: v1\nkind: Namespace\nmetadata:\n  name: {svc}\n{labels}"),
                ));
                out.push(file(&format!("{env}/{svc}/deployment-{svc}.yaml"), &format!("apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: {svc}\n  namespace: {svc}\n{labels}spec:\n  replicas: {}\n  template:\n    spec:\n      containers:\n        - name: {svc}\n          image: ghcr.io/acme/{svc}:{}\n          resources:\n            requests: {{cpu: {cpu}, memory: 128Mi}}\n            limits: {{cpu: {cpu}, memory: 128Mi}}\n          env:\n            - name: SERVICE_NAME\n              value: {svc}\n            - name: REGION\n              value: \"eu-west-é{i}\"\n", 2 + i % 3, version(i))));
                out.push(file(&format!("{env}/{svc}/service-{svc}.yaml"), &format!("apiVersion: v1\nkind: Service\nmetadata:\n  name: {svc}\n  namespace: {svc}\n{labels}spec:\n  ports:\n    - {{name: http, port: 8080}}\n")));
                out.push(file(&format!("{env}/{svc}/configmap-{svc}.yaml"), &format!("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {svc}\n  namespace: {svc}\n{labels}data:\n  note: \"ünïcödé ✓ {i}\"\n")));
            }
        }
        out
    }

    #[test]
    fn markdown_of_a_1500_service_fleet_stays_under_githubs_limit() {
        const N: usize = 1500;
        let v1 = |i: usize| format!("1.{}.0", i % 50);
        // A platform-wide change: a size's cpu in paved.yaml, on every Deployment.
        let r = run(&fleet(N, v1, "100m"), &fleet(N, v1, "150m"), false);
        assert_eq!(r.changes.len(), 2 * N);
        let md = markdown(&r, MARKDOWN_LIMIT);
        assert!(
            md.chars().count() <= 65_536 && md.len() <= MARKDOWN_LIMIT,
            "{}",
            md.len()
        );
        // The one representative hunk: requests and limits, once each.
        assert_eq!(md.matches("cpu: 150m").count(), 2, "{md}");
        assert!(
            md.contains(
                "applies to 3,000 resources (Deployment in 1,500 namespaces × 2 environments)"
            ),
            "{md}"
        );
        // Every service's image bumped differently: 1,500 distinct edits
        // (each the same in both environments).
        let v2 = |i: usize| format!("2.{i}.0-ü");
        let r = run(&fleet(N, v1, "100m"), &fleet(N, v2, "100m"), false);
        let md = markdown(&r, MARKDOWN_LIMIT);
        assert!(
            md.chars().count() <= 65_536 && md.len() <= MARKDOWN_LIMIT,
            "{}",
            md.len()
        );
        assert!(
            md.contains("more groups not shown (")
                && md.contains(
                    "resources); run `paved diff --format text` locally or see the job log."
                ),
            "{md}"
        );
        // Any smaller limit holds too, and cuts only between characters.
        for limit in [20_000, 7_777, 3_001] {
            let md = markdown(&r, limit);
            assert!(md.len() <= limit, "{limit}: {}", md.len());
        }
    }

    /// Every file of a golden render, read as `paved diff` reads a folder.
    fn golden(case: &str) -> Vec<OutFile> {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("fixtures")
            .join(case)
            .join("expected");
        let mut out = Vec::new();
        for e in walkdir::WalkDir::new(&dir).sort_by_file_name() {
            let e = e.unwrap();
            let name = e.file_name().to_string_lossy();
            if e.file_type().is_file() && (name.ends_with(".yaml") || name.ends_with(".yml")) {
                let rel = e.path().strip_prefix(&dir).unwrap();
                out.push(file(
                    &rel.to_string_lossy(),
                    &std::fs::read_to_string(e.path()).unwrap(),
                ));
            }
        }
        assert!(out.len() > 10, "{case}: {} files", out.len());
        out
    }

    /// The report and risks of a full parse, and of `compare`, in every format.
    fn both_ways(old: &[OutFile], new: &[OutFile]) -> ([String; 3], [String; 3], Sides) {
        let opts = Options::default();
        let shown = |mut r: Report, a: &[Resource], b: &[Resource]| {
            r.risks = super::super::risk::classify(a, b, &Default::default());
            r.promotions = promotions(a, b, &[]);
            [text(&r, false), markdown(&r, MARKDOWN_LIMIT), json(&r)]
        };
        let (a, d1) = parse(old, "old");
        let (b, d2) = parse(new, "new");
        assert!(d1.is_empty() && d2.is_empty());
        let full = shown(diff(&a, &b, &opts), &a, &b);
        let (sides, d) = compare(old, new, "old", "new");
        assert!(d.is_empty());
        let mut r = diff(&sides.old, &sides.new, &opts);
        r.unchanged += sides.unchanged;
        let fast = shown(r, &sides.old, &sides.new);
        (full, fast, sides)
    }

    #[test]
    fn identical_files_are_counted_not_parsed() {
        let other = DEPLOY.replace("orders", "billing");
        let ns = "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: orders\n  labels:\n    paved.dev/environment: staging\n    paved.dev/service: orders\n";
        let old = [
            file("staging/orders/deployment-orders.yaml", DEPLOY),
            file("staging/orders/namespace-orders.yaml", ns),
            file("staging/billing/deployment-billing.yaml", &other),
        ];
        let mut new = old.clone();
        new[0].content = DEPLOY.replace("replicas: 2", "replicas: 3");
        let (sides, d) = compare(&old, &new, "old", "new");
        assert!(d.is_empty());
        // The changed file, and its service's other file (the risk rules
        // see a changed service whole); billing's file only counted.
        assert_eq!(
            sides.parsed.iter().map(String::as_str).collect::<Vec<_>>(),
            [
                "staging/orders/deployment-orders.yaml",
                "staging/orders/namespace-orders.yaml"
            ]
        );
        assert_eq!(sides.unchanged, 1);
        assert_eq!((sides.old.len(), sides.new.len()), (2, 2));
    }

    #[test]
    fn a_copy_in_an_identical_file_is_parsed_to_number_occurrences() {
        // The same object in an identical file (b) and in one that only the
        // new side has (a, sorted first): a full parse makes a's the first
        // copy on the new side, so b's object is "moved" and a second copy added.
        let dup = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: shared\n  namespace: x\ndata:\n  k: v\n";
        let old = [file("b.yaml", dup)];
        let new = [file("a.yaml", dup), file("b.yaml", dup)];
        let (full, fast, sides) = both_ways(&old, &new);
        assert_eq!(full, fast);
        assert!(sides.parsed.contains("b.yaml"));
        assert!(full[0].contains("(copy 2)"), "{}", full[0]);
    }

    #[test]
    fn compare_equals_a_full_parse_on_real_renders() {
        for case in ["commerce", "waivers", "quickstart"] {
            let old = golden(case);
            let mut new = old.clone();
            // An image bump in production (whose Applications sync by hand:
            // a promotion risk that needs the unchanged Application).
            let deploy = new
                .iter_mut()
                .find(|f| f.path.starts_with("production/") && f.path.contains("/deployment-"))
                .unwrap_or_else(|| panic!("{case}: no production Deployment"));
            let at = deploy.content.find("image: ").unwrap();
            let end = at + deploy.content[at..].find('\n').unwrap();
            deploy.content.insert_str(end, "-patched");
            // A moved file, and a copy of an object under another path.
            let moved = new
                .iter()
                .position(|f| f.path.contains("/service-"))
                .unwrap();
            new[moved].path = new[moved].path.replace("/service-", "/moved-service-");
            let copy = new
                .iter()
                .find(|f| f.path.contains("/namespace-"))
                .unwrap()
                .clone();
            new.push(file(
                &copy.path.replace("/namespace-", "/copy-namespace-"),
                &copy.content,
            ));
            let (full, fast, sides) = both_ways(&old, &new);
            for (a, b) in full.iter().zip(&fast) {
                similar_asserts(a, b, case);
            }
            assert!(full[2].contains("\"promotion\""), "{case}: {}", full[2]);
            assert!(
                full[2].contains("\"moved\": 1") || full[0].contains("moved"),
                "{case}"
            );
            assert!(
                sides.parsed.len() < old.len(),
                "{case}: parsed {} of {} files",
                sides.parsed.len(),
                old.len()
            );
        }
    }

    #[test]
    fn another_services_image_is_not_a_promotion_either_way() {
        // Staging's inventory runs a shared image on both sides (its file is
        // identical); production's checkout switches to it. Checkout never
        // ran it: not a promotion, in a full parse or the fast comparison.
        let shared = "ghcr.io/acme/shared-worker:4.0.0";
        let set_image = |files: &mut [OutFile], path: &str| {
            let f = files.iter_mut().find(|f| f.path == path).unwrap();
            let at = f.content.find("image: ").unwrap() + "image: ".len();
            let end = at + f.content[at..].find('\n').unwrap();
            f.content.replace_range(at..end, shared);
        };
        let mut old = golden("commerce");
        set_image(&mut old, "staging/inventory/deployment-inventory.yaml");
        let mut new = old.clone();
        set_image(&mut new, "production/checkout/deployment-checkout.yaml");
        let (full, fast, sides) = both_ways(&old, &new);
        assert!(!full[0].contains("promotes `"), "{}", full[0]);
        assert!(full[2].contains("\"promotions\": []"), "{}", full[2]);
        for (a, b) in full.iter().zip(&fast) {
            similar_asserts(a, b, "commerce");
        }
        assert!(sides
            .parsed
            .contains("staging/inventory/deployment-inventory.yaml"));
        assert!(sides.parsed.len() < old.len());
    }

    fn similar_asserts(a: &str, b: &str, case: &str) {
        if a != b {
            let d = TextDiff::from_lines(a, b);
            panic!("{case}: fast comparison differs:\n{}", d.unified_diff());
        }
    }

    #[test]
    fn the_scan_reads_every_golden_file_as_a_parse_does() {
        let mut read = 0;
        for case in [
            "commerce",
            "cronjob",
            "grafana-operator",
            "quickstart",
            "secrets-and-placeholders",
            "storefront",
            "waivers",
            "worker",
        ] {
            for f in golden(case) {
                let parsed: Vec<Identity> = parse_file(&f, "")
                    .unwrap()
                    .into_iter()
                    .map(|d| d.id)
                    .collect();
                let scanned = identities(&f)
                    .unwrap_or_else(|| panic!("{case}: the scan declines {}", f.path));
                assert_eq!(scanned, parsed, "{case}: {}", f.path);
                read += 1;
            }
        }
        assert!(read > 500, "{read}");
    }

    #[test]
    fn the_scan_declines_what_it_cannot_read_for_certain() {
        let head = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n";
        for tail in [
            "  name: \"a\\x62\"\n",                                    // an escape
            "  name: a\n    b\n",                                      // a scalar over two lines
            "  name: &n a\n",                                          // an anchor
            "  name: a # comment\n",                                   // a comment after the value
            "  \"name\": a\n",                                         // a quoted key
            "  name: a\n  name: b\n",                                  // a key written twice
            "  labels:\n    paved.dev/service: \"x\\n\"\n  name: a\n", // an escape in a label
            "  name: 'it''s'\n",                                       // a quote inside quotes
            "  name: true\n",                                          // not a string
            "  name: 123\n",                                           // not a string
            "  namespace: x\n", // no name: named by its place
        ] {
            let f = file("x.yaml", &format!("{head}{tail}"));
            assert_eq!(identities(&f), None, "{tail:?}");
        }
        for text in [
            "metadata: {name: a}\nkind: X\n",
            "- a\n",
            "plain\n",
            "%YAML 1.2\n---\nkind: X\nmetadata:\n  name: a\n",
            "kind: X\r\nmetadata:\r\n  name: a\r\n",
            "kind: X\nmetadata:\n    name: a\n  namespace: b\n",
        ] {
            assert_eq!(identities(&file("x.yaml", text)), None, "{text:?}");
        }
        // Read: documents, comments, quoted and compact values, kustomizations left out.
        let f = file(
            "staging/x/a.yaml",
            "# head\n---\nkind: X\nmetadata:\n  # c\n  name: \"a\"\n  annotations:\n    k: |\n      name: b\n  finalizers:\n  - f\nrules:\n- x\n---\n---\napiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nmetadata:\n  name: k\n",
        );
        let ids = identities(&f).unwrap();
        assert_eq!(
            ids,
            parse_file(&f, "")
                .unwrap()
                .into_iter()
                .map(|d| d.id)
                .collect::<Vec<_>>()
        );
        assert_eq!(ids.len(), 1);
        assert_eq!(
            (ids[0].name.as_str(), ids[0].environment.as_str()),
            ("a", "staging")
        );
    }

    #[test]
    fn invalid_yaml_is_a_diagnostic() {
        let (_, d) = parse(&[file("bad.yaml", "a: [1\n")], "before/");
        assert_eq!(d[0].code, codes::DIFF_INVALID_YAML);
        // The report names the side the file is on.
        let primary = d[0].primary.as_ref().unwrap();
        assert_eq!(primary.source.name, "before/bad.yaml");
    }

    /// Parses every document of every file. `kustomization.yaml` documents are
    /// build instructions, not resources (and list file names, so they change when
    /// a file moves): they are left out. `side` names where the files are (the
    /// folder as given, or the Git revision) so that a finding says which side
    /// of the comparison it is about. The reference [`compare`] is tested against.
    pub(crate) fn parse(files: &[OutFile], side: &str) -> (Vec<Resource>, Vec<Diagnostic>) {
        let mut files: Vec<&OutFile> = files.iter().collect();
        files.sort_by(|a, b| a.path.cmp(&b.path));
        let mut diags = Vec::new();
        let docs: Vec<Vec<Doc>> = files
            .iter()
            .map(|f| match parse_file(f, side) {
                Ok(docs) => docs,
                Err(d) => {
                    diags.extend(d);
                    Vec::new()
                }
            })
            .collect();
        (number(files.iter().copied().zip(docs)), diags)
    }
}
