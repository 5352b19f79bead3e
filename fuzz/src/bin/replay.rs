//! Runs the fuzz harness on files or folders of inputs, on stable Rust and
//! without libFuzzer: for reproducing a crash, or for running the corpus in CI.
//!
//! `cargo run --manifest-path fuzz/Cargo.toml --no-default-features --bin replay -- fuzz/corpus/load_validate_render`

fn main() {
    let mut n = 0;
    for arg in std::env::args_os().skip(1) {
        for entry in walk(std::path::Path::new(&arg)) {
            let data = std::fs::read(&entry).expect("readable input");
            eprintln!("{}", entry.display());
            paved_fuzz::run(&data);
            n += 1;
        }
    }
    println!("{n} inputs ran without a crash");
}

fn walk(p: &std::path::Path) -> Vec<std::path::PathBuf> {
    if p.is_file() {
        return vec![p.to_path_buf()];
    }
    let mut out: Vec<_> = std::fs::read_dir(p)
        .map(|rd| rd.flatten().flat_map(|e| walk(&e.path())).collect())
        .unwrap_or_default();
    out.sort();
    out
}
