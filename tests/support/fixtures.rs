//! Fixture helpers shared by the integration tests.
//!
//! Layout (see fixtures/README.md):
//! - `fixtures/<case>/input/` holds specs (and optionally `paved.yaml`);
//!   `fixtures/<case>/expected/` is the committed render, compared byte for byte.
//! - `fixtures/invalid/<case>/` holds a bad input and `expect.txt`, one expected
//!   diagnostic per line: `<code> <line>:<col> <file>`; an optional `args` file
//!   holds the command to run (default `validate .`), run inside the case folder.
//!
//! `PAVED_BLESS=1 cargo test` rewrites `expected/` trees and `expect.txt` files
//! from the current output, for review in the diff.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

pub fn bless() -> bool {
    std::env::var_os("PAVED_BLESS").is_some_and(|v| !v.is_empty() && v != "0")
}

/// The binary under test. `PAVED_BIN` runs the suite against another build,
/// e.g. an older one, to show that a new test fails there. No colour, and a
/// fixed width for what wraps at the terminal's (`--help`).
pub fn paved() -> Command {
    let bin = std::env::var_os("PAVED_BIN").unwrap_or_else(|| env!("CARGO_BIN_EXE_paved").into());
    let mut c = Command::new(bin);
    c.env("NO_COLOR", "1")
        .env("COLUMNS", "100")
        .env_remove("PAVED_BLESS");
    c
}

/// Every golden case: `fixtures/<case>` folders that have an `input/` folder.
/// Writes `text` to `dir/rel`, creating its folders.
pub fn write(dir: &Path, rel: &str, text: &str) {
    let p = dir.join(rel);
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(p, text).unwrap();
}

/// `paved ARGS` in `cwd`.
pub fn run(cwd: &Path, args: &[&str]) -> Output {
    paved()
        .current_dir(cwd)
        .args(args)
        .output()
        .expect("paved runs")
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// The run exited with `want`; both streams are shown when it did not.
#[track_caller]
pub fn expect(o: &Output, want: i32) {
    assert_eq!(
        o.status.code(),
        Some(want),
        "stdout:\n{}\nstderr:\n{}",
        stdout(o),
        stderr(o)
    );
}

pub fn golden_cases() -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = std::fs::read_dir(root().join("fixtures"))
        .expect("fixtures folder")
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.join("input").is_dir())
        .collect();
    out.sort();
    out
}

/// The names of the golden cases (`commerce`, `quickstart`, ...).
pub fn golden_case_names() -> Vec<String> {
    golden_cases()
        .iter()
        .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
        .collect()
}

/// The input specs of a golden case, by service name.
pub fn input_specs(case: &str) -> BTreeMap<String, serde_json::Value> {
    let mut out = BTreeMap::new();
    for e in walkdir::WalkDir::new(root().join("fixtures").join(case).join("input"))
        .sort_by_file_name()
        .into_iter()
        .flatten()
    {
        if e.file_name() == "platform.yaml" {
            let v: serde_json::Value =
                serde_yaml::from_str(&std::fs::read_to_string(e.path()).unwrap())
                    .unwrap_or_else(|err| panic!("{}: {err}", e.path().display()));
            let name = v["metadata"]["name"].as_str().unwrap().to_string();
            out.insert(name, v);
        }
    }
    out
}

/// A golden case's paved.yaml, or the built-in config when it has none.
pub fn paved_yaml(case: &str) -> serde_json::Value {
    let p = root().join("fixtures").join(case).join("input/paved.yaml");
    let text = std::fs::read_to_string(p).unwrap_or_else(|_| {
        std::fs::read_to_string(root().join("src/paved.default.yaml")).unwrap()
    });
    serde_yaml::from_str(&text).unwrap()
}

/// A minimal valid `platform.yaml` of a service `name` owned by `owner`,
/// with `extra` appended under `spec` (indented by the caller).
pub fn spec_text(name: &str, owner: &str, extra: &str) -> String {
    format!(
        "apiVersion: paved.dev/v1
kind: Application
metadata:
  name: {name}
  owner: {owner}
  costCenter: cc-1
spec:
  image: ghcr.io/acme/{name}:1.0.0
  ports:
    - {{name: http, port: 8080}}
{extra}"
    )
}

/// Every bad-input case.
pub fn invalid_cases() -> Vec<PathBuf> {
    let dir = root().join("fixtures/invalid");
    let mut out: Vec<PathBuf> = std::fs::read_dir(&dir)
        .map(|rd| {
            rd.flatten()
                .map(|e| e.path())
                .filter(|p| p.is_dir())
                .collect()
        })
        .unwrap_or_default();
    out.sort();
    out
}

/// All files under `dir` as relative path → bytes.
pub fn read_tree(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    let mut out = BTreeMap::new();
    if !dir.exists() {
        return out;
    }
    for e in walkdir::WalkDir::new(dir)
        .sort_by_file_name()
        .into_iter()
        .flatten()
    {
        if e.file_type().is_file() {
            let rel = e
                .path()
                .strip_prefix(dir)
                .unwrap()
                .to_string_lossy()
                .replace('\\', "/");
            out.insert(rel, std::fs::read(e.path()).unwrap());
        }
    }
    out
}

/// Renders `input` into a fresh temporary folder and returns it.
pub fn render(input: &Path) -> tempfile::TempDir {
    let out = tempfile::tempdir().unwrap();
    let o = paved()
        .args(["render", "--quiet"])
        .arg(input)
        .arg("--out")
        .arg(out.path())
        .output()
        .unwrap();
    assert!(
        o.status.success(),
        "render of {} failed:\n{}{}",
        input.display(),
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    out
}

/// Every YAML document of every rendered `.yaml` file, with its file path.
pub fn documents(dir: &Path) -> Vec<(String, serde_json::Value)> {
    let mut out = Vec::new();
    for (path, bytes) in read_tree(dir) {
        // The portal template's skeleton is a scaffolder template (nunjucks),
        // not YAML; tests/it/portal_template.rs fills it in and checks it.
        if !path.ends_with(".yaml") || path.contains("/skeleton/") || path.starts_with("skeleton/")
        {
            continue;
        }
        let text = String::from_utf8(bytes).unwrap();
        for doc in serde_yaml::Deserializer::from_str(&text) {
            let v: serde_json::Value =
                serde::Deserialize::deserialize(doc).unwrap_or_else(|e| panic!("{path}: {e}"));
            if !v.is_null() {
                out.push((path.clone(), v));
            }
        }
    }
    out
}

/// Every rendered document with its path relative to the output folder.
pub type Docs = Vec<(String, serde_json::Value)>;

/// Renders the golden fixture `fixtures/<case>/input` and returns its documents.
pub fn render_fixture(case: &str) -> Docs {
    let out = render(&root().join("fixtures").join(case).join("input"));
    documents(out.path())
}

/// Renders specs written in a test: `(folder, platform.yaml text)`, plus an optional paved.yaml.
pub fn render_specs(paved_yaml: Option<&str>, specs: &[(&str, &str)]) -> Docs {
    let input = tempfile::tempdir().unwrap();
    if let Some(p) = paved_yaml {
        std::fs::write(input.path().join("paved.yaml"), p).unwrap();
    }
    for (folder, text) in specs {
        let dir = input.path().join(folder);
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("platform.yaml"), text).unwrap();
    }
    let out = render(input.path());
    documents(out.path())
}

/// Copies a case folder into a new temporary folder outside any repository,
/// so the case is a workspace of its own (not part of Paved's checkout, whose
/// Git top-level would otherwise be the root). Symlinks are copied as links.
pub fn copy_case(case: &Path) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for e in walkdir::WalkDir::new(case)
        .follow_links(false)
        .sort_by_file_name()
        .into_iter()
        .flatten()
    {
        let rel = e.path().strip_prefix(case).unwrap();
        let dest = dir.path().join(rel);
        let ft = e.file_type();
        if ft.is_dir() {
            std::fs::create_dir_all(&dest).unwrap();
        } else if ft.is_symlink() {
            let target = std::fs::read_link(e.path()).unwrap();
            std::os::unix::fs::symlink(target, &dest).unwrap();
        } else {
            std::fs::copy(e.path(), &dest).unwrap();
        }
    }
    dir
}

/// Runs git in `dir` with a fixed identity, no signing and no user or
/// system config; fails the test when git fails.
pub fn git(dir: &Path, args: &[&str]) {
    let o = Command::new("git")
        .args([
            "-c",
            "user.name=Paved Test",
            "-c",
            "user.email=test@example.com",
            "-c",
            "commit.gpgsign=false",
        ])
        .args(args)
        .current_dir(dir)
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .output()
        .expect("git runs");
    assert!(
        o.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
}

/// Runs a command with a wall-clock limit; a run that does not end is
/// killed and fails the test. Returns the output and the time taken.
pub fn run_bounded(
    mut cmd: Command,
    limit: std::time::Duration,
) -> (std::process::Output, std::time::Duration) {
    use std::process::Stdio;
    let start = std::time::Instant::now();
    let mut child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    while child.try_wait().unwrap().is_none() {
        if start.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            panic!("the run did not end within {limit:?}");
        }
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    (child.wait_with_output().unwrap(), start.elapsed())
}
