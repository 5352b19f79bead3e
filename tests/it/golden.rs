//! Golden tests: every fixture renders byte for byte to its committed
//! `expected/` tree, and every rendered object is accepted by the real
//! upstream schemas (Kubernetes 1.31 strict, the CRDs Paved targets, and the
//! XRDs and ConstraintTemplates Paved renders itself).

use crate::support::fixtures::{self, bless, golden_cases, read_tree};
use crate::support::schemas::Schemas;

#[test]
fn every_fixture_matches_its_expected_tree() {
    let cases = golden_cases();
    assert!(!cases.is_empty(), "no golden fixtures found");
    let mut failures = Vec::new();
    for case in cases {
        let out = fixtures::render(&case.join("input"));
        let expected_dir = case.join("expected");
        if bless() {
            let _ = std::fs::remove_dir_all(&expected_dir);
            copy_tree(out.path(), &expected_dir);
            continue;
        }
        let got = read_tree(out.path());
        let want = read_tree(&expected_dir);
        let name = case.file_name().unwrap().to_string_lossy().to_string();
        for path in want.keys().filter(|p| !got.contains_key(*p)) {
            failures.push(format!("{name}: {path} is expected but was not rendered"));
        }
        for (path, bytes) in &got {
            match want.get(path) {
                None => failures.push(format!("{name}: {path} was rendered but is not expected")),
                Some(w) if w != bytes => failures.push(format!(
                    "{name}: {path} differs:\n{}",
                    similar::TextDiff::from_lines(
                        String::from_utf8_lossy(w),
                        String::from_utf8_lossy(bytes)
                    )
                    .unified_diff()
                    .context_radius(2)
                )),
                _ => {}
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{}\n\n(run `PAVED_BLESS=1 cargo test golden` to accept the new output, then review the diff)",
        failures.join("\n")
    );
}

#[test]
fn every_rendered_object_is_accepted_by_the_upstream_schemas() {
    let mut failures = Vec::new();
    for case in golden_cases() {
        let expected = case.join("expected");
        let docs = fixtures::documents(&expected);
        let mut schemas = Schemas::load();
        for (_, d) in &docs {
            schemas.register_rendered(d);
        }
        for (path, d) in &docs {
            let api = d["apiVersion"].as_str().unwrap_or_default();
            // Kustomize files are checked by `kubectl kustomize`, Backstage
            // entities by @backstage/catalog-model and the Software Template
            // by @backstage/plugin-scaffolder-common, all in the conformance run.
            if api.starts_with("kustomize.config.k8s.io/")
                || api.starts_with("backstage.io/")
                || api.starts_with("scaffolder.backstage.io/")
            {
                continue;
            }
            if let Err(errs) = schemas.validate(d) {
                failures.push(format!("{}/{path}: {}", case.display(), errs.join("; ")));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

fn copy_tree(from: &std::path::Path, to: &std::path::Path) {
    for (rel, bytes) in read_tree(from) {
        let dest = to.join(&rel);
        std::fs::create_dir_all(dest.parent().unwrap()).unwrap();
        std::fs::write(dest, bytes).unwrap();
    }
}
