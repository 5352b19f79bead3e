//! `paved policy`: the rules of the workspace's platform config with their
//! parameters, on stdout (`--format json`: one object per rule).

use crate::app::{self, Fault, Inputs, Output};

pub fn run(inputs: &Inputs, out: &Output) -> Result<bool, Fault> {
    for p in &inputs.paths {
        if std::fs::metadata(p).is_err() {
            return Err(Fault(format!(
                "no such file or folder: `{}`",
                crate::workspace::escape(&p.display().to_string())
            )));
        }
    }
    // Only the config is read, so a repository without specs has policies too.
    let config = match &inputs.config {
        Some(c) => Some(c.clone()),
        None => {
            let first = inputs
                .paths
                .first()
                .map_or(std::path::Path::new("."), |p| p.as_path());
            let dir = if first.is_file() {
                first.parent().unwrap_or(std::path::Path::new("."))
            } else {
                first
            };
            crate::workspace::config_for(dir)
        }
    };
    let (platform, diags) = app::load_config(config.as_deref())?;
    app::report(&diags, out);
    let Some(platform) = platform else {
        return Ok(false);
    };
    app::print_stdout(&crate::policy::listing(&platform, out.format))?;
    Ok(true)
}
