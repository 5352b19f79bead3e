//! `paved`, the binary: everything it does is [`paved::run`].

use std::process::ExitCode;

/// Rendering allocates many small strings on two threads; mimalloc does that
/// markedly faster than glibc's allocator (see BENCHMARKS.md).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    paved::run()
}
