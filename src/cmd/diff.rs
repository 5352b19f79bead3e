//! `paved diff`: what a change does to the rendered resources.
//!
//! - `paved diff OLD_DIR NEW_DIR` compares two folders of manifests (two
//!   renders, or any two folders of Kubernetes YAML).
//! - `paved diff --base REF [PATH...]` renders the specs as they are in the
//!   work tree and as they were at REF (see `git.rs`), both in memory, and
//!   compares the two plans. Nothing is written.
//!
//! The comparison and its three formats live in `emit::diff`; this module
//! only gathers the two sides and prints.

use std::path::{Path, PathBuf};

use crate::app::{self, Fault, Inputs, Output};
use crate::diag::Format;
use crate::emit::diff::{self as semantic, Options};
use crate::emit::risk::{self, Category, RiskOptions};
use crate::emit::OutFile;
use crate::model::Platform;

#[derive(Debug, Clone)]
pub(crate) struct Settings {
    /// OLD_DIR NEW_DIR, or with `base` the spec paths.
    pub paths: Vec<PathBuf>,
    pub base: Option<String>,
    pub config: Option<PathBuf>,
    /// `--env`: the environments compared; empty: all.
    pub envs: Vec<String>,
    /// `text`, `markdown` or `json`.
    pub format: Format,
    /// Exit 1 when anything changed.
    pub exit_code: bool,
    pub show_secrets: bool,
    /// `--fail-on`: exit 1 when a risk of one of these categories is found.
    pub fail_on: Vec<String>,
}

/// `--fail-on` as given: `None` when the flag is absent (the platform's
/// `review.failOn` applies), empty for `none`.
fn fail_on_flag(names: &[String]) -> Result<Option<Vec<Category>>, Fault> {
    if names.is_empty() {
        return Ok(None);
    }
    if names.iter().any(|n| n == "none") {
        if names.len() > 1 {
            return Err(Fault(
                "`--fail-on none` turns the gate off and takes no categories beside it".into(),
            ));
        }
        return Ok(Some(Vec::new()));
    }
    categories(names).map(Some)
}

/// Risk categories by name.
fn categories(names: &[String]) -> Result<Vec<Category>, Fault> {
    names
        .iter()
        .map(|name| {
            Category::parse(name).ok_or_else(|| {
                Fault(format!(
                    "unknown risk category `{name}` for --fail-on; the categories are {}",
                    Category::ALL
                        .iter()
                        .map(|c| c.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                ))
            })
        })
        .collect()
}

/// What the risk rules take from the platform config: the cost factor, the
/// public ingress class, and where promotion is by hand by default.
pub(crate) fn risk_options(p: &Platform) -> RiskOptions {
    RiskOptions {
        cost_factor: p.review.cost_factor,
        public_ingress_class: p.ingress_classes.public.clone(),
        manual_by_default: p
            .environments
            .iter()
            .map(|(name, env)| (name.clone(), env.default_promote() == "manual"))
            .collect(),
    }
}

/// The platform config of a comparison of two folders: `--config`, else
/// the paved.yaml a workspace at the current folder would use (the nearest
/// at or above it, up to the Git top-level), else the built-in one. `None`
/// when it has errors (printed).
fn folders_platform(s: &Settings, out: &Output) -> Result<Option<Platform>, Fault> {
    let path = match &s.config {
        Some(c) => Some(c.clone()),
        None => crate::workspace::config_for(Path::new(".")),
    };
    let (platform, diags) = app::load_config(path.as_deref())?;
    if platform.is_none() || crate::diag::count_errors(&diags) > 0 {
        app::report(&diags, out);
        return Ok(None);
    }
    Ok(platform)
}

pub(crate) fn run(s: &Settings, out: &Output) -> Result<bool, Fault> {
    let flag = fail_on_flag(&s.fail_on)?;
    let (((old, new), platform), (old_side, new_side)) = match &s.base {
        None => {
            let shown = |i: usize| {
                s.paths
                    .get(i)
                    .map(|p| crate::source::display_path(p, Path::new("")))
                    .unwrap_or_default()
            };
            let sides = folders(s)?;
            let Some(platform) = folders_platform(s, out)? else {
                return Ok(false);
            };
            ((sides, platform), (shown(0), shown(1)))
        }
        Some(reference) => {
            match against_base(s, reference, out)? {
                Some(sides) => (
                    sides,
                    (
                        format!("{reference} (rendered)"),
                        "rendered now".to_string(),
                    ),
                ),
                // Diagnostics were printed.
                None => return Ok(false),
            }
        }
    };
    let fail_on = match flag {
        Some(f) => f,
        None => categories(&platform.review.fail_on)?,
    };
    let options = Options {
        show_secrets: s.show_secrets,
        ..Options::default()
    };
    let report = match compare(&old, &new, (&old_side, &new_side), &platform, &options) {
        Ok(r) => r,
        Err(mut diags) => {
            crate::diag::sort(&mut diags);
            app::report(&diags, out);
            return Ok(false);
        }
    };
    drop((old, new));
    let text = match s.format {
        Format::Markdown => semantic::markdown(&report, semantic::MARKDOWN_LIMIT),
        Format::Json => semantic::json(&report),
        _ => semantic::text(&report, out.color),
    };
    app::print_stdout(&text)?;
    let gated: std::collections::BTreeSet<&str> = report
        .risks
        .iter()
        .filter(|k| fail_on.contains(&k.category))
        .map(|k| k.category.as_str())
        .collect();
    if !gated.is_empty() {
        // The reason for exit 1, for a CI job to report (action/diff.sh reads it).
        eprintln!(
            "paved diff: risk gate: {}",
            gated.into_iter().collect::<Vec<_>>().join(", ")
        );
    }
    let gated = report.risks.iter().any(|k| fail_on.contains(&k.category));
    Ok((!s.exit_code || report.is_empty()) && !gated)
}

/// The report of two sets of rendered files: the resource changes (only
/// files that differ are parsed, see `semantic::compare`), renames, risks
/// and promotions, judged with the platform's settings. `Err`: files that
/// cannot be read as YAML. `paved promote` shows its rendered diff with it.
pub(crate) fn compare(
    old: &[OutFile],
    new: &[OutFile],
    (old_side, new_side): (&str, &str),
    platform: &crate::model::Platform,
    options: &Options,
) -> Result<semantic::Report, Vec<crate::diag::Diagnostic>> {
    let (sides, diags) = semantic::compare(old, new, old_side, new_side);
    if !diags.is_empty() {
        return Err(diags);
    }
    let mut report = semantic::diff(&sides.old, &sides.new, options);
    report.unchanged += sides.unchanged;
    semantic::pair_renames(
        &mut report,
        &sides.old,
        &sides.new,
        &risk::renamed(&sides.old, &sides.new),
        options,
    );
    report.risks = risk::classify(&sides.old, &sides.new, &risk_options(platform));
    report.promotions = semantic::promotions(&sides.old, &sides.new);
    Ok(report)
}

/// The old and the new files.
type Sides = (Vec<OutFile>, Vec<OutFile>);

/// Both sides from two folders of manifests.
fn folders(s: &Settings) -> Result<Sides, Fault> {
    let [old, new] = s.paths.as_slice() else {
        return Err(Fault(format!(
            "`paved diff` takes two folders (OLD_DIR NEW_DIR), or `--base GIT_REF [PATH...]`; got {} path{}",
            s.paths.len(),
            if s.paths.len() == 1 { "" } else { "s" }
        )));
    };
    Ok((read_manifests(old)?, read_manifests(new)?))
}

/// Every `.yaml`/`.yml` file under `dir`, as paths relative to it. Hidden
/// folders are skipped and symlinks not followed, as in discovery.
/// The largest manifest file `diff` reads (a generated file is a few KiB).
const MAX_MANIFEST: u64 = 16 << 20;

pub(crate) fn read_manifests(dir: &Path) -> Result<Vec<OutFile>, Fault> {
    let meta = std::fs::metadata(dir)
        .map_err(|_| Fault(format!("no such file or folder: `{}`", dir.display())))?;
    if !meta.is_dir() {
        return Err(Fault(format!("`{}` is not a folder", dir.display())));
    }
    let mut out = Vec::new();
    for entry in walkdir::WalkDir::new(dir)
        .follow_links(false)
        .sort_by_file_name()
        .into_iter()
        .filter_entry(|e| e.depth() == 0 || !e.file_name().to_string_lossy().starts_with('.'))
    {
        let entry = entry.map_err(|e| Fault(format!("cannot read `{}`: {e}", dir.display())))?;
        let name = entry.file_name().to_string_lossy();
        if !(name.ends_with(".yaml") || name.ends_with(".yml")) || entry.file_type().is_dir() {
            continue;
        }
        if !entry.file_type().is_file() {
            // Never opened: a link could point anywhere, a FIFO would block.
            eprintln!(
                "paved: warning: skipped `{}`: it is {}, and Paved reads only regular files",
                crate::workspace::escape(&entry.path().display().to_string()),
                crate::emit::special_kind(entry.file_type())
            );
            continue;
        }
        let rel = entry
            .path()
            .strip_prefix(dir)
            .unwrap_or(entry.path())
            .components()
            .map(|c| c.as_os_str().to_string_lossy().into_owned())
            .collect::<Vec<_>>()
            .join("/");
        let bytes = crate::emit::read_regular(entry.path(), MAX_MANIFEST + 1)
            .map_err(|e| Fault(format!("cannot read `{}`: {e}", entry.path().display())))?;
        if bytes.len() as u64 > MAX_MANIFEST {
            return Err(Fault(format!(
                "`{}` is larger than {} MiB; a manifest this large is not compared",
                entry.path().display(),
                MAX_MANIFEST >> 20
            )));
        }
        let content = String::from_utf8(bytes)
            .map_err(|_| Fault(format!("`{}` is not UTF-8 text", entry.path().display())))?;
        out.push(OutFile { path: rel, content });
    }
    Ok(out)
}

/// Both sides rendered in memory: REF's tree and the work tree, each the
/// whole workspace, compared over what the paths select, with the work
/// tree's platform config. `None` when either side has errors (printed).
fn against_base(
    s: &Settings,
    reference: &str,
    out: &Output,
) -> Result<Option<(Sides, Platform)>, Fault> {
    let cwd = std::env::current_dir()
        .map_err(|e| Fault(format!("cannot read the current folder: {e}")))?;
    let top = super::git::toplevel(&cwd)?;
    let inputs = Inputs {
        paths: s.paths.clone(),
        config: s.config.clone(),
        envs: s.envs.clone(),
        out_dir: None,
        default_out: true,
        overlay: None,
        preview: None,
    };
    let mut new = app::compile(&inputs, true)?;
    if new.failed() {
        app::report(&new.diags, out);
        return Ok(None);
    }
    let Some(platform) = new.platform.clone() else {
        app::report(&new.diags, out);
        return Ok(None);
    };
    let top_real = top.canonicalize().unwrap_or(top.clone());
    // A path as it is inside the repository, e.g. `services/orders`.
    let in_repo = |p: &Path| -> Result<PathBuf, Fault> {
        p.strip_prefix(&top_real)
            .map(Path::to_path_buf)
            .map_err(|_| {
                Fault(format!(
                    "`{}` is outside the Git repository at `{}`",
                    p.display(),
                    top.display()
                ))
            })
    };
    let rel_root = in_repo(&new.workspace.root)?;
    let rel_config = new
        .workspace
        .config
        .as_deref()
        .filter(|_| s.config.is_some())
        .map(in_repo)
        .transpose()?;
    let extra: Vec<String> = rel_config
        .iter()
        .map(|c| crate::source::display_path(c, Path::new("")))
        .collect();
    app::status_verbose(
        out,
        &format!("diff: reading {reference} from {}", top.display()),
    );
    let progress = app::progress(out, &format!("reading {reference}"));
    let snap = super::git::snapshot(&top, reference, &extra)?;
    let old_root = snap.dir.join(&rel_root);
    let old_config = rel_config.map(|c| snap.dir.join(c)).filter(|c| c.is_file());
    // At REF, a workspace that did not exist yet renders nothing.
    let old = if old_root.is_dir() {
        match app::compile(
            &Inputs {
                paths: vec![old_root],
                config: old_config,
                envs: s.envs.clone(),
                out_dir: None,
                default_out: true,
                overlay: None,
                preview: None,
            },
            true,
        ) {
            Ok(c) => Some(c),
            Err(Fault(m)) if m.starts_with("no platform.yaml under") => None,
            Err(f) => return Err(f),
        }
    } else {
        None
    };
    // A subset compares the services related to it too, as they are now and
    // as they were at REF (a dependency dropped since still changes).
    // Selected at the base too: services whose spec then lay under the
    // paths (deleted or renamed since).
    let mut selected: std::collections::BTreeSet<String> =
        new.selected().map(|s| s.name().to_string()).collect();
    selected.extend(
        old.iter()
            .flat_map(|c| &c.services)
            .filter(|o| new.workspace.selects(&o.origin))
            .map(|o| o.name().to_string()),
    );
    let selected: std::collections::BTreeSet<&str> = selected.iter().map(String::as_str).collect();
    let earlier = app::neighbors(old.iter().flat_map(|c| &c.services), &selected);
    new.relate(&earlier);
    let Some(new_files) = all_files(&new, out) else {
        return Ok(None);
    };
    let scope = new.scope();
    let old_files = match old {
        None => Vec::new(),
        Some(old) => {
            let Some(files) = all_files(&old, out) else {
                drop(progress);
                eprintln!(
                    "paved: the specs at `{reference}` ({}) have errors, so there is nothing to compare with",
                    &snap.commit[..snap.commit.len().min(12)]
                );
                return Ok(None);
            };
            // Only what the paths select now, as the new side.
            files
                .into_iter()
                .filter(|f| {
                    let line = f.content.lines().next().unwrap_or("");
                    scope.owns(&f.path, crate::emit::header::origin(line))
                })
                .collect()
        }
    };
    Ok(Some(((old_files, new_files), platform)))
}

/// Every file the selected units render, in memory, sorted by path; `None`
/// when the input has errors (printed).
fn all_files(c: &app::Compiled, out: &Output) -> Option<Vec<OutFile>> {
    let (files, diags) = app::render_in_memory(c);
    if crate::diag::count_errors(&diags) > 0 {
        app::report(&diags, out);
        return None;
    }
    Some(files)
}
