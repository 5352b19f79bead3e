//! Rebuilds when a built-in blueprint changes: they are embedded with
//! `include_dir!`, which cargo does not track on its own.
fn main() {
    println!("cargo:rerun-if-changed=blueprints");
}
