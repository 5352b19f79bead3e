//! The platform's governance rules, each defined once, checked at compile
//! time: the twin of the platform's Gatekeeper policies.
//!
//! Architecture invariant: this module does not know files (it is handed the
//! platform, the loaded specs and the rendered documents), how blueprints are
//! stored or rendered (the caller passes the blueprint texts by name, to
//! point a finding at its line), or output formats (`listing` returns data;
//! `cmd::policy` prints it). It is pure, and writes only diagnostics and data.
//!
//! Every rule (`rules::RULES`) has a ConstraintTemplate and a Constraint of
//! the same `kind` under `blueprints/platform/gatekeeper/`, and decides the
//! same thing on the same objects: what admission would reject in the
//! cluster, Paved reports before the commit ("guardrails, not gates";
//! docs/policies.md). The conformance test feeds Paved's rendered objects
//! through the Rego and expects no violation, so the two halves cannot drift
//! apart unnoticed on Paved's own output.
//!
//! A rule is checked at two stages, with one predicate:
//!
//! - `check_spec`, called by `validate::semantic`: the causes a spec alone
//!   settles (a `latest` image, a registry not allowed, a missing cost
//!   center), pointing at the spec line. These are always errors.
//! - `check`, on the rendered documents: all rules, as the Rego decides
//!   them. What reaches it is what only the rendered objects show: usually a
//!   platform override blueprint that drops limits or adds a sidecar. Each
//!   violation names the JSON pointer of its field; the caller may locate
//!   it (`check_located`: the unit driver traces the blueprint line that
//!   wrote it and the spec line of its value), else the finding points at
//!   the closest `limits:`, `image:`, ... line of the blueprint. Findings
//!   carry no per-service detail in their message, so the
//!   same fault in every service and environment is reported once
//!   (`diag::sort` drops exact repeats).

mod objects;
mod rules;

use std::collections::BTreeMap;

use serde::Serialize;

use crate::codes::Code;
use crate::diag::Diagnostic;
use crate::model::{Platform, Service};
use crate::normalize::Doc;
use crate::source::{SourceRef, Span};

pub(crate) use objects::glob as namespace_matches;
use objects::{containers, excluded, pod_spec};
pub(crate) use rules::image_allowed;
#[cfg(test)]
use rules::rule;
use rules::{Object, Violation};
pub use rules::{Rule, RULES};

/// The service a set of documents was rendered for, to point at its spec.
#[derive(Clone, Copy)]
pub struct Rendered<'a> {
    pub service: &'a Service,
    pub environment: &'a str,
}

/// Checks a spec against every enabled rule that the spec alone settles.
/// Each finding points at the spec value at fault.
pub(crate) fn check_spec(platform: &Platform, s: &Service) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    for rule in RULES.iter().filter(|r| r.enabled(platform)) {
        let Some(spec) = rule.spec else { continue };
        for f in spec(platform, s) {
            let span = locate(s, &f.path, f.at_key);
            out.push(
                Diagnostic::error(rule.code, f.message)
                    .at(&s.source, span, f.label)
                    .help(f.help.unwrap_or_else(|| rule.help.to_string())),
            );
        }
    }
    out
}

/// The span of the value (or of the last key) at `path` in a spec, or of
/// the nearest parent that exists.
fn locate(s: &Service, path: &[String], at_key: bool) -> Span {
    let (mut node, mut key) = (&s.doc, None);
    for step in path {
        let Some(entry) = node.entry(step) else { break };
        node = &entry.value;
        key = Some(entry.key_span);
    }
    match key {
        Some(k) if at_key => k,
        _ => node.span,
    }
}

/// Checks rendered documents against every enabled rule. `blueprints` holds
/// the text of each blueprint by name (`service/deployment.yaml`, what
/// `Doc::blueprint` names), to point a finding at its line.
pub fn check(
    platform: &Platform,
    docs: &[Doc],
    blueprints: &BTreeMap<&str, &SourceRef>,
    origin: Option<Rendered<'_>>,
) -> Vec<Diagnostic> {
    check_located(platform, docs, blueprints, origin, &mut |_, _| None)
}

/// Where the caller traced a field of a rendered document: the blueprint
/// line that wrote it, and the spec value it comes from, if any.
pub(crate) struct Located {
    pub blueprint: (SourceRef, Span),
    pub value: Option<(SourceRef, Span)>,
}

/// [`check`], with `locate` asked, for each finding, where the field at
/// fault (a document and a JSON pointer in it) was written; a finding it
/// cannot locate points at the blueprint line the anchor search finds.
pub(crate) fn check_located(
    platform: &Platform,
    docs: &[Doc],
    blueprints: &BTreeMap<&str, &SourceRef>,
    origin: Option<Rendered<'_>>,
    locate: &mut dyn FnMut(&Doc, &str) -> Option<Located>,
) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    let exempt = platform.exempt_namespaces();
    for doc in docs {
        if excluded(exempt.keys(), doc) {
            continue;
        }
        for rule in RULES.iter().filter(|r| r.enabled(platform)) {
            for v in violations(rule, platform, doc) {
                let located = locate(doc, &v.pointer);
                let at = Where {
                    blueprints,
                    origin,
                    located,
                };
                out.push(diagnostic(rule, platform, doc, &v, at));
            }
        }
    }
    out
}

/// The violations of `rule` in `doc`, each with the pointer of its field
/// in the document, or of the field's closest parent that exists.
fn violations(rule: &Rule, platform: &Platform, doc: &Doc) -> Vec<Violation> {
    let found: Vec<(String, Violation)> = match rule.object {
        Object::Labels(check) => check(platform, doc, doc.value.pointer("/metadata/labels"))
            .into_iter()
            .map(|v| (String::new(), v))
            .collect(),
        Object::Pod(check) => pod_spec(doc)
            .and_then(|(at, spec)| check(spec).map(|v| (at.to_string(), v)))
            .into_iter()
            .collect(),
        Object::Container(check) => pod_spec(doc)
            .into_iter()
            .flat_map(|(at, spec)| containers(at, spec))
            .flat_map(|c| {
                check(platform, &c)
                    .into_iter()
                    .map(move |v| (c.pointer.clone(), v))
            })
            .collect(),
    };
    found
        .into_iter()
        .map(|(at, mut v)| {
            v.pointer = existing(&doc.value, &format!("{at}{}", v.pointer));
            v
        })
        .collect()
}

/// `pointer`, or its closest parent that `value` holds.
fn existing(value: &serde_json::Value, pointer: &str) -> String {
    let mut p = pointer;
    while !p.is_empty() && value.pointer(p).is_none() {
        p = p.rfind('/').map_or("", |at| &p[..at]);
    }
    p.to_string()
}

/// Where a finding points: the blueprint texts (for the anchor search),
/// the service it was rendered for, and the traced location if any.
struct Where<'a, 'b> {
    blueprints: &'a BTreeMap<&'a str, &'a SourceRef>,
    origin: Option<Rendered<'b>>,
    located: Option<Located>,
}

fn diagnostic(
    rule: &Rule,
    platform: &Platform,
    doc: &Doc,
    v: &Violation,
    at: Where<'_, '_>,
) -> Diagnostic {
    let Where {
        blueprints,
        origin,
        located,
    } = at;
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

    let message = format!("blueprint `{}` {}; {admission}", doc.blueprint, v.problem);
    let label = format!("{object}: {}", v.part);
    let mut d = match (&located, blueprints.get(doc.blueprint.as_str())) {
        (Some(l), _) => new(message).at(&l.blueprint.0, l.blueprint.1, label),
        (None, Some(source)) => {
            new(message).at(source, anchor(source, &v.anchors, &doc.kind), label)
        }
        (None, None) => new(message),
    };
    let value = located.as_ref().and_then(|l| l.value.as_ref());
    if let Some((source, span)) = value {
        d = d.also(source, *span, "the value comes from here");
    }
    if let Some(o) = origin {
        if let Some((node, _)) = o.service.doc.pointer("/metadata/name") {
            // Said once when the value is the service's name.
            let said = value
                .is_some_and(|(s, span)| s.name == o.service.source.name && *span == node.span);
            if !said {
                d = d.also(&o.service.source, node.span, "rendered for this service");
            }
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

/// `paved policy`: the platform's rules with their state and parameters.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Listing {
    /// The platform's name.
    pub platform: String,
    pub enforcement_action: String,
    /// `Platform::exempt_namespaces`: every namespace the Constraints
    /// exclude, sorted.
    pub excluded_namespaces: Vec<String>,
    /// The same, each with the paved.yaml settings that name it.
    #[serde(skip)]
    pub exemptions: Vec<(String, Vec<&'static str>)>,
    /// Per environment: the default `promote` and whether `auto` is allowed.
    #[serde(skip)]
    pub promotion: Vec<Promotion>,
    pub rules: Vec<RuleStatus>,
    /// The budget rule (`paved::policy::over-budget`, docs/cost.md): not a
    /// Gatekeeper rule, checked by `validate` against the estimate.
    pub budgets: BudgetRule,
}

/// paved.yaml's budgets as the over-budget rule reads them.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct BudgetRule {
    pub id: &'static str,
    pub code: &'static Code,
    pub description: &'static str,
    /// A price table and at least one budget.
    pub enabled: bool,
    /// `budgetEnforcement`: `warn` or `error`.
    pub enforcement: &'static str,
    /// `cost.currency`; `None` without a price table.
    pub currency: Option<String>,
    pub budgets: Vec<Budget>,
}

/// One budget: a team's (`budgets`) or a service's (`serviceBudgets`) in one
/// environment, a month, in cents.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Budget {
    pub scope: &'static str,
    pub name: String,
    pub environment: String,
    pub monthly: String,
}

/// How services reach one environment (`environments.<env>` in paved.yaml).
#[derive(Debug)]
pub(crate) struct Promotion {
    pub environment: String,
    pub default: String,
    pub allow_auto: bool,
}

/// One rule as the platform config sets it.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct RuleStatus {
    pub id: &'static str,
    pub code: &'static Code,
    pub kind: &'static str,
    pub description: &'static str,
    pub enabled: bool,
    /// The Constraint's `spec.parameters` as paved.yaml sets them; `None`
    /// for rules without parameters.
    pub parameters: Option<BTreeMap<&'static str, Vec<String>>>,
}

/// The rules, in table order, as `platform` sets them.
pub(crate) fn listing(platform: &Platform) -> Listing {
    Listing {
        platform: platform.name.clone(),
        enforcement_action: platform.policy.enforcement_action.clone(),
        excluded_namespaces: platform.exempt_namespaces().into_keys().collect(),
        exemptions: platform.exempt_namespaces().into_iter().collect(),
        promotion: platform
            .environments
            .values()
            .map(|e| Promotion {
                environment: e.name.clone(),
                default: e.default_promote().to_string(),
                allow_auto: e.allow_auto_promote,
            })
            .collect(),
        rules: RULES
            .iter()
            .map(|r| RuleStatus {
                id: r.id,
                code: r.code,
                kind: r.kind,
                description: r.description,
                enabled: r.enabled(platform),
                parameters: r
                    .parameter_values(platform)
                    .map(|(name, values)| BTreeMap::from([(name, values.to_vec())])),
            })
            .collect(),
        budgets: budget_rule(platform),
    }
}

fn budget_rule(platform: &Platform) -> BudgetRule {
    let scoped = [
        ("team", &platform.budgets),
        ("service", &platform.service_budgets),
    ];
    let budgets: Vec<Budget> = scoped
        .iter()
        .flat_map(|(scope, m)| {
            m.iter().flat_map(move |(name, envs)| {
                envs.iter().map(move |(env, amount)| Budget {
                    scope,
                    name: name.clone(),
                    environment: env.clone(),
                    monthly: crate::cost::money(crate::cost::price(*amount)),
                })
            })
        })
        .collect();
    BudgetRule {
        id: "budgets",
        code: crate::codes::POLICY_OVER_BUDGET,
        description: "Each team's services in an environment, and each service, stay within the monthly budget paved.yaml sets (`budgets`, `serviceBudgets`), by the estimate of `paved cost` (its ceiling).",
        enabled: platform.cost.is_some() && !budgets.is_empty(),
        enforcement: platform.budget_enforcement.as_str(),
        currency: platform.cost.as_ref().map(|c| c.currency.clone()),
        budgets,
    }
}

#[cfg(test)]
mod tests {
    use super::objects::glob;
    use super::*;
    use serde_json::{json, Value as Json};

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

    /// Each violation names its field by JSON pointer in the document, or
    /// the closest parent that exists when the field is missing.
    #[test]
    fn each_violation_names_its_field_by_pointer() {
        let c = json!({"name": "a", "image": "docker.io/busybox",
            "resources": {"limits": {"cpu": "1"}},
            "securityContext": {"privileged": true}});
        let (p, d) = (platform(), deployment(c, json!(null)));
        let got: Vec<String> = RULES
            .iter()
            .filter(|r| r.enabled(&p))
            .flat_map(|r| violations(r, &p, &d))
            .map(|v| v.pointer)
            .collect();
        let at = "/spec/template/spec";
        for want in [
            format!("{at}/containers/0/image"),
            format!("{at}/containers/0/resources/limits"),
            format!("{at}/automountServiceAccountToken"),
            format!("{at}/containers/0/securityContext"),
            format!("{at}/containers/0/securityContext/privileged"),
        ] {
            assert!(got.contains(&want), "missing {want:?} in {got:#?}");
        }
        assert_eq!(
            existing(&d.value, "/metadata/labels/team"),
            "/metadata/labels"
        );
        assert_eq!(existing(&d.value, "/nothing/here"), "");
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
        assert!(excluded(p.exempt_namespaces().keys(), &ns));
    }

    #[test]
    fn rules_with_empty_lists_are_off() {
        let mut p = platform();
        p.allowed_registries.clear();
        p.required_labels.clear();
        assert!(!rule("allowed-registries").unwrap().enabled(&p));
        assert!(!rule("required-labels").unwrap().enabled(&p));
        assert!(rule("container-limits").unwrap().enabled(&p));
        let listed = listing(&p);
        let registries = listed.rules.iter().find(|r| r.id == "allowed-registries");
        assert!(registries.is_some_and(|r| !r.enabled && r.parameters.is_some()));
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

    // ------------------------------------------------ spec and object agree

    /// A spec from YAML text, as `app` loads one (schema aside).
    fn service(yaml: &str) -> Service {
        let src = crate::source::Source::virtual_file("platform.yaml", yaml.to_string());
        let (node, d) = crate::load::load_mapping(&src, "a spec");
        assert!(d.is_empty(), "{yaml}");
        let node = node.unwrap();
        let json = node.to_json();
        Service::from_json(src, node, json, "platform.yaml".into()).unwrap()
    }

    /// A spec running `image`; with `environments`, in those only, each with
    /// its image override if any.
    fn spec(
        image: &str,
        cost_center: Option<&str>,
        environments: &[(&str, Option<&str>)],
    ) -> Service {
        let mut yaml = String::from(
            "apiVersion: paved.dev/v1\nkind: Application\nmetadata:\n  name: orders\n  owner: team-orders\n",
        );
        if let Some(cc) = cost_center {
            yaml += &format!("  costCenter: {cc}\n");
        }
        yaml += &format!("spec:\n  image: {image}\n  ports:\n    - {{name: http, port: 8080}}\n");
        if !environments.is_empty() {
            yaml += "  environments:\n";
            for (env, image) in environments {
                match image {
                    Some(image) => yaml += &format!("    {env}:\n      image: {image}\n"),
                    None => yaml += &format!("    {env}: {{}}\n"),
                }
            }
        }
        service(&yaml)
    }

    fn two_environments(registries: &[&str], labels: &[&str]) -> Platform {
        let mut p = Platform::from_json(json!({
            "metadata": {"name": "t"},
            "spec": {"environments": {
                "staging": {"cluster": "in-cluster", "domain": "a.dev"},
                "production": {"cluster": "in-cluster", "domain": "a.com"},
            }}
        }))
        .unwrap();
        p.allowed_registries = registries.iter().map(|r| r.to_string()).collect();
        p.required_labels = labels.iter().map(|l| l.to_string()).collect();
        p
    }

    /// What the built-in blueprints render for each resolved instance, as far
    /// as the rules look: a Namespace and a Deployment with the instance's
    /// labels, and one container running its image, hardened otherwise.
    fn rendered(platform: &Platform, s: &Service) -> Vec<Doc> {
        let instances = crate::model::resolve(platform, std::slice::from_ref(s));
        assert!(!instances.is_empty());
        instances
            .iter()
            .flat_map(|i| {
                let labels = json!(i.labels);
                [
                    doc(json!({"apiVersion": "v1", "kind": "Namespace",
                        "metadata": {"name": i.namespace, "labels": labels}})),
                    doc(json!({"apiVersion": "apps/v1", "kind": "Deployment",
                    "metadata": {"name": i.name, "namespace": i.namespace, "labels": labels},
                    "spec": {"template": {"spec": {
                        "automountServiceAccountToken": false,
                        "containers": [{"name": i.name, "image": i.image,
                            "resources": {"limits": {"cpu": "1", "memory": "1Gi"}},
                            "securityContext": {"allowPrivilegeEscalation": false}}],
                    }}}})),
                ]
            })
            .collect()
    }

    /// For each rule with a spec check: does the spec check fire, and does
    /// the object check fire on what the spec renders.
    fn verdicts(platform: &Platform, s: &Service) -> Vec<(&'static str, bool, bool)> {
        let by_spec = check_spec(platform, s);
        let by_object = check(platform, &rendered(platform, s), &BTreeMap::new(), None);
        RULES
            .iter()
            .filter(|r| r.spec.is_some())
            .map(|r| {
                let fired = |d: &[Diagnostic]| d.iter().any(|d| d.code == r.code);
                (r.id, fired(&by_spec), fired(&by_object))
            })
            .collect()
    }

    const SHA: &str = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

    #[test]
    fn spec_and_object_checks_agree_on_images() {
        let images = [
            "nginx",
            "nginx:latest",
            "nginx:1.25",
            "library/nginx:1.25",
            "docker.io/library/nginx",
            "docker.io/library/nginx:1.25",
            "ghcr.io/acme/app",
            "ghcr.io/acme/app:1.0",
            "ghcr.io/acme/app:latest",
            &format!("ghcr.io/acme/app@{SHA}"),
            &format!("ghcr.io/acme/app:latest@{SHA}"),
            &format!("ghcr.io/acme/app:1.0@{SHA}"),
            "ghcr.io/acme/app@sha512:00ff",
            "ghcr.io/acme/app@md5:00ff",
            "ghcr.io/acmeevil/app:1.0",
            "ghcr.io/acme",
            "registry:5000/x",
            "registry:5000/x:1",
            "registry:5000/x:latest",
            "localhost:5000/team/x:2",
        ];
        let platforms = [
            two_environments(&["ghcr.io/acme/", "registry:5000/"], &[]),
            two_environments(&["docker.io/"], &["owner"]),
            two_environments(&[], &[]),
        ];
        let mut seen = BTreeMap::new();
        for p in &platforms {
            for image in images {
                for v @ (id, by_spec, by_object) in verdicts(p, &spec(image, Some("cc-1"), &[])) {
                    assert_eq!(
                        by_spec, by_object,
                        "{id} on `{image}` with registries {:?}: spec check {by_spec}, object check {by_object}",
                        p.allowed_registries
                    );
                    *seen.entry(v).or_insert(0) += 1;
                }
            }
        }
        // The table holds images each rule passes and images it refuses.
        for id in ["allowed-registries", "no-latest-tag"] {
            assert!(seen.contains_key(&(id, true, true)), "{id} never fires");
            assert!(seen.contains_key(&(id, false, false)), "{id} always fires");
        }
    }

    #[test]
    fn spec_and_object_checks_agree_on_environment_images() {
        let p = two_environments(&["ghcr.io/acme/"], &[]);
        for (base, staging) in [
            ("ghcr.io/acme/app:1.0", "ghcr.io/acme/app:latest"),
            ("ghcr.io/acme/app:1.0", "ghcr.io/acme/app"),
            ("ghcr.io/acme/app:1.0", "docker.io/app:1.0"),
            ("ghcr.io/acme/app:latest", "ghcr.io/acme/app:1.0"),
            ("nginx", "ghcr.io/acme/app:1.0"),
            ("ghcr.io/acme/app:1.0", "ghcr.io/acme/app:2.0"),
        ] {
            let s = spec(
                base,
                Some("cc-1"),
                &[("staging", Some(staging)), ("production", None)],
            );
            for (id, by_spec, by_object) in verdicts(&p, &s) {
                assert_eq!(
                    by_spec, by_object,
                    "{id} on `{base}` with staging `{staging}`: spec check {by_spec}, object check {by_object}"
                );
            }
        }
    }

    /// Where the two checks differ by design: `spec.image` is checked even
    /// when every environment the service runs in overrides it, so no object
    /// renders it. It is still the spec's default image, the one a new
    /// environment would get.
    #[test]
    fn the_spec_check_also_refuses_a_base_image_no_environment_renders() {
        let p = two_environments(&["ghcr.io/acme/"], &[]);
        let s = spec(
            "nginx:latest",
            Some("cc-1"),
            &[("staging", Some("ghcr.io/acme/app:1.0"))],
        );
        assert_eq!(
            verdicts(&p, &s),
            [
                ("required-labels", false, false),
                ("allowed-registries", true, false),
                ("no-latest-tag", true, false)
            ]
        );
    }

    #[test]
    fn spec_and_object_checks_agree_on_labels_the_spec_fills() {
        let required: [&[&str]; 4] = [&[], &["owner"], &["cost-center"], &["owner", "cost-center"]];
        for labels in required {
            for cost_center in [Some("cc-1"), None] {
                let p = two_environments(&[], labels);
                let s = spec("ghcr.io/acme/app:1.0", cost_center, &[]);
                for (id, by_spec, by_object) in verdicts(&p, &s) {
                    assert_eq!(
                        by_spec, by_object,
                        "{id} requiring {labels:?} with costCenter {cost_center:?}: spec check {by_spec}, object check {by_object}"
                    );
                }
            }
        }
    }

    /// The spec check knows which labels the spec fills; the model writes
    /// exactly those values.
    #[test]
    fn the_labels_the_spec_fills_are_the_ones_the_model_writes() {
        let p = two_environments(&[], &[]);
        for cost_center in [Some("cc-1"), None] {
            let s = spec("ghcr.io/acme/app:1.0", cost_center, &[]);
            for i in crate::model::resolve(&p, std::slice::from_ref(&s)) {
                for l in rules::SPEC_LABELS {
                    let written = i.labels.get(l.label).map(String::as_str);
                    assert_eq!(written, (l.value)(&s), "{}", l.label);
                }
            }
        }
    }

    #[test]
    fn spec_findings_point_at_the_value_or_the_key() {
        let p = two_environments(&["ghcr.io/acme/"], &["cost-center"]);
        let s = spec(
            "nginx",
            None,
            &[("staging", Some("ghcr.io/acme/app:latest"))],
        );
        let at: Vec<(String, (usize, usize))> = check_spec(&p, &s)
            .iter()
            .map(|d| (d.code.to_string(), d.line_col()))
            .collect();
        assert_eq!(
            at,
            [
                ("paved::policy::required-labels".to_string(), (3, 1)),
                ("paved::policy::allowed-registries".to_string(), (7, 10)),
                ("paved::policy::no-latest-tag".to_string(), (7, 10)),
                ("paved::policy::no-latest-tag".to_string(), (12, 14)),
            ]
        );
    }

    /// The module docs' invariant, held true: no file access, no blueprint
    /// rendering, no output format.
    #[test]
    fn policy_knows_neither_files_nor_rendering_nor_output_formats() {
        for (name, text) in [
            ("mod.rs", include_str!("mod.rs")),
            ("rules.rs", include_str!("rules.rs")),
            ("objects.rs", include_str!("objects.rs")),
        ] {
            let code = text.split("#[cfg(test)]").next().unwrap_or(text);
            for banned in [
                "crate::render",
                "diag::Format",
                "std::fs",
                "std::io",
                "print!",
            ] {
                assert!(!code.contains(banned), "src/policy/{name} uses {banned}");
            }
        }
    }
}
