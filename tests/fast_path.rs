//! The built-in blueprints render only YAML that normalisation's fast path
//! reads (src/normalize/fast.rs); a blueprint change that sends every
//! document through the slower span-aware loader would still render the same
//! bytes, so only this test notices it. (Debug builds also check, for every
//! document, that both paths read the same values.)

mod support;

use paved::app::{compile, Inputs};
use support::fixtures::golden_cases;

#[test]
fn every_golden_fixture_renders_through_the_fast_path() {
    let mut files = 0;
    for case in golden_cases() {
        let input = case.join("input");
        let inputs = Inputs {
            paths: vec![input.clone()],
            ..Inputs::default()
        };
        let compiled = compile(&inputs, true).expect("fixture compiles");
        let (rendered, diags) = paved::app::render_in_memory(&compiled);
        assert_eq!(paved::diag::count_errors(&diags), 0, "{}", case.display());
        files += rendered.len();
    }
    assert!(files > 200, "only {files} files rendered");
    assert_eq!(
        paved::normalize::slow_reads(),
        0,
        "some built-in blueprint output needed the span-aware loader"
    );
}
