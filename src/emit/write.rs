//! Writing a plan into the output folder.
//!
//! - Only files whose bytes changed are written, so unchanged files keep their
//!   modification time (`git status`, editors and watchers stay calm).
//! - Each file is written to a temporary file in the same folder and renamed
//!   over the old one, so a run killed at any moment leaves every file either
//!   whole-old or whole-new, never half-written.
//! - Nothing is written through a symlink, and no path leaves the folder.
//! - Files Paved generated earlier (they start with the generated header) that
//!   the new plan no longer has are removed; any other file is never touched.

use std::fs;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use std::collections::HashSet;

use super::{generated_paths_except, is_contained, OutFile, Plan};

#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Stats {
    pub written: usize,
    pub unchanged: usize,
    pub removed: usize,
    /// The paths behind `written` and `removed`, for `--verbose`.
    pub written_files: Vec<String>,
    pub removed_files: Vec<String>,
}

/// An I/O problem with the output folder (exit code 2).
#[derive(Debug)]
pub struct WriteError(pub String);

const TMP_MARK: &str = ".paved-tmp-";

pub fn write(plan: &Plan, dir: &Path) -> Result<Stats, WriteError> {
    let paths: Vec<&str> = plan.files.iter().map(|f| f.path.as_str()).collect();
    begin(dir, &paths)?;
    let mut stats = Stats::default();
    for f in &plan.files {
        if write_file(dir, f)? {
            stats.written += 1;
            stats.written_files.push(f.path.clone());
        } else {
            stats.unchanged += 1;
        }
    }
    let keep: HashSet<&str> = paths.into_iter().collect();
    stats.removed_files = remove_stale(dir, &keep)?;
    stats.removed = stats.removed_files.len();
    Ok(stats)
}

/// Readies `dir` for writing `paths`: creates it if only it is missing,
/// removes temporaries a killed run left, and checks every refusal (a
/// symlink, a folder or file in the way, a path that leaves DIR) before the
/// first write, so a refused run leaves the folder exactly as it was.
pub fn begin(dir: &Path, paths: &[&str]) -> Result<(), WriteError> {
    prepare(dir)?;
    clean_temporaries(dir);
    for p in paths {
        preflight(dir, p)?;
    }
    Ok(())
}

/// Writes one file unless it already holds exactly these bytes (so its
/// modification time is kept). Returns whether it was written. Safe to call
/// from several threads for different files.
pub fn write_file(dir: &Path, f: &OutFile) -> Result<bool, WriteError> {
    if !is_contained(&f.path) {
        return Err(WriteError(format!(
            "refusing to write `{}`: the path leaves the output folder",
            f.path
        )));
    }
    let target = dir.join(&f.path);
    ensure_parent(dir, &f.path)?;
    match fs::symlink_metadata(&target) {
        Ok(m) if m.file_type().is_symlink() => {
            return Err(WriteError(format!(
                "refusing to write `{}`: it is a symlink, and Paved never writes through symlinks",
                target.display()
            )));
        }
        Ok(m) if m.is_dir() => {
            return Err(WriteError(format!(
                "cannot write `{}`: a folder of that name exists",
                target.display()
            )));
        }
        Ok(m)
            if m.len() == f.content.len() as u64
                && fs::read(&target).is_ok_and(|b| b == f.content.as_bytes()) =>
        {
            return Ok(false);
        }
        _ => {}
    }
    atomic_write(&target, f.content.as_bytes())?;
    Ok(true)
}

/// Removes the files Paved generated earlier that are not in `keep`, and the
/// folders that leaves empty. Files without the generated header are never touched.
pub fn remove_stale(dir: &Path, keep: &HashSet<&str>) -> Result<Vec<String>, WriteError> {
    let mut removed = Vec::new();
    for rel in generated_paths_except(dir, keep) {
        if !is_contained(&rel) {
            continue;
        }
        let path = dir.join(&rel);
        fs::remove_file(&path)
            .map_err(|e| WriteError(format!("cannot remove stale `{}`: {e}", path.display())))?;
        remove_empty_parents(dir, &path);
        removed.push(rel);
    }
    Ok(removed)
}

/// The output folder must be a real folder (created if only it is missing) and writable.
fn prepare(dir: &Path) -> Result<(), WriteError> {
    match fs::symlink_metadata(dir) {
        Ok(m) if m.is_dir() => {}
        Ok(m) if m.file_type().is_symlink() => {
            // A symlinked output folder itself is the user's choice (e.g. into
            // another checkout); what is refused is a symlink *inside* it.
            if !dir.is_dir() {
                return Err(WriteError(format!(
                    "the output folder `{}` is a symlink to nothing",
                    dir.display()
                )));
            }
        }
        Ok(_) => {
            return Err(WriteError(format!(
                "the output path `{}` exists and is not a folder",
                dir.display()
            )))
        }
        Err(_) => {
            let parent = dir
                .parent()
                .filter(|p| !p.as_os_str().is_empty())
                .unwrap_or(Path::new("."));
            if !parent.is_dir() {
                let problem = if parent.exists() {
                    "is not a folder"
                } else {
                    "does not exist"
                };
                return Err(WriteError(format!(
                    "cannot create the output folder `{}`: its parent `{}` {problem}",
                    dir.display(),
                    parent.display()
                )));
            }
            fs::create_dir(dir).map_err(|e| {
                WriteError(format!(
                    "cannot create the output folder `{}`: {e}",
                    dir.display()
                ))
            })?;
        }
    }
    let probe = dir.join(format!("{TMP_MARK}probe-{}", std::process::id()));
    match fs::File::create(&probe) {
        Ok(_) => {
            let _ = fs::remove_file(&probe);
            Ok(())
        }
        Err(e) => Err(WriteError(format!(
            "the output folder `{}` is not writable: {e}",
            dir.display()
        ))),
    }
}

/// Checks, without changing anything, that `rel` can be written inside `dir`:
/// it stays inside, no existing folder on the way is a symlink or a file, and
/// the target itself is not a symlink or a folder.
fn preflight(dir: &Path, rel: &str) -> Result<(), WriteError> {
    if !is_contained(rel) {
        return Err(WriteError(format!(
            "refusing to write `{rel}`: the path leaves the output folder"
        )));
    }
    let mut cur = PathBuf::from(dir);
    let parts: Vec<&str> = rel.split('/').collect();
    for (i, part) in parts.iter().enumerate() {
        cur.push(part);
        let last = i + 1 == parts.len();
        match fs::symlink_metadata(&cur) {
            Err(_) => return Ok(()),
            Ok(m) if m.file_type().is_symlink() => {
                let what = if last { "write" } else { "write into" };
                return Err(WriteError(format!(
                    "refusing to {what} `{}`: it is a symlink, and Paved never writes through symlinks",
                    cur.display()
                )));
            }
            Ok(m) if last && m.is_dir() => {
                return Err(WriteError(format!(
                    "cannot write `{}`: a folder of that name exists",
                    cur.display()
                )))
            }
            Ok(m) if !last && !m.is_dir() => {
                return Err(WriteError(format!(
                    "cannot create folder `{}`: a file of that name exists",
                    cur.display()
                )))
            }
            Ok(_) => {}
        }
    }
    Ok(())
}

/// Creates the parent folders of `rel` inside `dir`, refusing symlinked ones.
fn ensure_parent(dir: &Path, rel: &str) -> Result<(), WriteError> {
    let mut cur = PathBuf::from(dir);
    let parts: Vec<&str> = rel.split('/').collect();
    for part in &parts[..parts.len() - 1] {
        cur.push(part);
        match fs::symlink_metadata(&cur) {
            Ok(m) if m.is_dir() => {}
            Ok(m) if m.file_type().is_symlink() => {
                return Err(WriteError(format!(
                    "refusing to write into `{}`: it is a symlink, and Paved never writes through symlinks",
                    cur.display()
                )))
            }
            Ok(_) => return Err(WriteError(format!("cannot create folder `{}`: a file of that name exists", cur.display()))),
            Err(_) => match fs::create_dir(&cur) {
                Ok(()) => {}
                // Another thread of this run created it a moment ago.
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists && cur.is_dir() => {}
                Err(e) => return Err(WriteError(format!("cannot create folder `{}`: {e}", cur.display()))),
            },
        }
    }
    Ok(())
}

fn atomic_write(target: &Path, bytes: &[u8]) -> Result<(), WriteError> {
    let name = target
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = target.with_file_name(format!("{TMP_MARK}{}-{name}", std::process::id()));
    let result = (|| -> std::io::Result<()> {
        let mut f = fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&tmp)?;
        f.write_all(bytes)?;
        // No fsync: the rename makes a killed run safe (the kernel keeps the
        // written data); syncing every file would cost more than rendering
        // and is only needed against power loss, which `git` recovers from.
        fs::rename(&tmp, target)
    })();
    result.map_err(|e| {
        let _ = fs::remove_file(&tmp);
        WriteError(format!("cannot write `{}`: {e}", target.display()))
    })
}

/// Removes temporary files a killed run left behind.
fn clean_temporaries(dir: &Path) {
    for entry in walkdir::WalkDir::new(dir)
        .follow_links(false)
        .into_iter()
        .flatten()
    {
        if entry.file_type().is_file() && entry.file_name().to_string_lossy().starts_with(TMP_MARK)
        {
            let _ = fs::remove_file(entry.path());
        }
    }
}

fn remove_empty_parents(dir: &Path, file: &Path) {
    let mut cur = file.parent();
    while let Some(p) = cur {
        if p == dir || !p.starts_with(dir) {
            break;
        }
        if fs::remove_dir(p).is_err() {
            break;
        }
        cur = p.parent();
    }
}
