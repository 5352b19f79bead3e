//! `paved render`: compile the workspace and write what the paths select
//! into the output folder (or, with `--out -`, as one YAML stream on stdout).
//!
//! The folder is written under an exclusive lock, only where its headers say
//! it is Paved's (see `emit::write`); `--dry-run` reports the plan the real
//! run would carry out and writes nothing.

use std::path::Path;
use std::time::Instant;

use crate::app::{self, Fault, Inputs, Output};
use crate::emit::{self, write, Planned};

/// The output folder `-`: write a stream on stdout instead.
pub(crate) fn is_stdout(dir: &Path) -> bool {
    dir.as_os_str() == "-"
}

pub(crate) fn run(
    inputs: &Inputs,
    to_stdout: bool,
    dry_run: bool,
    out: &Output,
) -> Result<bool, Fault> {
    let start = Instant::now();
    let progress = app::progress(out, "discovering specs");
    let mut c = app::compile(inputs, true)?;
    c.describe(out);
    // Files in a folder must stay consistent: render the services whose
    // output depends on the selected ones too. A stream is just the selection.
    // A preview holds what it depends on itself (`model::preview`).
    if !to_stdout && inputs.preview.is_none() {
        c.relate_with_output();
    }
    let preview = match &inputs.preview {
        Some(name) => c.preview(name)?,
        None => None,
    };
    let units = match &preview {
        Some(p) => c.preview_units(p),
        None if inputs.preview.is_some() => None,
        None => c.units(),
    };
    let Some(units) = units else {
        drop(progress);
        app::report(&c.diags, out);
        return Ok(false);
    };
    // A dry run or a stream writes nothing later, so it keeps nothing, or
    // everything at once.
    let budget = match (to_stdout, dry_run) {
        (true, _) => usize::MAX,
        (false, true) => 0,
        (false, false) => app::CACHE_BUDGET,
    };
    let Some((rendered, diags)) = app::first_pass(&c, &units, budget, out) else {
        return Ok(false);
    };
    // A preview's own root: the kustomization listing its Applications.
    let mut rendered: Vec<Box<dyn Planned + '_>> = rendered
        .into_iter()
        .map(|r| Box::new(r) as Box<dyn Planned>)
        .collect();
    if let Some(root) = preview
        .as_ref()
        .and_then(|p| app::preview_root(p, &rendered))
    {
        rendered.push(Box::new(emit::InMemory::new(vec![root])));
    }
    let what = match &preview {
        Some(p) => format!(
            "preview `{}` ({})",
            p.name,
            app::plural(p.services.len(), "service")
        ),
        None => c.what(),
    };
    if to_stdout {
        drop(progress);
        app::report(&diags, out);
        app::print_stdout(&stream(&rendered))?;
        return Ok(true);
    }
    let scope = match &preview {
        Some(p) => c.preview_scope(p),
        None => c.scope(),
    };
    let Some(out_dir) = c.workspace.out_dir.as_deref() else {
        return Err(Fault("no output folder".into()));
    };
    let shown = match &preview {
        Some(p) => format!("{}/{}", c.workspace.out_shown(), p.folder),
        None => c.workspace.out_shown(),
    };
    let folder_shown = c.workspace.out_shown();
    // Only a render of the whole workspace owns the whole folder.
    let whole = preview.is_none() && c.covers_everything();

    if dry_run {
        let lock = match out_dir.is_dir() {
            true => Some(lock(out_dir, false, out)?),
            false => None,
        };
        let survey = emit::survey(out_dir, &rendered, &scope);
        let interrupted = write::interrupted(out_dir);
        drop(lock);
        drop(progress);
        app::report(&diags, out);
        if let Some(what) = interrupted {
            app::status(
                out,
                &if whole {
                    format!("would complete an interrupted render: {what}")
                } else {
                    format!("{folder_shown} holds an interrupted render ({what}); only a render of the whole workspace completes it")
                },
            );
        }
        let refusals = survey.refusals();
        for p in survey.pending.iter().flatten() {
            if matches!(p.now, emit::OnDisk::Missing | emit::OnDisk::Generated) {
                app::status_verbose(out, &format!("would write  {folder_shown}/{}", p.path));
            }
        }
        for p in &survey.extra {
            app::status_verbose(out, &format!("would remove {folder_shown}/{p}"));
        }
        for (p, what) in &refusals {
            app::status(
                out,
                &format!(
                    "would refuse {folder_shown}/{}: {what}",
                    crate::workspace::escape(p)
                ),
            );
        }
        app::status(
            out,
            &format!(
                "Rendered {what} (dry run, nothing written): {} would be written, {} unchanged, {} removed{} in {:.2}s ({})",
                survey.pending_count() - refusals.len(),
                survey.unchanged,
                survey.extra.len(),
                if refusals.is_empty() {
                    String::new()
                } else {
                    format!(", {} refused", refusals.len())
                },
                start.elapsed().as_secs_f64(),
                c.where_()
            ),
        );
        if !refusals.is_empty() {
            // The real run would stop here, with exit 2.
            return Err(Fault(format!(
                "the render would refuse {} (see above)",
                app::plural(refusals.len(), "planned path")
            )));
        }
        return Ok(true);
    }

    // Messages name the folder as the user sees it, not as an absolute path.
    let absolute = out_dir.display().to_string();
    let fault = |e: write::WriteError| Fault(e.0.replace(&absolute, &folder_shown));
    write::prepare(out_dir).map_err(fault)?;
    let lock = lock(out_dir, true, out)?;
    if let Some(what) = write::interrupted(out_dir) {
        app::status(out, &format!("completing an interrupted render: {what}"));
    }
    let survey = emit::survey(out_dir, &rendered, &scope);
    crate::progress::phase(format!(
        "writing {}",
        app::plural(survey.pending_count(), "file")
    ));
    let result = write::apply(out_dir, &rendered, &survey, whole);
    drop(lock);
    drop(progress);
    // Warnings are printed after the progress line is gone, never under it.
    app::report(&diags, out);
    let stats = result.map_err(fault)?;
    for f in &stats.written_files {
        app::status_verbose(out, &format!("wrote   {folder_shown}/{f}"));
    }
    for f in &stats.removed_files {
        app::status_verbose(out, &format!("removed {folder_shown}/{f}"));
    }
    if stats.incomplete {
        app::status(
            out,
            &format!(
                "{folder_shown} still holds an interrupted render's files outside these services; run `paved render` on the whole workspace to complete it"
            ),
        );
    }
    app::status(
        out,
        &format!(
            "Rendered {what} into {shown}: {} written, {} unchanged, {} removed in {:.2}s ({})",
            stats.written,
            stats.unchanged,
            stats.removed,
            start.elapsed().as_secs_f64(),
            c.where_()
        ),
    );
    Ok(true)
}

/// Locks the output folder, saying so when another run holds it.
pub(crate) fn lock(dir: &Path, exclusive: bool, out: &Output) -> Result<write::Lock, Fault> {
    let shown = dir.display().to_string();
    write::lock(dir, exclusive, &|| {
        app::status(
            out,
            &format!("waiting for another paved run on `{shown}` to finish…"),
        )
    })
    .map_err(|e| Fault(e.0))
}

/// Every selected Kubernetes document as one multi-document YAML stream, in
/// path order, without the generated headers: what `kubectl apply -f -` or a
/// validator reads. Kustomization files (a folder's file list) and the
/// Backstage catalog (`catalog/`, read by the portal, not a cluster) are left
/// out.
fn stream<P: Planned>(units: &[P]) -> String {
    let mut files: Vec<emit::OutFile> = units.iter().flat_map(|u| u.files()).collect();
    files.sort_by(|a, b| a.path.cmp(&b.path));
    let mut out = String::new();
    for f in files {
        if f.path.ends_with("/kustomization.yaml") || f.path.starts_with("catalog/") {
            continue;
        }
        let body = f.content.split_once('\n').map_or("", |(_, rest)| rest);
        out.push_str("---\n");
        out.push_str(body);
    }
    out
}
