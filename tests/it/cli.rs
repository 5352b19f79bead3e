//! The command line as users meet it: every command and output format, exit
//! codes (0 success, 1 findings, 2 usage or I/O), stdout/stderr discipline,
//! NO_COLOR, and the workflows of issue 5 (check, diff, init, explain,
//! schema, graph, completions).

use std::path::{Path, PathBuf};
use std::process::Output;

use crate::support::fixtures::{git, paved, read_tree, root};

const ORDERS: &str = "apiVersion: paved.dev/v1
kind: Application
metadata:
  name: orders
  owner: team-orders
  costCenter: cc-1234
spec:
  image: ghcr.io/acme/orders:1.4.2
  ports:
    - {name: http, port: 8080}
  env:
    LOG_LEVEL: info
  dependsOn: [component:inventory]
  resources:
    orders-db: {type: postgresql, version: \"16\", storageGB: 20}
";

const INVENTORY: &str = "apiVersion: paved.dev/v1
kind: Application
metadata:
  name: inventory
  owner: team-stock
  costCenter: cc-1234
spec:
  image: ghcr.io/acme/inventory:2.0.1
  ports:
    - {name: http, port: 8080}
";

/// A folder with two services (`orders` depends on `inventory`).
fn project() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    // Bounds the search for paved.yaml at the project, as a repository's `.git` does.
    std::fs::create_dir(dir.path().join(".git")).unwrap();
    write(dir.path(), "services/orders/platform.yaml", ORDERS);
    write(dir.path(), "services/inventory/platform.yaml", INVENTORY);
    dir
}

fn write(dir: &Path, rel: &str, text: &str) {
    let p = dir.join(rel);
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(p, text).unwrap();
}

fn run(cwd: &Path, args: &[&str]) -> Output {
    paved().current_dir(cwd).args(args).output().unwrap()
}

fn code(o: &Output) -> i32 {
    o.status.code().expect("exited normally")
}

fn stdout(o: &Output) -> String {
    String::from_utf8(o.stdout.clone()).unwrap()
}

fn stderr(o: &Output) -> String {
    String::from_utf8(o.stderr.clone()).unwrap()
}

#[track_caller]
fn expect(o: &Output, want: i32) {
    assert_eq!(
        code(o),
        want,
        "stdout:\n{}\nstderr:\n{}",
        stdout(o),
        stderr(o)
    );
}

fn quickstart() -> PathBuf {
    root().join("fixtures/quickstart/input")
}

// ----------------------------------------------------------------- basics

#[test]
fn help_and_version_exit_0_and_usage_errors_exit_2() {
    let o = paved().arg("--help").output().unwrap();
    expect(&o, 0);
    for cmd in [
        "render",
        "validate",
        "check",
        "diff",
        "init",
        "explain",
        "schema",
        "graph",
        "completions",
    ] {
        assert!(stdout(&o).contains(cmd), "--help lacks {cmd}");
    }
    expect(&paved().arg("--version").output().unwrap(), 0);
    let o = paved().arg("frobnicate").output().unwrap();
    expect(&o, 2);
    let o = paved()
        .args(["validate", "--format", "markdown"])
        .output()
        .unwrap();
    expect(&o, 2);
    // clap rejects a format the command does not have, naming the ones it has.
    assert!(
        stderr(&o).starts_with(
            "error: invalid value 'markdown' for '--format <FORMAT>'\n  [possible values: human, json, github]\n"
        ),
        "{}",
        stderr(&o)
    );
}

#[test]
fn a_missing_path_is_exit_2_for_every_command_that_reads_specs() {
    let dir = tempfile::tempdir().unwrap();
    for args in [
        &["validate", "nope"][..],
        &["render", "nope", "--out", "out"],
        &["check", "nope", "--out", "out"],
        &["graph", "nope"],
        &["diff", "nope", "nada"],
    ] {
        let o = run(dir.path(), args);
        expect(&o, 2);
        assert_eq!(
            stderr(&o),
            "paved: error: no such file or folder: `nope`\n",
            "{args:?}"
        );
        assert!(o.stdout.is_empty(), "{args:?}");
    }
}

// ----------------------------------------------------------------- validate and render

#[test]
fn validate_reports_bad_input_with_exit_1_in_every_format() {
    let dir = project();
    write(
        dir.path(),
        "services/orders/platform.yaml",
        &ORDERS.replace("  env:\n", "  replica: 2\n  env:\n"),
    );
    let o = run(dir.path(), &["validate", "services"]);
    expect(&o, 1);
    let err = stderr(&o);
    assert!(err.contains("paved::schema::unknown-field"), "{err}");
    assert!(err.contains("did you mean `replicas`?"), "{err}");
    assert!(err.ends_with("paved: 1 error in 1 file\n"), "{err}");
    assert!(!err.contains('\x1b'), "NO_COLOR is set, yet: {err:?}");
    assert!(o.stdout.is_empty());

    let o = run(dir.path(), &["validate", "services", "--format", "json"]);
    expect(&o, 1);
    let lines: Vec<serde_json::Value> = stdout(&o)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 1);
    let d = &lines[0];
    assert_eq!(d["file"], "services/orders/platform.yaml");
    assert_eq!(
        (d["line"].as_u64(), d["column"].as_u64()),
        (Some(11), Some(3))
    );
    assert_eq!(d["code"], "paved::schema::unknown-field");
    assert_eq!(d["severity"], "error");
    assert_eq!(d["help"], "did you mean `replicas`?");
    assert!(d["message"].as_str().unwrap().contains("replica"));
    assert!(o.stderr.is_empty(), "{}", stderr(&o));

    let o = run(dir.path(), &["validate", "services", "--format", "github"]);
    expect(&o, 1);
    let gh = stdout(&o);
    assert!(
        gh.starts_with("::error file=services/orders/platform.yaml,line=11,col=3,endLine=11,endColumn=10,title=paved%3A%3Aschema%3A%3Aunknown-field::"),
        "{gh}"
    );
    assert_eq!(gh.lines().count(), 1);
}

#[test]
fn colour_only_when_asked_or_on_a_terminal_and_never_with_no_color() {
    let dir = project();
    write(
        dir.path(),
        "services/orders/platform.yaml",
        &ORDERS.replace("owner: team-orders", "owner: Team"),
    );
    // Not a terminal: no colour even without NO_COLOR.
    let o = paved()
        .env_remove("NO_COLOR")
        .current_dir(dir.path())
        .args(["validate", "services"])
        .output()
        .unwrap();
    expect(&o, 1);
    assert!(!stderr(&o).contains('\x1b'));
    let o = paved()
        .env_remove("NO_COLOR")
        .current_dir(dir.path())
        .args(["validate", "services", "--color", "always"])
        .output()
        .unwrap();
    assert!(stderr(&o).contains('\x1b'), "{}", stderr(&o));
    let o = run(dir.path(), &["validate", "services", "--color", "never"]);
    assert!(!stderr(&o).contains('\x1b'));
}

#[test]
fn render_summary_quiet_and_verbose() {
    let dir = project();
    let o = run(dir.path(), &["render", "services", "--out", "out"]);
    expect(&o, 0);
    assert!(o.stdout.is_empty(), "render prints nothing on stdout");
    let err = stderr(&o);
    let line = err.trim_end();
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        line.starts_with("Rendered 2 services in 2 environments into out: ")
            && line.contains(" written, 0 unchanged, 0 removed in "),
        "{line}"
    );
    assert!(!err.contains('\r'), "no progress line off a terminal");

    // Second run: everything unchanged; --verbose lists nothing written.
    let o = run(
        dir.path(),
        &["render", "services", "--out", "out", "--verbose"],
    );
    expect(&o, 0);
    assert!(stderr(&o).contains(" 0 written, "), "{}", stderr(&o));
    assert!(!stderr(&o).contains("wrote "));

    // A removed service: --verbose names each removed file.
    std::fs::remove_dir_all(dir.path().join("services/inventory")).unwrap();
    write(
        dir.path(),
        "services/orders/platform.yaml",
        &ORDERS.replace("  dependsOn: [component:inventory]\n", ""),
    );
    let o = run(dir.path(), &["render", "services", "--out", "out", "-v"]);
    expect(&o, 0);
    let err = stderr(&o);
    assert!(
        err.contains("removed out/staging/inventory/deployment-inventory.yaml\n"),
        "{err}"
    );
    assert!(err.contains("wrote   out/"), "{err}");

    let o = run(
        dir.path(),
        &["render", "services", "--out", "out", "--quiet"],
    );
    expect(&o, 0);
    assert!(o.stderr.is_empty() && o.stdout.is_empty());
}

#[test]
fn an_unwritable_output_folder_is_exit_2() {
    let dir = project();
    write(dir.path(), "a-file", "x");
    let o = run(dir.path(), &["render", "services", "--out", "a-file"]);
    expect(&o, 2);
    assert_eq!(
        stderr(&o),
        "paved: error: the output path `a-file` exists and is not a folder\n"
    );
    let o = run(
        dir.path(),
        &["render", "services", "--out", "no/such/parent"],
    );
    expect(&o, 2);
    assert!(
        stderr(&o).contains("its parent `no/such` does not exist"),
        "{}",
        stderr(&o)
    );
    // Even root cannot create folders in /proc.
    if cfg!(target_os = "linux") {
        let o = run(
            dir.path(),
            &["render", "services", "--out", "/proc/paved-out"],
        );
        expect(&o, 2);
        assert!(
            stderr(&o)
                .starts_with("paved: error: cannot create the output folder `/proc/paved-out`"),
            "{}",
            stderr(&o)
        );
    }
    let o = run(dir.path(), &["check", "services", "--out", "a-file"]);
    expect(&o, 2);
}

// ----------------------------------------------------------------- check

fn snapshot(dir: &Path) -> Vec<(String, Vec<u8>, std::time::SystemTime)> {
    read_tree(dir)
        .into_iter()
        .map(|(p, b)| {
            let m = std::fs::metadata(dir.join(&p)).unwrap().modified().unwrap();
            (p, b, m)
        })
        .collect()
}

#[test]
fn check_passes_on_a_fresh_render_and_catches_every_kind_of_drift_read_only() {
    let dir = project();
    expect(&run(dir.path(), &["render", "services", "--out", "out"]), 0);
    let o = run(dir.path(), &["check", "services", "--out", "out"]);
    expect(&o, 0);
    assert!(
        stderr(&o).starts_with("out is up to date ("),
        "{}",
        stderr(&o)
    );

    // 1. A hand edit of a generated file.
    let deploy = dir.path().join("out/staging/orders/deployment-orders.yaml");
    let text = std::fs::read_to_string(&deploy).unwrap();
    std::fs::write(&deploy, text.replace("value: info", "value: debug")).unwrap();
    let before = snapshot(&dir.path().join("out"));
    let o = run(dir.path(), &["check", "services", "--out", "out"]);
    expect(&o, 1);
    let report = stdout(&o);
    assert!(report.starts_with("stale:   out/staging/orders/deployment-orders.yaml (edited by hand, or its spec changed since the last render)\n"), "{report}");
    assert!(
        report.contains("    -              value: debug\n    +              value: info\n"),
        "{report}"
    );
    assert!(report.ends_with("1 file out of date in out (1 stale, 0 missing, 0 extra). To fix it, run:\n    paved render services --out out\n"), "{report}");
    assert_eq!(
        snapshot(&dir.path().join("out")),
        before,
        "check wrote to the output folder"
    );

    // 2. A spec change without a re-render (both environments go stale).
    expect(
        &run(dir.path(), &["render", "services", "--out", "out", "-q"]),
        0,
    );
    write(
        dir.path(),
        "services/orders/platform.yaml",
        &ORDERS.replace("1.4.2", "1.4.3"),
    );
    let o = run(dir.path(), &["check", "services", "--out", "out"]);
    expect(&o, 1);
    let report = stdout(&o);
    assert!(
        report.contains("stale:   out/production/orders/deployment-orders.yaml"),
        "{report}"
    );
    assert!(
        report.contains("+          image: ghcr.io/acme/orders:1.4.3\n"),
        "{report}"
    );

    // 3. A deleted service: its files are extra; 4. a deleted file is missing.
    expect(
        &run(dir.path(), &["render", "services", "--out", "out", "-q"]),
        0,
    );
    std::fs::remove_dir_all(dir.path().join("services/inventory")).unwrap();
    write(
        dir.path(),
        "services/orders/platform.yaml",
        &ORDERS.replace("  dependsOn: [component:inventory]\n", ""),
    );
    std::fs::remove_file(dir.path().join("out/staging/orders/service-orders.yaml")).unwrap();
    let o = run(
        dir.path(),
        &["check", "services", "--out", "out", "--format", "json"],
    );
    expect(&o, 1);
    let lines: Vec<serde_json::Value> = stdout(&o)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let extra = lines
        .iter()
        .find(|l| l["file"] == "out/staging/inventory/deployment-inventory.yaml")
        .unwrap();
    assert_eq!(extra["drift"], "extra");
    assert_eq!(extra["code"], "paved::check::drift");
    assert_eq!(extra["help"], "run `paved render services --out out`");
    let missing = lines
        .iter()
        .find(|l| l["file"] == "out/staging/orders/service-orders.yaml")
        .unwrap();
    assert_eq!(missing["drift"], "missing");
    let stale = lines.iter().find(|l| l["drift"] == "stale").unwrap();
    assert!(
        stale["diff"].as_str().unwrap().starts_with("--- "),
        "{stale}"
    );
    assert!(stale["line"].as_u64().is_some());

    let o = run(
        dir.path(),
        &["check", "services", "--out", "out", "--format", "github"],
    );
    expect(&o, 1);
    let gh = stdout(&o);
    assert!(
        gh.lines().all(|l| l.starts_with("::error file=out/")),
        "{gh}"
    );
    assert!(gh.contains("::error file=out/staging/inventory/deployment-inventory.yaml,line=1,col=1,title=paved%3A%3Acheck%3A%3Adrift::extra (its service or environment no longer exists)%0Ahelp: run `paved render services --out out`\n"), "{gh}");
}

#[test]
fn check_with_bad_specs_is_exit_1_with_diagnostics() {
    let dir = project();
    write(
        dir.path(),
        "services/orders/platform.yaml",
        &ORDERS.replace("1.4.2", "latest"),
    );
    let o = run(dir.path(), &["check", "services", "--out", "out"]);
    expect(&o, 1);
    assert!(
        stderr(&o).contains("paved::policy::no-latest-tag"),
        "{}",
        stderr(&o)
    );
}

// ----------------------------------------------------------------- diff

#[test]
fn diff_of_two_renders_differing_in_one_field_shows_exactly_that_resource_and_field() {
    let dir = project();
    expect(&run(dir.path(), &["render", "services", "--out", "old"]), 0);
    // One field of one service, in one environment.
    write(
        dir.path(),
        "services/inventory/platform.yaml",
        &format!(
            "{INVENTORY}  environments:\n    staging: {{}}\n    production: {{size: large}}\n"
        ),
    );
    expect(&run(dir.path(), &["render", "services", "--out", "new"]), 0);

    let o = run(dir.path(), &["diff", "old", "new", "--format", "json"]);
    expect(&o, 0);
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    let changes = v["changes"].as_array().unwrap();
    assert_eq!(changes.len(), 1, "{v:#}");
    let c = &changes[0];
    assert_eq!(
        (
            c["change"].as_str(),
            c["kind"].as_str(),
            c["namespace"].as_str(),
            c["name"].as_str()
        ),
        (
            Some("changed"),
            Some("Deployment"),
            Some("inventory"),
            Some("inventory")
        )
    );
    assert_eq!(
        (c["environment"].as_str(), c["service"].as_str()),
        (Some("production"), Some("inventory"))
    );
    let fields: Vec<&str> = c["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f.as_str().unwrap())
        .collect();
    assert!(!fields.is_empty());
    assert!(
        fields
            .iter()
            .all(|f| f.starts_with("spec.template.spec.containers[name=inventory].resources.")),
        "{fields:?}"
    );
    assert_eq!(v["summary"]["changed"], 1);
    assert_eq!(v["summary"]["added"], 0);
    assert_eq!(v["summary"]["removed"], 0);

    let o = run(dir.path(), &["diff", "old", "new"]);
    expect(&o, 0);
    let text = stdout(&o);
    assert!(text.starts_with("production / inventory\n  ~ changed apps/v1 Deployment inventory/inventory  [production/inventory/deployment-inventory.yaml]\n      fields: spec.template.spec.containers[name=inventory].resources."), "{text}");
    assert!(
        text.ends_with(&format!(
            "\n1 changed, 0 added, 0 removed; {} unchanged\n",
            v["summary"]["unchanged"]
        )),
        "{text}"
    );

    let o = run(dir.path(), &["diff", "old", "new", "--exit-code"]);
    expect(&o, 1);
    let o = run(dir.path(), &["diff", "old", "old", "--exit-code"]);
    expect(&o, 0);
    assert!(
        stdout(&o).starts_with("No changes to rendered resources: "),
        "{}",
        stdout(&o)
    );

    let o = run(dir.path(), &["diff", "old", "new", "--format", "markdown"]);
    expect(&o, 0);
    let md = stdout(&o);
    assert!(
        md.starts_with("<!-- paved-diff -->\n### Paved: changes to rendered resources\n"),
        "{md}"
    );
    assert!(
        md.contains("| production | inventory | 1 | 0 | 0 |\n"),
        "{md}"
    );
    assert_eq!(md.matches("<details>").count(), 1);
    assert!(md.len() < 65_536);
}

#[test]
fn diff_ignores_moves_and_key_order_and_redacts_secrets() {
    let dir = tempfile::tempdir().unwrap();
    let secret = |v: &str| {
        format!("apiVersion: v1\nkind: Secret\nmetadata: {{name: db, namespace: orders}}\nstringData:\n  password: {v}\n  username: app\n")
    };
    write(
        dir.path(),
        "a/staging/orders/secret-db.yaml",
        &secret("hunter2"),
    );
    write(dir.path(), "a/staging/orders/cm.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c, namespace: orders}\ndata: {a: '1', b: '2'}\n");
    // Moved to one multi-document file, keys reordered; the password changes.
    write(
        dir.path(),
        "b/staging/all.yaml",
        &format!("data: {{b: '2', a: '1'}}\nmetadata: {{namespace: orders, name: c}}\nkind: ConfigMap\napiVersion: v1\n---\n{}", secret("correct-horse")),
    );
    let o = run(dir.path(), &["diff", "a", "b", "--format", "json"]);
    expect(&o, 0);
    let out = stdout(&o);
    assert!(
        !out.contains("hunter2") && !out.contains("correct-horse"),
        "{out}"
    );
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["summary"]["unchanged"], 1);
    assert_eq!(v["summary"]["moved"], 1);
    let c = &v["changes"][0];
    assert_eq!(c["kind"], "Secret");
    assert_eq!(c["fields"], serde_json::json!(["stringData.password"]));
    assert_eq!(c["redacted"], 2);
    assert!(c["diff"]
        .as_str()
        .unwrap()
        .contains("+  password: <redacted, changed>\n"));

    let o = run(dir.path(), &["diff", "a", "b", "--show-secrets"]);
    expect(&o, 0);
    assert!(
        stdout(&o).contains("+  password: correct-horse\n"),
        "{}",
        stdout(&o)
    );
}

#[test]
fn diff_usage_errors_are_exit_2_and_bad_yaml_exit_1() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("a")).unwrap();
    let o = run(dir.path(), &["diff", "a"]);
    expect(&o, 2);
    assert!(
        stderr(&o).contains("takes two folders (OLD_DIR NEW_DIR)"),
        "{}",
        stderr(&o)
    );
    let o = run(dir.path(), &["diff", "a", "a", "--format", "github"]);
    expect(&o, 2);
    write(dir.path(), "b/x.yaml", "a: [1\n");
    let o = run(dir.path(), &["diff", "a", "b"]);
    expect(&o, 1);
    assert!(
        stderr(&o).contains("paved::diff::invalid-yaml"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn diff_against_a_git_base_renders_both_sides_in_memory() {
    let dir = tempfile::tempdir().unwrap();
    git(dir.path(), &["init", "-q", "-b", "main"]);
    write(dir.path(), "services/orders/platform.yaml", ORDERS);
    write(dir.path(), "services/inventory/platform.yaml", INVENTORY);
    git(dir.path(), &["add", "."]);
    git(dir.path(), &["commit", "-q", "-m", "base"]);
    // Work tree: one env var changed, and a new service.
    write(
        dir.path(),
        "services/orders/platform.yaml",
        &ORDERS.replace("LOG_LEVEL: info", "LOG_LEVEL: debug"),
    );
    write(dir.path(), "services/mailer/platform.yaml", "apiVersion: paved.dev/v1\nkind: Application\nmetadata: {name: mailer, owner: team-orders, costCenter: cc-1234}\nspec:\n  type: worker\n  image: ghcr.io/acme/mailer:1.0.0\n");
    let before = read_tree(dir.path());
    let o = run(
        dir.path(),
        &["diff", "--base", "main", "services", "--format", "json"],
    );
    expect(&o, 0);
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    let changed: Vec<(&str, &str, &str)> = v["changes"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["change"] == "changed" && c["kind"] == "Deployment")
        .map(|c| {
            (
                c["environment"].as_str().unwrap(),
                c["kind"].as_str().unwrap(),
                c["fields"][0].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        changed,
        [
            (
                "production",
                "Deployment",
                "spec.template.spec.containers[name=orders].env[name=LOG_LEVEL].value"
            ),
            (
                "staging",
                "Deployment",
                "spec.template.spec.containers[name=orders].env[name=LOG_LEVEL].value"
            ),
        ]
    );
    let added: Vec<&str> = v["changes"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["change"] == "added")
        .map(|c| c["service"].as_str().unwrap())
        .collect();
    assert!(
        !added.is_empty()
            && added
                .iter()
                .all(|s| *s == "mailer" || s.is_empty() || *s == "argocd"),
        "{added:?}"
    );
    assert_eq!(v["summary"]["removed"], 0);
    // The only other change: the team's Argo CD project now also deploys mailer.
    let others: Vec<&str> = v["changes"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["change"] == "changed" && c["kind"] != "Deployment")
        .map(|c| c["kind"].as_str().unwrap())
        .collect();
    assert_eq!(others, ["AppProject"]);
    // Read-only: nothing in the work tree or .git changed, and no worktree was added.
    assert_eq!(read_tree(dir.path()), before);

    // From a subfolder, with no path: the current folder at both revisions.
    let o = run(
        &dir.path().join("services"),
        &["diff", "--base", "main", "--exit-code"],
    );
    expect(&o, 1);
    let text = stdout(&o);
    assert!(
        text.contains("      -              value: info\n      +              value: debug\n"),
        "{text}"
    );

    let o = run(dir.path(), &["diff", "--base", "no-such-branch"]);
    expect(&o, 2);
    assert!(
        stderr(&o).contains("unknown Git revision `no-such-branch`"),
        "{}",
        stderr(&o)
    );
    let outside = tempfile::tempdir().unwrap();
    let o = run(outside.path(), &["diff", "--base", "main"]);
    expect(&o, 2);
    assert!(
        stderr(&o).contains("needs a Git repository"),
        "{}",
        stderr(&o)
    );
}

// ----------------------------------------------------------------- init

#[test]
fn init_scaffolds_each_type_that_validates_and_renders_with_no_edits() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join(".git")).unwrap();
    for (name, kind) in [
        ("orders", "service"),
        ("mailer", "worker"),
        ("nightly", "cronjob"),
    ] {
        let o = run(
            dir.path(),
            &[
                "init",
                name,
                "--type",
                kind,
                "--dir",
                &format!("svc/{name}"),
            ],
        );
        expect(&o, 0);
        assert!(
            stderr(&o).starts_with(&format!(
                "Created svc/{name}/platform.yaml for the {kind} `{name}`.\n"
            )),
            "{}",
            stderr(&o)
        );
        let text =
            std::fs::read_to_string(dir.path().join(format!("svc/{name}/platform.yaml"))).unwrap();
        assert!(
            text.starts_with("# yaml-language-server: $schema="),
            "{text}"
        );
        assert!(text.contains(&format!("  type: {kind}\n")));
        let o = run(dir.path(), &["validate", &format!("svc/{name}")]);
        expect(&o, 0);
        assert!(
            o.stderr.starts_with(b"Validated 1 service"),
            "{}",
            stderr(&o)
        );
    }
    let o = run(dir.path(), &["render", "svc", "--out", "out"]);
    expect(&o, 0);
    assert!(dir
        .path()
        .join("out/staging/nightly/cronjob-nightly.yaml")
        .is_file());
    assert!(dir
        .path()
        .join("out/production/mailer/deployment-mailer.yaml")
        .is_file());
    assert!(dir
        .path()
        .join("out/production/orders/service-orders.yaml")
        .is_file());
}

#[test]
fn init_follows_the_platform_config_and_refuses_to_overwrite() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join(".git")).unwrap();
    write(
        dir.path(),
        "paved.yaml",
        "apiVersion: paved.dev/v1\nkind: Platform\nmetadata: {name: acme}\nspec:\n  environments:\n    dev: {cluster: \"https://dev.k8s.acme.internal\", domain: dev.acme.dev}\n  allowedRegistries: [registry.acme.dev/apps/]\n  sizes:\n    tiny: {cpu: 50m, memory: 64Mi}\n",
    );
    let o = run(dir.path(), &["init", "orders", "--dir", "svc/orders"]);
    expect(&o, 0);
    let text = std::fs::read_to_string(dir.path().join("svc/orders/platform.yaml")).unwrap();
    assert!(
        text.contains("  image: registry.acme.dev/apps/orders:0.1.0"),
        "{text}"
    );
    assert!(text.contains("  size: tiny "), "{text}");
    expect(&run(dir.path(), &["validate", "svc"]), 0);

    let o = run(dir.path(), &["init", "orders", "--dir", "svc/orders"]);
    expect(&o, 2);
    assert_eq!(
        stderr(&o),
        "paved: error: `svc/orders/platform.yaml` already exists; paved init never overwrites a file (choose another folder with --dir, or edit that file)\n"
    );
    assert_eq!(
        std::fs::read_to_string(dir.path().join("svc/orders/platform.yaml")).unwrap(),
        text
    );
    let o = run(dir.path(), &["init", "Bad_Name"]);
    expect(&o, 2);
    assert!(
        stderr(&o).contains("`Bad_Name` is not a valid service name"),
        "{}",
        stderr(&o)
    );
    assert!(!dir.path().join("platform.yaml").exists());
}

// ----------------------------------------------------------------- explain, schema, graph, completions

#[test]
fn explain_fields_and_codes() {
    let o = paved().args(["explain", "spec.replicas"]).output().unwrap();
    expect(&o, 0);
    let t = stdout(&o);
    assert!(
        t.starts_with("FIELD:   spec.replicas <\"auto\" | integer>\nFILE:    platform.yaml\n"),
        "{t}"
    );
    assert!(t.contains("VALUES:  auto\n"), "{t}");
    assert!(t.contains("\nDESCRIPTION:\n    "), "{t}");

    let o = paved()
        .args(["explain", "spec.ports", "--format", "json"])
        .output()
        .unwrap();
    expect(&o, 0);
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(v["field"], "spec.ports");
    assert_eq!(v["type"], "[]object");
    let children: Vec<&str> = v["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["name"].as_str().unwrap())
        .collect();
    assert!(
        children.contains(&"name") && children.contains(&"port"),
        "{children:?}"
    );

    let o = paved()
        .args(["explain", "--platform", "spec.allowedRegistries"])
        .output()
        .unwrap();
    expect(&o, 0);
    assert!(
        stdout(&o).starts_with("FIELD:   spec.allowedRegistries <[]string>\nFILE:    paved.yaml\n"),
        "{}",
        stdout(&o)
    );

    let o = paved().args(["explain", "spec.replica"]).output().unwrap();
    expect(&o, 2);
    assert_eq!(stderr(&o), "paved: error: platform.yaml has no field `replica` under `spec`; did you mean `replicas`?\n");

    let o = paved()
        .args(["explain", "paved::schema::unknown-field"])
        .output()
        .unwrap();
    expect(&o, 0);
    let t = stdout(&o);
    assert!(
        t.starts_with("paved::schema::unknown-field: a field that the format does not have\n\n"),
        "{t}"
    );
    assert!(t.contains("\nExample:\n") && t.contains("\nFix:\n"), "{t}");
    let o = paved()
        .args([
            "explain",
            "paved::semantic::unknown-size",
            "--format",
            "json",
        ])
        .output()
        .unwrap();
    expect(&o, 0);
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(v["code"], "paved::semantic::unknown-size");
    assert!(v["fix"].as_str().unwrap().contains("size: large"));
    let o = paved()
        .args(["explain", "paved::schema::unknwn-field"])
        .output()
        .unwrap();
    expect(&o, 2);
    assert!(
        stderr(&o).contains("did you mean `paved::schema::unknown-field`?"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn every_code_printed_by_a_diagnostic_can_be_explained() {
    for c in paved::codes::CODES {
        let o = paved().args(["explain", c.code]).output().unwrap();
        expect(&o, 0);
    }
}

#[test]
fn schema_prints_the_embedded_schemas() {
    let o = paved().arg("schema").output().unwrap();
    expect(&o, 0);
    assert_eq!(
        o.stdout,
        std::fs::read(root().join("schemas/platform.v1.schema.json")).unwrap()
    );
    let o = paved().args(["schema", "--platform"]).output().unwrap();
    expect(&o, 0);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["$id"], "https://paved.dev/schemas/paved.v1.schema.json");
}

#[test]
fn graph_draws_services_dependencies_and_resources() {
    let dir = project();
    let o = run(dir.path(), &["graph", "services"]);
    expect(&o, 0);
    let m = stdout(&o);
    assert!(m.starts_with("flowchart LR\n"), "{m}");
    assert!(
        m.contains("  svc_orders -->|dependsOn| svc_inventory\n"),
        "{m}"
    );
    assert!(
        m.contains("  res_orders__orders_db[(\"orders-db<br/><small>postgresql</small>\")]\n"),
        "{m}"
    );
    let o = run(dir.path(), &["graph", "services", "--format", "dot"]);
    expect(&o, 0);
    assert!(stdout(&o).contains("  \"orders\" -> \"inventory\" [label=\"dependsOn\"];\n"));
    let o = run(dir.path(), &["graph", "services", "--format", "json"]);
    expect(&o, 0);
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(
        v["dependsOn"],
        serde_json::json!([{"from": "orders", "to": "inventory"}])
    );
    assert_eq!(v["services"].as_array().unwrap().len(), 2);
    let o = run(dir.path(), &["graph", "services", "--format", "github"]);
    expect(&o, 2);
}

#[test]
fn completions_for_each_shell() {
    for (shell, marker) in [
        ("bash", "_paved()"),
        ("zsh", "#compdef paved"),
        ("fish", "complete -c paved"),
        ("powershell", "paved"),
        ("elvish", "paved"),
    ] {
        let o = paved().args(["completions", shell]).output().unwrap();
        expect(&o, 0);
        let s = stdout(&o);
        assert!(s.contains(marker), "{shell}: {s}");
        assert!(s.contains("explain"), "{shell} completes subcommands");
    }
    expect(&paved().args(["completions", "tcsh"]).output().unwrap(), 2);
}

#[test]
fn the_quickstart_validates_in_every_format_with_empty_machine_output() {
    for (format, stdout_empty) in [("human", true), ("json", true), ("github", true)] {
        let o = paved()
            .args(["validate", "--format", format])
            .arg(quickstart())
            .output()
            .unwrap();
        expect(&o, 0);
        assert_eq!(o.stdout.is_empty(), stdout_empty, "{format}");
    }
}

#[test]
fn a_reader_closing_the_pipe_early_is_not_a_panic() {
    let dir = project();
    for args in [
        &["schema"][..],
        &["completions", "zsh"],
        &["explain", "spec"],
        &["graph", "services"],
        &["policy"],
    ] {
        let mut child = paved()
            .current_dir(dir.path())
            .args(args)
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        // Like `paved schema | head -c0`: the reader is gone before paved writes.
        drop(child.stdout.take());
        let o = child.wait_with_output().unwrap();
        expect(&o, 0);
        assert!(o.stderr.is_empty(), "{args:?}: {}", stderr(&o));
    }
}

#[test]
fn quiet_drops_warnings_but_keeps_errors() {
    let dir = project();
    // A byte-order mark is a warning.
    write(
        dir.path(),
        "services/inventory/platform.yaml",
        &format!("\u{feff}{INVENTORY}"),
    );
    let o = run(dir.path(), &["validate", "services"]);
    expect(&o, 0);
    assert!(
        stderr(&o).contains("paved::load::byte-order-mark"),
        "{}",
        stderr(&o)
    );
    let o = run(dir.path(), &["validate", "services", "--quiet"]);
    expect(&o, 0);
    assert!(o.stderr.is_empty(), "{}", stderr(&o));
    // Machine formats always carry everything.
    let o = run(
        dir.path(),
        &["validate", "services", "--quiet", "--format", "json"],
    );
    assert!(stdout(&o).contains("paved::load::byte-order-mark"));
    write(
        dir.path(),
        "services/orders/platform.yaml",
        &ORDERS.replace("1.4.2", "latest"),
    );
    let o = run(dir.path(), &["validate", "services", "--quiet"]);
    expect(&o, 1);
    let err = stderr(&o);
    assert!(
        err.contains("paved::policy::no-latest-tag") && !err.contains("byte-order-mark"),
        "{err}"
    );
}
