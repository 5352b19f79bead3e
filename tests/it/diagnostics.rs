//! Human diagnostics are safe to print whatever the input holds: a label past
//! any column (16 KB of tabs, a 70 000-character key or value, a long line in
//! a blueprint, wide characters), control characters and bidi overrides in
//! values, keys and the snippet, files with old Mac (`\r`-only) line
//! endings, and whole floats (`8080.0`) in integer fields. Each case of the bad-input corpus listed here is run in the human
//! format (NO_COLOR), as a developer sees it on a terminal.

use std::path::Path;
use std::process::Output;

use crate::support::fixtures::{paved, root};

/// Corpus cases with their exit code: 1 for findings, 0 for warnings only.
const HOSTILE: &[(&str, i32)] = &[
    ("long-line-tabs-before-value", 1),
    ("long-line-long-key", 1),
    ("long-line-long-value", 1),
    ("long-line-wide-characters", 1),
    ("long-line-in-blueprint", 1),
    ("long-line-warning-only", 0),
    ("control-escapes-in-quoted-value", 1),
    ("control-raw-escape-in-file", 1),
    ("control-raw-c1-in-file", 1),
    ("control-bidi-override", 1),
    ("control-carriage-return-in-key", 1),
    ("cr-only-line-endings", 1),
    ("cr-only-duplicate-key", 1),
    ("cr-only-syntax-error", 1),
    ("cr-only-blueprint-missing-name", 1),
    ("type-port-whole-float", 1),
    ("type-replicas-whole-float", 1),
    ("type-whole-floats-everywhere", 1),
    ("config-whole-floats", 1),
    ("config-limit-whole-float", 1),
];

fn case_dir(case: &str) -> std::path::PathBuf {
    root().join("fixtures/invalid").join(case)
}

/// Runs a case's command (its `args` file, else `validate .`) with extra arguments.
fn run(case: &str, extra: &[&str]) -> Output {
    let dir = case_dir(case);
    let args = std::fs::read_to_string(dir.join("args")).unwrap_or_else(|_| "validate .".into());
    let out_dir = tempfile::tempdir().unwrap();
    let mut args: Vec<String> = args.split_whitespace().map(str::to_string).collect();
    // A render case writes into a fresh folder, never into the corpus.
    if let Some(i) = args.iter().position(|a| a == "--out") {
        args[i + 1] = out_dir.path().display().to_string();
    }
    // A copy: the case is a workspace of its own, not part of this repository.
    let copy = crate::support::fixtures::copy_case(&dir);
    paved()
        .current_dir(copy.path())
        .args(&args)
        .args(extra)
        .output()
        .unwrap()
}

/// `(file, line, column)` of every diagnostic the case expects.
fn expected_places(case: &str) -> Vec<(String, String)> {
    let text = std::fs::read_to_string(case_dir(case).join("expect.txt")).unwrap();
    text.lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
        .map(|l| {
            let mut parts = l.split_whitespace();
            let _code = parts.next();
            let pos = parts.next().unwrap().to_string();
            (parts.next().unwrap_or("").to_string(), pos)
        })
        .collect()
}

/// The first character that must not reach a terminal raw, with its offset:
/// C0 and C1 controls other than a line feed, DEL, and bidi controls.
fn raw_control(text: &str) -> Option<(usize, char)> {
    text.char_indices().find(|&(_, c)| {
        (c.is_control() && c != '\n')
            || matches!(
                c,
                '\u{061c}' | '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}'
            )
    })
}

fn assert_no_raw_control(case: &str, what: &str, text: &str) {
    if let Some((at, c)) = raw_control(text) {
        let from = text[..at]
            .char_indices()
            .rev()
            .nth(60)
            .map_or(0, |(i, _)| i);
        panic!(
            "{case}: {what} holds U+{:04X} raw at byte {at}, after: {:?}",
            c as u32,
            &text[from..at]
        );
    }
}

#[test]
fn hostile_input_renders_human_diagnostics_without_panicking() {
    for (case, want) in HOSTILE {
        let o = run(case, &[]);
        let stderr = String::from_utf8_lossy(&o.stderr);
        assert!(
            !stderr.contains("panicked"),
            "{case}: the report panicked:\n{}",
            &stderr[..stderr.len().min(2000)]
        );
        assert_eq!(o.status.code(), Some(*want), "{case}: wrong exit code");
        assert!(
            !stderr.contains("paved::internal"),
            "{case}: reported as a bug in Paved:\n{stderr}"
        );
        // Every finding's header names the place the JSON output names.
        for (file, pos) in expected_places(case) {
            let header = format!("[{file}:{pos}]");
            assert!(
                stderr.contains(&header),
                "{case}: no {header} in the report:\n{}",
                &stderr[..stderr.len().min(4000)]
            );
        }
        // Long lines are clipped around the label, not printed whole.
        let widest = stderr.lines().map(|l| l.chars().count()).max().unwrap_or(0);
        assert!(
            widest <= 200,
            "{case}: a report line is {widest} characters wide"
        );
    }
}

#[test]
fn no_control_character_from_the_input_reaches_the_terminal() {
    for (case, _) in HOSTILE {
        let human = run(case, &[]);
        assert_no_raw_control(case, "stderr", &String::from_utf8_lossy(&human.stderr));
        for format in ["json", "github"] {
            let o = run(case, &["--format", format]);
            assert_no_raw_control(
                case,
                &format!("--format {format}"),
                &String::from_utf8_lossy(&o.stdout),
            );
        }
    }
}

#[test]
fn escaped_characters_are_shown_as_rust_escapes() {
    let o = run("control-escapes-in-quoted-value", &[]);
    let stderr = String::from_utf8_lossy(&o.stderr);
    // The message may wrap; each piece is escaped.
    assert!(stderr.contains(r"found `\u{1b}]0;pwned\u{7}"), "{stderr}");
    assert!(stderr.contains(r"\u{d}service\u{9b}\u{202e}`"), "{stderr}");
    let o = run("control-escapes-in-quoted-value", &["--format", "github"]);
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(stdout.contains(r"\u{1b}]0;pwned\u{7}"), "{stdout}");
    let o = run("control-escapes-in-quoted-value", &["--format", "json"]);
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(stdout.contains(r"\\u{1b}]0;pwned\\u{7}"), "{stdout}");
}

/// The snippet line a header points at: `11 │ <text>`.
fn snippet_line(report: &str, line: &str) -> Option<String> {
    let prefix = format!("{line} │ ");
    report
        .lines()
        .map(str::trim_start)
        .find_map(|l| l.strip_prefix(&prefix).map(str::to_string))
}

#[test]
fn cr_only_line_endings_show_the_reported_line() {
    let cases = [
        ("cr-only-line-endings", "11", "  replicas: -1"),
        ("cr-only-duplicate-key", "12", "  replicas: 3"),
        ("cr-only-syntax-error", "12", "    A: \"unclosed"),
        ("cr-only-blueprint-missing-name", "3", "metadata:"),
    ];
    for (case, line, text) in cases {
        let o = run(case, &[]);
        let stderr = String::from_utf8_lossy(&o.stderr);
        assert_eq!(
            snippet_line(&stderr, line).as_deref(),
            Some(text),
            "{case}:\n{stderr}"
        );
        // Each snippet line is one line of the file, never several run together.
        for l in stderr.lines().filter(|l| l.contains(" │ ")) {
            assert!(
                l.matches("replicas").count() <= 1,
                "{case}: lines run together: {l}"
            );
        }
    }
}

#[test]
fn the_label_stays_under_its_value_after_escaping_and_clipping() {
    // `lifecycle: "\x1b[1A\x1b[2Kprod\x07"`: the label starts at the quote.
    let o = run("control-raw-escape-in-file", &[]);
    let stderr = String::from_utf8_lossy(&o.stderr);
    let lines: Vec<&str> = stderr.lines().collect();
    let at = lines
        .iter()
        .position(|l| l.trim_start().starts_with("8 │ "))
        .unwrap_or_else(|| panic!("{stderr}"));
    let quote = lines[at].chars().position(|c| c == '"').unwrap();
    let under = lines[at + 1]
        .chars()
        .position(|c| c == '─' || c == '┬')
        .unwrap();
    assert_eq!(quote, under, "\n{}\n{}", lines[at], lines[at + 1]);

    // 17 000 tabs before the value: the clipped line keeps the value, and the
    // label points at it.
    let o = run("long-line-tabs-before-value", &[]);
    let stderr = String::from_utf8_lossy(&o.stderr);
    let lines: Vec<&str> = stderr.lines().collect();
    let at = lines
        .iter()
        .position(|l| l.trim_start().starts_with("11 │ "))
        .unwrap_or_else(|| panic!("{stderr}"));
    assert!(lines[at].contains('…'), "{}", lines[at]);
    let five = lines[at].chars().position(|c| c == '5').unwrap();
    let under = lines[at + 1]
        .chars()
        .position(|c| c == '┬' || c == '▲')
        .unwrap();
    assert_eq!(five, under, "\n{}\n{}", lines[at], lines[at + 1]);
}

#[test]
fn hostile_cases_are_in_the_corpus() {
    for (case, _) in HOSTILE {
        assert!(
            Path::new(&case_dir(case)).join("expect.txt").is_file(),
            "{case} has no expect.txt"
        );
    }
}
