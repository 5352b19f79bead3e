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

use std::path::{Path, PathBuf};
use std::time::Instant;

use rayon::prelude::*;

use crate::diag::{self, Diagnostic, Format};
use crate::discover;
use crate::emit::Plan;
use crate::load;
use crate::model::{self, Instance, Platform, Service};
use crate::render::Blueprints;
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

/// Runs discover → … → normalize. With `render: false` it stops after
/// validation. Holds every rendered file in memory: for commands that need
/// them all (diff, tests); `render` and `check` stream units instead.
pub fn compile(inputs: &Inputs, render: bool) -> Result<Compiled, Fault> {
    let f = front(inputs, render)?;
    let plan = match f.units() {
        Some(units) if !f.failed() => {
            let (files, d) = units.render_all();
            Some((files, d))
        }
        _ => None,
    };
    let mut diags = f.diags;
    let plan = match plan {
        Some((files, d)) => {
            diags.extend(d);
            diag::sort(&mut diags);
            if diag::count_errors(&diags) > 0 {
                Plan::default()
            } else {
                Plan::new(files)
            }
        }
        None => Plan::default(),
    };
    Ok(Compiled {
        platform: f.platform,
        services: f.services,
        instances: f.instances,
        plan,
        diags,
    })
}

/// Everything up to rendering: the checked platform, services and resolved
/// instances, and the blueprints, or the findings that stopped the run.
pub struct Front {
    pub platform: Option<Platform>,
    pub services: Vec<Service>,
    pub instances: Vec<Instance>,
    pub blueprints: Option<Blueprints>,
    pub diags: Vec<Diagnostic>,
}

impl Front {
    pub fn failed(&self) -> bool {
        diag::count_errors(&self.diags) > 0
    }

    /// The render units, once the model is complete and error-free.
    pub fn units(&self) -> Option<crate::units::Units<'_>> {
        if self.failed() {
            return None;
        }
        Some(crate::units::Units::new(
            self.platform.as_ref()?,
            &self.services,
            &self.instances,
            self.blueprints.as_ref()?,
        ))
    }
}

/// discover → load → validate → model. With `resolve: false` it stops after validation.
pub fn front(inputs: &Inputs, resolve: bool) -> Result<Front, Fault> {
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
            return Ok(Front {
                platform: None,
                services: vec![],
                instances: vec![],
                blueprints: None,
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
    // Services whose spec did not load: name → spec path, for dependencies on them.
    let mut broken = std::collections::BTreeMap::new();
    for (r, path) in loaded.into_iter().zip(&found.specs) {
        let (s, d) = r?;
        diags.extend(d);
        match s {
            Ok(s) => services.push(s),
            Err(Some(name)) => {
                broken
                    .entry(name)
                    .or_insert_with(|| display_path(path, Path::new(".")));
            }
            Err(None) => {}
        }
    }
    let blueprints: Vec<&str> = overrides.iter().map(|(path, _, _)| path.as_str()).collect();
    diags.extend(semantic::check(&platform, &services, &broken, &blueprints));
    if diag::count_errors(&diags) > 0 || !resolve {
        diag::sort(&mut diags);
        return Ok(Front {
            platform: Some(platform),
            services,
            instances: vec![],
            blueprints: None,
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
    diag::sort(&mut diags);
    Ok(Front {
        platform: Some(platform),
        services,
        instances,
        blueprints: Some(blueprints),
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
    // Never more than the limit, whatever the size said: a file that grew
    // since, or a device named on the command line, cannot fill memory.
    let mut bytes = Vec::new();
    {
        use std::io::Read as _;
        std::fs::File::open(path)
            .and_then(|f| f.take(limit.saturating_add(1)).read_to_end(&mut bytes))
            .map_err(|e| Fault(format!("cannot read `{name}`: {e}")))?;
    }
    if bytes.len() as u64 > limit {
        let src = Source::new(path, name.clone(), String::new());
        diags.push(
            Diagnostic::error("paved::load::too-large", format!("{what} is over the limit of {limit} bytes"))
                .in_file(&src)
                .help("a platform spec is a few dozen lines; the limit is `spec.limits.maxFileSize` in paved.yaml"),
        );
        return Ok(None);
    }
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
    let d = semantic::check_platform(&platform, &src, &doc);
    if !d.is_empty() {
        diags.extend(d);
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
        let shown = display_path(entry.path(), Path::new("."));
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

/// One spec's service, or (when it did not load) the name it was meant to
/// declare if known, and its findings.
type Loaded = (Result<Service, Option<String>>, Vec<Diagnostic>);

fn load_service(path: &Path, root: &Path, platform: &Platform) -> Result<Loaded, Fault> {
    let mut diags = Vec::new();
    let Some(src) = read_source(
        path,
        platform.limits.max_file_size,
        "platform.yaml",
        &mut diags,
    )?
    else {
        return Ok((Err(semantic::intended_name(path, None)), diags));
    };
    let (doc, d) = load::load_mapping(&src, "platform.yaml");
    diags.extend(d);
    let Some(doc) = doc else {
        return Ok((Err(semantic::intended_name(path, None)), diags));
    };
    let (json, d) = schema::validate(schema::Kind::Application, &src, &doc);
    if !d.is_empty() {
        diags.extend(d);
        return Ok((Err(semantic::intended_name(path, Some(&doc))), diags));
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
    let name = semantic::intended_name(path, Some(&doc));
    match Service::from_json(src.clone(), doc, json, origin) {
        Ok(s) => Ok((Ok(s), diags)),
        Err(e) => {
            diags.push(
                Diagnostic::error(
                    "paved::internal",
                    format!("the spec passed its schema but not the model: {e}"),
                )
                .in_file(&src),
            );
            Ok((Err(name), diags))
        }
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
/// The most rendered bytes kept between the first pass of `render`/`check`
/// and writing; beyond it, units are rendered again when needed, so memory
/// stays flat for any fleet size.
pub const CACHE_BUDGET: usize = 32 << 20;

/// Renders and checks every unit (the first pass), for `render` and `check`.
/// `None` when the input has errors (already reported).
pub fn first_pass<'f>(
    f: &'f Front,
    out: &Output,
    budget: usize,
) -> Option<(
    crate::units::Units<'f>,
    Vec<crate::units::Rendered>,
    Vec<Diagnostic>,
)> {
    let Some(units) = f.units() else {
        report(&f.diags, out);
        return None;
    };
    crate::progress::phase(format!(
        "rendering {} × environments ({} instances)",
        plural(f.services.len(), "service"),
        f.instances.len()
    ));
    let (rendered, d) = units.digest_all(budget);
    let mut diags = f.diags.clone();
    diags.extend(d);
    diag::sort(&mut diags);
    if diag::count_errors(&diags) > 0 {
        report(&diags, out);
        return None;
    }
    Some((units, rendered, diags))
}

/// `paved render`
pub fn render(inputs: &Inputs, out_dir: &Path, dry_run: bool, out: &Output) -> Result<bool, Fault> {
    use crate::emit::write;
    let start = Instant::now();
    let progress = progress(out, "discovering specs");
    let f = front(inputs, true)?;
    // A dry run writes nothing, so it keeps nothing between passes.
    let budget = if dry_run { 0 } else { CACHE_BUDGET };
    let Some((units, rendered, diags)) = first_pass(&f, out, budget) else {
        return Ok(false);
    };
    let envs: std::collections::BTreeSet<&str> = f
        .instances
        .iter()
        .map(|i| i.environment.name.as_str())
        .collect();
    let what = format!(
        "{} in {}",
        plural(f.services.len(), "service"),
        plural(envs.len(), "environment")
    );
    let paths: Vec<&str> = rendered
        .iter()
        .flat_map(|r| r.digests.iter().map(|d| d.path.as_str()))
        .collect();
    if dry_run {
        drop(progress);
        report(&diags, out);
        let mut sorted = paths.clone();
        sorted.sort_unstable();
        for p in sorted {
            status_verbose(out, &format!("would write {}/{p}", out_dir.display()));
        }
        status(
            out,
            &format!(
                "Rendered {what}: {} (dry run, nothing written) in {:.2}s",
                plural(paths.len(), "file"),
                start.elapsed().as_secs_f64()
            ),
        );
        return Ok(true);
    }
    crate::progress::phase(format!("writing {}", plural(paths.len(), "file")));
    let result = (|| -> Result<write::Stats, write::WriteError> {
        write::begin(out_dir, &paths)?;
        // A unit whose files are all up to date is not rendered again; the
        // others are written from the first pass's cache or rendered anew.
        let per_unit: Vec<Result<(usize, Vec<String>), write::WriteError>> = rendered
            .par_iter()
            .map(|r| {
                if r.digests
                    .iter()
                    .all(|d| crate::emit::up_to_date(out_dir, d))
                {
                    return Ok((r.digests.len(), Vec::new()));
                }
                let mut unchanged = 0;
                let mut written = Vec::new();
                for file in units.files_of(r) {
                    if write::write_file(out_dir, &file)? {
                        written.push(file.path);
                    } else {
                        unchanged += 1;
                    }
                }
                Ok((unchanged, written))
            })
            .collect();
        let mut stats = write::Stats::default();
        for r in per_unit {
            let (unchanged, written) = r?;
            stats.unchanged += unchanged;
            stats.written += written.len();
            stats.written_files.extend(written);
        }
        stats.written_files.sort();
        let keep: std::collections::HashSet<&str> = paths.iter().copied().collect();
        stats.removed_files = write::remove_stale(out_dir, &keep)?;
        stats.removed = stats.removed_files.len();
        Ok(stats)
    })();
    drop(progress);
    // Warnings are printed after the progress line is gone, never under it.
    report(&diags, out);
    let stats = result.map_err(|e| Fault(e.0))?;
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
