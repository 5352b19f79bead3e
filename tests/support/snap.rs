//! Pinned text: what `paved` printed, compared exactly with a committed file
//! (the CLI cases in `tests/cmd/`, the reports of `fixtures/invalid/`).
//!
//! Two things differ from run to run and are replaced before comparing:
//! the temporary folder a run worked in becomes `[ROOT]`, and the time a
//! summary line reports (`… in 0.13s (…`) becomes `[ELAPSED]`. A pinned file
//! may also elide on purpose, as snapbox reads it: `[..]` inside a line
//! matches any text, `...` alone on a line matches any lines.
//!
//! `PAVED_BLESS=1 cargo test` writes the files that differ (keeping those
//! elisions where they still match), as it rewrites the golden trees.

use std::path::Path;

use snapbox::assert::Action;
use snapbox::data::DataFormat;
use snapbox::{Assert, Data};

use super::fixtures::bless;

/// `text` with `root` (as given, and as the OS resolves it) written
/// `[ROOT]`, and each reported run time written `[ELAPSED]`.
pub fn redact(text: &str, root: &Path) -> String {
    let mut text = text.to_string();
    let mut roots = vec![root.to_path_buf()];
    if let Ok(real) = root.canonicalize() {
        roots.insert(0, real);
    }
    for r in roots {
        let r = r.to_string_lossy();
        if !r.is_empty() {
            text = text.replace(&*r, "[ROOT]");
        }
    }
    redact_elapsed(&text)
}

/// `in 0.13s (` (the run time in Paved's summary lines) → `in [ELAPSED] (`.
pub fn redact_elapsed(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find(" in ") {
        let (head, tail) = rest.split_at(at + " in ".len());
        out.push_str(head);
        let digits = tail.bytes().take_while(u8::is_ascii_digit).count();
        let t = &tail.as_bytes()[digits..];
        if digits > 0
            && t.len() >= 5
            && t[0] == b'.'
            && t[1].is_ascii_digit()
            && t[2].is_ascii_digit()
            && &t[3..5] == b"s "
        {
            out.push_str("[ELAPSED]");
            rest = &tail[digits + 4..];
        } else {
            rest = tail;
        }
    }
    out.push_str(rest);
    out
}

/// Compares `actual` with the file `expected`; with `PAVED_BLESS=1`, writes
/// `actual` there instead of failing. `Err` holds the difference, for the
/// caller to report with others.
pub fn check(expected: &Path, actual: &str) -> Result<(), String> {
    // snapbox reads `\r\n` and `\r` as `\n`; Paved never prints either off
    // a terminal, so a carriage return (or a colour code) is a failure here.
    if let Some(c) = actual.chars().find(|c| *c == '\r' || *c == '\x1b') {
        return Err(format!(
            "{}: the output holds {c:?}, which is never printed off a terminal:\n{actual:?}",
            expected.display()
        ));
    }
    let assert = Assert::new()
        .action(if bless() {
            Action::Overwrite
        } else {
            Action::Verify
        })
        // Text as printed: no `\` read as a path separator.
        .normalize_paths(false);
    assert
        .try_eq(
            Some(&"paved"),
            Data::text(actual),
            Data::read_from(expected, Some(DataFormat::Text)),
        )
        .map_err(|e| {
            format!(
                "{e}\n(run `PAVED_BLESS=1 cargo test` to accept the new output, then review the diff)"
            )
        })
}

#[test]
fn elapsed_times_are_redacted_and_nothing_else() {
    assert_eq!(
        redact_elapsed("Validated 1 service in 0.13s (workspace `.`)\nin 12.05s (x)\n"),
        "Validated 1 service in [ELAPSED] (workspace `.`)\nin 12.05s (x)\n"
    );
    assert_eq!(
        redact_elapsed("removed in 10.25s (a) in 1.5s ( in .25s ( in 3.25s"),
        "removed in [ELAPSED] (a) in 1.5s ( in .25s ( in 3.25s"
    );
}
