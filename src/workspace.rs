//! The workspace: the folder Paved compiles as one unit, every spec in it,
//! and which of them a command's paths select.
//!
//! - **The root** is the folder of the platform config: `--config FILE`, else
//!   the nearest `paved.yaml` at or above the first path (or the current
//!   folder), searching up to the top of the Git repository. Without one, the
//!   root is the Git top-level, else the folder given. A `--config` outside
//!   the tree of the paths (`--config platform/paved.yaml` beside
//!   `services/`) makes the Git top-level above it the root.
//! - **Every spec** under the root is part of the workspace, whatever the
//!   paths: every command compiles the whole repository, so cross-file facts
//!   (dependents, unique names, Argo CD projects, NetworkPolicies) are always
//!   the whole repository's. Hidden folders, `target`, `node_modules`, the
//!   output folder and folders holding another `paved.yaml` (another
//!   workspace) are not searched; symlinks are not followed.
//! - **Paths select** which services a command reports, renders, writes,
//!   checks or diffs: a folder selects the specs under it, a `platform.yaml`
//!   itself, a `paved.yaml` the whole workspace.
//! - Every path that reaches a rendered byte is relative to the root with `/`
//!   separators ([`Spec::rel`]); paths shown to people are relative to the
//!   current folder ([`Workspace::shown`]), as compilers show them.
//!
//! Architecture invariant: reads directory listings, metadata and the first
//! bytes of a spec (to tell a generated file); knows nothing of YAML or of
//! what a spec holds.

use std::path::{Component, Path, PathBuf};

use crate::source::Overlay;

pub(crate) const SPEC_FILE: &str = "platform.yaml";
pub(crate) const CONFIG_FILE: &str = "paved.yaml";

/// What a command asked for.
#[derive(Debug, Clone, Default)]
pub(crate) struct Request {
    /// Paths selecting services; empty means the current folder.
    pub paths: Vec<PathBuf>,
    pub config: Option<PathBuf>,
    /// The output folder given (relative to the current folder), never
    /// searched for specs.
    pub out_dir: Option<PathBuf>,
    /// Without `out_dir`, use [`DEFAULT_OUT`] in the root (like cargo's
    /// `target/`, the same folder from anywhere in the workspace).
    pub default_out: bool,
    /// Unsaved editor buffers (`paved lsp`): a `platform.yaml` among them
    /// is a spec even before it is saved, where discovery would find it.
    pub overlay: Option<std::sync::Arc<Overlay>>,
    /// Walks kept from earlier runs (`paved lsp`): the folder is walked
    /// again only after [`Walks::clear`].
    pub walks: Option<std::sync::Arc<Walks>>,
}

/// The specs each walk found, kept between runs of a long-lived process
/// (`paved lsp`, which checks the workspace on every edit): the folder is
/// walked once, and again only after [`Walks::clear`] (the editor said files
/// changed on disk). One entry per workspace walked.
#[derive(Debug, Default)]
pub(crate) struct Walks {
    found: std::sync::Mutex<std::collections::HashMap<WalkKey, Found>>,
    walked: std::sync::atomic::AtomicUsize,
}

/// What a walk depends on: the root, the config and the skipped output folder.
type WalkKey = (PathBuf, Option<PathBuf>, Option<PathBuf>);

impl Walks {
    /// Forgets every walk: the next run walks again.
    pub(crate) fn clear(&self) {
        if let Ok(mut found) = self.found.lock() {
            found.clear();
        }
    }

    /// Forgets the walks of workspaces whose root is not in `roots`.
    pub(crate) fn keep_only(&self, roots: &[PathBuf]) {
        if let Ok(mut found) = self.found.lock() {
            found.retain(|k, _| roots.contains(&k.0));
        }
    }

    /// Whether a kept walk found the spec at `path`.
    pub(crate) fn found(&self, path: &Path) -> bool {
        self.found.lock().is_ok_and(|f| {
            f.values()
                .any(|(specs, _)| specs.iter().any(|(p, _, _)| p == path))
        })
    }

    /// How many times a folder was walked (for tests).
    pub(crate) fn walked(&self) -> usize {
        self.walked.load(std::sync::atomic::Ordering::Relaxed)
    }

    fn walk(
        &self,
        root: &Path,
        config: Option<&Path>,
        out_dir: Option<&Path>,
    ) -> Result<Found, String> {
        let key = (
            root.to_path_buf(),
            config.map(Path::to_path_buf),
            out_dir.map(Path::to_path_buf),
        );
        if let Some(found) = self.found.lock().ok().and_then(|f| f.get(&key).cloned()) {
            return Ok(found);
        }
        self.walked
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let found = walk(root, config, out_dir)?;
        if let Ok(mut f) = self.found.lock() {
            f.insert(key, found.clone());
        }
        Ok(found)
    }
}

/// The output folder when none is given, relative to the workspace root.
pub(crate) const DEFAULT_OUT: &str = "rendered";

/// One spec of the workspace.
#[derive(Debug, Clone)]
pub struct Spec {
    /// Absolute path, to read it.
    pub path: PathBuf,
    /// Relative to the root, with `/`: what rendered files name.
    pub rel: String,
    /// Whether the command's paths select it.
    pub selected: bool,
    /// A `docs/` folder or an `mkdocs.yml` file sits beside it: the
    /// service's TechDocs source (docs/catalog.md).
    pub techdocs: bool,
}

/// A `platform.yaml` that is not read, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Skip {
    /// A symlink: never followed, so a link cannot pull in a file from outside.
    Symlink,
    /// A FIFO, device or socket.
    NotAFile,
    /// Its path holds a control character or is not UTF-8: it would reach
    /// generated headers and terminals.
    BadName(String),
}

#[derive(Debug, Clone)]
pub struct Skipped {
    pub path: PathBuf,
    /// Relative to the root, control characters escaped.
    pub rel: String,
    pub selected: bool,
    pub why: Skip,
}

#[derive(Debug)]
pub struct Workspace {
    /// Absolute.
    pub root: PathBuf,
    /// The current folder, absolute: paths are shown relative to it.
    pub cwd: PathBuf,
    /// The platform config in use, absolute; `None`: the built-in one.
    pub config: Option<PathBuf>,
    /// Every spec, sorted by `rel`.
    pub specs: Vec<Spec>,
    pub skipped: Vec<Skipped>,
    /// Root-relative prefixes the paths select; `None`: the whole workspace.
    pub selection: Option<Vec<String>>,
    /// The output folder: as given, or [`DEFAULT_OUT`] in the root.
    pub out_dir: Option<PathBuf>,
}

impl Workspace {
    /// `path` as people should see it: relative to the current folder when
    /// that is shorter to read (`../inventory/platform.yaml`), with `/`.
    pub fn shown(&self, path: &Path) -> String {
        escape(&relative(path, &self.cwd))
    }

    /// The root as shown to people (`.` when it is the current folder).
    pub fn root_shown(&self) -> String {
        self.shown(&self.root)
    }

    /// The config as shown in summaries.
    pub fn config_shown(&self) -> String {
        match &self.config {
            Some(c) => self.shown(c),
            None => "built-in config".to_string(),
        }
    }

    /// Whether a root-relative spec path is selected.
    pub fn selects(&self, rel: &str) -> bool {
        selects(self.selection.as_deref(), rel)
    }

    /// The output folder as shown to people: as given, or relative to the
    /// current folder when it is the default one.
    pub fn out_shown(&self) -> String {
        match &self.out_dir {
            Some(o) if o.is_absolute() && o.starts_with(&self.root) => self.shown(o),
            Some(o) => escape(&o.display().to_string()),
            None => String::new(),
        }
    }

    /// Whether the paths select every service.
    pub fn whole(&self) -> bool {
        self.selection.is_none()
    }
}

pub(crate) fn selects(selection: Option<&[String]>, rel: &str) -> bool {
    match selection {
        None => true,
        Some(prefixes) => prefixes
            .iter()
            .any(|p| p.is_empty() || rel == p || rel.starts_with(&format!("{p}/"))),
    }
}

/// Finds the workspace for a request. An `Err` is a fault of the request
/// (exit 2), worded for the user.
pub(crate) fn open(req: &Request) -> Result<Workspace, String> {
    let cwd = std::env::current_dir()
        .and_then(|c| c.canonicalize())
        .map_err(|e| format!("cannot read the current folder: {e}"))?;
    let given: Vec<PathBuf> = if req.paths.is_empty() {
        vec![PathBuf::from(".")]
    } else {
        req.paths.clone()
    };

    // Each path: what it is, absolute.
    let mut args: Vec<(PathBuf, PathBuf, Arg)> = Vec::new();
    for p in &given {
        let shown = p.display().to_string();
        let meta = std::fs::metadata(p).map_err(|e| match e.kind() {
            std::io::ErrorKind::NotFound => format!("no such file or folder: `{}`", escape(&shown)),
            _ => format!("cannot read `{}`: {e}", escape(&shown)),
        })?;
        let abs = p
            .canonicalize()
            .map_err(|e| format!("cannot read `{}`: {e}", escape(&shown)))?;
        let kind = if meta.is_dir() {
            Arg::Folder
        } else if !meta.is_file() {
            return Err(format!(
                "`{}` is not a spec file or a folder (specs are files named {SPEC_FILE})",
                escape(&shown)
            ));
        } else if p.file_name().is_some_and(|n| n == CONFIG_FILE) {
            Arg::Config
        } else if p.file_name().is_some_and(|n| n == SPEC_FILE) {
            if std::fs::symlink_metadata(p).is_ok_and(|m| m.file_type().is_symlink()) {
                return Err(format!(
                    "`{}` is a symlink, and Paved does not follow symlinked specs; name the file it points to",
                    escape(&shown)
                ));
            }
            Arg::Spec
        } else {
            return Err(format!(
                "`{}` is not a spec: Paved reads files named {SPEC_FILE} (and the platform config, {CONFIG_FILE})",
                escape(&shown)
            ));
        };
        args.push((p.clone(), abs, kind));
    }

    // The root and the config.
    let anchor = {
        let (_, abs, kind) = &args[0];
        match kind {
            Arg::Folder => abs.clone(),
            _ => abs.parent().map(Path::to_path_buf).unwrap_or_default(),
        }
    };
    let explicit = match &req.config {
        Some(c) => Some(c.canonicalize().map_err(|_| {
            format!(
                "no such file or folder: `{}`",
                escape(&c.display().to_string())
            )
        })?),
        None => args
            .iter()
            .find(|(_, _, k)| matches!(k, Arg::Config))
            .map(|(_, abs, _)| abs.clone()),
    };
    let (root, config) = match explicit {
        Some(cfg) => {
            let dir = cfg.parent().map(Path::to_path_buf).unwrap_or_default();
            let root = if anchor.starts_with(&dir) {
                dir
            } else {
                git_top(&dir)
                    .filter(|top| anchor.starts_with(top))
                    .unwrap_or(dir)
            };
            (root, Some(cfg))
        }
        None => match find_config(&anchor) {
            Some(cfg) => (
                cfg.parent().map(Path::to_path_buf).unwrap_or_default(),
                Some(cfg),
            ),
            // No config and no repository: the folder holding every path given.
            None => (
                git_top(&anchor).unwrap_or_else(|| common_ancestor(&args)),
                None,
            ),
        },
    };

    // What the paths select, relative to the root.
    let mut selection = Vec::new();
    let mut whole = false;
    for (p, abs, kind) in &args {
        let Ok(rel) = abs.strip_prefix(&root) else {
            return Err(format!(
                "`{}` is outside the workspace at `{}` (the folder of {})",
                escape(&p.display().to_string()),
                escape(&relative(&root, &cwd)),
                config
                    .as_ref()
                    .map(|c| escape(&relative(c, &cwd)))
                    .unwrap_or_else(|| "the Git repository".into())
            ));
        };
        let rel = slash(rel);
        match kind {
            Arg::Config => whole = true,
            _ if rel.is_empty() => whole = true,
            _ => selection.push(rel),
        }
    }

    let out_dir = match &req.out_dir {
        Some(o) => Some(o.clone()),
        None if req.default_out => Some(root.join(DEFAULT_OUT)),
        None => None,
    };
    let skip_dir = out_dir
        .as_ref()
        .and_then(|o| cwd.join(o).canonicalize().ok());
    let (mut specs, skipped) = match &req.walks {
        Some(walks) => walks.walk(&root, config.as_deref(), skip_dir.as_deref())?,
        None => walk(&root, config.as_deref(), skip_dir.as_deref())?,
    };
    if let Some(overlay) = &req.overlay {
        let unsaved: Vec<(PathBuf, String, bool)> = overlay
            .paths()
            .filter(|p| !specs.iter().any(|(found, _, _)| found == p))
            .filter(|p| discoverable(&root, p, config.as_deref(), skip_dir.as_deref()))
            .filter_map(|p| Some((p.to_path_buf(), p.strip_prefix(&root).ok()?)))
            .filter_map(|(p, rel)| Some((p.clone(), rel.to_str().map(|_| slash(rel))?)))
            .map(|(p, rel)| {
                let techdocs = p.parent().is_some_and(has_techdocs);
                (p, rel, techdocs)
            })
            .collect();
        specs.extend(unsaved);
        specs.sort_by(|a, b| a.1.cmp(&b.1));
    }
    let selection = (!whole).then(|| {
        selection.sort();
        selection.dedup();
        selection
    });
    let specs: Vec<Spec> = specs
        .into_iter()
        .map(|(path, rel, techdocs)| Spec {
            selected: selects(selection.as_deref(), &rel),
            techdocs,
            path,
            rel,
        })
        .collect();
    let skipped: Vec<Skipped> = skipped
        .into_iter()
        .map(|mut s| {
            s.selected = selects(selection.as_deref(), &s.rel);
            s
        })
        .collect();

    // A path that selects nothing is a mistake, not an empty success.
    for (p, abs, kind) in &args {
        if matches!(kind, Arg::Config) {
            continue;
        }
        let rel = slash(abs.strip_prefix(&root).unwrap_or(abs));
        let one = [rel];
        let hit = specs.iter().any(|s| selects(Some(&one), &s.rel))
            || skipped.iter().any(|s| selects(Some(&one), &s.rel));
        if !hit {
            let shown = escape(&p.display().to_string());
            if let Some(o) = skip_dir.as_ref().filter(|o| abs.starts_with(o)) {
                return Err(format!(
                    "`{shown}` is inside the output folder `{}`, which is never searched for specs",
                    escape(&relative(o, &cwd))
                ));
            }
            return Err(match kind {
                Arg::Spec => format!(
                    "`{shown}` is not a spec of the workspace at `{}` (it is inside the output folder, a hidden folder, or another workspace)",
                    escape(&relative(&root, &cwd))
                ),
                _ => format!(
                    "no {SPEC_FILE} under `{shown}`{}",
                    skip_dir
                        .as_ref()
                        .filter(|o| o.starts_with(abs))
                        .map(|o| format!(
                            " (the output folder `{}` inside it is never searched)",
                            escape(&relative(o, &cwd))
                        ))
                        .unwrap_or_default()
                ),
            });
        }
    }
    if specs.is_empty() && skipped.is_empty() {
        let excluded = skip_dir
            .as_ref()
            .filter(|o| o.starts_with(&root))
            .map(|o| {
                format!(
                    " (the output folder `{}` is never searched)",
                    escape(&relative(o, &cwd))
                )
            })
            .unwrap_or_default();
        return Err(format!(
            "no {SPEC_FILE} under `{}`{excluded}",
            escape(&relative(&root, &cwd))
        ));
    }
    Ok(Workspace {
        root,
        cwd,
        config,
        specs,
        skipped,
        selection,
        out_dir,
    })
}

#[derive(Debug, Clone, Copy)]
enum Arg {
    Folder,
    Spec,
    Config,
}

/// The specs found (path, path relative to the root, whether a TechDocs
/// source sits beside it) and the `platform.yaml` files skipped.
type Found = (Vec<(PathBuf, String, bool)>, Vec<Skipped>);

fn walk(root: &Path, config: Option<&Path>, out_dir: Option<&Path>) -> Result<Found, String> {
    let mut specs = Vec::new();
    let mut skipped = Vec::new();
    let walker = walkdir::WalkDir::new(root)
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
            if out_dir.is_some_and(|o| e.path() == o) {
                return false;
            }
            // Another workspace: a folder with a paved.yaml of its own.
            let cfg = e.path().join(CONFIG_FILE);
            !(cfg.is_file() && config.is_none_or(|c| c != cfg))
        });
    for entry in walker {
        let entry = entry.map_err(|e| {
            let at = e
                .path()
                .map(|p| escape(&p.display().to_string()))
                .unwrap_or_default();
            match e.io_error() {
                Some(io) => format!("cannot read `{at}`: {io}"),
                None => format!("cannot read `{at}`: {e}"),
            }
        })?;
        if entry.file_name() != SPEC_FILE || entry.file_type().is_dir() {
            continue;
        }
        let path = entry.into_path();
        let rel_path = path.strip_prefix(root).unwrap_or(&path);
        let rel = slash(rel_path);
        let why = if rel_path.to_str().is_none() {
            Some(Skip::BadName("is not valid UTF-8".into()))
        } else if let Some(c) = rel.chars().find(|c| crate::diag::is_hidden(*c)) {
            Some(Skip::BadName(format!(
                "holds the control character {}",
                escape(&c.to_string())
            )))
        } else {
            match std::fs::symlink_metadata(&path) {
                Ok(m) if m.file_type().is_symlink() => Some(Skip::Symlink),
                Ok(m) if !m.is_file() => Some(Skip::NotAFile),
                Ok(_) => None,
                Err(e) => return Err(format!("cannot read `{}`: {e}", escape(&rel))),
            }
        };
        match why {
            Some(why) => skipped.push(Skipped {
                path,
                rel: escape(&rel),
                selected: false,
                why,
            }),
            // A rendered file named platform.yaml (the catalog entry of a
            // service called `platform`, in an output folder not named on
            // the command line) is output, not a spec.
            None if is_generated(&path) => {}
            None => {
                let techdocs = path.parent().is_some_and(has_techdocs);
                specs.push((path, rel, techdocs));
            }
        }
    }
    Ok((specs, skipped))
}

/// Whether discovery would find a spec at `path` (absolute, inside `root`)
/// if it existed: a `platform.yaml` with no hidden folder, `target`,
/// `node_modules`, the output folder or another workspace on the way, and
/// not a symlink. For an editor's buffer not saved yet.
fn discoverable(root: &Path, path: &Path, config: Option<&Path>, out_dir: Option<&Path>) -> bool {
    let Ok(rel) = path.strip_prefix(root) else {
        return false;
    };
    if path.file_name().is_none_or(|n| n != SPEC_FILE)
        || rel.components().any(|c| !matches!(c, Component::Normal(_)))
        || std::fs::symlink_metadata(path).is_ok_and(|m| !m.is_file())
    {
        return false;
    }
    let mut dir = root.to_path_buf();
    let folders: Vec<Component> = rel.components().collect();
    for part in &folders[..folders.len().saturating_sub(1)] {
        dir.push(part);
        let name = part.as_os_str().to_string_lossy();
        let cfg = dir.join(CONFIG_FILE);
        if name.starts_with('.')
            || name == "target"
            || name == "node_modules"
            || out_dir.is_some_and(|o| dir == o)
            || (cfg.is_file() && config.is_none_or(|c| c != cfg))
        {
            return false;
        }
    }
    true
}

/// Whether `dir` holds a TechDocs source: a `docs/` folder or an
/// `mkdocs.yml` file (not through a symlink, which discovery never follows).
fn has_techdocs(dir: &Path) -> bool {
    let is = |name: &str, want_dir: bool| {
        std::fs::symlink_metadata(dir.join(name)).is_ok_and(|m| {
            if want_dir {
                m.is_dir()
            } else {
                m.is_file()
            }
        })
    };
    is("docs", true) || is("mkdocs.yml", false)
}

/// Whether `rel`, a path relative to the root with `/` that stays inside it,
/// is a regular file; no symlink is followed on the way (a link could point
/// outside the workspace).
pub(crate) fn is_regular_file(root: &Path, rel: &str) -> bool {
    let mut at = root.to_path_buf();
    let parts: Vec<&str> = rel.split('/').collect();
    for (i, part) in parts.iter().enumerate() {
        if part.is_empty() || *part == "." || *part == ".." {
            return false;
        }
        at.push(part);
        let Ok(m) = std::fs::symlink_metadata(&at) else {
            return false;
        };
        let last = i + 1 == parts.len();
        if m.file_type().is_symlink() || (last && !m.is_file()) || (!last && !m.is_dir()) {
            return false;
        }
    }
    !parts.is_empty()
}

/// Whether a file starts with the generated header.
fn is_generated(path: &Path) -> bool {
    use std::io::Read as _;
    let len = crate::emit::header::MARK
        .len()
        .max(crate::emit::header::TEMPLATE_MARK.len());
    let mut head = Vec::with_capacity(len);
    std::fs::File::open(path)
        .and_then(|f| f.take(len as u64).read_to_end(&mut head))
        .is_ok_and(|_| crate::emit::header::is_generated(&head))
}

/// The platform config that applies to a spec in `dir` (which may not exist
/// yet): the nearest `paved.yaml` at or above it, up to the Git top-level.
pub(crate) fn config_for(dir: &Path) -> Option<PathBuf> {
    let abs = std::env::current_dir().ok()?.join(dir);
    let existing = abs.ancestors().find(|a| a.is_dir())?.canonicalize().ok()?;
    find_config(&existing)
}

/// The deepest folder holding every path given (a file's folder for a file).
fn common_ancestor(args: &[(PathBuf, PathBuf, Arg)]) -> PathBuf {
    let dirs: Vec<PathBuf> = args
        .iter()
        .map(|(_, abs, kind)| match kind {
            Arg::Folder => abs.clone(),
            _ => abs.parent().map(Path::to_path_buf).unwrap_or_default(),
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

/// The nearest `paved.yaml` at or above `start`, up to the Git top-level.
fn find_config(start: &Path) -> Option<PathBuf> {
    let mut cur = Some(start);
    while let Some(dir) = cur {
        let candidate = dir.join(CONFIG_FILE);
        if candidate.is_file() {
            return Some(candidate);
        }
        if dir.join(".git").exists() {
            return None;
        }
        cur = dir.parent();
    }
    None
}

/// The top of the Git work tree holding `dir`: the nearest folder with a
/// `.git` entry (a folder, or a file in worktrees and submodules).
fn git_top(dir: &Path) -> Option<PathBuf> {
    dir.ancestors()
        .find(|d| d.join(".git").exists())
        .map(Path::to_path_buf)
}

/// A path with `/` separators; empty for the folder itself.
pub(crate) fn slash(p: &Path) -> String {
    let parts: Vec<String> = p
        .components()
        .filter_map(|c| match c {
            Component::Normal(s) => Some(s.to_string_lossy().into_owned()),
            _ => None,
        })
        .collect();
    parts.join("/")
}

/// An absolute `path` as shown to people: relative to the current folder.
pub(crate) fn shown_from_cwd(path: &Path) -> String {
    match std::env::current_dir().and_then(|c| c.canonicalize()) {
        Ok(cwd) if path.is_absolute() => relative(path, &cwd),
        _ => slash(path),
    }
}

/// `path` relative to `base` (both absolute), with `..` where needed and
/// `/` separators; `.` for the same folder.
pub(crate) fn relative(path: &Path, base: &Path) -> String {
    let p: Vec<Component> = path.components().collect();
    let b: Vec<Component> = base.components().collect();
    let common = p.iter().zip(&b).take_while(|(x, y)| x == y).count();
    // Nothing in common but the root: the absolute path reads better.
    if common <= 1 && path.is_absolute() {
        return path.display().to_string();
    }
    let mut parts: Vec<String> = vec!["..".to_string(); b.len() - common];
    parts.extend(
        p[common..]
            .iter()
            .map(|c| c.as_os_str().to_string_lossy().into_owned()),
    );
    if parts.is_empty() {
        ".".to_string()
    } else {
        parts.join("/")
    }
}

/// A name as shown to people: control characters and bidi controls
/// escaped by the one rule diagnostics use ([`crate::diag::escape`]).
pub(crate) fn escape(s: &str) -> String {
    crate::diag::escape(s).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_paths_climb_with_dot_dot() {
        let base = Path::new("/r/services/orders");
        assert_eq!(
            relative(Path::new("/r/services/orders/platform.yaml"), base),
            "platform.yaml"
        );
        assert_eq!(
            relative(Path::new("/r/services/inventory/platform.yaml"), base),
            "../inventory/platform.yaml"
        );
        assert_eq!(relative(Path::new("/r"), base), "../..");
        assert_eq!(relative(base, base), ".");
        assert_eq!(relative(Path::new("/elsewhere/x"), base), "/elsewhere/x");
    }

    #[test]
    fn selection_is_by_path_prefix() {
        let sel = vec!["services/orders".to_string()];
        assert!(selects(Some(&sel), "services/orders/platform.yaml"));
        assert!(!selects(Some(&sel), "services/orders-v2/platform.yaml"));
        assert!(selects(None, "anything"));
        let sel = vec!["services/orders/platform.yaml".to_string()];
        assert!(selects(Some(&sel), "services/orders/platform.yaml"));
    }

    #[test]
    fn names_are_escaped() {
        assert_eq!(escape("a\nb\u{1b}[2J"), "a\\u{a}b\\u{1b}[2J");
        assert_eq!(escape("plain/é"), "plain/é");
        assert_eq!(escape("x\u{202e}y"), "x\\u{202e}y");
    }
}
