//! The render stage: blueprints applied to the resolved model, as checked
//! objects laid out in files.
//!
//! - [`env`]: the template environment (built-in and overridden blueprints,
//!   JSON auto-escaping, fuel) and rendering one blueprint for one context.
//! - [`functions`]: the filters and functions blueprints may call, and the
//!   bounds on every one of them.
//! - [`layout`]: where each object goes and what a generated file holds.
//! - [`ordering`]: the sync wave of each kind, and which kinds may be synced
//!   before their CRD exists (Argo CD annotations, one table for every
//!   blueprint).
//! - [`trace`]: where each rendered field came from (`paved trace`), from a
//!   side render with marked blueprints; never on the render path.
//! - [`units`]: the unit driver. A unit (one service in one environment, one
//!   environment, the platform, one service's catalog entry) renders its
//!   blueprints, reads the text back through `normalize`, checks the objects
//!   against the platform's policies (`policy`) and lays them out in files;
//!   units run in parallel and are assembled in order. The first pass keeps
//!   digests (and files while they fit a budget), so memory stays flat.
//!
//! Input: the `Platform`, the `Instance`s and the `Blueprints`. Output:
//! [`Rendered`] units (as `emit::Planned`) and diagnostics.
//!
//! Architecture invariant: no file system access (override blueprints are
//! read by `app` and handed over as text), no output format, no command.

mod env;
mod functions;
pub(crate) mod layout;
mod ordering;
pub(crate) mod trace;
mod units;

pub use env::Blueprints;
#[cfg(test)]
pub(crate) use env::{builtin, FUEL};
pub(crate) use env::{is_template, Blueprint};
pub(crate) use layout::preview_kustomization;
pub(crate) use units::{Rendered, Select, Units};
