//! Command-line interface: clap types only. `main` turns these into the
//! plain settings the stages take, so no stage ever sees a clap type.
//!
//! Architecture invariant: clap types only; knows no stage.

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

    /// Output format. Diagnostics: human (graphical, on stderr), json (one object per line, on
    /// stdout) or github (GitHub Actions annotations, on stdout). `diff` also takes text (= human)
    /// and markdown; `graph` takes mermaid (its default), dot and json; `explain` takes json
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
    /// `diff`: plain text (the same as human)
    Text,
    /// `diff`: a pull-request comment
    Markdown,
    /// `graph`: a Mermaid flowchart
    Mermaid,
    /// `graph`: Graphviz DOT
    Dot,
}

impl FormatArg {
    pub fn name(self) -> &'static str {
        match self {
            FormatArg::Human => "human",
            FormatArg::Json => "json",
            FormatArg::Github => "github",
            FormatArg::Text => "text",
            FormatArg::Markdown => "markdown",
            FormatArg::Mermaid => "mermaid",
            FormatArg::Dot => "dot",
        }
    }
}

#[derive(Debug, Clone, Copy, ValueEnum, PartialEq, Eq)]
pub enum ColorArg {
    Auto,
    Always,
    Never,
}

#[derive(Debug, clap::Args)]
pub struct Sources {
    /// Which services: spec files, or folders holding platform.yaml files [default: .].
    /// The whole workspace is always compiled; paths select what is reported and written
    pub paths: Vec<PathBuf>,

    /// The platform config; its folder is the workspace root [default: the nearest paved.yaml
    /// at or above the first path, up to the Git top-level; else the built-in config]
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Render the selected services (and the platform-wide files) into the output folder
    #[command(after_help = "Examples:\n  \
        paved render --out rendered                    # the whole workspace\n  \
        paved render services/orders --out rendered    # one service, and the platform-wide files\n  \
        paved render --env staging --out - | kubectl apply --dry-run=client -f -")]
    Render {
        #[command(flatten)]
        sources: Sources,
        /// The output folder, or `-` for one multi-document YAML stream on stdout
        /// [default: `rendered` in the workspace root]
        #[arg(long, short, value_name = "DIR")]
        out: Option<PathBuf>,
        /// Report what would be written, kept and removed; write nothing
        #[arg(long)]
        dry_run: bool,
        /// Only this environment (repeatable) [default: every environment]
        #[arg(long = "env", value_name = "NAME")]
        envs: Vec<String>,
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
        /// The output folder to compare with [default: `rendered` in the workspace root]
        #[arg(long, short, value_name = "DIR")]
        out: Option<PathBuf>,
        /// Only this environment (repeatable) [default: every environment]
        #[arg(long = "env", value_name = "NAME")]
        envs: Vec<String>,
    },
    /// Compare rendered resources: two folders, or the specs now against a Git revision
    #[command(after_help = "Examples:\n  \
        paved diff old-render/ new-render/\n  \
        paved diff --base origin/main services/\n  \
        paved diff --base origin/main --format markdown > comment.md")]
    Diff {
        /// OLD_DIR NEW_DIR (two folders of manifests); with --base, the spec paths [default: .]
        #[arg(value_name = "PATH")]
        paths: Vec<PathBuf>,
        /// Render the specs as they were at this Git revision and compare with the work tree
        #[arg(long, value_name = "GIT_REF")]
        base: Option<String>,
        /// The platform config (with --base) [default: paved.yaml in the folder given or above it]
        #[arg(long, value_name = "FILE")]
        config: Option<PathBuf>,
        /// Exit with 1 when anything changed (like `git diff --exit-code`)
        #[arg(long)]
        exit_code: bool,
        /// Show the values of Secret data and credential-like fields instead of `<redacted>`
        #[arg(long)]
        show_secrets: bool,
        /// With --base: only this environment (repeatable) [default: every environment]
        #[arg(long = "env", value_name = "NAME")]
        envs: Vec<String>,
    },
    /// Write a commented platform.yaml for a new service (never overwrites)
    Init {
        /// The service name: lower-case letters, digits and '-'
        name: String,
        /// The kind of workload
        #[arg(long = "type", value_enum, default_value_t = InitType::Service)]
        kind: InitType,
        /// The folder to write platform.yaml into (created if missing)
        #[arg(long, value_name = "DIR", default_value = ".")]
        dir: PathBuf,
    },
    /// Describe a field of platform.yaml (e.g. spec.ports) or a diagnostic code
    #[command(after_help = "Examples:\n  \
        paved explain spec.autoscaling\n  \
        paved explain spec.resources.db.type\n  \
        paved explain --platform spec.sizes\n  \
        paved explain paved::schema::unknown-field")]
    Explain {
        /// A field path (spec.ports[0].port), a diagnostic code (paved::schema::unknown-field),
        /// or nothing for the top level
        topic: Option<String>,
        /// Explain a field of paved.yaml (the platform config) instead of platform.yaml
        #[arg(long)]
        platform: bool,
        /// List every diagnostic code with its title, by stage
        #[arg(long, conflicts_with_all = ["topic", "platform"])]
        list: bool,
    },
    /// Print the JSON Schema of platform.yaml (or of paved.yaml with --platform)
    Schema {
        /// The schema of paved.yaml, the platform config
        #[arg(long)]
        platform: bool,
    },
    /// Draw services, their dependencies and resources (Mermaid by default, or --format dot|json)
    Graph {
        #[command(flatten)]
        sources: Sources,
    },
    /// List the platform's policies (Gatekeeper rules Paved also checks at render time) and their parameters
    Policy {
        #[command(flatten)]
        sources: Sources,
    },
    /// Print a shell completion script
    #[command(after_help = "Examples:\n  \
        paved completions bash > ~/.local/share/bash-completion/completions/paved\n  \
        paved completions zsh > \"${fpath[1]}/_paved\"\n  \
        paved completions fish > ~/.config/fish/completions/paved.fish")]
    Completions {
        /// The shell
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
}

#[derive(Debug, Clone, Copy, ValueEnum, PartialEq, Eq)]
pub enum InitType {
    Service,
    Worker,
    Cronjob,
}
