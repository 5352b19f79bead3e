//! The orchestrator: finds the workspace, runs the stages in order, and
//! decides what is shown and the exit code.
//!
//! ```text
//! workspace → load (spans) → validate (schema, semantic) → model (resolve)
//!           → units (render, normalize, first pass) → sinks (write, check, diff, stdout)
//! ```
//!
//! There is one pipeline: [`compile`] loads and checks every spec of the
//! workspace (whatever the paths), [`Compiled::units`] gives the render units
//! the paths and `--env` select (platform-wide units always), and
//! [`first_pass`] renders them once, keeping digests. Each command in `cmd/`
//! hands that to a sink in `emit`. No stage calls the next; this module does.
//! Findings about the input are `Diagnostic`s, collected from every file and
//! printed together (exit 1). Faults of the environment (a missing path, an
//! unwritable folder) are [`Fault`]s (exit 2). Success is exit 0.
//!
//! Architecture invariant: orchestration only; knows no clap type, no
//! template, and how no command prints its product.

use crate::codes;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use rayon::prelude::*;

use crate::diag::{self, Diagnostic, Format, Severity};
use crate::emit::Scope;
use crate::load;
use crate::model::preview::Preview;
use crate::model::{self, Instance, Platform, Service};
use crate::render::Blueprints;
use crate::render::{Rendered, Select, Units};
use crate::source::{display_path, Overlay, Source, SourceRef};
use crate::validate::{schema, semantic};
use crate::workspace::{self, Skip, Workspace};

mod causes;
pub(crate) use causes::causes as diff_causes;

pub const DEFAULT_CONFIG: &str = include_str!("paved.default.yaml");

/// A fault of the environment, not of the input (exit code 2).
#[derive(Debug)]
pub struct Fault(pub String);

/// How diagnostics and summaries are shown.
#[derive(Debug, Clone)]
pub struct Output {
    /// How diagnostics print: `human`, `json` or `github` (see `Format::findings`).
    pub format: Format,
    pub color: bool,
    pub quiet: bool,
    pub verbose: bool,
}

/// Where the run starts: the user's paths, config, output folder and environments.
#[derive(Debug, Clone, Default)]
pub struct Inputs {
    pub paths: Vec<PathBuf>,
    pub config: Option<PathBuf>,
    /// `--out` as given; `None`: the default in the workspace root, for
    /// commands with `default_out`.
    pub out_dir: Option<PathBuf>,
    /// Whether the command has an output folder (render, check).
    pub default_out: bool,
    /// `--env`: the environments to render; empty: all.
    pub envs: Vec<String>,
    /// Unsaved editor buffers read instead of the files (`paved lsp`).
    pub overlay: Option<std::sync::Arc<Overlay>>,
    /// `render --preview NAME`: render the selection as this preview.
    pub preview: Option<String>,
    /// Each spec's loaded and validated state from earlier compiles, reused
    /// while its text is the same (`paved lsp`, which compiles on every edit).
    pub cache: Option<std::sync::Arc<SpecCache>>,
}

/// What one spec's own stages (read, parse, schema, model, and its own
/// semantic checks) gave, by path, kept while the spec's text, shown name and
/// the platform's size limit are the same: a re-check after an edit re-runs
/// the edited spec's own stages and the cross-file checks, not every spec's.
///
/// A spec's text is read from the disk once: later compiles take the text
/// last read, without reading or walking the folder again, until
/// [`SpecCache::disk_changed`] says the disk may have changed (the editor
/// saved a file, or reported files created, changed or deleted). Then every
/// spec is read again, and only those whose text changed go through their
/// stages again. Entries of specs that left the workspace are dropped after
/// each compile, so the cache holds one entry per spec of the workspaces it
/// serves; [`SpecCache::keep_only`] drops the workspaces no longer served.
#[derive(Debug, Default)]
pub struct SpecCache {
    entries: std::sync::Mutex<std::collections::HashMap<PathBuf, Cached>>,
    /// The folder walks, kept until the disk changes.
    walks: std::sync::Arc<workspace::Walks>,
    /// Per workspace root, what the own semantic checks depend on besides
    /// the spec (the platform config's text and the blueprint overrides'
    /// paths) and its generation: own findings of another generation are
    /// stale. Generations come from one counter (the first field), so two
    /// workspaces never share one.
    platform: std::sync::Mutex<(u64, Generations)>,
    hits: std::sync::atomic::AtomicUsize,
    reads: std::sync::atomic::AtomicUsize,
    own_checks: std::sync::atomic::AtomicUsize,
}

/// Per workspace root: the platform key and its generation.
type Generations = std::collections::HashMap<PathBuf, (String, u64)>;

#[derive(Debug)]
struct Cached {
    text: String,
    shown: String,
    limit: u64,
    loaded: Loaded,
    /// The text was read from the disk and the disk has not changed since:
    /// the file need not be read again.
    on_disk: bool,
    /// The spec's own semantic findings, with the platform generation they
    /// were made for.
    own: Option<(u64, Vec<Diagnostic>)>,
}

impl SpecCache {
    /// How many specs the last compiles took from the cache (for tests).
    pub fn hits(&self) -> usize {
        self.hits.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// How many specs the compiles read from the disk (for tests).
    pub fn reads(&self) -> usize {
        self.reads.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// How many specs' own semantic checks the compiles ran (for tests).
    pub fn own_checks(&self) -> usize {
        self.own_checks.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// How many times the compiles walked a workspace's folders (for tests).
    pub fn walks(&self) -> usize {
        self.walks.walked()
    }

    /// Says the files on disk may have changed since the last compile: the
    /// next one walks the folders and reads every spec that is not an
    /// editor's buffer again.
    pub fn disk_changed(&self) {
        self.walks.clear();
        if let Ok(mut entries) = self.entries.lock() {
            for c in entries.values_mut() {
                c.on_disk = false;
            }
        }
    }

    /// The entry of a spec read from the disk and not changed since.
    fn unchanged_on_disk(&self, path: &Path, shown: &str, limit: u64) -> Option<Loaded> {
        let entries = self.entries.lock().ok()?;
        let c = entries.get(path)?;
        (c.on_disk && c.shown == shown && c.limit == limit).then(|| {
            self.hits.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            c.loaded.clone()
        })
    }

    /// The entry kept for this very text.
    fn get(&self, path: &Path, text: &str, shown: &str, limit: u64) -> Option<Loaded> {
        let entries = self.entries.lock().ok()?;
        let c = entries.get(path)?;
        (c.text == text && c.shown == shown && c.limit == limit).then(|| {
            self.hits.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            c.loaded.clone()
        })
    }

    /// Records a spec's stages. The own findings are kept when the text
    /// and what the workspace holds beside the spec are the same.
    fn put(
        &self,
        path: &Path,
        text: &str,
        shown: String,
        limit: u64,
        loaded: &Loaded,
        on_disk: bool,
    ) {
        if let Ok(mut entries) = self.entries.lock() {
            let own = entries
                .remove(path)
                .filter(|c| {
                    c.text == text
                        && c.shown == shown
                        && c.limit == limit
                        && c.loaded.0.as_ref().map(|s| &s.beside)
                            == loaded.0.as_ref().map(|s| &s.beside)
                })
                .and_then(|c| c.own);
            entries.insert(
                path.to_path_buf(),
                Cached {
                    text: text.to_string(),
                    shown,
                    limit,
                    loaded: loaded.clone(),
                    on_disk,
                    own,
                },
            );
        }
    }

    /// The generation of what the own checks of the workspace at `root`
    /// depend on besides the spec, `key`: a new one when it differs from
    /// the last compile's of that workspace.
    fn platform_generation(&self, root: &Path, key: String) -> u64 {
        let Ok(mut guard) = self.platform.lock() else {
            return u64::MAX;
        };
        let (counter, roots) = &mut *guard;
        match roots.get(root) {
            Some((k, g)) if *k == key => *g,
            _ => {
                *counter += 1;
                roots.insert(root.to_path_buf(), (key, *counter));
                *counter
            }
        }
    }

    /// Keeps only what serves the workspaces at `roots` (those with an open
    /// document): the entries of the specs under them, their platform
    /// generations and their walks. Memory stays bounded by the workspaces
    /// in use, however many were opened over a session.
    pub fn keep_only(&self, roots: &[PathBuf]) {
        let under = |p: &Path| roots.iter().any(|r| p.starts_with(r));
        if let Ok(mut entries) = self.entries.lock() {
            entries.retain(|p, _| under(p));
        }
        if let Ok(mut guard) = self.platform.lock() {
            guard.1.retain(|r, _| roots.contains(r));
        }
        self.walks.keep_only(roots);
    }

    /// How many specs the cache holds entries for (for tests).
    pub fn held(&self) -> usize {
        self.entries.lock().map_or(0, |e| e.len())
    }

    /// Whether a walk kept since the disk last changed found `path`: a
    /// spec that is not in it (given only as a buffer) is found by walking
    /// again.
    pub fn walked(&self, path: &Path) -> bool {
        self.walks.found(path)
    }

    /// A service's own semantic findings: kept ones of this generation, or
    /// `check`'s, then kept.
    fn own(
        &self,
        s: &Service,
        generation: u64,
        check: impl FnOnce() -> Vec<Diagnostic>,
    ) -> Vec<Diagnostic> {
        let path = s.source.path.as_path();
        if let Ok(entries) = self.entries.lock() {
            if let Some((_, own)) = entries
                .get(path)
                .and_then(|c| c.own.as_ref())
                .filter(|(g, _)| *g == generation)
            {
                return own.clone();
            }
        }
        self.own_checks
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let found = check();
        if let Ok(mut entries) = self.entries.lock() {
            if let Some(c) = entries.get_mut(path) {
                c.own = Some((generation, found.clone()));
            }
        }
        found
    }

    fn retain(&self, ws: &Workspace) {
        if let Ok(mut entries) = self.entries.lock() {
            let keep: std::collections::HashSet<&Path> =
                ws.specs.iter().map(|s| s.path.as_path()).collect();
            entries.retain(|p, _| keep.contains(p.as_path()) || !p.starts_with(&ws.root));
        }
    }
}

/// The checked workspace: platform, every service, resolved instances and
/// blueprints, or the findings that stopped the run.
pub struct Compiled {
    pub workspace: Workspace,
    pub platform: Option<Platform>,
    /// Every service of the workspace, selected or not.
    pub services: Vec<Service>,
    pub instances: Vec<Instance>,
    pub blueprints: Option<Blueprints>,
    pub diags: Vec<Diagnostic>,
    /// `--env`, checked against the platform; `None`: every environment.
    pub envs: Option<BTreeSet<String>>,
    /// Services rendered with the selection because their output depends on
    /// it (see [`Compiled::relate`]); not reported as selected.
    pub related: BTreeSet<String>,
    /// The platform config as read, with spans (`paved trace` points into it).
    pub config: Option<(SourceRef, load::Node)>,
}

impl Compiled {
    pub fn failed(&self) -> bool {
        diag::count_errors(&self.diags) > 0
    }

    /// The services the paths select.
    pub fn selected(&self) -> impl Iterator<Item = &Service> {
        self.services
            .iter()
            .filter(|s| self.workspace.selects(&s.origin))
    }

    /// What the paths and `--env` select, for the render units: the
    /// selected services and those related to them.
    pub fn select(&self) -> Select {
        Select {
            services: (!self.workspace.whole()).then(|| {
                self.selected()
                    .map(|s| s.name().to_string())
                    .chain(self.related.iter().cloned())
                    .collect()
            }),
            envs: self.envs.clone(),
            preview: false,
        }
    }

    /// Widens a subset run to the services whose rendered files depend on
    /// the selected ones: their dependencies (whose NetworkPolicies admit
    /// them) and dependents (whose egress reaches them), now and, through
    /// `earlier`, as the last render recorded them (a dependency just
    /// dropped still admits the service until it is rendered again). So
    /// after a change to one spec, rendering that service alone leaves the
    /// whole folder up to date.
    pub fn relate(&mut self, earlier: &BTreeSet<String>) {
        if self.workspace.whole() {
            return;
        }
        let selected: BTreeSet<&str> = self.selected().map(Service::name).collect();
        let mut related: BTreeSet<String> = earlier.clone();
        related.extend(neighbors(&self.services, &selected));
        let known: BTreeSet<&str> = self.services.iter().map(Service::name).collect();
        related.retain(|n| !selected.contains(n.as_str()) && known.contains(n.as_str()));
        self.related = related;
    }

    /// The render units, once the model is complete and error-free.
    pub fn units(&self) -> Option<Units<'_>> {
        if self.failed() {
            return None;
        }
        Some(Units::new(
            self.platform.as_ref()?,
            &self.services,
            &self.instances,
            self.blueprints.as_ref()?,
            &self.select(),
        ))
    }

    /// The preview `name` of the selected services (`render --preview`),
    /// once the model is complete and error-free (`Ok(None)` otherwise);
    /// a name or namespace Paved cannot use is a fault (exit 2).
    ///
    /// A service the paths select that does not run in `previews.from` is
    /// an error (`paved::semantic::preview-not-in-from`, at its
    /// `environments`), added to the diagnostics: it was asked for, so
    /// `Ok(None)`. Without paths (the whole workspace), such a service is
    /// not part of the preview.
    pub(crate) fn preview(&mut self, name: &str) -> Result<Option<Preview>, Fault> {
        if self.failed() {
            return Ok(None);
        }
        let from = self
            .platform
            .as_ref()
            .and_then(|p| p.previews.as_ref())
            .map(|cfg| cfg.from.clone())
            .filter(|_| !self.workspace.whole());
        if let Some(from) = from {
            let missing: Vec<crate::diag::Diagnostic> = self
                .selected()
                .filter(|s| !s.runs_in(&from))
                .map(|s| not_in_preview_from(s, &from))
                .collect();
            if !missing.is_empty() {
                self.diags.extend(missing);
                return Ok(None);
            }
        }
        let Some(platform) = self.platform.as_ref() else {
            return Ok(None);
        };
        let selected: BTreeSet<String> = self.selected().map(|s| s.name().to_string()).collect();
        crate::model::preview::derive(platform, &self.services, &selected, name)
            .map(Some)
            .map_err(Fault)
    }

    /// The render units of a preview: its services in its one environment.
    pub(crate) fn preview_units<'p>(&'p self, preview: &'p Preview) -> Option<Units<'p>> {
        Some(Units::new(
            &preview.platform,
            &preview.services,
            &preview.instances,
            self.blueprints.as_ref()?,
            &Select {
                services: None,
                envs: None,
                preview: true,
            },
        ))
    }

    /// Which generated files a preview run owns: `DIR/previews/<NAME>/`.
    pub(crate) fn preview_scope(&self, preview: &Preview) -> Scope {
        Scope {
            preview: Some(preview.name.clone()),
            ..Scope::default()
        }
    }

    /// [`relate`](Compiled::relate), with what the output folder recorded of
    /// the selected services' dependencies at the last render.
    pub fn relate_with_output(&mut self) {
        if self.workspace.whole() {
            return;
        }
        let mut earlier = BTreeSet::new();
        if let Some(dir) = &self.workspace.out_dir {
            // Every service the last render made from a selected spec, by
            // its catalog entry: today's names, and names deleted or renamed
            // since (their dependencies still admit them).
            let ws = &self.workspace;
            let mut names: BTreeSet<String> =
                crate::emit::recorded_services(dir, &|origin| ws.selects(origin))
                    .into_iter()
                    .collect();
            names.extend(self.selected().map(|s| s.name().to_string()));
            for name in &names {
                earlier.extend(crate::emit::recorded_dependencies(dir, name));
            }
        }
        self.relate(&earlier);
    }

    /// Whether this run covers every spec and every environment, so that it
    /// owns the whole output folder.
    pub fn covers_everything(&self) -> bool {
        let every_env = match (&self.envs, &self.platform) {
            (None, _) => true,
            (Some(e), Some(p)) => p.environments.values().all(|env| e.contains(&env.name)),
            (Some(_), None) => false,
        };
        every_env
            && self.workspace.specs.iter().all(|s| s.selected)
            && self.workspace.skipped.iter().all(|s| s.selected)
    }

    /// Which generated files in the output folder this run owns.
    pub fn scope(&self) -> Scope {
        Scope {
            specs: self.workspace.selection.clone().map(|mut prefixes| {
                prefixes.extend(
                    self.services
                        .iter()
                        .filter(|s| self.related.contains(s.name()))
                        .map(|s| s.origin.clone()),
                );
                prefixes
            }),
            envs: self.envs.as_ref().map(|e| e.iter().cloned().collect()),
            env_names: self
                .platform
                .iter()
                .flat_map(|p| p.environments.values().map(|e| e.name.clone()))
                .collect(),
            protected: self
                .workspace
                .skipped
                .iter()
                .filter(|s| !matches!(s.why, Skip::BadName(_)))
                .map(|s| s.rel.clone())
                .collect(),
            preview: None,
        }
    }

    /// The diagnostics about what the paths select: those in selected specs,
    /// in the platform config, and those with no file; for `validate`, whose
    /// answer for one service is what the whole repository says of it.
    pub fn selected_diags(&self) -> Vec<Diagnostic> {
        if self.workspace.whole() {
            return self.diags.clone();
        }
        // A spec of the workspace that the paths do not select.
        let unselected = |src: &SourceRef| -> bool {
            src.path
                .strip_prefix(&self.workspace.root)
                .ok()
                .map(workspace::slash)
                .is_some_and(|rel| {
                    rel.ends_with(workspace::SPEC_FILE) && !self.workspace.selects(&rel)
                })
        };
        self.diags
            .iter()
            .filter(|d| {
                // Kept when any place it names is selected (a collision
                // between a selected and another service is both's problem).
                let mut places = d
                    .primary
                    .iter()
                    .chain(&d.secondary)
                    .map(|l| &l.source)
                    .chain(&d.file_only);
                match places.next() {
                    None => true,
                    Some(first) => !unselected(first) || places.any(|s| !unselected(s)),
                }
            })
            .cloned()
            .collect()
    }

    /// `<n> services in <m> environments`, for summaries.
    pub fn what(&self) -> String {
        let envs: BTreeSet<&str> = self
            .instances
            .iter()
            .filter(|i| {
                self.envs
                    .as_ref()
                    .is_none_or(|e| e.contains(&i.environment.name))
            })
            .map(|i| i.environment.name.as_str())
            .collect();
        format!(
            "{} in {}",
            plural(self.selected().count(), "service"),
            plural(envs.len(), "environment")
        )
    }

    /// Says, with `--verbose`, which workspace and config are in use and what
    /// the paths select.
    pub fn describe(&self, out: &Output) {
        let ws = &self.workspace;
        status_verbose(
            out,
            &format!(
                "workspace: {} ({}); {}, {} selected{}",
                ws.root_shown(),
                match &ws.config {
                    Some(_) => format!("config {}", ws.config_shown()),
                    None => "built-in config".to_string(),
                },
                plural(ws.specs.len(), "spec"),
                ws.specs.iter().filter(|s| s.selected).count(),
                match &self.envs {
                    Some(e) => format!(
                        "; environments {}",
                        e.iter().cloned().collect::<Vec<_>>().join(", ")
                    ),
                    None => String::new(),
                }
            ),
        );
    }

    /// ` (workspace `.`, config `paved.yaml`)`, for summaries.
    pub fn where_(&self) -> String {
        format!(
            "workspace `{}`, {}",
            self.workspace.root_shown(),
            match &self.workspace.config {
                Some(_) => format!("config `{}`", self.workspace.config_shown()),
                None => "built-in config".to_string(),
            }
        )
    }
}

/// The services next to `selected` in the dependency graph of `services`:
/// those the selected ones depend on, and those that depend on them.
pub(crate) fn neighbors<'s>(
    services: impl IntoIterator<Item = &'s Service>,
    selected: &BTreeSet<&str>,
) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for s in services {
        let deps: Vec<&str> = s.dependency_names().collect();
        if selected.contains(s.name()) {
            out.extend(deps.iter().map(|d| d.to_string()));
        } else if deps.iter().any(|d| selected.contains(d)) {
            out.insert(s.name().to_string());
        }
    }
    out
}

/// Spec texts that stand in for the files at these paths (absolute, as the
/// workspace found them, `Service::source.path`): what a run would see after
/// an edit that is not written yet (`paved promote`).
pub(crate) type Edits = std::collections::BTreeMap<PathBuf, String>;

/// [`compile`], reading the specs in `edits` from there instead of the disk
/// (on top of any overlay the inputs carry).
pub(crate) fn compile_over(
    inputs: &Inputs,
    resolve: bool,
    edits: &Edits,
) -> Result<Compiled, Fault> {
    let mut overlay = inputs.overlay.as_deref().cloned().unwrap_or_default();
    for (path, text) in edits {
        overlay.insert(path.clone(), std::sync::Arc::from(text.as_str()));
    }
    let inputs = Inputs {
        overlay: Some(std::sync::Arc::new(overlay)),
        ..inputs.clone()
    };
    compile(&inputs, resolve)
}

/// workspace → load → validate → model, for every spec of the workspace.
/// With `resolve: false` it stops after validation.
pub fn compile(inputs: &Inputs, resolve: bool) -> Result<Compiled, Fault> {
    let ws = workspace::open(&workspace::Request {
        paths: inputs.paths.clone(),
        config: inputs.config.clone(),
        out_dir: inputs.out_dir.clone(),
        default_out: inputs.default_out,
        overlay: inputs.overlay.clone(),
        walks: inputs.cache.as_ref().map(|c| c.walks.clone()),
    })
    .map_err(Fault)?;
    let mut diags = skipped_diags(&ws);
    let mut c = Compiled {
        platform: None,
        services: vec![],
        instances: vec![],
        blueprints: None,
        diags: vec![],
        envs: None,
        related: BTreeSet::new(),
        config: None,
        workspace: ws,
    };

    // The platform config first: its limits apply to every spec.
    let config = c
        .workspace
        .config
        .as_ref()
        .map(|p| (p.as_path(), c.workspace.shown(p)));
    let overlay = inputs.overlay.as_deref();
    let Some((platform, overrides, config_doc)) = load_platform(config, overlay, &mut diags)?
    else {
        diag::sort(&mut diags);
        c.diags = diags;
        return Ok(c);
    };
    c.config = Some(config_doc);
    if !inputs.envs.is_empty() {
        let known: Vec<&str> = platform
            .environments
            .values()
            .map(|e| e.name.as_str())
            .collect();
        for e in &inputs.envs {
            if !known.contains(&e.as_str()) {
                return Err(Fault(format!(
                    "unknown environment `{}`; the platform has {}",
                    workspace::escape(e),
                    known.join(", ")
                )));
            }
        }
        c.envs = Some(inputs.envs.iter().cloned().collect());
    }

    crate::progress::phase(format!(
        "loading {}",
        plural(c.workspace.specs.len(), "spec")
    ));
    let loaded: Vec<Result<Loaded, Fault>> = c
        .workspace
        .specs
        .par_iter()
        .map(|spec| {
            load_service(
                &c.workspace,
                spec,
                &platform,
                overlay,
                inputs.cache.as_deref(),
            )
        })
        .collect();
    if let Some(cache) = &inputs.cache {
        cache.retain(&c.workspace);
    }
    let mut services = Vec::new();
    let mut broken = std::collections::BTreeMap::new();
    for r in loaded {
        let (s, d, name) = r?;
        diags.extend(d);
        match s {
            Some(s) => services.push(s),
            None => {
                if let Some((name, shown)) = name {
                    broken.entry(name).or_insert(shown);
                }
            }
        }
    }
    let blueprints: Vec<&str> = overrides.iter().map(|(path, _, _)| path.as_str()).collect();
    // Each service's own checks (kept with the spec in the cache), then the
    // cross-file ones (docs of `semantic::Own`).
    let own = semantic::Own::new(&platform, &blueprints);
    let own_from = diags.len();
    match &inputs.cache {
        Some(cache) => {
            let mut key = c
                .config
                .as_ref()
                .map(|(src, _)| src.text.to_string())
                .unwrap_or_default();
            for b in &blueprints {
                key.push('\0');
                key.push_str(b);
            }
            let generation = cache.platform_generation(&c.workspace.root, key);
            let found: Vec<Vec<Diagnostic>> = services
                .par_iter()
                .map(|s| cache.own(s, generation, || own.check(s)))
                .collect();
            diags.extend(found.into_iter().flatten());
        }
        None => {
            let found: Vec<Vec<Diagnostic>> = services.par_iter().map(|s| own.check(s)).collect();
            diags.extend(found.into_iter().flatten());
        }
    }
    semantic::pin_tag_fixes(&services, &mut diags[own_from..]);
    diags.extend(semantic::across(&platform, &services, &broken));
    if let Some((src, doc)) = &c.config {
        diags.extend(semantic::service_budget_names(
            &platform, &services, &broken, src, doc,
        ));
    }
    // Budgets, even for `validate`: only when there is a price table and a
    // budget, and only what the estimate reads of the budgeted services
    // (docs/cost.md, "Budgets").
    let budgeted = platform.cost.is_some()
        && !(platform.budgets.is_empty() && platform.service_budgets.is_empty());
    // With a price table, every (service, environment) must be priceable
    // (no quantity too large): sized the same cheap way (docs/cost.md).
    if platform.cost.is_some() && diag::count_errors(&diags) == 0 {
        diags.extend(semantic::unpriceable(&platform, &services));
    }
    if budgeted && diag::count_errors(&diags) == 0 {
        diags.extend(semantic::over_budget(&platform, &services));
    }
    if diag::count_errors(&diags) > 0 || !resolve {
        diag::sort(&mut diags);
        c.platform = Some(platform);
        c.services = services;
        c.diags = diags;
        return Ok(c);
    }

    let instances = model::resolve(&platform, &services);
    c.blueprints = Some(Blueprints::new(overrides));
    diag::sort(&mut diags);
    c.platform = Some(platform);
    c.services = services;
    c.instances = instances;
    c.diags = diags;
    Ok(c)
}

/// The findings about specs the workspace does not read.
fn skipped_diags(ws: &Workspace) -> Vec<Diagnostic> {
    ws.skipped
        .iter()
        .map(|s| {
            let src = Source::new(&s.path, workspace::escape(&ws.shown(&s.path)), String::new());
            match &s.why {
                Skip::Symlink => Diagnostic::warning(
                    codes::WORKSPACE_SYMLINK_SKIPPED,
                    "this platform.yaml is a symlink, and Paved does not follow symlinks; it is skipped",
                )
                .in_file(&src)
                .help("replace the link with the file itself; until then the service is not compiled and its rendered files are left as they are"),
                Skip::NotAFile => Diagnostic::warning(
                    codes::WORKSPACE_NOT_A_FILE,
                    "this platform.yaml is not a regular file (a FIFO, socket or device); it is skipped",
                )
                .in_file(&src)
                .help("a spec is a plain text file; remove or rename this entry"),
                Skip::BadName(why) => Diagnostic::error(
                    codes::WORKSPACE_BAD_FILE_NAME,
                    format!("the path of this spec {why}"),
                )
                .in_file(&src)
                .help("rename the folder: spec paths reach generated file headers and terminals, so they may hold no control characters and must be UTF-8"),
            }
        })
        .collect()
}

type Overrides = Vec<(String, String, String)>;
/// The platform config as read, with spans.
type ConfigDoc = (SourceRef, load::Node);

fn load_platform(
    path: Option<(&Path, String)>,
    overlay: Option<&Overlay>,
    diags: &mut Vec<Diagnostic>,
) -> Result<Option<(Platform, Overrides, ConfigDoc)>, Fault> {
    let src = match path {
        Some((p, name)) => {
            match crate::load::read(p, name, 1024 * 1024, "paved.yaml", overlay, diags)
                .map_err(Fault)?
            {
                Some(s) => s,
                None => return Ok(None),
            }
        }
        None => Source::virtual_file("<built-in paved.yaml>", DEFAULT_CONFIG.to_string()),
    };
    let (doc, d) = load::load_mapping(&src, "paved.yaml");
    diags.extend(d);
    let Some(doc) = doc else { return Ok(None) };
    let (json, d) = schema::validate(schema::Kind::Platform, &src, &doc);
    let failed = !d.is_empty();
    diags.extend(d);
    if failed {
        return Ok(None);
    }
    let platform = match Platform::from_json(json) {
        Ok(p) => p,
        Err(e) => {
            diags.push(
                Diagnostic::error(
                    codes::INTERNAL,
                    format!("paved.yaml passed its schema but not the model: {e}"),
                )
                .in_file(&src),
            );
            return Ok(None);
        }
    };
    let d = semantic::check_platform(&platform, &src, &doc);
    // A budget's unknown name leaves the model whole: the specs still load,
    // so a service budget's unknown service is reported in the same run.
    let failed = d
        .iter()
        .any(|d| d.severity == Severity::Error && d.code != codes::SEMANTIC_UNKNOWN_BUDGET_NAME);
    diags.extend(d);
    if failed {
        return Ok(None);
    }
    let mut overrides = Vec::new();
    if let Some(dir) = &platform.blueprints {
        let base = src.path.parent().unwrap_or(Path::new("."));
        let folder = base.join(dir);
        if !folder.is_dir() {
            let span = doc
                .pointer("/spec/blueprints")
                .map(|(n, _)| n.span)
                .unwrap_or(doc.span);
            let problem = if folder.exists() {
                "is not a folder"
            } else {
                "does not exist"
            };
            diags.push(
                Diagnostic::error(
                    codes::CONFIG_BLUEPRINTS_MISSING,
                    format!("the blueprints folder `{dir}` {problem}"),
                )
                .at(
                    &src,
                    span,
                    format!("no folder at {}", workspace::shown_from_cwd(&folder)),
                )
                .help(
                    "the path is relative to paved.yaml; create the folder or remove `blueprints`",
                ),
            );
            return Ok(None);
        }
        overrides = read_overrides(&folder)?;
    }
    Ok(Some((platform, overrides, (src, doc))))
}

/// Reads the platform's blueprint overrides. Symlinks are not followed, so a
/// blueprint can only come from inside the folder.
/// The largest blueprint file read (the largest built-in one is a few KiB).
const MAX_BLUEPRINT: u64 = 1024 * 1024;

fn read_overrides(folder: &Path) -> Result<Overrides, Fault> {
    let mut out = Vec::new();
    for entry in walkdir::WalkDir::new(folder)
        .follow_links(false)
        .sort_by_file_name()
    {
        let entry = entry.map_err(|e| Fault(format!("cannot read the blueprints folder: {e}")))?;
        if !entry.file_type().is_file() {
            continue;
        }
        let Ok(rel) = entry.path().strip_prefix(folder) else {
            continue;
        };
        let rel = display_path(rel, Path::new(""));
        // Only templates are read, and only up to a size no real blueprint
        // reaches, whatever folder `blueprints:` names.
        if !crate::render::is_template(&rel) {
            continue;
        }
        let shown = workspace::shown_from_cwd(entry.path());
        if entry.metadata().map_or(0, |m| m.len()) > MAX_BLUEPRINT {
            return Err(Fault(format!(
                "blueprint `{shown}` is larger than {} MiB",
                MAX_BLUEPRINT >> 20
            )));
        }
        let text = std::fs::read_to_string(entry.path())
            .map_err(|e| Fault(format!("cannot read blueprint `{shown}`: {e}")))?;
        out.push((rel, shown, text));
    }
    Ok(out)
}

/// One spec's service (when it loaded), its findings, and, when it did not
/// load, the name it would have had (its `metadata.name`, else its folder)
/// with its path as shown.
type Loaded = (Option<Service>, Vec<Diagnostic>, Option<(String, String)>);

fn load_service(
    ws: &Workspace,
    spec: &workspace::Spec,
    platform: &Platform,
    inputs_overlay: Option<&Overlay>,
    cache: Option<&SpecCache>,
) -> Result<Loaded, Fault> {
    let mut diags = Vec::new();
    let shown = ws.shown(&spec.path);
    let folder_name = || {
        spec.path
            .parent()
            .and_then(|p| p.file_name())
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default()
    };
    let read = |diags: &mut Vec<Diagnostic>| {
        load::read(
            &spec.path,
            shown.clone(),
            platform.limits.max_file_size,
            "platform.yaml",
            inputs_overlay,
            diags,
        )
        .map_err(Fault)
    };
    let limit = platform.limits.max_file_size;
    if let Some(cache) = cache {
        let buffer = inputs_overlay.and_then(|o| o.get(&spec.path)).is_some();
        if !buffer {
            if let Some(hit) = cache.unchanged_on_disk(&spec.path, &shown, limit) {
                return Ok(hit);
            }
            cache
                .reads
                .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        }
        let Some(src) = read(&mut diags)? else {
            return Ok((None, diags, Some((folder_name(), shown))));
        };
        if let Some(mut hit) = cache.get(&spec.path, &src.text, &shown, limit) {
            if let Some(s) = &mut hit.0 {
                beside(ws, spec, s);
            }
            cache.put(&spec.path, &src.text, shown, limit, &hit, !buffer);
            return Ok(hit);
        }
        let loaded = load_spec(ws, spec, src.clone(), shown.clone(), diags)?;
        cache.put(&spec.path, &src.text, shown, limit, &loaded, !buffer);
        return Ok(loaded);
    }
    let Some(src) = read(&mut diags)? else {
        return Ok((None, diags, Some((folder_name(), shown))));
    };
    load_spec(ws, spec, src, shown, diags)
}

/// Fills in what the workspace holds beside a spec.
fn beside(ws: &Workspace, spec: &workspace::Spec, s: &mut Service) {
    s.beside.techdocs = spec.techdocs;
    s.beside.definitions = s
        .spec
        .apis
        .iter()
        .filter_map(|a| a.definition.as_deref())
        .filter_map(|d| model::definition_path(&spec.rel, d))
        .filter(|rel| workspace::is_regular_file(&ws.root, rel))
        .collect();
}

/// One read spec's own stages: parse, schema, model.
fn load_spec(
    ws: &Workspace,
    spec: &workspace::Spec,
    src: SourceRef,
    shown: String,
    mut diags: Vec<Diagnostic>,
) -> Result<Loaded, Fault> {
    let folder_name = || {
        spec.path
            .parent()
            .and_then(|p| p.file_name())
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default()
    };
    let (doc, d) = load::load_mapping(&src, "platform.yaml");
    diags.extend(d);
    let Some(doc) = doc else {
        return Ok((None, diags, Some((folder_name(), shown))));
    };
    let (json, d) = schema::validate(schema::Kind::Application, &src, &doc);
    if !d.is_empty() {
        diags.extend(d);
        let name = semantic::intended_name(&spec.path, Some(&doc)).unwrap_or_else(folder_name);
        return Ok((None, diags, Some((name, shown))));
    }
    match Service::from_json(src.clone(), doc, json, spec.rel.clone()) {
        Ok(mut s) => {
            beside(ws, spec, &mut s);
            Ok((Some(s), diags, None))
        }
        Err(e) => {
            diags.push(
                Diagnostic::error(
                    codes::INTERNAL,
                    format!("the spec passed its schema but not the model: {e}"),
                )
                .in_file(&src),
            );
            Ok((None, diags, Some((folder_name(), shown))))
        }
    }
}

/// Prints diagnostics: human reports on stderr, machine formats on stdout.
pub(crate) fn report(diags: &[Diagnostic], out: &Output) {
    // `--quiet` means errors only; machine formats always get everything,
    // since their reader does its own filtering.
    let errors_only: Vec<Diagnostic>;
    let diags = if out.quiet && out.format.findings() == Format::Human {
        errors_only = diags
            .iter()
            .filter(|d| d.severity == diag::Severity::Error)
            .cloned()
            .collect();
        &errors_only[..]
    } else {
        diags
    };
    // A SARIF log is one document, written even without findings (an
    // uploader needs a file); the caller reports once per run.
    if diags.is_empty() && out.format.findings() != Format::Sarif {
        return;
    }
    let text = diag::render(diags, out.format, out.color);
    match out.format.findings() {
        // The exit code already says the run failed; a reader that went away
        // early has nothing more to be told.
        Format::Json | Format::Github | Format::Sarif => {
            let _ = print_stdout(&text);
        }
        _ => eprint!("{text}"),
    }
}

/// Prints a command's product on stdout. A reader that closes the pipe early
/// (`paved diff | head`) is not an error, and never a panic, as `print!` would make it.
pub(crate) fn print_stdout(text: &str) -> Result<(), Fault> {
    use std::io::Write as _;
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => {
            Err(Fault(format!("cannot write to stdout: {e}")))
        }
        _ => Ok(()),
    }
}

pub(crate) fn status(out: &Output, line: &str) {
    if !out.quiet && out.format.findings() == Format::Human {
        eprintln!("{line}");
    }
}

/// A status line shown only with `--verbose`.
pub(crate) fn status_verbose(out: &Output, line: &str) {
    if out.verbose {
        status(out, line);
    }
}

/// A progress line for this run: only for humans, on a terminal, not `--quiet`.
pub(crate) fn progress(out: &Output, first: &str) -> crate::progress::Progress {
    use std::io::IsTerminal;
    let enabled =
        !out.quiet && out.format.findings() == Format::Human && std::io::stderr().is_terminal();
    crate::progress::Progress::start(enabled, first)
}

/// The most rendered bytes kept between the first pass of `render`/`check`
/// and writing; beyond it, units are rendered again when needed, so memory
/// stays flat for any fleet size.
pub(crate) const CACHE_BUDGET: usize = 32 << 20;

/// Renders and checks every unit once (the first pass). `None` when the
/// input has errors (already reported).
pub(crate) fn first_pass<'u>(
    c: &Compiled,
    units: &'u Units<'u>,
    budget: usize,
    out: &Output,
) -> Option<(Vec<Rendered<'u>>, Vec<Diagnostic>)> {
    crate::progress::phase(format!(
        "rendering {} × environments ({} units)",
        plural(c.services.len(), "service"),
        units.list.len()
    ));
    let (rendered, d) = units.first_pass(budget);
    let mut diags = c.diags.clone();
    diags.extend(d);
    diag::sort(&mut diags);
    if diag::count_errors(&diags) > 0 {
        report(&diags, out);
        return None;
    }
    Some((rendered, diags))
}

/// Reads and checks one platform config (`None`: the built-in one), for
/// commands that need the platform without compiling specs (`paved init`).
pub(crate) fn load_config(
    path: Option<&Path>,
) -> Result<(Option<Platform>, Vec<Diagnostic>), Fault> {
    let mut diags = Vec::new();
    let named = path.map(|p| (p, display_path(p, Path::new("."))));
    let platform = load_platform(named, None, &mut diags)?.map(|(p, _, _)| p);
    Ok((platform, diags))
}

/// A service selected for a preview that does not run in `from`, located
/// at its `environments` (which must list environments for that to be so).
fn not_in_preview_from(svc: &crate::model::Service, from: &str) -> crate::diag::Diagnostic {
    let span = svc
        .doc
        .get("spec")
        .and_then(|s| s.entry("environments"))
        .map_or(svc.doc.span, |e| e.key_span);
    crate::diag::Diagnostic::error(
        crate::codes::SEMANTIC_PREVIEW_NOT_IN_FROM,
        format!(
            "`{}` does not run in {from}, which previews are derived from",
            svc.name()
        ),
    )
    .at(&svc.source, span, format!("{from} is not listed here"))
    .help(format!(
        "a preview takes each service as it runs in {from} (paved.yaml `previews.from`): leave `{}` out of the preview's paths, or add `{from}: {{}}` under `environments` to run it there",
        svc.name()
    ))
}

/// `DIR/previews/<NAME>/kustomization.yaml`: the preview's Argo CD
/// Applications, which one root Application (or an ApplicationSet's) syncs
/// from `<gitops.path>/previews/<NAME>` (docs/environments.md). `None` when
/// the preview has no Applications (paved.yaml sets no `gitops.repoURL`).
pub(crate) fn preview_root<P: crate::emit::Planned>(
    preview: &Preview,
    planned: &[P],
) -> Option<crate::emit::OutFile> {
    let apps = format!("{}/argocd/", preview.folder);
    let files: Vec<crate::emit::OutFile> = planned
        .iter()
        .flat_map(|u| u.digests())
        .filter(|d| d.path.starts_with(&apps))
        .map(|d| crate::emit::OutFile {
            path: d.path.clone(),
            content: String::new(),
        })
        .collect();
    if files.is_empty() {
        return None;
    }
    Some(crate::render::preview_kustomization(
        &preview.folder,
        &files,
    ))
}

/// Everything the selected units render, in memory and sorted by path, with
/// every finding; no files when the input has errors. For `diff` and tests:
/// the other commands stream units instead.
pub fn render_in_memory(c: &Compiled) -> (Vec<crate::emit::OutFile>, Vec<Diagnostic>) {
    use crate::emit::Planned as _;
    let Some(units) = c.units() else {
        return (Vec::new(), c.diags.clone());
    };
    let (rendered, d) = units.first_pass(usize::MAX);
    let mut diags = c.diags.clone();
    diags.extend(d);
    diag::sort(&mut diags);
    if diag::count_errors(&diags) > 0 {
        return (Vec::new(), diags);
    }
    let mut files: Vec<crate::emit::OutFile> = rendered.iter().flat_map(|r| r.files()).collect();
    files.sort_by(|a, b| a.path.cmp(&b.path));
    (files, diags)
}

/// Renders the selected units as [`render_in_memory`] does, with the same
/// findings, but holds of each file only what `keep` returns: per unit (by
/// its place, for [`render_units`]), the kept values; none when the input
/// has errors. For `diff --base`, which needs digests of most files and
/// the text of a few.
pub(crate) fn render_map<T: Send>(
    c: &Compiled,
    keep: impl Fn(crate::emit::OutFile) -> Option<T> + Sync,
) -> (Vec<(usize, Vec<T>)>, Vec<Diagnostic>) {
    let Some(units) = c.units() else {
        return (Vec::new(), c.diags.clone());
    };
    let (kept, d) = units.map_pass(keep);
    let mut diags = c.diags.clone();
    diags.extend(d);
    diag::sort(&mut diags);
    if diag::count_errors(&diags) > 0 {
        return (Vec::new(), diags);
    }
    (kept, diags)
}

/// The files of the units at these places (as [`render_map`] numbers
/// them), rendered again.
pub(crate) fn render_units(c: &Compiled, places: &[usize]) -> Vec<crate::emit::OutFile> {
    c.units()
        .map(|u| u.render_again(places))
        .unwrap_or_default()
}

pub(crate) fn plural(n: usize, word: &str) -> String {
    format!("{n} {word}{}", if n == 1 { "" } else { "s" })
}

pub(crate) use crate::render::trace::{Field as TraceField, Resource as TraceResource};

/// One rendered object with the origin of each of its fields (`paved trace`).
pub(crate) struct Trace {
    pub resource: TraceResource,
    /// The object as the specs render it now.
    pub value: serde_json::Value,
    pub fields: Vec<TraceField>,
}

/// Traces the objects of kind `kind` named `name` (in `namespace` and
/// `environment` when given) among the services' rendered objects: one per
/// environment it is rendered in. `None`: the workspace has errors.
pub(crate) fn trace(
    c: &Compiled,
    kind: &str,
    namespace: Option<&str>,
    name: &str,
    environment: Option<&str>,
) -> Option<Vec<Trace>> {
    use crate::render::trace;
    if c.failed() {
        return None;
    }
    // The built-in config with spans: the sections paved.yaml leaves out come from it.
    let builtin_src = Source::virtual_file("<built-in paved.yaml>", DEFAULT_CONFIG.to_string());
    let builtin = load::load_mapping(&builtin_src, "paved.yaml")
        .0
        .map(|doc| (builtin_src, doc));
    let inputs = trace::Inputs {
        platform: c.platform.as_ref()?,
        services: &c.services,
        instances: &c.instances,
        blueprints: c.blueprints.as_ref()?,
        config: c.config.as_ref(),
        builtin: builtin.as_ref(),
    };
    let query = trace::Query {
        kind,
        namespace,
        name,
        environment,
    };
    Some(
        trace::find(&inputs, &query)
            .into_iter()
            .map(|t| Trace {
                fields: trace::fields(&inputs, &t),
                resource: t.resource,
                value: t.value,
            })
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    fn spec(name: &str, extra: &str) -> String {
        format!("apiVersion: paved.dev/v1\nkind: Application\nmetadata:\n  name: {name}\n  owner: t\n  costCenter: cc-1\nspec:\n  image: ghcr.io/acme/{name}:1.0.0\n  ports:\n    - {{name: http, port: 8080}}\n{extra}")
    }

    fn codes(c: &Compiled) -> Vec<(String, String)> {
        c.diags
            .iter()
            .map(|d| (d.code.code.to_string(), d.message.clone()))
            .collect()
    }

    #[test]
    fn a_cached_compile_reuses_unchanged_specs_and_finds_the_same() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().canonicalize().unwrap();
        std::fs::write(root.join("paved.yaml"), DEFAULT_CONFIG).unwrap();
        for (n, extra) in [("a", "  dependsOn: [component:b]\n"), ("b", ""), ("c", "")] {
            std::fs::create_dir_all(root.join(n)).unwrap();
            std::fs::write(root.join(n).join("platform.yaml"), spec(n, extra)).unwrap();
        }
        let cache = Arc::new(SpecCache::default());
        let inputs = |overlay: Overlay| Inputs {
            paths: vec![root.clone()],
            overlay: Some(Arc::new(overlay)),
            cache: Some(cache.clone()),
            ..Inputs::default()
        };
        let first = compile(&inputs(Overlay::default()), false).unwrap();
        assert_eq!(cache.hits(), 0);
        assert!(codes(&first).is_empty(), "{:?}", codes(&first));
        // b renamed in a buffer: a and c come from the cache, and a's
        // dependency is reported as by a compile without the cache.
        let mut o = Overlay::default();
        o.insert(
            root.join("b/platform.yaml"),
            Arc::from(spec("bee", "").as_str()),
        );
        let again = compile(&inputs(o.clone()), false).unwrap();
        assert_eq!(cache.hits(), 2);
        let plain = compile(
            &Inputs {
                cache: None,
                ..inputs(o)
            },
            false,
        )
        .unwrap();
        assert_eq!(codes(&again), codes(&plain));
        assert_eq!(codes(&again)[0].0, "paved::semantic::unknown-dependency");
    }

    #[test]
    fn an_edit_reruns_only_that_specs_own_checks_and_reads_no_file() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().canonicalize().unwrap();
        std::fs::write(root.join("paved.yaml"), DEFAULT_CONFIG).unwrap();
        for (n, extra) in [
            ("a", "  dependsOn: [component:b]\n"),
            ("b", ""),
            ("c", "    - {name: http, port: 9090}\n"),
        ] {
            std::fs::create_dir_all(root.join(n)).unwrap();
            std::fs::write(root.join(n).join("platform.yaml"), spec(n, extra)).unwrap();
        }
        let cache = Arc::new(SpecCache::default());
        let inputs = |overlay: Overlay, cache: Option<Arc<SpecCache>>| Inputs {
            paths: vec![root.clone()],
            overlay: Some(Arc::new(overlay)),
            cache,
            ..Inputs::default()
        };
        let first = compile(&inputs(Overlay::default(), Some(cache.clone())), false).unwrap();
        assert_eq!((cache.reads(), cache.own_checks()), (3, 3));
        // b's buffer: only b's own checks run again, and no spec is read
        // from disk (a and c as last read, b from its buffer).
        let mut o = Overlay::default();
        o.insert(
            root.join("b/platform.yaml"),
            Arc::from(spec("bee", "    - {name: http, port: 9090}\n").as_str()),
        );
        let again = compile(&inputs(o.clone(), Some(cache.clone())), false).unwrap();
        assert_eq!((cache.reads(), cache.own_checks()), (3, 4));
        let plain = compile(&inputs(o.clone(), None), false).unwrap();
        assert_eq!(codes(&again), codes(&plain));
        assert_ne!(codes(&again), codes(&first));
        // Told the disk changed: a and c are read again, and as their texts
        // are the same, their checks are not run again.
        std::fs::write(root.join("c/platform.yaml"), spec("c", "")).unwrap();
        cache.disk_changed();
        let after = compile(&inputs(o.clone(), Some(cache.clone())), false).unwrap();
        assert_eq!((cache.reads(), cache.own_checks()), (5, 5));
        let plain = compile(&inputs(o, None), false).unwrap();
        assert_eq!(codes(&after), codes(&plain));
        assert_ne!(codes(&after), codes(&again));
    }

    #[test]
    fn two_workspaces_keep_their_own_findings_and_a_closed_one_is_dropped() {
        let dirs = [tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap()];
        let roots: Vec<PathBuf> = dirs
            .iter()
            .map(|d| d.path().canonicalize().unwrap())
            .collect();
        for (i, root) in roots.iter().enumerate() {
            // The two platform configs differ (by a comment).
            std::fs::write(root.join("paved.yaml"), format!("# {i}\n{DEFAULT_CONFIG}")).unwrap();
            for n in ["a", "b"] {
                std::fs::create_dir_all(root.join(n)).unwrap();
                std::fs::write(root.join(n).join("platform.yaml"), spec(n, "")).unwrap();
            }
        }
        let cache = Arc::new(SpecCache::default());
        let inputs = |root: &PathBuf| Inputs {
            paths: vec![root.clone()],
            overlay: Some(Arc::new(Overlay::default())),
            cache: Some(cache.clone()),
            ..Inputs::default()
        };
        for root in &roots {
            compile(&inputs(root), false).unwrap();
        }
        assert_eq!(cache.own_checks(), 4);
        // Checking each again runs no spec's own checks: each workspace has
        // its own platform generation.
        for root in &roots {
            compile(&inputs(root), false).unwrap();
        }
        assert_eq!(cache.own_checks(), 4);
        assert_eq!(cache.held(), 4);
        // Only the first workspace still has an open document.
        cache.keep_only(&roots[..1]);
        assert_eq!(cache.held(), 2);
        let walks = cache.walks();
        compile(&inputs(&roots[1]), false).unwrap();
        assert_eq!(cache.walks(), walks + 1);
        assert_eq!(cache.own_checks(), 6);
        compile(&inputs(&roots[0]), false).unwrap();
        assert_eq!(cache.walks(), walks + 1);
        assert_eq!(cache.own_checks(), 6);
    }
}
