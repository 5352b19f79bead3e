//! `paved preview delete NAME` and `paved preview list`: the preview
//! environments `paved render --preview NAME` writes into
//! `DIR/previews/NAME/` (docs/environments.md, "Preview environments").
//!
//! Deleting removes that one folder, under the output folder's lock, and
//! only when everything in it is Paved's (the generated header); anything
//! else there stops it before a file is removed (exit 2). Nothing outside
//! `DIR/previews/NAME/` is touched.

use std::path::PathBuf;

use crate::app::{self, Fault, Output};
use crate::emit::write;
use crate::model::preview::{is_dns_label, PREVIEWS_FOLDER};

/// The workspace's output folder: `--out`, else `rendered` in its root.
fn out_dir(config: Option<PathBuf>, out: Option<PathBuf>) -> Result<(PathBuf, String), Fault> {
    let ws = crate::workspace::open(&crate::workspace::Request {
        paths: Vec::new(),
        config,
        out_dir: out,
        default_out: true,
        overlay: None,
        walks: None,
    })
    .map_err(Fault)?;
    let shown = ws.out_shown();
    let dir = ws
        .out_dir
        .ok_or_else(|| Fault("no output folder".to_string()))?;
    Ok((dir, shown))
}

pub(crate) fn delete(
    name: &str,
    config: Option<PathBuf>,
    out_arg: Option<PathBuf>,
    out: &Output,
) -> Result<bool, Fault> {
    if !is_dns_label(name) {
        return Err(Fault(format!(
            "the preview name `{}` is not a DNS label, so no preview has it",
            name.escape_debug()
        )));
    }
    let (dir, shown) = out_dir(config, out_arg)?;
    let rel = format!("{PREVIEWS_FOLDER}/{name}");
    if !dir.join(&rel).exists() && std::fs::symlink_metadata(dir.join(&rel)).is_err() {
        return Err(Fault(format!(
            "there is no preview `{name}` in {shown}/{PREVIEWS_FOLDER}/"
        )));
    }
    let lock = super::render::lock(&dir, true, out)?;
    let absolute = dir.display().to_string();
    let removed = write::remove_generated_folder(&dir, &rel)
        .map_err(|e| Fault(e.0.replace(&absolute, &shown)))?;
    drop(lock);
    for f in &removed {
        app::status_verbose(out, &format!("removed {shown}/{f}"));
    }
    app::status(
        out,
        &format!(
            "Deleted preview `{name}`: {} removed from {shown}/{rel}",
            app::plural(removed.len(), "file")
        ),
    );
    Ok(true)
}

/// One line per preview: its name and the services in it.
pub(crate) fn list(config: Option<PathBuf>, out_arg: Option<PathBuf>) -> Result<bool, Fault> {
    let (dir, _) = out_dir(config, out_arg)?;
    let mut text = String::new();
    let Ok(entries) = std::fs::read_dir(dir.join(PREVIEWS_FOLDER)) else {
        return Ok(true);
    };
    let mut previews: Vec<(String, Vec<String>)> = entries
        .flatten()
        .filter(|e| e.file_type().is_ok_and(|t| t.is_dir()))
        .filter_map(|e| {
            let name = e.file_name().to_str()?.to_string();
            let mut services: Vec<String> = std::fs::read_dir(e.path())
                .ok()?
                .flatten()
                .filter(|s| s.file_type().is_ok_and(|t| t.is_dir()))
                .filter_map(|s| s.file_name().to_str().map(str::to_string))
                .filter(|s| s != "argocd")
                .collect();
            services.sort();
            is_dns_label(&name).then_some((name, services))
        })
        .collect();
    previews.sort();
    for (name, services) in previews {
        text.push_str(&format!("{name}\t{}\n", services.join(",")));
    }
    app::print_stdout(&text)?;
    Ok(true)
}
