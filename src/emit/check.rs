//! Drift check: the plan compared with what is in the output folder. Read-only.

use std::collections::BTreeMap;
use std::path::Path;

use similar::TextDiff;

use super::{existing_generated, Plan};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Drift {
    /// In the plan, not in the folder.
    Missing(String),
    /// In both, with different bytes (path, unified diff).
    Stale(String, String),
    /// Generated earlier, no longer in the plan.
    Extra(String),
}

impl Drift {
    pub fn path(&self) -> &str {
        match self {
            Drift::Missing(p) | Drift::Stale(p, _) | Drift::Extra(p) => p,
        }
    }
}

pub fn check(plan: &Plan, dir: &Path) -> Vec<Drift> {
    let existing: BTreeMap<String, String> = existing_generated(dir).into_iter().collect();
    let mut out = Vec::new();
    for f in &plan.files {
        let path = dir.join(&f.path);
        match existing.get(&f.path) {
            Some(old) if old == &f.content => {}
            Some(old) => out.push(Drift::Stale(
                f.path.clone(),
                unified(old, &f.content, &f.path),
            )),
            None => {
                // A file without the header (hand-written over a generated one) is stale, not missing.
                match std::fs::read_to_string(&path) {
                    Ok(old) => out.push(Drift::Stale(
                        f.path.clone(),
                        unified(&old, &f.content, &f.path),
                    )),
                    Err(_) => out.push(Drift::Missing(f.path.clone())),
                }
            }
        }
    }
    let planned: std::collections::HashSet<&str> =
        plan.files.iter().map(|f| f.path.as_str()).collect();
    for path in existing.keys() {
        if !planned.contains(path.as_str()) {
            out.push(Drift::Extra(path.clone()));
        }
    }
    out.sort_by(|a, b| a.path().cmp(b.path()));
    out
}

/// A short unified diff, old (on disk) → new (rendered).
pub fn unified(old: &str, new: &str, path: &str) -> String {
    TextDiff::from_lines(old, new)
        .unified_diff()
        .context_radius(2)
        .header(&format!("{path} (on disk)"), &format!("{path} (rendered)"))
        .to_string()
}
