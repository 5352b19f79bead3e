//! Writing planned output into the output folder.
//!
//! - The folder is Paved's only where its header says so: a file at a
//!   planned path without the generated header, a symlink, a folder, a FIFO
//!   or a device there is refused (exit 2) before anything is written.
//! - One run at a time: a render holds an exclusive lock on the folder
//!   (`flock` on the folder itself, so no lock file is left behind); a second
//!   render waits for it, saying so, and `check` takes a shared lock.
//! - Only files whose bytes changed are written, so unchanged files keep their
//!   modification time (`git status`, editors and watchers stay calm).
//! - Each file is written to a temporary file in the same folder and renamed
//!   over the old one, so every file is either whole-old or whole-new.
//!   Temporary names carry the process id and a random part
//!   (`.paved-tmp-<pid>-<16 hex>-<name>`); only names of that shape, outside
//!   hidden folders, are ever cleaned.
//! - A journal (`.paved-incomplete`) exists while files are being written
//!   and removed: a run killed at any moment leaves it behind, `check` then
//!   reports the interrupted render instead of a drift list, and the next
//!   render completes the folder.
//! - Generated files the run owns (see [`super::Scope`]) that the plan no
//!   longer has are removed; nothing else is ever touched.

use std::fs;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use rayon::prelude::*;

use super::{is_contained, OnDisk, OutFile, Planned, Survey};

#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Stats {
    pub written: usize,
    pub unchanged: usize,
    pub removed: usize,
    /// The paths behind `written` and `removed`, sorted, for `--verbose`.
    pub written_files: Vec<String>,
    pub removed_files: Vec<String>,
    /// An interrupted run's journal is still there: this run owned only
    /// part of the folder, so the rest may still mix two renders.
    pub incomplete: bool,
}

/// An I/O problem with the output folder (exit code 2).
#[derive(Debug)]
pub struct WriteError(pub String);

const TMP_MARK: &str = ".paved-tmp-";

/// The journal of a render that is writing; its presence after a run means
/// that run was interrupted.
pub(crate) const JOURNAL: &str = ".paved-incomplete";

/// A lock on an output folder, released when dropped (or when the process
/// ends, however it ends).
#[derive(Debug)]
pub(crate) struct Lock(#[allow(dead_code)] fs::File);

/// Locks `dir` (which must exist): exclusively for a writer, shared for a
/// reader. When another run holds it, `waiting` is told once, then the call
/// blocks until that run ends.
pub(crate) fn lock(dir: &Path, exclusive: bool, waiting: &dyn Fn()) -> Result<Lock, WriteError> {
    let f = fs::File::open(dir).map_err(|e| {
        WriteError(format!(
            "cannot open the output folder `{}`: {e}",
            dir.display()
        ))
    })?;
    let tried = if exclusive {
        f.try_lock()
    } else {
        f.try_lock_shared()
    };
    match tried {
        Ok(()) => {}
        Err(fs::TryLockError::WouldBlock) => {
            waiting();
            let r = if exclusive { f.lock() } else { f.lock_shared() };
            r.map_err(|e| WriteError(format!("cannot lock `{}`: {e}", dir.display())))?;
        }
        Err(fs::TryLockError::Error(e)) => {
            return Err(WriteError(format!("cannot lock `{}`: {e}", dir.display())))
        }
    }
    Ok(Lock(f))
}

/// What an interrupted render's journal says, if one is in `dir`.
pub(crate) fn interrupted(dir: &Path) -> Option<String> {
    let bytes = super::read_regular(&dir.join(JOURNAL), 4096).ok()?;
    let text = String::from_utf8_lossy(&bytes);
    Some(crate::workspace::escape(
        text.lines().next().unwrap_or("").trim(),
    ))
}

/// Writes what `survey` found pending and removes its extra files. Every
/// refusal is checked first, so a refused run leaves the folder as it was.
/// `whole`: the run owns the whole folder (every service, every environment),
/// so it may declare a folder an interrupted run left complete. Call with the
/// exclusive lock held.
pub fn apply<P: Planned>(
    dir: &Path,
    units: &[P],
    survey: &Survey,
    whole: bool,
) -> Result<Stats, WriteError> {
    let refusals = survey.refusals();
    if !refusals.is_empty() {
        return Err(refused(dir, &refusals));
    }
    for p in survey.pending.iter().flatten() {
        preflight(dir, &p.path)?;
    }
    let journal = dir.join(JOURNAL);
    let earlier = match fs::symlink_metadata(&journal) {
        Ok(m) if m.is_file() => true,
        Ok(m) => {
            return Err(WriteError(format!(
                "refusing to write into `{}`: `{JOURNAL}` there is {}, and Paved never writes through it; remove it",
                dir.display(),
                super::special_kind(m.file_type())
            )))
        }
        Err(_) => false,
    };
    let mut stats = Stats {
        unchanged: survey.unchanged,
        // A run that owns only part of the folder cannot complete what an
        // interrupted run left: the journal stays until a whole run.
        incomplete: earlier && !whole,
        ..Stats::default()
    };
    clean_temporaries(dir);
    if survey.is_clean() {
        // A run killed after its last change leaves only its journal.
        if earlier && whole {
            remove_journal(&journal)?;
        }
        return Ok(stats);
    }
    if !earlier {
        create_journal(dir, &journal)?;
    }
    let per_unit: Vec<Result<(usize, Vec<String>), WriteError>> = units
        .par_iter()
        .zip(survey.pending.par_iter())
        .filter(|(_, pending)| !pending.is_empty())
        .map(|(u, pending)| {
            let mut written = Vec::new();
            let mut unchanged = 0;
            for file in u.files() {
                if !pending.iter().any(|p| p.path == file.path) {
                    continue;
                }
                if write_file(dir, &file)? {
                    written.push(file.path);
                } else {
                    unchanged += 1;
                }
            }
            Ok((unchanged, written))
        })
        .collect();
    for r in per_unit {
        let (unchanged, written) = r?;
        stats.unchanged += unchanged;
        stats.written_files.extend(written);
    }
    stats.written_files.sort();
    stats.written = stats.written_files.len();
    for rel in &survey.extra {
        if !is_contained(rel) {
            continue;
        }
        let path = dir.join(rel);
        fs::remove_file(&path)
            .map_err(|e| WriteError(format!("cannot remove stale `{}`: {e}", path.display())))?;
        remove_empty_parents(dir, &path);
        stats.removed_files.push(rel.clone());
    }
    stats.removed = stats.removed_files.len();
    if !stats.incomplete {
        remove_journal(&journal)?;
    }
    Ok(stats)
}

/// Creates the journal as a new regular file: never through a link, never
/// into a FIFO (`O_CREAT | O_EXCL` refuses both).
fn create_journal(dir: &Path, journal: &Path) -> Result<(), WriteError> {
    let text = format!(
        "paved render (process {}) stopped before it finished writing\n",
        std::process::id()
    );
    fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(journal)
        .and_then(|mut f| f.write_all(text.as_bytes()))
        .map_err(|e| {
            WriteError(format!(
                "the output folder `{}` is not writable: {e}",
                dir.display()
            ))
        })
}

fn remove_journal(journal: &Path) -> Result<(), WriteError> {
    fs::remove_file(journal)
        .map_err(|e| WriteError(format!("cannot remove `{}`: {e}", journal.display())))
}

/// The refusal of a run that would overwrite what is not Paved's.
fn refused(dir: &Path, refusals: &[(&str, String)]) -> WriteError {
    const SHOWN: usize = 20;
    let mut msg = format!(
        "refusing to write into `{}`: {} planned path{} hold{} something Paved did not generate, and nothing was written:",
        dir.display(),
        refusals.len(),
        if refusals.len() == 1 { "" } else { "s" },
        if refusals.len() == 1 { "s" } else { "" },
    );
    for (path, what) in refusals.iter().take(SHOWN) {
        msg.push_str(&format!(
            "
    {}/{}: {what}",
            dir.display(),
            crate::workspace::escape(path)
        ));
    }
    if refusals.len() > SHOWN {
        msg.push_str(&format!(
            "
    … and {} more",
            refusals.len() - SHOWN
        ));
    }
    msg.push_str(
        "
  move them out of the output folder (or delete them) and run again",
    );
    WriteError(msg)
}

/// Writes one file unless it already holds exactly these bytes (so its
/// modification time is kept). Returns whether it was written. Safe to call
/// from several threads for different files.
pub(crate) fn write_file(dir: &Path, f: &OutFile) -> Result<bool, WriteError> {
    if !is_contained(&f.path) {
        return Err(WriteError(format!(
            "refusing to write `{}`: the path leaves the output folder",
            f.path
        )));
    }
    let target = dir.join(&f.path);
    ensure_parent(dir, &f.path)?;
    let digest = super::digest(f);
    match super::inspect(dir, &digest) {
        OnDisk::UpToDate => return Ok(false),
        OnDisk::Missing | OnDisk::Generated => {}
        OnDisk::Foreign => {
            return Err(WriteError(format!(
                "refusing to overwrite `{}`: Paved did not generate it",
                target.display()
            )))
        }
        OnDisk::Special(what) => {
            return Err(WriteError(format!(
                "refusing to write `{}`: it is {what}, and Paved writes only regular files it generated",
                target.display()
            )))
        }
    }
    atomic_write(&target, f.content.as_bytes(), None)?;
    Ok(true)
}

/// The output folder must be a real folder (created if only it is missing).
pub(crate) fn prepare(dir: &Path) -> Result<(), WriteError> {
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
    Ok(())
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

/// One spec file `paved promote` replaces: where it is, its name as shown,
/// the text it was compiled from (as the loader read it: without a
/// byte-order mark) and its new text.
pub(crate) struct SpecEdit<'a> {
    pub path: &'a Path,
    pub name: &'a str,
    pub read: &'a str,
    pub text: &'a str,
}

/// What a spec file held before it was replaced.
struct Original {
    bytes: Vec<u8>,
    permissions: fs::Permissions,
}

const BOM: &[u8] = b"\xEF\xBB\xBF";

/// Replaces spec files, all or nothing (`paved promote`). Each file must
/// still be a regular file holding the text it was compiled from (checked
/// for every file first, then again right before each write, so an edit
/// made in the meantime is never overwritten); each is written to a
/// temporary file beside it, given the original's permissions and renamed
/// over it, and keeps its byte-order mark if it had one. When a write
/// fails, the files written before it are restored from their bytes kept in
/// memory, and the error names the file.
pub(crate) fn replace_specs(edits: &[SpecEdit<'_>]) -> Result<(), WriteError> {
    let mut originals = Vec::with_capacity(edits.len());
    for e in edits {
        originals.push(current(e)?);
    }
    for (i, (e, original)) in edits.iter().zip(&originals).enumerate() {
        let written = current(e).and_then(|_| {
            let mut bytes = Vec::with_capacity(e.text.len() + BOM.len());
            if original.bytes.starts_with(BOM) {
                bytes.extend_from_slice(BOM);
            }
            bytes.extend_from_slice(e.text.as_bytes());
            atomic_write(e.path, &bytes, Some(&original.permissions))
        });
        if let Err(why) = written {
            let why = why.0.replace(&e.path.display().to_string(), e.name);
            let mut failed_restores = Vec::new();
            for (done, original) in edits[..i].iter().zip(&originals) {
                if atomic_write(done.path, &original.bytes, Some(&original.permissions)).is_err() {
                    failed_restores.push(format!("`{}`", done.name));
                }
            }
            let restored = match (i, failed_restores.is_empty()) {
                (0, _) => "no spec was written".to_string(),
                (1, true) => "the 1 spec written before it was restored, so no spec changed".into(),
                (n, true) => {
                    format!("the {n} specs written before it were restored, so no spec changed")
                }
                (_, false) => format!(
                    "restoring the specs written before it failed for {}: check them with `git diff`",
                    failed_restores.join(", ")
                ),
            };
            return Err(WriteError(format!("{why}; {restored}")));
        }
    }
    Ok(())
}

/// A spec file's bytes and permissions, when it is still a regular file
/// holding the text it was compiled from.
fn current(e: &SpecEdit<'_>) -> Result<Original, WriteError> {
    let meta = fs::symlink_metadata(e.path)
        .map_err(|err| WriteError(format!("cannot write `{}`: {err}", e.name)))?;
    if !meta.is_file() {
        return Err(WriteError(format!(
            "refusing to write `{}`: it is not a regular file",
            e.name
        )));
    }
    let bytes =
        fs::read(e.path).map_err(|err| WriteError(format!("cannot read `{}`: {err}", e.name)))?;
    if bytes.strip_prefix(BOM).unwrap_or(&bytes) != e.read.as_bytes() {
        return Err(WriteError(format!(
            "cannot write `{}`: it changed since it was read; run the promotion again",
            e.name
        )));
    }
    Ok(Original {
        bytes,
        permissions: meta.permissions(),
    })
}

/// Writes `bytes` to a temporary file beside `target` and renames it over
/// `target`; with `permissions`, the temporary file gets them first (the
/// spec files `paved promote` replaces keep theirs).
fn atomic_write(
    target: &Path,
    bytes: &[u8],
    permissions: Option<&fs::Permissions>,
) -> Result<(), WriteError> {
    let name = target
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = target.with_file_name(format!(
        "{TMP_MARK}{}-{:016x}-{name}",
        std::process::id(),
        random()
    ));
    let result = (|| -> std::io::Result<()> {
        let mut f = fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&tmp)?;
        f.write_all(bytes)?;
        if let Some(p) = permissions {
            f.set_permissions(p.clone())?;
        }
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

/// A random 64-bit number from the standard library's hasher keys.
fn random() -> u64 {
    use std::hash::{BuildHasher as _, Hasher as _};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos()),
    );
    h.finish()
}

/// Whether `name` is a temporary file name only Paved makes:
/// `.paved-tmp-<pid>-<16 hex digits>-<name>`.
fn is_temporary(name: &str) -> bool {
    let Some(rest) = name.strip_prefix(TMP_MARK) else {
        return false;
    };
    let Some((pid, rest)) = rest.split_once('-') else {
        return false;
    };
    let Some((rand, file)) = rest.split_once('-') else {
        return false;
    };
    !pid.is_empty()
        && pid.bytes().all(|b| b.is_ascii_digit())
        && rand.len() == 16
        && rand.bytes().all(|b| b.is_ascii_hexdigit())
        && !file.is_empty()
}

/// Removes the temporary files a killed run left behind: only names of
/// Paved's own shape, only regular files, never inside hidden folders (such
/// as a `.git` in the output folder). Call with the exclusive lock held.
fn clean_temporaries(dir: &Path) {
    for entry in walkdir::WalkDir::new(dir)
        .follow_links(false)
        .into_iter()
        .filter_entry(|e| {
            e.depth() == 0
                || !e.file_type().is_dir()
                || !e.file_name().to_string_lossy().starts_with('.')
        })
        .flatten()
    {
        if entry.file_type().is_file() && is_temporary(&entry.file_name().to_string_lossy()) {
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

/// Removes the folder `rel` (e.g. `previews/42`) of the output folder `dir`
/// and everything in it, when everything in it is Paved's: folders and
/// regular files with the generated header. Anything else (a file of the
/// user's, a symlink, a FIFO) is named and nothing is removed. Returns the
/// removed files, relative to `dir`. Call with the exclusive lock held.
pub(crate) fn remove_generated_folder(dir: &Path, rel: &str) -> Result<Vec<String>, WriteError> {
    if !is_contained(rel) {
        return Err(WriteError(format!(
            "refusing to remove `{rel}`: the path leaves the output folder"
        )));
    }
    // Every folder on the way must be a real folder inside the output
    // folder: a symlinked `previews/` would point the removal elsewhere
    // (render refuses the same layout).
    let mut on_the_way = dir.to_path_buf();
    for part in Path::new(rel)
        .parent()
        .into_iter()
        .flat_map(Path::components)
    {
        on_the_way.push(part);
        if fs::symlink_metadata(&on_the_way).is_ok_and(|m| !m.is_dir()) {
            return Err(WriteError(format!(
                "refusing to remove `{rel}`: `{}` is not a folder of the output folder (a symlink or a file)",
                on_the_way.display()
            )));
        }
    }
    let root = dir.join(rel);
    match fs::symlink_metadata(&root) {
        Ok(m) if m.is_dir() => {}
        Ok(m) => {
            return Err(WriteError(format!(
                "refusing to remove `{}`: it is {}, not a folder Paved generated",
                root.display(),
                super::special_kind(m.file_type())
            )))
        }
        Err(_) => {
            return Err(WriteError(format!(
                "there is no `{}` to remove",
                root.display()
            )))
        }
    }
    let mut files = Vec::new();
    let mut folders = Vec::new();
    let mut refused = Vec::new();
    for e in walkdir::WalkDir::new(&root)
        .follow_links(false)
        .sort_by_file_name()
    {
        let e = e.map_err(|e| WriteError(format!("cannot read `{}`: {e}", root.display())))?;
        let Ok(inner) = e.path().strip_prefix(dir) else {
            continue;
        };
        let shown = crate::source::display_path(inner, Path::new(""));
        let ft = e.file_type();
        if ft.is_dir() {
            folders.push(e.path().to_path_buf());
        } else if ft.is_file()
            && super::first_line(e.path())
                .is_some_and(|l| super::header::is_generated(l.as_bytes()))
        {
            files.push((e.path().to_path_buf(), shown));
        } else if ft.is_file() {
            refused.push(format!("{shown}: Paved did not generate it"));
        } else {
            refused.push(format!("{shown}: it is {}", super::special_kind(ft)));
        }
    }
    if !refused.is_empty() {
        return Err(WriteError(format!(
            "refusing to remove `{}`, which holds what Paved did not generate:\n{}\n  move them out of the folder (or delete them) and run again",
            root.display(),
            refused
                .iter()
                .map(|r| format!("  {}", crate::workspace::escape(r)))
                .collect::<Vec<_>>()
                .join("\n")
        )));
    }
    let mut removed = Vec::new();
    for (path, shown) in files {
        fs::remove_file(&path)
            .map_err(|e| WriteError(format!("cannot remove `{}`: {e}", path.display())))?;
        removed.push(shown);
    }
    // Deepest first; a folder something else appeared in meanwhile stays.
    for f in folders.iter().rev() {
        let _ = fs::remove_dir(f);
    }
    if let Some(parent) = root.parent().filter(|p| *p != dir) {
        let _ = fs::remove_dir(parent);
    }
    Ok(removed)
}

#[cfg(test)]
mod tests {
    use super::{is_temporary, replace_specs, SpecEdit};

    #[test]
    fn a_spec_changed_since_it_was_read_is_never_overwritten() {
        let dir = tempfile::tempdir().unwrap();
        let (a, b) = (dir.path().join("a.yaml"), dir.path().join("b.yaml"));
        std::fs::write(&a, "a: 1\n").unwrap();
        std::fs::write(&b, "b: 2 # edited meanwhile\n").unwrap();
        let edits = [
            SpecEdit {
                path: &a,
                name: "a.yaml",
                read: "a: 1\n",
                text: "a: 9\n",
            },
            SpecEdit {
                path: &b,
                name: "b.yaml",
                read: "b: 2\n",
                text: "b: 9\n",
            },
        ];
        let err = replace_specs(&edits).unwrap_err().0;
        assert!(
            err.contains("`b.yaml`: it changed since it was read"),
            "{err}"
        );
        assert_eq!(std::fs::read_to_string(&a).unwrap(), "a: 1\n");
        assert_eq!(
            std::fs::read_to_string(&b).unwrap(),
            "b: 2 # edited meanwhile\n"
        );
    }

    #[test]
    fn a_change_found_right_before_a_write_restores_the_files_written() {
        // The second edit of the same file finds it no longer holds the
        // text it was read as (the first edit wrote it): the first is undone.
        let dir = tempfile::tempdir().unwrap();
        let a = dir.path().join("a.yaml");
        std::fs::write(&a, "\u{feff}a: 1\n").unwrap();
        let edits = [
            SpecEdit {
                path: &a,
                name: "a.yaml",
                read: "a: 1\n",
                text: "a: 2\n",
            },
            SpecEdit {
                path: &a,
                name: "a.yaml",
                read: "a: 1\n",
                text: "a: 3\n",
            },
        ];
        let err = replace_specs(&edits).unwrap_err().0;
        assert!(err.contains("changed since it was read"), "{err}");
        assert!(
            err.contains("the 1 spec written before it was restored"),
            "{err}"
        );
        assert_eq!(std::fs::read_to_string(&a).unwrap(), "\u{feff}a: 1\n");
        // Without a conflict, both land, the byte-order mark kept.
        replace_specs(&edits[..1]).unwrap();
        assert_eq!(std::fs::read_to_string(&a).unwrap(), "\u{feff}a: 2\n");
        let left: Vec<_> = std::fs::read_dir(dir.path()).unwrap().flatten().collect();
        assert_eq!(left.len(), 1, "no temporary file is left");
    }

    #[test]
    fn only_paveds_own_temporary_names_are_temporaries() {
        assert!(is_temporary(
            ".paved-tmp-123-00ff00ff00ff00ff-deployment-x.yaml"
        ));
        for name in [
            ".paved-tmp-notes",
            ".paved-tmp-1234-mine.yaml",
            ".paved-tmp-12-00ff00ff00ff00fg-x",
            ".paved-tmp-x-00ff00ff00ff00ff-x",
            ".paved-tmp-12-00ff00ff00ff00ff-",
        ] {
            assert!(!is_temporary(name), "{name}");
        }
    }
}
