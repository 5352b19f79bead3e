//! Two build steps:
//!
//! - Rebuilds when a built-in blueprint changes: they are embedded with
//!   `include_dir!`, which cargo does not track on its own.
//! - Writes the two published JSON Schemas into `OUT_DIR`, where
//!   `validate::schema` embeds them from: each is its file in `schemas/` with
//!   the definitions both share copied into `$defs` from `schemas/common.json`,
//!   their one source, and `$defs` in name order. The result stays one
//!   self-contained file per format. A test fails when a file in `schemas/`
//!   differs from what is embedded (`PAVED_BLESS=1` rewrites it), so the
//!   published files are always what `paved schema` prints.

use std::path::{Path, PathBuf};

use serde_json::Value;

const COMMON: &str = "schemas/common.json";
const SCHEMAS: [&str; 2] = [
    "schemas/platform.v1.schema.json",
    "schemas/paved.v1.schema.json",
];

fn main() {
    println!("cargo:rerun-if-changed=blueprints");
    println!("cargo:rerun-if-changed={COMMON}");
    let common = read(COMMON);
    let shared = common["$defs"]
        .as_object()
        .unwrap_or_else(|| panic!("{COMMON} has no $defs"));
    let out = PathBuf::from(std::env::var_os("OUT_DIR").expect("cargo sets OUT_DIR"));
    for path in SCHEMAS {
        println!("cargo:rerun-if-changed={path}");
        let mut schema = read(path);
        let defs = schema["$defs"]
            .as_object_mut()
            .unwrap_or_else(|| panic!("{path} has no $defs"));
        for (name, def) in shared {
            defs.insert(name.clone(), def.clone());
        }
        defs.sort_keys();
        let mut text = serde_json::to_string_pretty(&schema).expect("JSON serialises");
        text.push('\n');
        let name = Path::new(path).file_name().expect("a file name");
        std::fs::write(out.join(name), text)
            .unwrap_or_else(|e| panic!("cannot write {name:?} to OUT_DIR: {e}"));
    }
}

fn read(path: &str) -> Value {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("cannot read {path}: {e}"));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path} is not valid JSON: {e}"))
}
