//! `cargo +nightly fuzz run load_validate_render` (docs/fuzzing.md).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    paved_fuzz::run(data);
});
