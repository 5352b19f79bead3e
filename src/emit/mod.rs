//! Emission: what a render produced, as files, and the three things Paved does
//! with them: write them (`write`), compare them with a folder (`check`), or
//! compare two renders resource by resource (`diff`).
//!
//! Architecture invariant: `write` is the only module that changes the disk,
//! and only inside the output folder.

pub(crate) mod check;
pub(crate) mod diff;
pub(crate) mod header;
pub(crate) mod risk;
pub(crate) mod write;

use std::collections::HashSet;
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
pub(crate) fn content_hash(bytes: &[u8]) -> u128 {
    xxhash_rust::xxh3::xxh3_128(bytes)
}

pub(crate) fn digest(f: &OutFile) -> Digest {
    Digest {
        path: f.path.clone(),
        len: f.content.len(),
        hash: content_hash(f.content.as_bytes()),
    }
}

/// One piece of planned output (a render unit): the digests of its files,
/// known after the first pass, and the files themselves on demand (from a
/// cache, or rendered again). Sinks take these, so they never hold the whole
/// output and know nothing of how it is rendered.
pub trait Planned: Sync {
    fn digests(&self) -> &[Digest];
    fn files(&self) -> Vec<OutFile>;
}

/// Files already in memory, as planned output (tests, small tools).
pub struct InMemory {
    digests: Vec<Digest>,
    files: Vec<OutFile>,
}

impl InMemory {
    pub fn new(files: Vec<OutFile>) -> InMemory {
        InMemory {
            digests: files.iter().map(digest).collect(),
            files,
        }
    }
}

impl Planned for InMemory {
    fn digests(&self) -> &[Digest] {
        &self.digests
    }

    fn files(&self) -> Vec<OutFile> {
        self.files.clone()
    }
}

/// The folder of the preview environments, `DIR/previews/`, with its slash.
const PREVIEWS: &str = "previews/";

/// Planned output of several kinds at once (render units and a file made
/// beside them).
impl Planned for Box<dyn Planned + '_> {
    fn digests(&self) -> &[Digest] {
        (**self).digests()
    }

    fn files(&self) -> Vec<OutFile> {
        (**self).files()
    }
}

/// Which generated files in the output folder a run owns: those whose
/// header names a selected spec (or the whole workspace), in a selected
/// environment. Everything else is left as it is, so a command on one
/// service touches nothing of another's.
#[derive(Debug, Clone, Default)]
pub struct Scope {
    /// Root-relative spec path prefixes; `None`: every spec.
    pub specs: Option<Vec<String>>,
    /// Selected environments; `None`: every one.
    pub envs: Option<Vec<String>>,
    /// Every environment of the platform (the first folder of a path).
    pub env_names: Vec<String>,
    /// Origins whose files are kept whatever happens: specs that were
    /// skipped (a symlink), so skipping one never deletes its output.
    pub protected: Vec<String>,
    /// A preview run (`render --preview NAME`) owns `DIR/previews/NAME/`
    /// and nothing else; any other run owns nothing under `DIR/previews/`.
    pub preview: Option<String>,
}

impl Scope {
    /// Whether the generated file at `path` (relative to the output folder),
    /// whose header names `origin`, is this run's to write or remove.
    pub fn owns(&self, path: &str, origin: Option<&str>) -> bool {
        match (&self.preview, path.strip_prefix(PREVIEWS)) {
            (Some(name), Some(rest)) => {
                return rest
                    .strip_prefix(name.as_str())
                    .is_some_and(|r| r.starts_with('/'));
            }
            (Some(_), None) | (None, Some(_)) => return false,
            (None, None) => {}
        }
        if let Some(envs) = &self.envs {
            let first = path.split('/').next().unwrap_or("");
            if self.env_names.iter().any(|e| e == first) && !envs.iter().any(|e| e == first) {
                return false;
            }
        }
        match origin {
            Some(o) if self.protected.iter().any(|p| p == o) => false,
            Some(header::PLATFORM_WIDE) => true,
            Some(o) => crate::workspace::selects(self.specs.as_deref(), o),
            // A header Paved no longer writes (an older version's): only a
            // whole-workspace run may take it over.
            None => self.specs.is_none(),
        }
    }
}

/// What is at a planned path in the output folder. Links are never followed
/// and only regular files are opened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OnDisk {
    Missing,
    /// A generated file holding exactly the planned bytes.
    UpToDate,
    /// A generated file with other bytes.
    Generated,
    /// A regular file without the generated header: the user's.
    Foreign,
    /// A symlink, folder, FIFO, socket or device (named).
    Special(&'static str),
}

/// What kind of thing a non-regular entry is, in words.
pub(crate) fn special_kind(ft: std::fs::FileType) -> &'static str {
    use std::os::unix::fs::FileTypeExt as _;
    if ft.is_symlink() {
        "a symlink"
    } else if ft.is_dir() {
        "a folder"
    } else if ft.is_fifo() {
        "a FIFO"
    } else if ft.is_socket() {
        "a socket"
    } else if ft.is_block_device() || ft.is_char_device() {
        "a device"
    } else {
        "not a regular file"
    }
}

/// Inspects `dir/d.path` without following links or opening anything but a
/// regular file; a regular file of another length is read only for its header.
pub(crate) fn inspect(dir: &Path, d: &Digest) -> OnDisk {
    if !is_contained(&d.path) {
        return OnDisk::Special("a path that leaves the output folder");
    }
    let path = dir.join(&d.path);
    let meta = match std::fs::symlink_metadata(&path) {
        Ok(m) => m,
        Err(_) => return OnDisk::Missing,
    };
    if !meta.file_type().is_file() {
        return OnDisk::Special(special_kind(meta.file_type()));
    }
    if meta.len() == d.len as u64 {
        if let Ok(bytes) = read_regular(&path, d.len as u64) {
            if content_hash(&bytes) == d.hash {
                return OnDisk::UpToDate;
            }
            return if header::is_generated(&bytes) {
                OnDisk::Generated
            } else {
                OnDisk::Foreign
            };
        }
    }
    match first_line(&path) {
        Some(line) if header::is_generated(line.as_bytes()) => OnDisk::Generated,
        _ => OnDisk::Foreign,
    }
}

/// Opens `path` only if it is a regular file (never through a link, never a
/// FIFO that would block) and reads at most `limit` bytes of it.
pub(crate) fn read_regular(path: &Path, limit: u64) -> std::io::Result<Vec<u8>> {
    use std::io::Read as _;
    use std::os::unix::fs::OpenOptionsExt as _;
    // O_NOFOLLOW | O_NONBLOCK (Linux values): a link swapped in since the
    // metadata was read is refused, and a FIFO cannot block the run.
    const NOFOLLOW_NONBLOCK: i32 = 0o400000 | 0o4000;
    let f = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(NOFOLLOW_NONBLOCK)
        .open(path)?;
    if !f.metadata()?.is_file() {
        return Err(std::io::Error::other("not a regular file"));
    }
    let mut bytes = Vec::new();
    f.take(limit).read_to_end(&mut bytes)?;
    Ok(bytes)
}

/// The first line of a regular file (at most 4 KiB of it).
fn first_line(path: &Path) -> Option<String> {
    let bytes = read_regular(path, 4096).ok()?;
    let end = memchr::memchr(b'\n', &bytes).unwrap_or(bytes.len());
    String::from_utf8(bytes[..end].to_vec()).ok()
}

/// The generated files under `dir` that are not in `known`, with the origin
/// their header names (`None` for a header Paved no longer writes), sorted.
/// Hidden folders are not searched, links are not followed, and only the
/// first line of each `.yaml` file is read.
pub(crate) fn generated_files_except(
    dir: &Path,
    known: &HashSet<&str>,
) -> Vec<(String, Option<String>)> {
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
        if known.contains(rel.as_str()) {
            continue;
        }
        if let Some(line) = first_line(entry.path()) {
            if header::is_generated(line.as_bytes()) {
                let origin = header::origin(&line).map(str::to_string);
                out.push((rel, origin));
            }
        }
    }
    out
}

/// The services the last render recorded `name` as depending on: the
/// `component:NAME` references of its catalog entry in `dir` (read as text,
/// bounded, never through a link). Empty when there is none.
pub(crate) fn recorded_dependencies(dir: &Path, name: &str) -> std::collections::BTreeSet<String> {
    let mut out = std::collections::BTreeSet::new();
    let Ok(bytes) = read_regular(&dir.join("catalog").join(format!("{name}.yaml")), 1 << 20) else {
        return out;
    };
    let text = String::from_utf8_lossy(&bytes);
    for (i, _) in text.match_indices("component:") {
        let rest = &text[i + "component:".len()..];
        let dep: String = rest
            .chars()
            .take_while(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '-')
            .collect();
        if !dep.is_empty() {
            out.insert(dep);
        }
    }
    out
}

/// The names of the services whose catalog entry in `dir` was rendered from a
/// spec the `selects` predicate accepts (read from each entry's header):
/// what the last render knew of the selection, including services deleted
/// or renamed since.
pub(crate) fn recorded_services(dir: &Path, selects: &dyn Fn(&str) -> bool) -> Vec<String> {
    let Ok(entries) = std::fs::read_dir(dir.join("catalog")) else {
        return Vec::new();
    };
    let mut out: Vec<String> = entries
        .flatten()
        .filter(|e| e.file_type().is_ok_and(|t| t.is_file()))
        .filter_map(|e| {
            let name = e
                .file_name()
                .to_string_lossy()
                .strip_suffix(".yaml")?
                .to_string();
            let line = first_line(&e.path())?;
            header::origin(&line).filter(|o| selects(o)).map(|_| name)
        })
        .collect();
    out.sort();
    out
}

/// One planned file that is not up to date, and what is there now.
#[derive(Debug, Clone)]
pub struct Pending {
    pub path: String,
    pub now: OnDisk,
}

/// The planned output compared with the folder: what a render would write,
/// keep and remove, and what `check` reports. Read-only.
#[derive(Debug, Default)]
pub struct Survey {
    /// Per planned unit (in the order given), its files that are not up to date.
    pub pending: Vec<Vec<Pending>>,
    pub unchanged: usize,
    /// Generated files the run owns that are no longer planned, sorted.
    pub extra: Vec<String>,
}

impl Survey {
    pub fn pending_count(&self) -> usize {
        self.pending.iter().map(Vec::len).sum()
    }

    pub fn is_clean(&self) -> bool {
        self.pending_count() == 0 && self.extra.is_empty()
    }

    /// Planned paths where something that is not Paved's stands, with what it is.
    pub fn refusals(&self) -> Vec<(&str, String)> {
        let mut out: Vec<(&str, String)> = self
            .pending
            .iter()
            .flatten()
            .filter_map(|p| match &p.now {
                OnDisk::Foreign => Some((
                    p.path.as_str(),
                    "a file Paved did not generate (it has no `# Generated by paved` header)"
                        .to_string(),
                )),
                OnDisk::Special(what) => Some((p.path.as_str(), what.to_string())),
                _ => None,
            })
            .collect();
        out.sort();
        out
    }
}

/// Compares planned units with the folder `dir`. Read-only; `dir` may not exist.
pub fn survey<P: Planned>(dir: &Path, units: &[P], scope: &Scope) -> Survey {
    use rayon::prelude::*;
    // Every folder on the way to a planned file, checked once: a symlinked
    // folder is never read through, and a file where a folder goes blocks.
    let mut folders: Vec<&str> = units
        .iter()
        .flat_map(|u| u.digests().iter())
        .flat_map(|d| d.path.match_indices('/').map(move |(i, _)| &d.path[..i]))
        .collect();
    folders.sort_unstable();
    folders.dedup();
    let blocked: std::collections::HashMap<&str, &'static str> = folders
        .par_iter()
        .filter_map(|f| match std::fs::symlink_metadata(dir.join(f)) {
            Ok(m) if m.file_type().is_symlink() => Some((*f, "inside a symlinked folder")),
            Ok(m) if !m.is_dir() => Some((*f, "under a file that stands where a folder goes")),
            _ => None,
        })
        .collect();
    let blocked_at = |path: &str| -> Option<&'static str> {
        path.match_indices('/')
            .find_map(|(i, _)| blocked.get(&path[..i]).copied())
    };
    let pending: Vec<Vec<Pending>> = units
        .par_iter()
        .map(|u| {
            u.digests()
                .iter()
                .filter_map(|d| {
                    let now = match blocked_at(&d.path) {
                        Some(why) => OnDisk::Special(why),
                        None => inspect(dir, d),
                    };
                    (now != OnDisk::UpToDate).then(|| Pending {
                        path: d.path.clone(),
                        now,
                    })
                })
                .collect()
        })
        .collect();
    let planned: HashSet<&str> = units
        .iter()
        .flat_map(|u| u.digests().iter().map(|d| d.path.as_str()))
        .collect();
    let extra = generated_files_except(dir, &planned)
        .into_iter()
        .filter(|(path, origin)| in_layout(dir, path, scope) && scope.owns(path, origin.as_deref()))
        .map(|(path, _)| path)
        .collect();
    let n: usize = pending.iter().map(Vec::len).sum();
    Survey {
        pending,
        unchanged: planned.len() - n,
        extra,
    }
}

/// Whether a generated file sits where Paved's layout puts files: at most
/// three levels deep (`<env>/<folder>/<file>`, `platform/<folder>/<file>`,
/// `catalog/<file>`), in a top-level folder that is an environment of the
/// platform, or that is not itself an output folder (one holding both
/// `platform/` and `catalog/`; no service may be called `platform`, so an
/// environment's folder never does). Only such files are ever pruned, so
/// `--out ..` or `--out .` cannot remove another checkout's or another output
/// folder's files, while a removed environment's files still go.
fn in_layout(dir: &Path, path: &str, scope: &Scope) -> bool {
    let depth = path.split('/').count();
    // A preview's folder: `previews/<NAME>/kustomization.yaml`,
    // `previews/<NAME>/<folder>/<file>`; only its own run prunes it.
    if let Some(rest) = path.strip_prefix(PREVIEWS) {
        return scope.owns(path, None) && !rest.is_empty() && (3..=4).contains(&depth);
    }
    if scope.preview.is_some() {
        return false;
    }
    if depth > 3 {
        return false;
    }
    let top = path.split('/').next().unwrap_or("");
    if depth == 1 {
        return false;
    }
    if top == "platform" || top == "catalog" || scope.env_names.iter().any(|e| e == top) {
        return true;
    }
    let inner = dir.join(top);
    !(inner.join("platform").is_dir() && inner.join("catalog").is_dir())
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
