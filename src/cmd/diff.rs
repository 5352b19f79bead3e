//! `paved diff`: what a change does to the rendered resources.
//!
//! - `paved diff OLD_DIR NEW_DIR` compares two folders of manifests (two
//!   renders, or any two folders of Kubernetes YAML).
//! - `paved diff --base REF [PATH...]` renders the specs as they are in the
//!   work tree and as they were at REF (see `git.rs`), both in memory, and
//!   compares the two plans, holding only the files that can differ
//!   ([`against_base`]). Nothing is written.
//!
//! The comparison and its three formats live in `emit::diff`; this module
//! only gathers the two sides and prints.

use std::path::{Path, PathBuf};

use crate::app::{self, Fault, Inputs, Output};
use crate::cost;
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
/// public ingress class, where promotion is by hand by default, and the
/// names of preview environments (automatic).
pub(crate) fn risk_options(p: &Platform) -> RiskOptions {
    RiskOptions {
        priced: p.cost.is_some() && p.review.cost_threshold.is_some(),
        cost_factor: p.review.cost_factor,
        public_ingress_class: p.ingress_classes.public.clone(),
        manual_by_default: p
            .environments
            .iter()
            .map(|(name, env)| (name.clone(), env.default_promote() == "manual"))
            .collect(),
        // A preview (`DIR/previews/NAME/` compared as its own tree) syncs by itself.
        preview_prefix: p
            .previews
            .as_ref()
            .map(|_| crate::model::preview::ENVIRONMENT_PREFIX.to_string()),
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
    // With `--base`, the two compiled workspaces stay at hand until the end.
    let mut based: Option<Base> = None;
    let ((old, new, unchanged), platform, (old_side, new_side)) = match &s.base {
        None => {
            let shown = |i: usize| {
                s.paths
                    .get(i)
                    .map(|p| crate::source::display_path(p, Path::new("")))
                    .unwrap_or_default()
            };
            let (old, new, unchanged) = folders(s)?;
            let Some(platform) = folders_platform(s, out)? else {
                return Ok(false);
            };
            ((old, new, unchanged), platform, (shown(0), shown(1)))
        }
        Some(reference) => {
            match against_base(s, reference, out)? {
                Some(mut base) => {
                    let files = std::mem::take(&mut base.files);
                    let platform = base.platform.clone();
                    let unchanged = base.unchanged;
                    based = Some(base);
                    (
                        (files.0, files.1, unchanged),
                        platform,
                        (
                            format!("{reference} (rendered)"),
                            "rendered now".to_string(),
                        ),
                    )
                }
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
    // With `--base`, the estimates of both compiled workspaces; in folder
    // mode, `compare` prices the rendered objects.
    let priced = based.as_ref().and_then(base_cost);
    let mut report = match compare(
        &old,
        &new,
        (&old_side, &new_side),
        &platform,
        &options,
        priced,
    ) {
        Ok(r) => r,
        Err(mut diags) => {
            crate::diag::sort(&mut diags);
            app::report(&diags, out);
            return Ok(false);
        }
    };
    drop((old, new));
    report.unchanged += unchanged;
    if let Some(base) = &based {
        app::diff_causes(base.old.as_ref(), &base.new, &mut report);
    }
    let text = match s.format {
        Format::Markdown => semantic::markdown(&report, semantic::MARKDOWN_LIMIT),
        Format::Json => semantic::json(&report),
        _ => semantic::text(&report, out.color),
    };
    app::print_stdout(&text)?;
    drop(based);
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
/// files that differ are parsed, see `semantic::compare`), renames, risks,
/// promotions and the cost delta, judged with the platform's settings.
/// `priced`: the cost delta when the caller computed it from the model
/// (`--base`); else, with a price table, the rendered objects are priced
/// ([`rendered_cost`]). `Err`: files that cannot be read as YAML. `paved
/// promote` shows its rendered diff with it.
pub(crate) fn compare(
    old: &[OutFile],
    new: &[OutFile],
    (old_side, new_side): (&str, &str),
    platform: &crate::model::Platform,
    options: &Options,
    priced: Option<cost::Review>,
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
    report.promotions = semantic::promotions(&sides.old, &sides.new, &platform.promotion.order);
    report.cost = match priced {
        Some(p) => Some(p),
        None => rendered_cost(platform, &sides)?,
    };
    if let (Some(review), Some(t)) = (&report.cost, &platform.review.cost_threshold) {
        report
            .risks
            .extend(risk::over_threshold(review, &cost::Threshold::of(t)));
        report.risks.sort();
        report.risks.dedup();
    }
    Ok(report)
}

/// The cost delta of two sides of rendered objects, both priced with the
/// platform's table (folder mode, `paved promote`); `None` without one.
/// `semantic::compare` parses every resource of a service with a
/// difference, on both sides, so each such service is priced whole; a
/// service with none is priced from the same files on both sides, or not
/// at all, and shows no change either way.
/// `Err`: a service whose rendered quantities are too large to price.
fn rendered_cost(
    platform: &Platform,
    sides: &semantic::Sides,
) -> Result<Option<cost::Review>, Vec<crate::diag::Diagnostic>> {
    let Some(table) = platform.cost.as_ref() else {
        return Ok(None);
    };
    let group = platform.crossplane.api_group.as_str();
    let priced = |side: &[semantic::Resource]| {
        cost::rendered_monthly(
            table,
            group,
            side.iter()
                .map(|r| (r.environment.as_str(), r.service.as_str(), &r.value)),
        )
    };
    let refuse = |(env, service): (String, String)| {
        vec![crate::diag::Diagnostic::error(
            crate::codes::SEMANTIC_UNPRICEABLE_QUANTITY,
            format!(
                "the rendered workloads of `{service}` in {env} cannot be priced: a CPU or memory quantity, or its replicas, is too large for the estimate"
            ),
        )
        .help(format!(
            "the estimate prices up to {} {} a month per service and environment; fix the quantity in the rendered files (or the spec they come from), or diff without a price table",
            cost::MAX_MONTHLY,
            table.currency
        ))]
    };
    Ok(Some(cost::review(
        table,
        &priced(&sides.old).map_err(refuse)?,
        &priced(&sides.new).map_err(refuse)?,
    )))
}

/// The cost delta of `--base` from the two compiled workspaces: each side's
/// estimates at its own price table (a price change is a delta; a side
/// without a table is priced with the other's), over the services the diff
/// renders and the environments of `--env`. `None` when the work tree's
/// paved.yaml has no table.
fn base_cost(b: &Base) -> Option<cost::Review> {
    let table = b.platform.cost.as_ref()?;
    let keep = |e: &cost::Estimate| {
        b.services.as_ref().is_none_or(|s| s.contains(&e.service))
            && b.new
                .envs
                .as_ref()
                .is_none_or(|envs| envs.contains(&e.environment))
    };
    let monthly = |estimates: Vec<cost::Estimate>| {
        estimates
            .into_iter()
            .filter(|e| keep(e))
            .map(|e| ((e.environment, e.service), e.monthly))
            .collect::<std::collections::BTreeMap<_, _>>()
    };
    let new = monthly(cost::estimate_with(table, &b.new.instances));
    let old = match &b.old {
        Some(o) => {
            let t = o
                .platform
                .as_ref()
                .and_then(|p| p.cost.as_ref())
                .unwrap_or(table);
            monthly(cost::estimate_with(t, &o.instances))
        }
        None => Default::default(),
    };
    Some(cost::review(table, &old, &new))
}

/// The old and the new files.
type Sides = (Vec<OutFile>, Vec<OutFile>);

/// Both sides from two folders of manifests.
fn folders(s: &Settings) -> Result<(Vec<OutFile>, Vec<OutFile>, usize), Fault> {
    let [old, new] = s.paths.as_slice() else {
        return Err(Fault(format!(
            "`paved diff` takes two folders (OLD_DIR NEW_DIR), or `--base GIT_REF [PATH...]`; got {} path{}",
            s.paths.len(),
            if s.paths.len() == 1 { "" } else { "s" }
        )));
    };
    let old_files = read_manifests(old)?;
    let mut new_files = Vec::new();
    let mut same: Vec<usize> = Vec::new();
    {
        let by_path: std::collections::HashMap<&str, usize> = old_files
            .iter()
            .enumerate()
            .map(|(i, f)| (f.path.as_str(), i))
            .collect();
        each_manifest(new, |f| {
            // A file identical at the same path is not held twice: the old
            // side's copy stands for both until the comparison's needs are known.
            match by_path.get(f.path.as_str()) {
                Some(&i) if old_files[i].content == f.content => same.push(i),
                _ => new_files.push(f),
            }
            Ok(())
        })?;
    }
    Ok(select_identical(old_files, new_files, &same))
}

/// The two sides `semantic::compare` needs, from the old folder's files,
/// the new folder's files that differ, and the places (in `old`) of the
/// files identical on both sides: an identical file is kept, on both sides,
/// when `compare` would read it (a document that shares a name or a service
/// with a differing file's, a text that runs an image a differing file
/// names, or a text the scan cannot name); every other identical file is
/// only counted (the third value: its documents, unchanged).
fn select_identical(
    old: Vec<OutFile>,
    new: Vec<OutFile>,
    same: &[usize],
) -> (Vec<OutFile>, Vec<OutFile>, usize) {
    let same_set: std::collections::HashSet<usize> = same.iter().copied().collect();
    let differing_old = old
        .iter()
        .enumerate()
        .filter(|(i, _)| !same_set.contains(i))
        .map(|(_, f)| f);
    let mut known = Vec::new();
    let mut all = false;
    let mut images: std::collections::BTreeSet<String> = std::collections::BTreeSet::new();
    for f in differing_old.chain(&new) {
        match semantic::identities(f) {
            Some(ids) => known.extend(ids),
            None => all = true,
        }
        // What a container line names: `image: REF`, as Paved writes it.
        for line in f.content.lines() {
            let t = line.trim_start().trim_start_matches("- ");
            if let Some(r) = t.strip_prefix("image: ") {
                let r = r.trim().trim_matches('"').trim_matches('\'');
                if !r.is_empty() {
                    images.insert(r.to_string());
                }
            }
        }
    }
    let affected = semantic::Affected::of(known.iter());
    let mut old_out = Vec::with_capacity(old.len() - same.len());
    let mut new_out = new;
    let mut unchanged = 0;
    for (i, f) in old.into_iter().enumerate() {
        if !same_set.contains(&i) {
            old_out.push(f);
            continue;
        }
        let ids = semantic::identities(&f);
        let keep = all
            || affected.needs(ids.as_deref())
            || images.iter().any(|r| f.content.contains(r.as_str()));
        if keep {
            new_out.push(f.clone());
            old_out.push(f);
        } else {
            unchanged += ids.map_or(0, |ids| ids.len());
        }
    }
    (old_out, new_out, unchanged)
}

/// Every `.yaml`/`.yml` file under `dir`, as paths relative to it. Hidden
/// folders are skipped and symlinks not followed, as in discovery.
/// The largest manifest file `diff` reads (a generated file is a few KiB).
const MAX_MANIFEST: u64 = 16 << 20;

pub(crate) fn read_manifests(dir: &Path) -> Result<Vec<OutFile>, Fault> {
    let mut out = Vec::new();
    each_manifest(dir, |f| {
        out.push(f);
        Ok(())
    })?;
    Ok(out)
}

/// `DIR/previews/`: preview environments, each `render --preview`'s own.
/// A comparison of two output folders leaves them out (as `render` and
/// `check` without `--preview` do), with a note; a preview is compared as
/// its own tree: `paved diff OLD/previews/NAME NEW/previews/NAME`.
fn is_previews_folder(e: &walkdir::DirEntry, dir: &Path) -> bool {
    let is = e.depth() == 1
        && e.file_type().is_dir()
        && e.file_name() == crate::model::preview::PREVIEWS_FOLDER;
    if is {
        eprintln!(
            "paved: note: left out `{}/{}/` (preview environments); compare a preview with `paved diff OLD/{1}/NAME NEW/{1}/NAME`",
            crate::workspace::escape(&dir.display().to_string()),
            crate::model::preview::PREVIEWS_FOLDER
        );
    }
    is
}

/// [`read_manifests`], one file at a time, in path order.
fn each_manifest(
    dir: &Path,
    mut each: impl FnMut(OutFile) -> Result<(), Fault>,
) -> Result<(), Fault> {
    let meta = std::fs::metadata(dir)
        .map_err(|_| Fault(format!("no such file or folder: `{}`", dir.display())))?;
    if !meta.is_dir() {
        return Err(Fault(format!("`{}` is not a folder", dir.display())));
    }
    for entry in walkdir::WalkDir::new(dir)
        .follow_links(false)
        .sort_by_file_name()
        .into_iter()
        .filter_entry(|e| {
            e.depth() == 0
                || !(e.file_name().to_string_lossy().starts_with('.') || is_previews_folder(e, dir))
        })
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
        each(OutFile { path: rel, content })?;
    }
    Ok(())
}

/// What `--base` compares: the two compiled workspaces (REF's is `None`
/// when the workspace did not exist there), the files held for the
/// comparison (REF's, the work tree's), and how many resources of the
/// identical files left out are unchanged.
struct Base {
    /// The base's compiled workspace (none when it had none) and the work
    /// tree's: what `diff_causes` traces in.
    old: Option<app::Compiled>,
    new: app::Compiled,
    files: Sides,
    unchanged: usize,
    platform: Platform,
    /// The services the diff renders (selected, related, or selected at
    /// REF); `None`: every service.
    services: Option<std::collections::BTreeSet<String>>,
}

/// Both sides rendered in memory: REF's tree and the work tree, each the
/// whole workspace, compared over what the paths select, with the work
/// tree's platform config. `None` when either side has errors (printed).
///
/// Neither side is held whole: the work tree's files are rendered keeping
/// only digests and the names of their documents ([`Listed`]); REF's are
/// rendered keeping only the files that are not byte-identical to the work
/// tree's. What [`semantic::compare`] would parse of the identical files
/// (those of an environment and service with a difference, see
/// [`Affected`](semantic::Affected)) is rendered again from the work tree's
/// units; every other identical file is only counted as unchanged.
fn against_base(s: &Settings, reference: &str, out: &Output) -> Result<Option<Base>, Fault> {
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
        cache: None,
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
                cache: None,
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
    let selected_names = selected.clone();
    let selected: std::collections::BTreeSet<&str> = selected.iter().map(String::as_str).collect();
    let earlier = app::neighbors(old.iter().flat_map(|c| &c.services), &selected);
    new.relate(&earlier);
    let services = (!new.workspace.whole()).then(|| {
        let mut all = selected_names;
        all.extend(new.related.iter().cloned());
        all
    });
    // The work tree: digests and document names.
    let (listing, diags) = app::render_map(&new, |f| Some(Listed::of(&f)));
    if crate::diag::count_errors(&diags) > 0 {
        app::report(&diags, out);
        return Ok(None);
    }
    let listed: Vec<(usize, Listed)> = listing
        .into_iter()
        .flat_map(|(unit, files)| files.into_iter().map(move |l| (unit, l)))
        .collect();
    let scope = new.scope();
    // REF: only the files that differ from the work tree's.
    let mut same: std::collections::HashSet<String> = std::collections::HashSet::new();
    let mut old_differing = Vec::new();
    let mut old_total = 0;
    if let Some(old) = &old {
        let now: std::collections::HashMap<&str, (usize, u128)> = listed
            .iter()
            .map(|(_, l)| (l.path.as_str(), (l.len, l.hash)))
            .collect();
        let (kept, diags) = app::render_map(old, |f| {
            // Only what the paths select now, as the new side.
            let line = f.content.lines().next().unwrap_or("");
            if !scope.owns(&f.path, crate::emit::header::origin(line)) {
                return None;
            }
            let d = crate::emit::digest(&f);
            Some(if now.get(f.path.as_str()) == Some(&(d.len, d.hash)) {
                Err(f.path)
            } else {
                Ok(f)
            })
        });
        if crate::diag::count_errors(&diags) > 0 {
            app::report(&diags, out);
            drop(progress);
            eprintln!(
                "paved: the specs at `{reference}` ({}) have errors, so there is nothing to compare with",
                &snap.commit[..snap.commit.len().min(12)]
            );
            return Ok(None);
        }
        for r in kept.into_iter().flat_map(|(_, files)| files) {
            old_total += 1;
            match r {
                Err(path) => {
                    same.insert(path);
                }
                Ok(f) => old_differing.push(f),
            }
        }
    }
    let held = held(&listed, &same, &old_differing);
    let new_files: Vec<OutFile> = app::render_units(&new, &held.units)
        .into_iter()
        .filter(|f| held.paths.contains(f.path.as_str()))
        .collect();
    let mut old_files = old_differing;
    old_files.extend(
        new_files
            .iter()
            .filter(|f| same.contains(f.path.as_str()))
            .cloned(),
    );
    app::status_verbose(
        out,
        &format!(
            "diff: {} of {} rendered files held for comparison; the others are identical at {reference}",
            old_files.len() + new_files.len(),
            old_total + listed.len()
        ),
    );
    Ok(Some(Base {
        old,
        new,
        files: (old_files, new_files),
        unchanged: held.unchanged,
        platform,
        services,
    }))
}

/// A work-tree file as `--base` keeps it while REF renders: its digest and
/// the names of its documents (`None`: the scan declined its text).
struct Listed {
    path: String,
    len: usize,
    hash: u128,
    ids: Option<Vec<semantic::Identity>>,
}

impl Listed {
    fn of(f: &OutFile) -> Listed {
        let d = crate::emit::digest(f);
        Listed {
            path: d.path,
            len: d.len,
            hash: d.hash,
            ids: semantic::identities(f),
        }
    }
}

/// Which work-tree files `--base` holds for the comparison, and the units
/// that render them.
#[derive(Debug, Default, PartialEq)]
struct Held {
    /// The places of the units to render again, ascending.
    units: Vec<usize>,
    /// The files that differ from REF's, and the identical ones
    /// [`semantic::compare`] parses.
    paths: std::collections::BTreeSet<String>,
    /// Resources of the other identical files: unchanged.
    unchanged: usize,
}

/// The work-tree files to hold: those not identical at REF (`same`: the
/// identical paths), and the identical ones whose documents share a name,
/// or an environment and service, with a document of a differing file on
/// either side (`old_differing`: REF's). When a differing file's documents
/// cannot be named without parsing it, every identical file is held.
fn held(
    listed: &[(usize, Listed)],
    same: &std::collections::HashSet<String>,
    old_differing: &[OutFile],
) -> Held {
    let old_ids: Vec<Option<Vec<semantic::Identity>>> =
        old_differing.iter().map(semantic::identities).collect();
    let new_ids = listed
        .iter()
        .filter(|(_, l)| !same.contains(&l.path))
        .map(|(_, l)| l.ids.as_ref());
    let mut known = Vec::new();
    let mut all = false;
    for ids in old_ids.iter().map(Option::as_ref).chain(new_ids) {
        match ids {
            Some(ids) => known.extend(ids),
            None => all = true,
        }
    }
    let affected = semantic::Affected::of(known);
    let mut out = Held::default();
    for (unit, l) in listed {
        let keep = !same.contains(&l.path) || all || affected.needs(l.ids.as_deref());
        if keep {
            out.paths.insert(l.path.clone());
            out.units.push(*unit);
        } else {
            out.unchanged += l.ids.as_ref().map_or(0, Vec::len);
        }
    }
    out.units.dedup();
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `diff OLD NEW` holds identical files once and keeps only those the
    /// comparison reads: the report is the one of both folders whole.
    #[test]
    fn folders_hold_identical_files_once_and_report_the_same() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/commerce/expected");
        let old = read_manifests(&dir).unwrap();
        let mut new = old.clone();
        let deploy = new
            .iter_mut()
            .find(|f| f.path.starts_with("production/") && f.path.contains("/deployment-"))
            .unwrap();
        deploy.content = deploy.content.replacen("image: ", "image: x", 1);
        let moved = new
            .iter()
            .position(|f| f.path.contains("/service-"))
            .unwrap();
        new[moved].path = new[moved].path.replace("/service-", "/moved-service-");
        let same: Vec<usize> = old
            .iter()
            .enumerate()
            .filter(|(_, f)| {
                new.iter()
                    .any(|n| n.path == f.path && n.content == f.content)
            })
            .map(|(i, _)| i)
            .collect();
        let differing: Vec<OutFile> = new
            .iter()
            .filter(|n| {
                !old.iter()
                    .any(|f| f.path == n.path && f.content == n.content)
            })
            .cloned()
            .collect();
        let platform = app::load_config(None)
            .unwrap()
            .0
            .expect("the built-in config");
        let opts = Options::default();
        let full = compare(&old, &new, ("a", "b"), &platform, &opts, None).unwrap();
        let (o, n, unchanged) = select_identical(old.clone(), differing, &same);
        assert!(
            o.len() + 50 < old.len(),
            "{} of {} held",
            o.len(),
            old.len()
        );
        let mut held = compare(&o, &n, ("a", "b"), &platform, &opts, None).unwrap();
        held.unchanged += unchanged;
        assert_eq!(semantic::json(&full), semantic::json(&held));
        assert_eq!(semantic::text(&full, false), semantic::text(&held, false));
    }

    fn listed(path: &str, env: &str, service: &str, name: &str) -> Listed {
        Listed {
            path: path.to_string(),
            len: 0,
            hash: 0,
            ids: Some(vec![semantic::Identity {
                environment: env.to_string(),
                api_version: "v1".to_string(),
                kind: "ConfigMap".to_string(),
                namespace: String::new(),
                name: name.to_string(),
                service: service.to_string(),
            }]),
        }
    }

    fn same(paths: &[&str]) -> std::collections::HashSet<String> {
        paths.iter().map(|p| p.to_string()).collect()
    }

    /// Units 0 and 1: a service in staging; 2: another; 3: platform-wide.
    fn fleet() -> Vec<(usize, Listed)> {
        vec![
            (0, listed("staging/a/one.yaml", "staging", "a", "one")),
            (1, listed("staging/a/two.yaml", "staging", "a", "two")),
            (2, listed("staging/b/one.yaml", "staging", "b", "b-one")),
            (3, listed("platform/x.yaml", "platform", "", "x")),
        ]
    }

    #[test]
    fn holds_what_differs_and_the_rest_of_its_service_only() {
        let held = held(
            &fleet(),
            &same(&[
                "staging/a/two.yaml",
                "staging/b/one.yaml",
                "platform/x.yaml",
            ]),
            &[],
        );
        assert_eq!(held.units, vec![0, 1]);
        assert_eq!(
            held.paths.iter().map(String::as_str).collect::<Vec<_>>(),
            ["staging/a/one.yaml", "staging/a/two.yaml"]
        );
        assert_eq!(held.unchanged, 2);
    }

    #[test]
    fn a_file_only_at_the_base_holds_the_files_that_share_its_name() {
        // Gone since REF (or moved): REF's file names `x`, as the identical
        // platform file does, so that one is held; nothing else is.
        let gone = OutFile {
            path: "platform/old.yaml".to_string(),
            content: "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n".to_string(),
        };
        let all = same(&[
            "staging/a/one.yaml",
            "staging/a/two.yaml",
            "staging/b/one.yaml",
            "platform/x.yaml",
        ]);
        let held = held(&fleet(), &all, std::slice::from_ref(&gone));
        assert_eq!(held.units, vec![3]);
        assert_eq!(held.unchanged, 3);
    }

    #[test]
    fn a_differing_file_it_cannot_name_holds_everything() {
        let odd = OutFile {
            path: "staging/b/odd.yaml".to_string(),
            content: "apiVersion: v1\r\nkind: ConfigMap\r\n".to_string(),
        };
        let held = held(
            &fleet(),
            &same(&[
                "staging/a/one.yaml",
                "staging/a/two.yaml",
                "staging/b/one.yaml",
                "platform/x.yaml",
            ]),
            std::slice::from_ref(&odd),
        );
        assert_eq!(held.units, vec![0, 1, 2, 3]);
        assert_eq!(held.unchanged, 0);
    }
}
