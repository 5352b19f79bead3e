//! The fuzz harness, shared by the libFuzzer target and the stable `replay`
//! binary: bytes in, the whole pipeline (load → validate → render →
//! normalize) run in memory on them, and Paved's promises checked.
//!
//! Input layout: up to three parts separated by a line `%%%%`:
//!
//! 1. `platform.yaml` (always),
//! 2. `paved.yaml` (when present and not empty; else the built-in config),
//! 3. a platform override blueprint `service/fuzz.yaml` (when present).
//!
//! So the fuzzer explores specs, platform configs and blueprints, and a
//! plain spec (no separator) is a valid seed as it is.
//!
//! Promises checked on every input (a violation panics, which libFuzzer
//! reports as a crash):
//! - no panic anywhere in Paved;
//! - a failed compile has at least one error, a successful one none;
//! - no diagnostic is `paved::internal` (input that passed the schema but
//!   not the model);
//! - the diagnostics render in every format, and no control or bidi
//!   character of the input reaches the rendered text raw;
//! - every planned path stays inside the output folder;
//! - every planned file starts with the generated header and reads back as
//!   YAML with Paved's own reader.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use paved::testing::app::{self, Inputs};
use paved::testing::diag::{count_errors, is_hidden, Format};
use paved::testing::emit::is_contained;
use paved::testing::load::{self, Documents};
use paved::testing::source::Source;

/// One scratch folder per process, reused by every run (the inputs are
/// rewritten each time), so the harness reads files like the CLI does.
fn scratch() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = std::env::temp_dir().join(format!("paved-fuzz-{}", std::process::id()));
        std::fs::create_dir_all(dir.join("svc")).expect("scratch folder");
        dir
    })
}

fn split(data: &[u8]) -> Vec<&[u8]> {
    let sep = b"\n%%%%\n";
    let mut parts = Vec::new();
    let mut rest = data;
    while parts.len() < 2 {
        match rest.windows(sep.len()).position(|w| w == sep) {
            Some(i) => {
                parts.push(&rest[..i]);
                rest = &rest[i + sep.len()..];
            }
            None => break,
        }
    }
    parts.push(rest);
    parts
}

/// Runs the pipeline on one input and checks the promises above.
pub fn run(data: &[u8]) {
    let dir = scratch();
    let parts = split(data);
    let spec = parts[0];
    let config = parts.get(1).copied().filter(|c| !c.is_empty());
    let blueprint = parts.get(2).copied();

    std::fs::write(dir.join("svc/platform.yaml"), spec).expect("write spec");
    let bp_dir = dir.join("blueprints/service");
    let _ = std::fs::remove_dir_all(dir.join("blueprints"));
    if let Some(bp) = blueprint {
        std::fs::create_dir_all(&bp_dir).expect("blueprint folder");
        std::fs::write(bp_dir.join("fuzz.yaml"), bp).expect("write blueprint");
    }
    let config_text: Vec<u8> = match (config, blueprint) {
        (Some(c), _) => c.to_vec(),
        (None, Some(_)) => {
            format!("{}  blueprints: ./blueprints\n", app::DEFAULT_CONFIG).into_bytes()
        }
        (None, None) => app::DEFAULT_CONFIG.as_bytes().to_vec(),
    };
    std::fs::write(dir.join("paved.yaml"), config_text).expect("write config");

    // The fast reader of rendered output (normalize::fast) must agree with
    // the loader on any text it answers for, not only on blueprint output.
    for part in [Some(spec), blueprint].into_iter().flatten() {
        if let Ok(text) = std::str::from_utf8(part) {
            fast_reader_agrees(text);
        }
    }

    let inputs = Inputs {
        paths: vec![dir.to_path_buf()],
        config: Some(dir.join("paved.yaml")),
        out_dir: Some(dir.join("out")),
        envs: vec![],
        ..Default::default()
    };
    // A Fault is an environment problem (exit 2), e.g. a blueprint file that
    // is not UTF-8; it must still be a value, not a panic.
    let Ok(c) = app::compile(&inputs, true) else {
        return;
    };
    assert_eq!(c.failed(), count_errors(&c.diags) > 0);
    // The whole pipeline: every unit rendered, with the render's findings.
    let (files, diags) = app::render_in_memory(&c);
    let failed = count_errors(&diags) > 0;
    for d in &diags {
        let code = d.code.as_str();
        assert!(code.starts_with("paved::"), "bad code {code:?}");
        assert!(!d.message.is_empty(), "{code}: empty message");
        assert_ne!(code, "paved::internal", "{}", d.message);
        // Positions must be inside their file.
        if let Some(l) = &d.primary {
            assert!(
                l.span.start <= l.span.end && l.span.end <= l.source.text.len(),
                "{}: span out of its file",
                d.code
            );
        }
    }
    for format in [Format::Human, Format::Json, Format::Github] {
        let text = paved::testing::diag::render(&diags, format, false);
        assert!(
            !text.chars().any(|ch| is_hidden(ch) && ch != '\n'),
            "a control character reached the {format:?} report raw"
        );
    }
    if failed {
        assert!(files.is_empty(), "a failed compile planned files");
        return;
    }
    for f in &files {
        assert!(
            is_contained(&f.path),
            "planned path leaves DIR: {:?}",
            f.path
        );
        assert!(
            f.content.starts_with(paved::testing::emit::header::MARK),
            "{}: no header",
            f.path
        );
        let src = Source::virtual_file(&f.path, f.content.clone());
        let (_, diags) = load::parse(&src, Documents::Many);
        assert!(
            diags.is_empty(),
            "{}: Paved cannot read its own output: {}\n{}",
            f.path,
            diags[0].message,
            f.content
        );
    }
}

fn fast_reader_agrees(text: &str) {
    let Some(fast) = paved::testing::normalize::fast::parse(text) else {
        return;
    };
    let src = Source::virtual_file("fuzz.yaml", text.to_string());
    let (nodes, diags) = load::parse(&src, Documents::Many);
    assert!(diags.is_empty(), "the fast reader answered for text the loader rejects");
    let slow: Vec<serde_json::Value> = nodes.iter().map(load::Node::to_json).collect();
    assert_eq!(
        serde_json::to_string(&slow).ok(),
        serde_json::to_string(&fast).ok(),
        "the fast reader and the loader read different values"
    );
}
