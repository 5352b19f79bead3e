//! Command-line interface: clap types only. `main` turns these into the
//! plain settings the stages take, so no stage ever sees a clap type.

use std::path::PathBuf;

use clap::{Parser, Subcommand, ValueEnum};

#[derive(Debug, Parser)]
#[command(
    name = "paved",
    version,
    about = "Compiles platform.yaml specs into every manifest a service needs",
    long_about = "Paved validates each service's platform.yaml against the platform's rules and expands it \
through blueprints into Kubernetes, Argo CD, Crossplane, Gatekeeper, Prometheus, Grafana and Backstage \
manifests. It is offline and deterministic: the same input always gives the same bytes.\n\n\
Exit codes: 0 success, 1 the input has errors (or, for check/diff, differences), 2 usage or I/O error.",
    propagate_version = true
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,

    /// How to print diagnostics: human (graphical, on stderr), json (one object per line, on stdout)
    /// or github (GitHub Actions annotations, on stdout)
    #[arg(long, global = true, value_enum, default_value_t = FormatArg::Human)]
    pub format: FormatArg,

    /// Use colour: auto (only on a terminal, and never when NO_COLOR is set), always, never
    #[arg(long, global = true, value_enum, default_value_t = ColorArg::Auto)]
    pub color: ColorArg,

    /// Print only errors
    #[arg(short, long, global = true, conflicts_with = "verbose")]
    pub quiet: bool,

    /// Print more: waivers, per-file actions
    #[arg(short, long, global = true)]
    pub verbose: bool,
}

#[derive(Debug, Clone, Copy, ValueEnum, PartialEq, Eq)]
pub enum FormatArg {
    Human,
    Json,
    Github,
}

#[derive(Debug, Clone, Copy, ValueEnum, PartialEq, Eq)]
pub enum ColorArg {
    Auto,
    Always,
    Never,
}

#[derive(Debug, clap::Args)]
pub struct Sources {
    /// Spec files, or folders searched for platform.yaml files [default: .]
    pub paths: Vec<PathBuf>,

    /// The platform config [default: paved.yaml in the folder given or above it; else the built-in config]
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Render every spec into the output folder
    Render {
        #[command(flatten)]
        sources: Sources,
        /// The output folder
        #[arg(long, short, value_name = "DIR", default_value = "rendered")]
        out: PathBuf,
        /// Do everything but write
        #[arg(long)]
        dry_run: bool,
    },
    /// Check specs and the platform config; write nothing
    Validate {
        #[command(flatten)]
        sources: Sources,
    },
    /// Render in memory and fail if the output folder differs (stale, missing or extra files)
    Check {
        #[command(flatten)]
        sources: Sources,
        /// The output folder to compare with
        #[arg(long, short, value_name = "DIR", default_value = "rendered")]
        out: PathBuf,
    },
}
