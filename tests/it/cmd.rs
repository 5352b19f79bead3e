//! The command line as data: each `tests/cmd/<case>.toml` runs `paved` once
//! and pins what it did, exactly: the exit code (`status.code` in the toml),
//! stdout (`<case>.stdout`), stderr (`<case>.stderr`) and the files it left.
//!
//! ```toml
//! # Arguments after `paved`, split at spaces (a list keeps an argument whole).
//! args = "validate services --format json"
//! status.code = 1
//! # Optional:
//! fs.base = "shared/project"   # the input tree, instead of <case>.in/
//! fs.ignore = ["out"]          # paths whose content is pinned elsewhere
//! env.remove = ["NO_COLOR"]    # env.add = { NAME = "value" }
//! ```
//!
//! A case runs in a temporary copy of its input tree, outside any
//! repository: `<case>.in/`, or the folder `fs.base` names (relative to
//! `tests/cmd/`, for a tree several cases read), or else an empty folder;
//! the copy is the current folder. `paved` runs as in every test
//! (`support::fixtures::paved`): `NO_COLOR=1`, `COLUMNS=100`, no
//! `PAVED_BLESS`, nothing on stdin. Afterwards the copy must hold its input
//! tree unchanged, except for the files under `<case>.out/`, which must be
//! there with exactly that content, and for paths under `fs.ignore`.
//! Output is compared as `support::snap` says: `[ROOT]` for the copy's
//! path, `[ELAPSED]` for a run time.
//!
//! `PAVED_BLESS=1 cargo test` rewrites `.stdout`, `.stderr`, `status.code`
//! and the files in `.out/` from what `paved` does now (a new case needs
//! only its toml), for review in the diff. `cargo test cmd:: -- cmd=explain`
//! runs only the cases whose name contains `explain`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use rayon::prelude::*;
use serde::Deserialize;

use crate::support::fixtures::{bless, copy_case, paved, read_tree, root};
use crate::support::snap;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Case {
    args: Args,
    status: Option<Status>,
    #[serde(default)]
    fs: Fs,
    #[serde(default)]
    env: Env,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum Args {
    Line(String),
    List(Vec<String>),
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Status {
    code: i32,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct Fs {
    base: Option<PathBuf>,
    #[serde(default)]
    ignore: Vec<String>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct Env {
    #[serde(default)]
    add: BTreeMap<String, String>,
    #[serde(default)]
    remove: Vec<String>,
}

fn cases_dir() -> PathBuf {
    root().join("tests/cmd")
}

#[test]
fn every_cli_case_gives_its_pinned_output() {
    let dir = cases_dir();
    let only: Vec<String> = std::env::args()
        .filter_map(|a| a.strip_prefix("cmd=").map(str::to_string))
        .collect();
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .flatten()
        .filter_map(|e| {
            let name = e.file_name().to_string_lossy().to_string();
            name.strip_suffix(".toml").map(str::to_string)
        })
        .collect();
    names.sort();
    assert!(
        names.len() > 20,
        "only {} cases in {}",
        names.len(),
        dir.display()
    );
    let mut failures: Vec<String> = names
        .par_iter()
        .filter(|n| only.is_empty() || only.iter().any(|o| n.contains(o.as_str())))
        .flat_map(|name| run_case(&dir, name))
        .collect();
    if only.is_empty() {
        failures.extend(strays(&dir, &names));
    }
    assert!(
        failures.is_empty(),
        "{} problem(s) in {}:\n\n{}",
        failures.len(),
        dir.display(),
        failures.join("\n\n")
    );
}

/// Runs one case; returns what differs from its pinned files.
fn run_case(dir: &Path, name: &str) -> Vec<String> {
    let toml_path = dir.join(format!("{name}.toml"));
    let text = std::fs::read_to_string(&toml_path).unwrap();
    let case: Case = match toml::from_str(&text) {
        Ok(c) => c,
        Err(e) => return vec![format!("{name}.toml: {e}")],
    };
    let args: Vec<String> = match case.args {
        Args::Line(l) => l.split_whitespace().map(str::to_string).collect(),
        Args::List(v) => v,
    };
    let own_input = dir.join(format!("{name}.in"));
    let input = match &case.fs.base {
        Some(b) => Some(dir.join(b)),
        None => Some(own_input).filter(|p| p.is_dir()),
    };
    let sandbox = match &input {
        Some(p) if !p.is_dir() => return vec![format!("{name}: no input folder {}", p.display())],
        Some(p) => copy_case(p),
        None => tempfile::tempdir().unwrap(),
    };
    let before = read_tree(sandbox.path());

    let mut cmd = paved();
    cmd.current_dir(sandbox.path()).args(&args);
    for k in &case.env.remove {
        cmd.env_remove(k);
    }
    cmd.envs(&case.env.add);
    let out = cmd.output().unwrap();

    let mut failures = Vec::new();
    let mut fail = |r: Result<(), String>| {
        if let Err(e) = r {
            failures.push(format!("{name}: {e}"));
        }
    };
    let show = |bytes: &[u8]| snap::redact(&String::from_utf8_lossy(bytes), sandbox.path());
    for (stream, bytes) in [("stdout", &out.stdout), ("stderr", &out.stderr)] {
        if std::str::from_utf8(bytes).is_err() {
            fail(Err(format!("{stream} is not UTF-8")));
        }
    }
    fail(snap::check(
        &dir.join(format!("{name}.stdout")),
        &show(&out.stdout),
    ));
    fail(snap::check(
        &dir.join(format!("{name}.stderr")),
        &show(&out.stderr),
    ));
    fail(match out.status.code() {
        Some(code) => check_status(&toml_path, &text, case.status.map(|s| s.code), code),
        None => Err(format!("paved was killed: {:?}", out.status)),
    });

    // What is on disk now: the input tree, overlaid with `<case>.out/`.
    let ignored = |p: &str| {
        case.fs
            .ignore
            .iter()
            .any(|i| p == i || p.starts_with(&format!("{i}/")))
    };
    let out_dir = dir.join(format!("{name}.out"));
    let pinned = read_tree(&out_dir);
    let after = read_tree(sandbox.path());
    for path in pinned.keys() {
        match after.get(path) {
            Some(got) => fail(snap::check(&out_dir.join(path), &show(got))),
            None => fail(Err(format!("{path} is in {name}.out/ but was not written"))),
        }
    }
    let mut paths: Vec<&String> = before.keys().chain(after.keys()).collect();
    paths.sort();
    paths.dedup();
    let touched: Vec<String> = paths
        .into_iter()
        .filter(|p| !pinned.contains_key(*p) && !ignored(p))
        .filter_map(|p| match (before.get(p), after.get(p)) {
            (Some(a), Some(b)) if a == b => None,
            (Some(_), Some(_)) => Some(format!("    changed {p}")),
            (Some(_), None) => Some(format!("    removed {p}")),
            (None, _) => Some(format!("    written {p}")),
        })
        .collect();
    if !touched.is_empty() {
        let shown = touched.len().min(10);
        fail(Err(format!(
            "{} file(s) not in {name}.out/ (nor under fs.ignore) changed:\n{}{}",
            touched.len(),
            touched[..shown].join("\n"),
            if shown < touched.len() {
                "\n    ..."
            } else {
                ""
            }
        )));
    }
    failures
}

/// The toml's `status.code` against the exit code; blessing rewrites it.
fn check_status(path: &Path, text: &str, want: Option<i32>, got: i32) -> Result<(), String> {
    if want == Some(got) {
        return Ok(());
    }
    if bless() {
        let line = format!("status.code = {got}");
        let mut lines: Vec<String> = text
            .lines()
            .filter(|l| !l.trim_start().starts_with("status.code"))
            .map(str::to_string)
            .collect();
        let at = lines
            .iter()
            .position(|l| l.trim_start().starts_with("args"))
            .map_or(lines.len(), |i| i + 1);
        lines.insert(at, line);
        std::fs::write(path, lines.join("\n") + "\n").unwrap();
        return Ok(());
    }
    Err(match want {
        Some(w) => format!("exit code {got}, expected {w}"),
        None => format!("exit code {got}, and the toml has no `status.code`"),
    })
}

/// Files in `tests/cmd/` that belong to no case: a renamed case's
/// leftovers, or a shared input tree that no case reads any more.
fn strays(dir: &Path, names: &[String]) -> Vec<String> {
    let mut bases: Vec<PathBuf> = Vec::new();
    for n in names {
        let text = std::fs::read_to_string(dir.join(format!("{n}.toml"))).unwrap();
        if let Ok(Case {
            fs: Fs { base: Some(b), .. },
            ..
        }) = toml::from_str(&text)
        {
            bases.push(dir.join(b));
        }
    }
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        let file = e.file_name().to_string_lossy().to_string();
        if file == "README.md" {
            continue;
        }
        if file == "shared" {
            for s in std::fs::read_dir(e.path()).unwrap().flatten() {
                if !bases.contains(&s.path()) {
                    out.push(format!(
                        "shared/{} is no case's fs.base",
                        s.file_name().to_string_lossy()
                    ));
                }
            }
            continue;
        }
        let owner = [".toml", ".stdout", ".stderr", ".in", ".out"]
            .iter()
            .find_map(|ext| file.strip_suffix(ext));
        match owner {
            Some(o) if names.iter().any(|n| n == o) => {}
            Some(o) => out.push(format!("{file} belongs to no case (there is no {o}.toml)")),
            None => out.push(format!(
                "{file} is not a case's file (<case>.toml, .stdout, .stderr, .in/, .out/)"
            )),
        }
    }
    out.sort();
    out
}
