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

/// The text with comments and the contents of string and char literals
/// blanked out (newlines kept, so line numbers stay), so that neither a
/// `crate::` in a doc comment nor a `//` inside `"https://…"` misleads.
fn code_only(text: &str) -> String {
    let b: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        if c == '/' && b.get(i + 1) == Some(&'/') {
            while i < b.len() && b[i] != '\n' {
                i += 1;
            }
        } else if c == '/' && b.get(i + 1) == Some(&'*') {
            i += 2;
            while i < b.len() && !(b[i] == '*' && b.get(i + 1) == Some(&'/')) {
                if b[i] == '\n' {
                    out.push('\n');
                }
                i += 1;
            }
            i += 2;
        } else if c == '"' {
            out.push('"');
            i += 1;
            while i < b.len() && b[i] != '"' {
                if b[i] == '\\' {
                    i += 1;
                }
                if b.get(i) == Some(&'\n') {
                    out.push('\n');
                }
                i += 1;
            }
            out.push('"');
            i += 1;
        } else if c == '\'' && b.get(i + 2) == Some(&'\'') {
            // a char literal such as '{' (lifetimes have no closing quote)
            out.push_str("' '");
            i += 3;
        } else {
            out.push(c);
            i += 1;
        }
    }
    out
}

/// The text without the items under `#[cfg(test)]`: a test module or a
/// single test-only item (up to its `;` or its matching `}`), wherever in
/// the file it is. Expects [`code_only`] text, so braces are code.
fn without_tests(code: &str) -> String {
    let mut out = String::new();
    let mut rest = code;
    while let Some(at) = rest.find("#[cfg(test)]") {
        out.push_str(&rest[..at]);
        let item = &rest[at..];
        let end = match (item.find(';'), item.find('{')) {
            (Some(semi), Some(brace)) if semi < brace => semi + 1,
            (Some(semi), None) => semi + 1,
            (_, Some(brace)) => {
                let mut depth = 0usize;
                let mut end = item.len();
                for (i, ch) in item[brace..].char_indices() {
                    match ch {
                        '{' => depth += 1,
                        '}' => {
                            depth -= 1;
                            if depth == 0 {
                                end = brace + i + 1;
                                break;
                            }
                        }
                        _ => {}
                    }
                }
                end
            }
            (None, None) => item.len(),
        };
        // Keep the line count.
        out.extend(item[..end].chars().filter(|c| *c == '\n'));
        rest = &item[end..];
    }
    out.push_str(rest);
    out
}

/// Expands one `use` tree below `prefix`: `a::b`, `a::{b, c::{d}}`, `self`.
fn expand(tree: &str, prefix: &str, out: &mut Vec<String>) {
    let tree = tree.trim();
    let join = |p: &str, s: &str| {
        if p.is_empty() {
            s.to_string()
        } else {
            format!("{p}::{s}")
        }
    };
    if let Some(open) = tree.find('{') {
        let head = tree[..open].trim().trim_end_matches("::");
        let inner = &tree[open + 1..tree.rfind('}').unwrap_or(tree.len())];
        let prefix = if head.is_empty() {
            prefix.to_string()
        } else {
            join(prefix, head)
        };
        let mut depth = 0;
        let mut start = 0;
        for (i, ch) in inner.char_indices() {
            match ch {
                '{' => depth += 1,
                '}' => depth -= 1,
                ',' if depth == 0 => {
                    expand(&inner[start..i], &prefix, out);
                    start = i + 1;
                }
                _ => {}
            }
        }
        expand(&inner[start..], &prefix, out);
    } else {
        let path: String = tree
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == ':')
            .collect();
        match path.trim_end_matches(':') {
            "" => {}
            "self" => out.push(prefix.to_string()),
            p => out.push(join(prefix, p)),
        }
    }
}

/// Every `crate::…` path in code, with `use crate::{a, b::{c, d}}` (over
/// any number of lines) expanded to `a`, `b::c` and `b::d`; by line.
fn uses(code: &str) -> Vec<(usize, String)> {
    let code = without_tests(&code_only(code));
    let mut out = Vec::new();
    let mut from = 0;
    while let Some(i) = code[from..].find("crate::") {
        let at = from + i;
        let line = code[..at].matches('\n').count() + 1;
        let after = &code[at + "crate::".len()..];
        let path: String = after
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == ':')
            .collect();
        let mut paths = Vec::new();
        if after[path.len()..].starts_with('{') {
            // The group up to its matching brace.
            let mut depth = 0;
            let mut end = after.len();
            for (j, ch) in after[path.len()..].char_indices() {
                match ch {
                    '{' => depth += 1,
                    '}' => {
                        depth -= 1;
                        if depth == 0 {
                            end = path.len() + j + 1;
                            break;
                        }
                    }
                    _ => {}
                }
            }
            expand(&after[..end], "", &mut paths);
        } else {
            expand(&path, "", &mut paths);
        }
        out.extend(paths.into_iter().map(|p| (line, p)));
        from = at + "crate::".len();
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
    std::fs::read_to_string(root().join("src").join(rel)).unwrap()
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
    // A test-only item early in a file hides nothing after it; a group over
    // several lines, a nested group and an alias are all seen; a `crate::`
    // in a string or after a URL's `//` is not code.
    let code = "#[cfg(test)]\nuse rules::rule;\nfn f() -> Option<crate::diag::Format> { None }\n\
        #[cfg(test)]\nmod tests {\n    use crate::app;\n}\n\
        use crate::{\n    cli as probe,\n    emit::{check::Drift, header},\n};\n\
        let u = \"https://x/\"; let s = crate::model::x; let t = \"crate::app\";\n";
    let got: Vec<(usize, String)> = uses(code);
    assert_eq!(
        got,
        [
            (3, "diag::Format".to_string()),
            (8, "cli".to_string()),
            (8, "emit::check::Drift".to_string()),
            (8, "emit::header".to_string()),
            (12, "model::x".to_string()),
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
