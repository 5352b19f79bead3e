//! The built-in blueprints render only YAML that normalisation's fast path
//! reads (src/normalize/fast.rs); a blueprint change that sends every
//! document through the slower span-aware loader would still render the same
//! bytes, so only this test notices it. (Debug builds also check, for every
//! document, that both paths read the same values.)
//!
//! The count of slow reads is per process, and other tests in this binary
//! (the property tests) compile specs in-process too, so the test runs
//! itself again in a process of its own and counts there.

use paved::testing::app::{compile, Inputs};

use crate::support::fixtures::golden_cases;

/// Set in the child process that does the counting.
const ALONE: &str = "PAVED_FAST_PATH_ALONE";

#[test]
fn every_golden_fixture_renders_through_the_fast_path() {
    if std::env::var_os(ALONE).is_some() {
        count_slow_reads();
        return;
    }
    let o = std::process::Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "fast_path::every_golden_fixture_renders_through_the_fast_path",
            "--test-threads=1",
            "--nocapture",
        ])
        .env(ALONE, "1")
        .output()
        .unwrap();
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(
        o.status.success() && out.contains("test result: ok. 1 passed"),
        "{out}{}",
        String::from_utf8_lossy(&o.stderr)
    );
}

fn count_slow_reads() {
    let mut files = 0;
    for case in golden_cases() {
        let input = case.join("input");
        let inputs = Inputs {
            paths: vec![input.clone()],
            ..Inputs::default()
        };
        let compiled = compile(&inputs, true).expect("fixture compiles");
        let (rendered, diags) = paved::testing::app::render_in_memory(&compiled);
        assert_eq!(
            paved::testing::diag::count_errors(&diags),
            0,
            "{}",
            case.display()
        );
        files += rendered.len();
    }
    assert!(files > 200, "only {files} files rendered");
    assert_eq!(
        paved::testing::normalize::slow_reads(),
        0,
        "some built-in blueprint output needed the span-aware loader"
    );
}
