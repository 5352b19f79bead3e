//! The bad-input corpus: each `fixtures/invalid/<case>/` gives exactly the
//! diagnostics listed in its `expect.txt` (code, line, column, file), never a
//! panic, and the exit code 1 when any of them is an error; and its human
//! report, as a terminal shows it, is exactly its `report.txt`.

use std::io::{Read, Seek};
use std::path::Path;

use rayon::prelude::*;

use crate::support::fixtures::{bless, copy_case, invalid_cases, paved};
use crate::support::snap;

#[derive(Debug, PartialEq, Eq, PartialOrd, Ord, Clone)]
struct Expect {
    code: String,
    line: u64,
    column: u64,
    file: String,
}

impl std::fmt::Display for Expect {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} {}:{} {}",
            self.code, self.line, self.column, self.file
        )
    }
}

fn parse_expect(text: &str) -> Vec<Expect> {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(|l| {
            let mut parts = l.splitn(3, ' ');
            let code = parts.next().unwrap().to_string();
            let pos = parts
                .next()
                .unwrap_or_else(|| panic!("bad expect line: {l}"));
            let (line, column) = pos
                .split_once(':')
                .unwrap_or_else(|| panic!("bad position in: {l}"));
            Expect {
                code,
                line: line.parse().unwrap(),
                column: column.parse().unwrap(),
                file: parts.next().unwrap_or("").to_string(),
            }
        })
        .collect()
}

#[test]
fn every_invalid_case_gives_its_expected_diagnostics() {
    let cases = invalid_cases();
    let mut failures: Vec<String> = cases.par_iter().flat_map(|c| diagnostics(c)).collect();
    failures.sort();
    assert!(
        failures.is_empty(),
        "{} of {} cases failed:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}

/// Runs one case with `--format json`; returns how its diagnostics, exit
/// code or run differ from `expect.txt` (which blessing writes instead).
fn diagnostics(case: &Path) -> Vec<String> {
    let mut failures = Vec::new();
    let name = case.file_name().unwrap().to_string_lossy().to_string();
    let args_text =
        std::fs::read_to_string(case.join("args")).unwrap_or_else(|_| "validate .".into());
    let args: Vec<&str> = args_text.split_whitespace().collect();
    let copy = copy_case(case);
    let out = paved()
        .current_dir(copy.path())
        .args(&args)
        .args(["--format", "json"])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    if stderr.contains("panicked") || out.status.code().is_none_or(|c| c > 2) {
        failures.push(format!(
            "{name}: crashed ({:?}):\n{stderr}",
            out.status.code()
        ));
        return failures;
    }
    let mut got: Vec<Expect> = Vec::new();
    let mut any_error = false;
    for line in stdout.lines().filter(|l| l.starts_with('{')) {
        let v: serde_json::Value = serde_json::from_str(line).unwrap();
        any_error |= v["severity"] == "error";
        if v["code"] == "paved::check::drift" {
            continue;
        }
        got.push(Expect {
            code: v["code"].as_str().unwrap_or_default().to_string(),
            line: v["line"].as_u64().unwrap_or(0),
            column: v["column"].as_u64().unwrap_or(0),
            file: v["file"].as_str().unwrap_or("").to_string(),
        });
    }
    got.sort();
    let mut want =
        parse_expect(&std::fs::read_to_string(case.join("expect.txt")).unwrap_or_default());
    want.sort();
    if bless() {
        // Only when it differs, so a file's comments and order stay.
        if got != want {
            let text: String = got.iter().map(|e| format!("{e}\n")).collect();
            std::fs::write(case.join("expect.txt"), text).unwrap();
        }
        return failures;
    }
    if got != want {
        let show = |v: &[Expect]| {
            v.iter()
                .map(|e| format!("    {e}"))
                .collect::<Vec<_>>()
                .join("\n")
        };
        failures.push(format!(
            "{name}:\n  expected:\n{}\n  got:\n{}\n  stderr: {stderr}",
            show(&want),
            show(&got)
        ));
        return failures;
    }
    if want.is_empty() {
        failures.push(format!(
            "{name}: expect.txt lists no diagnostic; every case must expect at least one"
        ));
    }
    let expected_code = if any_error { Some(1) } else { Some(0) };
    if out.status.code() != expected_code && !args_text.starts_with("render") {
        failures.push(format!(
            "{name}: exit code {:?}, expected {expected_code:?}",
            out.status.code()
        ));
    }
    failures
}

/// The command a case runs (its `args` file, or `validate .`).
fn case_args(case: &Path) -> Vec<String> {
    std::fs::read_to_string(case.join("args"))
        .unwrap_or_else(|_| "validate .".into())
        .split_whitespace()
        .map(str::to_string)
        .collect()
}

#[test]
fn every_invalid_case_pins_its_human_report() {
    let cases = invalid_cases();
    let mut failures: Vec<String> = cases
        .par_iter()
        .filter_map(|case| {
            let name = case.file_name().unwrap().to_string_lossy().to_string();
            let report = human_report(case);
            snap::check(&case.join("report.txt"), &report)
                .err()
                .map(|e| format!("{name}: {e}"))
        })
        .collect();
    failures.sort();
    assert!(
        failures.is_empty(),
        "{} of {} reports differ:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}

/// What `paved` prints for a case in the human format, stdout and stderr
/// together as a terminal shows them: run in a fresh copy of the case (the
/// current folder, so paths stay relative), without colour, at a fixed
/// width (`support::fixtures::paved`), with `[ROOT]` for the copy's path and
/// `[ELAPSED]` for a run time.
fn human_report(case: &Path) -> String {
    let copy = copy_case(case);
    let mut both = tempfile::tempfile().unwrap();
    let status = paved()
        .current_dir(copy.path())
        .args(case_args(case))
        .stdout(both.try_clone().unwrap())
        .stderr(both.try_clone().unwrap())
        .status()
        .unwrap();
    assert!(status.code().is_some(), "{}: {status:?}", case.display());
    let mut bytes = Vec::new();
    both.rewind().unwrap();
    both.read_to_end(&mut bytes).unwrap();
    let text = String::from_utf8(bytes)
        .unwrap_or_else(|e| panic!("{}: the report is not UTF-8: {e}", case.display()));
    snap::redact(&text, copy.path())
}
