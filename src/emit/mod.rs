//! Emission: what a render produced, as files, and the three things Paved does
//! with them: write them (`write`), compare them with a folder (`check`), or
//! compare two renders resource by resource (`diff`).
//!
//! Architecture invariant: `write` is the only module that changes the disk,
//! and only inside the output folder.

pub mod check;
pub mod diff;
pub mod write;

use std::path::{Component, Path};

/// One generated file: its path relative to the output folder (with `/`), and its bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutFile {
    pub path: String,
    pub content: String,
}

/// Everything one render produces, sorted by path.
#[derive(Debug, Clone, Default)]
pub struct Plan {
    pub files: Vec<OutFile>,
}

impl Plan {
    pub fn new(mut files: Vec<OutFile>) -> Plan {
        files.sort_by(|a, b| a.path.cmp(&b.path));
        Plan { files }
    }
}

/// A relative path that stays inside the folder it is joined to: no root, no
/// `..`, no `.`, no empty or hidden segments. Names are validated long before
/// this; this is the last line of defence.
pub fn is_contained(rel: &str) -> bool {
    !rel.is_empty()
        && !rel.starts_with('/')
        && !rel.contains('\\')
        && rel
            .split('/')
            .all(|seg| !seg.is_empty() && !seg.starts_with('.'))
        && Path::new(rel)
            .components()
            .all(|c| matches!(c, Component::Normal(_)))
}

/// Reads a file only if it is a regular file (not a symlink) that Paved generated.
pub fn read_generated(path: &Path) -> Option<String> {
    let meta = std::fs::symlink_metadata(path).ok()?;
    if !meta.file_type().is_file() {
        return None;
    }
    let text = std::fs::read_to_string(path).ok()?;
    text.starts_with(crate::normalize::HEADER_MARK)
        .then_some(text)
}

/// Generated files under `dir`, as relative paths with `/`; symlinks are not followed.
pub fn existing_generated(dir: &Path) -> Vec<(String, String)> {
    let mut out = Vec::new();
    if !dir.is_dir() {
        return out;
    }
    for entry in walkdir::WalkDir::new(dir)
        .follow_links(false)
        .sort_by_file_name()
        .into_iter()
        .filter_entry(|e| e.depth() == 0 || !e.file_name().to_string_lossy().starts_with('.'))
        .flatten()
    {
        if !entry.file_type().is_file() {
            continue;
        }
        let Ok(rel) = entry.path().strip_prefix(dir) else {
            continue;
        };
        let rel = rel
            .components()
            .map(|c| c.as_os_str().to_string_lossy().into_owned())
            .collect::<Vec<_>>()
            .join("/");
        if !rel.ends_with(".yaml") {
            continue;
        }
        if let Some(text) = read_generated(entry.path()) {
            out.push((rel, text));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn containment() {
        assert!(is_contained("staging/orders/deployment-orders.yaml"));
        for bad in [
            "",
            "/etc/passwd",
            "../x",
            "a/../b",
            "a//b",
            ".hidden/x",
            "a/./b",
            "a\\b",
        ] {
            assert!(!is_contained(bad), "{bad}");
        }
    }
}
