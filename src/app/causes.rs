//! `diff --base`: which changed input line caused each group of changes.
//!
//! The inputs of the two compiled workspaces (the platform config, the
//! blueprint overrides, the specs) are compared line by line; then, for the
//! first change of each group only (the cost follows the groups, not the
//! fleet), each changed field of that resource is traced
//! (`render::trace::origin`) and the places of its origin chain that are
//! changed lines become the group's causes. The new side is traced first;
//! a field it does not have, or whose chain holds no changed line, is traced
//! on the base side against the lines the change removed. No changed line in
//! the chain (Paved itself changed, a value the trace approximates): no
//! cause. Nothing is guessed.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value as Json;

use super::Compiled;
use crate::emit::diff::{groups, Cause, ChangeKind, Report};
use crate::render::trace;
use crate::source::{display_path, SourceRef};

/// One side's changed inputs: the source's name on that side → the name the
/// work tree gives it, and its changed lines (1-based).
type Changed = BTreeMap<String, (String, BTreeSet<usize>)>;

/// The lines of `old` and of `new` that differ (removed, added or replaced).
fn changed_lines(old: &str, new: &str) -> (BTreeSet<usize>, BTreeSet<usize>) {
    let lines = |t: &str| -> Vec<String> {
        let s = crate::source::Source::virtual_file("", t.to_string());
        s.line_texts().map(str::to_string).collect()
    };
    let (a, b) = (lines(old), lines(new));
    let (mut o, mut n) = (BTreeSet::new(), BTreeSet::new());
    for op in similar::capture_diff_slices(similar::Algorithm::Myers, &a, &b) {
        let (tag, old_range, new_range) = op.as_tag_tuple();
        if tag != similar::DiffTag::Equal {
            o.extend(old_range.map(|i| i + 1));
            n.extend(new_range.map(|i| i + 1));
        }
    }
    (o, n)
}

/// The changed inputs of both sides.
fn changed_inputs(old: &Compiled, new: &Compiled) -> (Changed, Changed) {
    let cwd = std::env::current_dir().unwrap_or_default();
    // A base file as the work tree would name it: the same path under the
    // work tree's root.
    let shown_old = |s: &SourceRef| -> String {
        match s.path.strip_prefix(&old.workspace.root) {
            Ok(rel) if s.path.is_absolute() => display_path(&new.workspace.root.join(rel), &cwd),
            _ => s.name.clone(),
        }
    };
    let mut pairs: Vec<(Option<&SourceRef>, Option<&SourceRef>)> = Vec::new();
    if let (Some((a, _)), Some((b, _))) = (&old.config, &new.config) {
        pairs.push((Some(a), Some(b)));
    }
    let named = |c: &Compiled| -> BTreeMap<String, SourceRef> {
        c.blueprints
            .iter()
            .flat_map(|b| b.named_sources())
            .map(|(k, v)| (k.to_string(), v.clone()))
            .collect()
    };
    let (ob, nb) = (named(old), named(new));
    let builtin = |s: &SourceRef| s.name.starts_with("<built-in>");
    let keys: BTreeSet<&String> = ob.keys().chain(nb.keys()).collect();
    for k in keys {
        let (a, b) = (ob.get(k), nb.get(k));
        // The built-in files are the same on both sides.
        if a.is_none_or(builtin) && b.is_none_or(builtin) {
            continue;
        }
        pairs.push((a, b));
    }
    for s in &new.services {
        if let Some(o) = old.services.iter().find(|o| o.name() == s.name()) {
            pairs.push((Some(&o.source), Some(&s.source)));
        }
    }
    let (mut old_changed, mut new_changed) = (Changed::new(), Changed::new());
    for (a, b) in pairs {
        let (o, n) = changed_lines(
            a.map_or("", |s| s.text.as_str()),
            b.map_or("", |s| s.text.as_str()),
        );
        if let Some(a) = a.filter(|_| !o.is_empty()) {
            let shown = b
                .filter(|b| !builtin(b))
                .map_or_else(|| shown_old(a), |b| b.name.clone());
            old_changed.insert(a.name.clone(), (shown, o));
        }
        if let Some(b) = b.filter(|_| !n.is_empty()) {
            new_changed.insert(b.name.clone(), (b.name.clone(), n));
        }
    }
    (old_changed, new_changed)
}

/// `name:line` or `name:line:col` → the line, when `at` is in `name`.
fn line_in(at: &str, name: &str) -> Option<usize> {
    let rest = at.strip_prefix(name)?.strip_prefix(':')?;
    rest.split(':').next()?.parse().ok()
}

/// The JSON pointer of a `diff` field path (`spec.template.spec.containers[name=api].image`,
/// `metadata.labels["app.kubernetes.io/version"]`, `spec.ports[0]`) in `value`.
fn pointer(value: &Json, path: &str) -> Option<String> {
    let esc = |k: &str| k.replace('~', "~0").replace('/', "~1");
    let mut out = String::new();
    let mut at = value;
    let mut rest = path;
    while !rest.is_empty() {
        rest = rest.strip_prefix('.').unwrap_or(rest);
        if let Some(inner) = rest.strip_prefix('[') {
            if inner.starts_with('"') {
                // A quoted key: the shortest `"…"]` that is a JSON string.
                let (key, len) = inner.match_indices("\"]").find_map(|(i, _)| {
                    serde_json::from_str::<String>(&inner[..=i])
                        .ok()
                        .map(|k| (k, i + 2))
                })?;
                at = at.get(&key)?;
                out.push('/');
                out.push_str(&esc(&key));
                rest = &inner[len..];
            } else {
                let end = inner.find(']')?;
                let seg = &inner[..end];
                let items = at.as_array()?;
                let i = match seg.strip_prefix("name=") {
                    Some(n) => items
                        .iter()
                        .position(|x| x.get("name").and_then(Json::as_str) == Some(n))?,
                    None => seg.parse().ok()?,
                };
                at = items.get(i)?;
                out.push_str(&format!("/{i}"));
                rest = &inner[end + 1..];
            }
        } else {
            let end = rest.find(['.', '[']).unwrap_or(rest.len());
            let key = &rest[..end];
            at = at.get(key)?;
            out.push('/');
            out.push_str(&esc(key));
            rest = &rest[end..];
        }
    }
    Some(out)
}

/// One side, ready to trace.
struct Side<'a> {
    finder: trace::Finder<'a>,
    inputs: &'a trace::Inputs<'a>,
    changed: &'a Changed,
    base: bool,
}

impl Side<'_> {
    /// The causes of the field `path` of the object `q` names: the changed
    /// lines in its origin chain. `None`: the object or the field is not on
    /// this side.
    fn causes(&self, objects: &[trace::Traced], path: &str) -> Option<Vec<Cause>> {
        let t = objects.first()?;
        let ptr = pointer(&t.value, path)?;
        let mut out = Vec::new();
        for step in trace::origin(self.inputs, t, &ptr) {
            let Some(at) = &step.at else { continue };
            for (name, (shown, lines)) in self.changed {
                let Some(line) = line_in(at, name).filter(|l| lines.contains(l)) else {
                    continue;
                };
                let cause = Cause {
                    file: shown.clone(),
                    line,
                    text: step.detail.clone(),
                    base: self.base,
                };
                if !out.contains(&cause) {
                    out.push(cause);
                }
            }
        }
        Some(out)
    }
}

fn inputs(c: &Compiled) -> Option<trace::Inputs<'_>> {
    Some(trace::Inputs {
        platform: c.platform.as_ref()?,
        services: &c.services,
        instances: &c.instances,
        blueprints: c.blueprints.as_ref()?,
        config: c.config.as_ref(),
        // The built-in config never changes between the two sides.
        builtin: None,
    })
}

/// Sets the causes of the first change of every group of `report`, from the
/// two workspaces it was rendered from (`old`: the base; `None` when the
/// base had no workspace, so nothing changed, all was added).
pub(crate) fn causes(old: Option<&Compiled>, new: &Compiled, report: &mut Report) {
    let Some(old) = old else { return };
    let (old_changed, new_changed) = changed_inputs(old, new);
    if old_changed.is_empty() && new_changed.is_empty() {
        return;
    }
    let (Some(old_inputs), Some(new_inputs)) = (inputs(old), inputs(new)) else {
        return;
    };
    let side = |inputs, changed, base| Side {
        finder: trace::Finder::new(inputs),
        inputs,
        changed,
        base,
    };
    let new_side = side(&new_inputs, &new_changed, false);
    let old_side = side(&old_inputs, &old_changed, true);
    let firsts: Vec<usize> = groups(report).iter().map(|g| g.members[0]).collect();
    for i in firsts {
        let c = &report.changes[i];
        if c.kind != ChangeKind::Changed {
            continue;
        }
        let query = |name| trace::Query {
            kind: &c.key.kind,
            namespace: (!c.key.namespace.is_empty()).then_some(c.key.namespace.as_str()),
            name,
            environment: Some(&c.environment),
        };
        let new_objects = if new_changed.is_empty() {
            Vec::new()
        } else {
            new_side.finder.find(&query(&c.key.name))
        };
        let mut old_objects: Option<Vec<trace::Traced>> = None;
        let mut found: Vec<Cause> = Vec::new();
        for field in &c.fields {
            let mut here = new_side.causes(&new_objects, field).unwrap_or_default();
            if here.is_empty() && !old_changed.is_empty() {
                let objects = old_objects.get_or_insert_with(|| {
                    let name = c.renamed_from.as_deref().unwrap_or(&c.key.name);
                    old_side.finder.find(&query(name))
                });
                here = old_side.causes(objects, field).unwrap_or_default();
            }
            for cause in here {
                if !found.contains(&cause) {
                    found.push(cause);
                }
            }
        }
        report.changes[i].causes = found;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pointers_of_diff_field_paths() {
        let v = serde_json::json!({
            "metadata": {"labels": {"app.kubernetes.io/version": "1"}},
            "spec": {"containers": [{"name": "a"}, {"name": "b", "image": "x"}], "ports": [80]}
        });
        assert_eq!(
            pointer(&v, "spec.containers[name=b].image").as_deref(),
            Some("/spec/containers/1/image")
        );
        assert_eq!(
            pointer(&v, r#"metadata.labels["app.kubernetes.io/version"]"#).as_deref(),
            Some("/metadata/labels/app.kubernetes.io~1version")
        );
        assert_eq!(
            pointer(&v, "spec.ports[0]").as_deref(),
            Some("/spec/ports/0")
        );
        assert_eq!(pointer(&v, "spec.missing"), None);
    }

    #[test]
    fn changed_lines_on_each_side() {
        let (o, n) = changed_lines("a\nb\nc\n", "a\nB\nc\nd\n");
        assert_eq!(o.into_iter().collect::<Vec<_>>(), [2]);
        assert_eq!(n.into_iter().collect::<Vec<_>>(), [2, 4]);
        assert_eq!(line_in("paved.yaml:27:19", "paved.yaml"), Some(27));
        assert_eq!(line_in("a/paved.yaml:27", "paved.yaml"), None);
    }
}
