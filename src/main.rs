//! `paved`: parse arguments, hand them to `app`, turn the outcome into an exit code.

mod cli;

use std::io::IsTerminal;
use std::process::ExitCode;

use clap::Parser;

use cli::{Cli, ColorArg, Command, FormatArg};
use paved::{app, diag};

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
    let out = app::Output {
        format: match cli.format {
            FormatArg::Human => diag::Format::Human,
            FormatArg::Json => diag::Format::Json,
            FormatArg::Github => diag::Format::Github,
        },
        color: match cli.color {
            ColorArg::Always => true,
            ColorArg::Never => false,
            ColorArg::Auto => {
                std::io::stderr().is_terminal()
                    && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
            }
        },
        quiet: cli.quiet,
        verbose: cli.verbose,
    };
    let result = match cli.command {
        Command::Render {
            sources,
            out: dir,
            dry_run,
        } => app::render(&inputs(sources, Some(dir.clone())), &dir, dry_run, &out),
        Command::Validate { sources } => app::validate(&inputs(sources, None), &out),
        Command::Check { sources, out: dir } => {
            app::check(&inputs(sources, Some(dir.clone())), &dir, &out)
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

fn inputs(sources: cli::Sources, out_dir: Option<std::path::PathBuf>) -> app::Inputs {
    app::Inputs {
        paths: sources.paths,
        config: sources.config,
        out_dir,
    }
}
