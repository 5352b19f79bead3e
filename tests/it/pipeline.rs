//! End-to-end properties of the pipeline that issue-level users rely on:
//! determinism whatever the discovery order, and values that can never
//! change a document's structure.

use std::path::Path;

use crate::support::fixtures::{documents, paved, read_tree, write};

fn spec(name: &str, deps: &[&str], description: &str) -> String {
    let deps: Vec<String> = deps.iter().map(|d| format!("component:{d}")).collect();
    format!(
        "apiVersion: paved.dev/v1\nkind: Application\nmetadata:\n  name: {name}\n  description: {description}\n  owner: team-a\n  costCenter: cc-1\nspec:\n  image: ghcr.io/acme/{name}:1.0.0\n  ports:\n    - {{name: http, port: 8080}}\n  dependsOn: [{}]\n",
        deps.join(", ")
    )
}

/// `paved render PATHS --out OUT` with `extra` flags.
fn run_render(args: &[&Path], out: &Path, extra: &[&str]) -> std::process::Output {
    paved()
        .arg("render")
        .args(extra)
        .args(args)
        .arg("--out")
        .arg(out)
        .output()
        .unwrap()
}

fn render(args: &[&Path], out: &Path) {
    let o = run_render(args, out, &["--quiet"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
}

#[test]
fn output_is_identical_whatever_the_discovery_order() {
    let services = [
        ("alpha", vec!["gamma"]),
        ("beta", vec!["alpha"]),
        ("gamma", vec![]),
    ];
    let a = tempfile::tempdir().unwrap();
    let b = tempfile::tempdir().unwrap();
    // Same tree, files created in opposite orders (directory listing order
    // follows creation order on many file systems).
    for (name, deps) in &services {
        let deps: Vec<&str> = deps.iter().map(|s| &**s).collect();
        write(
            a.path(),
            &format!("svc/{name}/platform.yaml"),
            &spec(name, &deps, "x"),
        );
    }
    for (name, deps) in services.iter().rev() {
        let deps: Vec<&str> = deps.iter().map(|s| &**s).collect();
        write(
            b.path(),
            &format!("svc/{name}/platform.yaml"),
            &spec(name, &deps, "x"),
        );
    }
    let (oa, ob, oc) = (
        tempfile::tempdir().unwrap(),
        tempfile::tempdir().unwrap(),
        tempfile::tempdir().unwrap(),
    );
    render(&[&a.path().join("svc")], oa.path());
    render(&[&b.path().join("svc")], ob.path());
    // Paths given one by one, in reverse order.
    let svc = b.path().join("svc");
    render(
        &[&svc.join("gamma"), &svc.join("beta"), &svc.join("alpha")],
        oc.path(),
    );
    let ta = read_tree(oa.path());
    assert!(ta.len() > 10, "too few files rendered: {}", ta.len());
    assert_eq!(ta, read_tree(ob.path()));
    assert_eq!(ta, read_tree(oc.path()));
}

#[test]
fn a_second_render_changes_nothing_and_keeps_mtimes() {
    let a = tempfile::tempdir().unwrap();
    write(a.path(), "x/platform.yaml", &spec("x", &[], "x"));
    let out = tempfile::tempdir().unwrap();
    render(&[a.path()], out.path());
    let f = out.path().join("staging/x/deployment-x.yaml");
    let before = std::fs::metadata(&f).unwrap().modified().unwrap();
    std::thread::sleep(std::time::Duration::from_millis(20));
    let o = run_render(&[a.path()], out.path(), &[]);
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(stderr.contains(" 0 written,"), "{stderr}");
    assert_eq!(before, std::fs::metadata(&f).unwrap().modified().unwrap());
}

#[test]
fn removed_services_lose_their_files_and_foreign_files_stay() {
    let a = tempfile::tempdir().unwrap();
    write(a.path(), "x/platform.yaml", &spec("x", &[], "x"));
    write(a.path(), "y/platform.yaml", &spec("y", &[], "y"));
    let out = tempfile::tempdir().unwrap();
    render(&[a.path()], out.path());
    write(out.path(), "staging/y/NOTES.md", "hand-written\n");
    write(out.path(), "staging/y/extra.yaml", "kind: ConfigMap\n");
    std::fs::remove_dir_all(a.path().join("y")).unwrap();
    render(&[a.path()], out.path());
    let tree = read_tree(out.path());
    assert!(!tree.contains_key("staging/y/deployment-y.yaml"));
    assert!(tree.contains_key("staging/x/deployment-x.yaml"));
    assert_eq!(tree["staging/y/NOTES.md"], b"hand-written\n");
    assert_eq!(tree["staging/y/extra.yaml"], b"kind: ConfigMap\n");
}

#[test]
fn errors_leave_the_output_folder_untouched() {
    let a = tempfile::tempdir().unwrap();
    write(a.path(), "x/platform.yaml", &spec("x", &[], "x"));
    let out = tempfile::tempdir().unwrap();
    render(&[a.path()], out.path());
    let before = read_tree(out.path());
    write(a.path(), "y/platform.yaml", &spec("y", &["nope"], "y"));
    let o = run_render(&[a.path()], out.path(), &[]);
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(before, read_tree(out.path()));
}

/// A value holding YAML or template syntax comes out as the same string and
/// adds no document, key or object.
#[test]
fn interpolated_values_never_change_structure() {
    let evil =
        "line one\nkind: ClusterRole\n---\napiVersion: v1\n{{ 7 * 7 }} {% raw %}$${x}: yes #";
    let plain = "plain";
    let render_with = |value: &str| {
        let a = tempfile::tempdir().unwrap();
        let text = spec("x", &[], "d").replace(
            "  ports:",
            &format!(
                "  env:\n    GREETING: {}\n  ports:",
                serde_json::to_string(value).unwrap()
            ),
        );
        let text = text.replace(
            "description: d",
            &format!("description: {}", serde_json::to_string(value).unwrap()),
        );
        write(a.path(), "x/platform.yaml", &text);
        let out = tempfile::tempdir().unwrap();
        render(&[a.path()], out.path());
        (documents(out.path()), out)
    };
    let (evil_docs, _o1) = render_with(evil);
    let (plain_docs, _o2) = render_with(plain);
    assert_eq!(
        evil_docs.len(),
        plain_docs.len(),
        "the number of documents changed"
    );
    for ((p1, d1), (p2, d2)) in evil_docs.iter().zip(&plain_docs) {
        assert_eq!(p1, p2);
        assert_eq!(d1["kind"], d2["kind"]);
        assert_eq!(shape(d1), shape(d2), "{p1}: structure changed");
    }
    // `$${` is the escape for a literal `${`.
    let rendered = evil.replace("$${", "${");
    let found = evil_docs.iter().any(|(_, d)| {
        d.pointer("/spec/template/spec/containers/0/env")
            .and_then(|e| e.as_array())
            .is_some_and(|env| env.iter().any(|v| v["value"] == rendered.as_str()))
    });
    assert!(found, "the value did not round-trip exactly");
    assert!(!evil_docs.iter().any(|(_, d)| d["kind"] == "ClusterRole"));
}

/// The keys of a document at every level, without the scalar values.
fn shape(v: &serde_json::Value) -> serde_json::Value {
    match v {
        serde_json::Value::Object(m) => m.iter().map(|(k, v)| (k.clone(), shape(v))).collect(),
        serde_json::Value::Array(a) => a.iter().map(shape).collect(),
        _ => serde_json::Value::Null,
    }
}
