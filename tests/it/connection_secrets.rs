//! The connection-secret contract as a system (docs/resources-infrastructure.md):
//! over every golden tree, no XR carries a field Crossplane owns, and where
//! the platform renders its reference Compositions (paved.yaml
//! `crossplane.compositions: reference`), each XRD has one, it is accepted by
//! the upstream Composition CRD, and every key any rendered `secretKeyRef`
//! reads from a `<resource>-connection` Secret is a key the Composition of
//! that resource's type writes into the Secret it composes.
//!
//! The Secret sits inside a function-go-templating template. Its document is
//! written so that it can be read without a Go engine: no control structures,
//! every `{{ … }}` a whole value. [`composed_secret_keys`] drops the lines that
//! are only an action, puts a placeholder where an action is a value, parses
//! the document as YAML and reads `data` and `stringData`; it fails when it
//! finds no Secret or no key.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

use crate::support::fixtures::{self, golden_cases};
use crate::support::schemas::Schemas;

const FUNCTION: &str = "function-go-templating";

/// The golden cases whose paved.yaml asks for the reference Compositions.
fn reference_cases() -> Vec<std::path::PathBuf> {
    let cases: Vec<_> = golden_cases()
        .into_iter()
        .filter(|case| {
            let Ok(text) = std::fs::read_to_string(case.join("input/paved.yaml")) else {
                return false;
            };
            let config: Value = serde_yaml::from_str(&text).unwrap();
            config["spec"]["crossplane"]["compositions"] == "reference"
        })
        .collect();
    assert!(
        !cases.is_empty(),
        "no golden fixture sets crossplane.compositions: reference"
    );
    cases
}

/// `(group, kind)` → the XRD, for every XRD of a tree.
fn xrds(docs: &fixtures::Docs) -> BTreeMap<(String, String), &Value> {
    docs.iter()
        .filter(|(_, d)| d["kind"] == "CompositeResourceDefinition")
        .map(|(_, d)| {
            (
                (
                    d["spec"]["group"].as_str().unwrap().to_string(),
                    d["spec"]["names"]["kind"].as_str().unwrap().to_string(),
                ),
                d,
            )
        })
        .collect()
}

/// The XRs of a tree: documents whose group and kind some XRD of the tree defines.
fn xrs(docs: &fixtures::Docs) -> Vec<(&str, &Value)> {
    let defined = xrds(docs);
    docs.iter()
        .filter(|(_, d)| {
            let group = d["apiVersion"].as_str().unwrap_or("").split('/').next();
            let kind = d["kind"].as_str().unwrap_or("");
            group.is_some_and(|g| defined.contains_key(&(g.to_string(), kind.to_string())))
        })
        .map(|(p, d)| (p.as_str(), d))
        .collect()
}

#[test]
fn no_rendered_xr_carries_a_field_crossplane_owns() {
    let mut failures = Vec::new();
    let mut seen = 0;
    for case in golden_cases() {
        let docs = fixtures::documents(&case.join("expected"));
        for (path, xr) in xrs(&docs) {
            seen += 1;
            let spec = &xr["spec"];
            if spec.get("writeConnectionSecretToRef").is_some() {
                failures.push(format!(
                    "{}: {path} carries spec.writeConnectionSecretToRef",
                    case.display()
                ));
            }
            let want = format!("{}-connection", xr["metadata"]["name"].as_str().unwrap());
            if spec["connectionSecret"]["name"] != want.as_str() {
                failures.push(format!(
                    "{}: {path}: spec.connectionSecret.name is {}, not {want}",
                    case.display(),
                    spec["connectionSecret"]["name"]
                ));
            }
        }
        for ((_, kind), xrd) in xrds(&docs) {
            let spec =
                &xrd["spec"]["versions"][0]["schema"]["openAPIV3Schema"]["properties"]["spec"];
            if spec["properties"]
                .get("writeConnectionSecretToRef")
                .is_some()
                || spec["properties"].get("connectionSecret").is_none()
            {
                failures.push(format!(
                    "{}: the XRD of {kind} does not define spec.connectionSecret (or still defines writeConnectionSecretToRef)",
                    case.display()
                ));
            }
        }
    }
    assert!(seen > 0, "no XR in any golden tree");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// The Compositions of a tree, by the XR kind they compose.
fn compositions(docs: &fixtures::Docs) -> BTreeMap<String, Vec<(&str, &Value)>> {
    let mut out: BTreeMap<String, Vec<(&str, &Value)>> = BTreeMap::new();
    for (path, d) in docs.iter().filter(|(_, d)| d["kind"] == "Composition") {
        let kind = d["spec"]["compositeTypeRef"]["kind"].as_str().unwrap_or("");
        out.entry(kind.to_string())
            .or_default()
            .push((path.as_str(), d));
    }
    out
}

#[test]
fn each_xrd_has_one_reference_composition_accepted_by_the_upstream_crd() {
    let mut failures = Vec::new();
    for case in reference_cases() {
        let docs = fixtures::documents(&case.join("expected"));
        let schemas = Schemas::load();
        let by_kind = compositions(&docs);
        let defined = xrds(&docs);
        assert!(!defined.is_empty(), "{}: no XRD", case.display());
        for ((group, kind), xrd) in &defined {
            let version = xrd["spec"]["versions"][0]["name"].as_str().unwrap();
            let found = by_kind.get(kind).map(Vec::as_slice).unwrap_or_default();
            let [(path, c)] = found else {
                failures.push(format!(
                    "{}: {} Compositions for {kind}, want 1",
                    case.display(),
                    found.len()
                ));
                continue;
            };
            if !path.starts_with("platform/crossplane/") {
                failures.push(format!(
                    "{}: {path} is not under platform/crossplane/",
                    case.display()
                ));
            }
            if c["apiVersion"] != "apiextensions.crossplane.io/v1"
                || c["spec"]["compositeTypeRef"]["apiVersion"]
                    != format!("{group}/{version}").as_str()
                || c["spec"]["mode"] != "Pipeline"
            {
                failures.push(format!(
                    "{}: {path}: not a v1 pipeline Composition of {group}/{version} {kind}",
                    case.display()
                ));
            }
            let steps = c["spec"]["pipeline"]
                .as_array()
                .cloned()
                .unwrap_or_default();
            if steps.is_empty() || steps.iter().any(|s| s["functionRef"]["name"] != FUNCTION) {
                failures.push(format!(
                    "{}: {path}: every step must run {FUNCTION}",
                    case.display()
                ));
            }
            if let Err(errs) = schemas.validate(c) {
                failures.push(format!("{}: {path}: {}", case.display(), errs.join("; ")));
            }
        }
        for kind in by_kind.keys() {
            if !defined.keys().any(|(_, k)| k == kind) {
                failures.push(format!(
                    "{}: a Composition for {kind}, which no XRD defines",
                    case.display()
                ));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// The function-go-templating inline template of a Composition's steps.
fn templates(composition: &Value) -> Vec<&str> {
    composition["spec"]["pipeline"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|s| s["functionRef"]["name"] == FUNCTION)
        .filter_map(|s| s["input"]["inline"]["template"].as_str())
        .collect()
}

/// Whether a trimmed line is nothing but one Go template action.
fn only_an_action(line: &str) -> bool {
    let t = line.trim();
    t.starts_with("{{") && t.ends_with("}}") && t[2..t.len() - 2].find("}}").is_none()
}

/// Replaces every `{{ … }}` in a line with a plain scalar.
fn blank_actions(line: &str) -> String {
    let mut out = String::new();
    let mut rest = line;
    while let Some(start) = rest.find("{{") {
        out.push_str(&rest[..start]);
        let Some(end) = rest[start..].find("}}") else {
            panic!("an unclosed action in `{line}`");
        };
        out.push_str("VALUE");
        rest = &rest[start + end + 2..];
    }
    out.push_str(rest);
    out
}

/// The keys the template's composed Secret writes, and the expression that
/// names it. Fails when the template composes no Secret, when its Secret
/// document holds control structures, or when it writes no key.
fn composed_secret_keys(template: &str, what: &str) -> (BTreeSet<String>, String) {
    let mut found = None;
    for document in template.split("\n---") {
        let lines: Vec<&str> = document.lines().collect();
        let is_secret = lines
            .iter()
            .any(|l| l.trim() == "kind: Secret" && !l.starts_with(' '));
        if !is_secret {
            continue;
        }
        assert!(found.is_none(), "{what}: more than one Secret is composed");
        let control = [
            "{{ if",
            "{{- if",
            "{{ with",
            "{{- with",
            "{{ range",
            "{{- range",
        ];
        for line in &lines {
            assert!(
                !control.iter().any(|c| line.contains(c)),
                "{what}: the Secret document must hold no control structure: `{line}`"
            );
        }
        let name_line = lines
            .iter()
            .find(|l| l.trim_start().starts_with("name:") && l.starts_with("  name:"))
            .unwrap_or_else(|| panic!("{what}: the Secret has no metadata.name line"));
        let text: String = lines
            .iter()
            .filter(|l| !only_an_action(l))
            .map(|l| blank_actions(l) + "\n")
            .collect();
        let doc: Value = serde_yaml::from_str(&text).unwrap_or_else(|e| {
            panic!("{what}: the Secret document is not YAML once blanked: {e}\n{text}")
        });
        assert_eq!(doc["apiVersion"], "v1", "{what}");
        let keys: BTreeSet<String> = ["data", "stringData"]
            .iter()
            .filter_map(|f| doc[f].as_object())
            .flat_map(|m| m.keys().cloned())
            .collect();
        assert!(
            !keys.is_empty(),
            "{what}: the composed Secret writes no key"
        );
        found = Some((keys, name_line.trim().to_string()));
    }
    found.unwrap_or_else(|| panic!("{what}: the template composes no Secret"))
}

/// Every `secretKeyRef` under a value: `(secret name, key)`.
fn secret_key_refs(v: &Value, out: &mut Vec<(String, String)>) {
    match v {
        Value::Object(m) => {
            if let Some(r) = m.get("secretKeyRef") {
                if let (Some(n), Some(k)) = (r["name"].as_str(), r["key"].as_str()) {
                    out.push((n.to_string(), k.to_string()));
                }
            }
            m.values().for_each(|x| secret_key_refs(x, out));
        }
        Value::Array(a) => a.iter().for_each(|x| secret_key_refs(x, out)),
        _ => {}
    }
}

#[test]
fn every_connection_key_read_is_written_by_the_reference_composition() {
    let mut failures = Vec::new();
    let mut checked = 0;
    for case in reference_cases() {
        let docs = fixtures::documents(&case.join("expected"));
        let by_kind = compositions(&docs);
        // (namespace, connection Secret) → XR kind
        let mut promised: BTreeMap<(String, String), String> = BTreeMap::new();
        for (_, xr) in xrs(&docs) {
            let ns = xr["metadata"]["namespace"].as_str().unwrap().to_string();
            let name = xr["metadata"]["name"].as_str().unwrap();
            promised.insert(
                (ns, format!("{name}-connection")),
                xr["kind"].as_str().unwrap().to_string(),
            );
        }
        let mut written: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        for (kind, found) in &by_kind {
            for (path, c) in found {
                let what = format!("{}: {path}", case.display());
                let tpls = templates(c);
                assert!(!tpls.is_empty(), "{what}: no {FUNCTION} inline template");
                let (keys, name_line) = composed_secret_keys(&tpls.join("\n---\n"), &what);
                assert!(
                    name_line.contains(".spec.connectionSecret.name"),
                    "{what}: the Secret is not named by the XR's spec.connectionSecret.name: `{name_line}`"
                );
                written.entry(kind.clone()).or_default().extend(keys);
            }
        }
        for (path, d) in &docs {
            let Some(ns) = d["metadata"]["namespace"].as_str() else {
                continue;
            };
            let mut refs = Vec::new();
            secret_key_refs(d, &mut refs);
            for (secret, key) in refs.into_iter().filter(|(s, _)| s.ends_with("-connection")) {
                checked += 1;
                let at = format!("{}: {path} reads {secret}/{key}", case.display());
                let Some(kind) = promised.get(&(ns.to_string(), secret.clone())) else {
                    failures.push(format!("{at}, which no XR in {ns} promises"));
                    continue;
                };
                match written.get(kind) {
                    None => failures.push(format!("{at}; no reference Composition for {kind}")),
                    Some(keys) if !keys.contains(&key) => failures.push(format!(
                        "{at}; the Composition for {kind} writes only {keys:?}"
                    )),
                    Some(_) => {}
                }
            }
        }
    }
    assert!(
        checked > 0,
        "no rendered secretKeyRef reads a connection secret"
    );
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// The extraction fails on what it cannot read honestly.
#[test]
fn the_secret_extraction_refuses_what_it_cannot_read() {
    let secret =
        "apiVersion: v1\nkind: Secret\nmetadata:\n  name: {{ $xr.spec.connectionSecret.name }}\n";
    let ok = format!("{secret}data:\n  host: {{{{ $host | b64enc }}}}\n  url: {{{{ $url }}}}\n");
    let (keys, name) = composed_secret_keys(&format!("{{{{- $x := 1 }}}}\n{ok}"), "ok");
    assert_eq!(keys, BTreeSet::from(["host".into(), "url".into()]));
    assert!(name.contains("connectionSecret"));
    for bad in [
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n".to_string(),
        format!("{secret}data: {{}}\n"),
        format!("{secret}data:\n{{{{- if .x }}}}\n  host: {{{{ $h }}}}\n{{{{- end }}}}\n"),
    ] {
        let r = std::panic::catch_unwind(|| composed_secret_keys(&bad, "bad"));
        assert!(r.is_err(), "extraction accepted:\n{bad}");
    }
}
