//! The commands, one module each, built on the one pipeline of `app`
//! (`compile` → units → first pass) and the sinks of `emit`: `render`,
//! `validate`, `check`, `diff`, `promote`, `policy`, `preview`, `init`, `explain`, `schema`, `graph`, `cost` and `trace`. Each module has one `run` function that
//! takes plain settings (never clap types) and returns what `main` turns into
//! an exit code: `Ok(true)` 0, `Ok(false)` 1, `Err(Fault)` 2.
//!
//! Architecture invariant: commands call `app` and the `emit`
//! functions; they never reach into a stage's internals. Files are written
//! only through `emit::write` (`render`, `preview delete`, and `promote`'s spec edits through
//! `emit::write::replace_specs`) and by `init` (its one new file, never over
//! an existing one).

pub(crate) mod check;
pub(crate) mod cost;
pub(crate) mod diff;
pub(crate) mod explain;
pub(crate) mod git;
pub(crate) mod graph;
pub(crate) mod init;
pub(crate) mod policy;
pub(crate) mod preview;
pub(crate) mod promote;
pub(crate) mod render;
pub(crate) mod trace;
pub(crate) mod validate;

/// Quotes a command-line argument for a POSIX shell when it needs it, so a
/// printed command can be pasted as is.
pub(crate) fn shell_quote(arg: &str) -> String {
    if !arg.is_empty()
        && arg
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./:=@%+,".contains(c))
    {
        arg.to_string()
    } else {
        format!("'{}'", arg.replace('\'', "'\\''"))
    }
}

#[cfg(test)]
mod tests {
    use super::shell_quote;

    #[test]
    fn quotes_only_when_needed() {
        assert_eq!(shell_quote("services/orders"), "services/orders");
        assert_eq!(shell_quote("my dir"), "'my dir'");
        assert_eq!(shell_quote("it's"), "'it'\\''s'");
        assert_eq!(shell_quote(""), "''");
    }
}
