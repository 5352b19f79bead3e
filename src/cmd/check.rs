//! `paved check`: render in memory, compare with the output folder, and say
//! exactly what is out of date and how to fix it. Read-only.
//!
//! The report is the command's product, so it goes to stdout (like
//! `cargo fmt --check` or `git diff`): each stale, missing and extra file with
//! a short unified diff, then the command that brings the folder up to date.

use std::path::Path;

use crate::app::{self, Fault, Inputs, Output};
use crate::diag::Format;
use rayon::prelude::*;

use crate::emit::check::{unified, Drift};
use crate::units::{Rendered, Units};

/// Diff lines shown per stale file; the rest is summarised in one line.
pub const MAX_DIFF_LINES: usize = 40;

/// The diagnostic code of a drift finding in `json` and `github` output.
pub const DRIFT: &str = "paved::check::drift";

pub fn run(inputs: &Inputs, out_dir: &Path, out: &Output) -> Result<bool, Fault> {
    if out_dir.exists() && !out_dir.is_dir() {
        return Err(Fault(format!(
            "the output path `{}` exists and is not a folder",
            out_dir.display()
        )));
    }
    let progress = app::progress(out, "rendering in memory");
    let f = app::front(inputs, true)?;
    let Some((units, rendered, diags)) = app::first_pass(&f, out, app::CACHE_BUDGET) else {
        return Ok(false);
    };
    drop(progress);
    app::report(&diags, out);
    let drift = compare(&units, &rendered, out_dir);
    let files: usize = rendered.iter().map(|r| r.digests.len()).sum();
    let dir = out_dir.display().to_string();
    if drift.is_empty() {
        app::status(
            out,
            &format!("{dir} is up to date ({})", app::plural(files, "file")),
        );
        return Ok(true);
    }
    let fix = fix_command(inputs, out_dir);
    let text = match out.format {
        Format::Human => human(&drift, &dir, &fix),
        Format::Json => drift
            .iter()
            .map(|d| json_line(d, &dir, &fix) + "\n")
            .collect(),
        Format::Github => drift
            .iter()
            .map(|d| github_line(d, &dir, &fix) + "\n")
            .collect(),
    };
    app::print_stdout(&text)?;
    Ok(false)
}

/// Compares the first pass with the folder: a unit is rendered again only
/// when one of its files differs, to show the diff. Read-only.
fn compare(units: &Units, rendered: &[Rendered], dir: &Path) -> Vec<Drift> {
    let mut drift: Vec<Drift> = rendered
        .par_iter()
        .flat_map_iter(|r| {
            let stale: Vec<&str> = r
                .digests
                .iter()
                .filter(|d| !crate::emit::up_to_date(dir, d))
                .map(|d| d.path.as_str())
                .collect();
            let mut found = Vec::new();
            if !stale.is_empty() {
                for file in units.files_of(r) {
                    if !stale.contains(&file.path.as_str()) {
                        continue;
                    }
                    match std::fs::read_to_string(dir.join(&file.path)) {
                        Ok(old) => {
                            let diff = unified(&old, &file.content, &file.path);
                            found.push(Drift::Stale(file.path, diff));
                        }
                        Err(_) => found.push(Drift::Missing(file.path)),
                    }
                }
            }
            found
        })
        .collect();
    let planned: std::collections::HashSet<&str> = rendered
        .iter()
        .flat_map(|r| r.digests.iter().map(|d| d.path.as_str()))
        .collect();
    for path in crate::emit::generated_paths_except(dir, &planned) {
        drift.push(Drift::Extra(path));
    }
    drift.sort_by(|a, b| a.path().cmp(b.path()));
    drift
}

/// The `paved render` command that makes the folder match, with the user's own
/// paths and config, quoted for a shell.
pub fn fix_command(inputs: &Inputs, out_dir: &Path) -> String {
    let mut cmd = String::from("paved render");
    for p in &inputs.paths {
        cmd.push(' ');
        cmd.push_str(&super::shell_quote(&p.display().to_string()));
    }
    if let Some(c) = &inputs.config {
        cmd.push_str(" --config ");
        cmd.push_str(&super::shell_quote(&c.display().to_string()));
    }
    cmd.push_str(" --out ");
    cmd.push_str(&super::shell_quote(&out_dir.display().to_string()));
    cmd
}

fn kind(d: &Drift) -> &'static str {
    match d {
        Drift::Missing(_) => "missing",
        Drift::Extra(_) => "extra",
        Drift::Stale(..) => "stale",
    }
}

fn explain(d: &Drift) -> &'static str {
    match d {
        Drift::Missing(_) => "not rendered yet",
        Drift::Extra(_) => "its service or environment no longer exists",
        Drift::Stale(..) => "edited by hand, or its spec changed since the last render",
    }
}

pub fn human(drift: &[Drift], dir: &str, fix: &str) -> String {
    let mut text = String::new();
    for d in drift {
        text.push_str(&format!(
            "{:<8} {dir}/{} ({})\n",
            format!("{}:", kind(d)),
            d.path(),
            explain(d)
        ));
        if let Drift::Stale(_, diff) = d {
            let lines: Vec<&str> = diff.lines().collect();
            for line in lines.iter().take(MAX_DIFF_LINES) {
                text.push_str("    ");
                text.push_str(line);
                text.push('\n');
            }
            if lines.len() > MAX_DIFF_LINES {
                text.push_str(&format!(
                    "    … {} more diff lines\n",
                    lines.len() - MAX_DIFF_LINES
                ));
            }
        }
    }
    let count = |k: &str| drift.iter().filter(|d| kind(d) == k).count();
    text.push_str(&format!(
        "\n{} out of date in {dir} ({} stale, {} missing, {} extra). To fix it, run:\n    {fix}\n",
        app::plural(drift.len(), "file"),
        count("stale"),
        count("missing"),
        count("extra"),
    ));
    text
}

/// The first changed line of the file on disk, for annotations.
fn first_line(d: &Drift) -> Option<usize> {
    let Drift::Stale(_, diff) = d else {
        return None;
    };
    // `@@ -12,5 +12,5 @@`: the hunk starts `context` lines before the change.
    let mut old_line = None;
    for line in diff.lines() {
        if let Some(rest) = line.strip_prefix("@@ -") {
            old_line = rest
                .split([',', ' '])
                .next()
                .and_then(|n| n.parse::<usize>().ok());
            continue;
        }
        let Some(n) = old_line.as_mut() else { continue };
        match line.as_bytes().first() {
            Some(b'-') | Some(b'+') => return Some((*n).max(1)),
            Some(b' ') => *n += 1,
            _ => {}
        }
    }
    None
}

pub fn json_line(d: &Drift, dir: &str, fix: &str) -> String {
    let diff = match d {
        Drift::Stale(_, diff) => serde_json::Value::from(diff.as_str()),
        _ => serde_json::Value::Null,
    };
    serde_json::json!({
        "file": format!("{dir}/{}", d.path()),
        "line": first_line(d),
        "drift": kind(d),
        "code": DRIFT,
        "severity": "error",
        "message": format!("{} ({})", kind(d), explain(d)),
        "help": format!("run `{fix}`"),
        "diff": diff,
    })
    .to_string()
}

pub fn github_line(d: &Drift, dir: &str, fix: &str) -> String {
    use crate::diag::github_escape::{data, prop};
    let mut props = format!("file={}", prop(&format!("{dir}/{}", d.path())));
    if let Some(l) = first_line(d) {
        props.push_str(&format!(",line={l}"));
    }
    props.push_str(&format!(",title={}", prop(DRIFT)));
    format!(
        "::error {props}::{}",
        data(&format!(
            "{}: {}; run `{fix}` and commit the result",
            kind(d),
            explain(d)
        ))
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    #[test]
    fn fix_command_repeats_paths_and_config() {
        let inputs = Inputs {
            paths: vec![PathBuf::from("services"), PathBuf::from("my team")],
            config: Some(PathBuf::from("platform/paved.yaml")),
            out_dir: None,
        };
        assert_eq!(
            fix_command(&inputs, Path::new("rendered")),
            "paved render services 'my team' --config platform/paved.yaml --out rendered"
        );
    }

    #[test]
    fn stale_diffs_are_capped_and_annotated_at_the_first_change() {
        let old: String = (0..100).map(|i| format!("line {i}\n")).collect();
        let new = old
            .replace("line 10\n", "line ten\n")
            .replace("line 60\n", "x\n");
        let mut diff = crate::emit::check::unified(&old, &new, "a.yaml");
        let d = Drift::Stale("a.yaml".into(), diff.clone());
        assert_eq!(first_line(&d), Some(11));
        let text = human(&[d], "out", "paved render --out out");
        assert!(
            text.starts_with("stale:   out/a.yaml (edited by hand"),
            "{text}"
        );
        assert!(text.ends_with("1 file out of date in out (1 stale, 0 missing, 0 extra). To fix it, run:\n    paved render --out out\n"), "{text}");
        for i in 0..60 {
            diff.push_str(&format!("+more {i}\n"));
        }
        let text = human(&[Drift::Stale("a.yaml".into(), diff)], "out", "x");
        assert!(text.contains("    … 36 more diff lines\n"), "{text}");
        let gh = github_line(
            &Drift::Extra("staging/old/x.yaml".into()),
            "out",
            "paved render --out out",
        );
        assert_eq!(gh, "::error file=out/staging/old/x.yaml,title=paved%3A%3Acheck%3A%3Adrift::extra: its service or environment no longer exists; run `paved render --out out` and commit the result");
    }
}
