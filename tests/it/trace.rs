//! `paved trace` (docs/cli.md, "paved trace"): each field family — a spec
//! value, an environment override, a size from paved.yaml, a blueprint
//! literal, a built-in default — traced to the exact line and column, with
//! the expected positions computed from the files the test reads.

use std::path::Path;

use serde_json::Value;

use crate::support::fixtures::{expect, root, run, stderr, stdout, write};

const SPEC: &str = "apiVersion: paved.dev/v1
kind: Application
metadata:
  name: api
  description: The public API
  owner: team-a
  costCenter: cc-1
spec:
  image: ghcr.io/acme/api:1.0.0
  size: medium
  ports:
    - {name: http, port: 8080}
  environments:
    staging: {}
    production:
      image: ghcr.io/acme/api:1.0.1
";

/// A workspace with the quickstart's paved.yaml and one service, rendered
/// into `rendered/`.
fn workspace() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let config =
        std::fs::read_to_string(root().join("fixtures/quickstart/input/paved.yaml")).unwrap();
    write(dir.path(), "paved.yaml", &config);
    write(dir.path(), "services/api/platform.yaml", SPEC);
    expect(&run(dir.path(), &["render", "--out", "rendered", "-q"]), 0);
    dir
}

/// `file:line:col` of the first `needle` in `text` (after `after`, when given).
fn at(file: &str, text: &str, after: &str, needle: &str) -> String {
    let start = text.find(after).expect("anchor in the file");
    let offset = start + text[start..].find(needle).expect("needle in the file");
    let line = text[..offset].matches('\n').count() + 1;
    let col = offset - text[..offset].rfind('\n').map_or(0, |n| n + 1) + 1;
    format!("{file}:{line}:{col}")
}

/// `<built-in>/PATH:LINE` of the first line of a built-in blueprint holding `needle`.
fn blueprint_line(path: &str, needle: &str) -> String {
    let text = std::fs::read_to_string(root().join("blueprints").join(path)).unwrap();
    let n = text
        .lines()
        .position(|l| l.contains(needle))
        .expect("the blueprint line");
    format!("<built-in>/{path}:{}", n + 1)
}

fn trace_json(dir: &Path, args: &[&str]) -> Value {
    let mut all = vec!["trace"];
    all.extend(args);
    all.extend(["--format", "json"]);
    let o = run(dir, &all);
    expect(&o, 0);
    serde_json::from_str(&stdout(&o)).expect("one JSON document")
}

/// The origins of the one field traced, as `(kind, at)`.
fn origins(v: &Value) -> Vec<(String, Option<String>)> {
    let fields = v["fields"].as_array().expect("fields");
    assert_eq!(fields.len(), 1, "{v:#}");
    fields[0]["origins"]
        .as_array()
        .expect("origins")
        .iter()
        .map(|o| {
            (
                o["kind"].as_str().unwrap_or("").to_string(),
                o["at"].as_str().map(str::to_string),
            )
        })
        .collect()
}

fn pair(kind: &str, at: &str) -> (String, Option<String>) {
    (kind.to_string(), Some(at.to_string()))
}

const IMAGE: &str = "spec.template.spec.containers[0].image";

#[test]
fn a_spec_value_is_traced_to_its_line_and_the_blueprint_line() {
    let dir = workspace();
    let v = trace_json(
        dir.path(),
        &["rendered/staging/api/deployment-api.yaml", IMAGE],
    );
    assert_eq!(v["fields"][0]["value"], "ghcr.io/acme/api:1.0.0");
    assert_eq!(
        origins(&v),
        vec![
            pair(
                "spec",
                &at(
                    "services/api/platform.yaml",
                    SPEC,
                    "spec:",
                    "ghcr.io/acme/api:1.0.0"
                )
            ),
            pair(
                "blueprint",
                &blueprint_line("_partials/pod.yaml", "image: {{ service.image }}")
            ),
        ]
    );
}

#[test]
fn an_environment_override_is_traced_to_the_override_line() {
    let dir = workspace();
    let v = trace_json(
        dir.path(),
        &["rendered/production/api/deployment-api.yaml", IMAGE],
    );
    assert_eq!(v["fields"][0]["value"], "ghcr.io/acme/api:1.0.1");
    assert_eq!(
        origins(&v)[0],
        pair(
            "environment-override",
            &at(
                "services/api/platform.yaml",
                SPEC,
                "production:",
                "ghcr.io/acme/api:1.0.1"
            )
        )
    );
}

#[test]
fn a_size_is_traced_to_the_spec_size_line_and_the_paved_yaml_sizes_line() {
    let dir = workspace();
    let config = std::fs::read_to_string(dir.path().join("paved.yaml")).unwrap();
    let v = trace_json(
        dir.path(),
        &[
            "rendered/staging/api/deployment-api.yaml",
            "spec.template.spec.containers[0].resources.requests.cpu",
        ],
    );
    assert_eq!(v["fields"][0]["value"], "250m");
    assert_eq!(
        origins(&v),
        vec![
            pair(
                "size",
                &at("services/api/platform.yaml", SPEC, "size:", "medium")
            ),
            pair(
                "platform-config",
                &at("paved.yaml", &config, "medium:", "250m")
            ),
            pair(
                "blueprint",
                &blueprint_line(
                    "_partials/pod.yaml",
                    "cpu: {{ service.compute.requests.cpu }}"
                )
            ),
        ]
    );
}

#[test]
fn a_blueprint_literal_is_traced_to_its_blueprint_line() {
    let dir = workspace();
    let v = trace_json(
        dir.path(),
        &[
            "rendered/staging/api/deployment-api.yaml",
            "spec.revisionHistoryLimit",
        ],
    );
    assert_eq!(
        origins(&v),
        vec![pair(
            "blueprint-literal",
            &blueprint_line("service/deployment.yaml", "revisionHistoryLimit: 5")
        )]
    );
}

#[test]
fn a_built_in_default_names_no_file_and_the_blueprint_line() {
    let dir = workspace();
    let config = std::fs::read_to_string(dir.path().join("paved.yaml")).unwrap();
    assert!(
        !config.contains("autoscaling"),
        "the default must not be written in paved.yaml for this test"
    );
    let v = trace_json(
        dir.path(),
        &[
            "rendered/staging/api/horizontalpodautoscaler-api.yaml",
            "spec.maxReplicas",
        ],
    );
    let o = origins(&v);
    assert_eq!(o[0], ("built-in-default".to_string(), None), "{v:#}");
    assert_eq!(
        o[1],
        pair(
            "blueprint",
            &blueprint_line("service/hpa.yaml", "{{ service.autoscaling.max }}")
        )
    );
}

#[test]
fn json_names_the_resource_and_every_field() {
    let dir = workspace();
    let v = trace_json(dir.path(), &["rendered/staging/api/deployment-api.yaml"]);
    assert_eq!(v["resource"]["kind"], "Deployment");
    assert_eq!(v["resource"]["name"], "api");
    assert_eq!(v["resource"]["namespace"], "api");
    assert_eq!(v["resource"]["environment"], "staging");
    assert_eq!(v["resource"]["service"], "api");
    assert_eq!(
        v["resource"]["blueprint"],
        "<built-in>/service/deployment.yaml"
    );
    let fields = v["fields"].as_array().unwrap();
    assert!(fields.len() > 40, "every leaf field: {}", fields.len());
    for f in fields {
        assert!(f["path"].is_string() && f["pointer"].is_string(), "{f}");
        assert!(!f["origins"].as_array().unwrap().is_empty(), "{f}");
    }
    // The same fields, in the order of the file.
    let file = std::fs::read_to_string(dir.path().join("rendered/staging/api/deployment-api.yaml"))
        .unwrap();
    let last = fields.last().unwrap()["path"].as_str().unwrap();
    assert!(last.ends_with("sizeLimit"), "{last}");
    assert!(file.trim_end().ends_with("sizeLimit: 256Mi"));
}

#[test]
fn resource_form_matches_the_file_form() {
    let dir = workspace();
    let by_file = trace_json(
        dir.path(),
        &["rendered/production/api/deployment-api.yaml", IMAGE],
    );
    let by_name = trace_json(
        dir.path(),
        &[
            "--resource",
            "Deployment/api/api",
            "--env",
            "production",
            IMAGE,
        ],
    );
    assert_eq!(by_file, by_name);
    // Without --env, an object of two environments is ambiguous.
    let o = run(dir.path(), &["trace", "--resource", "Deployment/api/api"]);
    expect(&o, 2);
    assert!(
        stderr(&o).contains("staging, production; choose one with --env"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn text_shows_each_origin_on_its_own_line() {
    let dir = workspace();
    let o = run(
        dir.path(),
        &[
            "trace",
            "rendered/production/api/deployment-api.yaml",
            IMAGE,
        ],
    );
    expect(&o, 0);
    let out = stdout(&o);
    assert!(
        out.starts_with("Deployment api (namespace api) in production"),
        "{out}"
    );
    let want = at(
        "services/api/platform.yaml",
        SPEC,
        "production:",
        "ghcr.io/acme/api:1.0.1",
    );
    assert!(
        out.lines()
            .any(|l| l.trim_start().starts_with("environment-override") && l.contains(&want)),
        "{out}"
    );
}

#[test]
fn an_unknown_field_is_a_usage_error_with_a_suggestion() {
    let dir = workspace();
    let o = run(
        dir.path(),
        &[
            "trace",
            "rendered/staging/api/deployment-api.yaml",
            "spec.revisionHistoryLimt",
        ],
    );
    expect(&o, 2);
    assert!(
        stderr(&o).contains(
            "has no field `spec.revisionHistoryLimt`; did you mean `spec.revisionHistoryLimit`?"
        ),
        "{}",
        stderr(&o)
    );
}

#[test]
fn a_file_paved_did_not_generate_is_refused() {
    let dir = workspace();
    write(
        dir.path(),
        "rendered/staging/api/mine.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n",
    );
    for file in [
        "rendered/staging/api/mine.yaml",
        "paved.yaml",
        "services/api/platform.yaml",
    ] {
        let o = run(dir.path(), &["trace", file]);
        expect(&o, 2);
        assert!(
            stderr(&o).contains("was not generated by Paved"),
            "{file}: {}",
            stderr(&o)
        );
    }
    let o = run(dir.path(), &["trace", "rendered/nope.yaml"]);
    expect(&o, 2);
    assert!(stderr(&o).contains("cannot read"), "{}", stderr(&o));
}

#[test]
fn odd_arguments_never_panic() {
    let dir = workspace();
    let cases: &[&[&str]] = &[
        &["trace"],
        &["trace", "--resource", "Deployment"],
        &["trace", "--resource", "//"],
        &[
            "trace",
            "--resource",
            "Deployment/api/nope",
            "--env",
            "staging",
        ],
        &[
            "trace",
            "--resource",
            "Deployment/api/api",
            "--env",
            "nowhere",
        ],
        &[
            "trace",
            "rendered/staging/api/deployment-api.yaml",
            "/spec/nope",
        ],
        &["trace", "rendered/staging/api/deployment-api.yaml", "[0]"],
        &["trace", "rendered/staging/api/kustomization.yaml"],
        &["trace", "rendered"],
    ];
    for args in cases {
        let o = run(dir.path(), args);
        assert!(
            o.status.code().is_some_and(|c| c == 1 || c == 2),
            "{args:?}: {}",
            stderr(&o)
        );
        assert!(!stderr(&o).contains("panicked"), "{args:?}: {}", stderr(&o));
    }
}

#[test]
fn a_stale_file_is_named_and_the_current_render_is_traced() {
    let dir = workspace();
    let file = dir.path().join("rendered/staging/api/deployment-api.yaml");
    let text = std::fs::read_to_string(&file).unwrap();
    std::fs::write(
        &file,
        text.replace("ghcr.io/acme/api:1.0.0", "ghcr.io/acme/api:0.9.0"),
    )
    .unwrap();
    let o = run(
        dir.path(),
        &["trace", "rendered/staging/api/deployment-api.yaml", IMAGE],
    );
    expect(&o, 0);
    assert!(
        stderr(&o).contains("is not what the specs render now (run `paved render`)"),
        "{}",
        stderr(&o)
    );
    assert!(
        stdout(&o).contains("\"ghcr.io/acme/api:1.0.0\""),
        "{}",
        stdout(&o)
    );
}

#[test]
fn a_built_in_size_is_traced_to_the_built_in_config_line() {
    // A paved.yaml without `sizes`: the built-in sizes apply, and the trace
    // names their line in the built-in config.
    let dir = workspace();
    let config = std::fs::read_to_string(dir.path().join("paved.yaml")).unwrap();
    let start = config
        .find("  sizes:\n")
        .expect("sizes in the quickstart config");
    // The section: its line and the more-indented lines below it.
    let end = start
        + 9
        + config[start + 9..]
            .lines()
            .take_while(|l| l.starts_with("    "))
            .map(|l| l.len() + 1)
            .sum::<usize>();
    let without = format!("{}{}", &config[..start], &config[end..]);
    assert!(!without.contains("sizes:"), "{without}");
    write(dir.path(), "paved.yaml", &without);
    let builtin = std::fs::read_to_string(root().join("src/paved.default.yaml")).unwrap();
    let v = trace_json(
        dir.path(),
        &[
            "rendered/staging/api/deployment-api.yaml",
            "spec.template.spec.containers[0].resources.limits.cpu",
        ],
    );
    let o = origins(&v);
    assert_eq!(
        o[0],
        pair(
            "size",
            &at("services/api/platform.yaml", SPEC, "size:", "medium")
        ),
        "{v:#}"
    );
    assert_eq!(
        o[1],
        pair(
            "platform-config",
            &at("<built-in paved.yaml>", &builtin, "medium:", "250m")
        ),
        "{v:#}"
    );
}

#[test]
fn a_catalog_file_is_refused_as_what_it_is() {
    let dir = workspace();
    let o = run(dir.path(), &["trace", "rendered/catalog/api.yaml"]);
    expect(&o, 2);
    let e = stderr(&o);
    assert!(e.contains("catalog"), "{e}");
    assert!(e.contains("cannot be traced"), "{e}");
    assert!(!e.contains("trace one object with --resource"), "{e}");
}
