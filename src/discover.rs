//! Discovery: which files are specs, and which `paved.yaml` applies.
//!
//! `paved <cmd> [PATH...]`: a file is taken as given; a folder is walked for
//! files named `platform.yaml`, skipping `.git`, `target`, hidden folders and
//! the output folder. Symlinks are not followed, so a link cannot pull in
//! files from outside the tree (or loop). The result is sorted, so the order
//! in which the file system lists entries never reaches the output.

use std::path::{Path, PathBuf};

pub const SPEC_FILE: &str = "platform.yaml";
pub const CONFIG_FILE: &str = "paved.yaml";

#[derive(Debug)]
pub struct Discovered {
    pub specs: Vec<PathBuf>,
    /// The `paved.yaml` that applies, if one was found.
    pub config: Option<PathBuf>,
    /// The folder spec paths in generated headers are relative to: the
    /// config's folder, or the first folder given.
    pub root: PathBuf,
}

/// A path the user named that does not exist (exit 2).
#[derive(Debug)]
pub struct Missing(pub PathBuf);

pub fn discover(
    paths: &[PathBuf],
    config: Option<&Path>,
    out_dir: Option<&Path>,
) -> Result<Discovered, Missing> {
    let paths: Vec<PathBuf> = if paths.is_empty() {
        vec![PathBuf::from(".")]
    } else {
        paths.to_vec()
    };
    let skip = out_dir.and_then(|o| o.canonicalize().ok());
    let mut specs = Vec::new();
    for p in &paths {
        let meta = std::fs::metadata(p).map_err(|_| Missing(p.clone()))?;
        if meta.is_file() {
            // A paved.yaml named directly (pre-commit passes changed files) is
            // the config, not a spec.
            if p.file_name().is_some_and(|n| n == CONFIG_FILE) {
                continue;
            }
            specs.push(p.clone());
            continue;
        }
        let walker = walkdir::WalkDir::new(p)
            .follow_links(false)
            .sort_by_file_name()
            .into_iter()
            .filter_entry(|e| {
                if e.depth() == 0 || !e.file_type().is_dir() {
                    return true;
                }
                let name = e.file_name().to_string_lossy();
                if name.starts_with('.') || name == "target" || name == "node_modules" {
                    return false;
                }
                match (&skip, e.path().canonicalize()) {
                    (Some(skip), Ok(real)) => &real != skip,
                    _ => true,
                }
            });
        for entry in walker.flatten() {
            if entry.file_type().is_file() && entry.file_name() == SPEC_FILE {
                specs.push(entry.into_path());
            }
        }
    }
    specs.sort();
    specs.dedup();

    let config = match config {
        Some(c) => Some(c.to_path_buf()),
        None => find_config(&paths),
    };
    let root = match &config {
        Some(c) => c.parent().map(Path::to_path_buf).unwrap_or_default(),
        None => common_ancestor(&paths),
    };
    Ok(Discovered {
        specs,
        config,
        root,
    })
}

/// The deepest folder containing every given path, so generated headers name
/// specs the same way whatever order the paths were given in.
fn common_ancestor(paths: &[PathBuf]) -> PathBuf {
    let dirs: Vec<PathBuf> = paths
        .iter()
        .map(|p| {
            let d = if p.is_dir() {
                p.clone()
            } else {
                p.parent().map(Path::to_path_buf).unwrap_or_default()
            };
            let d = if d.as_os_str().is_empty() {
                PathBuf::from(".")
            } else {
                d
            };
            d.canonicalize().unwrap_or(d)
        })
        .collect();
    let mut common = dirs[0].clone();
    for d in &dirs[1..] {
        while !d.starts_with(&common) {
            if !common.pop() {
                return PathBuf::from("/");
            }
        }
    }
    common
}

/// Looks for `paved.yaml` in each given folder (or a given file's folder) and
/// then upwards, stopping at the top of a Git repository, like cargo finds
/// `Cargo.toml`. This lets pre-commit pass single changed files.
fn find_config(paths: &[PathBuf]) -> Option<PathBuf> {
    for p in paths {
        if p.is_file() && p.file_name().is_some_and(|n| n == CONFIG_FILE) {
            return Some(p.clone());
        }
        let start = if p.is_dir() {
            p.clone()
        } else {
            p.parent().map(Path::to_path_buf).unwrap_or_default()
        };
        let start = if start.as_os_str().is_empty() {
            PathBuf::from(".")
        } else {
            start
        };
        let Ok(abs) = start.canonicalize() else {
            continue;
        };
        let mut cur: Option<&Path> = Some(&abs);
        while let Some(dir) = cur {
            let candidate = dir.join(CONFIG_FILE);
            if candidate.is_file() {
                // Keep the path relative when it was given relative, so messages stay short.
                return Some(relative_to_cwd(&candidate));
            }
            if dir.join(".git").exists() {
                break;
            }
            cur = dir.parent();
        }
    }
    None
}

fn relative_to_cwd(p: &Path) -> PathBuf {
    std::env::current_dir()
        .ok()
        .and_then(|cwd| cwd.canonicalize().ok())
        .and_then(|cwd| p.strip_prefix(&cwd).ok().map(Path::to_path_buf))
        .unwrap_or_else(|| p.to_path_buf())
}
