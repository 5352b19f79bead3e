//! The orchestrator: runs the stages in order and decides the exit code.
//!
//! ```text
//! discover → load (spans) → validate (schema, semantic) → model (resolve)
//!          → render (blueprints) → normalize → emit (write | check | diff)
//! ```
//!
//! No stage calls the next; this module does. Findings about the input are
//! `Diagnostic`s, collected from every file and printed together (exit 1).
//! Faults of the environment (a missing path, an unwritable folder) are
//! [`Fault`]s (exit 2). Success is exit 0.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::time::Instant;

use rayon::prelude::*;
use serde::Serialize;

use crate::diag::{self, Diagnostic, Format};
use crate::discover;
use crate::emit::{OutFile, Plan};
use crate::load;
use crate::model::{self, Instance, Platform, Service};
use crate::normalize::{self, Doc};
use crate::render::{Blueprints, Scope};
use crate::source::{display_path, Source, SourceRef, Span};
use crate::validate::{schema, semantic};

pub const DEFAULT_CONFIG: &str = include_str!("paved.default.yaml");

/// A fault of the environment, not of the input (exit code 2).
#[derive(Debug)]
pub struct Fault(pub String);

/// How diagnostics and summaries are shown.
#[derive(Debug, Clone)]
pub struct Output {
    pub format: Format,
    pub color: bool,
    pub quiet: bool,
    pub verbose: bool,
}

/// What the front half of the pipeline produced.
pub struct Compiled {
    pub platform: Option<Platform>,
    pub services: Vec<Service>,
    pub instances: Vec<Instance>,
    pub plan: Plan,
    pub diags: Vec<Diagnostic>,
}

impl Compiled {
    pub fn failed(&self) -> bool {
        diag::count_errors(&self.diags) > 0
    }
}

/// Where the run starts: the user's paths, config and output folder.
#[derive(Debug, Clone, Default)]
pub struct Inputs {
    pub paths: Vec<PathBuf>,
    pub config: Option<PathBuf>,
    pub out_dir: Option<PathBuf>,
}

/// Runs discover → … → normalize. With `render: false` it stops after validation.
pub fn compile(inputs: &Inputs, render: bool) -> Result<Compiled, Fault> {
    let found = discover::discover(
        &inputs.paths,
        inputs.config.as_deref(),
        inputs.out_dir.as_deref(),
    )
    .map_err(|m| Fault(format!("no such file or folder: `{}`", m.0.display())))?;
    let mut diags = Vec::new();

    // The platform config first: its limits apply to every spec.
    let (platform, overrides) = match load_platform(found.config.as_deref(), &mut diags)? {
        Some(p) => p,
        None => {
            diag::sort(&mut diags);
            return Ok(Compiled {
                platform: None,
                services: vec![],
                instances: vec![],
                plan: Plan::default(),
                diags,
            });
        }
    };

    crate::progress::phase(format!("loading {}", plural(found.specs.len(), "spec")));
    let root = found.root.canonicalize().unwrap_or(found.root.clone());
    let loaded: Vec<Result<Loaded, Fault>> = found
        .specs
        .par_iter()
        .map(|path| load_service(path, &root, &platform))
        .collect();
    let mut services = Vec::new();
    for r in loaded {
        let (s, d) = r?;
        diags.extend(d);
        services.extend(s);
    }
    diags.extend(semantic::check(&platform, &services));
    if diag::count_errors(&diags) > 0 || !render {
        diag::sort(&mut diags);
        return Ok(Compiled {
            platform: Some(platform),
            services,
            instances: vec![],
            plan: Plan::default(),
            diags,
        });
    }

    let instances = model::resolve(&platform, &services);
    crate::progress::phase(format!(
        "rendering {} × environments ({} instances)",
        plural(services.len(), "service"),
        instances.len()
    ));
    let blueprints = Blueprints::new(overrides);
    let (files, render_diags) = render_all(&platform, &services, &instances, &blueprints);
    diags.extend(render_diags);
    diag::sort(&mut diags);
    let plan = if diag::count_errors(&diags) > 0 {
        Plan::default()
    } else {
        Plan::new(files)
    };
    Ok(Compiled {
        platform: Some(platform),
        services,
        instances,
        plan,
        diags,
    })
}

/// Reads a file into a [`Source`], turning encoding problems into diagnostics.
fn read_source(
    path: &Path,
    limit: u64,
    what: &str,
    diags: &mut Vec<Diagnostic>,
) -> Result<Option<SourceRef>, Fault> {
    let name = display_path(path, Path::new("."));
    let meta = std::fs::metadata(path).map_err(|e| Fault(format!("cannot read `{name}`: {e}")))?;
    if meta.len() > limit {
        let src = Source::new(path, name.clone(), String::new());
        diags.push(
            Diagnostic::error("paved::load::too-large", format!("{what} is {} bytes, over the limit of {limit} bytes", meta.len()))
                .in_file(&src)
                .help("a platform spec is a few dozen lines; the limit is `spec.limits.maxFileSize` in paved.yaml"),
        );
        return Ok(None);
    }
    let bytes = std::fs::read(path).map_err(|e| Fault(format!("cannot read `{name}`: {e}")))?;
    // Windows editors save "Unicode" as UTF-16; say so rather than "binary".
    if bytes.starts_with(b"\xFF\xFE") || bytes.starts_with(b"\xFE\xFF") {
        let src = Source::new(path, name, String::new());
        diags.push(
            Diagnostic::error(
                "paved::load::invalid-utf8",
                format!("{what} is encoded as UTF-16, not UTF-8"),
            )
            .in_file(&src)
            .help("save the file as UTF-8 text (in most editors: \"Save with encoding\" → UTF-8)"),
        );
        return Ok(None);
    }
    let (text, bom) = match bytes.strip_prefix(b"\xEF\xBB\xBF") {
        Some(rest) => (rest, true),
        None => (&bytes[..], false),
    };
    let text = match std::str::from_utf8(text) {
        Ok(t) => t.to_string(),
        Err(e) => {
            let lossy = String::from_utf8_lossy(text).into_owned();
            let at = e.valid_up_to();
            let src = Source::new(path, name, lossy);
            let binary = text.contains(&0);
            let (code, msg) = if binary {
                (
                    "paved::load::binary",
                    format!("{what} holds binary data, not text"),
                )
            } else {
                (
                    "paved::load::invalid-utf8",
                    format!("{what} is not valid UTF-8"),
                )
            };
            diags.push(
                Diagnostic::error(code, msg)
                    .at(
                        &src,
                        Span::new(at, (at + 3).min(src.text.len())),
                        "the first invalid byte is here",
                    )
                    .help("save the file as UTF-8 text"),
            );
            return Ok(None);
        }
    };
    let src = Source::new(path, name, text);
    if let Some(at) = src.text.find('\0') {
        diags.push(
            Diagnostic::error(
                "paved::load::binary",
                format!("{what} holds binary data (a NUL byte), not text"),
            )
            .at(&src, Span::new(at, at + 1), "NUL byte")
            .help("save the file as plain UTF-8 text"),
        );
        return Ok(None);
    }
    if bom {
        diags.push(
            Diagnostic::warning(
                "paved::load::byte-order-mark",
                format!("{what} starts with a byte-order mark"),
            )
            .at(
                &src,
                Span::point(0),
                "invisible BOM before the first character",
            )
            .help("it is ignored; save the file as UTF-8 without BOM to silence this"),
        );
    }
    Ok(Some(src))
}

type Overrides = Vec<(String, String, String)>;

fn load_platform(
    path: Option<&Path>,
    diags: &mut Vec<Diagnostic>,
) -> Result<Option<(Platform, Overrides)>, Fault> {
    let src = match path {
        Some(p) => match read_source(p, 1024 * 1024, "paved.yaml", diags)? {
            Some(s) => s,
            None => return Ok(None),
        },
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
                    "paved::internal",
                    format!("paved.yaml passed its schema but not the model: {e}"),
                )
                .in_file(&src),
            );
            return Ok(None);
        }
    };
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
                    "paved::config::blueprints-missing",
                    format!("the blueprints folder `{dir}` {problem}"),
                )
                .at(
                    &src,
                    span,
                    format!("no folder at {}", display_path(&folder, Path::new("."))),
                )
                .help(
                    "the path is relative to paved.yaml; create the folder or remove `blueprints`",
                ),
            );
            return Ok(None);
        }
        overrides = read_overrides(&folder)?;
    }
    Ok(Some((platform, overrides)))
}

/// Reads the platform's blueprint overrides. Symlinks are not followed, so a
/// blueprint can only come from inside the folder.
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
        let rel = rel
            .components()
            .map(|c| c.as_os_str().to_string_lossy().into_owned())
            .collect::<Vec<_>>()
            .join("/");
        let shown = display_path(entry.path(), Path::new("."));
        let text = std::fs::read_to_string(entry.path())
            .map_err(|e| Fault(format!("cannot read blueprint `{shown}`: {e}")))?;
        out.push((rel, shown, text));
    }
    Ok(out)
}

/// One spec's service (when it loaded) and its findings.
type Loaded = (Option<Service>, Vec<Diagnostic>);

fn load_service(path: &Path, root: &Path, platform: &Platform) -> Result<Loaded, Fault> {
    let mut diags = Vec::new();
    let Some(src) = read_source(
        path,
        platform.limits.max_file_size,
        "platform.yaml",
        &mut diags,
    )?
    else {
        return Ok((None, diags));
    };
    let (doc, d) = load::load_mapping(&src, "platform.yaml");
    diags.extend(d);
    let Some(doc) = doc else {
        return Ok((None, diags));
    };
    let (json, d) = schema::validate(schema::Kind::Application, &src, &doc);
    if !d.is_empty() {
        diags.extend(d);
        return Ok((None, diags));
    }
    let origin = path
        .canonicalize()
        .ok()
        .and_then(|abs| {
            abs.strip_prefix(root)
                .ok()
                .map(|r| display_path(r, Path::new("")))
        })
        .unwrap_or_else(|| src.name.clone());
    match Service::from_json(src.clone(), doc, json, origin) {
        Ok(s) => Ok((Some(s), diags)),
        Err(e) => {
            diags.push(
                Diagnostic::error(
                    "paved::internal",
                    format!("the spec passed its schema but not the model: {e}"),
                )
                .in_file(&src),
            );
            Ok((None, diags))
        }
    }
}

/// Per-team facts for platform-wide blueprints (Argo CD projects).
#[derive(Serialize)]
struct Team {
    name: String,
    namespaces: Vec<String>,
}

/// Renders every blueprint scope and lays the documents out as files.
fn render_all(
    platform: &Platform,
    services: &[Service],
    instances: &[Instance],
    bps: &Blueprints,
) -> (Vec<OutFile>, Vec<Diagnostic>) {
    let platform_v = val(platform);
    let mut files = Vec::new();
    let mut diags = Vec::new();

    // service × environment
    let per_instance: Vec<(Vec<OutFile>, Vec<Diagnostic>)> = instances
        .par_iter()
        .map(|inst| {
            let what = format!("service `{}` in {}", inst.name, inst.environment.name);
            let ctx = minijinja::context! {
                service => val(inst),
                environment => val(&inst.environment),
                platform => platform_v.clone(),
            };
            let folder = format!("{}/{}", inst.environment.name, inst.name);
            let (docs, mut d) = render_scope(bps, Scope::Service, &ctx, &what);
            // The Gatekeeper rules at compile time; pointed at the spec or blueprint.
            let rendered = services
                .iter()
                .find(|s| s.name() == inst.name)
                .map(|service| crate::policy::Rendered {
                    service,
                    environment: &inst.environment.name,
                });
            let policy = crate::policy::check(platform, &docs, bps, rendered);
            let mut out = layout(&folder, &inst.source, docs);
            if d.is_empty() && !out.is_empty() {
                out.push(kustomization(&folder, &inst.source, &out));
            }
            d.extend(policy);
            (out, d)
        })
        .collect();
    for (f, d) in per_instance {
        files.extend(f);
        diags.extend(d);
    }

    // environment
    for env in platform.environments.values() {
        let here: Vec<&Instance> = instances
            .iter()
            .filter(|i| i.environment.name == env.name)
            .collect();
        let ctx = minijinja::context! {
            environment => val(env),
            services => val(&here),
            platform => platform_v.clone(),
        };
        let what = format!("environment {}", env.name);
        for bp in bps.of_scope(Scope::Environment) {
            let (docs, d) = render_one(bps, bp, &ctx, &what);
            diags.extend(d);
            diags.extend(crate::policy::check(platform, &docs, bps, None));
            let folder = join(&env.name, &bp.sub_folder());
            files.extend(layout(&folder, "paved.yaml and every platform.yaml", docs));
        }
    }

    // platform
    let mut teams: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for i in instances {
        let ns = teams.entry(i.owner.clone()).or_default();
        if !ns.contains(&i.namespace) {
            ns.push(i.namespace.clone());
        }
    }
    let teams: Vec<Team> = teams
        .into_iter()
        .map(|(name, mut namespaces)| {
            namespaces.sort();
            Team { name, namespaces }
        })
        .collect();
    let mut resource_types: Vec<&str> = services
        .iter()
        .flat_map(|s| s.spec.resources.values().map(|r| r.kind.as_str()))
        .collect();
    resource_types.sort_unstable();
    resource_types.dedup();
    let ctx = minijinja::context! {
        platform => platform_v.clone(),
        services => val(instances),
        teams => val(&teams),
        resource_types => val(&resource_types),
    };
    for bp in bps.of_scope(Scope::Platform) {
        let (docs, d) = render_one(bps, bp, &ctx, "the platform");
        diags.extend(d);
        diags.extend(crate::policy::check(platform, &docs, bps, None));
        files.extend(layout(
            &join("platform", &bp.sub_folder()),
            "paved.yaml and every platform.yaml",
            docs,
        ));
    }

    // catalog: one file per service with every entity it produces
    let mut by_service: BTreeMap<&str, Vec<&Instance>> = BTreeMap::new();
    for i in instances {
        by_service.entry(i.name.as_str()).or_default().push(i);
    }
    for (name, insts) in by_service {
        let ctx = minijinja::context! {
            service => val(insts[0]),
            instances => val(&insts),
            platform => platform_v.clone(),
        };
        let what = format!("service `{name}`");
        let (docs, d) = render_scope(bps, Scope::Catalog, &ctx, &what);
        diags.extend(d);
        if !docs.is_empty() {
            let values: Vec<&serde_json::Value> = docs.iter().map(|d| &d.value).collect();
            files.push(OutFile {
                path: format!("catalog/{name}.yaml"),
                content: normalize::file_text(&insts[0].source, &values),
            });
        }
    }

    // Two blueprints must never write the same file.
    files.sort_by(|a, b| a.path.cmp(&b.path));
    for w in files.windows(2) {
        if w[0].path == w[1].path {
            diags.push(
                Diagnostic::error("paved::render::duplicate-output", format!("two documents would be written to `{}`", w[0].path))
                    .help("each object needs its own kind and name within a folder; check blueprints that render the same kind and name"),
            );
        }
    }
    (files, diags)
}

fn join(a: &str, b: &str) -> String {
    if b.is_empty() {
        a.to_string()
    } else {
        format!("{a}/{b}")
    }
}

fn render_scope(
    bps: &Blueprints,
    scope: Scope,
    ctx: &minijinja::Value,
    what: &str,
) -> (Vec<Doc>, Vec<Diagnostic>) {
    let mut docs: Vec<Doc> = Vec::new();
    let mut diags = Vec::new();
    // Which blueprint produced each file name, so two blueprints writing the
    // same file are both named (catalog documents all share one file).
    let mut made_by: HashMap<String, &crate::render::Blueprint> = HashMap::new();
    for bp in bps.of_scope(scope) {
        let (d, e) = render_one(bps, bp, ctx, what);
        for doc in d {
            if scope != Scope::Catalog {
                if let Some(first) = made_by.insert(doc.file_name(), bp) {
                    // Point at the platform team's file, which they can change.
                    let (here, other) = if bp.source.name.starts_with("<built-in>") {
                        (first, bp)
                    } else {
                        (bp, first)
                    };
                    diags.push(
                        Diagnostic::error(
                            "paved::render::duplicate-output",
                            format!(
                                "blueprints `{}` and `{}` both produce {} `{}` for {what}",
                                first.name, bp.name, doc.kind, doc.name
                            ),
                        )
                        .at(&here.source, Span::point(0), "this blueprint")
                        .also(&other.source, Span::point(0), "and this one")
                        .help("each object needs its own kind and name within a folder; an override replaces a built-in blueprint only when it has the same path"),
                    );
                    continue;
                }
            }
            docs.push(doc);
        }
        diags.extend(e);
    }
    (docs, diags)
}

fn render_one(
    bps: &Blueprints,
    bp: &crate::render::Blueprint,
    ctx: &minijinja::Value,
    what: &str,
) -> (Vec<Doc>, Vec<Diagnostic>) {
    match bps.render(bp, ctx, what) {
        Err(d) => (vec![], vec![d]),
        Ok(text) => match normalize::documents(&text, bp, what) {
            Ok(docs) => (docs, vec![]),
            Err(d) => (vec![], d),
        },
    }
}

fn layout(folder: &str, origin: &str, docs: Vec<Doc>) -> Vec<OutFile> {
    docs.iter()
        .map(|d| OutFile {
            path: format!("{folder}/{}", d.file_name()),
            content: normalize::file_text(origin, &[&d.value]),
        })
        .collect()
}

/// A `kustomization.yaml` listing a service folder's files, so
/// `kubectl apply -k DIR/<env>/<service>` works.
fn kustomization(folder: &str, origin: &str, files: &[OutFile]) -> OutFile {
    let mut names: Vec<&str> = files
        .iter()
        .filter_map(|f| f.path.rsplit('/').next())
        .collect();
    names.sort_unstable();
    let doc = serde_json::json!({
        "apiVersion": "kustomize.config.k8s.io/v1beta1",
        "kind": "Kustomization",
        "resources": names,
    });
    OutFile {
        path: format!("{folder}/kustomization.yaml"),
        content: normalize::file_text(origin, &[&doc]),
    }
}

/// Prints diagnostics: human reports on stderr, machine formats on stdout.
pub fn report(diags: &[Diagnostic], out: &Output) {
    // `--quiet` means errors only; machine formats always get everything,
    // since their reader does its own filtering.
    let errors_only: Vec<Diagnostic>;
    let diags = if out.quiet && out.format == Format::Human {
        errors_only = diags
            .iter()
            .filter(|d| d.severity == diag::Severity::Error)
            .cloned()
            .collect();
        &errors_only[..]
    } else {
        diags
    };
    if diags.is_empty() {
        return;
    }
    let text = diag::render(diags, out.format, out.color);
    match out.format {
        Format::Human => eprint!("{text}"),
        // The exit code already says the run failed; a reader that went away
        // early has nothing more to be told.
        Format::Json | Format::Github => {
            let _ = print_stdout(&text);
        }
    }
}

/// Prints a command's product on stdout. A reader that closes the pipe early
/// (`paved diff | head`) is not an error, and never a panic, as `print!` would make it.
pub fn print_stdout(text: &str) -> Result<(), Fault> {
    use std::io::Write as _;
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => {
            Err(Fault(format!("cannot write to stdout: {e}")))
        }
        _ => Ok(()),
    }
}

pub fn status(out: &Output, line: &str) {
    if !out.quiet && out.format == Format::Human {
        eprintln!("{line}");
    }
}

/// A status line shown only with `--verbose`.
pub fn status_verbose(out: &Output, line: &str) {
    if out.verbose {
        status(out, line);
    }
}

/// A progress line for this run: only for humans, on a terminal, not `--quiet`.
pub fn progress(out: &Output, first: &str) -> crate::progress::Progress {
    use std::io::IsTerminal;
    let enabled = !out.quiet && out.format == Format::Human && std::io::stderr().is_terminal();
    crate::progress::Progress::start(enabled, first)
}

/// Reads and checks one platform config (`None`: the built-in one), for
/// commands that need the platform without compiling specs (`paved init`).
pub fn load_config(path: Option<&Path>) -> Result<(Option<Platform>, Vec<Diagnostic>), Fault> {
    let mut diags = Vec::new();
    let platform = load_platform(path, &mut diags)?.map(|(p, _)| p);
    Ok((platform, diags))
}

/// `paved policy`: the rules of the platform config found for `inputs`, with
/// their parameters, on stdout (`--format json`: one object per rule).
pub fn policy(inputs: &Inputs, out: &Output) -> Result<bool, Fault> {
    let found = discover::discover(&inputs.paths, inputs.config.as_deref(), None)
        .map_err(|m| Fault(format!("no such file or folder: `{}`", m.0.display())))?;
    let (platform, diags) = load_config(found.config.as_deref())?;
    report(&diags, out);
    let Some(platform) = platform else {
        return Ok(false);
    };
    print_stdout(&crate::policy::listing(&platform, out.format))?;
    Ok(true)
}

/// `paved validate`
pub fn validate(inputs: &Inputs, out: &Output) -> Result<bool, Fault> {
    let start = Instant::now();
    let c = {
        let _progress = progress(out, "validating");
        compile(inputs, false)?
    };
    report(&c.diags, out);
    if !c.failed() {
        if out.verbose {
            for s in &c.services {
                status(out, &format!("ok: {} ({})", s.source.name, s.name()));
                if let Some(sec) = &s.spec.security {
                    for field in sec.relaxed_fields() {
                        status(
                            out,
                            &format!("waiver: {} relaxes `{field}`: {}", s.name(), sec.reason),
                        );
                    }
                }
            }
        }
        status(
            out,
            &format!(
                "Validated {} in {:.2}s",
                plural(c.services.len(), "service"),
                start.elapsed().as_secs_f64()
            ),
        );
    }
    Ok(!c.failed())
}

/// `paved render`
pub fn render(inputs: &Inputs, out_dir: &Path, dry_run: bool, out: &Output) -> Result<bool, Fault> {
    let start = Instant::now();
    let progress = progress(out, "discovering specs");
    let c = compile(inputs, true)?;
    if c.failed() {
        drop(progress);
        report(&c.diags, out);
        return Ok(false);
    }
    let envs: std::collections::BTreeSet<&str> = c
        .instances
        .iter()
        .map(|i| i.environment.name.as_str())
        .collect();
    let what = format!(
        "{} in {}",
        plural(c.services.len(), "service"),
        plural(envs.len(), "environment")
    );
    if dry_run {
        drop(progress);
        report(&c.diags, out);
        for f in &c.plan.files {
            status_verbose(
                out,
                &format!("would write {}/{}", out_dir.display(), f.path),
            );
        }
        status(
            out,
            &format!(
                "Rendered {what}: {} (dry run, nothing written) in {:.2}s",
                plural(c.plan.files.len(), "file"),
                start.elapsed().as_secs_f64()
            ),
        );
        return Ok(true);
    }
    crate::progress::phase(format!("writing {}", plural(c.plan.files.len(), "file")));
    let written = crate::emit::write::write(&c.plan, out_dir).map_err(|e| Fault(e.0));
    drop(progress);
    // Warnings are printed after the progress line is gone, never under it.
    report(&c.diags, out);
    let stats = written?;
    for f in &stats.written_files {
        status_verbose(out, &format!("wrote   {}/{f}", out_dir.display()));
    }
    for f in &stats.removed_files {
        status_verbose(out, &format!("removed {}/{f}", out_dir.display()));
    }
    status(
        out,
        &format!(
            "Rendered {what} into {}: {} written, {} unchanged, {} removed in {:.2}s",
            out_dir.display(),
            stats.written,
            stats.unchanged,
            stats.removed,
            start.elapsed().as_secs_f64()
        ),
    );
    Ok(true)
}

pub fn plural(n: usize, word: &str) -> String {
    format!("{n} {word}{}", if n == 1 { "" } else { "s" })
}

/// Any serialisable model value as a template value.
fn val<T: Serialize>(v: T) -> minijinja::Value {
    minijinja::Value::from(minijinja::value::Serde(v))
}
