//! The command line: parse arguments (`cli`), resolve them into the plain
//! settings of `app` and `cmd`, run the command, and turn the outcome into an
//! exit code: 0 success, 1 findings, 2 usage or environment (a [`Fault`]).
//!
//! Architecture invariant: the only module that knows clap and stages at
//! once; it holds no stage logic, only the mapping from flags to settings.

use std::io::IsTerminal;
use std::process::ExitCode;

use clap::{CommandFactory, Parser};

use crate::cli::{self, Cli, ColorArg, Command, CostBy, FormatArg, InitType};
use crate::{app, cmd, diag::Format};

/// Runs `paved` with the process's arguments; what `main` does.
pub fn run() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            // --help and --version are not errors; a bad argument, or a
            // `--format` the command does not have, is a usage error.
            let code = if e.use_stderr() { 2 } else { 0 };
            let _ = e.print();
            return ExitCode::from(code);
        }
    };
    match dispatch(cli) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::from(1),
        Err(fault) => {
            eprintln!("paved: error: {}", fault.0);
            ExitCode::from(2)
        }
    }
}

fn dispatch(cli: Cli) -> Result<bool, app::Fault> {
    let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
    let color_on = |terminal: bool| match cli.color {
        ColorArg::Always => true,
        ColorArg::Never => false,
        ColorArg::Auto => terminal && !no_color,
    };
    // How diagnostics print, given the command's format.
    let output = |format: Format| app::Output {
        format: format.findings(),
        color: color_on(std::io::stderr().is_terminal()),
        quiet: cli.quiet,
        verbose: cli.verbose,
    };
    match cli.command {
        Command::Render {
            sources,
            out: dir,
            dry_run,
            envs,
            preview,
            format,
        } => {
            let to_stdout = dir.as_deref().is_some_and(cmd::render::is_stdout);
            let mut i = inputs(sources, dir.filter(|_| !to_stdout), envs);
            i.default_out = !to_stdout;
            i.preview = preview;
            cmd::render::run(&i, to_stdout, dry_run, &output(resolve(format.format)))
        }
        Command::Validate { sources, format } => cmd::validate::run(
            &inputs(sources, None, vec![]),
            &output(resolve(format.format)),
        ),
        Command::Check {
            sources,
            out: dir,
            envs,
            format,
        } => {
            let mut i = inputs(sources, dir, envs);
            i.default_out = true;
            cmd::check::run(&i, &output(resolve(format.format)))
        }
        Command::Diff {
            paths,
            base,
            config,
            exit_code,
            show_secrets,
            fail_on,
            envs,
            format,
        } => {
            let settings = cmd::diff::Settings {
                paths,
                base,
                config,
                envs,
                format: resolve(format),
                exit_code,
                show_secrets,
                fail_on,
            };
            // The report is printed on stdout: coloured when stdout is a terminal.
            let out = app::Output {
                color: color_on(std::io::stdout().is_terminal()),
                ..output(settings.format)
            };
            cmd::diff::run(&settings, &out)
        }
        Command::Trace {
            file,
            field,
            resource,
            env,
            config,
            format,
        } => {
            // With --resource, the one positional argument is the field.
            let (file, field) = match (&resource, file, field) {
                (Some(_), Some(_), Some(_)) => {
                    return Err(app::Fault(
                        "with --resource, give at most one argument: the field".into(),
                    ))
                }
                (Some(_), Some(f), None) => (None, Some(f.to_string_lossy().into_owned())),
                (_, file, field) => (file, field),
            };
            let settings = cmd::trace::Settings {
                file,
                resource,
                field,
                env,
                config,
                format: resolve(format),
            };
            cmd::trace::run(&settings, &output(Format::Human))
        }
        Command::Promote {
            targets,
            all,
            from,
            to,
            image,
            dry_run,
            config,
            list,
            format,
        } => {
            let settings = cmd::promote::Settings {
                targets,
                all,
                from,
                to,
                image,
                dry_run,
                config,
                format: resolve(format),
                list,
            };
            cmd::promote::run(&settings, &output(settings.format))
        }
        Command::Init { name, kind, dir } => {
            let kind = match kind {
                InitType::Service => cmd::init::Kind::Service,
                InitType::Worker => cmd::init::Kind::Worker,
                InitType::Cronjob => cmd::init::Kind::Cronjob,
            };
            cmd::init::run(&name, kind, &dir, &output(Format::Human))
        }
        Command::Explain {
            topic,
            platform,
            list,
            format,
        } => {
            let json = resolve(format) == Format::Json;
            if list {
                cmd::explain::list(json)
            } else {
                cmd::explain::run(topic.as_deref(), platform, json)
            }
        }
        Command::Schema { platform } => cmd::explain::schema(platform),
        Command::Graph { sources, format } => cmd::graph::run(
            &inputs(sources, None, vec![]),
            resolve(format),
            &output(resolve(format)),
        ),
        Command::Cost {
            sources,
            by,
            envs,
            format,
        } => {
            let by = match by {
                None => cmd::cost::By::Instance,
                Some(CostBy::Team) => cmd::cost::By::Team,
                Some(CostBy::Service) => cmd::cost::By::Service,
                Some(CostBy::Environment) => cmd::cost::By::Environment,
            };
            cmd::cost::run(
                &inputs(sources, None, envs),
                by,
                resolve(format),
                &output(resolve(format)),
            )
        }
        Command::Policy { sources, format } => {
            cmd::policy::run(&inputs(sources, None, vec![]), &output(resolve(format)))
        }
        Command::Preview { action } => match action {
            cli::PreviewAction::Delete { name, out, config } => {
                cmd::preview::delete(&name, config, out, &output(Format::Human))
            }
            cli::PreviewAction::List { out, config } => cmd::preview::list(config, out),
        },
        Command::Lsp { stdio: _ } => crate::lsp::run(),
        Command::Completions { shell } => {
            let mut script = Vec::new();
            clap_complete::generate(shell, &mut Cli::command(), "paved", &mut script);
            app::print_stdout(&String::from_utf8_lossy(&script)).map(|()| true)
        }
    }
}

/// The one output format type, from its command-line spelling.
fn resolve(format: FormatArg) -> Format {
    match format {
        FormatArg::Human => Format::Human,
        FormatArg::Json => Format::Json,
        FormatArg::Github => Format::Github,
        FormatArg::Text => Format::Text,
        FormatArg::Markdown => Format::Markdown,
        FormatArg::Mermaid => Format::Mermaid,
        FormatArg::Dot => Format::Dot,
        FormatArg::Sarif => Format::Sarif,
        FormatArg::Csv => Format::Csv,
    }
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
        overlay: None,
        preview: None,
        cache: None,
    }
}
