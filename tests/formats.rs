//! Output formats on the command line: each command takes exactly its own
//! `--format` values, lists only those in `--help`, and rejects any other as a
//! usage error (exit 2).

mod support;

use support::fixtures::paved;

/// Each command and the formats it has, in the order `--help` lists them;
/// an empty list: the command has no `--format`.
const FORMATS: &[(&str, &[&str])] = &[
    ("render", &["human", "json", "github"]),
    ("validate", &["human", "json", "github"]),
    ("check", &["human", "json", "github"]),
    ("diff", &["text", "markdown", "json"]),
    ("init", &[]),
    ("explain", &["human", "json"]),
    ("schema", &[]),
    ("graph", &["mermaid", "dot", "json"]),
    ("policy", &["human", "json"]),
    ("completions", &[]),
];

const ALL: &[&str] = &[
    "human", "json", "github", "text", "markdown", "mermaid", "dot",
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
