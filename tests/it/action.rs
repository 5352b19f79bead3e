//! The GitHub Action's shell steps (`action/*.sh`, run by `action.yml`),
//! driven with stand-ins for `gh`, `curl` and `cargo` on PATH: which comment is
//! edited, what an API failure does, what each exit status is reported as, and
//! how paved is installed.

use std::os::unix::fs::PermissionsExt;
use std::path::PathBuf;
use std::process::{Command, Output};

use crate::support::fixtures::root;

/// A stand-in `gh`: logs its arguments, one call a line, to `$FAKE_LOG`;
/// `gh api user` prints `$FAKE_USER` (fails when empty); the comment listing
/// prints `$FAKE_IDS` (fails when it is `FAIL`); a POST or PATCH fails when
/// `$FAKE_WRITE_FAIL` is set.
const FAKE_GH: &str = r#"#!/usr/bin/env bash
printf '%s\n' "$*" >>"$FAKE_LOG"
case "$*" in
  "api user "*) [[ -n $FAKE_USER ]] && echo "$FAKE_USER" && exit 0; echo "HTTP 403" >&2; exit 1 ;;
  *"--method"*) [[ -n $FAKE_WRITE_FAIL ]] && { echo "HTTP 403" >&2; exit 1; }; exit 0 ;;
  *"/comments --paginate"*) [[ $FAKE_IDS == FAIL ]] && { echo "HTTP 502" >&2; exit 1; }; printf '%s' "$FAKE_IDS"; exit 0 ;;
esac
exit 3
"#;

struct Sandbox {
    _dir: tempfile::TempDir,
    bin: PathBuf,
    log: PathBuf,
    temp: PathBuf,
}

impl Sandbox {
    fn new() -> Sandbox {
        let dir = tempfile::tempdir().unwrap();
        let bin = dir.path().join("bin");
        let temp = dir.path().join("runner-temp");
        std::fs::create_dir_all(&bin).unwrap();
        std::fs::create_dir_all(&temp).unwrap();
        let log = dir.path().join("calls.log");
        std::fs::write(&log, "").unwrap();
        let sb = Sandbox {
            bin,
            log,
            temp,
            _dir: dir,
        };
        sb.tool("gh", FAKE_GH);
        sb
    }

    fn tool(&self, name: &str, script: &str) {
        let p = self.bin.join(name);
        std::fs::write(&p, script).unwrap();
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).unwrap();
    }

    /// Runs `action/<script>` with only the sandbox's tools and the basic
    /// system folders on PATH.
    fn run(&self, script: &str, args: &[&str], env: &[(&str, &str)]) -> Output {
        let mut c = Command::new("bash");
        c.arg(root().join("action").join(script))
            .args(args)
            .env_clear()
            .env("PATH", format!("{}:/usr/bin:/bin", self.bin.display()))
            .env("FAKE_LOG", &self.log)
            .env("RUNNER_TEMP", &self.temp)
            .env("GITHUB_OUTPUT", self.temp.join("output"))
            .env("GITHUB_PATH", self.temp.join("path"))
            .env("REPO", "acme/deploy")
            .env("PR", "7");
        for (k, v) in env {
            c.env(k, v);
        }
        c.output().unwrap()
    }

    fn calls(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap()
    }

    fn output(&self) -> String {
        std::fs::read_to_string(self.temp.join("output")).unwrap_or_default()
    }
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

fn report(sb: &Sandbox) -> PathBuf {
    let p = sb.temp.join("paved-diff.md");
    std::fs::write(&p, "<!-- paved-diff -->\nreport\n").unwrap();
    p
}

#[test]
fn the_comment_edited_is_the_tokens_own_and_never_someone_elses() {
    // The Actions token cannot read /user: its comments are github-actions[bot]'s.
    let sb = Sandbox::new();
    let body = report(&sb);
    let o = sb.run(
        "comment.sh",
        &[body.to_str().unwrap()],
        &[("FAKE_USER", ""), ("FAKE_IDS", "42\n")],
    );
    assert!(o.status.success(), "{}", text(&o));
    let calls = sb.calls();
    let listing = calls
        .lines()
        .find(|l| l.contains("/comments --paginate"))
        .unwrap_or_else(|| panic!("no listing: {calls}"));
    assert!(
        listing.contains(r#"select(.user.login == "github-actions[bot]" and (.body | startswith("<!-- paved-diff -->")))"#),
        "the lookup does not keep to the token's own comments: {listing}"
    );
    assert!(
        calls.contains("--method PATCH repos/acme/deploy/issues/comments/42"),
        "{calls}"
    );

    // A personal token: its own login.
    let sb = Sandbox::new();
    let o = sb.run(
        "comment.sh",
        &[report(&sb).to_str().unwrap()],
        &[("FAKE_USER", "release-bot"), ("FAKE_IDS", "")],
    );
    assert!(o.status.success(), "{}", text(&o));
    let calls = sb.calls();
    assert!(calls.contains(r#".user.login == "release-bot""#), "{calls}");
    assert!(
        calls.contains("--method POST repos/acme/deploy/issues/7/comments"),
        "no comment of its own: a new one is posted\n{calls}"
    );
}

#[test]
fn a_github_api_failure_is_a_warning_not_a_failed_job() {
    for (ids, write_fail, what) in [
        ("FAIL", "", "could not list"),
        ("42\n", "1", "could not update"),
        ("", "1", "could not post"),
    ] {
        let sb = Sandbox::new();
        let o = sb.run(
            "comment.sh",
            &[report(&sb).to_str().unwrap()],
            &[
                ("FAKE_USER", ""),
                ("FAKE_IDS", ids),
                ("FAKE_WRITE_FAIL", write_fail),
            ],
        );
        let t = text(&o);
        assert!(o.status.success(), "{what}: the job fails\n{t}");
        assert!(t.contains("::warning::paved: ") && t.contains(what), "{t}");
        if ids == "FAIL" {
            assert!(
                !sb.calls().contains("--method"),
                "wrote after a failed lookup"
            );
        }
    }
}

#[test]
fn each_exit_status_is_reported_as_what_it_is() {
    let sb = Sandbox::new();
    for (validate, check, ok, says) in [
        ("0", "0", true, "specs valid, rendered output up to date"),
        ("0", "", true, "specs valid"),
        ("1", "", false, "found errors in the specs"),
        ("2", "", false, "a usage error"),
        ("0", "1", false, "out of date"),
        ("0", "2", false, "paved check could not run"),
        ("101", "", false, "stopped unexpectedly"),
    ] {
        let o = sb.run(
            "result.sh",
            &[],
            &[("VALIDATE", validate), ("CHECK", check)],
        );
        let t = text(&o);
        assert_eq!(
            o.status.success(),
            ok,
            "validate {validate}, check {check}: {t}"
        );
        assert!(t.contains(says), "validate {validate}, check {check}: {t}");
    }
    // A usage error is never called "found errors".
    let o = sb.run("result.sh", &[], &[("VALIDATE", "2")]);
    assert!(!text(&o).contains("found errors"), "{}", text(&o));
}

fn install(sb: &Sandbox, env: &[(&str, &str)]) -> (Output, String) {
    let o = sb.run("install.sh", &[], env);
    let out = sb.output();
    (o, out)
}

#[test]
fn install_uses_paved_on_path_then_a_release_binary_then_says_it_builds() {
    let runner = [("RUNNER_OS", "Linux"), ("RUNNER_ARCH", "X64")];

    // On PATH already: nothing to do.
    let sb = Sandbox::new();
    sb.tool("paved", "#!/bin/sh\necho 'paved 9.9.9'\n");
    let (o, out) = install(&sb, &runner);
    assert!(o.status.success(), "{}", text(&o));
    assert!(
        text(&o).contains("using ") && out.contains("build=false"),
        "{}{out}",
        text(&o)
    );

    // A release tag: the binary of that release for the runner.
    let sb = Sandbox::new();
    let tarball = make_tarball(&sb);
    sb.tool(
        "curl",
        &format!(
            "#!/usr/bin/env bash\nprintf '%s\\n' \"$*\" >>\"$FAKE_LOG\"\nwhile [[ $# -gt 0 ]]; do [[ $1 == -o ]] && cp {} \"$2\"; shift; done\n",
            tarball.display()
        ),
    );
    let mut env = runner.to_vec();
    env.extend([
        ("PAVED_ACTION_REF", "v1.2.0"),
        ("PAVED_ACTION_REPOSITORY", "acme/paved"),
    ]);
    let (o, out) = install(&sb, &env);
    assert!(o.status.success(), "{}", text(&o));
    assert!(out.contains("build=false"), "{}{out}", text(&o));
    assert!(
        sb.calls().contains("https://github.com/acme/paved/releases/download/v1.2.0/paved-x86_64-unknown-linux-gnu.tar.gz"),
        "{}",
        sb.calls()
    );
    assert!(sb.temp.join("paved/bin/paved").is_file());

    // No release for the ref (a branch), or the download fails: build, and say so.
    for (reference, curl) in [
        ("main", "#!/bin/sh\nexit 0\n"),
        ("v1.2.0", "#!/bin/sh\nexit 22\n"),
    ] {
        let sb = Sandbox::new();
        sb.tool("curl", curl);
        let mut env = runner.to_vec();
        env.extend([
            ("PAVED_ACTION_REF", reference),
            ("PAVED_ACTION_REPOSITORY", "acme/paved"),
        ]);
        let (o, out) = install(&sb, &env);
        assert!(o.status.success(), "{}", text(&o));
        assert!(out.contains("build=true"), "{reference}: {}{out}", text(&o));
        assert!(text(&o).contains("building from source"), "{}", text(&o));
    }
}

fn make_tarball(sb: &Sandbox) -> PathBuf {
    let src = sb.temp.join("release");
    std::fs::create_dir_all(&src).unwrap();
    std::fs::write(src.join("paved"), "#!/bin/sh\necho 'paved 1.2.0'\n").unwrap();
    let tar = sb.temp.join("release.tar.gz");
    let ok = Command::new("tar")
        .args(["-czf"])
        .arg(&tar)
        .arg("-C")
        .arg(&src)
        .arg("paved")
        .status()
        .unwrap()
        .success();
    assert!(ok);
    tar
}

/// The targets install.sh knows, from its `case` (one `X) target=T ;;` a line).
fn install_targets() -> std::collections::BTreeSet<String> {
    let text = std::fs::read_to_string(root().join("action/install.sh")).unwrap();
    text.lines()
        .filter_map(|l| l.split_once(") target=")?.1.split_whitespace().next())
        .filter(|t| *t != "\"\"")
        .map(str::to_string)
        .collect()
}

#[test]
fn the_release_workflow_publishes_what_install_downloads() {
    let text = std::fs::read_to_string(root().join(".github/workflows/release.yml"))
        .expect("a release workflow publishes the binaries install.sh looks for");
    let wf: serde_yaml::Value = serde_yaml::from_str(&text).unwrap();
    // Tags shaped like the refs install.sh takes for releases (`v` + digit).
    let tags = &wf["on"]["push"]["tags"];
    assert_eq!(tags[0].as_str(), Some("v[0-9]*"), "{tags:?}");
    let job = &wf["jobs"]["binaries"];
    let built: std::collections::BTreeSet<String> = job["strategy"]["matrix"]["include"]
        .as_sequence()
        .unwrap()
        .iter()
        .map(|e| e["target"].as_str().unwrap().to_string())
        .collect();
    let wanted = install_targets();
    assert!(wanted.len() >= 4, "{wanted:?}");
    assert_eq!(
        built, wanted,
        "every runner install.sh knows gets a binary, and only those"
    );
    let steps = serde_yaml::to_string(&job["steps"]).unwrap();
    assert!(
        steps.contains("cargo build --release --locked --target"),
        "{steps}"
    );
    assert!(
        steps.contains("action/package.sh \"${{ matrix.target }}\""),
        "{steps}"
    );
    assert!(steps.contains("gh release upload"), "{steps}");
}

#[test]
fn a_packaged_binary_is_what_install_unpacks_and_runs() {
    let sb = Sandbox::new();
    let dist = sb.temp.join("dist");
    let o = sb.run(
        "package.sh",
        &[
            "x86_64-unknown-linux-gnu",
            env!("CARGO_BIN_EXE_paved"),
            dist.to_str().unwrap(),
        ],
        &[],
    );
    assert!(o.status.success(), "{}", text(&o));
    let archive = dist.join("paved-x86_64-unknown-linux-gnu.tar.gz");
    let sum =
        std::fs::read_to_string(dist.join("paved-x86_64-unknown-linux-gnu.tar.gz.sha256")).unwrap();
    assert!(
        sum.ends_with(" paved-x86_64-unknown-linux-gnu.tar.gz\n"),
        "{sum}"
    );
    // Packing again gives the same bytes.
    let first = std::fs::read(&archive).unwrap();
    let o = sb.run(
        "package.sh",
        &[
            "x86_64-unknown-linux-gnu",
            env!("CARGO_BIN_EXE_paved"),
            dist.to_str().unwrap(),
        ],
        &[],
    );
    assert!(o.status.success(), "{}", text(&o));
    assert_eq!(first, std::fs::read(&archive).unwrap());

    // install.sh downloads it (curl stands in) and the binary runs.
    sb.tool(
        "curl",
        &format!(
            "#!/usr/bin/env bash\nwhile [[ $# -gt 0 ]]; do [[ $1 == -o ]] && cp {} \"$2\"; shift; done\n",
            archive.display()
        ),
    );
    let (o, out) = install(
        &sb,
        &[
            ("RUNNER_OS", "Linux"),
            ("RUNNER_ARCH", "X64"),
            ("PAVED_ACTION_REF", "v0.1.0"),
            ("PAVED_ACTION_REPOSITORY", "acme/paved"),
        ],
    );
    assert!(
        o.status.success() && out.contains("build=false"),
        "{}{out}",
        text(&o)
    );
    let installed = Command::new(sb.temp.join("paved/bin/paved"))
        .arg("--version")
        .output()
        .unwrap();
    assert!(
        String::from_utf8_lossy(&installed.stdout).starts_with("paved "),
        "{}",
        text(&installed)
    );

    // A missing binary is refused, not packed empty.
    let o = sb.run(
        "package.sh",
        &[
            "x86_64-unknown-linux-gnu",
            "/nonexistent/paved",
            dist.to_str().unwrap(),
        ],
        &[],
    );
    assert!(!o.status.success());
}

/// A stand-in `paved`: logs its arguments; `diff` prints `$FAKE_REPORT` (the
/// markdown or text report), says `$FAKE_GATE` on stderr as paved does, and
/// exits `$FAKE_STATUS`.
const FAKE_PAVED: &str = r#"#!/usr/bin/env bash
printf 'paved %s\n' "$*" >>"$FAKE_LOG"
case "$*" in
  *"--format text"*) echo "full text report" ;;
  *) printf '%s' "$FAKE_REPORT" ;;
esac
[[ -n $FAKE_GATE ]] && echo "paved diff: risk gate: $FAKE_GATE" >&2
exit "${FAKE_STATUS:-0}"
"#;

fn diff_step(sb: &Sandbox, env: &[(&str, &str)]) -> (Output, String) {
    sb.tool("paved", FAKE_PAVED);
    let _ = std::fs::remove_file(sb.temp.join("output"));
    let mut all = vec![
        ("PAVED_BASE", "origin/main"),
        ("PAVED_PATHS", "."),
        ("GITHUB_STEP_SUMMARY", "/dev/null"),
    ];
    all.extend_from_slice(env);
    let o = sb.run("diff.sh", &[], &all);
    let out = sb.output();
    (o, out)
}

#[test]
fn the_diff_step_gates_on_risks_not_on_changes() {
    let sb = Sandbox::new();
    let changed = "<!-- paved-diff -->\n### Paved: changes to rendered resources\n\n1 changed, 0 added, 0 removed; 3 unchanged.\n";
    let unchanged = "<!-- paved-diff -->\n### Paved: changes to rendered resources\n\nNo changes: 3 unchanged.\n";
    // A change without a gated risk: exit 0, changed, no gate.
    let (o, out) = diff_step(&sb, &[("FAKE_REPORT", changed), ("FAKE_STATUS", "0")]);
    assert!(o.status.success(), "{}", text(&o));
    assert!(
        out.contains("changed=true\n") && out.contains("report=true\n"),
        "{out}"
    );
    assert!(!out.contains("gate="), "{out}");
    // `--exit-code` is not passed (exit 1 would mean "changed"), so exit 1 is the gate.
    assert!(!sb.calls().contains("--exit-code"), "{}", sb.calls());
    // No change at all.
    let (_, out) = diff_step(&sb, &[("FAKE_REPORT", unchanged), ("FAKE_STATUS", "0")]);
    assert!(out.contains("changed=false\n"), "{out}");
    // A gated risk: exit 1 with a report; the categories are passed on.
    let (o, out) = diff_step(
        &sb,
        &[
            ("FAKE_REPORT", changed),
            ("FAKE_STATUS", "1"),
            ("FAKE_GATE", "data-loss, security"),
            ("PAVED_FAIL_ON", "data-loss,security"),
        ],
    );
    assert!(o.status.success(), "{}", text(&o));
    assert!(out.contains("gate=data-loss, security\n"), "{out}");
    assert!(out.contains("changed=true\n"), "{out}");
    assert!(
        sb.calls().contains("--fail-on data-loss,security"),
        "{}",
        sb.calls()
    );
    // Exit 1 with no report: the base did not compile; a warning, no gate.
    let (o, out) = diff_step(&sb, &[("FAKE_REPORT", ""), ("FAKE_STATUS", "1")]);
    assert!(o.status.success(), "{}", text(&o));
    assert!(text(&o).contains("::warning::"), "{}", text(&o));
    assert!(!out.contains("gate="), "{out}");
}

#[test]
fn a_folded_comment_has_the_full_report_in_the_job_log() {
    let sb = Sandbox::new();
    let folded = "<!-- paved-diff -->\n> [!NOTE]\n> Cut to stay under GitHub's comment size limit: 3 more groups not shown (3 of 9 resources); run `paved diff --format text` locally or see the job log.\n";
    let (o, _) = diff_step(&sb, &[("FAKE_REPORT", folded)]);
    let t = text(&o);
    assert!(t.contains("full text report"), "{t}");
    // Names in it cannot issue workflow commands.
    assert!(t.contains("::stop-commands::"), "{t}");
    let (o, _) = diff_step(&sb, &[("FAKE_REPORT", "<!-- paved-diff -->\n1 changed\n")]);
    assert!(!text(&o).contains("full text report"), "{}", text(&o));
}

#[test]
fn a_risk_gate_fails_the_job_and_names_the_categories() {
    let sb = Sandbox::new();
    let o = sb.run(
        "result.sh",
        &[],
        &[
            ("VALIDATE", "0"),
            ("CHECK", "0"),
            ("GATE", "data-loss, security"),
        ],
    );
    assert!(!o.status.success(), "{}", text(&o));
    assert!(
        text(&o).contains("::error::risk gate: data-loss, security"),
        "{}",
        text(&o)
    );
}

#[test]
fn the_action_passes_fail_on_and_the_gate() {
    let yml = std::fs::read_to_string(root().join("action.yml")).unwrap();
    assert!(yml.contains("\n  fail-on:\n"), "an input `fail-on`");
    assert!(yml.contains("PAVED_FAIL_ON: ${{ inputs.fail-on }}"));
    assert!(yml.contains("GATE: ${{ steps.diff.outputs.gate }}"));
    assert!(!yml.contains("--exit-code"));
}
