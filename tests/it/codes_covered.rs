//! Every diagnostic code Paved can emit is produced by at least one case of
//! the bad-input corpus (`fixtures/invalid/*/expect.txt`), so no finding goes
//! untested: its message, its position and the fact that it is reachable at
//! all. The list of codes is the registry `paved::testing::codes::CODES`, which a test
//! of its own keeps equal to the code strings in `src/`.
//!
//! A new code therefore needs a corpus case (or an exemption below, with the
//! reason it cannot have one).

use std::collections::BTreeSet;

use crate::support::fixtures::invalid_cases;

/// Codes no bad input can or should produce through the corpus harness.
const EXEMPT: &[(&str, &str)] = &[
    (
        "paved::internal",
        "reports a bug in Paved (input that passed its schema but not the model); no input should reach it",
    ),
    (
        "paved::workspace::not-a-file",
        "needs a FIFO or device named platform.yaml, which Git cannot store; tests/it/workspace.rs makes one",
    ),
    (
        "paved::workspace::bad-file-name",
        "needs a folder name with a control character, which a checkout cannot carry portably; tests/it/workspace.rs makes one",
    ),
    (
        "paved::check::drift",
        "not a finding about the input but `paved check`'s report of a stale output folder; the corpus harness skips it and the check command's own tests cover it",
    ),
];

/// Codes the corpus expects, with the cases that expect them.
fn corpus_codes() -> Vec<(String, String)> {
    let mut out = Vec::new();
    for case in invalid_cases() {
        let name = case.file_name().unwrap().to_string_lossy().into_owned();
        let text = std::fs::read_to_string(case.join("expect.txt")).unwrap_or_default();
        for line in text.lines().map(str::trim) {
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            if let Some(code) = line.split_whitespace().next() {
                out.push((code.to_string(), name.clone()));
            }
        }
    }
    out
}

#[test]
fn every_code_has_a_corpus_case() {
    let registry: BTreeSet<&str> = paved::testing::codes::CODES
        .iter()
        .map(|c| c.code)
        .collect();
    let covered: BTreeSet<String> = corpus_codes().into_iter().map(|(c, _)| c).collect();
    let missing: Vec<&str> = registry
        .iter()
        .copied()
        .filter(|c| !covered.contains(*c) && !EXEMPT.iter().any(|(e, _)| e == c))
        .collect();
    assert!(
        missing.is_empty(),
        "these diagnostic codes have no case under fixtures/invalid/ (add one, see fixtures/README.md, \
         or exempt the code in tests/it/codes_covered.rs with the reason):\n  {}",
        missing.join("\n  ")
    );
}

#[test]
fn exemptions_are_real_and_not_covered_anyway() {
    let registry: BTreeSet<&str> = paved::testing::codes::CODES
        .iter()
        .map(|c| c.code)
        .collect();
    for (code, reason) in EXEMPT {
        assert!(
            registry.contains(code),
            "exempted code `{code}` is not in the registry any more; remove its exemption"
        );
        assert!(!reason.is_empty());
    }
}

#[test]
fn every_expected_code_exists() {
    // A typo in an expect.txt would otherwise only show up as a failing case
    // after the code it names was renamed; say so directly.
    let registry: BTreeSet<&str> = paved::testing::codes::CODES
        .iter()
        .map(|c| c.code)
        .collect();
    let unknown: Vec<String> = corpus_codes()
        .into_iter()
        .filter(|(c, _)| !registry.contains(c.as_str()))
        .map(|(c, case)| format!("{case}: {c}"))
        .collect();
    assert!(
        unknown.is_empty(),
        "expect.txt files name codes that are not in src/codes.rs:\n  {}",
        unknown.join("\n  ")
    );
}
