//! Output formats on the command line: each command takes exactly its own
//! `--format` values, lists only those in `--help`, and rejects any other as a
//! usage error (exit 2).

use crate::support::fixtures::paved;

/// Each command and the formats it has, in the order `--help` lists them;
/// an empty list: the command has no `--format`.
const FORMATS: &[(&str, &[&str])] = &[
    ("render", &["human", "json", "github"]),
    ("validate", &["human", "json", "github", "sarif"]),
    ("check", &["human", "json", "github", "sarif"]),
    ("diff", &["text", "markdown", "json"]),
    ("init", &[]),
    ("explain", &["human", "json"]),
    ("schema", &[]),
    ("graph", &["mermaid", "dot", "json"]),
    ("cost", &["text", "markdown", "json", "csv"]),
    ("policy", &["human", "json", "sarif"]),
    ("completions", &[]),
];

const ALL: &[&str] = &[
    "human", "json", "github", "text", "markdown", "mermaid", "dot", "sarif", "csv",
];

/// The values `--help` lists under `--format`, or `None` without a `--format`.
fn listed(help: &str) -> Option<Vec<String>> {
    let at = help.find("--format <FORMAT>")?;
    let rest = &help[at..];
    let values = &rest[rest.find("Possible values:")?..];
    Some(
        values
            .lines()
            .skip(1)
            .map(str::trim)
            .take_while(|l| l.starts_with("- "))
            .map(|l| l[2..].split(':').next().unwrap().trim().to_string())
            .collect(),
    )
}

#[test]
fn help_lists_exactly_the_formats_of_each_command() {
    for (command, formats) in FORMATS {
        let o = paved().args([command, "--help"]).output().unwrap();
        assert_eq!(o.status.code(), Some(0), "{command} --help");
        let help = String::from_utf8_lossy(&o.stdout);
        let got = listed(&help);
        if formats.is_empty() {
            assert!(
                !help.contains("--format"),
                "{command} has no --format:\n{help}"
            );
        } else {
            assert_eq!(
                got.as_deref(),
                Some(&formats.iter().map(|f| f.to_string()).collect::<Vec<_>>()[..]),
                "{command}:\n{help}"
            );
        }
    }
}

#[test]
fn a_format_the_command_does_not_have_is_exit_2() {
    for (command, formats) in FORMATS {
        for other in ALL.iter().filter(|f| !formats.contains(f)) {
            let mut args = vec![*command];
            // Arguments the command needs before its options are checked.
            match *command {
                "init" => args.push("orders"),
                "completions" => args.push("bash"),
                _ => {}
            }
            args.extend(["--format", other]);
            let o = paved().args(&args).output().unwrap();
            assert_eq!(o.status.code(), Some(2), "{args:?}");
            let stderr = String::from_utf8_lossy(&o.stderr);
            let expected = if formats.is_empty() {
                "error: unexpected argument '--format' found".to_string()
            } else {
                format!(
                    "error: invalid value '{other}' for '--format <FORMAT>'\n  [possible values: {}]\n",
                    formats.join(", ")
                )
            };
            assert!(stderr.starts_with(&expected), "{args:?}:\n{stderr}");
            assert!(o.stdout.is_empty(), "{args:?}");
        }
    }
}

#[test]
fn format_belongs_after_the_command() {
    let o = paved()
        .args(["--format", "json", "validate"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(
        stderr.contains("tip: 'validate --format' exists"),
        "{stderr}"
    );
}

/// `check --format json` prints each drifted file through diag's JSON sink:
/// the line equals what `diag::render` makes of the same finding.
#[test]
fn check_json_is_diag_json() {
    use paved::testing::cmd::check::finding;
    use paved::testing::diag::{render, Format};
    use paved::testing::emit::check::Drift;

    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join(".git")).unwrap();
    let input = crate::support::fixtures::root().join("fixtures/quickstart/input");
    std::fs::create_dir(dir.path().join("orders")).unwrap();
    for file in ["paved.yaml", "orders/platform.yaml"] {
        std::fs::copy(input.join(file), dir.path().join(file)).unwrap();
    }
    let run = |args: &[&str]| paved().current_dir(dir.path()).args(args).output().unwrap();
    assert_eq!(
        run(&["render", "--out", "out", "-q"]).status.code(),
        Some(0)
    );
    let rendered: Vec<String> = crate::support::fixtures::read_tree(&dir.path().join("out"))
        .into_keys()
        .filter(|p| p.ends_with(".yaml") && !p.ends_with("kustomization.yaml"))
        .collect();
    let gone = &rendered[0];
    std::fs::remove_file(dir.path().join("out").join(gone)).unwrap();
    let o = run(&["check", "--out", "out", "--format", "json"]);
    assert_eq!(o.status.code(), Some(1));
    let fix = "paved render --out out";
    assert_eq!(
        String::from_utf8_lossy(&o.stdout),
        render(
            &[finding(&Drift::Missing(gone.clone()), "out", fix)],
            Format::Json,
            false
        )
    );
}
