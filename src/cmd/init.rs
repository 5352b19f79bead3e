//! `paved init NAME`: a commented `platform.yaml` on the golden path.
//!
//! The file validates and renders as written (a test holds it to that for
//! each type, with the built-in config and with a platform config found
//! above the target folder, whose registry and sizes it uses). It never
//! overwrites: an existing file is a usage error (exit 2).

use std::path::Path;

use crate::app::{self, Fault, Output};
use crate::model::Platform;
use crate::workspace::SPEC_FILE;

pub(crate) use crate::scaffold::Kind;

pub(crate) fn run(name: &str, kind: Kind, dir: &Path, out: &Output) -> Result<bool, Fault> {
    check_name(name)?;
    let target = dir.join(SPEC_FILE);
    if std::fs::symlink_metadata(&target).is_ok() {
        return Err(Fault(format!(
            "`{}` already exists; paved init never overwrites a file (choose another folder with --dir, or edit that file)",
            target.display()
        )));
    }
    std::fs::create_dir_all(dir)
        .map_err(|e| Fault(format!("cannot create the folder `{}`: {e}", dir.display())))?;
    let platform = platform_for(dir);
    let text = template(name, kind, platform.as_ref());
    // `create_new` so that a file appearing since the check is not overwritten either.
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&target)
        .map_err(|e| Fault(format!("cannot create `{}`: {e}", target.display())))?;
    std::io::Write::write_all(&mut f, text.as_bytes())
        .map_err(|e| Fault(format!("cannot write `{}`: {e}", target.display())))?;
    let shown = target.display().to_string();
    let folder = super::shell_quote(&dir.display().to_string());
    app::status(
        out,
        &format!(
            "Created {shown} for the {} `{name}`.\nNext: edit the lines marked `change me`, then run\n    paved validate {folder}\n    paved render {folder}",
            kind.as_str()
        ),
    );
    Ok(true)
}

fn check_name(name: &str) -> Result<(), Fault> {
    let b = name.as_bytes();
    let ok = !b.is_empty()
        && b.len() <= 52
        && b[0].is_ascii_lowercase()
        && b.iter()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == b'-')
        && !name.ends_with('-');
    if ok {
        Ok(())
    } else {
        Err(Fault(format!(
            "`{name}` is not a valid service name: use lower-case letters, digits and '-', starting with a letter and ending with a letter or digit, at most 52 characters (e.g. `order-service`)"
        )))
    }
}

/// The platform config that will apply to a spec in `dir`, if one is found
/// and valid; the template then uses its registry and sizes.
fn platform_for(dir: &Path) -> Option<Platform> {
    let path = crate::workspace::config_for(dir)?;
    app::load_config(Some(&path)).ok()?.0
}

/// The scaffold's text: the starter spec (`scaffold`) with the defaults
/// of `paved init` and the platform's first registry and sizes.
pub(crate) fn template(name: &str, kind: Kind, platform: Option<&Platform>) -> String {
    let registry = platform
        .and_then(|p| p.allowed_registries.first())
        .map(|r| r.trim_end_matches('/').to_string())
        .unwrap_or_else(|| "ghcr.io/acme".to_string());
    let sizes = sizes(platform);
    let answers =
        crate::scaffold::defaults(name, kind, &registry, sizes.first().map(String::as_str));
    crate::scaffold::text(&answers, &sizes)
}

/// The sizes a starter spec offers: the platform's, else the built-in ones.
pub(crate) fn sizes(platform: Option<&Platform>) -> Vec<String> {
    match platform {
        Some(p) => p.sizes.keys().cloned().collect(),
        None => vec!["small".into(), "medium".into(), "large".into()],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_follow_the_spec_rule() {
        for ok in ["orders", "order-service", "a1"] {
            assert!(check_name(ok).is_ok(), "{ok}");
        }
        for bad in [
            "",
            "Orders",
            "1st",
            "orders-",
            "a_b",
            "../x",
            &"a".repeat(53),
        ] {
            assert!(check_name(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn the_scaffold_starts_with_the_modeline() {
        let t = template("orders", Kind::Service, None);
        assert!(t.starts_with(
            "# yaml-language-server: $schema=https://paved.dev/schemas/platform.v1.schema.json\n"
        ));
    }
}
