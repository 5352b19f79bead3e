//! `paved`: parse arguments, hand them to `app`, turn the outcome into an exit code.

mod cli;

use std::io::IsTerminal;
use std::process::ExitCode;

use clap::{CommandFactory, Parser};

use cli::{Cli, ColorArg, Command, FormatArg, InitType};
use paved::{app, cmd, diag};

/// Rendering allocates many small strings on two threads; mimalloc does that
/// markedly faster than glibc's allocator (see BENCHMARKS.md).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            // --help and --version are not errors.
            let code = if e.use_stderr() { 2 } else { 0 };
            let _ = e.print();
            return ExitCode::from(code);
        }
    };
    let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
    let color_on = |terminal: bool| match cli.color {
        ColorArg::Always => true,
        ColorArg::Never => false,
        ColorArg::Auto => terminal && !no_color,
    };
    let out = app::Output {
        // Formats of a command's own report (diff, graph) print diagnostics for humans.
        format: match cli.format {
            FormatArg::Json => diag::Format::Json,
            FormatArg::Github => diag::Format::Github,
            _ => diag::Format::Human,
        },
        color: color_on(std::io::stderr().is_terminal()),
        quiet: cli.quiet,
        verbose: cli.verbose,
    };
    // A report printed on stdout is coloured when stdout is a terminal.
    let stdout_color = color_on(std::io::stdout().is_terminal());
    let format = cli.format;
    use FormatArg::{Dot, Github, Human, Json, Markdown, Mermaid, Text};
    let result = match cli.command {
        Command::Render {
            sources,
            out: dir,
            dry_run,
            envs,
        } => allow("render", format, &[Human, Json, Github]).and_then(|()| {
            let to_stdout = dir.as_deref().is_some_and(cmd::render::is_stdout);
            let mut i = inputs(sources, dir.filter(|_| !to_stdout), envs);
            i.default_out = !to_stdout;
            cmd::render::run(&i, to_stdout, dry_run, &out)
        }),
        Command::Validate { sources } => allow("validate", format, &[Human, Json, Github])
            .and_then(|()| cmd::validate::run(&inputs(sources, None, vec![]), &out)),
        Command::Check {
            sources,
            out: dir,
            envs,
        } => allow("check", format, &[Human, Json, Github]).and_then(|()| {
            let mut i = inputs(sources, dir, envs);
            i.default_out = true;
            cmd::check::run(&i, &out)
        }),
        Command::Diff {
            paths,
            base,
            config,
            exit_code,
            show_secrets,
            envs,
        } => allow("diff", format, &[Human, Text, Markdown, Json]).and_then(|()| {
            let settings = cmd::diff::Settings {
                paths,
                base,
                config,
                envs,
                format: match format {
                    Markdown => cmd::diff::Format::Markdown,
                    Json => cmd::diff::Format::Json,
                    _ => cmd::diff::Format::Text,
                },
                exit_code,
                show_secrets,
            };
            let out = app::Output {
                color: stdout_color,
                ..out.clone()
            };
            cmd::diff::run(&settings, &out)
        }),
        Command::Init { name, kind, dir } => allow("init", format, &[Human]).and_then(|()| {
            let kind = match kind {
                InitType::Service => cmd::init::Kind::Service,
                InitType::Worker => cmd::init::Kind::Worker,
                InitType::Cronjob => cmd::init::Kind::Cronjob,
            };
            cmd::init::run(&name, kind, &dir, &out)
        }),
        Command::Explain {
            topic,
            platform,
            list,
        } => allow("explain", format, &[Human, Json]).and_then(|()| {
            if list {
                cmd::explain::list(format == Json)
            } else {
                cmd::explain::run(topic.as_deref(), platform, format == Json)
            }
        }),
        Command::Schema { platform } => {
            allow("schema", format, &[Human, Json]).and_then(|()| cmd::explain::schema(platform))
        }
        Command::Graph { sources } => allow("graph", format, &[Human, Mermaid, Dot, Json])
            .and_then(|()| {
                let f = match format {
                    Dot => cmd::graph::Format::Dot,
                    Json => cmd::graph::Format::Json,
                    _ => cmd::graph::Format::Mermaid,
                };
                cmd::graph::run(&inputs(sources, None, vec![]), f, &out)
            }),
        Command::Policy { sources } => allow("policy", format, &[Human, Json])
            .and_then(|()| cmd::policy::run(&inputs(sources, None, vec![]), &out)),
        Command::Completions { shell } => {
            let mut script = Vec::new();
            clap_complete::generate(shell, &mut Cli::command(), "paved", &mut script);
            app::print_stdout(&String::from_utf8_lossy(&script)).map(|()| true)
        }
    };
    match result {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::from(1),
        Err(fault) => {
            eprintln!("paved: error: {}", fault.0);
            ExitCode::from(2)
        }
    }
}

/// A `--format` a command does not produce is a usage error (exit 2).
fn allow(command: &str, got: FormatArg, allowed: &[FormatArg]) -> Result<(), app::Fault> {
    if allowed.contains(&got) {
        return Ok(());
    }
    let names: Vec<&str> = allowed.iter().map(|f| f.name()).collect();
    Err(app::Fault(format!(
        "`paved {command}` has no `--format {}`; use {}",
        got.name(),
        names.join(", ")
    )))
}

fn inputs(
    sources: cli::Sources,
    out_dir: Option<std::path::PathBuf>,
    envs: Vec<String>,
) -> app::Inputs {
    app::Inputs {
        paths: sources.paths,
        config: sources.config,
        out_dir,
        default_out: false,
        envs,
    }
}
