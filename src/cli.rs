//! Command-line interface: clap types only. `main` turns these into the
//! plain settings the stages take, so no stage ever sees a clap type.
//!
//! Architecture invariant: clap types only; knows no stage.

use std::path::PathBuf;

use clap::builder::{PossibleValuesParser, TypedValueParser};
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
pub(crate) struct Cli {
    #[command(subcommand)]
    pub command: Command,

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

/// Every `--format` name, spelt for clap; `main` turns it into `diag::Format`.
/// Each command takes only some of them (see [`formats`]).
#[derive(Debug, Clone, Copy, ValueEnum, PartialEq, Eq)]
pub(crate) enum FormatArg {
    /// For people
    Human,
    /// JSON on stdout
    Json,
    /// GitHub Actions annotations on stdout
    Github,
    /// Plain text
    Text,
    /// A pull-request comment
    Markdown,
    /// A Mermaid flowchart (renders in GitHub markdown)
    Mermaid,
    /// Graphviz DOT
    Dot,
    /// One SARIF 2.1.0 log on stdout (code scanning)
    Sarif,
    /// Comma-separated values, a header line first
    Csv,
}

/// `render`'s formats: it reports only diagnostics.
pub(crate) const DIAGNOSTIC_FORMATS: &[FormatArg] =
    &[FormatArg::Human, FormatArg::Json, FormatArg::Github];
/// `validate`'s and `check`'s formats: those of `render`, and SARIF, a single
/// log document (`render` may stream YAML on stdout, so it has none).
pub(crate) const FINDING_FORMATS: &[FormatArg] = &[
    FormatArg::Human,
    FormatArg::Json,
    FormatArg::Github,
    FormatArg::Sarif,
];
/// `diff`'s formats.
pub(crate) const DIFF_FORMATS: &[FormatArg] =
    &[FormatArg::Text, FormatArg::Markdown, FormatArg::Json];
/// What `diff --fail-on` accepts: the risk categories (`emit::risk::Category`'s
/// names; `cmd::diff` refuses a name it does not know), and `none`, which
/// turns off the platform's default (`review.failOn` in paved.yaml).
pub(crate) const FAIL_ON_VALUES: &[&str] = &[
    "data-loss",
    "exposure",
    "network",
    "promotion",
    "security",
    "cost",
    "none",
];
/// `trace`'s formats.
pub(crate) const TRACE_FORMATS: &[FormatArg] = &[FormatArg::Text, FormatArg::Json];
/// `promote`'s formats.
pub(crate) const PROMOTE_FORMATS: &[FormatArg] = &[FormatArg::Text, FormatArg::Json];
/// `graph`'s formats.
pub(crate) const GRAPH_FORMATS: &[FormatArg] =
    &[FormatArg::Mermaid, FormatArg::Dot, FormatArg::Json];
/// `cost`'s formats.
pub(crate) const COST_FORMATS: &[FormatArg] = &[
    FormatArg::Text,
    FormatArg::Markdown,
    FormatArg::Json,
    FormatArg::Csv,
];
/// `explain`'s formats.
pub(crate) const LISTING_FORMATS: &[FormatArg] = &[FormatArg::Human, FormatArg::Json];
/// `policy`'s formats: sarif lists the rules as those of a SARIF log.
pub(crate) const POLICY_FORMATS: &[FormatArg] =
    &[FormatArg::Human, FormatArg::Json, FormatArg::Sarif];

/// A `--format` that takes only `allowed`: clap rejects any other name (a
/// usage error, exit 2) and `--help` lists only these.
fn formats(allowed: &'static [FormatArg]) -> impl TypedValueParser<Value = FormatArg> {
    PossibleValuesParser::new(allowed.iter().filter_map(ValueEnum::to_possible_value))
        .map(|name| FormatArg::from_str(&name, false).expect("a possible value names a format"))
}

/// `--format` of a command that reports only diagnostics.
#[derive(Debug, clap::Args)]
pub(crate) struct DiagnosticFormat {
    /// Output format of diagnostics: human on stderr; json (one object per line) and github on stdout
    #[arg(long, value_name = "FORMAT", default_value = "human", value_parser = formats(DIAGNOSTIC_FORMATS))]
    pub format: FormatArg,
}

/// `--format` of `validate` and `check`.
#[derive(Debug, clap::Args)]
pub(crate) struct FindingFormat {
    /// Output format of diagnostics: human on stderr; json (one object per line), github and
    /// sarif (one SARIF 2.1.0 log) on stdout
    #[arg(long, value_name = "FORMAT", default_value = "human", value_parser = formats(FINDING_FORMATS))]
    pub format: FormatArg,
}

/// `paved preview` actions.
#[derive(Debug, Subcommand)]
pub(crate) enum PreviewAction {
    /// Remove DIR/previews/NAME/ (only files Paved generated; refuses otherwise)
    Delete {
        /// The preview's name, as given to `render --preview`
        name: String,
        /// The output folder [default: `rendered` in the workspace root]
        #[arg(long, short, value_name = "DIR")]
        out: Option<PathBuf>,
        /// The platform config; its folder is the workspace root [default: the nearest paved.yaml
        /// at or above the current folder]
        #[arg(long, value_name = "FILE")]
        config: Option<PathBuf>,
    },
    /// List the previews in DIR/previews/, with their services
    List {
        /// The output folder [default: `rendered` in the workspace root]
        #[arg(long, short, value_name = "DIR")]
        out: Option<PathBuf>,
        /// The platform config; its folder is the workspace root [default: the nearest paved.yaml
        /// at or above the current folder]
        #[arg(long, value_name = "FILE")]
        config: Option<PathBuf>,
    },
}

#[derive(Debug, Clone, Copy, ValueEnum, PartialEq, Eq)]
pub(crate) enum ColorArg {
    Auto,
    Always,
    Never,
}

#[derive(Debug, clap::Args)]
pub(crate) struct Sources {
    /// Which services: spec files, or folders holding platform.yaml files [default: .].
    /// The whole workspace is always compiled; paths select what is reported and written
    pub paths: Vec<PathBuf>,

    /// The platform config; its folder is the workspace root [default: the nearest paved.yaml
    /// at or above the first path, up to the Git top-level; else the built-in config]
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
}

#[derive(Debug, Subcommand)]
pub(crate) enum Command {
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
        #[arg(long = "env", value_name = "NAME", conflicts_with = "preview")]
        envs: Vec<String>,
        /// Render the selected services and what they depend on as the preview environment NAME
        /// (a DNS label, e.g. a pull request's number) into DIR/previews/NAME/ only
        #[arg(long, value_name = "NAME")]
        preview: Option<String>,
        #[command(flatten)]
        format: DiagnosticFormat,
    },
    /// Delete or list preview environments in the output folder
    #[command(after_help = "Examples:\n  \
        paved render --preview 42 services/orders --out rendered   # make (or update) preview 42\n  \
        paved preview list --out rendered\n  \
        paved preview delete 42 --out rendered")]
    Preview {
        #[command(subcommand)]
        action: PreviewAction,
    },
    /// Check specs and the platform config; write nothing
    Validate {
        #[command(flatten)]
        sources: Sources,
        #[command(flatten)]
        format: FindingFormat,
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
        #[command(flatten)]
        format: FindingFormat,
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
        /// The platform config [default: paved.yaml at or above the spec paths (with --base), else the current folder]
        #[arg(long, value_name = "FILE")]
        config: Option<PathBuf>,
        /// Exit with 1 when anything changed (like `git diff --exit-code`)
        #[arg(long)]
        exit_code: bool,
        /// Show the values of Secret data and credential-like fields instead of `<redacted>`
        #[arg(long)]
        show_secrets: bool,
        /// Exit with 1 when a risk of these categories is found (data-loss, exposure, network,
        /// promotion, security, cost; none: never) [default: review.failOn in paved.yaml]
        #[arg(long, value_name = "CATEGORY,...", value_delimiter = ',',
              value_parser = clap::builder::PossibleValuesParser::new(FAIL_ON_VALUES))]
        fail_on: Vec<String>,
        /// With --base: only this environment (repeatable) [default: every environment]
        #[arg(long = "env", value_name = "NAME")]
        envs: Vec<String>,
        /// Output format of the report (json: one document); diagnostics print as human, or as json
        /// with json
        #[arg(long, value_name = "FORMAT", default_value = "text", value_parser = formats(DIFF_FORMATS))]
        format: FormatArg,
    },
    /// Show where each field of a rendered object came from: spec line, environment override,
    /// paved.yaml line, built-in default, blueprint line
    #[command(after_help = "Examples:\n  \
        paved trace rendered/staging/orders/deployment-orders.yaml\n  \
        paved trace rendered/production/orders/deployment-orders.yaml spec.template.spec.containers[0].image\n  \
        paved trace --resource Deployment/orders/orders --env staging spec.replicas")]
    Trace {
        /// A file Paved rendered (with --resource: the field)
        #[arg(value_name = "RENDERED_FILE")]
        file: Option<PathBuf>,
        /// One field, e.g. spec.template.spec.containers[0].image or a JSON pointer [default: every field]
        #[arg(value_name = "FIELD.PATH")]
        field: Option<String>,
        /// Name the object instead of its file: KIND/NAMESPACE/NAME
        #[arg(long, value_name = "KIND/NAMESPACE/NAME")]
        resource: Option<String>,
        /// The environment [default: the one in the file's path]
        #[arg(long = "env", value_name = "NAME")]
        env: Option<String>,
        /// The platform config [default: the nearest paved.yaml at or above the file, or .]
        #[arg(long, value_name = "FILE")]
        config: Option<PathBuf>,
        /// Output format (json: one document)
        #[arg(long, value_name = "FORMAT", default_value = "text", value_parser = formats(TRACE_FORMATS))]
        format: FormatArg,
    },
    /// Move a release (the image, and what paved.yaml `promotion.releaseFields` names) from one
    /// environment into another's override in each service's platform.yaml
    #[command(after_help = "Examples:\n  \
        paved promote orders payments --from staging --to production --dry-run\n  \
        paved promote --all --from staging --to production\n  \
        paved promote orders --image ghcr.io/acme/orders:1.5.0 --to staging\n  \
        paved promote --list services/")]
    Promote {
        /// Service names (metadata.name); with --list, spec paths [default: .]
        #[arg(value_name = "SERVICE")]
        targets: Vec<String>,
        /// Every service that runs in both environments
        #[arg(long, conflicts_with = "list")]
        all: bool,
        /// The environment whose release is copied
        #[arg(long, value_name = "ENV", conflicts_with = "list")]
        from: Option<String>,
        /// The environment whose override in each spec is written
        #[arg(long, value_name = "ENV", conflicts_with = "list")]
        to: Option<String>,
        /// Set this image instead of the --from environment's
        #[arg(long, value_name = "REF", conflicts_with = "list")]
        image: Option<String>,
        /// Print the edits and the rendered diff; write nothing
        #[arg(long)]
        dry_run: bool,
        /// The platform config [default: the nearest paved.yaml at or above the current folder]
        #[arg(long, value_name = "FILE")]
        config: Option<PathBuf>,
        /// Show, per service, the release fields that differ between environments; change nothing
        #[arg(long)]
        list: bool,
        /// Output format of the report (json: one document); diagnostics print as human, or as json
        /// with json
        #[arg(long, value_name = "FORMAT", default_value = "text", value_parser = formats(PROMOTE_FORMATS))]
        format: FormatArg,
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
        /// Output format (json: one document)
        #[arg(long, value_name = "FORMAT", default_value = "human", value_parser = formats(LISTING_FORMATS))]
        format: FormatArg,
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
        /// Output format of the graph (json: one document); diagnostics print as human
        #[arg(long, value_name = "FORMAT", default_value = "mermaid", value_parser = formats(GRAPH_FORMATS))]
        format: FormatArg,
    },
    /// Estimate what each service costs a month, per environment, team and service
    #[command(after_help = "Examples:\n  \
        paved cost\n  \
        paved cost --by team --env production\n  \
        paved cost services/orders --format markdown")]
    Cost {
        #[command(flatten)]
        sources: Sources,
        /// One row per team, service or environment, summed [default: one per service and environment]
        #[arg(long, value_enum, value_name = "KEY")]
        by: Option<CostBy>,
        /// Only this environment (repeatable) [default: every environment]
        #[arg(long = "env", value_name = "NAME")]
        envs: Vec<String>,
        /// Output format (json: one document); diagnostics print as human, or as json with json
        #[arg(long, value_name = "FORMAT", default_value = "text", value_parser = formats(COST_FORMATS))]
        format: FormatArg,
    },
    /// List the platform's policies (Gatekeeper rules Paved also checks at render time) and their parameters
    Policy {
        #[command(flatten)]
        sources: Sources,
        /// Output format (json: one object per rule; sarif: the rules of a SARIF 2.1.0 log)
        #[arg(long, value_name = "FORMAT", default_value = "human", value_parser = formats(POLICY_FORMATS))]
        format: FormatArg,
    },
    /// Serve the Language Server Protocol on stdin and stdout, for editors
    #[command(
        long_about = "Serve the Language Server Protocol on stdin and stdout: an editor starts \
`paved lsp` and, as the developer types, gets the diagnostics `paved validate` would give for every open \
platform.yaml and paved.yaml, the unsaved buffers read in place of the files. Set-ups: docs/editors.md.",
        after_help = "Exit codes: 0 after `shutdown` then `exit`, 1 when the client exits or goes away without `shutdown`."
    )]
    Lsp {
        /// Accepted for editors that pass it; stdio is the only transport
        #[arg(long, hide = true)]
        stdio: bool,
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

/// `cost --by`: what one row sums.
#[derive(Debug, Clone, Copy, ValueEnum, PartialEq, Eq)]
pub(crate) enum CostBy {
    Team,
    Service,
    Environment,
}

#[derive(Debug, Clone, Copy, ValueEnum, PartialEq, Eq)]
pub(crate) enum InitType {
    Service,
    Worker,
    Cronjob,
}
