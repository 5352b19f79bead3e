//! Shared helpers for the integration tests: `mod support;` then `support::schemas::Schemas`.
//! (A test can also include one helper alone, e.g. `#[path = "support/schemas.rs"] mod schemas;`.)

pub mod fixtures;
pub mod rng;
pub mod schemas;
