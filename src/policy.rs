//! The compile-time twin of the platform's Gatekeeper policies.
//!
//! Every rule here has a ConstraintTemplate and a Constraint of the same
//! `kind` under `blueprints/platform/gatekeeper/`, and decides the same thing
//! on the same objects: what admission would reject in the cluster, Paved
//! reports at render time, before the commit ("guardrails, not gates";
//! docs/policies.md). The conformance test feeds Paved's rendered objects
//! through the Rego and expects no violation, so the two halves cannot drift
//! apart unnoticed on Paved's own output.
//!
//! Spec-level causes (a `latest` image, a registry not allowed, a missing
//! cost center) are reported earlier by `validate::semantic` under the same
//! codes, pointing at the spec line. What reaches this module is what only the
//! rendered objects show: usually a platform override blueprint that drops
//! limits or adds a sidecar. Those findings point at the blueprint (the
//! closest `limits:`, `image:`, ... line in it), and carry no per-service
//! detail in their message, so the same fault in every service and
//! environment is reported once (`diag::sort` drops exact repeats).
//!
//! Architecture invariant: pure; reads rendered documents, the platform and
//! the specs, writes only diagnostics.

use crate::codes::{self, Code};
use std::fmt::Write as _;

use serde_json::{json, Value as Json};

use crate::diag::{Diagnostic, Format};
use crate::model::{Platform, Service};
use crate::normalize::Doc;
use crate::render::Blueprints;
use crate::source::{SourceRef, Span};

/// Which objects a rule reviews.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Targets {
    /// Namespaces and workload controllers (their own `metadata.labels`).
    Labelled,
    /// Pods and every controller's pod template.
    Pods,
}

/// One policy: its id (the diagnostic code's last part), the Gatekeeper
/// Constraint kind that enforces it in the cluster, and what it asks.
#[derive(Debug)]
pub struct Rule {
    pub id: &'static str,
    pub code: &'static Code,
    pub kind: &'static str,
    pub description: &'static str,
    pub targets: Targets,
    help: &'static str,
}

/// Every rule, in the order `paved policy` lists them.
pub const RULES: &[Rule] = &[
    Rule {
        id: "required-labels",
        code: codes::POLICY_REQUIRED_LABELS,
        kind: "PavedRequiredLabels",
        description: "Namespaces and workloads carry every label in `requiredLabels`, each with a value",
        targets: Targets::Labelled,
        help: "add the label where the blueprint writes `labels:` (Paved fills `owner` and `cost-center` from the spec), or drop it from `requiredLabels` in paved.yaml",
    },
    Rule {
        id: "allowed-registries",
        code: codes::POLICY_ALLOWED_REGISTRIES,
        kind: "PavedAllowedRegistries",
        description: "Container images come from a registry in `allowedRegistries` (off when the list is empty)",
        targets: Targets::Pods,
        help: "use an image from an allowed registry, or add its registry to `allowedRegistries` in paved.yaml",
    },
    Rule {
        id: "container-limits",
        code: codes::POLICY_CONTAINER_LIMITS,
        kind: "PavedContainerLimits",
        description: "Every container and init container sets CPU and memory limits",
        targets: Targets::Pods,
        help: "set `resources.limits.cpu` and `resources.limits.memory` on every container; the built-in pod template writes them from `service.compute.limits`",
    },
    Rule {
        id: "no-latest-tag",
        code: codes::POLICY_NO_LATEST_TAG,
        kind: "PavedNoLatestTag",
        description: "Every image is pinned to a tag other than `latest`, or to a digest",
        targets: Targets::Pods,
        help: "pin a version (`:1.4.2`) or a digest (`@sha256:...`)",
    },
    Rule {
        id: "no-automount-token",
        code: codes::POLICY_NO_AUTOMOUNT_TOKEN,
        kind: "PavedNoAutomountToken",
        description: "Pods set `automountServiceAccountToken: false`",
        targets: Targets::Pods,
        help: "set `automountServiceAccountToken: false` in the pod spec; a pod that calls the Kubernetes API mounts a projected token volume explicitly",
    },
    Rule {
        id: "no-privilege-escalation",
        code: codes::POLICY_NO_PRIVILEGE_ESCALATION,
        kind: "PavedNoPrivilegeEscalation",
        description: "Every container sets `allowPrivilegeEscalation: false` and none runs privileged",
        targets: Targets::Pods,
        help: "set `securityContext.allowPrivilegeEscalation: false` (and no `privileged: true`) on every container",
    },
];

impl Rule {
    /// The Constraint's `spec.parameters` as paved.yaml sets them (`null` for
    /// rules without parameters).
    pub fn parameters(&self, platform: &Platform) -> Json {
        match self.id {
            "required-labels" => json!({ "labels": platform.required_labels }),
            "allowed-registries" => json!({ "registries": platform.allowed_registries }),
            _ => Json::Null,
        }
    }

    /// A rule whose list is empty asks nothing, and is not rendered either.
    pub fn enabled(&self, platform: &Platform) -> bool {
        match self.id {
            "required-labels" => !platform.required_labels.is_empty(),
            "allowed-registries" => !platform.allowed_registries.is_empty(),
            _ => true,
        }
    }
}

pub fn rule(id: &str) -> Option<&'static Rule> {
    RULES.iter().find(|r| r.id == id)
}

/// The service a set of documents was rendered for, to point at its spec.
#[derive(Clone, Copy)]
pub struct Rendered<'a> {
    pub service: &'a Service,
    pub environment: &'a str,
}

/// Checks rendered documents against every enabled rule.
pub fn check(
    platform: &Platform,
    docs: &[Doc],
    blueprints: &Blueprints,
    origin: Option<Rendered<'_>>,
) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    for doc in docs {
        if excluded(platform, doc) {
            continue;
        }
        for rule in RULES.iter().filter(|r| r.enabled(platform)) {
            for v in violations(rule, platform, doc) {
                out.push(diagnostic(rule, platform, doc, &v, blueprints, origin));
            }
        }
    }
    out
}

/// One broken rule in one object.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Violation {
    /// What is wrong, without naming the object (see the module docs).
    problem: String,
    /// The object part at fault, e.g. "container `app`".
    part: String,
    /// Keys to look for in the blueprint, best first (`limits:`).
    anchors: Vec<String>,
}

fn violations(rule: &Rule, platform: &Platform, doc: &Doc) -> Vec<Violation> {
    let mut out = Vec::new();
    match rule.targets {
        Targets::Labelled => {
            if !labelled_kind(doc) {
                return out;
            }
            let labels = doc.value.pointer("/metadata/labels");
            let missing: Vec<&str> = platform
                .required_labels
                .iter()
                .map(String::as_str)
                .filter(|l| {
                    labels
                        .and_then(|m| m.get(*l))
                        .and_then(Json::as_str)
                        .is_none_or(str::is_empty)
                })
                .collect();
            if !missing.is_empty() {
                out.push(Violation {
                    problem: format!(
                        "renders a {} that lacks the required label{} {}",
                        doc.kind,
                        if missing.len() == 1 { "" } else { "s" },
                        missing
                            .iter()
                            .map(|l| format!("`{l}`"))
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                    part: "its labels".into(),
                    anchors: vec!["labels:".into(), "metadata:".into()],
                });
            }
        }
        Targets::Pods => {
            let Some(spec) = pod_spec(doc) else {
                return out;
            };
            pod_violations(rule, platform, spec, &mut out);
        }
    }
    out
}

fn pod_violations(rule: &Rule, platform: &Platform, spec: &Json, out: &mut Vec<Violation>) {
    if rule.id == "no-automount-token" {
        if spec.get("automountServiceAccountToken") != Some(&Json::Bool(false)) {
            out.push(Violation {
                problem: "renders a pod that does not set `automountServiceAccountToken: false`"
                    .into(),
                part: "its pod spec".into(),
                anchors: vec![
                    "automountServiceAccountToken:".into(),
                    "serviceAccountName:".into(),
                    "containers:".into(),
                ],
            });
        }
        return;
    }
    for (field, c) in containers(spec) {
        let name = c.get("name").and_then(Json::as_str).unwrap_or("?");
        let part = format!("container `{name}`");
        let image = c.get("image").and_then(Json::as_str).unwrap_or("");
        // A container the blueprint names literally (a sidecar) is found by its
        // name; one named by a template tag, by the field's key.
        let at = |keys: &[&str]| -> Vec<String> {
            std::iter::once(format!("name: {name}"))
                .chain(keys.iter().map(|k| k.to_string()))
                .collect()
        };
        match rule.id {
            "allowed-registries" => {
                let allowed = &platform.allowed_registries;
                if !allowed.iter().any(|r| image.starts_with(r.as_str())) {
                    out.push(Violation {
                        problem: format!(
                            "renders the image `{image}`, which is not from an allowed registry"
                        ),
                        part,
                        anchors: image_anchors(image),
                    });
                }
            }
            "no-latest-tag" => {
                let problem = match crate::model::image_tag(image) {
                    Some("latest") => Some(format!("renders the image `{image}`, tagged `latest`")),
                    None if !has_digest(image) => Some(format!(
                        "renders the image `{image}`, which has no tag or digest and so means `latest`"
                    )),
                    _ => None,
                };
                if let Some(problem) = problem {
                    out.push(Violation {
                        problem,
                        part,
                        anchors: image_anchors(image),
                    });
                }
            }
            // Ephemeral containers cannot set resources.
            "container-limits" if field != "ephemeralContainers" => {
                let limits = c.pointer("/resources/limits");
                for resource in ["cpu", "memory"] {
                    let set = limits
                        .and_then(|l| l.get(resource))
                        .is_some_and(|v| !v.is_null());
                    if !set {
                        out.push(Violation {
                            problem: format!("renders a container without a {resource} limit"),
                            part: part.clone(),
                            anchors: at(&["limits:", "resources:", "containers:"]),
                        });
                    }
                }
            }
            "no-privilege-escalation" => {
                let sc = c.get("securityContext");
                let escalation = sc.and_then(|s| s.get("allowPrivilegeEscalation"));
                if escalation != Some(&Json::Bool(false)) {
                    out.push(Violation {
                        problem: "renders a container that does not set `allowPrivilegeEscalation: false`".into(),
                        part: part.clone(),
                        anchors: at(&[
                            "allowPrivilegeEscalation:",
                            "securityContext:",
                            "containers:",
                        ]),
                    });
                }
                if sc.and_then(|s| s.get("privileged")) == Some(&Json::Bool(true)) {
                    out.push(Violation {
                        problem: "renders a privileged container".into(),
                        part,
                        anchors: at(&["privileged:", "securityContext:"]),
                    });
                }
            }
            _ => {}
        }
    }
}

fn image_anchors(image: &str) -> Vec<String> {
    vec![image.to_string(), "image:".into(), "containers:".into()]
}

fn has_digest(image: &str) -> bool {
    image.contains("@sha256:") || image.contains("@sha512:")
}

/// The API group of a document (`apps` of `apps/v1`, `` of `v1`).
fn group(doc: &Doc) -> &str {
    match doc.api_version.split_once('/') {
        Some((g, _)) => g,
        None => "",
    }
}

/// The kinds the `required-labels` Constraint matches.
fn labelled_kind(doc: &Doc) -> bool {
    matches!(
        (group(doc), doc.kind.as_str()),
        ("", "Namespace")
            | ("apps", "Deployment" | "StatefulSet" | "DaemonSet")
            | ("batch", "Job" | "CronJob")
    )
}

/// The pod spec of a Pod or of a controller's pod template, as the Rego's
/// `pod_spec` finds it.
fn pod_spec(doc: &Doc) -> Option<&Json> {
    let v = &doc.value;
    match (group(doc), doc.kind.as_str()) {
        ("", "Pod") => v.get("spec"),
        ("apps", "Deployment" | "StatefulSet" | "DaemonSet" | "ReplicaSet") | ("batch", "Job") => {
            v.pointer("/spec/template/spec")
        }
        ("batch", "CronJob") => v.pointer("/spec/jobTemplate/spec/template/spec"),
        _ => None,
    }
}

/// Every container of a pod spec with the field that lists it.
fn containers(spec: &Json) -> impl Iterator<Item = (&'static str, &Json)> {
    ["initContainers", "containers", "ephemeralContainers"]
        .into_iter()
        .flat_map(move |field| {
            spec.get(field)
                .and_then(Json::as_array)
                .into_iter()
                .flatten()
                .map(move |c| (field, c))
        })
}

/// Gatekeeper's `excludedNamespaces`: a Namespace is matched on its own name.
fn excluded(platform: &Platform, doc: &Doc) -> bool {
    let ns = if (group(doc), doc.kind.as_str()) == ("", "Namespace") {
        Some(doc.name.as_str())
    } else {
        doc.namespace.as_deref()
    };
    let Some(ns) = ns else { return false };
    platform
        .policy
        .excluded_namespaces
        .iter()
        .any(|p| glob(p, ns))
}

/// A Gatekeeper namespace pattern: a name, with an optional `*` at either end.
fn glob(pattern: &str, value: &str) -> bool {
    let (lead, rest) = match pattern.strip_prefix('*') {
        Some(rest) => (true, rest),
        None => (false, pattern),
    };
    let (trail, core) = match rest.strip_suffix('*') {
        Some(core) => (true, core),
        None => (false, rest),
    };
    match (lead, trail) {
        (true, true) => value.contains(core),
        (true, false) => value.ends_with(core),
        (false, true) => value.starts_with(core),
        (false, false) => value == core,
    }
}

fn diagnostic(
    rule: &Rule,
    platform: &Platform,
    doc: &Doc,
    v: &Violation,
    blueprints: &Blueprints,
    origin: Option<Rendered<'_>>,
) -> Diagnostic {
    let warn = platform.policy.enforcement_action != "deny";
    let object = match (&doc.namespace, origin) {
        (Some(ns), Some(o)) => format!("{} `{}` in {ns} ({})", doc.kind, doc.name, o.environment),
        (Some(ns), None) => format!("{} `{}` in {ns}", doc.kind, doc.name),
        (None, Some(o)) => format!("{} `{}` ({})", doc.kind, doc.name, o.environment),
        (None, None) => format!("{} `{}`", doc.kind, doc.name),
    };
    let new = |message: String| {
        if warn {
            Diagnostic::warning(rule.code, message)
        } else {
            Diagnostic::error(rule.code, message)
        }
    };
    let admission = if warn {
        format!(
            "Gatekeeper's {} reports it ({})",
            rule.kind, platform.policy.enforcement_action
        )
    } else {
        format!("Gatekeeper's {} would reject it", rule.kind)
    };

    let bp = blueprints.files.iter().find(|b| b.name == doc.blueprint);
    let message = format!("blueprint `{}` {}; {admission}", doc.blueprint, v.problem);
    let mut d = match bp {
        Some(bp) => new(message).at(
            &bp.source,
            anchor(&bp.source, &v.anchors, &doc.kind),
            format!("{object}: {}", v.part),
        ),
        None => new(message),
    };
    if let Some(o) = origin {
        if let Some((node, _)) = o.service.doc.pointer("/metadata/name") {
            d = d.also(&o.service.source, node.span, "rendered for this service");
        }
    }
    d.help(format!(
        "{}; rule `{}` (`paved policy` lists the rules)",
        rule.help, rule.id
    ))
}

/// The first line of a blueprint holding one of `anchors` (best first),
/// else its `kind:` line, else its start.
fn anchor(source: &SourceRef, anchors: &[String], kind: &str) -> Span {
    let text = &source.text;
    let kind_line = format!("kind: {kind}");
    for needle in anchors
        .iter()
        .map(String::as_str)
        .chain([kind_line.as_str()])
    {
        if needle.is_empty() {
            continue;
        }
        if let Some(at) = text.find(needle) {
            let len = needle.trim_end_matches(':').len();
            return Span::new(at, at + len);
        }
    }
    Span::point(0)
}

/// `paved policy`: the rules, their Constraint kinds and parameters.
pub fn listing(platform: &Platform, format: Format) -> String {
    let action = &platform.policy.enforcement_action;
    let excluded = &platform.policy.excluded_namespaces;
    let mut out = String::new();
    if format != Format::Human {
        for r in RULES {
            let line = json!({
                "id": r.id,
                "code": r.code,
                "kind": r.kind,
                "description": r.description,
                "enabled": r.enabled(platform),
                "parameters": r.parameters(platform),
                "enforcementAction": action,
                "excludedNamespaces": excluded,
            });
            let _ = writeln!(out, "{line}");
        }
        return out;
    }
    let _ = writeln!(
        out,
        "Policies of platform `{}`: checked by `paved render`, enforced by Gatekeeper ({action}).",
        platform.name
    );
    let _ = writeln!(
        out,
        "Excluded namespaces: {}\n",
        if excluded.is_empty() {
            "none".to_string()
        } else {
            excluded.join(", ")
        }
    );
    for r in RULES {
        let state = if r.enabled(platform) { "" } else { " (off)" };
        let _ = writeln!(out, "{}{state}\n  {}", r.id, r.description);
        let _ = writeln!(out, "  code: {}  constraint: {}", r.code, r.kind);
        if let Json::Object(params) = r.parameters(platform) {
            for (k, v) in params {
                let list: Vec<String> = v
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(|s| s.as_str().map(str::to_string))
                    .collect();
                let shown = if list.is_empty() {
                    "[] (empty: the rule is off)".to_string()
                } else {
                    format!("[{}]", list.join(", "))
                };
                let _ = writeln!(out, "  {k}: {shown}");
            }
        }
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc(v: Json) -> Doc {
        Doc {
            api_version: v["apiVersion"].as_str().unwrap().into(),
            kind: v["kind"].as_str().unwrap().into(),
            name: v["metadata"]["name"].as_str().unwrap().into(),
            namespace: v["metadata"]["namespace"].as_str().map(String::from),
            blueprint: "service/x.yaml".into(),
            value: v,
        }
    }

    fn platform() -> Platform {
        let mut p = Platform::from_json(json!({
            "metadata": {"name": "t"},
            "spec": {"environments": {"staging": {"cluster": "in-cluster", "domain": "a.dev"}}}
        }))
        .unwrap();
        p.allowed_registries = vec!["ghcr.io/acme/".into()];
        p
    }

    fn deployment(container: Json, automount: Json) -> Doc {
        doc(json!({
            "apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "a", "namespace": "a", "labels": {"owner": "t", "cost-center": "c"}},
            "spec": {"template": {"spec": {"automountServiceAccountToken": automount, "containers": [container]}}}
        }))
    }

    fn ids(p: &Platform, d: &Doc) -> Vec<String> {
        RULES
            .iter()
            .filter(|r| r.enabled(p))
            .flat_map(|r| {
                violations(r, p, d)
                    .into_iter()
                    .map(|v| format!("{}: {}", r.id, v.problem))
            })
            .collect()
    }

    #[test]
    fn a_hardened_container_passes_every_rule() {
        let c = json!({"name": "a", "image": "ghcr.io/acme/a:1.0",
            "resources": {"limits": {"cpu": "1", "memory": "1Gi"}},
            "securityContext": {"allowPrivilegeEscalation": false}});
        assert!(ids(&platform(), &deployment(c, json!(false))).is_empty());
    }

    #[test]
    fn each_pod_rule_fires_on_its_fault() {
        let c = json!({"name": "a", "image": "docker.io/busybox",
            "resources": {"limits": {"cpu": "1"}},
            "securityContext": {"privileged": true}});
        let got = ids(&platform(), &deployment(c, json!(null)));
        for want in [
            "allowed-registries: renders the image `docker.io/busybox`, which is not from an allowed registry",
            "container-limits: renders a container without a memory limit",
            "no-latest-tag: renders the image `docker.io/busybox`, which has no tag or digest and so means `latest`",
            "no-automount-token: renders a pod that does not set `automountServiceAccountToken: false`",
            "no-privilege-escalation: renders a container that does not set `allowPrivilegeEscalation: false`",
            "no-privilege-escalation: renders a privileged container",
        ] {
            assert!(got.iter().any(|g| g == want), "missing {want:?} in {got:#?}");
        }
        assert_eq!(got.len(), 6, "{got:#?}");
    }

    #[test]
    fn latest_is_refused_even_with_a_digest_and_a_digest_alone_passes() {
        let p = platform();
        let r = rule("no-latest-tag").unwrap();
        let with = |image: &str| {
            let c = json!({"name": "a", "image": image});
            violations(r, &p, &deployment(c, json!(false))).len()
        };
        assert_eq!(with("ghcr.io/acme/a:latest@sha256:00"), 1);
        assert_eq!(with("ghcr.io/acme/a@sha256:00"), 0);
        assert_eq!(with("localhost:5000/a"), 1);
        assert_eq!(with("localhost:5000/a:2"), 0);
    }

    #[test]
    fn required_labels_cover_namespaces_and_controllers_but_not_services() {
        let mut p = platform();
        p.required_labels = vec!["owner".into(), "team".into()];
        let ns = doc(json!({"apiVersion": "v1", "kind": "Namespace",
            "metadata": {"name": "a", "labels": {"owner": "t", "team": ""}}}));
        assert_eq!(
            ids(&p, &ns),
            ["required-labels: renders a Namespace that lacks the required label `team`"]
        );
        let svc = doc(
            json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "a", "namespace": "a"}}),
        );
        assert!(ids(&p, &svc).is_empty());
    }

    #[test]
    fn excluded_namespaces_use_gatekeeper_globs() {
        assert!(glob("kube-*", "kube-system"));
        assert!(glob("*-system", "gatekeeper-system"));
        assert!(glob("*", "x"));
        assert!(!glob("kube-system", "kube-public"));
        let p = platform();
        let ns = doc(
            json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "kube-system"}}),
        );
        assert!(excluded(&p, &ns));
    }

    #[test]
    fn rules_with_empty_lists_are_off() {
        let mut p = platform();
        p.allowed_registries.clear();
        p.required_labels.clear();
        assert!(!rule("allowed-registries").unwrap().enabled(&p));
        assert!(!rule("required-labels").unwrap().enabled(&p));
        assert!(rule("container-limits").unwrap().enabled(&p));
        assert!(listing(&p, Format::Human).contains("allowed-registries (off)"));
    }

    #[test]
    fn every_rule_has_a_distinct_code_and_kind_named_after_its_id() {
        for r in RULES {
            assert_eq!(r.code.as_str(), format!("paved::policy::{}", r.id));
            let kind: String =
                r.id.split('-')
                    .map(|w| w[..1].to_uppercase() + &w[1..])
                    .collect();
            assert_eq!(r.kind, format!("Paved{kind}"), "{}", r.id);
        }
    }
}
