//! The integration tests stay one binary (see `main.rs`): a new top-level
//! `tests/*.rs` file, a `tests/<dir>/main.rs` or a `[[test]]` target in
//! Cargo.toml would build and link a second one.

use crate::support::fixtures::root;

#[test]
fn the_integration_tests_are_one_binary() {
    let mut extra = Vec::new();
    for e in std::fs::read_dir(root().join("tests")).unwrap().flatten() {
        let path = e.path();
        let name = e.file_name().to_string_lossy().to_string();
        if path.is_file() && name.ends_with(".rs") {
            extra.push(format!("tests/{name}"));
        }
        if path.is_dir() && name != "it" && path.join("main.rs").is_file() {
            extra.push(format!("tests/{name}/main.rs"));
        }
    }
    extra.sort();
    assert!(
        extra.is_empty(),
        "each of these builds another test binary: {extra:?}; make it a module of tests/it/main.rs instead"
    );

    // Any `[[test]]` target other than tests/it/main.rs is another binary.
    let manifest = std::fs::read_to_string(root().join("Cargo.toml")).unwrap();
    let mut sections: Vec<(&str, Vec<String>)> = Vec::new();
    for line in manifest.lines().map(str::trim) {
        if line.starts_with('[') {
            sections.push((line, Vec::new()));
        } else if let Some((_, body)) = sections.last_mut() {
            body.push(line.replace(' ', ""));
        }
    }
    let targets: Vec<&Vec<String>> = sections
        .iter()
        .filter(|(header, _)| *header == "[[test]]")
        .map(|(_, body)| body)
        .collect();
    assert!(
        targets.len() <= 1
            && targets
                .iter()
                .all(|body| body.iter().any(|l| l == "path=\"tests/it/main.rs\"")),
        "Cargo.toml has a [[test]] target besides tests/it/main.rs: {targets:?}"
    );
}
