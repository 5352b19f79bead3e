//! Shared helpers for the integration tests: `tests/it/main.rs` includes this
//! folder as `mod support`, so a test module uses `crate::support::schemas::Schemas`.
//! (`examples/gen-fleet.rs` includes `rng.rs` alone by its path.)

pub mod fixtures;
pub mod rng;
pub mod schemas;
pub mod snap;
