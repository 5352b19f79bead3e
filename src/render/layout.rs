//! The output layout: where each rendered object goes and what a generated
//! file holds. `DIR/<env>/<service>/<kind>-<name>.yaml`, one folder per
//! service per environment with its `kustomization.yaml`; blueprints in a
//! sub-folder write to `DIR/<env>/<sub>/`; platform-wide objects to
//! `DIR/platform/<sub>/`; catalog entries to `DIR/catalog/<service>.yaml`
//! (docs/design.md, "Why this output layout"). Every file starts with the
//! generated header of `emit::header`, naming its origin.
//!
//! Semantic checks read the same rules (which folder names a service would
//! collide with, how long names are shortened), so a name clash is reported
//! at the spec line instead of as two objects written to one file.
//!
//! Architecture invariant: pure functions of names; knows no template engine,
//! no file system.

use std::collections::BTreeMap;

use serde_json::Value as Json;

use crate::emit::OutFile;
use crate::normalize::Doc;

/// The top folder of platform-wide objects.
pub(crate) const PLATFORM: &str = "platform";

/// The folder of one service in one environment.
pub(crate) fn service_folder(environment: &str, service: &str) -> String {
    format!("{environment}/{service}")
}

/// A folder and a blueprint's sub-folder (none: the folder itself).
pub(crate) fn join(a: &str, b: &str) -> String {
    if b.is_empty() {
        a.to_string()
    } else {
        format!("{a}/{b}")
    }
}

/// The file of a service's catalog entities.
pub(crate) fn catalog_file(service: &str) -> String {
    format!("catalog/{service}.yaml")
}

/// The file of the platform-wide catalog entities (Groups, Systems): a name
/// no service can have, since service names are DNS labels.
pub(crate) const CATALOG_PLATFORM_FILE: &str = "catalog/_platform.yaml";

/// The catalog sub-folder of the portal's Software Templates: its
/// blueprints render to `DIR/catalog/templates/<name>.yaml`, each with the
/// skeleton its steps fetch (docs/catalog.md).
pub(crate) const CATALOG_TEMPLATES: &str = "templates";

/// The file of the Software Template a `catalog/templates/<stem>.yaml` blueprint renders.
pub(crate) fn catalog_template_file(stem: &str) -> String {
    format!("catalog/{CATALOG_TEMPLATES}/{stem}.yaml")
}

/// The skeleton `platform.yaml` of that template's `fetch:template` step.
pub(crate) fn catalog_skeleton_file(stem: &str) -> String {
    format!("catalog/{CATALOG_TEMPLATES}/{stem}/skeleton/platform.yaml")
}

/// From a file in `DIR/catalog/` back to the workspace root, when `DIR` is
/// `out_path` relative to the root: `rendered` → `../../`.
pub(crate) fn catalog_to_root(out_path: &str) -> String {
    let mut depth: usize = 0;
    for seg in out_path.split('/') {
        match seg {
            "" | "." => {}
            ".." => depth = depth.saturating_sub(1),
            _ => depth += 1,
        }
    }
    "../".repeat(depth + 1)
}

/// `<kind>-<name>.yaml`, the file name of a document in its folder.
pub(crate) fn file_name(doc: &Doc) -> String {
    format!("{}-{}.yaml", doc.kind.to_ascii_lowercase(), doc.name)
}

/// One file per document in `folder`, each with the header naming `origin`.
pub(crate) fn files(folder: &str, origin: &str, docs: Vec<Doc>) -> Vec<OutFile> {
    docs.iter()
        .map(|d| OutFile {
            path: format!("{folder}/{}", file_name(d)),
            content: file_text(origin, &[&d.value]),
        })
        .collect()
}

/// The text of a generated file: the header naming `origin`, then each
/// document in canonical YAML, `---` between them.
pub(crate) fn file_text(origin: &str, docs: &[&Json]) -> String {
    let mut out = String::with_capacity(2048);
    out.push_str(&crate::emit::header::line(origin));
    for (i, d) in docs.iter().enumerate() {
        if i > 0 {
            out.push_str("---\n");
        }
        crate::yaml_emit::emit(d, &mut out);
    }
    out
}

/// A `kustomization.yaml` listing a service folder's files, so
/// `kubectl apply -k DIR/<env>/<service>` works.
pub(crate) fn kustomization(folder: &str, origin: &str, files: &[OutFile]) -> OutFile {
    let mut names: Vec<&str> = files
        .iter()
        .filter_map(|f| f.path.rsplit('/').next())
        .collect();
    names.sort_unstable();
    let doc = serde_json::json!({
        "apiVersion": "kustomize.config.k8s.io/v1beta1",
        "kind": "Kustomization",
        "resources": names,
    });
    OutFile {
        path: format!("{folder}/kustomization.yaml"),
        content: file_text(origin, &[&doc]),
    }
}

/// `DIR/previews/<NAME>/kustomization.yaml`: the preview's Argo CD
/// Applications (`files`, under `folder`), so one root Application syncs
/// the whole preview from `previews/<NAME>`.
pub(crate) fn preview_kustomization(folder: &str, files: &[OutFile]) -> OutFile {
    let mut names: Vec<&str> = files
        .iter()
        .filter_map(|f| f.path.strip_prefix(folder)?.strip_prefix('/'))
        .collect();
    names.sort_unstable();
    let doc = serde_json::json!({
        "apiVersion": "kustomize.config.k8s.io/v1beta1",
        "kind": "Kustomization",
        "resources": names,
    });
    OutFile {
        path: format!("{folder}/kustomization.yaml"),
        content: file_text(crate::emit::header::PLATFORM_WIDE, &[&doc]),
    }
}

/// The platform sub-folders synced to Argo CD's own cluster (its projects
/// and the root Applications); every other one is cluster-wide, for every
/// environment's cluster.
pub(crate) const ARGOCD_FOLDERS: &[&str] = &["argocd", "bootstrap"];

/// A `kustomization.yaml` in each `DIR/platform/<sub>/` folder, and
/// `DIR/platform/kustomization.yaml` listing the cluster-wide sub-folders
/// (all but [`ARGOCD_FOLDERS`]): what every environment's cluster applies
/// (`kubectl apply -k DIR/platform`, or the bootstrap's Application).
pub(crate) fn platform_kustomizations(origin: &str, files: &[OutFile]) -> Vec<OutFile> {
    let mut by_folder: BTreeMap<&str, Vec<OutFile>> = BTreeMap::new();
    for f in files {
        if let Some((folder, _)) = f.path.rsplit_once('/') {
            if folder
                .strip_prefix(PLATFORM)
                .is_some_and(|s| s.starts_with('/'))
            {
                by_folder.entry(folder).or_default().push(OutFile {
                    path: f.path.clone(),
                    content: String::new(),
                });
            }
        }
    }
    if by_folder.is_empty() {
        return Vec::new();
    }
    let mut out: Vec<OutFile> = by_folder
        .iter()
        .map(|(folder, files)| kustomization(folder, origin, files))
        .collect();
    let cluster_wide: Vec<&str> = by_folder
        .keys()
        .filter_map(|f| f.strip_prefix(PLATFORM)?.strip_prefix('/'))
        .filter(|sub| !sub.contains('/') && !ARGOCD_FOLDERS.contains(sub))
        .collect();
    let doc = serde_json::json!({
        "apiVersion": "kustomize.config.k8s.io/v1beta1",
        "kind": "Kustomization",
        "resources": cluster_wide,
    });
    out.push(OutFile {
        path: format!("{PLATFORM}/kustomization.yaml"),
        content: file_text(origin, &[&doc]),
    });
    out
}

/// FNV-1a, 64 bit: a stable, dependency-free hash for names and uids that
/// must not change between runs or machines (not for security).
pub(crate) fn fnv1a(s: &str) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in s.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h
}

/// A name of at most `max` characters: the name itself when it fits, or a
/// prefix plus an 8-hex-digit hash of the whole, so distinct inputs stay distinct.
pub(crate) fn fit(name: &str, max: usize) -> String {
    if name.len() <= max {
        return name.to_string();
    }
    let hash = format!("{:016x}", fnv1a(name));
    let keep = max.saturating_sub(9);
    let prefix: String = name.chars().take(keep).collect();
    format!("{}-{}", prefix.trim_end_matches('-'), &hash[..8])
}

/// The folders blueprints write in each environment's output folder besides
/// the services' (`DIR/<env>/<sub>/`, e.g. `argocd` for the Argo CD
/// Applications): the first sub-folder of every `service/` and
/// `environment/` blueprint, built-in or one of the platform's `overrides`,
/// with the first blueprint that writes it.
pub(crate) fn environment_folders(overrides: &[&str]) -> BTreeMap<String, String> {
    let builtin = super::env::builtin();
    let mut out = BTreeMap::new();
    for path in builtin
        .iter()
        .map(|(p, _)| p.as_str())
        .chain(overrides.iter().copied())
    {
        let parts: Vec<&str> = path.split('/').collect();
        let partial = parts.iter().any(|p| p.starts_with('_'));
        if partial || parts.len() < 3 || !super::env::is_template(path) {
            continue;
        }
        if matches!(parts[0], "service" | "environment") {
            out.entry(parts[1].to_string())
                .or_insert_with(|| path.to_string());
        }
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_catalog_climbs_to_the_root_through_the_output_folder() {
        assert_eq!(super::catalog_to_root("rendered"), "../../");
        assert_eq!(super::catalog_to_root("deploy/rendered/"), "../../../");
        assert_eq!(super::catalog_to_root("./out"), "../../");
    }
}
