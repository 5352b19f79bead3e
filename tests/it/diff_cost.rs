//! The monthly cost delta of `paved diff` (docs/cost.md, "In review"), on
//! the `commerce` fixture, whose paved.yaml has a price table: figures
//! computed by hand from its prices, the same figures as `paved cost` on
//! each side (the oracle), in folder mode and with `--base`, and the
//! `review.costThreshold` risk.
//!
//! The prices: 0.04 a core-hour, 0.005 a GiB-hour, 730 hours. A pod of
//! 100m and 128Mi (the default size): (0.1 × 0.04 + 0.125 × 0.005) × 730 =
//! 3.37625 a month; of 1 core and 1Gi (`size: large`): 32.85. PostgreSQL
//! `large` 120, `standard` 60; Redis `small` 10, `standard` 20.

use std::collections::BTreeMap;
use std::collections::BTreeSet;
use std::path::Path;

use serde_json::Value as Json;

use crate::support::fixtures::{copy_case, expect, git, root, run, stderr, stdout, write};
use crate::support::snap;

/// The commerce input in a folder of its own (a `.git` folder bounds the
/// search for paved.yaml there).
fn commerce() -> tempfile::TempDir {
    let dir = copy_case(&root().join("fixtures/commerce/input"));
    std::fs::create_dir(dir.path().join(".git")).unwrap();
    dir
}

fn read(d: &Path, rel: &str) -> String {
    std::fs::read_to_string(d.join(rel)).unwrap()
}

/// Edits a file of `d`: `from` must be in it.
fn edit(d: &Path, rel: &str, from: &str, to: &str) {
    let text = read(d, rel);
    assert!(text.contains(from), "`{from}` not in {rel}:\n{text}");
    write(d, rel, &text.replacen(from, to, 1));
}

fn json(o: &std::process::Output) -> Json {
    serde_json::from_str(&stdout(o)).unwrap_or_else(|e| panic!("{e}: {}", stdout(o)))
}

/// The diff's `cost.changes` as (environment, service) → (old, new, delta),
/// each `min–max` (or one figure when they are equal), `-` for none.
fn deltas(v: &Json) -> BTreeMap<(String, String), (String, String, String)> {
    let shown = |r: &Json| -> String {
        if r.is_null() {
            return "-".into();
        }
        let (min, max) = (r["min"].as_str().unwrap(), r["max"].as_str().unwrap());
        if min == max {
            min.to_string()
        } else {
            format!("{min}..{max}")
        }
    };
    v["cost"]["changes"]
        .as_array()
        .unwrap_or_else(|| panic!("no cost.changes in {v:#}"))
        .iter()
        .map(|c| {
            (
                (
                    c["environment"].as_str().unwrap().to_string(),
                    c["service"].as_str().unwrap().to_string(),
                ),
                (shown(&c["old"]), shown(&c["new"]), shown(&c["delta"])),
            )
        })
        .collect()
}

fn key(env: &str, service: &str) -> (String, String) {
    (env.to_string(), service.to_string())
}

fn row(old: &str, new: &str, delta: &str) -> (String, String, String) {
    (old.to_string(), new.to_string(), delta.to_string())
}

/// `paved cost --format json` in `d`: (environment, service) → monthly.
fn cost_rows(d: &Path) -> BTreeMap<(String, String), Json> {
    let o = run(d, &["cost", "--format", "json"]);
    expect(&o, 0);
    json(&o)["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                key(
                    r["environment"].as_str().unwrap(),
                    r["service"].as_str().unwrap(),
                ),
                r["monthly"].clone(),
            )
        })
        .collect()
}

/// Each change's `old` (`new`) is the `paved cost` figure of its
/// (environment, service) on the old (new) side.
fn assert_oracle(
    v: &Json,
    before: &BTreeMap<(String, String), Json>,
    after: &BTreeMap<(String, String), Json>,
) {
    let changes = v["cost"]["changes"].as_array().unwrap();
    assert!(!changes.is_empty(), "{v:#}");
    for c in changes {
        let k = key(
            c["environment"].as_str().unwrap(),
            c["service"].as_str().unwrap(),
        );
        assert_eq!(Some(&c["old"]), before.get(&k), "old side of {k:?}");
        assert_eq!(Some(&c["new"]), after.get(&k), "new side of {k:?}");
    }
}

#[test]
fn folders_show_the_delta_of_a_size_and_a_replicas_change_as_paved_cost_computes_it() {
    let dir = commerce();
    let d = dir.path();
    let before = cost_rows(d);
    expect(&run(d, &["render", "--out", "old"]), 0);
    edit(
        d,
        "inventory/platform.yaml",
        "  image: ghcr.io/acme/inventory:1.8.4\n",
        "  image: ghcr.io/acme/inventory:1.8.4\n  size: large\n",
    );
    edit(
        d,
        "order-events/platform.yaml",
        "replicas: 2",
        "replicas: 3",
    );
    let after = cost_rows(d);
    expect(&run(d, &["render", "--out", "new"]), 0);
    let o = run(d, &["diff", "old", "new", "--format", "json"]);
    expect(&o, 0);
    let v = json(&o);
    // inventory: 2–10 pods of 3.37625, + 120 → 126.7525–153.7625; of
    // 32.85 → 185.70–448.50; + 58.9475–294.7375.
    // order-events: 2 → 3 pods of 3.37625: + 3.37625, + Redis standard
    // (production, 20) or small (staging, 10).
    let want: BTreeMap<_, _> = [
        (
            key("production", "inventory"),
            row("126.75..153.76", "185.70..448.50", "58.95..294.74"),
        ),
        (
            key("staging", "inventory"),
            row("126.75..153.76", "185.70..448.50", "58.95..294.74"),
        ),
        (
            key("production", "order-events"),
            row("26.75", "30.13", "3.38"),
        ),
        (
            key("staging", "order-events"),
            row("16.75", "20.13", "3.38"),
        ),
    ]
    .into_iter()
    .collect();
    assert_eq!(deltas(&v), want, "{:#}", v["cost"]);
    // The total of the changed rows, each rounded once from the exact sum:
    // old 297.01–351.03, new 421.6575–947.2575, + 124.6475–596.2275.
    let total = &v["cost"]["total"];
    assert_eq!(
        total["old"],
        serde_json::json!({"min": "297.01", "max": "351.03"})
    );
    assert_eq!(
        total["new"],
        serde_json::json!({"min": "421.66", "max": "947.26"})
    );
    assert_eq!(
        total["delta"],
        serde_json::json!({"min": "124.65", "max": "596.23"})
    );
    assert_eq!(v["cost"]["currency"], "EUR");
    assert_eq!(v["cost"]["basis"], "requests");
    assert_eq!(v["cost"]["hoursPerMonth"], 730);
    assert_oracle(&v, &before, &after);

    // Text and markdown: the same figures in the summary.
    let o = run(d, &["diff", "old", "new"]);
    expect(&o, 0);
    let text = stdout(&o);
    assert!(text.contains("Monthly cost estimate in EUR"), "{text}");
    assert!(
        text.lines().any(|l| l.contains("production / inventory")
            && l.contains("126.75–153.76 → 185.70–448.50")
            && l.contains("+58.95 to +294.74")),
        "{text}"
    );
    assert!(
        text.lines().any(|l| l.starts_with("  total")
            && l.contains("297.01–351.03 → 421.66–947.26")
            && l.contains("+124.65 to +596.23")),
        "{text}"
    );
    let o = run(d, &["diff", "old", "new", "--format", "markdown"]);
    expect(&o, 0);
    let md = stdout(&o);
    assert!(
        md.contains("| staging | order-events | 16.75 | 20.13 | +3.38 |"),
        "{md}"
    );
    assert!(
        md.contains(
            "| **total** | | **297.01–351.03** | **421.66–947.26** | **+124.65 to +596.23** |"
        ),
        "{md}"
    );
    // The comment whole, pinned.
    let path = root().join("tests/snapshots/cli/diff-cost.md");
    if let Err(e) = snap::check(&path, &snap::redact(&md, d)) {
        panic!("{e}");
    }
}

#[test]
fn base_shows_the_delta_of_an_autoscaling_range_and_a_database_class_and_of_a_price() {
    let dir = commerce();
    let d = dir.path();
    std::fs::remove_dir(d.join(".git")).unwrap();
    git(d, &["init", "-q", "-b", "main"]);
    git(d, &["add", "."]);
    git(d, &["commit", "-q", "-m", "base"]);
    let before = cost_rows(d);
    // payments: the autoscaler 2–10 → 3–12; inventory's database large → standard.
    edit(
        d,
        "payments/platform.yaml",
        "  providesApis: [payments-api]\n",
        "  providesApis: [payments-api]\n  autoscaling: {min: 3, max: 12}\n",
    );
    edit(
        d,
        "inventory/platform.yaml",
        "class: large",
        "class: standard",
    );
    let after = cost_rows(d);
    let o = run(d, &["diff", "--base", "main", "--format", "json"]);
    expect(&o, 0);
    let v = json(&o);
    // payments: 6.7525–33.7625 → 3 × 3.37625 = 10.12875 – 12 × = 40.515.
    // inventory: 120 → 60 for the database.
    let want: BTreeMap<_, _> = [
        (
            key("production", "payments"),
            row("6.75..33.76", "10.13..40.52", "3.38..6.75"),
        ),
        (
            key("staging", "payments"),
            row("6.75..33.76", "10.13..40.52", "3.38..6.75"),
        ),
        (
            key("production", "inventory"),
            row("126.75..153.76", "66.75..93.76", "-60.00"),
        ),
        (
            key("staging", "inventory"),
            row("126.75..153.76", "66.75..93.76", "-60.00"),
        ),
    ]
    .into_iter()
    .collect();
    assert_eq!(deltas(&v), want, "{:#}", v["cost"]);
    assert_oracle(&v, &before, &after);

    // Only the price of a core-hour changed, in the work tree's paved.yaml:
    // no workload differs (the prices reach only the catalog's estimate and
    // the dashboards' cost panels), and each side priced with its own table,
    // every instance's estimate moves. nightly-report's range starts at 0.
    git(d, &["checkout", "-q", "--", "."]);
    edit(
        d,
        "paved.yaml",
        "cpuPerCoreHour: 0.04",
        "cpuPerCoreHour: 0.05",
    );
    let after = cost_rows(d);
    let o = run(d, &["diff", "--base", "main", "--format", "json"]);
    expect(&o, 0);
    let v = json(&o);
    let kinds: BTreeSet<&str> = v["changes"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|c| c["kind"].as_str())
        .collect();
    assert_eq!(kinds, BTreeSet::from(["Component", "ConfigMap"]), "{v:#}");
    assert_eq!(deltas(&v).len(), before.len(), "{:#}", v["cost"]);
    assert_oracle(&v, &before, &after);
    // production / payments: 0.1 core × 0.01 more × 730 = 0.73 a pod, 2–10 pods.
    assert_eq!(
        deltas(&v)[&key("production", "payments")].2,
        "1.46..7.30",
        "{:#}",
        v["cost"]
    );
}

#[test]
fn no_price_table_no_cost_output() {
    let dir = copy_case(&root().join("tests/cmd/shared/project"));
    let d = dir.path();
    std::fs::create_dir(d.join(".git")).unwrap();
    expect(&run(d, &["render", "services", "--out", "old"]), 0);
    let spec = read(d, "services/inventory/platform.yaml");
    write(
        d,
        "services/inventory/platform.yaml",
        &format!("{spec}  replicas: 4\n"),
    );
    expect(&run(d, &["render", "services", "--out", "new"]), 0);
    let o = run(d, &["diff", "old", "new", "--format", "json"]);
    expect(&o, 0);
    let v = json(&o);
    assert!(v["summary"]["changed"].as_u64().unwrap() > 0, "{v:#}");
    // The key is there, null: no table, no figures (and no guess).
    assert_eq!(v.get("cost"), Some(&Json::Null), "{v:#}");
    for format in ["text", "markdown"] {
        let o = run(d, &["diff", "old", "new", "--format", format]);
        expect(&o, 0);
        assert!(!stdout(&o).contains("Monthly cost"), "{}", stdout(&o));
        assert!(!stdout(&o).contains("EUR"), "{}", stdout(&o));
    }
}

/// The cost risks of `diff old new` (json) in `d`: their messages.
fn cost_risks(d: &Path) -> Vec<(String, String, String)> {
    let o = run(
        d,
        &[
            "diff",
            "old",
            "new",
            "--format",
            "json",
            "--fail-on",
            "none",
        ],
    );
    expect(&o, 0);
    json(&o)["risks"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["category"] == "cost")
        .map(|r| {
            (
                r["environment"].as_str().unwrap().to_string(),
                r["resource"].as_str().unwrap().to_string(),
                r["message"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

#[test]
fn the_cost_threshold_by_percent_or_amount_replaces_the_factor_for_workloads() {
    let dir = commerce();
    let d = dir.path();
    expect(&run(d, &["render", "--out", "old"]), 0);
    edit(
        d,
        "inventory/platform.yaml",
        "  image: ghcr.io/acme/inventory:1.8.4\n",
        "  image: ghcr.io/acme/inventory:1.8.4\n  size: large\n",
    );
    edit(
        d,
        "order-events/platform.yaml",
        "replicas: 2",
        "replicas: 3",
    );
    expect(&run(d, &["render", "--out", "new"]), 0);
    // Without a threshold: the factor rule (inventory's requests × 10).
    let got = cost_risks(d);
    assert!(
        got.iter().any(|r| r.2.starts_with("up by more than")),
        "{got:?}"
    );

    let with = |review: &str| {
        let text = read(d, "paved.yaml");
        let base = text.split("  review:").next().unwrap().to_string();
        write(d, "paved.yaml", &format!("{base}  review: {review}\n"));
    };
    // +20 %: inventory's maximum 153.7625 → 448.50 (+191.7 %) is a risk in
    // both environments; order-events' 26.7525 → 30.12875 (+12.6 %) and
    // 16.7525 → 20.12875 (+20.2 %: staging) — staging is over.
    with("{costThreshold: {percent: 20}}");
    let got = cost_risks(d);
    let services: Vec<(&str, &str)> = got.iter().map(|r| (r.0.as_str(), r.1.as_str())).collect();
    assert_eq!(
        services,
        [
            ("production", "inventory"),
            ("staging", "inventory"),
            ("staging", "order-events"),
        ],
        "{got:?}"
    );
    assert!(
        got[0].2.contains("126.75–153.76 → 185.70–448.50 EUR")
            && got[0].2.contains("+294.74")
            && got[0].2.contains("+191.7 %"),
        "{got:?}"
    );
    assert!(
        !got.iter().any(|r| r.2.starts_with("up by more than")),
        "the factor rule is replaced: {got:?}"
    );
    // +3 a month: every change of the four is over (order-events + 3.38).
    with("{costThreshold: {monthly: 3}}");
    assert_eq!(cost_risks(d).len(), 4, "{:?}", cost_risks(d));
    // Below both: no cost risk at all.
    with("{costThreshold: {percent: 300, monthly: 500}}");
    assert_eq!(cost_risks(d), Vec::<(String, String, String)>::new());
    // --fail-on cost gates the threshold's risk.
    with("{costThreshold: {percent: 20}}");
    let o = run(d, &["diff", "old", "new", "--fail-on", "cost"]);
    expect(&o, 1);
    assert!(stderr(&o).contains("risk gate: cost"), "{}", stderr(&o));
    with("{costThreshold: {percent: 300}, failOn: [cost]}");
    expect(&run(d, &["diff", "old", "new"]), 0);
}

/// The storefront input (Argo Rollouts: every workload is a `Rollout`, web's
/// scaled by a HorizontalPodAutoscaler) with a price table and a threshold,
/// in a folder of its own.
fn storefront() -> tempfile::TempDir {
    let dir = copy_case(&root().join("fixtures/storefront/input"));
    std::fs::create_dir(dir.path().join(".git")).unwrap();
    let text = read(dir.path(), "paved.yaml");
    write(
        dir.path(),
        "paved.yaml",
        &format!(
            "{text}\n  cost:\n    currency: EUR\n    cpuPerCoreHour: 0.04\n    memoryPerGiBHour: 0.005\n    resources:\n      postgresql: {{small: 30, standard: 60, large: 120}}\n      redis: {{small: 10, standard: 20, large: 40}}\n  review: {{costThreshold: {{percent: 20, monthly: 500}}}}\n"
        ),
    );
    dir
}

#[test]
fn folders_price_argo_rollouts_as_paved_cost_does() {
    let dir = storefront();
    let d = dir.path();
    let before = cost_rows(d);
    // Every service is new: each row's new figure is `paved cost`'s.
    std::fs::create_dir(d.join("empty")).unwrap();
    expect(&run(d, &["render", "--out", "old"]), 0);
    let o = run(
        d,
        &[
            "diff",
            "empty",
            "old",
            "--format",
            "json",
            "--fail-on",
            "none",
        ],
    );
    expect(&o, 0);
    let v = json(&o);
    let rows: BTreeSet<(String, String)> = deltas(&v).into_keys().collect();
    assert_eq!(rows, before.keys().cloned().collect(), "{:#}", v["cost"]);
    for c in v["cost"]["changes"].as_array().unwrap() {
        let k = key(
            c["environment"].as_str().unwrap(),
            c["service"].as_str().unwrap(),
        );
        assert_eq!(Some(&c["new"]), before.get(&k), "new side of {k:?}");
    }
    // web's autoscaler 3–12 → 3–120 in production: a cost change, over the
    // threshold, one risk (not the factor rule's as well), gated.
    edit(
        d,
        "web/platform.yaml",
        "autoscaling: {min: 3, max: 12}",
        "autoscaling: {min: 3, max: 120}",
    );
    let after = cost_rows(d);
    expect(&run(d, &["render", "--out", "new"]), 0);
    let o = run(
        d,
        &[
            "diff",
            "old",
            "new",
            "--format",
            "json",
            "--fail-on",
            "none",
        ],
    );
    expect(&o, 0);
    let v = json(&o);
    assert_eq!(
        deltas(&v).into_keys().collect::<Vec<_>>(),
        [key("production", "web")],
        "{:#}",
        v["cost"]
    );
    assert_oracle(&v, &before, &after);
    let risks = cost_risks(d);
    assert_eq!(risks.len(), 1, "{risks:?}");
    assert!(
        risks[0].2.contains("over review.costThreshold"),
        "{risks:?}"
    );
    let o = run(d, &["diff", "old", "new", "--fail-on", "cost"]);
    expect(&o, 1);
}

#[test]
fn base_gives_one_cost_risk_for_a_rollout_change() {
    let dir = storefront();
    let d = dir.path();
    std::fs::remove_dir(d.join(".git")).unwrap();
    git(d, &["init", "-q", "-b", "main"]);
    git(d, &["add", "."]);
    git(d, &["commit", "-q", "-m", "base"]);
    edit(d, "web/platform.yaml", "size: medium", "size: large");
    let o = run(
        d,
        &[
            "diff",
            "--base",
            "main",
            "--format",
            "json",
            "--fail-on",
            "none",
        ],
    );
    expect(&o, 0);
    let risks: Vec<(String, String)> = json(&o)["risks"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["category"] == "cost")
        .map(|r| {
            (
                r["environment"].as_str().unwrap().to_string(),
                r["message"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    // One risk per environment, the threshold's: the factor rule does not
    // judge the Rollout too.
    assert_eq!(risks.len(), 2, "{risks:?}");
    assert!(
        risks
            .iter()
            .all(|r| r.1.contains("over review.costThreshold")),
        "{risks:?}"
    );
}

#[test]
fn a_quantity_too_large_to_price_is_refused_by_every_command_without_a_panic() {
    let dir = commerce();
    let d = dir.path();
    expect(&run(d, &["render", "--out", "old"]), 0);
    edit(
        d,
        "checkout/platform.yaml",
        "size: medium",
        "compute: {cpu: 250m, memory: \"9999999999999999999999999Ti\"}",
    );
    for args in [&["validate"][..], &["render", "--out", "new"], &["cost"]] {
        let o = run(d, args);
        expect(&o, 1);
        assert!(
            stderr(&o).contains("paved::semantic::unpriceable-quantity"),
            "{args:?}: {}",
            stderr(&o)
        );
    }
    // Rendered objects no estimate can price: the diff refuses them (exit 1).
    expect(&run(d, &["render", "--out", "new"]), 1);
    std::fs::create_dir_all(d.join("new")).unwrap();
    for f in walk(&d.join("old")) {
        let rel = f.strip_prefix(d.join("old")).unwrap();
        let to = d.join("new").join(rel);
        std::fs::create_dir_all(to.parent().unwrap()).unwrap();
        let mut text = std::fs::read_to_string(&f).unwrap();
        if rel.ends_with("production/checkout/deployment-checkout.yaml") {
            text = text.replace("memory: 1Gi", "memory: 9999999999999999T");
        }
        std::fs::write(to, text).unwrap();
    }
    let o = run(d, &["diff", "old", "new"]);
    expect(&o, 1);
    assert!(
        stderr(&o).contains("paved::semantic::unpriceable-quantity")
            && stderr(&o).contains("`checkout` in production cannot be priced"),
        "{}",
        stderr(&o)
    );
}

fn walk(d: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(d).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out
}
