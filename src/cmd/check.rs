//! `paved check`: render in memory, compare with the output folder, and say
//! exactly what is out of date and how to fix it. Read-only.
//!
//! The report is the command's product, so it goes to stdout (like
//! `cargo fmt --check` or `git diff`): each stale, missing and extra file with
//! a short unified diff, then the command that brings the folder up to date.

use crate::app::{self, Fault, Inputs, Output};
use crate::codes;
use crate::diag::{self, Diagnostic, Format};
use crate::emit::check::Drift;
use crate::source::{Source, Span};
use crate::workspace::escape;

/// Diff lines shown per stale file; the rest is summarised in one line.
pub(crate) const MAX_DIFF_LINES: usize = 40;

pub(crate) fn run(inputs: &Inputs, out: &Output) -> Result<bool, Fault> {
    let progress = app::progress(out, "rendering in memory");
    let mut c = app::compile(inputs, true)?;
    c.describe(out);
    c.relate_with_output();
    let Some(out_dir) = c.workspace.out_dir.clone() else {
        return Err(Fault("no output folder".into()));
    };
    if out_dir.exists() && !out_dir.is_dir() {
        return Err(Fault(format!(
            "the output path `{}` exists and is not a folder",
            c.workspace.out_shown()
        )));
    }
    let out_dir = out_dir.as_path();
    let Some(units) = c.units() else {
        drop(progress);
        app::report(&c.diags, out);
        return Ok(false);
    };
    let Some((rendered, diags)) = app::first_pass(&c, &units, app::CACHE_BUDGET, out) else {
        return Ok(false);
    };
    // A shared lock: a render writing into the folder finishes first.
    let lock = match out_dir.is_dir() {
        true => Some(super::render::lock(out_dir, false, out)?),
        false => None,
    };
    let fix = fix_command(inputs);
    let dir = c.workspace.out_shown();
    // Under the lock, a journal means its render was killed.
    if let Some(what) = crate::emit::write::interrupted(out_dir) {
        drop(lock);
        drop(progress);
        // A SARIF log is one document: the diagnostics go in with the finding.
        if out.format.findings() != Format::Sarif {
            app::report(&diags, out);
        }
        app::print_stdout(&interrupted(&what, &dir, &fix, out.format, &diags))?;
        return Ok(false);
    }
    let survey = crate::emit::survey(out_dir, &rendered, &c.scope());
    let drift = crate::emit::check::drift(out_dir, &rendered, &survey);
    drop(lock);
    drop(progress);
    let sarif = out.format.findings() == Format::Sarif;
    if !sarif || drift.is_empty() {
        app::report(&diags, out);
    }
    let files: usize = rendered.iter().map(|r| r.digests.len()).sum();
    if drift.is_empty() {
        app::status(
            out,
            &format!(
                "{dir} is up to date ({}; {})",
                app::plural(files, "file"),
                c.where_()
            ),
        );
        return Ok(true);
    }
    let text = match out.format.findings() {
        Format::Human => human(&drift, &dir, &fix),
        // For programs, each drifted file is a finding like any other.
        format => {
            let mut findings: Vec<Diagnostic> = match sarif {
                true => diags,
                false => Vec::new(),
            };
            findings.extend(drift.iter().map(|d| finding(d, &dir, &fix)));
            diag::render(&findings, format, false)
        }
    };
    app::print_stdout(&text)?;
    Ok(false)
}

/// The report of a folder a killed render left half-written.
fn interrupted(what: &str, dir: &str, fix: &str, format: Format, diags: &[Diagnostic]) -> String {
    let message =
        format!("`{dir}` holds an interrupted render: {what}, so its files may mix two renders");
    match format.findings() {
        Format::Human => format!("{message}.\nTo complete it, run:\n    {fix}\n"),
        format => {
            let journal = format!("{dir}/{}", crate::emit::write::JOURNAL);
            let finding = Diagnostic::error(codes::CHECK_DRIFT, message)
                .in_file(&Source::virtual_file(&journal, String::new()))
                .help(format!("run `{fix}`"))
                .field("drift", "interrupted")
                .field("diff", serde_json::Value::Null);
            let mut findings = match format {
                Format::Sarif => diags.to_vec(),
                _ => Vec::new(),
            };
            findings.push(finding);
            diag::render(&findings, format, false)
        }
    }
}

/// The `paved render` command that makes the folder match, with the user's own
/// paths and config, quoted for a shell.
pub(crate) fn fix_command(inputs: &Inputs) -> String {
    let mut cmd = String::from("paved render");
    for p in &inputs.paths {
        cmd.push(' ');
        cmd.push_str(&super::shell_quote(&p.display().to_string()));
    }
    for e in &inputs.envs {
        cmd.push_str(" --env ");
        cmd.push_str(&super::shell_quote(e));
    }
    if let Some(c) = &inputs.config {
        cmd.push_str(" --config ");
        cmd.push_str(&super::shell_quote(&c.display().to_string()));
    }
    if let Some(o) = &inputs.out_dir {
        cmd.push_str(" --out ");
        cmd.push_str(&super::shell_quote(&o.display().to_string()));
    }
    cmd
}

fn kind(d: &Drift) -> &'static str {
    match d {
        Drift::Missing(_) => "missing",
        Drift::Extra(_) => "extra",
        Drift::Stale(..) => "stale",
        Drift::Foreign(_) | Drift::Special(..) => "blocked",
    }
}

fn explain(d: &Drift) -> String {
    match d {
        Drift::Missing(_) => "not rendered yet".into(),
        Drift::Extra(_) => "its service or environment no longer exists".into(),
        Drift::Stale(..) => "edited by hand, or its spec changed since the last render".into(),
        Drift::Foreign(_) => {
            "a file Paved did not generate stands where Paved writes; move it away".into()
        }
        Drift::Special(_, what) => {
            format!("{what}, where Paved writes a file; Paved never reads or writes through it")
        }
    }
}

pub(crate) fn human(drift: &[Drift], dir: &str, fix: &str) -> String {
    let mut text = String::new();
    for d in drift {
        text.push_str(&format!(
            "{:<8} {dir}/{} ({})\n",
            format!("{}:", kind(d)),
            escape(d.path()),
            explain(d)
        ));
        if let Drift::Stale(_, diff, _) = d {
            let lines: Vec<&str> = diff.lines().collect();
            for line in lines.iter().take(MAX_DIFF_LINES) {
                text.push_str("    ");
                // The file on disk may hold anything; a terminal gets no control character.
                text.push_str(&escape(line));
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
    let blocked = count("blocked");
    text.push_str(&format!(
        "\n{} out of date in {dir} ({} stale, {} missing, {} extra{}). To fix it, run:\n    {fix}\n",
        app::plural(drift.len(), "file"),
        count("stale"),
        count("missing"),
        count("extra"),
        if blocked > 0 {
            format!(", {blocked} blocked by files Paved will not overwrite")
        } else {
            String::new()
        }
    ));
    text
}

/// The first changed line of the file on disk, for annotations.
fn first_line(d: &Drift) -> Option<usize> {
    let Drift::Stale(_, diff, _) = d else {
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

/// A drifted file as a finding: at its first changed line when the file on
/// disk was read, else about the whole file; `drift` (its kind) and `diff`
/// (the unified diff of a stale file) as JSON fields.
pub fn finding(d: &Drift, dir: &str, fix: &str) -> Diagnostic {
    let name = format!("{dir}/{}", d.path());
    let finding = Diagnostic::error(codes::CHECK_DRIFT, format!("{} ({})", kind(d), explain(d)));
    let finding = match (d, first_line(d)) {
        (Drift::Stale(_, _, Some(old)), Some(line)) => {
            let src = Source::virtual_file(&name, old.clone());
            let (start, end, _) = src.line_bounds(line);
            finding.at(&src, Span::new(start, end), "the first change")
        }
        _ => finding.in_file(&Source::virtual_file(&name, String::new())),
    };
    let diff = match d {
        Drift::Stale(_, diff, _) => serde_json::Value::from(diff.as_str()),
        _ => serde_json::Value::Null,
    };
    finding
        .help(format!("run `{fix}`"))
        .field("drift", kind(d))
        .field("diff", diff)
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
            out_dir: Some(PathBuf::from("rendered")),
            ..Inputs::default()
        };
        assert_eq!(
            fix_command(&inputs),
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
        let d = Drift::Stale("a.yaml".into(), diff.clone(), Some(old.clone()));
        assert_eq!(first_line(&d), Some(11));
        let text = human(std::slice::from_ref(&d), "out", "paved render --out out");
        assert!(
            text.starts_with("stale:   out/a.yaml (edited by hand"),
            "{text}"
        );
        assert!(text.ends_with("1 file out of date in out (1 stale, 0 missing, 0 extra). To fix it, run:\n    paved render --out out\n"), "{text}");
        for i in 0..60 {
            diff.push_str(&format!("+more {i}\n"));
        }
        let text = human(&[Drift::Stale("a.yaml".into(), diff, None)], "out", "x");
        assert!(text.contains("    … 36 more diff lines\n"), "{text}");
        // For programs, a drifted file is a finding at its first change.
        let json = diag::render(&[finding(&d, "out", "x")], Format::Json, false);
        let v: serde_json::Value = serde_json::from_str(&json).unwrap();
        assert_eq!(
            (v["file"].as_str(), v["line"].as_u64()),
            (Some("out/a.yaml"), Some(11))
        );
        assert_eq!(
            (v["drift"].as_str(), v["label"].as_str()),
            (Some("stale"), Some("the first change"))
        );
        assert!(
            v["diff"]
                .as_str()
                .unwrap()
                .starts_with("--- a.yaml (on disk)"),
            "{v}"
        );
        let gh = diag::render(
            &[finding(
                &Drift::Extra("staging/old/x.yaml".into()),
                "out",
                "paved render --out out",
            )],
            Format::Github,
            false,
        );
        assert_eq!(gh, "::error file=out/staging/old/x.yaml,line=1,col=1,title=paved%3A%3Acheck%3A%3Adrift::extra (its service or environment no longer exists)%0Ahelp: run `paved render --out out`\n");
    }
}
