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
//! - [`cmd`] holds the commands built on `app::compile`, a file each (render, validate,
//!   check, diff, policy, init, explain and schema, graph); they take plain settings,
//!   never clap types. [`run`] turns the command line into those settings.
//! - [`resource_types`] is the one table of resource types (parameters, connection keys, egress).
//! - [`codes`] is the registry of diagnostic codes behind `paved explain CODE`.
//! - [`credentials`] tells credentials by name and by shape, for validation, rendering and diff alike.
//! - [`progress`] draws the progress line of long runs on a terminal.
//! - [`lsp`] is `paved lsp`: the language server, whose diagnostics are `app::compile`'s
//!   on the editor's unsaved buffers.
//! - [`diag`] holds findings as data and renders them (human, JSON, GitHub).
//!
//! The public surface is [`run`] (what the binary calls) and [`testing`]
//! (what the integration tests and the fuzz target drive); every module is
//! private and `unreachable_pub` keeps their items `pub(crate)`.

mod app;
mod cli;
mod cmd;
mod codes;
mod cost;
mod credentials;
mod diag;
mod edit;
mod emit;
mod fields;
mod load;
mod lsp;
mod model;
mod normalize;
mod placeholder;
mod policy;
mod progress;
mod render;
mod resource_types;
mod run;
mod scaffold;
mod source;
mod validate;
mod workspace;
mod yaml_emit;

pub use run::run;

/// What the integration tests (`tests/it/`) and the fuzz target (`fuzz/`)
/// drive directly, beside the binary. Not a stable interface: it is as small
/// as they need, and `unreachable_pub` keeps every other item `pub(crate)`.
#[doc(hidden)]
pub mod testing {
    pub mod app {
        pub use crate::app::{compile, render_in_memory, Compiled, Fault, Inputs, DEFAULT_CONFIG};
    }
    pub mod cmd {
        pub mod check {
            pub use crate::cmd::check::finding;
        }
    }
    pub mod codes {
        pub use crate::codes::{Code, CODES};
    }
    pub mod credentials {
        pub use crate::credentials::is_credential_name;
    }
    pub mod diag {
        pub use crate::diag::{count_errors, is_hidden, render, Diagnostic, Format, Severity};
    }
    pub mod emit {
        pub use crate::emit::{is_contained, survey, InMemory, OutFile, Scope};
        pub mod check {
            pub use crate::emit::check::Drift;
        }
        pub mod header {
            pub use crate::emit::header::{MARK, TEMPLATE_MARK};
        }
        pub mod write {
            pub use crate::emit::write::apply;
        }
    }
    pub mod load {
        pub use crate::load::{parse, Documents, Node};
    }
    pub mod model {
        pub use crate::model::Platform;
    }
    pub mod normalize {
        pub use crate::normalize::{slow_reads, Doc};
        pub mod fast {
            pub use crate::normalize::fast::parse;
        }
    }
    pub mod placeholder {
        pub use crate::placeholder::connection_keys;
    }
    pub mod policy {
        pub use crate::policy::{check, Rule, RULES};
    }
    pub mod render {
        pub use crate::render::Blueprints;
    }
    pub mod source {
        pub use crate::source::Source;
    }
    pub mod validate {
        pub mod semantic {
            pub use crate::validate::semantic::resource_parameters;
        }
    }
}
