//! Measures `paved lsp` on a generated fleet: the time from a keystroke's
//! `didChange` to the `publishDiagnostics` it causes, and the server's
//! memory (RSS) before and after the edits.
//!
//! ```sh
//! cargo run --release --example gen-fleet -- 1000 /tmp/fleet
//! cargo run --release --example lsp-bench -- target/release/paved /tmp/fleet 200
//! ```
//!
//! It opens one spec of the fleet and sends N edits, each waiting for its
//! diagnostics: even edits add an unknown field (a new one each time), odd
//! ones restore the spec with a new comment, so every edit changes what is
//! published. It prints the first check (open), the median, 90th percentile
//! and maximum latency, and the RSS at the start and after the N edits;
//! then the median of 11 saves (an edit and `didSave`, after which the
//! server walks the workspace and reads the closed specs again).

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

/// How many saves are timed after the edits.
const SAVES: usize = 11;

fn frame(v: &Value) -> Vec<u8> {
    let body = v.to_string();
    let mut out = format!("Content-Length: {}\r\n\r\n", body.len()).into_bytes();
    out.extend_from_slice(body.as_bytes());
    out
}

fn read(r: &mut impl BufRead) -> Option<Value> {
    let mut len = 0;
    loop {
        let mut line = String::new();
        if r.read_line(&mut line).ok()? == 0 {
            return None;
        }
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        if let Some(v) = line.strip_prefix("Content-Length: ") {
            len = v.parse().ok()?;
        }
    }
    let mut body = vec![0; len];
    r.read_exact(&mut body).ok()?;
    serde_json::from_slice(&body).ok()
}

fn rss_kib(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|n| n.parse().ok())
        })
        .unwrap_or(0)
}

fn first_spec(dir: &Path) -> Option<PathBuf> {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .ok()?
        .flatten()
        .map(|e| e.path())
        .collect();
    entries.sort();
    for e in entries {
        if e.is_dir() {
            if let Some(found) = first_spec(&e) {
                return Some(found);
            }
        } else if e.file_name().is_some_and(|n| n == "platform.yaml") {
            return Some(e);
        }
    }
    None
}

fn count_specs(dir: &Path) -> usize {
    std::fs::read_dir(dir).map_or(0, |rd| {
        rd.flatten()
            .map(|e| e.path())
            .map(|p| {
                if p.is_dir() {
                    count_specs(&p)
                } else {
                    usize::from(p.file_name().is_some_and(|n| n == "platform.yaml"))
                }
            })
            .sum()
    })
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let [_, paved, fleet, n] = args.as_slice() else {
        eprintln!("usage: lsp-bench PAVED FLEET_DIR EDITS");
        std::process::exit(2);
    };
    let n: usize = n.parse().expect("EDITS is a number");
    let fleet = Path::new(fleet)
        .canonicalize()
        .expect("the fleet folder exists");
    let spec = first_spec(&fleet).expect("the fleet has a platform.yaml");
    let uri = format!("file://{}", spec.display());
    let text = std::fs::read_to_string(&spec).expect("the spec reads");

    let mut child = Command::new(paved)
        .arg("lsp")
        .current_dir(&fleet)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("paved starts");
    let pid = child.id();
    let mut w = child.stdin.take().expect("stdin");
    let mut r = BufReader::new(child.stdout.take().expect("stdout"));
    let mut send = |v: Value| {
        w.write_all(&frame(&v)).expect("write");
        w.flush().expect("flush");
    };
    // Waits for the next diagnostics of the spec.
    let published = |r: &mut BufReader<_>| loop {
        let v = read(r).expect("the server answers");
        if v["method"] == "textDocument/publishDiagnostics" && v["params"]["uri"] == uri {
            return v;
        }
    };

    send(json!({"jsonrpc": "2.0", "id": 1, "method": "initialize",
                "params": {"processId": null, "capabilities": {}}}));
    send(json!({"jsonrpc": "2.0", "method": "initialized", "params": {}}));
    let t0 = Instant::now();
    send(json!({"jsonrpc": "2.0", "method": "textDocument/didOpen",
                "params": {"textDocument": {"uri": uri, "languageId": "yaml", "version": 1, "text": text}}}));
    let first = published(&mut r);
    let open = t0.elapsed();
    assert_eq!(
        first["params"]["diagnostics"],
        json!([]),
        "the fleet's spec is valid"
    );
    std::thread::sleep(Duration::from_millis(200));
    let rss_start = rss_kib(pid);

    let mut times = Vec::with_capacity(n);
    for i in 0..n {
        let new = if i % 2 == 0 {
            text.replacen("\nspec:\n", &format!("\nspec:\n  bogus{i}: 1\n"), 1)
        } else {
            format!("{text}# edit {i}\n")
        };
        let t = Instant::now();
        send(json!({"jsonrpc": "2.0", "method": "textDocument/didChange",
                    "params": {"textDocument": {"uri": uri, "version": i + 2},
                               "contentChanges": [{"text": new}]}}));
        let v = published(&mut r);
        times.push(t.elapsed());
        let empty = v["params"]["diagnostics"]
            .as_array()
            .is_some_and(Vec::is_empty);
        assert_eq!(empty, i % 2 == 1, "edit {i}: {v}");
    }
    let rss_end = rss_kib(pid);

    // Saves: an edit then `didSave`, which makes the server walk the folder
    // and read every closed spec again before it checks.
    let mut saves = Vec::new();
    for i in 0..SAVES {
        let new = if i % 2 == 0 {
            text.replacen("\nspec:\n", &format!("\nspec:\n  saved{i}: 1\n"), 1)
        } else {
            format!("{text}# save {i}\n")
        };
        let t = Instant::now();
        send(json!({"jsonrpc": "2.0", "method": "textDocument/didChange",
                    "params": {"textDocument": {"uri": uri, "version": n + i + 2},
                               "contentChanges": [{"text": new}]}}));
        send(json!({"jsonrpc": "2.0", "method": "textDocument/didSave",
                    "params": {"textDocument": {"uri": uri}}}));
        published(&mut r);
        saves.push(t.elapsed());
    }
    saves.sort();
    send(json!({"jsonrpc": "2.0", "id": 2, "method": "shutdown", "params": null}));
    send(json!({"jsonrpc": "2.0", "method": "exit", "params": null}));
    let _ = child.wait();

    times.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    let pick = |q: f64| times[((times.len() - 1) as f64 * q).round() as usize];
    println!(
        "lsp: services={} edits={n} open_ms={:.1} median_ms={:.1} p90_ms={:.1} max_ms={:.1} rss_start_mb={:.1} rss_end_mb={:.1} save_median_ms={:.1}",
        count_specs(&fleet),
        ms(open),
        ms(pick(0.5)),
        ms(pick(0.9)),
        ms(*times.last().expect("at least one edit")),
        rss_start as f64 / 1024.0,
        rss_end as f64 / 1024.0,
        ms(saves[saves.len() / 2]),
    );
}
