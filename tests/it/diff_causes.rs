//! `paved diff --base`: a group of changes whose cause is a changed line of
//! `paved.yaml`, of a blueprint override or of a spec is headed by that
//! file and line (`caused by paved.yaml:27 (spec.sizes.small.cpu)`), in
//! every format; two folders have no inputs, so no causes.

use std::path::Path;

use crate::support::fixtures::{expect, git, root, run, stdout, write};

fn inventory() -> String {
    std::fs::read_to_string(
        root().join("tests/cmd/shared/project/services/inventory/platform.yaml"),
    )
    .unwrap()
}

fn default_paved_yaml() -> String {
    std::fs::read_to_string(root().join("src/paved.default.yaml")).unwrap()
}

/// The 1-based number of the first line of `text` containing `needle`.
fn line_of(text: &str, needle: &str) -> usize {
    text.lines()
        .position(|l| l.contains(needle))
        .unwrap_or_else(|| panic!("no line with `{needle}` in\n{text}"))
        + 1
}

/// A Git repository with `files` committed on `main`.
fn repo(files: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    git(d, &["init", "-q", "-b", "main"]);
    for (path, text) in files {
        write(d, path, text);
    }
    git(d, &["add", "."]);
    git(d, &["commit", "-q", "-m", "base"]);
    dir
}

/// The `diff --base main` JSON document.
fn json(d: &Path) -> serde_json::Value {
    let o = run(d, &["diff", "--base", "main", "--format", "json"]);
    expect(&o, 0);
    serde_json::from_str(&stdout(&o)).unwrap()
}

/// Each group's fields and causes (`file:line`), as the JSON has them.
fn group_causes(v: &serde_json::Value) -> Vec<(Vec<String>, Vec<String>)> {
    v["groups"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| {
            let fields = g["fields"]
                .as_array()
                .unwrap()
                .iter()
                .map(|f| f.as_str().unwrap().to_string())
                .collect();
            let causes = g["causes"]
                .as_array()
                .unwrap_or_else(|| panic!("every group has `causes`: {g:#}"))
                .iter()
                .map(|c| format!("{}:{}", c["file"].as_str().unwrap(), c["line"]))
                .collect();
            (fields, causes)
        })
        .collect()
}

#[test]
fn a_size_changed_in_paved_yaml_heads_its_group_with_that_line() {
    let old = default_paved_yaml();
    let was = "small: {cpu: 100m,";
    assert!(old.contains(was), "{old}");
    let dir = repo(&[
        ("paved.yaml", &old),
        ("services/inventory/platform.yaml", &inventory()),
    ]);
    let d = dir.path();
    let new = old.replace(was, "small: {cpu: 500m,");
    write(d, "paved.yaml", &new);
    let line = line_of(&new, "small: {cpu: 500m,");
    let at = format!("paved.yaml:{line}");

    let v = json(d);
    let groups = group_causes(&v);
    let cpu = groups
        .iter()
        .find(|(f, _)| f.iter().any(|f| f.ends_with("resources.requests.cpu")))
        .unwrap_or_else(|| panic!("no group changes a cpu request: {v:#}"));
    assert_eq!(cpu.1, vec![at.clone()], "{v:#}");
    let g = v["groups"]
        .as_array()
        .unwrap()
        .iter()
        .find(|g| !g["causes"].as_array().unwrap().is_empty())
        .unwrap();
    assert_eq!(g["causes"][0]["text"], "spec.sizes.small.cpu", "{g:#}");

    let o = run(d, &["diff", "--base", "main"]);
    expect(&o, 0);
    let text = stdout(&o);
    assert!(
        text.contains(&format!("caused by {at} (spec.sizes.small.cpu)")),
        "{text}"
    );
    // The cause heads the group: it comes before the group's fields.
    let head = text.find("caused by").unwrap();
    let fields = text.find("fields:").unwrap();
    assert!(head < fields, "{text}");

    let o = run(d, &["diff", "--base", "main", "--format", "markdown"]);
    expect(&o, 0);
    let md = stdout(&o);
    assert!(
        md.contains(&format!(
            "caused by <code>{at}</code> (spec.sizes.small.cpu)"
        )),
        "{md}"
    );
}

#[test]
fn a_changed_blueprint_override_line_heads_its_group() {
    let bp = std::fs::read_to_string(root().join("blueprints/service/deployment.yaml")).unwrap();
    let was = "revisionHistoryLimit: 5";
    assert!(bp.contains(was), "{bp}");
    let config = format!("{}  blueprints: ./blueprints\n", default_paved_yaml());
    let dir = repo(&[
        ("paved.yaml", &config),
        ("blueprints/service/deployment.yaml", &bp),
        ("services/inventory/platform.yaml", &inventory()),
    ]);
    let d = dir.path();
    let new = bp.replace(was, "revisionHistoryLimit: 7");
    write(d, "blueprints/service/deployment.yaml", &new);
    let at = format!(
        "blueprints/service/deployment.yaml:{}",
        line_of(&new, "revisionHistoryLimit: 7")
    );

    let v = json(d);
    let groups = group_causes(&v);
    let limit = groups
        .iter()
        .find(|(f, _)| f.iter().any(|f| f == "spec.revisionHistoryLimit"))
        .unwrap_or_else(|| panic!("no group changes revisionHistoryLimit: {v:#}"));
    assert_eq!(limit.1, vec![at.clone()], "{v:#}");

    let o = run(d, &["diff", "--base", "main"]);
    expect(&o, 0);
    assert!(
        stdout(&o).contains(&format!("caused by {at} (revisionHistoryLimit: 7)")),
        "{}",
        stdout(&o)
    );
}

#[test]
fn an_image_changed_in_a_spec_is_caused_by_the_spec_line_not_the_platform() {
    let spec = inventory();
    let dir = repo(&[
        ("paved.yaml", &default_paved_yaml()),
        ("services/inventory/platform.yaml", &spec),
    ]);
    let d = dir.path();
    let new = spec.replace("inventory:2.0.1", "inventory:2.0.2");
    write(d, "services/inventory/platform.yaml", &new);
    let at = format!(
        "services/inventory/platform.yaml:{}",
        line_of(&new, "inventory:2.0.2")
    );

    let v = json(d);
    let groups = group_causes(&v);
    assert!(!groups.is_empty(), "{v:#}");
    for (fields, causes) in &groups {
        assert!(
            causes
                .iter()
                .all(|c| !c.starts_with("paved.yaml") && !c.starts_with("blueprints/")),
            "{fields:?}: {causes:?}"
        );
    }
    let image = groups
        .iter()
        .find(|(f, _)| f.iter().any(|f| f.ends_with("].image")))
        .unwrap_or_else(|| panic!("no group changes the image: {v:#}"));
    assert_eq!(image.1, vec![at], "{v:#}");
}

#[test]
fn two_folders_have_no_inputs_so_no_causes() {
    let dir = repo(&[
        ("paved.yaml", &default_paved_yaml()),
        ("services/inventory/platform.yaml", &inventory()),
    ]);
    let d = dir.path();
    expect(&run(d, &["render", "--out", "old"]), 0);
    write(
        d,
        "paved.yaml",
        &default_paved_yaml().replace("small: {cpu: 100m,", "small: {cpu: 500m,"),
    );
    expect(&run(d, &["render", "--out", "new"]), 0);
    let o = run(d, &["diff", "old", "new", "--format", "json"]);
    expect(&o, 0);
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    let groups = group_causes(&v);
    assert!(!groups.is_empty(), "{v:#}");
    assert!(groups.iter().all(|(_, c)| c.is_empty()), "{v:#}");
    let o = run(d, &["diff", "old", "new"]);
    assert!(!stdout(&o).contains("caused by"), "{}", stdout(&o));
}
