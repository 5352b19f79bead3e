//! Paved's integration tests: one test binary, one module per theme.
//!
//! Every `*.rs` file directly under `tests/` would be a test binary of its
//! own, linked against the library and `tests/support` again; one binary
//! links once and runs every test in one pool of threads. Try not to add
//! more binaries: add a module here instead (`layout` fails otherwise).
//!
//! `cargo test` runs them all; `cargo test golden` (or any part of a test's
//! path, such as `cli::`) runs a subset. `PAVED_BLESS=1 cargo test` rewrites
//! the pinned outputs (golden trees, the bad-input corpus, the CLI cases in
//! `tests/cmd/`) for review in the diff.

// A test binary has no public surface: `pub` here only shares helpers
// between its modules.
#![allow(unreachable_pub)]

#[path = "../support/mod.rs"]
mod support;

mod access;
mod action;
mod alerting;
mod architecture;
mod bootstrap;
mod cli;
mod cmd;
mod codes_covered;
mod connection_secrets;
mod delivery;
mod diagnostics;
mod diff_causes;
mod diff_cost;
mod fast_path;
mod formats;
mod golden;
mod invalid;
mod layout;
mod lsp;
mod outputs;
mod pipeline;
mod portal_template;
mod preview;
mod promote;
mod properties;
mod rollout;
mod safety;
mod sarif;
mod schemas_selftest;
mod trace;
mod tracing;
mod workspace;
