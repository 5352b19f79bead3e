//! The module map of `docs/design.md` is true: every module of `src/` is in
//! it, says what it must not know, and uses only the modules it may use.
//!
//! A module is a top-level file or folder of `src/` (`render/units.rs` is
//! `render`), except the entries the map lists with a path of their own
//! (`validate::schema`, `render::layout`). A use is any `crate::…` path in the
//! module's code outside its `#[cfg(test)]` part, in a `use` line or inline,
//! including the names inside `use crate::{…}`.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Items only some modules may use, beyond the module-level map: output
/// formats belong to the commands and the orchestrator, not to stages.
const ONLY_FOR: &[(&str, &[&str])] = &[("diag::Format", &["app", "cmd", "diag", "run"])];

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The map: module → the modules it may use.
fn map() -> BTreeMap<String, BTreeSet<String>> {
    let text = std::fs::read_to_string(root().join("docs/design.md")).unwrap();
    let start = text
        .find("<!-- module-map: start -->")
        .expect("docs/design.md has a module map");
    let end = text.find("<!-- module-map: end -->").unwrap();
    let mut out = BTreeMap::new();
    for line in text[start..end].lines().filter(|l| l.starts_with("| `")) {
        let cells: Vec<&str> = line.trim_matches('|').split(" | ").collect();
        assert_eq!(cells.len(), 4, "a map row has four cells: {line}");
        let module = cells[0].trim().trim_matches('`').to_string();
        let may: BTreeSet<String> = if cells[2].trim() == "nothing" {
            BTreeSet::new()
        } else {
            cells[2]
                .split(',')
                .map(|m| m.trim().trim_matches('`').to_string())
                .collect()
        };
        assert!(
            !cells[1].trim().is_empty() && !cells[3].trim().is_empty(),
            "`{module}` says what it owns and what it must not know"
        );
        assert!(
            out.insert(module.clone(), may).is_none(),
            "`{module}` is in the map twice"
        );
    }
    out
}

/// The module a source file belongs to, given the map's entries.
fn module_of(rel: &Path, map: &BTreeMap<String, BTreeSet<String>>) -> Option<String> {
    let parts: Vec<String> = rel
        .with_extension("")
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    if parts.len() == 1 && matches!(parts[0].as_str(), "lib" | "main") {
        return None;
    }
    // `validate/mod.rs` only declares modules the map lists one by one.
    let split =
        |m: &str| !map.contains_key(m) && map.keys().any(|k| k.starts_with(&format!("{m}::")));
    if parts.len() == 2 && parts[1] == "mod" && split(&parts[0]) {
        return None;
    }
    let two = parts.get(1).map(|p| format!("{}::{p}", parts[0]));
    Some(match two {
        Some(t) if map.contains_key(&t) => t,
        _ => parts[0].clone(),
    })
}

/// The module a `crate::…` path names, given the map's entries.
fn target_of(path: &str, map: &BTreeMap<String, BTreeSet<String>>) -> String {
    let mut segs = path.split("::");
    let first = segs.next().unwrap_or_default().to_string();
    match segs.next() {
        Some(second) if map.contains_key(&format!("{first}::{second}")) => {
            format!("{first}::{second}")
        }
        _ => first,
    }
}

/// Every `crate::…` path in code (not comments), with `use crate::{a, b::c}`
/// expanded to `a` and `b::c`.
fn uses(code: &str) -> Vec<(usize, String)> {
    let mut out = Vec::new();
    let ident = |c: char| c.is_ascii_alphanumeric() || c == '_' || c == ':';
    for (n, line) in code.lines().enumerate() {
        let line = line.split("//").next().unwrap_or("");
        let mut rest = line;
        while let Some(i) = rest.find("crate::") {
            let after = &rest[i + "crate::".len()..];
            if let Some(group) = after.strip_prefix('{') {
                // Groups in this code base fit on one line (rustfmt keeps
                // `use crate::{…}` short); a nested group is taken as its head.
                let inner = group.split('}').next().unwrap_or("");
                for item in inner.split(',') {
                    let item: String = item.trim().chars().take_while(|c| ident(*c)).collect();
                    if !item.is_empty() && item != "self" {
                        out.push((n + 1, item));
                    }
                }
                rest = group;
            } else {
                let path: String = after.chars().take_while(|c| ident(*c)).collect();
                let after_path = &after[path.len()..];
                match (path.strip_suffix("::"), after_path.strip_prefix('{')) {
                    // `crate::validate::{schema, semantic}`
                    (Some(prefix), Some(group)) => {
                        let inner = group.split('}').next().unwrap_or("");
                        for item in inner.split(',') {
                            let item: String =
                                item.trim().chars().take_while(|c| ident(*c)).collect();
                            match item.as_str() {
                                "" => {}
                                "self" => out.push((n + 1, prefix.to_string())),
                                _ => out.push((n + 1, format!("{prefix}::{item}"))),
                            }
                        }
                    }
                    _ => out.push((n + 1, path.trim_end_matches(':').to_string())),
                }
                rest = after;
            }
        }
    }
    out
}

/// `src/` files, relative, sorted.
fn sources() -> Vec<PathBuf> {
    let src = root().join("src");
    let mut files: Vec<PathBuf> = walkdir::WalkDir::new(&src)
        .into_iter()
        .flatten()
        .filter(|e| e.path().extension().is_some_and(|x| x == "rs"))
        .map(|e| e.path().strip_prefix(&src).unwrap().to_path_buf())
        .collect();
    files.sort();
    files
}

/// Whether a file is a test-only module: its parent declares it after
/// `#[cfg(test)]` (`model/schema_contract.rs`).
fn test_only(rel: &Path) -> bool {
    let Some(stem) = rel.file_stem().map(|s| s.to_string_lossy().into_owned()) else {
        return false;
    };
    let Some(parent) = rel.parent().filter(|p| !p.as_os_str().is_empty()) else {
        return false;
    };
    let src = root().join("src");
    let decl = [
        src.join(parent).with_extension("rs"),
        src.join(parent).join("mod.rs"),
    ]
    .into_iter()
    .find_map(|p| std::fs::read_to_string(p).ok())
    .unwrap_or_default();
    let lines: Vec<&str> = decl.lines().map(str::trim).collect();
    lines.windows(2).any(|w| {
        w[0] == "#[cfg(test)]"
            && (w[1] == format!("mod {stem};") || w[1] == format!("pub mod {stem};"))
    })
}

fn code_of(rel: &Path) -> String {
    let text = std::fs::read_to_string(root().join("src").join(rel)).unwrap();
    text.split("#[cfg(test)]").next().unwrap_or("").to_string()
}

#[test]
fn no_module_uses_what_the_design_map_forbids() {
    let map = map();
    let mut wrong = Vec::new();
    let mut seen = BTreeSet::new();
    for rel in sources() {
        let Some(module) = module_of(&rel, &map) else {
            continue;
        };
        if test_only(&rel) {
            continue;
        }
        seen.insert(module.clone());
        let Some(may) = map.get(&module) else {
            wrong.push(format!(
                "src/{}: module `{module}` is not in docs/design.md's module map",
                rel.display()
            ));
            continue;
        };
        for (line, path) in uses(&code_of(&rel)) {
            let target = target_of(&path, &map);
            let same = target == module
                || module.starts_with(&format!("{target}::"))
                || target.starts_with(&format!("{module}::"));
            for (item, only) in ONLY_FOR {
                let hit = path == *item || path.starts_with(&format!("{item}::"));
                if hit && !only.contains(&module.as_str()) {
                    wrong.push(format!(
                        "src/{}:{line}: `{module}` uses `crate::{path}`, which only {only:?} may use",
                        rel.display()
                    ));
                }
            }
            if !same && !may.contains(&target) {
                wrong.push(format!(
                    "src/{}:{line}: `{module}` uses `crate::{path}`, and the map lets it use only {may:?}",
                    rel.display()
                ));
            }
        }
    }
    for module in map.keys() {
        if !seen.contains(module) {
            wrong.push(format!(
                "docs/design.md maps `{module}`, which has no source file"
            ));
        }
    }
    assert!(
        wrong.is_empty(),
        "the module map of docs/design.md does not hold:\n{}",
        wrong.join("\n")
    );
}

#[test]
fn every_module_states_its_architecture_invariant() {
    let map = map();
    let mut missing = Vec::new();
    for module in map.keys() {
        let path = module.replace("::", "/");
        let file = ["mod.rs", ""]
            .iter()
            .map(|f| {
                if f.is_empty() {
                    root().join(format!("src/{path}.rs"))
                } else {
                    root().join(format!("src/{path}/{f}"))
                }
            })
            .find(|p| p.is_file());
        let Some(file) = file else {
            missing.push(format!("`{module}`: no src/{path}.rs or src/{path}/mod.rs"));
            continue;
        };
        let text = std::fs::read_to_string(&file).unwrap();
        let docs: String = text
            .lines()
            .take_while(|l| l.starts_with("//!") || l.trim().is_empty())
            .collect::<Vec<_>>()
            .join("\n");
        if !docs.contains("Architecture invariant") {
            missing.push(format!(
                "{}: its `//!` docs have no `Architecture invariant` line",
                file.strip_prefix(root()).unwrap().display()
            ));
        }
    }
    assert!(missing.is_empty(), "{}", missing.join("\n"));
}

#[test]
fn the_scanner_sees_grouped_and_inline_uses() {
    let code = "use crate::{diag::Diagnostic, source::Span};\nlet x = crate::render::layout::fit(a, 1); // crate::app\nuse crate::validate::{self, schema::X};\n";
    let got: Vec<String> = uses(code).into_iter().map(|(_, p)| p).collect();
    assert_eq!(
        got,
        [
            "diag::Diagnostic",
            "source::Span",
            "render::layout::fit",
            "validate",
            "validate::schema::X"
        ]
    );
    let map: BTreeMap<String, BTreeSet<String>> = [("render::layout".to_string(), BTreeSet::new())]
        .into_iter()
        .collect();
    assert_eq!(target_of("render::layout::fit", &map), "render::layout");
    assert_eq!(target_of("render::Blueprints", &map), "render");
    assert_eq!(
        module_of(Path::new("render/layout.rs"), &map).as_deref(),
        Some("render::layout")
    );
    assert_eq!(
        module_of(Path::new("render/units.rs"), &map).as_deref(),
        Some("render")
    );
}
