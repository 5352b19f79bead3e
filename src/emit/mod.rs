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

/// What a file will hold, without holding it: enough to tell whether a file on
/// disk is up to date.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Digest {
    pub path: String,
    pub len: usize,
    pub hash: u128,
}

/// XXH3, 128 bits, of a file's bytes: digests are compared together with
/// the length, and equal digests mean equal files for any practical purpose.
/// It reads tens of gigabytes a second, so hashing every output costs
/// almost nothing (SipHash cost 2% of a render, FNV 4%).
pub fn content_hash(bytes: &[u8]) -> u128 {
    xxhash_rust::xxh3::xxh3_128(bytes)
}

pub fn digest(f: &OutFile) -> Digest {
    Digest {
        path: f.path.clone(),
        len: f.content.len(),
        hash: content_hash(f.content.as_bytes()),
    }
}

/// Whether the file at `dir/d.path` holds exactly the bytes `d` describes
/// (a regular file, not a symlink).
pub fn up_to_date(dir: &Path, d: &Digest) -> bool {
    let path = dir.join(&d.path);
    match std::fs::symlink_metadata(&path) {
        Ok(m) if m.file_type().is_file() && m.len() == d.len as u64 => {
            std::fs::read(&path).is_ok_and(|b| content_hash(&b) == d.hash)
        }
        _ => false,
    }
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
    // The header first: a large file someone else put in DIR is never read whole.
    if !is_generated(path) {
        return None;
    }
    let text = std::fs::read_to_string(path).ok()?;
    text.starts_with(crate::normalize::HEADER_MARK)
        .then_some(text)
}

/// True when `path` is a regular file (not a symlink) that starts with the
/// generated header; reads only the first bytes.
pub fn is_generated(path: &Path) -> bool {
    use std::io::Read as _;
    let Ok(meta) = std::fs::symlink_metadata(path) else {
        return false;
    };
    if !meta.file_type().is_file() {
        return false;
    }
    let mark = crate::normalize::HEADER_MARK.as_bytes();
    let mut head = vec![0u8; mark.len()];
    std::fs::File::open(path)
        .and_then(|mut f| f.read_exact(&mut head))
        .is_ok_and(|()| head == mark)
}

/// The paths (relative, with `/`) of the files Paved generated under `dir`,
/// sorted, without reading their contents; symlinks are not followed.
pub fn generated_paths(dir: &Path) -> Vec<String> {
    generated_paths_except(dir, &std::collections::HashSet::new())
}

/// [`generated_paths`] without the paths in `known`, whose headers are not
/// even read: after a render or check has confirmed every planned file, only
/// the others need looking at (to find stale files), which saves opening
/// each of thousands of files a second time.
pub fn generated_paths_except(dir: &Path, known: &std::collections::HashSet<&str>) -> Vec<String> {
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
        if !entry.file_type().is_file() || !entry.file_name().to_string_lossy().ends_with(".yaml") {
            continue;
        }
        let Ok(rel) = entry.path().strip_prefix(dir) else {
            continue;
        };
        let rel = crate::source::display_path(rel, Path::new(""));
        if !known.contains(rel.as_str()) && is_generated(entry.path()) {
            out.push(rel);
        }
    }
    out
}

/// Generated files under `dir` with their contents, as relative paths with
/// `/`; symlinks are not followed.
pub fn existing_generated(dir: &Path) -> Vec<(String, String)> {
    generated_paths(dir)
        .into_iter()
        .filter_map(|rel| read_generated(&dir.join(&rel)).map(|text| (rel, text)))
        .collect()
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
