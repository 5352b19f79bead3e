//! Output safety, hostile blueprints and secrets (issue 6; SECURITY.md states
//! the guarantees these tests hold Paved to):
//!
//! - no name, environment or blueprint can make Paved write outside DIR;
//! - a symlink inside DIR is never written through, and a refused run
//!   changes nothing;
//! - an output folder that cannot be written is exit 2 with a clear message;
//! - a run killed at any moment leaves every generated file whole (old or
//!   new), and the next run cleans up its temporary files;
//! - a hostile blueprint ends in a diagnostic naming the blueprint and the
//!   service, within seconds;
//! - no rendered file holds a secret value.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use crate::support::fixtures::{
    documents, golden_cases, invalid_cases, paved, read_tree, render, run, run_bounded, stderr,
};
use crate::support::rng::Rng;
use serde_json::Value as Json;

// ---------------------------------------------------------------------------
// helpers
// ---------------------------------------------------------------------------

const PLATFORM: &str = "apiVersion: paved.dev/v1
kind: Platform
metadata: {name: acme}
spec:
  environments:
    staging: {cluster: in-cluster, domain: staging.acme.dev}
";

fn spec(name: &str, extra: &str) -> String {
    crate::support::fixtures::spec_text(name, "team-orders", extra)
}

/// Writes `files` (relative path → text) under `dir`.
fn write_files(dir: &Path, files: &[(&str, &str)]) {
    for (rel, text) in files {
        let p = dir.join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    }
}

/// Every path under `dir` (files, folders and symlinks), relative, for
/// "nothing was created or changed" comparisons.
fn snapshot(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    let mut out = BTreeMap::new();
    for e in walkdir::WalkDir::new(dir)
        .follow_links(false)
        .sort_by_file_name()
        .into_iter()
        .flatten()
    {
        let rel = e.path().strip_prefix(dir).unwrap().display().to_string();
        let content = if e.file_type().is_file() {
            std::fs::read(e.path()).unwrap()
        } else if e.file_type().is_symlink() {
            format!("-> {}", std::fs::read_link(e.path()).unwrap().display()).into_bytes()
        } else {
            b"<dir>".to_vec()
        };
        out.insert(rel, content);
    }
    out
}

/// Diagnostics of a `--format json` run.
fn json_diags(o: &Output) -> Vec<Json> {
    String::from_utf8_lossy(&o.stdout)
        .lines()
        .filter(|l| l.starts_with('{'))
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

// ---------------------------------------------------------------------------
// 1. Nothing is ever written outside DIR
// ---------------------------------------------------------------------------

/// Runs `paved render` on a workspace inside a sandbox folder and checks that
/// it fails with exit 1 and that nothing in the sandbox (outside the inputs)
/// was created or changed, and DIR was not even created.
fn assert_refused(files: &[(&str, &str)], why: &str) {
    let sandbox = tempfile::tempdir().unwrap();
    let work = sandbox.path().join("a/b/work");
    std::fs::create_dir_all(&work).unwrap();
    write_files(&work, files);
    let before = snapshot(sandbox.path());
    let o = run(&work, &["render", "--out", "out", "--format", "json"]);
    assert_eq!(o.status.code(), Some(1), "{why}: {}", stderr(&o));
    assert!(!json_diags(&o).is_empty(), "{why}: no diagnostic");
    assert_eq!(
        snapshot(sandbox.path()),
        before,
        "{why}: the run changed files in the sandbox"
    );
}

#[test]
fn spec_values_cannot_name_a_path() {
    for (what, extra, name) in [
        ("name ../..", "", "\"../../x\""),
        ("name with /", "", "a/b"),
        ("name ..", "", "\"..\""),
        ("absolute name", "", "\"/etc\""),
        (
            "resource name",
            "  resources:\n    \"../x\": {type: redis}\n",
            "orders",
        ),
        (
            "environment key",
            "  environments:\n    \"../x\": {}\n",
            "orders",
        ),
        ("ingress host", "  ingress: {host: \"../../x\"}\n", "orders"),
        (
            "secret ref",
            "  secrets:\n    - {env: A_TOKEN, ref: \"../../x #y\"}\n",
            "orders",
        ),
        ("dependsOn", "  dependsOn: [\"component:../x\"]\n", "orders"),
    ] {
        let text = spec("orders", extra).replacen("name: orders", &format!("name: {name}"), 1);
        assert_refused(
            &[("paved.yaml", PLATFORM), ("svc/platform.yaml", &text)],
            what,
        );
    }
}

#[test]
fn environment_names_cannot_name_a_path() {
    for env in [
        "\"../escape\"",
        "\"a/b\"",
        "\"..\"",
        "\".hidden\"",
        "\"/abs\"",
    ] {
        let cfg = PLATFORM.replace("staging:", &format!("{env}:"));
        assert_refused(
            &[
                ("paved.yaml", &cfg),
                ("svc/platform.yaml", &spec("orders", "")),
            ],
            env,
        );
    }
    let cfg = PLATFORM.replace(
        "domain: staging.acme.dev",
        "domain: staging.acme.dev, namespacePrefix: \"../\"",
    );
    assert_refused(
        &[
            ("paved.yaml", &cfg),
            ("svc/platform.yaml", &spec("orders", "")),
        ],
        "namespace prefix",
    );
}

#[test]
fn blueprint_output_cannot_name_a_path() {
    let cfg = format!("{PLATFORM}  blueprints: ./blueprints\n");
    for (what, doc) in [
        (
            "metadata.name ../../x",
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ../../x\n",
        ),
        (
            "metadata.name with /",
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a/b\n",
        ),
        (
            "metadata.name ..",
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: \"..\"\n",
        ),
        (
            "kind ../x",
            "apiVersion: v1\nkind: ../x\nmetadata:\n  name: x\n",
        ),
        (
            "kind with /",
            "apiVersion: v1\nkind: a/b\nmetadata:\n  name: x\n",
        ),
        (
            "namespace ../x",
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n  namespace: ../x\n",
        ),
        (
            "name from the spec",
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ '../' ~ service.name }}\n",
        ),
    ] {
        for scope in ["service", "environment", "platform", "environment/sub"] {
            let bp = format!("blueprints/{scope}/evil.yaml");
            assert_refused(
                &[
                    ("paved.yaml", &cfg),
                    ("svc/platform.yaml", &spec("orders", "")),
                    (&bp, doc),
                ],
                &format!("{what} in {scope}"),
            );
        }
    }
}

#[test]
fn blueprint_symlinks_are_not_followed() {
    // A symlink in the blueprints folder pointing outside it is ignored: a
    // blueprint can only come from inside the folder.
    let sandbox = tempfile::tempdir().unwrap();
    let work = sandbox.path().join("work");
    write_files(
        &work,
        &[
            (
                "paved.yaml",
                &format!("{PLATFORM}  blueprints: ./blueprints\n"),
            ),
            ("svc/platform.yaml", &spec("orders", "")),
            ("blueprints/README.md", "overrides\n"),
        ],
    );
    let outside = sandbox.path().join("outside.yaml");
    std::fs::write(
        &outside,
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: from-outside\n",
    )
    .unwrap();
    std::fs::create_dir_all(work.join("blueprints/service")).unwrap();
    std::os::unix::fs::symlink(&outside, work.join("blueprints/service/linked.yaml")).unwrap();
    let o = run(&work, &["render", "--out", "out", "--quiet"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let all: String = read_tree(&work.join("out"))
        .into_values()
        .map(|b| String::from_utf8(b).unwrap())
        .collect();
    assert!(
        !all.contains("from-outside"),
        "a symlinked blueprint was used"
    );
}

#[test]
fn the_writer_refuses_paths_that_leave_the_folder() {
    // The last line of defence, below every name check: the writer itself.
    use paved::testing::emit::{InMemory, OutFile, Scope};
    let sandbox = tempfile::tempdir().unwrap();
    let out = sandbox.path().join("out");
    for bad in [
        "../escape.yaml",
        "a/../../escape.yaml",
        "/tmp/escape.yaml",
        "a//b.yaml",
        ".hidden/x.yaml",
        "a\\..\\..\\x.yaml",
        "",
    ] {
        let plan = InMemory::new(vec![
            OutFile {
                path: "staging/ok/configmap-ok.yaml".into(),
                content: "# Generated by paved from x. Do not edit.\n".into(),
            },
            OutFile {
                path: bad.into(),
                content: "# Generated by paved from x. Do not edit.\nescaped: true\n".into(),
            },
        ]);
        let before = snapshot(sandbox.path());
        std::fs::create_dir_all(&out).unwrap();
        let units = [plan];
        let survey = paved::testing::emit::survey(&out, &units, &Scope::default());
        let r = paved::testing::emit::write::apply(&out, &units, &survey, true);
        assert!(r.is_err(), "`{bad}` was written");
        // Refused before the first write: not even the good file is there.
        let after = snapshot(sandbox.path());
        let created: Vec<&String> = after
            .keys()
            .filter(|k| !before.contains_key(*k) && k.as_str() != "out")
            .collect();
        assert!(created.is_empty(), "`{bad}`: created {created:?}");
    }
    assert!(!Path::new("/tmp/escape.yaml").exists());
}

// ---------------------------------------------------------------------------
// 2. Symlinks inside DIR are never written through
// ---------------------------------------------------------------------------

/// A workspace rendered once into `out`; returns (sandbox, work dir).
fn rendered_workspace() -> (tempfile::TempDir, PathBuf) {
    let sandbox = tempfile::tempdir().unwrap();
    let work = sandbox.path().join("work");
    write_files(
        &work,
        &[
            ("paved.yaml", PLATFORM),
            ("orders/platform.yaml", &spec("orders", "")),
            ("payments/platform.yaml", &spec("payments", "")),
        ],
    );
    let o = run(&work, &["render", "--out", "out", "--quiet"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    (sandbox, work)
}

/// Changes both specs so every service's files change.
fn bump(work: &Path) {
    for s in ["orders", "payments"] {
        let p = work.join(s).join("platform.yaml");
        let t = std::fs::read_to_string(&p).unwrap();
        std::fs::write(&p, t.replace(":1.0.0", ":2.0.0")).unwrap();
    }
}

#[test]
fn a_symlinked_file_in_the_output_is_never_written_through() {
    let (sandbox, work) = rendered_workspace();
    let victim = sandbox.path().join("victim.txt");
    std::fs::write(&victim, "precious\n").unwrap();
    // `payments` sorts after `orders`: without a check before the first
    // write, `orders` would already be rewritten when the link is found.
    let link = work.join("out/staging/payments/deployment-payments.yaml");
    std::fs::remove_file(&link).unwrap();
    std::os::unix::fs::symlink(&victim, &link).unwrap();
    bump(&work);
    let before = snapshot(&work.join("out"));
    let o = run(&work, &["render", "--out", "out"]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("symlink"), "{}", stderr(&o));
    assert_eq!(std::fs::read_to_string(&victim).unwrap(), "precious\n");
    assert_eq!(
        snapshot(&work.join("out")),
        before,
        "a refused run changed the output folder"
    );
}

#[test]
fn a_symlinked_folder_in_the_output_is_never_written_into() {
    let (sandbox, work) = rendered_workspace();
    let elsewhere = sandbox.path().join("elsewhere");
    std::fs::create_dir(&elsewhere).unwrap();
    let folder = work.join("out/staging/payments");
    std::fs::remove_dir_all(&folder).unwrap();
    std::os::unix::fs::symlink(&elsewhere, &folder).unwrap();
    bump(&work);
    let before = snapshot(&work.join("out"));
    let o = run(&work, &["render", "--out", "out"]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("symlink"), "{}", stderr(&o));
    assert_eq!(std::fs::read_dir(&elsewhere).unwrap().count(), 0);
    assert_eq!(snapshot(&work.join("out")), before);
}

#[test]
fn files_paved_did_not_generate_are_left_alone() {
    let (_sandbox, work) = rendered_workspace();
    let mine = work.join("out/staging/orders/notes.yaml");
    std::fs::write(&mine, "hand: written\n").unwrap();
    std::fs::remove_dir_all(work.join("payments")).unwrap();
    let o = run(&work, &["render", "--out", "out", "--quiet"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(std::fs::read_to_string(&mine).unwrap(), "hand: written\n");
    assert!(!work.join("out/staging/payments").exists());
}

// ---------------------------------------------------------------------------
// 3. An output folder that cannot be written is exit 2
// ---------------------------------------------------------------------------

#[test]
fn unusable_output_folders_are_exit_2_with_a_clear_message() {
    let (sandbox, work) = rendered_workspace();
    let file = sandbox.path().join("a-file");
    std::fs::write(&file, "x").unwrap();
    let cases: Vec<(PathBuf, &str)> = vec![
        (sandbox.path().join("missing/deeper/out"), "does not exist"),
        // A path under a regular file fails with ENOTDIR even for root.
        (file.join("out"), "is not a folder"),
        (file.clone(), "not a folder"),
    ];
    for (out, words) in cases {
        let o = paved()
            .current_dir(&work)
            .args(["render", "--out"])
            .arg(&out)
            .output()
            .unwrap();
        let err = stderr(&o);
        assert_eq!(o.status.code(), Some(2), "{}: {err}", out.display());
        assert!(err.contains(words), "{}: {err}", out.display());
        assert!(!err.contains("panicked"), "{err}");
    }
    assert_eq!(std::fs::read_to_string(&file).unwrap(), "x");
}

#[test]
fn a_read_only_output_folder_is_exit_2() {
    use std::os::unix::fs::PermissionsExt;
    let (sandbox, work) = rendered_workspace();
    let ro = sandbox.path().join("ro");
    std::fs::create_dir(&ro).unwrap();
    std::fs::set_permissions(&ro, std::fs::Permissions::from_mode(0o555)).unwrap();
    // Root (CI containers) ignores permission bits; then there is nothing to test.
    if std::fs::write(ro.join("probe"), "x").is_ok() {
        println!("skipped: running with privileges that ignore a read-only mode (root)");
        return;
    }
    let o = paved()
        .current_dir(&work)
        .args(["render", "--out"])
        .arg(&ro)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("not writable"), "{}", stderr(&o));
    std::fs::set_permissions(&ro, std::fs::Permissions::from_mode(0o755)).unwrap();
}

// ---------------------------------------------------------------------------
// 4. A killed run leaves every file whole
// ---------------------------------------------------------------------------

const SERVICES: usize = 300;
const KILLS: usize = 8;
const TMP_MARK: &str = ".paved-tmp-";
/// Present while a render writes; left by a killed one.
const JOURNAL: &str = ".paved-incomplete";

/// Writes version `v` of the fleet: every service's image and an env value
/// differ between versions, and each version has services the other lacks,
/// so a run both rewrites, creates and removes files.
fn write_fleet(dir: &Path, v: u32) {
    if dir.exists() {
        for e in std::fs::read_dir(dir).unwrap().flatten() {
            if e.path().is_dir() {
                std::fs::remove_dir_all(e.path()).unwrap();
            }
        }
    }
    std::fs::create_dir_all(dir).unwrap();
    std::fs::write(dir.join("paved.yaml"), PLATFORM).unwrap();
    for i in 0..SERVICES {
        // Every tenth service exists only in one version.
        if i % 10 == 0 && (i / 10) % 2 != v as usize % 2 {
            continue;
        }
        let name = format!("svc-{i:03}");
        let extra = format!("  env:\n    VERSION: \"{v}\"\n");
        let text = spec(&name, &extra).replace(":1.0.0", &format!(":{v}.0.0"));
        write_files(dir, &[(&format!("{name}/platform.yaml"), &text)]);
    }
}

fn check_of(specs: &Path, out: &Path) -> Output {
    paved()
        .arg("check")
        .arg(specs)
        .arg("--out")
        .arg(out)
        .output()
        .unwrap()
}

fn render_into(specs: &Path, out: &Path) -> Output {
    paved()
        .arg("render")
        .arg(specs)
        .arg("--out")
        .arg(out)
        .arg("--quiet")
        .output()
        .unwrap()
}

/// Checks every file in `out` against the two complete renders.
fn assert_whole(
    out: &Path,
    old: &BTreeMap<String, Vec<u8>>,
    new: &BTreeMap<String, Vec<u8>>,
    when: &str,
) -> (usize, usize) {
    let (mut olds, mut news) = (0, 0);
    for (path, bytes) in read_tree(out) {
        let name = path.rsplit('/').next().unwrap_or("");
        if name.starts_with(TMP_MARK) || path == JOURNAL {
            // A killed run may leave its temporary file; it is hidden, never
            // a manifest, and the next run removes it.
            continue;
        }
        let is_old = old.get(&path) == Some(&bytes);
        let is_new = new.get(&path) == Some(&bytes);
        assert!(
            is_old || is_new,
            "{when}: `{path}` is neither the old nor the new render of that path ({} bytes)",
            bytes.len()
        );
        let text = String::from_utf8(bytes).unwrap();
        let template = text.starts_with(paved::testing::emit::header::TEMPLATE_MARK);
        assert!(
            text.starts_with("# Generated by paved") || template,
            "{when}: `{path}` lost its header"
        );
        // The portal template's skeleton is a nunjucks template, not YAML.
        let yaml = if template { "" } else { text.as_str() };
        for doc in serde_yaml::Deserializer::from_str(yaml) {
            let _: serde_yaml::Value = serde::Deserialize::deserialize(doc)
                .unwrap_or_else(|e| panic!("{when}: `{path}` is not valid YAML: {e}"));
        }
        if is_old && !is_new {
            olds += 1;
        }
        if is_new && !is_old {
            news += 1;
        }
    }
    (olds, news)
}

fn temporaries(out: &Path) -> Vec<String> {
    read_tree(out)
        .into_keys()
        .filter(|p| p.rsplit('/').next().unwrap_or("").starts_with(TMP_MARK))
        .collect()
}

#[test]
fn a_killed_render_leaves_every_file_whole() {
    let sandbox = tempfile::tempdir().unwrap();
    let specs = sandbox.path().join("specs");
    let out = sandbox.path().join("out");

    // The two complete renders every file must match one of.
    let mut refs = Vec::new();
    for v in [1, 2] {
        write_fleet(&specs, v);
        let dir = sandbox.path().join(format!("ref-{v}"));
        let o = render_into(&specs, &dir);
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
        refs.push(read_tree(&dir));
    }
    assert!(refs[0].len() > 2 * SERVICES, "too small a tree to test");

    // Start from version 1 in `out`.
    write_fleet(&specs, 1);
    assert_eq!(render_into(&specs, &out).status.code(), Some(0));

    let mut rng = Rng(0x5eed_cafe_f00d_0006);
    let mut interrupted_writes = 0;
    for round in 0..KILLS {
        // Alternate targets, so each kill lands on a tree with work to do.
        let (from, to) = if round % 2 == 0 { (0, 1) } else { (1, 0) };
        write_fleet(&specs, to as u32 + 1);
        let start_mtime = std::fs::metadata(&out).and_then(|m| m.modified()).ok();
        let mut child = paved()
            .arg("render")
            .arg(&specs)
            .arg("--out")
            .arg(&out)
            .arg("--quiet")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        // Every fourth kill lands anywhere in the first 200 ms (compiling);
        // the others up to 200 ms after the writing started (the output
        // folder's mtime moves when Paved probes it just before writing).
        let delay = Duration::from_millis(rng.below(201));
        let began = Instant::now();
        if round % 4 != 3 {
            while child.try_wait().unwrap().is_none()
                && std::fs::metadata(&out).and_then(|m| m.modified()).ok() == start_mtime
                && began.elapsed() < Duration::from_secs(120)
            {
                std::thread::sleep(Duration::from_millis(1));
            }
        }
        std::thread::sleep(delay);
        let finished = child.try_wait().unwrap().is_some();
        let _ = child.kill();
        let _ = child.wait();
        let when = format!(
            "after kill {round} ({} ms{})",
            delay.as_millis(),
            if finished { ", run had finished" } else { "" }
        );
        let (olds, news) = assert_whole(&out, &refs[from], &refs[to], &when);
        if olds > 0 && news > 0 {
            interrupted_writes += 1;
            // A mix of two renders: `check` names the interrupted run
            // rather than listing drift against either input.
            assert!(
                out.join(JOURNAL).exists(),
                "{when}: a mix without a journal"
            );
            let o = check_of(&specs, &out);
            assert_eq!(o.status.code(), Some(1), "{when}");
            let text = String::from_utf8_lossy(&o.stdout);
            assert!(
                text.contains("holds an interrupted render") && !text.contains("stale:"),
                "{when}: {text}"
            );
        }
    }
    assert!(
        interrupted_writes > 0,
        "no kill landed while files were being written; the test proved nothing"
    );

    // One complete run: exactly the new render, and no temporary file left.
    write_fleet(&specs, 2);
    let o = render_into(&specs, &out);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(temporaries(&out), Vec::<String>::new());
    assert!(
        !out.join(JOURNAL).exists(),
        "the journal outlived a complete run"
    );
    let o = check_of(&specs, &out);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let now = read_tree(&out);
    assert_eq!(
        now.keys().collect::<Vec<_>>(),
        refs[1].keys().collect::<Vec<_>>()
    );
    assert!(now == refs[1], "the final run differs from a clean render");
    println!("{interrupted_writes} of {KILLS} kills interrupted a write");
}

// ---------------------------------------------------------------------------
// 5. Hostile blueprints end in a diagnostic, quickly
// ---------------------------------------------------------------------------

#[test]
fn hostile_blueprints_end_in_a_diagnostic_within_seconds() {
    let cases: Vec<PathBuf> = invalid_cases()
        .into_iter()
        .filter(|c| {
            let n = c.file_name().unwrap().to_string_lossy().to_string();
            n.starts_with("blueprint-") && c.join("blueprints").is_dir()
        })
        .collect();
    assert!(cases.len() >= 7, "the hostile blueprint cases are missing");
    for case in cases {
        let name = case.file_name().unwrap().to_string_lossy().to_string();
        // Run a copy, so even a broken case can never write into fixtures/.
        let copy = tempfile::tempdir().unwrap();
        for (rel, bytes) in read_tree(&case) {
            let p = copy.path().join(&rel);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(p, bytes).unwrap();
        }
        let mut cmd = paved();
        cmd.current_dir(copy.path())
            .args(["render", "--out", "out", "--format", "json"]);
        // Debug builds on two busy cores: generous, but far below "hangs".
        let (o, took) = run_bounded(cmd, Duration::from_secs(30));
        assert!(took < Duration::from_secs(10), "{name}: took {took:?}");
        assert_eq!(o.status.code(), Some(1), "{name}: {}", stderr(&o));
        assert!(!copy.path().join("out").exists(), "{name}: wrote output");
        let diags = json_diags(&o);
        let named = diags.iter().any(|d| {
            let file = d["file"].as_str().unwrap_or("");
            let text = format!("{} {}", d["message"], d["help"]);
            file.starts_with("blueprints/")
                && d["line"].as_u64().unwrap_or(0) >= 1
                && text.contains("`orders`")
        });
        assert!(
            named,
            "{name}: no diagnostic names the blueprint file, a line and the service:\n{diags:#?}"
        );
    }
}

// ---------------------------------------------------------------------------
// 6. Secrets never leak
// ---------------------------------------------------------------------------

/// Env names that hold credentials: the names the compiler refuses literals for.
use paved::testing::credentials::is_credential_name as is_secret_name;

/// What a leaked credential looks like in text.
fn looks_like_a_secret(s: &str) -> Option<&'static str> {
    let has_run = |prefix: &str, min: usize, ok: fn(char) -> bool| {
        s.match_indices(prefix)
            .any(|(i, _)| s[i + prefix.len()..].chars().take_while(|c| ok(*c)).count() >= min)
    };
    if s.contains("-----BEGIN") && s.contains("KEY") {
        return Some("a PEM private key");
    }
    if has_run("AKIA", 16, |c| c.is_ascii_uppercase() || c.is_ascii_digit()) {
        return Some("an AWS access key id");
    }
    if has_run("sk_live_", 8, |c| c.is_ascii_alphanumeric()) {
        return Some("a Stripe live key");
    }
    if has_run("ghp_", 20, |c| c.is_ascii_alphanumeric()) {
        return Some("a GitHub token");
    }
    if ["xoxb-", "xoxp-", "xoxa-"].iter().any(|p| s.contains(p)) {
        return Some("a Slack token");
    }
    // scheme://user:password@host
    if let Some(i) = s.find("://") {
        let rest = &s[i + 3..];
        let auth = rest.split(['/', '?', '#']).next().unwrap_or("");
        if let Some((cred, _)) = auth.rsplit_once('@') {
            if cred.contains(':') {
                return Some("a URL with a password");
            }
        }
    }
    None
}

fn walk<'a>(v: &'a Json, at: String, out: &mut Vec<(String, &'a Json)>) {
    out.push((at.clone(), v));
    match v {
        Json::Object(m) => {
            for (k, x) in m {
                walk(x, format!("{at}.{k}"), out);
            }
        }
        Json::Array(a) => {
            for (i, x) in a.iter().enumerate() {
                walk(x, format!("{at}[{i}]"), out);
            }
        }
        _ => {}
    }
}

/// The `secrets` of every spec under `input`: (env name, ref).
fn spec_secrets(input: &Path) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for (path, bytes) in read_tree(input) {
        // The platform's own secret refs: its teams' alert receivers' credentials
        // (no env var reads them; an ExternalSecret fetches each for Alertmanager).
        if path.ends_with("paved.yaml") {
            let Ok(v) = serde_yaml::from_slice::<Json>(&bytes) else {
                continue;
            };
            for team in v["spec"]["teams"].as_object().into_iter().flatten() {
                for severity in ["page", "ticket"] {
                    let receiver = &team.1["alerts"][severity];
                    for kind in receiver.as_object().into_iter().flatten() {
                        if let Some(r) = kind.1["secret"].as_str() {
                            out.push((String::new(), r.to_string()));
                        }
                    }
                }
            }
            continue;
        }
        if !path.ends_with("platform.yaml") {
            continue;
        }
        let Ok(v) = serde_yaml::from_slice::<Json>(&bytes) else {
            continue;
        };
        for s in v["spec"]["secrets"].as_array().into_iter().flatten() {
            if let (Some(e), Some(r)) = (s["env"].as_str(), s["ref"].as_str()) {
                out.push((e.to_string(), r.to_string()));
            }
        }
    }
    out
}

/// Scans one rendered tree; returns what it found wrong.
fn leaks(rendered: &Path, secrets: &[(String, String)]) -> Vec<String> {
    let mut found = Vec::new();
    let secret_envs: BTreeSet<&str> = secrets
        .iter()
        .map(|(e, _)| e.as_str())
        .filter(|e| !e.is_empty())
        .collect();
    for (file, doc) in documents(rendered) {
        let kind = doc["kind"].as_str().unwrap_or("");
        if kind == "Secret" && (doc.get("data").is_some() || doc.get("stringData").is_some()) {
            found.push(format!("{file}: a Secret with values"));
        }
        let mut nodes = Vec::new();
        walk(&doc, String::new(), &mut nodes);
        for (at, v) in &nodes {
            match v {
                Json::String(s) => {
                    if let Some(what) = looks_like_a_secret(s) {
                        found.push(format!("{file}{at}: {what}"));
                    }
                    // A ref names where a secret lives; only an ExternalSecret
                    // may hold it, never a value a container reads.
                    for (_, r) in secrets {
                        if s.contains(r.as_str()) {
                            found.push(format!("{file}{at}: the secret ref `{r}` as a value"));
                        }
                    }
                }
                Json::Object(m) if m.contains_key("name") && at.contains(".env[") => {
                    let name = m["name"].as_str().unwrap_or("");
                    let literal = m
                        .get("value")
                        .is_some_and(|x| !x.as_str().unwrap_or("x").is_empty());
                    if literal && (is_secret_name(name) || secret_envs.contains(name)) {
                        found.push(format!("{file}{at}: `{name}` has a literal value"));
                    }
                    if secret_envs.contains(name) && m.get("valueFrom").is_none() {
                        found.push(format!("{file}{at}: `{name}` is not read from a Secret"));
                    }
                }
                _ => {}
            }
        }
        if kind == "ExternalSecret" {
            for item in doc["spec"]["data"].as_array().into_iter().flatten() {
                let r = &item["remoteRef"];
                let (Some(key), Some(prop)) = (r["key"].as_str(), r["property"].as_str()) else {
                    found.push(format!(
                        "{file}: an ExternalSecret item without remoteRef key/property"
                    ));
                    continue;
                };
                if !secrets.iter().any(|(_, s)| s == &format!("{key}#{prop}")) {
                    found.push(format!(
                        "{file}: ExternalSecret reads `{key}#{prop}`, which no spec asked for"
                    ));
                }
            }
        }
    }
    found
}

#[test]
fn no_fixture_renders_a_secret_value() {
    let mut checked_secrets = 0;
    for case in golden_cases() {
        let input = case.join("input");
        let out = render(&input);
        let secrets = spec_secrets(&input);
        checked_secrets += secrets.len();
        let found = leaks(out.path(), &secrets);
        assert!(
            found.is_empty(),
            "{}:\n  {}",
            case.display(),
            found.join("\n  ")
        );
    }
    println!("checked {checked_secrets} secrets across the golden fixtures");
}

#[test]
fn secrets_and_credential_placeholders_stay_references() {
    // Independent of the goldens: a spec with every way a credential can be
    // named, which must all come out as references.
    let sandbox = tempfile::tempdir().unwrap();
    let extra = "  env:
    LOG_LEVEL: info
    DB_PASSWORD: ${resources.db.password}
    DATABASE_URL: ${resources.db.url}
    CACHE_PASSWORD: ${resources.cache.password}
    BUCKET_SECRET_KEY: ${resources.files.secretAccessKey}
  secrets:
    - {env: STRIPE_API_KEY, ref: \"payments/stripe#api-key\"}
    - {env: GITHUB_TOKEN, ref: \"ci/github#token\"}
    - {env: SIGNING_PRIVATE_KEY, ref: \"shared/signing#private-key\"}
  resources:
    db: {type: postgresql}
    cache: {type: redis}
    files: {type: bucket}
";
    write_files(
        sandbox.path(),
        &[
            ("paved.yaml", PLATFORM),
            ("orders/platform.yaml", &spec("orders", extra)),
        ],
    );
    let out = render(sandbox.path());
    let secrets = spec_secrets(sandbox.path());
    assert_eq!(secrets.len(), 3);
    let found = leaks(out.path(), &secrets);
    assert!(found.is_empty(), "{}", found.join("\n"));
    // And the references are really there.
    let docs = documents(out.path());
    let env_names: BTreeSet<String> = docs
        .iter()
        .flat_map(|(_, d)| {
            let mut n = Vec::new();
            walk(d, String::new(), &mut n);
            n.into_iter()
                .filter(|(at, v)| at.contains(".env[") && v.get("valueFrom").is_some())
                .filter_map(|(_, v)| v["name"].as_str().map(str::to_string))
                .collect::<Vec<_>>()
        })
        .collect();
    for e in [
        "DB_PASSWORD",
        "CACHE_PASSWORD",
        "BUCKET_SECRET_KEY",
        "STRIPE_API_KEY",
        "GITHUB_TOKEN",
        "SIGNING_PRIVATE_KEY",
    ] {
        assert!(
            env_names.contains(e),
            "{e} is not read from a Secret: {env_names:?}"
        );
    }
}

#[test]
fn the_leak_scanner_finds_leaks() {
    // The scanner must not pass by accident.
    for (s, hit) in [
        ("-----BEGIN RSA PRIVATE KEY-----", true),
        ("AKIAABCDEFGHIJKLMNOP", true),
        ("sk_live_abcdef123456", true),
        ("postgres://app:hunter2@db:5432/app", true),
        ("https://wiki.example.com/orders", false),
        ("user@example.com", false),
    ] {
        assert_eq!(looks_like_a_secret(s).is_some(), hit, "{s}");
    }
    let dir = tempfile::tempdir().unwrap();
    write_files(
        dir.path(),
        &[(
            "x.yaml",
            "# Generated by paved\napiVersion: apps/v1\nkind: Deployment\nmetadata: {name: x}\nspec:\n  template:\n    spec:\n      containers:\n        - name: x\n          env:\n            - {name: DB_PASSWORD, value: hunter2}\n",
        )],
    );
    assert!(!leaks(dir.path(), &[]).is_empty());
}

#[test]
fn a_dense_dependency_mesh_is_checked_quickly() {
    // Every service calling every other: millions of distinct cycles. Listing
    // them took minutes for 40 services; groups are found in linear time.
    let sandbox = tempfile::tempdir().unwrap();
    let names: Vec<String> = (0..120).map(|i| format!("mesh-{i:03}")).collect();
    std::fs::write(sandbox.path().join("paved.yaml"), PLATFORM).unwrap();
    for n in &names {
        let deps: Vec<String> = names
            .iter()
            .filter(|m| *m != n)
            .map(|m| format!("component:{m}"))
            .collect();
        let extra = format!("  dependsOn: [{}]\n", deps.join(", "));
        write_files(
            sandbox.path(),
            &[(&format!("{n}/platform.yaml"), &spec(n, &extra))],
        );
    }
    let mut cmd = paved();
    cmd.current_dir(sandbox.path())
        .args(["validate", ".", "--format", "json"]);
    let (o, took) = run_bounded(cmd, Duration::from_secs(120));
    assert!(took < Duration::from_secs(10), "took {took:?}");
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let diags = json_diags(&o);
    assert_eq!(
        diags.len(),
        1,
        "one warning for the whole group: {diags:#?}"
    );
    assert!(diags[0]["message"]
        .as_str()
        .unwrap()
        .contains("120 services all reach each other"));
}

// ---------------------------------------------------------------------------
// Dependency cycles: a warning, and the render goes on
// ---------------------------------------------------------------------------

#[test]
fn a_dependency_cycle_is_a_warning_and_renders_both_ways() {
    let sandbox = tempfile::tempdir().unwrap();
    write_files(
        sandbox.path(),
        &[
            ("paved.yaml", PLATFORM),
            (
                "orders/platform.yaml",
                &spec("orders", "  dependsOn: [component:payments]\n"),
            ),
            (
                "payments/platform.yaml",
                &spec("payments", "  dependsOn: [component:orders]\n"),
            ),
        ],
    );
    let o = run(
        sandbox.path(),
        &["render", "--out", "out", "--format", "json"],
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let diags = json_diags(&o);
    assert_eq!(diags.len(), 1, "{diags:?}");
    assert_eq!(diags[0]["code"], "paved::semantic::dependency-cycle");
    assert_eq!(diags[0]["severity"], "warning");
    // Both services render, and each one's network policies name the other
    // (traffic is allowed both ways).
    let tree = read_tree(&sandbox.path().join("out"));
    for (from, to) in [("orders", "payments"), ("payments", "orders")] {
        let mentions = tree.iter().any(|(p, b)| {
            p.starts_with(&format!("staging/{from}/networkpolicy"))
                && String::from_utf8_lossy(b).contains(to)
        });
        assert!(mentions, "no network policy of {from} names {to}");
    }
}

// ---------------------------------------------------------------------------
// 7. Memory stays bounded, whatever the input
// ---------------------------------------------------------------------------

/// The address space a run may use in these tests: a bit above the bounds of
/// SECURITY.md. A normal run needs less than 64 MiB; a file expands to at
/// most 4 MiB of text; a render creates at most 96 MB of data, and building
/// a string copies it once. Most inputs below took gigabytes before those
/// bounds held.
const MEMORY_LIMIT: u64 = 512 * 1024 * 1024;

/// Runs `paved ARGS` in `dir` with its address space limited to `limit`
/// bytes (`ulimit -v`), so a run that would take more memory fails to
/// allocate (an abort) instead of filling the machine. Two render threads,
/// whatever the machine, as each thread has its own allocator arena.
fn run_limited(dir: &Path, args: &[&str], limit: u64) -> Output {
    let mut cmd = Command::new("sh");
    cmd.arg("-c")
        .arg("ulimit -v \"$1\" && shift && exec \"$@\"")
        .arg("sh")
        .arg((limit / 1024).to_string())
        .arg(env!("CARGO_BIN_EXE_paved"))
        .args(args)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .env("RAYON_NUM_THREADS", "2")
        .env_remove("PAVED_BLESS");
    let (o, _) = run_bounded(cmd, Duration::from_secs(120));
    o
}

/// Checks a run under the memory limit ended cleanly: exit 1, no crash.
fn assert_clean_failure(o: &Output, what: &str) {
    let err = stderr(o);
    assert!(
        !err.contains("panicked") && !err.contains("memory allocation"),
        "{what}: crashed:\n{}",
        &err[..err.len().min(2000)]
    );
    assert_eq!(
        o.status.code(),
        Some(1),
        "{what}: expected exit 1 with a diagnostic, got {:?}:\n{}",
        o.status,
        &err[..err.len().min(2000)]
    );
}

#[test]
fn a_normal_run_fits_in_the_memory_limit_of_these_tests() {
    let sandbox = tempfile::tempdir().unwrap();
    write_files(
        sandbox.path(),
        &[
            ("paved.yaml", PLATFORM),
            ("orders/platform.yaml", &spec("orders", "")),
        ],
    );
    let o = run_limited(
        sandbox.path(),
        &["render", "--out", "out", "--quiet"],
        MEMORY_LIMIT / 8,
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
}

#[test]
fn a_long_string_aliased_many_times_is_a_diagnostic_not_an_abort() {
    // An 840 KB spec: a 300 KB string, then 135 000 aliases of it (40 GB
    // once expanded). Other files are still checked and reported.
    let sandbox = tempfile::tempdir().unwrap();
    let long = "x".repeat(300_000);
    let aliases = vec!["*a"; 135_000].join(", ");
    let bomb = spec("orders", &format!("  tags: [{aliases}]\n")).replace(
        "  costCenter: cc-1\n",
        &format!("  costCenter: cc-1\n  description: &a \"{long}\"\n"),
    );
    assert!(bomb.len() > 800_000);
    let broken = spec("payments", "").replace("  owner: team-orders\n", "");
    write_files(
        sandbox.path(),
        &[
            ("paved.yaml", PLATFORM),
            ("orders/platform.yaml", &bomb),
            ("payments/platform.yaml", &broken),
        ],
    );
    let o = run_limited(
        sandbox.path(),
        &["validate", ".", "--format", "json"],
        MEMORY_LIMIT,
    );
    assert_clean_failure(&o, "aliased long string");
    let diags = json_diags(&o);
    let bomb_line = bomb.lines().position(|l| l.starts_with("  tags:")).unwrap() + 1;
    let too_large: Vec<&Json> = diags
        .iter()
        .filter(|d| d["code"] == "paved::yaml::too-large")
        .collect();
    assert_eq!(too_large.len(), 1, "{diags:#?}");
    let d = too_large[0];
    assert_eq!(d["file"], "orders/platform.yaml");
    assert_eq!(d["line"], bomb_line as u64, "{d:#?}");
    assert!(
        d["message"].as_str().unwrap().contains("MiB"),
        "the message names the limit: {d:#?}"
    );
    assert!(
        d["help"].as_str().unwrap().contains("alias"),
        "the help says what to do: {d:#?}"
    );
    assert!(
        diags.iter().any(|d| d["file"] == "payments/platform.yaml"),
        "the other file was not reported: {diags:#?}"
    );
}

#[test]
fn blueprint_filters_and_functions_stay_within_the_memory_bound() {
    // Each line is one hostile use of a filter, a function or an operator:
    // every one must end in a diagnostic located in the blueprint, never in
    // an abort, and within the memory limit.
    let cases = [
        (
            "pretty_json of deep nesting",
            r#"{{ ('[' * 100000 ~ ']' * 100000) | pretty_json }}"#,
        ),
        (
            "split of a long string",
            r#"{{ ('x,' * 40000000) | split(',') | length }}"#,
        ),
        (
            "join of a repeated list",
            r#"{{ (['x'] * 10000000) | join('yyyyyyyyyy') | length }}"#,
        ),
        (
            "list of a long string",
            r#"{{ ('x' * 50000000) | list | length }}"#,
        ),
        (
            "replace that grows",
            r#"{{ ('x' * 10000000) | replace('x', 'yyyyyyyyyy') | length }}"#,
        ),
        (
            "string multiplication",
            r#"{{ ('x' * 100000000) | length }}"#,
        ),
        (
            "~ doubling in a loop",
            r#"{% set ns = namespace(s='x' * 1000000) %}{% for i in range(100) %}{% set ns.s = ns.s ~ ns.s %}{% endfor %}{{ ns.s | length }}"#,
        ),
        (
            "tojson of a repeated list",
            r#"{{ (['xxxxxxxxxx'] * 100000000) | tojson | length }}"#,
        ),
        (
            "indent of many lines",
            r#"{{ ('\n' * 10000000) | indent(100) | length }}"#,
        ),
        (
            "format of long strings",
            r#"{{ '%s%s%s' | format('x' * 30000000, 'x' * 30000000, 'x' * 30000000) | length }}"#,
        ),
        (
            "printing a repeated range",
            r#"{{ (range(100000) | list) * 1000 }}"#,
        ),
        (
            "printing a repeated list",
            r#"{{ ['xxxxxxxxxx'] * 100000000 }}"#,
        ),
        (
            "string of a repeated list",
            r#"{{ (['x'] * 100000000) | string | length }}"#,
        ),
        (
            "sum of strings",
            r#"{{ (['x' * 1000000] * 1000) | sum(start='') | length }}"#,
        ),
        (
            "batch with a fill",
            r#"{{ [1] | batch(100000000, 0) | list | length }}"#,
        ),
        (
            "upper of a long string",
            r#"{{ ('ß' * 20000000) | upper | length }}"#,
        ),
        (
            "safe of a repeated list",
            r#"{{ (['x'] * 100000000) | safe | length }}"#,
        ),
        (
            "lines of a long string",
            r#"{{ ('\n' * 50000000) | lines | length }}"#,
        ),
        (
            "pprint of a repeated list",
            r#"{{ (['x'] * 100000000) | pprint | length }}"#,
        ),
        (
            "fit of a repeated list",
            r#"{{ (['x'] * 100000000) | fit(10) }}"#,
        ),
        ("debug() of the context", r#"{{ debug() }}"#),
    ];
    let cfg = format!("{PLATFORM}  blueprints: ./blueprints\n");
    let mut failures = Vec::new();
    for (what, expr) in cases {
        let sandbox = tempfile::tempdir().unwrap();
        let bp = format!(
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n  namespace: {{{{ service.namespace }}}}\ndata:\n  b: \"{expr}\"\n"
        );
        write_files(
            sandbox.path(),
            &[
                ("paved.yaml", &cfg),
                ("orders/platform.yaml", &spec("orders", "")),
                ("blueprints/service/extra.yaml", &bp),
            ],
        );
        let o = run_limited(
            sandbox.path(),
            &["render", "--out", "out", "--format", "json"],
            MEMORY_LIMIT,
        );
        let err = stderr(&o);
        if o.status.code() != Some(1) || err.contains("panicked") {
            failures.push(format!(
                "{what}: exit {:?}, expected 1 with a diagnostic: {}",
                o.status,
                &err[..err.len().min(300)]
            ));
            continue;
        }
        let diags = json_diags(&o);
        let located = diags.iter().any(|d| {
            d["file"] == "blueprints/service/extra.yaml"
                && d["code"]
                    .as_str()
                    .unwrap_or("")
                    .starts_with("paved::blueprint::")
                && (d["line"] == 7 || d["code"] == "paved::blueprint::too-large")
        });
        if !located {
            failures.push(format!(
                "{what}: no diagnostic at the blueprint line: {diags:#?}"
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
