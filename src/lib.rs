//! Paved: an offline compiler from `platform.yaml` specs to platform manifests.
//!
//! The pipeline, one module per stage (each says what it must not know;
//! `docs/design.md` has the full module map, which a test holds the imports to):
//!
//! ```text
//! workspace → load → validate::{schema, semantic} → model → render → normalize → emit::{write, check, diff}
//! ```
//!
//! - [`workspace`] finds the root, every spec and the platform config, and what the paths select;
//!   touches only directory listings.
//! - [`load`] turns YAML text into a tree with a span on every key and value.
//! - [`validate`] checks a tree against its JSON Schema, then the model against semantic rules.
//! - [`model`] holds typed, defaulted data and resolves one `Instance` per service per environment.
//! - [`render`] applies blueprints to instances unit by unit: the template
//!   environment, the template functions, the output layout and the unit
//!   driver; never reads files.
//! - [`normalize`] parses rendered text back (a span-free reader for the usual shape,
//!   the span-aware loader for the rest and for errors), checks objects, emits canonical YAML.
//! - [`policy`] defines each of the platform's Gatekeeper rules once and checks it at compile
//!   time, on specs (for `validate`) and on rendered objects; never formats output.
//! - [`emit`] writes a plan (atomically), compares it with a folder, or diffs two renders.
//! - [`app`] is the only module that calls the others, and decides exit codes.
//! - [`cmd`] holds the everyday commands built on `app::compile` (check, diff, init,
//!   explain, schema, graph); they take plain settings, never clap types.
//! - [`codes`] is the registry of diagnostic codes behind `paved explain CODE`.
//! - [`credentials`] tells credentials by name and by shape, for validation, rendering and diff alike.
//! - [`progress`] draws the progress line of long runs on a terminal.
//! - [`diag`] holds findings as data and renders them (human, JSON, GitHub).

pub mod app;
mod cli;
pub mod cmd;
pub mod codes;
pub mod credentials;
pub mod diag;
pub mod emit;
pub mod load;
pub mod model;
pub mod normalize;
pub mod placeholder;
pub mod policy;
pub mod progress;
pub mod render;
pub mod resource_types;
mod run;
pub mod source;
pub mod validate;
pub mod workspace;
pub mod yaml_emit;

pub use run::run;
