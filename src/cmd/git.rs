//! The specs as they were at a Git revision, in a temporary folder.
//!
//! `paved diff --base REF` needs to render the tree of REF. Rather than a
//! `git worktree` (which records itself in `.git/worktrees`, runs checkout
//! hooks and filters, and is left behind when the process is killed), the
//! blobs are read with Git's plumbing (`ls-tree`, `cat-file --batch`) and
//! written into a temporary folder that is removed on drop. The repository
//! and the work tree are never changed; no hook runs.
//!
//! Only what a render reads is extracted: every `platform.yaml` and
//! `paved.yaml`, the file given with `--config`, what sits beside a spec
//! and shows in its catalog entry (`mkdocs.yml`, a file of `docs/`, the API
//! definitions its `apis` name), and the blueprints folders that those
//! `paved.yaml` files name. Symlinks and submodules are skipped,
//! as discovery skips them.

use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use crate::app::Fault;
use crate::load::{self, Documents};
use crate::source::Source;
use crate::workspace::{CONFIG_FILE, SPEC_FILE};

/// A temporary folder holding part of a revision's tree; removed on drop.
pub(crate) struct Snapshot {
    pub dir: PathBuf,
    /// The full commit id the snapshot was taken from.
    pub commit: String,
}

impl Drop for Snapshot {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Runs git in `cwd`; a git that cannot be started is a fault, a failing
/// command is the caller's to judge.
fn run(cwd: &Path, args: &[&str]) -> Result<std::process::Output, Fault> {
    Command::new("git")
        .args(args)
        .current_dir(cwd)
        .stdin(Stdio::null())
        .output()
        .map_err(|e| Fault(format!("cannot run git: {e}")))
}

fn git(cwd: &Path, args: &[&str]) -> Result<Vec<u8>, Fault> {
    let out = run(cwd, args)?;
    if !out.status.success() {
        return Err(Fault(format!(
            "git {} failed: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr).trim()
        )));
    }
    Ok(out.stdout)
}

/// The top folder of the work tree that holds `cwd`.
pub(crate) fn toplevel(cwd: &Path) -> Result<PathBuf, Fault> {
    let out = run(cwd, &["rev-parse", "--show-toplevel"])?;
    if !out.status.success() {
        return Err(Fault(format!(
            "`--base` needs a Git repository, and `{}` is not in one",
            cwd.display()
        )));
    }
    let top = String::from_utf8_lossy(&out.stdout).trim().to_string();
    Ok(PathBuf::from(top))
}

struct Entry {
    oid: String,
    path: String,
}

/// Extracts what rendering needs from `reference` into a new temporary folder.
/// `extra` are repository-relative paths to take as well (e.g. `--config`).
pub(crate) fn snapshot(top: &Path, reference: &str, extra: &[String]) -> Result<Snapshot, Fault> {
    if reference.starts_with('-') {
        return Err(Fault(format!("`{reference}` is not a Git revision")));
    }
    let commit = match git(
        top,
        &[
            "rev-parse",
            "--verify",
            "--quiet",
            "--end-of-options",
            &format!("{reference}^{{commit}}"),
        ],
    ) {
        Ok(out) => String::from_utf8_lossy(&out).trim().to_string(),
        Err(_) => {
            return Err(Fault(format!(
                "unknown Git revision `{reference}` (try a branch, a tag or a commit, e.g. `origin/main`)"
            )))
        }
    };
    let listing = git(top, &["ls-tree", "-r", "-z", "--full-tree", &commit])?;
    let mut all = Vec::new();
    for rec in listing.split(|b| *b == 0).filter(|r| !r.is_empty()) {
        let rec = String::from_utf8_lossy(rec);
        let Some((meta, path)) = rec.split_once('\t') else {
            continue;
        };
        let mut parts = meta.split(' ');
        let (mode, kind, oid) = (parts.next(), parts.next(), parts.next());
        // Regular files only: no symlinks (120000), no submodules (commit).
        if kind != Some("blob") || !matches!(mode, Some("100644") | Some("100755")) {
            continue;
        }
        if let Some(oid) = oid {
            all.push(Entry {
                oid: oid.to_string(),
                path: path.to_string(),
            });
        }
    }
    let name_is = |p: &str, n: &str| p == n || p.ends_with(&format!("/{n}"));
    let mut wanted: Vec<&Entry> = all
        .iter()
        .filter(|e| {
            name_is(&e.path, SPEC_FILE)
                || name_is(&e.path, CONFIG_FILE)
                || extra.iter().any(|x| x == &e.path)
        })
        .collect();
    let dir = temp_dir()?;
    let snap = Snapshot { dir, commit };
    // A `.git` marker bounds the upward search for paved.yaml at the
    // snapshot's root, as the real repository's `.git` does.
    std::fs::write(snap.dir.join(".git"), "")
        .map_err(|e| Fault(format!("cannot write a temporary file: {e}")))?;
    write_blobs(top, &snap.dir, &wanted)?;
    // What a render reads beside each spec: the TechDocs markers (`mkdocs.yml`,
    // and one file of `docs/`, enough for the folder to exist) and the API
    // definitions its `apis` name.
    let by_path: std::collections::BTreeMap<&str, &Entry> =
        all.iter().map(|e| (e.path.as_str(), e)).collect();
    let mut beside: Vec<&Entry> = Vec::new();
    for spec in wanted.iter().filter(|e| name_is(&e.path, SPEC_FILE)) {
        let dir = spec.path.strip_suffix(SPEC_FILE).unwrap_or_default();
        if let Some(e) = by_path.get(format!("{dir}mkdocs.yml").as_str()) {
            beside.push(e);
        }
        let docs = format!("{dir}docs/");
        if let Some((_, e)) = by_path
            .range(docs.as_str()..)
            .next()
            .filter(|(p, _)| p.starts_with(&docs))
        {
            beside.push(e);
        }
        let Ok(text) = std::fs::read_to_string(snap.dir.join(&spec.path)) else {
            continue;
        };
        let src = Source::virtual_file(&spec.path, text);
        let (docs, _) = load::parse(&src, Documents::One);
        let Some(v) = docs.first().map(|d| d.to_json()) else {
            continue;
        };
        let apis = v.pointer("/spec/apis").and_then(|a| a.as_array());
        for def in apis
            .into_iter()
            .flatten()
            .filter_map(|a| a.get("definition")?.as_str())
        {
            if let Some(e) = crate::model::definition_path(&spec.path, def)
                .and_then(|p| by_path.get(p.as_str()).copied())
            {
                beside.push(e);
            }
        }
    }
    write_blobs(top, &snap.dir, &beside)?;
    // Blueprints folders named by the configs just extracted.
    let configs: Vec<String> = wanted
        .iter()
        .filter(|e| name_is(&e.path, CONFIG_FILE) || extra.contains(&e.path))
        .map(|e| e.path.clone())
        .collect();
    let mut folders = Vec::new();
    for c in configs {
        let Ok(text) = std::fs::read_to_string(snap.dir.join(&c)) else {
            continue;
        };
        // The same reader as every other YAML Paved reads; a config it
        // rejects names no blueprint folder (the render reports it).
        let src = Source::virtual_file(&c, text);
        let (docs, diags) = load::parse(&src, Documents::One);
        let (Some(doc), true) = (docs.first(), diags.is_empty()) else {
            continue;
        };
        let v = doc.to_json();
        if let Some(b) = v.pointer("/spec/blueprints").and_then(|b| b.as_str()) {
            let base = Path::new(&c).parent().unwrap_or(Path::new(""));
            folders.push(normalise(&base.join(b)));
        }
    }
    if !folders.is_empty() {
        wanted = all
            .iter()
            .filter(|e| {
                folders
                    .iter()
                    .flatten()
                    .any(|f| e.path.starts_with(&format!("{f}/")))
            })
            .collect();
        write_blobs(top, &snap.dir, &wanted)?;
    }
    Ok(snap)
}

/// `a/./b/../c` → `a/c`, or None when it climbs out of the repository.
fn normalise(p: &Path) -> Option<String> {
    let mut out: Vec<String> = Vec::new();
    for c in p.components() {
        match c {
            std::path::Component::Normal(s) => out.push(s.to_string_lossy().into_owned()),
            std::path::Component::CurDir => {}
            std::path::Component::ParentDir => {
                out.pop()?;
            }
            _ => return None,
        }
    }
    Some(out.join("/"))
}

fn temp_dir() -> Result<PathBuf, Fault> {
    let base = std::env::temp_dir();
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    for i in 0..100u32 {
        let dir = base.join(format!("paved-base-{}-{nanos}-{i}", std::process::id()));
        match std::fs::create_dir(&dir) {
            Ok(()) => return Ok(dir),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(e) => {
                return Err(Fault(format!(
                    "cannot create a temporary folder in `{}`: {e}",
                    base.display()
                )))
            }
        }
    }
    Err(Fault("cannot create a temporary folder".into()))
}

/// Streams the blobs through one `git cat-file --batch` into `dir`.
fn write_blobs(top: &Path, dir: &Path, entries: &[&Entry]) -> Result<(), Fault> {
    if entries.is_empty() {
        return Ok(());
    }
    let mut child = Command::new("git")
        .args(["cat-file", "--batch"])
        .current_dir(top)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| Fault(format!("cannot run git: {e}")))?;
    let mut stdin = child
        .stdin
        .take()
        .ok_or_else(|| Fault("cannot talk to git cat-file".into()))?;
    let ids: String = entries.iter().map(|e| format!("{}\n", e.oid)).collect();
    // Written from another thread: git answers while it reads, and a full
    // pipe in both directions would otherwise block both processes.
    let writer = std::thread::spawn(move || {
        let _ = stdin.write_all(ids.as_bytes());
    });
    let stdout = child
        .stdout
        .take()
        .ok_or_else(|| Fault("cannot talk to git cat-file".into()))?;
    let mut reader = BufReader::new(stdout);
    let result = (|| -> Result<(), Fault> {
        for e in entries {
            let mut header = String::new();
            reader
                .read_line(&mut header)
                .map_err(|err| Fault(format!("cannot read from git cat-file: {err}")))?;
            let size: usize = header
                .trim_end()
                .rsplit(' ')
                .next()
                .and_then(|s| s.parse().ok())
                .ok_or_else(|| Fault(format!("unexpected answer from git cat-file: {header}")))?;
            let mut body = vec![0; size + 1];
            reader
                .read_exact(&mut body)
                .map_err(|err| Fault(format!("cannot read from git cat-file: {err}")))?;
            body.pop(); // the newline after each object
            if !crate::emit::is_contained(&e.path) {
                continue;
            }
            let target = dir.join(&e.path);
            if let Some(parent) = target.parent() {
                std::fs::create_dir_all(parent)
                    .map_err(|err| Fault(format!("cannot write a temporary file: {err}")))?;
            }
            std::fs::write(&target, &body)
                .map_err(|err| Fault(format!("cannot write a temporary file: {err}")))?;
        }
        Ok(())
    })();
    let _ = writer.join();
    let _ = child.wait();
    result
}

#[cfg(test)]
mod tests {
    use super::normalise;
    use std::path::Path;

    #[test]
    fn blueprint_folders_stay_inside_the_repository() {
        assert_eq!(
            normalise(Path::new("platform/./bp")).as_deref(),
            Some("platform/bp")
        );
        assert_eq!(
            normalise(Path::new("platform/../bp")).as_deref(),
            Some("bp")
        );
        assert_eq!(normalise(Path::new("../bp")), None);
        assert_eq!(normalise(Path::new("/etc")), None);
    }
}
