//! Drift: the planned output compared with what is in the output folder.
//! Read-only; links are never followed and only regular files are opened.

use std::path::Path;

use rayon::prelude::*;
use similar::TextDiff;

use super::{read_regular, OnDisk, Planned, Survey};

/// The largest file on disk read to show a diff; a generated file is a few
/// KiB, so anything larger is reported without its contents.
const MAX_DIFF_INPUT: u64 = 4 << 20;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Drift {
    /// In the plan, not in the folder.
    Missing(String),
    /// In both, with different bytes (path, unified diff, the file on disk
    /// when it could be read whole, to point at its first change).
    Stale(String, String, Option<String>),
    /// Generated earlier, owned by this run, no longer in the plan.
    Extra(String),
    /// A regular file without the generated header at a planned path.
    Foreign(String),
    /// A symlink, folder, FIFO or device at a planned path (what it is).
    Special(String, &'static str),
}

impl Drift {
    pub fn path(&self) -> &str {
        match self {
            Drift::Missing(p)
            | Drift::Stale(p, ..)
            | Drift::Extra(p)
            | Drift::Foreign(p)
            | Drift::Special(p, _) => p,
        }
    }
}

/// Every difference `survey` found, sorted by path; a unit is rendered again
/// only when one of its files is stale, to show the diff.
pub(crate) fn drift<P: Planned>(dir: &Path, units: &[P], survey: &Survey) -> Vec<Drift> {
    let mut out: Vec<Drift> = units
        .par_iter()
        .zip(survey.pending.par_iter())
        .filter(|(_, pending)| !pending.is_empty())
        .flat_map_iter(|(u, pending)| {
            let mut found = Vec::new();
            let stale: Vec<&str> = pending
                .iter()
                .filter_map(|p| match &p.now {
                    OnDisk::Missing => {
                        found.push(Drift::Missing(p.path.clone()));
                        None
                    }
                    OnDisk::Foreign => {
                        found.push(Drift::Foreign(p.path.clone()));
                        None
                    }
                    OnDisk::Special(what) => {
                        found.push(Drift::Special(p.path.clone(), what));
                        None
                    }
                    OnDisk::Generated | OnDisk::UpToDate => Some(p.path.as_str()),
                })
                .collect();
            if !stale.is_empty() {
                for file in u.files() {
                    if !stale.contains(&file.path.as_str()) {
                        continue;
                    }
                    let (diff, old) = match read_regular(&dir.join(&file.path), MAX_DIFF_INPUT + 1)
                    {
                        Ok(old) if old.len() as u64 > MAX_DIFF_INPUT => (
                            format!(
                                "(the file on disk is over {} MiB; not shown)\n",
                                MAX_DIFF_INPUT >> 20
                            ),
                            None,
                        ),
                        Ok(old) => {
                            let old = String::from_utf8_lossy(&old).into_owned();
                            (unified(&old, &file.content, &file.path), Some(old))
                        }
                        Err(e) => (format!("(cannot read the file on disk: {e})\n"), None),
                    };
                    found.push(Drift::Stale(file.path, diff, old));
                }
            }
            found
        })
        .collect();
    out.extend(survey.extra.iter().cloned().map(Drift::Extra));
    out.sort_by(|a, b| a.path().cmp(b.path()));
    out
}

/// A short unified diff, old (on disk) → new (rendered).
pub(crate) fn unified(old: &str, new: &str, path: &str) -> String {
    TextDiff::from_lines(old, new)
        .unified_diff()
        .context_radius(2)
        .header(&format!("{path} (on disk)"), &format!("{path} (rendered)"))
        .to_string()
}
