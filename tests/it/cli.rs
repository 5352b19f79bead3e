//! The command line as users meet it, where one run is not enough: every
//! case that is "these arguments on this input give this output and exit
//! code" is a data file in `tests/cmd/` (run by `cmd.rs`). What stays here
//! needs steps in between or a check data cannot express: renders followed
//! by edits (check, diff, --verbose), a Git repository (diff --base), a
//! terminal's colour, a closed pipe, the registry of codes. Outputs worth
//! reading whole are pinned in `tests/snapshots/cli/` (`PAVED_BLESS=1`
//! rewrites them, as it does the goldens).

use std::path::Path;

use crate::support::fixtures::{
    copy_case, expect, git, paved, read_tree, root, run, stderr, stdout, write,
};
use crate::support::snap;

/// The two services of `tests/cmd/shared/project` (`orders` depends on
/// `inventory`) in a folder of their own.
fn project() -> tempfile::TempDir {
    let dir = copy_case(&root().join("tests/cmd/shared/project"));
    // Bounds the search for paved.yaml at the project, as a repository's `.git` does.
    std::fs::create_dir(dir.path().join(".git")).unwrap();
    dir
}

/// A service's spec as `project()` has it.
fn spec(service: &str) -> String {
    let path = format!("tests/cmd/shared/project/services/{service}/platform.yaml");
    std::fs::read_to_string(root().join(path)).unwrap()
}

/// `text` (a run in `dir`) equals `tests/snapshots/cli/<name>`.
#[track_caller]
fn pin(name: &str, dir: &Path, text: &str) {
    let path = root().join("tests/snapshots/cli").join(name);
    if let Err(e) = snap::check(&path, &snap::redact(text, dir)) {
        panic!("{e}");
    }
}

/// A report without its diff bodies: the lines indented by `indent` spaces
/// or more (what a blueprint renders is the golden tests' to pin).
fn without_bodies(text: &str, indent: usize) -> String {
    text.lines()
        .filter(|l| l.len() - l.trim_start_matches(' ').len() < indent)
        .map(|l| format!("{l}\n"))
        .collect()
}

/// `text` without its colour codes (SGR sequences).
fn strip_colour(text: &str) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(at) = rest.find("\x1b[") {
        out.push_str(&rest[..at]);
        let tail = &rest[at + 2..];
        let end = tail.find('m').expect("an SGR sequence ends with m");
        rest = &tail[end + 1..];
    }
    out.push_str(rest);
    out
}

// ----------------------------------------------------------------- colour, render

#[test]
fn colour_only_when_asked_or_on_a_terminal_and_never_with_no_color() {
    // Not a terminal (no colour even without NO_COLOR) and --color never
    // are data cases (validate-without-no-color, validate-color-never).
    let dir = project();
    write(
        dir.path(),
        "services/orders/platform.yaml",
        &spec("orders").replace("  env:\n", "  replica: 2\n  env:\n"),
    );
    let plain = run(dir.path(), &["validate", "services", "--color", "never"]);
    expect(&plain, 1);
    let o = paved()
        .env_remove("NO_COLOR")
        .current_dir(dir.path())
        .args(["validate", "services", "--color", "always"])
        .output()
        .unwrap();
    expect(&o, 1);
    assert!(stderr(&o).contains('\x1b'), "{}", stderr(&o));
    // The same report, only coloured.
    assert_eq!(strip_colour(&stderr(&o)), stderr(&plain));
}

#[test]
fn render_summary_quiet_and_verbose() {
    // A first render's summary and --quiet are data cases (render-summary, render-quiet).
    let dir = project();
    expect(&run(dir.path(), &["render", "services", "--out", "out"]), 0);

    // Second run: everything unchanged; --verbose lists nothing written.
    let o = run(
        dir.path(),
        &["render", "services", "--out", "out", "--verbose"],
    );
    expect(&o, 0);
    assert!(o.stdout.is_empty());
    pin("render-again-verbose.stderr", dir.path(), &stderr(&o));

    // A removed service: --verbose names each removed file.
    std::fs::remove_dir_all(dir.path().join("services/inventory")).unwrap();
    write(
        dir.path(),
        "services/orders/platform.yaml",
        &spec("orders").replace("  dependsOn: [component:inventory]\n", ""),
    );
    let o = run(dir.path(), &["render", "services", "--out", "out", "-v"]);
    expect(&o, 0);
    assert!(o.stdout.is_empty());
    pin("render-removed-verbose.stderr", dir.path(), &stderr(&o));

    let o = run(
        dir.path(),
        &["render", "services", "--out", "out", "--quiet"],
    );
    expect(&o, 0);
    assert_eq!((stdout(&o), stderr(&o)), (String::new(), String::new()));
}

#[test]
fn an_unwritable_output_folder_is_exit_2() {
    // A file in the way and a missing parent are data cases
    // (render-out-is-a-file, render-out-parent-missing, check-out-is-a-file).
    // Even root cannot create folders in /proc; the reason is the OS's words.
    if cfg!(target_os = "linux") {
        let dir = project();
        let o = run(
            dir.path(),
            &["render", "services", "--out", "/proc/paved-out"],
        );
        expect(&o, 2);
        assert!(
            stderr(&o)
                .starts_with("paved: error: cannot create the output folder `/proc/paved-out`: "),
            "{}",
            stderr(&o)
        );
        assert_eq!(stderr(&o).lines().count(), 1, "{}", stderr(&o));
    }
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
    let d = dir.path();
    let orders = spec("orders");
    expect(&run(d, &["render", "services", "--out", "out"]), 0);
    let o = run(d, &["check", "services", "--out", "out"]);
    expect(&o, 0);
    assert!(o.stdout.is_empty());
    pin("check-up-to-date.stderr", d, &stderr(&o));

    // 1. A hand edit of a generated file.
    let deploy = d.join("out/staging/orders/deployment-orders.yaml");
    let text = std::fs::read_to_string(&deploy).unwrap();
    std::fs::write(&deploy, text.replace("value: info", "value: debug")).unwrap();
    let before = snapshot(&d.join("out"));
    let o = run(d, &["check", "services", "--out", "out"]);
    expect(&o, 1);
    pin("check-hand-edit.stdout", d, &stdout(&o));
    pin("check-hand-edit.stderr", d, &stderr(&o));
    assert_eq!(
        snapshot(&d.join("out")),
        before,
        "check wrote to the output folder"
    );

    // 2. A spec change without a re-render (both environments go stale).
    expect(&run(d, &["render", "services", "--out", "out", "-q"]), 0);
    write(
        d,
        "services/orders/platform.yaml",
        &orders.replace("1.4.2", "1.4.3"),
    );
    let o = run(d, &["check", "services", "--out", "out"]);
    expect(&o, 1);
    assert!(
        stdout(&o).contains("\n    +          image: ghcr.io/acme/orders:1.4.3\n"),
        "{}",
        stdout(&o)
    );
    pin(
        "check-spec-changed.stdout",
        d,
        &without_bodies(&stdout(&o), 4),
    );

    // 3. A deleted service: its files are extra; 4. a deleted file is missing.
    expect(&run(d, &["render", "services", "--out", "out", "-q"]), 0);
    std::fs::remove_dir_all(d.join("services/inventory")).unwrap();
    write(
        d,
        "services/orders/platform.yaml",
        &orders.replace("  dependsOn: [component:inventory]\n", ""),
    );
    std::fs::remove_file(d.join("out/staging/orders/service-orders.yaml")).unwrap();
    let o = run(
        d,
        &["check", "services", "--out", "out", "--format", "json"],
    );
    expect(&o, 1);
    // One object per line; a stale file's has its diff (pinned here without it).
    let mut lines = String::new();
    for line in stdout(&o).lines() {
        let mut v: serde_json::Value = serde_json::from_str(line).unwrap();
        let diff = v.as_object_mut().unwrap().remove("diff").unwrap();
        assert_eq!(
            v["drift"] == "stale",
            diff.as_str().is_some_and(|t| t.starts_with("--- ")),
            "{line}"
        );
        lines.push_str(&format!("{v}\n"));
    }
    pin("check-extra-and-missing.jsonl", d, &lines);
    let o = run(
        d,
        &["check", "services", "--out", "out", "--format", "github"],
    );
    expect(&o, 1);
    pin("check-extra-and-missing.github", d, &stdout(&o));
}

// ----------------------------------------------------------------- diff

#[test]
fn diff_of_two_renders_differing_in_one_field_shows_exactly_that_resource_and_field() {
    let dir = project();
    let d = dir.path();
    expect(&run(d, &["render", "services", "--out", "old"]), 0);
    // One field of one service, in one environment.
    write(
        d,
        "services/inventory/platform.yaml",
        &format!(
            "{}  environments:\n    staging: {{}}\n    production: {{size: large}}\n",
            spec("inventory")
        ),
    );
    expect(&run(d, &["render", "services", "--out", "new"]), 0);

    let o = run(d, &["diff", "old", "new", "--format", "json"]);
    expect(&o, 0);
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(v["changes"].as_array().unwrap().len(), 1, "{v:#}");
    pin("diff-one-field.json", d, &stdout(&o));

    let o = run(d, &["diff", "old", "new"]);
    expect(&o, 0);
    pin("diff-one-field.txt", d, &stdout(&o));

    let o = run(d, &["diff", "old", "new", "--format", "markdown"]);
    expect(&o, 0);
    pin("diff-one-field.md", d, &stdout(&o));

    let o = run(d, &["diff", "old", "new", "--exit-code"]);
    expect(&o, 1);
    let o = run(d, &["diff", "old", "old", "--exit-code"]);
    expect(&o, 0);
    pin("diff-no-change.txt", d, &stdout(&o));
}

/// The `risks` of `paved diff old new --format json` (run in `d`), as
/// `(category, severity, environment)`.
fn risks(d: &Path, extra: &[&str]) -> Vec<(String, String, String)> {
    let mut args = vec!["diff", "old", "new", "--format", "json"];
    args.extend_from_slice(extra);
    let o = run(d, &args);
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    v["risks"]
        .as_array()
        .unwrap_or_else(|| panic!("no `risks` list: {v:#}"))
        .iter()
        .map(|r| {
            let f = |k: &str| r[k].as_str().unwrap_or_default().to_string();
            (f("category"), f("severity"), f("environment"))
        })
        .collect()
}

#[test]
fn diff_puts_a_removed_database_first_as_a_data_loss_risk_and_fail_on_gates_it() {
    let dir = project();
    let d = dir.path();
    expect(&run(d, &["render", "services", "--out", "old"]), 0);
    // The database removed from the spec: its XR goes in both environments.
    let without_db = spec("orders").replace(
        "  resources:\n    orders-db: {type: postgresql, version: \"16\", storageGB: 20}\n",
        "",
    );
    assert_ne!(without_db, spec("orders"));
    write(d, "services/orders/platform.yaml", &without_db);
    expect(&run(d, &["render", "services", "--out", "new"]), 0);
    let got = risks(d, &[]);
    assert!(
        got.contains(&("data-loss".into(), "high".into(), "production".into())),
        "{got:?}"
    );
    let o = run(d, &["diff", "old", "new"]);
    expect(&o, 0);
    assert!(stdout(&o).starts_with("Risks"), "{}", stdout(&o));
    let o = run(d, &["diff", "old", "new", "--format", "markdown"]);
    assert!(stdout(&o).contains("#### Risks\n"), "{}", stdout(&o));
    let o = run(d, &["diff", "old", "new", "--fail-on", "data-loss,cost"]);
    expect(&o, 1);
    // The reason for exit 1, for a CI job to report.
    assert!(
        stderr(&o).contains("paved diff: risk gate: data-loss\n"),
        "{}",
        stderr(&o)
    );
    expect(
        &run(d, &["diff", "old", "new", "--fail-on", "cost,exposure"]),
        0,
    );
    let o = run(d, &["diff", "old", "new", "--fail-on", "data-los"]);
    expect(&o, 2);

    // A similar change without risk: an environment variable.
    write(
        d,
        "services/orders/platform.yaml",
        &spec("orders").replace("LOG_LEVEL: info", "LOG_LEVEL: debug"),
    );
    std::fs::remove_dir_all(d.join("new")).unwrap();
    expect(&run(d, &["render", "services", "--out", "new"]), 0);
    assert_eq!(risks(d, &[]), []);
    expect(
        &run(d, &["diff", "old", "new", "--fail-on", "data-loss"]),
        0,
    );
}

#[test]
fn diff_risks_on_real_renders_exposure_promotion_and_none_for_a_quiet_change() {
    let dir = project();
    let d = dir.path();
    expect(&run(d, &["render", "services", "--out", "old"]), 0);
    let rerender = |text: &str| {
        write(d, "services/inventory/platform.yaml", text);
        let _ = std::fs::remove_dir_all(d.join("new"));
        expect(&run(d, &["render", "services", "--out", "new"]), 0);
    };
    // A public ingress: exposure (high) in both environments.
    rerender(&format!(
        "{}  ingress: {{host: inventory.acme.dev, public: true}}\n",
        spec("inventory")
    ));
    let got = risks(d, &[]);
    for env in ["production", "staging"] {
        assert!(
            got.contains(&("exposure".into(), "high".into(), env.into())),
            "{got:?}"
        );
    }
    // A new image: production syncs by hand (promotion), staging automatically (none).
    rerender(&spec("inventory").replace("inventory:2.0.1", "inventory:2.0.2"));
    let got = risks(d, &[]);
    assert_eq!(
        got,
        [("promotion".into(), "medium".into(), "production".into())]
    );
    expect(
        &run(d, &["diff", "old", "new", "--fail-on", "promotion"]),
        1,
    );
    // An owner changed: labels move, nothing risky.
    rerender(&spec("inventory").replace("team-stock", "team-depot"));
    assert_eq!(risks(d, &[]), []);
}

/// The built-in platform config, as a paved.yaml to edit.
fn default_paved_yaml() -> String {
    std::fs::read_to_string(root().join("src/paved.default.yaml")).unwrap()
}

/// The built-in config with the public ingress class `internet` and `extra`
/// appended under `spec`.
fn platform_with(extra: &str) -> String {
    let base = default_paved_yaml();
    let public = "ingressClasses: {internal: nginx-internal, public: nginx-public}";
    assert!(base.contains(public), "{base}");
    format!(
        "{}{extra}",
        base.replace(
            public,
            "ingressClasses: {internal: nginx-internal, public: internet}"
        )
    )
}

#[test]
fn diff_takes_the_public_class_fail_on_and_cost_factor_from_paved_yaml() {
    let dir = project();
    let d = dir.path();
    write(
        d,
        "paved.yaml",
        &platform_with("  review: {failOn: [exposure], costFactor: 3}\n"),
    );
    let inventory = |extra: &str| format!("{}  replicas: 2\n{extra}", spec("inventory"));
    write(d, "services/inventory/platform.yaml", &inventory(""));
    expect(&run(d, &["render", "services", "--out", "old"]), 0);
    // A public ingress, of the platform's public class `internet`.
    write(
        d,
        "services/inventory/platform.yaml",
        &inventory("  ingress: {host: inventory.acme.dev, public: true}\n"),
    );
    expect(&run(d, &["render", "services", "--out", "new"]), 0);
    let got = risks(d, &[]);
    for env in ["production", "staging"] {
        assert!(
            got.contains(&("exposure".into(), "high".into(), env.into())),
            "{got:?}"
        );
    }
    // review.failOn is the default of --fail-on; the flag overrides it, and
    // `none` turns it off.
    expect(&run(d, &["diff", "old", "new"]), 1);
    expect(&run(d, &["diff", "old", "new", "--fail-on", "none"]), 0);
    expect(&run(d, &["diff", "old", "new", "--fail-on", "cost"]), 0);
    let o = run(d, &["diff", "old", "new", "--fail-on", "none,exposure"]);
    expect(&o, 2);
    assert!(stderr(&o).contains("--fail-on none"), "{}", stderr(&o));
    // --config wins over the paved.yaml found from the current folder: the
    // built-in settings know `nginx-public` as the public class, and fail on nothing.
    write(d, "builtin.yaml", &default_paved_yaml());
    let got = risks(d, &["--config", "builtin.yaml"]);
    assert!(
        got.contains(&("exposure".into(), "medium".into(), "production".into())),
        "{got:?}"
    );
    expect(
        &run(d, &["diff", "old", "new", "--config", "builtin.yaml"]),
        0,
    );

    // Replicas doubled: under the platform's factor 3, not a cost risk; under
    // the built-in 1.5, one.
    write(
        d,
        "services/inventory/platform.yaml",
        &inventory("").replace("replicas: 2", "replicas: 4"),
    );
    std::fs::remove_dir_all(d.join("new")).unwrap();
    expect(&run(d, &["render", "services", "--out", "new"]), 0);
    assert!(
        !risks(d, &[]).iter().any(|r| r.0 == "cost"),
        "{:?}",
        risks(d, &[])
    );
    assert!(
        risks(d, &["--config", "builtin.yaml"])
            .iter()
            .any(|r| r.0 == "cost"),
        "{:?}",
        risks(d, &["--config", "builtin.yaml"])
    );
}

#[test]
fn diff_promotion_severity_follows_the_platform_default_of_each_environment() {
    let dir = project();
    let d = dir.path();
    let promote = |staging: &str, production: &str| {
        format!(
            "{}  environments:\n    staging: {{promote: {staging}}}\n    production: {{promote: {production}}}\n",
            spec("inventory")
        )
    };
    write(
        d,
        "services/inventory/platform.yaml",
        &promote("manual", "manual"),
    );
    expect(&run(d, &["render", "services", "--out", "old"]), 0);
    write(
        d,
        "services/inventory/platform.yaml",
        &promote("auto", "auto"),
    );
    expect(&run(d, &["render", "services", "--out", "new"]), 0);
    // Production promotes by hand by default (built-in config), staging automatically.
    let mut got = risks(d, &[]);
    got.sort();
    assert_eq!(
        got,
        [
            ("promotion".into(), "high".into(), "production".into()),
            ("promotion".into(), "medium".into(), "staging".into()),
        ]
    );
    // With a paved.yaml whose staging promotes by hand too: high in both.
    write(
        d,
        "paved.yaml",
        &default_paved_yaml().replace(
            "promote: auto      # services",
            "promote: manual    # services",
        ),
    );
    let got = risks(d, &[]);
    assert_eq!(
        got,
        [
            ("promotion".into(), "high".into(), "production".into()),
            ("promotion".into(), "high".into(), "staging".into()),
        ]
    );
}

#[test]
fn diff_reports_a_renamed_database_as_one_renamed_change_and_a_data_loss_risk() {
    let dir = project();
    let d = dir.path();
    expect(&run(d, &["render", "services", "--out", "old"]), 0);
    let renamed = spec("orders").replace("orders-db:", "orders-store:");
    assert_ne!(renamed, spec("orders"));
    write(d, "services/orders/platform.yaml", &renamed);
    expect(&run(d, &["render", "services", "--out", "new"]), 0);
    let o = run(d, &["diff", "old", "new", "--format", "json"]);
    expect(&o, 0);
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    let losses: Vec<&serde_json::Value> = v["risks"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["category"] == "data-loss")
        .collect();
    assert_eq!(losses.len(), 2, "{v:#}");
    for r in &losses {
        let m = r["message"].as_str().unwrap();
        assert!(
            m.contains("renamed from `orders-db` to `orders-store`"),
            "{m}"
        );
    }
    // One change per environment for the XR, not a removal and an addition.
    let xrs: Vec<&serde_json::Value> = v["changes"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["kind"] == "PostgreSQLInstance")
        .collect();
    assert_eq!(xrs.len(), 2, "{xrs:#?}");
    for c in xrs {
        assert_eq!(c["change"], "changed", "{c:#}");
        assert_eq!(c["name"], "orders-store", "{c:#}");
        assert_eq!(c["renamedFrom"], "orders-db", "{c:#}");
    }
}

#[test]
fn diff_base_takes_the_review_settings_from_the_work_tree_paved_yaml() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    git(d, &["init", "-q", "-b", "main"]);
    write(d, "services/inventory/platform.yaml", &spec("inventory"));
    write(d, "paved.yaml", &default_paved_yaml());
    git(d, &["add", "."]);
    git(d, &["commit", "-q", "-m", "base"]);
    // A new image (a promotion risk in production), and a platform that now
    // fails on promotion risks.
    write(
        d,
        "services/inventory/platform.yaml",
        &spec("inventory").replace("inventory:2.0.1", "inventory:2.0.2"),
    );
    write(
        d,
        "paved.yaml",
        &format!(
            "{}  review: {{failOn: [promotion]}}\n",
            default_paved_yaml()
        ),
    );
    let o = run(d, &["diff", "--base", "main"]);
    expect(&o, 1);
    assert!(stdout(&o).contains("promotion"), "{}", stdout(&o));
    expect(&run(d, &["diff", "--base", "main", "--fail-on", "none"]), 0);
}

#[test]
fn diff_base_reads_what_sits_beside_a_spec_at_the_base_revision() {
    // An API definition and a docs folder beside the spec: the base side
    // must see them as the work tree does, or its catalog differs (or the
    // spec is refused) although neither changed.
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    git(d, &["init", "-q", "-b", "main"]);
    let orders = spec("orders").replace("  dependsOn: [component:inventory]\n", "").replace(
        "spec:\n",
        "spec:\n  providesApis: [orders-api]\n  apis:\n    - {name: orders-api, type: openapi, definition: api/openapi.yaml}\n",
    );
    assert!(orders.contains("definition: api/openapi.yaml"), "{orders}");
    write(d, "services/orders/platform.yaml", &orders);
    write(d, "services/orders/api/openapi.yaml", "openapi: 3.0.0\n");
    write(d, "services/orders/docs/index.md", "# Orders\n");
    write(d, "services/orders/mkdocs.yml", "site_name: orders\n");
    git(d, &["add", "."]);
    git(d, &["commit", "-q", "-m", "base"]);
    write(
        d,
        "services/orders/platform.yaml",
        &orders.replace("LOG_LEVEL: info", "LOG_LEVEL: debug"),
    );
    let o = run(d, &["diff", "--base", "main", "--format", "json"]);
    expect(&o, 0);
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    let changed: Vec<&str> = v["changes"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|c| c["newPath"].as_str().or(c["oldPath"].as_str()))
        .collect();
    assert!(
        changed.iter().all(|p| !p.starts_with("catalog/")),
        "only the env var changed, yet the catalog differs: {changed:?}\n{}",
        stdout(&o)
    );
    assert!(!changed.is_empty(), "{}", stdout(&o));
}

#[test]
fn diff_against_a_git_base_renders_both_sides_in_memory() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    git(d, &["init", "-q", "-b", "main"]);
    write(d, "services/orders/platform.yaml", &spec("orders"));
    write(d, "services/inventory/platform.yaml", &spec("inventory"));
    git(d, &["add", "."]);
    git(d, &["commit", "-q", "-m", "base"]);
    // Work tree: one env var changed, and a new service.
    write(
        d,
        "services/orders/platform.yaml",
        &spec("orders").replace("LOG_LEVEL: info", "LOG_LEVEL: debug"),
    );
    write(d, "services/mailer/platform.yaml", "apiVersion: paved.dev/v1\nkind: Application\nmetadata: {name: mailer, owner: team-orders, costCenter: cc-1234}\nspec:\n  type: worker\n  image: ghcr.io/acme/mailer:1.0.0\n");
    let before = read_tree(d);
    let o = run(
        d,
        &["diff", "--base", "main", "services", "--format", "json"],
    );
    expect(&o, 0);
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    // The env var in both environments, mailer's files, and the team's Argo
    // CD project, which now also deploys mailer; nothing removed. Pinned
    // without the diffs, one change a line.
    let mut changes = format!("{}\n", v["summary"]);
    for c in v["changes"].as_array().unwrap() {
        let mut c = c.clone();
        c.as_object_mut().unwrap().remove("diff");
        changes.push_str(&format!("{c}\n"));
    }
    pin("diff-base.jsonl", d, &changes);
    // Read-only: nothing in the work tree or .git changed, and no worktree was added.
    assert_eq!(read_tree(d), before);

    // From a subfolder, with no path: the current folder at both revisions.
    let o = run(
        &d.join("services"),
        &["diff", "--base", "main", "--exit-code"],
    );
    expect(&o, 1);
    assert!(
        stdout(&o)
            .contains("      -              value: info\n      +              value: debug\n"),
        "{}",
        stdout(&o)
    );
    pin(
        "diff-base-subfolder.txt",
        d,
        &without_bodies(&stdout(&o), 6),
    );

    let o = run(d, &["diff", "--base", "no-such-branch"]);
    expect(&o, 2);
    pin("diff-base-unknown-revision.stderr", d, &stderr(&o));
    let outside = tempfile::tempdir().unwrap();
    let o = run(outside.path(), &["diff", "--base", "main"]);
    expect(&o, 2);
    pin("diff-base-outside-git.stderr", outside.path(), &stderr(&o));
}

#[test]
fn diff_base_holds_only_the_files_of_what_changed() {
    // Four services; one image bumped. `--base` renders both revisions but
    // keeps only the files that differ and those of the (environment,
    // service) pairs they belong to; `-v` says how many it held.
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    git(d, &["init", "-q", "-b", "main"]);
    write(d, "services/inventory/platform.yaml", &spec("inventory"));
    for name in ["billing", "mailer", "search"] {
        write(
            d,
            &format!("services/{name}/platform.yaml"),
            &spec("inventory").replace("inventory", name),
        );
    }
    git(d, &["add", "."]);
    git(d, &["commit", "-q", "-m", "base"]);
    let spec_path = d.join("services/mailer/platform.yaml");
    let text = std::fs::read_to_string(&spec_path).unwrap();
    let bumped = text.replace(":2.0.1", ":2.0.2");
    assert_ne!(text, bumped);
    std::fs::write(&spec_path, bumped).unwrap();
    let o = run(d, &["diff", "--base", "main", "-v"]);
    expect(&o, 0);
    let err = stderr(&o);
    let line = err
        .lines()
        .find(|l| l.contains("rendered files held for comparison"))
        .unwrap_or_else(|| panic!("no count of held files in:\n{err}"));
    let numbers: Vec<usize> = line
        .split(|c: char| !c.is_ascii_digit())
        .filter_map(|w| w.parse().ok())
        .collect();
    let [held, total] = numbers[..] else {
        panic!("{line}")
    };
    // Every file of one service of four, on both sides, is under a third of all.
    assert!(held > 0 && held * 3 < total, "{line}");
    let o = run(d, &["diff", "--base", "main", "--format", "json"]);
    expect(&o, 0);
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    let services: Vec<&serde_json::Value> = v["changes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| &c["service"])
        .collect();
    assert!(!services.is_empty(), "{}", stdout(&o));
    assert!(services.iter().all(|s| *s == "mailer"), "{services:?}");
}

// ----------------------------------------------------------------- init

#[test]
fn init_scaffolds_each_type_that_validates_and_renders_with_no_edits() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::create_dir(d.join(".git")).unwrap();
    for (name, kind) in [
        ("orders", "service"),
        ("mailer", "worker"),
        ("nightly", "cronjob"),
    ] {
        let folder = format!("svc/{name}");
        let o = run(d, &["init", name, "--type", kind, "--dir", &folder]);
        expect(&o, 0);
        assert_eq!(
            stderr(&o),
            format!(
                "Created {folder}/platform.yaml for the {kind} `{name}`.\nNext: edit the lines marked `change me`, then run\n    paved validate {folder}\n    paved render {folder}\n"
            )
        );
        pin(
            &format!("init-{kind}.yaml"),
            d,
            &std::fs::read_to_string(d.join(&folder).join("platform.yaml")).unwrap(),
        );
        let o = run(d, &["validate", &folder]);
        expect(&o, 0);
        assert_eq!(
            snap::redact_elapsed(&stderr(&o)),
            "Validated 1 service in [ELAPSED] (workspace `.`, built-in config)\n"
        );
    }
    let o = run(d, &["render", "svc", "--out", "out"]);
    expect(&o, 0);
    for file in [
        "out/staging/nightly/cronjob-nightly.yaml",
        "out/production/mailer/deployment-mailer.yaml",
        "out/production/orders/service-orders.yaml",
    ] {
        assert!(d.join(file).is_file(), "{file}");
    }

    // Under a platform config: its registry and sizes (the data case
    // init-follows-platform-config pins the file), and it validates as is.
    let case = copy_case(&root().join("tests/cmd/init-follows-platform-config.in"));
    expect(
        &run(case.path(), &["init", "orders", "--dir", "svc/orders"]),
        0,
    );
    expect(&run(case.path(), &["validate", "svc"]), 0);
}

// ----------------------------------------------------------------- explain, schema, pipes

#[test]
fn every_code_printed_by_a_diagnostic_can_be_explained() {
    for c in paved::testing::codes::CODES {
        let o = paved().args(["explain", c.code]).output().unwrap();
        expect(&o, 0);
    }
}

#[test]
fn schema_prints_the_embedded_schemas() {
    for (args, file) in [
        (&["schema"][..], "schemas/platform.v1.schema.json"),
        (&["schema", "--platform"], "schemas/paved.v1.schema.json"),
    ] {
        let o = paved().args(args).output().unwrap();
        expect(&o, 0);
        assert!(
            o.stdout == std::fs::read(root().join(file)).unwrap(),
            "{args:?}"
        );
        assert!(o.stderr.is_empty(), "{args:?}");
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

/// `paved cost` gives a service the same figures whatever the folder it runs
/// in and whether the path selects it alone: the repository is the unit.
#[test]
fn cost_figures_do_not_depend_on_the_current_folder() {
    let dir = copy_case(&root().join("tests/cmd/shared/cost"));
    let run = |cwd: &Path, args: &[&str]| {
        let o = paved()
            .args(["cost", "--format", "csv"])
            .args(args)
            .current_dir(cwd)
            .output()
            .unwrap();
        assert_eq!(o.status.code(), Some(0), "{args:?}");
        String::from_utf8(o.stdout).unwrap()
    };
    let orders = |csv: &str| -> Vec<String> {
        csv.lines()
            .filter(|l| l.contains(",orders,"))
            .map(str::to_string)
            .collect()
    };
    let whole = run(dir.path(), &[]);
    let from_root = run(dir.path(), &["services/orders"]);
    let from_inside = run(&dir.path().join("services/orders"), &["."]);
    assert_eq!(orders(&whole).len(), 2, "{whole}");
    assert_eq!(orders(&from_root), orders(&whole));
    assert_eq!(from_inside, from_root);
    // only the selected service
    assert_eq!(from_root.lines().count(), 3, "{from_root}");
}

/// `paved validate --format json` in `d`: each finding's code, severity,
/// file and line.
fn findings(d: &Path) -> Vec<(String, String, String, u64)> {
    let o = run(d, &["validate", "services", "--format", "json"]);
    stdout(&o)
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter(|v| v["code"].is_string())
        .map(|v| {
            let f = |k: &str| v[k].as_str().unwrap_or_default().to_string();
            (
                f("code"),
                f("severity"),
                f("file"),
                v["line"].as_u64().unwrap_or(0),
            )
        })
        .collect()
}

#[test]
fn a_budget_counts_the_autoscaler_ceiling_and_is_quiet_within_it() {
    let dir = project();
    let d = dir.path();
    let config = |budget: &str| {
        platform_with(&format!(
            "  teams:\n    team-stock: {{group: \"sso:stock\"}}\n  cost: {{currency: EUR, cpuPerCoreHour: 0.04, memoryPerGiBHour: 0.005}}\n  budgets:\n    team-stock: {{production: {budget}}}\n  budgetEnforcement: error\n"
        ))
    };
    // One pod a month: (0.5 × 0.04 + 1 × 0.005) × 730 = 18.25; 2 to 6 pods:
    // 36.50 to 109.50. The floor is within 100, the ceiling is not.
    write(
        d,
        "services/inventory/platform.yaml",
        &format!(
            "{}  replicas: auto\n  autoscaling: {{min: 2, max: 6}}\n  compute: {{cpu: 500m, memory: 1Gi}}\n",
            spec("inventory")
        ),
    );
    write(d, "paved.yaml", &config("100"));
    let got = findings(d);
    assert_eq!(
        got,
        [(
            "paved::policy::over-budget".to_string(),
            "error".to_string(),
            "services/inventory/platform.yaml".to_string(),
            // `autoscaling: {min: 2, max: 6}`: the line of the ceiling
            12
        )],
        "{got:?}"
    );
    let o = run(d, &["validate", "services"]);
    expect(&o, 1);
    // The report wraps its lines: compare the words.
    let words = stderr(&o).replace('│', " ");
    let words = words.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(
        words.contains(
            "estimated at 109.50 EUR a month in production, 9.50 EUR over its budget of 100.00 EUR"
        ),
        "{words}"
    );
    // Within the budget (the ceiling is 109.50): no finding.
    write(d, "paved.yaml", &config("109.5"));
    assert_eq!(findings(d), []);
    expect(&run(d, &["validate", "services"]), 0);
}
