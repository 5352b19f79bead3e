//! `--format sarif`: every log Paved writes is valid SARIF 2.1.0 (the OASIS
//! schema, vendored under `tests/external-schemas/sarif/`), and its results
//! say what `fixtures/invalid/<case>/expect.txt` says: the rule, the file, the
//! line and the column of each diagnostic.

use std::path::Path;
use std::sync::OnceLock;

use serde_json::Value;

use crate::support::fixtures::{copy_case, paved, root};

fn validator() -> &'static jsonschema::Validator {
    static V: OnceLock<jsonschema::Validator> = OnceLock::new();
    V.get_or_init(|| {
        let path = root().join("tests/external-schemas/sarif/sarif-schema-2.1.0.json");
        let schema: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
        jsonschema::options()
            .should_validate_formats(true)
            .build(&schema)
            .expect("the SARIF schema compiles")
    })
}

/// Parses a SARIF log and checks it against the schema and the choices every
/// Paved log makes (one run, the `paved` driver, columns in code points).
pub(crate) fn checked_log(text: &str) -> Value {
    let log: Value = serde_json::from_str(text)
        .unwrap_or_else(|e| panic!("not one JSON document ({e}):\n{text}"));
    let errors: Vec<String> = validator()
        .iter_errors(&log)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    assert!(
        errors.is_empty(),
        "invalid SARIF:\n{}\n{text}",
        errors.join("\n")
    );
    assert_eq!(log["version"], "2.1.0");
    let runs = log["runs"].as_array().expect("runs");
    assert_eq!(runs.len(), 1, "{text}");
    let run = &runs[0];
    assert_eq!(run["tool"]["driver"]["name"], "paved");
    assert_eq!(run["columnKind"], "unicodeCodePoints");
    // Every result names a rule of the driver, by id and by index.
    let rules = run["tool"]["driver"]["rules"].as_array().expect("rules");
    for r in run["results"].as_array().expect("results") {
        let index = r["ruleIndex"].as_u64().expect("ruleIndex") as usize;
        assert_eq!(rules[index]["id"], r["ruleId"], "{r}");
        assert!(rules[index]["shortDescription"]["text"].is_string());
    }
    log
}

/// `(code, line, column, file)` of every result, as `expect.txt` spells them.
fn results(log: &Value) -> Vec<String> {
    let mut out: Vec<String> = log["runs"][0]["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            let loc = &r["locations"][0]["physicalLocation"];
            let (line, col) = match loc["region"].is_object() {
                true => (
                    loc["region"]["startLine"].as_u64().unwrap(),
                    loc["region"]["startColumn"].as_u64().unwrap(),
                ),
                // A finding of a whole file: expect.txt says 1:1.
                false => (1, 1),
            };
            let uri = loc["artifactLocation"]["uri"].as_str().unwrap_or("");
            assert!(
                uri.is_empty() || loc["artifactLocation"]["uriBaseId"] == "%SRCROOT%",
                "{r}"
            );
            format!("{} {line}:{col} {uri}", r["ruleId"].as_str().unwrap())
        })
        .collect();
    out.sort();
    out
}

fn expected(case: &Path) -> Vec<String> {
    let text = std::fs::read_to_string(case.join("expect.txt")).unwrap();
    let mut out: Vec<String> = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(String::from)
        .collect();
    out.sort();
    out
}

/// Cases of every stage (config, schema, load, semantic, policy, collisions
/// across files, CR line breaks, a byte-order mark warning, control
/// characters in the input), each run as `paved validate . --format sarif`.
const CASES: &[&str] = &[
    "config-unknown-field",
    "config-syntax-error",
    "control-bidi-override",
    "control-raw-escape-in-file",
    "bom-warning-only",
    "image-latest-tag",
    "missing-cost-center",
    "collision-namespace",
    "crlf-duplicate-key",
    "cr-only-syntax-error",
    "cpu-invalid",
    "config-invalid-utf8",
];

#[test]
fn sarif_of_invalid_cases_is_valid_and_says_what_expect_says() {
    let mut failures = Vec::new();
    for name in CASES {
        let case = root().join("fixtures/invalid").join(name);
        assert!(
            !case.join("args").exists(),
            "{name}: a case run by `validate .`"
        );
        let copy = copy_case(&case);
        let out = paved()
            .current_dir(copy.path())
            .args(["validate", ".", "--format", "sarif"])
            .output()
            .unwrap();
        let stdout = String::from_utf8(out.stdout).expect("UTF-8 on stdout");
        assert!(
            !stdout.chars().any(|c| c.is_control() && c != '\n'),
            "{name}: a control character in the log"
        );
        let log = checked_log(&stdout);
        let levels: Vec<&str> = log["runs"][0]["results"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["level"].as_str().unwrap())
            .collect();
        assert!(levels.iter().all(|l| ["error", "warning"].contains(l)));
        let failed = levels.contains(&"error");
        if out.status.code() != Some(if failed { 1 } else { 0 }) {
            failures.push(format!("{name}: exit {:?}, levels {levels:?}", out.status));
        }
        let (got, want) = (results(&log), expected(&case));
        if got != want {
            failures.push(format!("{name}:\n  got  {got:?}\n  want {want:?}"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn sarif_of_a_valid_workspace_is_a_log_without_results() {
    let out = paved()
        .current_dir(root().join("fixtures/quickstart/input"))
        .args(["validate", ".", "--format", "sarif"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let log = checked_log(&String::from_utf8(out.stdout).unwrap());
    assert_eq!(log["runs"][0]["results"], serde_json::json!([]));
    assert!(
        out.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn secondary_labels_are_related_locations() {
    let case = root().join("fixtures/invalid/collision-namespace");
    let copy = copy_case(&case);
    let out = paved()
        .current_dir(copy.path())
        .args(["validate", ".", "--format", "sarif"])
        .output()
        .unwrap();
    let log = checked_log(&String::from_utf8(out.stdout).unwrap());
    let result = &log["runs"][0]["results"][0];
    let related = result["relatedLocations"].as_array().expect("related");
    assert!(!related.is_empty(), "{result}");
    for r in related {
        let loc = &r["physicalLocation"];
        assert!(loc["region"]["startLine"].as_u64().unwrap() >= 1, "{r}");
        assert!(r["message"]["text"].is_string(), "{r}");
    }
    assert!(result["partialFingerprints"].is_object(), "{result}");
}

#[test]
fn the_sarif_of_every_cli_case_is_valid() {
    let dir = root().join("tests/cmd");
    let mut seen = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().to_string();
        if !name.ends_with(".toml") {
            continue;
        }
        let toml = std::fs::read_to_string(&path).unwrap();
        if !toml.contains("--format sarif") {
            continue;
        }
        let stdout = std::fs::read_to_string(path.with_extension("stdout")).unwrap();
        checked_log(&stdout);
        seen += 1;
    }
    assert!(
        seen >= 3,
        "validate, check and policy each have a SARIF case"
    );
}

#[test]
fn the_vendored_schema_refuses_a_broken_log() {
    let good = serde_json::json!({
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {"name": "paved", "rules": []}},
            "columnKind": "unicodeCodePoints",
            "results": [{
                "ruleId": "paved::x", "ruleIndex": 0, "level": "error",
                "message": {"text": "m"},
                "locations": [{"physicalLocation": {
                    "artifactLocation": {"uri": "a.yaml", "uriBaseId": "%SRCROOT%"},
                    "region": {"startLine": 1, "startColumn": 1}
                }}]
            }]
        }]
    });
    assert!(validator().is_valid(&good));
    for (pointer, bad) in [
        (
            "/runs/0/results/0/locations/0/physicalLocation/region/startLine",
            serde_json::json!(0),
        ),
        ("/runs/0/results/0/level", serde_json::json!("fatal")),
        ("/runs/0/columnKind", serde_json::json!("bytes")),
        ("/version", serde_json::json!("2.0.0")),
    ] {
        let mut log = good.clone();
        *log.pointer_mut(pointer).unwrap() = bad;
        assert!(!validator().is_valid(&log), "{pointer}");
    }
}

/// `check` with a warning and drift: still one log, holding both.
#[test]
fn check_puts_warnings_and_drift_in_one_log() {
    let dir = copy_case(&root().join("tests/cmd/shared/project"));
    let render = paved()
        .current_dir(dir.path())
        .args(["render", "services", "--out", "out", "-q"])
        .output()
        .unwrap();
    assert_eq!(render.status.code(), Some(0));
    std::fs::remove_file(dir.path().join("out/catalog/orders.yaml")).unwrap();
    let spec = dir.path().join("services/orders/platform.yaml");
    let text = std::fs::read_to_string(&spec).unwrap();
    std::fs::write(&spec, format!("\u{feff}{text}")).unwrap();
    let out = paved()
        .current_dir(dir.path())
        .args(["check", "services", "--out", "out", "--format", "sarif"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let log = checked_log(&String::from_utf8(out.stdout).unwrap());
    let got: Vec<(String, String, String)> = log["runs"][0]["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            let uri = &r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"];
            (
                r["ruleId"].as_str().unwrap().to_string(),
                r["level"].as_str().unwrap().to_string(),
                uri.as_str().unwrap().to_string(),
            )
        })
        .collect();
    let want = [
        (
            "paved::load::byte-order-mark",
            "warning",
            "services/orders/platform.yaml",
        ),
        ("paved::check::drift", "error", "out/catalog/orders.yaml"),
    ]
    .map(|(a, b, c)| (a.to_string(), b.to_string(), c.to_string()));
    assert_eq!(got, want);
}
