//! The risks in a diff: which changes a reviewer must not miss.
//!
//! `classify` reads the two sides of a comparison (the resources `diff::compare`
//! parsed) and names each change that can lose data, expose a service, widen
//! the network, promote to production without a person, weaken security or
//! raise the bill. The rules read rendered Kubernetes objects only, so they
//! apply to any two folders of manifests, not only to Paved's own.
//!
//! Architecture invariant: pure; no disk, no clock, no terminal, no model
//! (the cost threshold reads the estimate `cost` computed, never a spec).

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;

use serde_json::Value as Json;

use super::diff::{Key, Resource};
use crate::cost::{Review, Threshold};

/// What kind of harm a change can do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) enum Category {
    DataLoss,
    Exposure,
    Network,
    Promotion,
    Security,
    Cost,
}

impl Category {
    pub(crate) const ALL: &'static [Category] = &[
        Category::DataLoss,
        Category::Exposure,
        Category::Network,
        Category::Promotion,
        Category::Security,
        Category::Cost,
    ];

    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Category::DataLoss => "data-loss",
            Category::Exposure => "exposure",
            Category::Network => "network",
            Category::Promotion => "promotion",
            Category::Security => "security",
            Category::Cost => "cost",
        }
    }

    pub(crate) fn parse(s: &str) -> Option<Category> {
        Category::ALL.iter().copied().find(|c| c.as_str() == s)
    }
}

/// How much attention a risk needs; `High` sorts first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) enum Severity {
    High,
    Medium,
    Low,
}

impl Severity {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Severity::High => "high",
            Severity::Medium => "medium",
            Severity::Low => "low",
        }
    }
}

/// One risky change of one resource.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct Risk {
    pub severity: Severity,
    pub category: Category,
    /// The resource, as `diff::Key::display` names it.
    pub resource: String,
    pub environment: String,
    pub message: String,
}

/// What the rules need to know of the platform.
#[derive(Debug, Clone)]
pub(crate) struct RiskOptions {
    /// Replicas or requests multiplied by more than this are a cost risk.
    pub cost_factor: f64,
    /// The ingress class that serves the public internet.
    pub public_ingress_class: String,
    /// Per environment, whether the platform's default there is to promote
    /// by hand (`true`) or automatically; an environment not named is
    /// treated as promoted by hand, unless it is a preview environment.
    pub manual_by_default: BTreeMap<String, bool>,
    /// A price table and `review.costThreshold`: the cost of workloads is
    /// judged by [`over_threshold`], so the factor rule skips the kinds the
    /// estimate prices ([`crate::cost::is_priced_kind`]).
    pub priced: bool,
    /// The name prefix of preview environments (`preview-`) when the
    /// platform has previews: an environment `manual_by_default` does not
    /// name that starts with it is a preview, which syncs automatically.
    pub preview_prefix: Option<String>,
}

impl RiskOptions {
    /// Whether the platform's default in `env` is to promote by hand.
    fn manual_in(&self, env: &str) -> bool {
        self.manual_by_default.get(env).copied().unwrap_or_else(|| {
            !self
                .preview_prefix
                .as_deref()
                .is_some_and(|p| env.starts_with(p))
        })
    }
}

impl Default for RiskOptions {
    fn default() -> Self {
        RiskOptions {
            cost_factor: 1.5,
            public_ingress_class: "nginx-public".into(),
            manual_by_default: BTreeMap::new(),
            priced: false,
            preview_prefix: None,
        }
    }
}

/// A cost risk for each (environment, service) whose monthly estimate rises
/// above the platform's threshold (`review.costThreshold`), naming the
/// figures: old → new, the rise and its percentage of the old maximum.
pub(crate) fn over_threshold(review: &Review, t: &Threshold) -> Vec<Risk> {
    let range = |r: Option<crate::cost::Range>| {
        let r = r.unwrap_or_default();
        let (min, max) = (crate::cost::money(r.min), crate::cost::money(r.max));
        if min == max {
            min
        } else {
            format!("{min}–{max}")
        }
    };
    let mut bounds = Vec::new();
    if let Some(p) = t.percent {
        bounds.push(format!("+{} %", p.normalize()));
    }
    if let Some(m) = t.monthly {
        bounds.push(format!("+{} {}", m.normalize(), review.currency));
    }
    let mut out: Vec<Risk> = review
        .changes
        .iter()
        .filter_map(|d| {
            let r = t.exceeded(d)?;
            let ranged = [d.old, d.new].iter().flatten().any(|r| r.min != r.max);
            let mut figures = crate::cost::signed(r.rise);
            if let Some(p) = r.percent {
                let _ = write!(figures, ", +{} %", crate::cost::percent(p));
            }
            if ranged {
                figures.push_str(match r.at {
                    crate::cost::Bound::Max => " at the maximum",
                    crate::cost::Bound::Min => " at the minimum",
                });
            }
            Some(Risk {
                severity: Severity::Medium,
                category: Category::Cost,
                resource: d.service.clone(),
                environment: d.environment.clone(),
                message: format!(
                    "monthly estimate {} → {} {} ({figures}), over review.costThreshold ({})",
                    if d.old.is_some() {
                        range(d.old)
                    } else {
                        "none".into()
                    },
                    range(d.new),
                    review.currency,
                    bounds.join(" or ")
                ),
            })
        })
        .collect();
    out.sort();
    out
}

/// Every risk between `old` and `new`, by severity, category, resource.
///
/// `paved diff` passes what `diff::compare` parsed: every resource that
/// differs, and every resource (unchanged ones too) of an environment and
/// service that has one; unchanged resources of other services may be
/// missing. A rule that needs more context than that must widen `compare`.
pub(crate) fn classify(old: &[Resource], new: &[Resource], opts: &RiskOptions) -> Vec<Risk> {
    let old_by: BTreeMap<&Key, &Resource> = old.iter().map(|r| (&r.key, r)).collect();
    let new_by: BTreeMap<&Key, &Resource> = new.iter().map(|r| (&r.key, r)).collect();
    let keys: BTreeSet<&Key> = old_by.keys().chain(new_by.keys()).copied().collect();
    let renamed = renames(&old_by, &new_by);
    // (environment, namespace) pairs the old side has anything in: a policy
    // in a namespace not among them comes with a new service.
    let mut old_namespaces: BTreeSet<(&str, &str)> = BTreeSet::new();
    for k in old_by.keys() {
        old_namespaces.insert((k.environment.as_str(), k.namespace.as_str()));
        if k.kind == "Namespace" && k.namespace.is_empty() {
            old_namespaces.insert((k.environment.as_str(), k.name.as_str()));
        }
    }
    let mut out = Vec::new();
    for key in keys {
        let (o, n) = (old_by.get(key).copied(), new_by.get(key).copied());
        let (ov, nv) = (o.map(|r| &r.value), n.map(|r| &r.value));
        if ov == nv {
            continue;
        }
        let at = match n.or(o) {
            Some(r) => r,
            None => continue,
        };
        let mut add = |category, severity, message: String| {
            out.push(Risk {
                severity,
                category,
                resource: key.display(),
                environment: at.environment.clone(),
                message,
            });
        };
        data_loss(key, ov, nv, renamed.get(key).copied(), &mut add);
        exposure(key, ov, nv, opts, &mut add);
        let new_namespace =
            !old_namespaces.contains(&(key.environment.as_str(), key.namespace.as_str()));
        network(key, ov, nv, new_namespace, &mut add);
        promotion(key, at, ov, nv, new, opts, &mut add);
        security(key, ov, nv, &mut add);
        if !(opts.priced && crate::cost::is_priced_kind(&key.kind)) {
            cost(key, ov, nv, old, opts.cost_factor, &mut add);
        }
    }
    out.sort();
    out.dedup();
    out
}

/// The stateful resources renamed between `old` and `new` (see `renames`),
/// as (old key, new key).
pub(crate) fn renamed(old: &[Resource], new: &[Resource]) -> Vec<(Key, Key)> {
    let old_by: BTreeMap<&Key, &Resource> = old.iter().map(|r| (&r.key, r)).collect();
    let new_by: BTreeMap<&Key, &Resource> = new.iter().map(|r| (&r.key, r)).collect();
    renames(&old_by, &new_by)
        .into_iter()
        .map(|(a, b)| (a.clone(), b.clone()))
        .collect()
}

/// The stateful resources renamed between the two sides: old key → new key.
///
/// A stateful resource only in `old` is renamed to one only in `new` of the
/// same apiVersion and kind, environment and namespace whose `spec` is the
/// same once the old name is read as the new one (a connection Secret named
/// after the resource follows it). Each new resource pairs with one old
/// one, the first in key order.
fn renames<'k>(
    old_by: &BTreeMap<&'k Key, &Resource>,
    new_by: &BTreeMap<&'k Key, &Resource>,
) -> BTreeMap<&'k Key, &'k Key> {
    let mut out = BTreeMap::new();
    let mut taken: BTreeSet<&Key> = BTreeSet::new();
    for (&gone, was) in old_by {
        if new_by.contains_key(gone) || !is_stateful(gone) {
            continue;
        }
        let Some(spec) = was.value.get("spec") else {
            continue;
        };
        let spec_text = spec.to_string();
        for (&came, now) in new_by {
            if old_by.contains_key(came)
                || taken.contains(came)
                || (
                    &came.environment,
                    &came.api_version,
                    &came.kind,
                    &came.namespace,
                ) != (
                    &gone.environment,
                    &gone.api_version,
                    &gone.kind,
                    &gone.namespace,
                )
            {
                continue;
            }
            let as_new = spec_text.replace(gone.name.as_str(), came.name.as_str());
            let same = serde_json::from_str::<Json>(&as_new)
                .is_ok_and(|v| Some(&v) == now.value.get("spec"));
            if same {
                taken.insert(came);
                out.insert(gone, came);
                break;
            }
        }
    }
    out
}

type Add<'a> = dyn FnMut(Category, Severity, String) + 'a;

fn text<'a>(v: Option<&'a Json>, pointer: &str) -> Option<&'a str> {
    v.and_then(|v| v.pointer(pointer)).and_then(Json::as_str)
}

fn number(v: Option<&Json>, pointer: &str) -> Option<f64> {
    v.and_then(|v| v.pointer(pointer)).and_then(Json::as_f64)
}

/// A Kubernetes quantity (`100m`, `1`, `512Mi`, `2Gi`, `1G`) as a number.
fn quantity(v: &Json) -> Option<f64> {
    if let Some(n) = v.as_f64() {
        return Some(n);
    }
    let s = v.as_str()?.trim();
    const SUFFIXES: &[(&str, f64)] = &[
        ("Ki", 1024.0),
        ("Mi", 1048576.0),
        ("Gi", 1073741824.0),
        ("Ti", 1099511627776.0),
        ("Pi", 1125899906842624.0),
        ("m", 0.001),
        ("k", 1e3),
        ("M", 1e6),
        ("G", 1e9),
        ("T", 1e12),
        ("P", 1e15),
    ];
    for (suffix, factor) in SUFFIXES {
        if let Some(num) = s.strip_suffix(suffix) {
            return num.parse::<f64>().ok().map(|n| n * factor);
        }
    }
    s.parse::<f64>().ok()
}

fn is_stateful(key: &Key) -> bool {
    let kind = key.kind.to_ascii_lowercase();
    kind == "persistentvolumeclaim"
        || kind.contains("postgres")
        || kind.contains("redis")
        || kind.contains("bucket")
}

/// A stateful resource removed or renamed (`renamed_to`: the new name
/// holds none of the old one's data), or its storage shrunk.
fn data_loss(
    key: &Key,
    old: Option<&Json>,
    new: Option<&Json>,
    renamed_to: Option<&Key>,
    add: &mut Add<'_>,
) {
    if !is_stateful(key) || old.is_none() {
        return;
    }
    if let (None, Some(to)) = (new, renamed_to) {
        add(
            Category::DataLoss,
            Severity::High,
            format!(
                "the {} is renamed from `{}` to `{}`: the old one is deleted with its data, and the new one starts empty",
                key.kind, key.name, to.name
            ),
        );
        return;
    }
    if new.is_none() {
        add(
            Category::DataLoss,
            Severity::High,
            format!("the {} is removed: its data is deleted with it", key.kind),
        );
        return;
    }
    let size = |v: Option<&Json>| {
        number(v, "/spec/parameters/storageGB")
            .map(|g| g * 1073741824.0)
            .or_else(|| {
                v.and_then(|v| v.pointer("/spec/resources/requests/storage"))
                    .and_then(quantity)
            })
    };
    if let (Some(a), Some(b)) = (size(old), size(new)) {
        if b < a {
            add(
                Category::DataLoss,
                Severity::High,
                format!(
                    "its storage shrinks from {} to {}: data that does not fit is lost, or the volume cannot shrink",
                    shown_size(old),
                    shown_size(new)
                ),
            );
        }
    }
}

fn shown_size(v: Option<&Json>) -> String {
    if let Some(g) = v.and_then(|v| v.pointer("/spec/parameters/storageGB")) {
        return format!("{g} GB");
    }
    match v.and_then(|v| v.pointer("/spec/resources/requests/storage")) {
        Some(Json::String(s)) => s.clone(),
        Some(other) => other.to_string(),
        None => "?".into(),
    }
}

/// An Ingress added or switched to the public class (`ingressClassName` or
/// the legacy `kubernetes.io/ingress.class` annotation); a Service's type
/// widened, or a LoadBalancer's source ranges removed or widened.
fn exposure(
    key: &Key,
    old: Option<&Json>,
    new: Option<&Json>,
    opts: &RiskOptions,
    add: &mut Add<'_>,
) {
    let Some(new) = new else { return };
    let public = opts.public_ingress_class.as_str();
    match key.kind.as_str() {
        "Ingress" => {
            // `spec.ingressClassName`, or the legacy annotation.
            fn class_of(v: Option<&Json>) -> Option<&str> {
                text(v, "/spec/ingressClassName")
                    .or_else(|| text(v, "/metadata/annotations/kubernetes.io~1ingress.class"))
            }
            let class = class_of(Some(new)).unwrap_or("");
            let was = class_of(old);
            if old.is_none() {
                let (severity, whom) = if class == public {
                    (Severity::High, "the public internet")
                } else {
                    (Severity::Medium, "the cluster's ingress")
                };
                add(
                    Category::Exposure,
                    severity,
                    format!("a new Ingress (class `{class}`) opens the service to {whom}"),
                );
            } else if class == public && was != Some(public) {
                add(
                    Category::Exposure,
                    Severity::High,
                    format!(
                        "the Ingress moves from class `{}` to the public class `{public}`",
                        was.unwrap_or("")
                    ),
                );
            }
        }
        "Service" => {
            let rank = |t: &str| match t {
                "NodePort" => 1,
                "LoadBalancer" => 2,
                _ => 0,
            };
            let t = text(Some(new), "/spec/type").unwrap_or("ClusterIP");
            let was = text(old, "/spec/type").unwrap_or("ClusterIP");
            if rank(t) > rank(was) || (old.is_none() && rank(t) > 0) {
                add(
                    Category::Exposure,
                    Severity::High,
                    format!("the Service's type widens from {was} to {t}: it is reachable from outside the cluster"),
                );
            } else if t == "LoadBalancer" && was == "LoadBalancer" {
                let ranges = |v: Option<&Json>| -> BTreeSet<String> {
                    v.and_then(|v| v.pointer("/spec/loadBalancerSourceRanges"))
                        .and_then(Json::as_array)
                        .into_iter()
                        .flatten()
                        .filter_map(Json::as_str)
                        .map(|r| r.trim().to_string())
                        .collect()
                };
                let (a, b) = (ranges(old), ranges(Some(new)));
                let gained: Vec<&String> = b.difference(&a).collect();
                if !a.is_empty() && b.is_empty() {
                    add(
                        Category::Exposure,
                        Severity::High,
                        "the load balancer's `loadBalancerSourceRanges` are removed: it accepts any address".into(),
                    );
                } else if !a.is_empty() && !gained.is_empty() {
                    let open = gained.iter().any(|r| *r == "0.0.0.0/0" || *r == "::/0");
                    add(
                        Category::Exposure,
                        if open {
                            Severity::High
                        } else {
                            Severity::Medium
                        },
                        format!(
                            "the load balancer's `loadBalancerSourceRanges` widen: {} added",
                            gained
                                .iter()
                                .map(|r| r.as_str())
                                .collect::<Vec<_>>()
                                .join(", ")
                        ),
                    );
                }
            }
        }
        _ => {}
    }
}

/// What a NetworkPolicy admits in one direction: per rule, each (peer,
/// port) pair it allows, as canonical JSON (`(any)` for a rule without
/// peers or without ports). A pair, not peers and ports apart: a rule that
/// joins an old peer to another rule's port admits something new.
fn admitted(v: &Json, direction: &str, peers: &str) -> BTreeSet<(String, String)> {
    let mut out = BTreeSet::new();
    for rule in v
        .pointer(&format!("/spec/{direction}"))
        .and_then(Json::as_array)
        .into_iter()
        .flatten()
    {
        let list = |field: &str| -> Vec<String> {
            match rule.get(field).and_then(Json::as_array) {
                Some(l) if !l.is_empty() => l.iter().map(canonical).collect(),
                _ => vec!["(any)".into()],
            }
        };
        let ports = list("ports");
        for peer in list(peers) {
            for port in &ports {
                out.insert((peer.clone(), port.clone()));
            }
        }
    }
    out
}

/// Whether a peer (canonical JSON, or `(any)`) reaches beyond the
/// policy's own namespace to every pod of the cluster or every address.
fn is_broad(peer: &str) -> bool {
    let Ok(v) = serde_json::from_str::<Json>(peer) else {
        return peer == "(any)";
    };
    // A selector that selects everything: `{}`, or empty `matchLabels`
    // and `matchExpressions`.
    let empty = |f: &str| {
        v.get(f).and_then(Json::as_object).is_some_and(|m| {
            m.values().all(|x| {
                x.as_object().is_some_and(|o| o.is_empty())
                    || x.as_array().is_some_and(|a| a.is_empty())
            })
        })
    };
    let all_namespaces = empty("namespaceSelector")
        && v.get("podSelector")
            .is_none_or(|p| p.as_object().is_some_and(|o| o.is_empty()));
    let cidr = text(Some(&v), "/ipBlock/cidr");
    all_namespaces || matches!(cidr, Some("0.0.0.0/0" | "::/0"))
}

/// The policy types a NetworkPolicy enforces: `policyTypes`, or by
/// default Ingress, and Egress when it has egress rules.
fn policy_types(v: &Json) -> BTreeSet<String> {
    match v.pointer("/spec/policyTypes").and_then(Json::as_array) {
        Some(list) => list
            .iter()
            .filter_map(Json::as_str)
            .map(str::to_string)
            .collect(),
        None => {
            let mut out = BTreeSet::from(["Ingress".to_string()]);
            if v.pointer("/spec/egress").is_some() {
                out.insert("Egress".into());
            }
            out
        }
    }
}

fn canonical(v: &Json) -> String {
    match v {
        Json::Object(m) => {
            let sorted: BTreeMap<&String, String> =
                m.iter().map(|(k, v)| (k, canonical(v))).collect();
            let parts: Vec<String> = sorted
                .iter()
                .map(|(k, v)| format!("{}:{v}", Json::String((*k).clone())))
                .collect();
            format!("{{{}}}", parts.join(","))
        }
        Json::Array(a) => format!(
            "[{}]",
            a.iter().map(canonical).collect::<Vec<_>>().join(",")
        ),
        other => other.to_string(),
    }
}

/// A NetworkPolicy that admits new sources, destinations or ports (an
/// added one too: policies add up), stops enforcing a direction, selects
/// other pods, or is removed.
fn network(
    key: &Key,
    old: Option<&Json>,
    new: Option<&Json>,
    new_namespace: bool,
    add: &mut Add<'_>,
) {
    if key.kind != "NetworkPolicy" {
        return;
    }
    let Some(new) = new else {
        add(
            Category::Network,
            Severity::Medium,
            "the NetworkPolicy is removed: what it allowed or denied no longer applies".into(),
        );
        return;
    };
    for (direction, peers, what) in [
        ("ingress", "from", "sources"),
        ("egress", "to", "destinations"),
    ] {
        let before = old
            .map(|o| admitted(o, direction, peers))
            .unwrap_or_default();
        let after = admitted(new, direction, peers);
        let gained: Vec<&(String, String)> = after.difference(&before).collect();
        if gained.is_empty() {
            continue;
        }
        let broad = gained.iter().any(|(peer, _)| is_broad(peer));
        // A new policy with named peers in a new namespace is what a new
        // service brings (its DNS, its dependencies): not a risk; in a
        // namespace that was there, low; a broad one, or one widened, more.
        if !broad && old.is_none() && new_namespace {
            continue;
        }
        let severity = match (broad, old) {
            (true, _) => Severity::High,
            (false, None) => Severity::Low,
            (false, Some(_)) => Severity::Medium,
        };
        let whom = if broad {
            format!("any {}", &what[..what.len() - 1])
        } else {
            format!("new {what} or ports")
        };
        let message = if old.is_none() {
            format!(
                "a new NetworkPolicy's {direction} rules admit {whom} ({} peer-port pairs): policies add up, so it opens what others deny",
                gained.len()
            )
        } else {
            format!(
                "its {direction} rules admit {whom} ({} peer-port pairs added)",
                gained.len()
            )
        };
        add(Category::Network, severity, message);
    }
    let Some(old) = old else { return };
    let lost: Vec<String> = policy_types(old)
        .difference(&policy_types(new))
        .cloned()
        .collect();
    if !lost.is_empty() {
        add(
            Category::Network,
            Severity::High,
            format!(
                "`policyTypes` no longer has {}: the selected pods' traffic that way is no longer denied by default",
                lost.join(", ")
            ),
        );
    }
    let (a, b) = (
        old.pointer("/spec/podSelector"),
        new.pointer("/spec/podSelector"),
    );
    if a != b {
        let shown = |v: Option<&Json>| v.map(canonical).unwrap_or_else(|| "(none)".into());
        add(
            Category::Network,
            Severity::Medium,
            format!(
                "its `podSelector` changes from {} to {}: pods it no longer selects lose its isolation, and pods it now selects get what it allows",
                shown(a),
                shown(b)
            ),
        );
    }
}

fn automated(v: Option<&Json>) -> bool {
    v.and_then(|v| v.pointer("/spec/syncPolicy/automated"))
        .is_some_and(|a| !a.is_null())
}

fn images(v: Option<&Json>) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    fn walk(v: &Json, out: &mut BTreeSet<String>) {
        match v {
            Json::Object(m) => {
                for (k, x) in m {
                    if k == "image" {
                        if let Some(s) = x.as_str() {
                            out.insert(s.to_string());
                        }
                    } else {
                        walk(x, out);
                    }
                }
            }
            Json::Array(a) => a.iter().for_each(|x| walk(x, out)),
            _ => {}
        }
    }
    if let Some(spec) = v.and_then(|v| v.get("spec")) {
        walk(spec, &mut out);
    }
    out
}

fn is_argo_application(key: &Key) -> bool {
    key.kind == "Application" && key.api_version.starts_with("argoproj.io/")
}

/// Auto-sync turned on (high where the platform promotes by hand by
/// default, medium where it promotes automatically), or a new Application
/// that syncs automatically where the platform promotes by hand (high); an
/// image changed in an environment the platform promotes by hand.
fn promotion(
    key: &Key,
    at: &Resource,
    old: Option<&Json>,
    new: Option<&Json>,
    all_new: &[Resource],
    opts: &RiskOptions,
    add: &mut Add<'_>,
) {
    let manual_default = opts.manual_in(&at.environment);
    if is_argo_application(key) {
        if old.is_none() && automated(new) && manual_default {
            add(
                Category::Promotion,
                Severity::High,
                "a new Application syncs automatically where the platform promotes by hand: every merge reaches this environment without a person".into(),
            );
        } else if old.is_some() && automated(new) && !automated(old) {
            let (severity, message) = if manual_default {
                (
                    Severity::High,
                    "automatic sync is turned on where the platform promotes by hand: every merge now reaches this environment without a person",
                )
            } else {
                (
                    Severity::Medium,
                    "automatic sync is turned on: every merge now reaches this environment without a person",
                )
            };
            add(Category::Promotion, severity, message.into());
        }
        return;
    }
    if !manual_default || old.is_none() || new.is_none() || images(old) == images(new) {
        return;
    }
    let auto_here = all_new.iter().any(|r| {
        is_argo_application(&r.key)
            && r.environment == at.environment
            && r.service == at.service
            && !r.service.is_empty()
            && automated(Some(&r.value))
    });
    let when = if auto_here {
        "this service syncs automatically, so it ships on merge"
    } else {
        "it ships at the next manual sync"
    };
    add(
        Category::Promotion,
        Severity::Medium,
        format!(
            "an image changes in `{}`, which the platform promotes by hand: {when}",
            at.environment
        ),
    );
}

/// Every mapping of an object, by where it is (list items by their `name`,
/// so adding a container does not shift the others).
fn objects(v: Option<&Json>) -> BTreeMap<String, &serde_json::Map<String, Json>> {
    fn walk<'a>(
        v: &'a Json,
        path: &mut String,
        out: &mut BTreeMap<String, &'a serde_json::Map<String, Json>>,
    ) {
        match v {
            Json::Object(m) => {
                out.insert(path.clone(), m);
                for (k, x) in m {
                    let len = path.len();
                    path.push('/');
                    path.push_str(k);
                    walk(x, path, out);
                    path.truncate(len);
                }
            }
            Json::Array(a) => {
                for (i, x) in a.iter().enumerate() {
                    let len = path.len();
                    match x.get("name").and_then(Json::as_str) {
                        Some(n) => path.push_str(&format!("/[{n}]")),
                        None => path.push_str(&format!("/{i}")),
                    }
                    walk(x, path, out);
                    path.truncate(len);
                }
            }
            _ => {}
        }
    }
    let mut out = BTreeMap::new();
    if let Some(v) = v {
        walk(v, &mut String::new(), &mut out);
    }
    out
}

/// The ways `now` isolates less than `was`: one of them a pod spec or a
/// container (its fields and its `securityContext`), the other the same
/// place on the other side, or empty where it did not exist.
fn weakenings(
    was: &serde_json::Map<String, Json>,
    now: &serde_json::Map<String, Json>,
) -> Vec<String> {
    let mut out = Vec::new();
    let empty = Json::Object(Default::default());
    let (a, b) = (
        was.get("securityContext").unwrap_or(&empty),
        now.get("securityContext").unwrap_or(&empty),
    );
    let flag = |v: &Json, f: &str| v.get(f).and_then(Json::as_bool);
    for (field, safe) in [
        ("runAsNonRoot", true),
        ("readOnlyRootFilesystem", true),
        ("allowPrivilegeEscalation", false),
    ] {
        if flag(a, field) == Some(safe) && flag(b, field) != Some(safe) {
            out.push(format!("`securityContext.{field}` is no longer {safe}"));
        }
    }
    if flag(b, "privileged") == Some(true) && flag(a, "privileged") != Some(true) {
        out.push("`securityContext.privileged` is turned on".into());
    }
    let user = |v: &Json| v.get("runAsUser").and_then(Json::as_i64);
    if user(b) == Some(0) && user(a) != Some(0) {
        out.push("`securityContext.runAsUser` is 0 (root)".into());
    }
    let seccomp = |v: &Json| text(Some(v), "/seccompProfile/type").map(str::to_string);
    let (sa, sb) = (seccomp(a), seccomp(b));
    let confined =
        |t: &Option<String>| matches!(t.as_deref(), Some("RuntimeDefault" | "Localhost"));
    if sb.as_deref() == Some("Unconfined") && sa.as_deref() != Some("Unconfined")
        || confined(&sa) && !confined(&sb)
    {
        out.push(format!(
            "`securityContext.seccompProfile.type` goes from {} to {}",
            sa.as_deref().unwrap_or("unset"),
            sb.as_deref().unwrap_or("unset")
        ));
    }
    let caps = |v: &Json, list: &str| -> BTreeSet<String> {
        v.pointer(&format!("/capabilities/{list}"))
            .and_then(Json::as_array)
            .into_iter()
            .flatten()
            .filter_map(Json::as_str)
            .map(str::to_string)
            .collect()
    };
    let gained: Vec<String> = caps(b, "add")
        .difference(&caps(a, "add"))
        .cloned()
        .collect();
    if !gained.is_empty() {
        out.push(format!("capabilities added: {}", gained.join(", ")));
    }
    if caps(a, "drop").contains("ALL") && !caps(b, "drop").contains("ALL") {
        out.push("`capabilities.drop` no longer drops ALL".into());
    }
    for field in ["hostNetwork", "hostPID", "hostIPC"] {
        if now.get(field).and_then(Json::as_bool) == Some(true)
            && was.get(field).and_then(Json::as_bool) != Some(true)
        {
            out.push(format!("`{field}` is turned on"));
        }
    }
    let host_paths = |m: &serde_json::Map<String, Json>| -> BTreeSet<String> {
        m.get("volumes")
            .and_then(Json::as_array)
            .into_iter()
            .flatten()
            .filter(|v| v.get("hostPath").is_some())
            .map(|v| {
                let name = v.get("name").and_then(Json::as_str).unwrap_or("");
                let path = text(Some(v), "/hostPath/path").unwrap_or("");
                format!("{name} ({path})")
            })
            .collect()
    };
    let added: Vec<String> = host_paths(now)
        .difference(&host_paths(was))
        .cloned()
        .collect();
    if !added.is_empty() {
        out.push(format!(
            "a `hostPath` volume is added: {}",
            added.join(", ")
        ));
    }
    out
}

/// A waiver added, a pod or container isolated less, a Gatekeeper
/// Constraint removed.
fn security(key: &Key, old: Option<&Json>, new: Option<&Json>, add: &mut Add<'_>) {
    if key.api_version.starts_with("constraints.gatekeeper.sh/") && old.is_some() && new.is_none() {
        add(
            Category::Security,
            Severity::High,
            format!(
                "the Gatekeeper constraint is removed: the cluster no longer enforces {}",
                key.kind
            ),
        );
    }
    let Some(new_v) = new else { return };
    let waivers = |v: Option<&Json>| -> BTreeMap<String, Json> {
        v.and_then(|v| v.pointer("/metadata/annotations"))
            .and_then(Json::as_object)
            .map(|m| {
                m.iter()
                    .filter(|(k, _)| k.starts_with("paved.dev/waiver"))
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect()
            })
            .unwrap_or_default()
    };
    let before = waivers(old);
    for (k, v) in waivers(Some(new_v)) {
        if before.get(&k) != Some(&v) {
            add(
                Category::Security,
                Severity::High,
                format!("a policy waiver is added or changed: annotation `{k}`"),
            );
        }
    }
    // Pod specs (they hold `containers`) and containers (they hold an
    // `image`), on either side; a place only on the old side is gone with
    // its context (a container removed), not weakened.
    let is_place = |m: &serde_json::Map<String, Json>| {
        m.contains_key("containers") || m.get("image").is_some_and(Json::is_string)
    };
    let (before, after) = (objects(old), objects(Some(new_v)));
    let none = serde_json::Map::new();
    for (path, now) in &after {
        let was = before.get(path).copied().unwrap_or(&none);
        if !is_place(now) && !is_place(was) {
            continue;
        }
        let whats = weakenings(was, now);
        if !whats.is_empty() {
            let at = path.trim_start_matches('/');
            add(
                Category::Security,
                Severity::High,
                format!("isolation is weakened at `{at}`: {}", whats.join("; ")),
            );
        }
    }
}

/// The replicas a workload runs when its `replicas` is unset: the
/// `minReplicas` of the HPA (on the same side, in the same environment and
/// namespace) that scales it, else 1, Kubernetes' default.
fn unset_replicas(key: &Key, side: &[Resource]) -> f64 {
    side.iter()
        .filter(|r| {
            r.key.kind == "HorizontalPodAutoscaler"
                && r.key.environment == key.environment
                && r.key.namespace == key.namespace
                && text(Some(&r.value), "/spec/scaleTargetRef/name") == Some(key.name.as_str())
                && text(Some(&r.value), "/spec/scaleTargetRef/kind") == Some(key.kind.as_str())
        })
        .find_map(|r| number(Some(&r.value), "/spec/minReplicas"))
        .unwrap_or(1.0)
}

/// Replicas or requests up by more than `factor`, or up from 0. A
/// workload's (`spec.template`) unset `replicas` counts as its HPA's
/// `minReplicas`, or 1.
fn cost(
    key: &Key,
    old: Option<&Json>,
    new: Option<&Json>,
    old_all: &[Resource],
    factor: f64,
    add: &mut Add<'_>,
) {
    let (Some(old), Some(new)) = (old, new) else {
        return;
    };
    let mut ups: Vec<String> = Vec::new();
    let mut check = |what: String, a: Option<f64>, b: Option<f64>, shown: (String, String)| {
        if let (Some(a), Some(b)) = (a, b) {
            if (a == 0.0 && b > 0.0) || (a > 0.0 && b > a * factor) {
                ups.push(format!("{what} {} → {}", shown.0, shown.1));
            }
        }
    };
    let workload =
        old.pointer("/spec/template").is_some() && new.pointer("/spec/template").is_some();
    for field in ["replicas", "minReplicas", "maxReplicas"] {
        let p = format!("/spec/{field}");
        let (mut a, b) = (number(Some(old), &p), number(Some(new), &p));
        let show = |x: Option<f64>| x.map(|x| x.to_string()).unwrap_or_default();
        let mut shown_a = show(a);
        if field == "replicas" && workload && a.is_none() && b.is_some() {
            let n = unset_replicas(key, old_all);
            a = Some(n);
            shown_a = format!("unset ({n})");
        }
        check(field.to_string(), a, b, (shown_a, show(b)));
    }
    let requests = |v: &Json| -> BTreeMap<String, Json> {
        let mut out = BTreeMap::new();
        for path in mappings_under(v, "resources") {
            if let Some(r) = v
                .pointer(&path)
                .and_then(|r| r.get("requests"))
                .and_then(Json::as_object)
            {
                for (k, q) in r {
                    if k == "cpu" || k == "memory" {
                        out.insert(format!("{path}/{k}"), q.clone());
                    }
                }
            }
        }
        out
    };
    let before = requests(old);
    for (path, q) in requests(new) {
        if let Some(was) = before.get(&path) {
            let shown = |j: &Json| {
                j.as_str()
                    .map(str::to_string)
                    .unwrap_or_else(|| j.to_string())
            };
            let what = path
                .rsplit('/')
                .next()
                .map(|r| format!("{r} request"))
                .unwrap_or_default();
            check(what, quantity(was), quantity(&q), (shown(was), shown(&q)));
        }
    }
    if !ups.is_empty() {
        add(
            Category::Cost,
            Severity::Low,
            format!("up by more than {factor}×: {}", ups.join(", ")),
        );
    }
}

/// JSON pointers of every mapping under a key named `name`.
fn mappings_under(v: &Json, name: &str) -> Vec<String> {
    fn walk(v: &Json, name: &str, path: &mut String, out: &mut Vec<String>) {
        match v {
            Json::Object(m) => {
                for (k, x) in m {
                    let len = path.len();
                    path.push('/');
                    path.push_str(&k.replace('~', "~0").replace('/', "~1"));
                    if k == name && x.is_object() {
                        out.push(path.clone());
                    } else {
                        walk(x, name, path, out);
                    }
                    path.truncate(len);
                }
            }
            Json::Array(a) => {
                for (i, x) in a.iter().enumerate() {
                    let len = path.len();
                    path.push_str(&format!("/{i}"));
                    walk(x, name, path, out);
                    path.truncate(len);
                }
            }
            _ => {}
        }
    }
    let mut out = Vec::new();
    walk(v, name, &mut String::new(), &mut out);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::emit::diff::tests::parse;
    use crate::emit::OutFile;

    fn side(docs: &[&str]) -> Vec<Resource> {
        let files: Vec<OutFile> = docs
            .iter()
            .enumerate()
            .map(|(i, d)| OutFile {
                path: format!("production/orders/{i}.yaml"),
                content: d.to_string(),
            })
            .collect();
        let (r, d) = parse(&files, "");
        assert!(d.is_empty(), "{d:?}");
        r
    }

    fn risks(old: &[&str], new: &[&str]) -> Vec<Risk> {
        classify(&side(old), &side(new), &RiskOptions::default())
    }

    fn cats(old: &[&str], new: &[&str]) -> Vec<(Category, Severity)> {
        risks(old, new)
            .iter()
            .map(|r| (r.category, r.severity))
            .collect()
    }

    const META: &str = "  namespace: orders\n  labels: {paved.dev/environment: production, paved.dev/service: orders}\n";

    fn obj(api: &str, kind: &str, name: &str, rest: &str) -> String {
        format!("apiVersion: {api}\nkind: {kind}\nmetadata:\n  name: {name}\n{META}{rest}")
    }

    fn db(storage: u32) -> String {
        obj(
            "platform.acme.dev/v1alpha1",
            "PostgreSQLInstance",
            "orders-db",
            &format!("spec:\n  parameters: {{version: \"16\", storageGB: {storage}}}\n"),
        )
    }

    #[test]
    fn data_loss_a_stateful_resource_removed_or_shrunk() {
        let svc = obj("v1", "Service", "orders", "spec: {type: ClusterIP}\n");
        assert_eq!(
            cats(&[&db(20), &svc], &[&svc]),
            [(Category::DataLoss, Severity::High)]
        );
        assert_eq!(
            cats(&[&db(20)], &[&db(10)]),
            [(Category::DataLoss, Severity::High)]
        );
        let pvc = |q: &str| {
            obj(
                "v1",
                "PersistentVolumeClaim",
                "data",
                &format!("spec:\n  resources:\n    requests: {{storage: {q}}}\n"),
            )
        };
        assert_eq!(
            cats(&[&pvc("10Gi")], &[&pvc("512Mi")]),
            [(Category::DataLoss, Severity::High)]
        );
        // Not a risk: grown, or a stateless resource removed.
        assert!(cats(&[&db(20)], &[&db(40)]).is_empty());
        assert!(cats(&[&pvc("10Gi")], &[&pvc("20Gi")]).is_empty());
        assert!(cats(&[&db(20), &svc], &[&db(20)]).is_empty());
    }

    #[test]
    fn exposure_an_ingress_added_or_made_public_or_a_service_widened() {
        let ing = |class: &str| {
            obj(
                "networking.k8s.io/v1",
                "Ingress",
                "orders",
                &format!("spec: {{ingressClassName: {class}}}\n"),
            )
        };
        assert_eq!(
            cats(&[], &[&ing("nginx-internal")]),
            [(Category::Exposure, Severity::Medium)]
        );
        assert_eq!(
            cats(&[], &[&ing("nginx-public")]),
            [(Category::Exposure, Severity::High)]
        );
        assert_eq!(
            cats(&[&ing("nginx-internal")], &[&ing("nginx-public")]),
            [(Category::Exposure, Severity::High)]
        );
        let svc = |t: &str| obj("v1", "Service", "orders", &format!("spec: {{type: {t}}}\n"));
        assert_eq!(
            cats(&[&svc("ClusterIP")], &[&svc("LoadBalancer")]),
            [(Category::Exposure, Severity::High)]
        );
        // Not a risk: made internal, a Service narrowed, an ingress removed.
        assert!(cats(&[&ing("nginx-public")], &[&ing("nginx-internal")]).is_empty());
        assert!(cats(&[&svc("NodePort")], &[&svc("ClusterIP")]).is_empty());
        assert!(cats(&[&ing("nginx-public")], &[]).is_empty());
    }

    fn netpol(from: &str) -> String {
        obj(
            "networking.k8s.io/v1",
            "NetworkPolicy",
            "allow-ingress",
            &format!("spec:\n  podSelector: {{}}\n  ingress:\n    - from: {from}\n      ports: [{{port: 8080}}]\n"),
        )
    }

    #[test]
    fn network_a_policy_admits_new_peers_or_is_removed() {
        let a = "[{podSelector: {matchLabels: {app: a}}}]";
        let ab = "[{podSelector: {matchLabels: {app: a}}}, {podSelector: {matchLabels: {app: b}}}]";
        assert_eq!(
            cats(&[&netpol(a)], &[&netpol(ab)]),
            [(Category::Network, Severity::Medium)]
        );
        assert_eq!(
            cats(&[&netpol(a)], &[]),
            [(Category::Network, Severity::Medium)]
        );
        // Not a risk: a peer dropped.
        assert!(cats(&[&netpol(ab)], &[&netpol(a)]).is_empty());
    }

    fn policy(spec: &str) -> String {
        obj(
            "networking.k8s.io/v1",
            "NetworkPolicy",
            "allow",
            &format!("spec:\n{spec}"),
        )
    }

    #[test]
    fn network_an_added_policy_that_allows_anything_is_a_risk_by_breadth() {
        let sel = "  podSelector: {matchLabels: {app: orders}}\n";
        // Added beside what the namespace already runs.
        let there = obj("v1", "ConfigMap", "settings", "data: {a: b}\n");
        let added = |rules: &str| cats(&[&there], &[&there, &policy(&format!("{sel}{rules}"))]);
        // Allow-all: any source, any namespace, any address.
        for broad in [
            "  ingress: [{}]\n",
            "  ingress: [{from: [{namespaceSelector: {}}]}]\n",
            "  egress: [{to: [{ipBlock: {cidr: 0.0.0.0/0}}]}]\n",
            "  egress: [{ports: [{port: 443}]}]\n",
        ] {
            assert_eq!(
                added(broad),
                [(Category::Network, Severity::High)],
                "{broad}"
            );
        }
        // Narrower: named pods, or every pod of its own namespace.
        for narrow in [
            "  ingress: [{from: [{podSelector: {matchLabels: {app: web}}}]}]\n",
            "  ingress: [{from: [{podSelector: {}}]}]\n",
        ] {
            assert_eq!(
                added(narrow),
                [(Category::Network, Severity::Low)],
                "{narrow}"
            );
        }
        // Not a risk: a default-deny policy admits nothing.
        assert!(added("  policyTypes: [Ingress, Egress]\n").is_empty());
        assert!(cats(
            &[],
            &[&policy(
                "  podSelector: {}\n  policyTypes: [Ingress]\n  ingress: []\n"
            )]
        )
        .is_empty());
    }

    #[test]
    fn network_a_new_services_own_allows_are_not_a_risk_an_allow_added_beside_others_is() {
        let narrow = policy(
            "  podSelector: {matchLabels: {app: orders}}\n  ingress: [{from: [{podSelector: {matchLabels: {app: web}}}]}]\n",
        );
        let broad = policy("  podSelector: {}\n  ingress: [{}]\n");
        // The namespace `orders` is new: its named allows come with the service.
        assert_eq!(cats(&[], &[&narrow]), []);
        // In a namespace that was there, the same allow is a new opening.
        let there = obj("v1", "ConfigMap", "settings", "data: {a: b}\n");
        assert_eq!(
            cats(&[&there], &[&there, &narrow]),
            [(Category::Network, Severity::Low)]
        );
        // A broad allow is a risk wherever it comes.
        assert_eq!(cats(&[], &[&broad]), [(Category::Network, Severity::High)]);
        // Another environment's copy of the namespace does not make it old.
        let elsewhere = there.replace(
            "paved.dev/environment: production",
            "paved.dev/environment: staging",
        );
        assert_eq!(cats(&[&elsewhere], &[&elsewhere, &narrow]), []);
    }

    #[test]
    fn network_policy_types_lost_or_pods_reselected() {
        let deny = |types: &str| policy(&format!("  podSelector: {{}}\n  policyTypes: {types}\n"));
        assert_eq!(
            cats(&[&deny("[Ingress, Egress]")], &[&deny("[Ingress]")]),
            [(Category::Network, Severity::High)]
        );
        assert_eq!(
            cats(&[&deny("[Ingress, Egress]")], &[&deny("[Egress]")]),
            [(Category::Network, Severity::High)]
        );
        let sel = |app: &str| {
            policy(&format!(
                "  podSelector: {{matchLabels: {{app: {app}}}}}\n  policyTypes: [Ingress]\n"
            ))
        };
        assert_eq!(
            cats(&[&sel("orders")], &[&sel("web")]),
            [(Category::Network, Severity::Medium)]
        );
        // Not a risk: a type gained, the same selector.
        assert!(cats(&[&deny("[Ingress]")], &[&deny("[Ingress, Egress]")]).is_empty());
    }

    #[test]
    fn network_peers_and_ports_are_compared_as_pairs_per_rule() {
        let rules = |first_ports: &str| {
            policy(&format!(
                "  podSelector: {{}}\n  ingress:\n    - from: [{{podSelector: {{matchLabels: {{app: a}}}}}}]\n      ports: {first_ports}\n    - from: [{{podSelector: {{matchLabels: {{app: b}}}}}}]\n      ports: [{{port: 443}}]\n"
            ))
        };
        // a may now reach 443, which only b could before.
        assert_eq!(
            cats(
                &[&rules("[{port: 80}]")],
                &[&rules("[{port: 80}, {port: 443}]")]
            ),
            [(Category::Network, Severity::Medium)]
        );
        // Not a risk: a port dropped.
        assert!(cats(
            &[&rules("[{port: 80}, {port: 443}]")],
            &[&rules("[{port: 80}]")]
        )
        .is_empty());
    }

    fn app(automated: bool) -> String {
        let sync = if automated {
            "  syncPolicy: {automated: {prune: true}}\n"
        } else {
            "  syncPolicy: {syncOptions: [CreateNamespace=false]}\n"
        };
        obj(
            "argoproj.io/v1alpha1",
            "Application",
            "orders-production",
            &format!("spec:\n  project: orders\n{sync}"),
        )
    }

    fn deploy(image: &str, replicas: u32, cpu: &str, sc: &str) -> String {
        obj(
            "apps/v1",
            "Deployment",
            "orders",
            &format!("spec:\n  replicas: {replicas}\n  template:\n    spec:\n      containers:\n        - name: orders\n          image: {image}\n          resources: {{requests: {{cpu: {cpu}, memory: 128Mi}}}}\n          securityContext: {sc}\n"),
        )
    }

    const SAFE: &str = "{runAsNonRoot: true, readOnlyRootFilesystem: true, allowPrivilegeEscalation: false, capabilities: {drop: [ALL]}}";

    #[test]
    fn promotion_auto_sync_turned_on_or_an_image_changed_where_promotion_is_manual() {
        assert_eq!(
            cats(&[&app(false)], &[&app(true)]),
            [(Category::Promotion, Severity::High)]
        );
        let (d1, d2) = (
            deploy("acme/orders:1", 2, "100m", SAFE),
            deploy("acme/orders:2", 2, "100m", SAFE),
        );
        assert_eq!(
            cats(&[&app(false), &d1], &[&app(false), &d2]),
            [(Category::Promotion, Severity::Medium)]
        );
        // Not a risk: auto-sync turned off, an image changed where the
        // platform promotes automatically.
        assert!(cats(&[&app(true)], &[&app(false)]).is_empty());
        let s = |d: &str| in_env(d, "staging");
        assert!(cats_with(
            &platform_opts(),
            &[&s(&app(true)), &s(&d1)],
            &[&s(&app(true)), &s(&d2)]
        )
        .is_empty());
    }

    #[test]
    fn security_a_waiver_added_a_context_weakened_or_a_constraint_removed() {
        let base = deploy("acme/orders:1", 2, "100m", SAFE);
        for weak in [
            SAFE.replace("runAsNonRoot: true", "runAsNonRoot: false"),
            SAFE.replace(
                "readOnlyRootFilesystem: true",
                "readOnlyRootFilesystem: false",
            ),
            SAFE.replace(
                "allowPrivilegeEscalation: false",
                "allowPrivilegeEscalation: true",
            ),
            SAFE.replace("drop: [ALL]", "drop: [ALL], add: [NET_ADMIN]"),
        ] {
            assert_eq!(
                cats(&[&base], &[&deploy("acme/orders:1", 2, "100m", &weak)]),
                [(Category::Security, Severity::High)],
                "{weak}"
            );
        }
        let waived = base.replace(
            "  labels:",
            "  annotations: {paved.dev/waiver-no-latest-tag: \"until 2027-01-01\"}\n  labels:",
        );
        assert_eq!(
            cats(&[&base], &[&waived]),
            [(Category::Security, Severity::High)]
        );
        let constraint = obj(
            "constraints.gatekeeper.sh/v1beta1",
            "PavedNoLatestTag",
            "no-latest",
            "spec: {}\n",
        );
        assert_eq!(
            cats(&[&constraint], &[]),
            [(Category::Security, Severity::High)]
        );
        // Not a risk: hardened, a waiver removed, a constraint added.
        let hard = deploy("acme/orders:1", 2, "100m", SAFE);
        let weak = deploy(
            "acme/orders:1",
            2,
            "100m",
            &SAFE.replace("runAsNonRoot: true", "runAsNonRoot: false"),
        );
        assert!(cats(&[&weak], &[&hard]).is_empty());
        assert!(cats(&[&waived], &[&base]).is_empty());
        assert!(cats(&[], &[&constraint]).is_empty());
    }

    /// A Deployment with pod-level lines `pod` and container lines `ctr`.
    fn deploy_pod(pod: &str, ctr: &str) -> String {
        obj(
            "apps/v1",
            "Deployment",
            "orders",
            &format!("spec:\n  replicas: 2\n  template:\n    spec:\n{pod}      containers:\n        - name: orders\n          image: acme/orders:1\n{ctr}"),
        )
    }

    const HARD_POD: &str =
        "      securityContext: {runAsNonRoot: true, seccompProfile: {type: RuntimeDefault}}\n";

    fn ctr(sc: &str) -> String {
        format!("          securityContext: {sc}\n")
    }

    #[test]
    fn security_every_move_toward_less_isolation() {
        let safe = SAFE.replace(
            "runAsNonRoot: true",
            "runAsNonRoot: true, privileged: false",
        );
        let base = deploy_pod(HARD_POD, &ctr(&safe));
        let with_pod = |extra: &str| deploy_pod(&format!("{HARD_POD}{extra}"), &ctr(&safe));
        let weaker = [
            ("container context removed", deploy_pod(HARD_POD, "")),
            ("pod context removed", deploy_pod("", &ctr(&safe))),
            (
                "privileged",
                deploy_pod(
                    HARD_POD,
                    &ctr(&safe.replace("privileged: false", "privileged: true")),
                ),
            ),
            (
                "drop ALL removed",
                deploy_pod(
                    HARD_POD,
                    &ctr(&safe.replace("drop: [ALL]", "drop: [NET_RAW]")),
                ),
            ),
            ("hostNetwork", with_pod("      hostNetwork: true\n")),
            ("hostPID", with_pod("      hostPID: true\n")),
            ("hostIPC", with_pod("      hostIPC: true\n")),
            (
                "hostPath",
                with_pod("      volumes: [{name: host, hostPath: {path: /var/run}}]\n"),
            ),
            (
                "pod seccomp Unconfined",
                deploy_pod(
                    &HARD_POD.replace("RuntimeDefault", "Unconfined"),
                    &ctr(&safe),
                ),
            ),
            (
                "container seccomp Unconfined",
                deploy_pod(
                    HARD_POD,
                    &ctr(&safe.replace("privileged: false", "seccompProfile: {type: Unconfined}")),
                ),
            ),
            (
                "runAsUser 0",
                deploy_pod(
                    HARD_POD,
                    &ctr(&safe.replace("privileged: false", "runAsUser: 0")),
                ),
            ),
            (
                "pod runAsNonRoot false",
                deploy_pod(
                    &HARD_POD.replace("runAsNonRoot: true", "runAsNonRoot: false"),
                    &ctr(&safe),
                ),
            ),
        ];
        for (what, weak) in &weaker {
            assert_eq!(
                cats(&[&base], &[weak]),
                [(Category::Security, Severity::High)],
                "{what}"
            );
            // Not a risk: the same change the other way (hardening).
            assert!(cats(&[weak], &[&base]).is_empty(), "{what} reversed");
        }
        // A new workload that runs privileged is a risk; a hardened one is not.
        assert_eq!(
            cats(&[], &[&weaker[2].1]),
            [(Category::Security, Severity::High)]
        );
        assert!(cats(&[], &[&base]).is_empty());
        // Not a risk: a container removed with its context, another user id.
        let two = deploy_pod(
            HARD_POD,
            &format!(
                "{}        - name: sidecar\n          image: acme/sidecar:1\n{}",
                ctr(&safe),
                ctr(&safe)
            ),
        );
        // (Removing the sidecar's image is a promotion risk, not a security one.)
        assert!(!cats(&[&two], &[&base])
            .iter()
            .any(|c| c.0 == Category::Security));
        let user = |u: u32| {
            deploy_pod(
                HARD_POD,
                &ctr(&safe.replace("privileged: false", &format!("runAsUser: {u}"))),
            )
        };
        assert!(cats(&[&user(1000)], &[&user(1001)]).is_empty());
    }

    #[test]
    fn promotion_a_new_application_that_syncs_automatically_where_promotion_is_manual() {
        let o = platform_opts();
        assert_eq!(
            cats_with(&o, &[], &[&app(true)]),
            [(Category::Promotion, Severity::High, "production".into())]
        );
        // Not a risk: a new Application synced by hand, or automatic where
        // that is the platform's default.
        assert!(cats_with(&o, &[], &[&app(false)]).is_empty());
        assert!(cats_with(&o, &[], &[&in_env(&app(true), "staging")]).is_empty());
    }

    #[test]
    fn exposure_load_balancer_source_ranges_removed_or_widened() {
        let lb = |ranges: &str| {
            obj(
                "v1",
                "Service",
                "orders",
                &format!("spec: {{type: LoadBalancer{ranges}}}\n"),
            )
        };
        let office = ", loadBalancerSourceRanges: [203.0.113.0/24]";
        assert_eq!(
            cats(&[&lb(office)], &[&lb("")]),
            [(Category::Exposure, Severity::High)]
        );
        assert_eq!(
            cats(
                &[&lb(office)],
                &[&lb(
                    ", loadBalancerSourceRanges: [203.0.113.0/24, 0.0.0.0/0]"
                )]
            ),
            [(Category::Exposure, Severity::High)]
        );
        assert_eq!(
            cats(
                &[&lb(office)],
                &[&lb(
                    ", loadBalancerSourceRanges: [203.0.113.0/24, 198.51.100.0/24]"
                )]
            ),
            [(Category::Exposure, Severity::Medium)]
        );
        // Not a risk: narrowed, or restricted where it was open.
        assert!(cats(
            &[&lb(
                ", loadBalancerSourceRanges: [203.0.113.0/24, 198.51.100.0/24]"
            )],
            &[&lb(office)]
        )
        .is_empty());
        assert!(cats(&[&lb("")], &[&lb(office)]).is_empty());
    }

    #[test]
    fn exposure_the_legacy_ingress_class_annotation_counts() {
        let ing = |class: &str| {
            obj("networking.k8s.io/v1", "Ingress", "orders", "spec: {}\n").replace(
                "  labels:",
                &format!("  annotations: {{kubernetes.io/ingress.class: {class}}}\n  labels:"),
            )
        };
        assert_eq!(
            cats(&[&ing("nginx-internal")], &[&ing("nginx-public")]),
            [(Category::Exposure, Severity::High)]
        );
        assert_eq!(
            cats(&[], &[&ing("nginx-public")]),
            [(Category::Exposure, Severity::High)]
        );
        assert!(cats(&[&ing("nginx-public")], &[&ing("nginx-internal")]).is_empty());
    }

    #[test]
    fn cost_scaling_from_zero_or_from_unset_replicas() {
        let d = |replicas: Option<u32>| {
            let r = deploy("acme/orders:1", 0, "100m", SAFE);
            match replicas {
                Some(n) => r.replace("replicas: 0", &format!("replicas: {n}")),
                None => r.replace("  replicas: 0\n", ""),
            }
        };
        assert_eq!(
            cats(&[&d(Some(0))], &[&d(Some(3))]),
            [(Category::Cost, Severity::Low)]
        );
        // Unset is one replica without an HPA.
        assert_eq!(
            cats(&[&d(None)], &[&d(Some(3))]),
            [(Category::Cost, Severity::Low)]
        );
        assert!(cats(&[&d(None)], &[&d(Some(1))]).is_empty());
        // With an HPA, unset is its minReplicas.
        let hpa = obj(
            "autoscaling/v2",
            "HorizontalPodAutoscaler",
            "orders",
            "spec: {scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: orders}, minReplicas: 2, maxReplicas: 10}\n",
        );
        assert!(cats(&[&hpa, &d(None)], &[&hpa, &d(Some(3))]).is_empty());
        assert_eq!(
            cats(&[&hpa, &d(None)], &[&hpa, &d(Some(4))]),
            [(Category::Cost, Severity::Low)]
        );
        // Not a risk: scaled to 0, or 0 kept.
        assert!(cats(&[&d(Some(3))], &[&d(Some(0))]).is_empty());
    }

    #[test]
    fn cost_replicas_or_requests_up_by_more_than_the_factor() {
        let d = |replicas, cpu| deploy("acme/orders:1", replicas, cpu, SAFE);
        assert_eq!(
            cats(&[&d(2, "100m")], &[&d(4, "100m")]),
            [(Category::Cost, Severity::Low)]
        );
        assert_eq!(
            cats(&[&d(2, "100m")], &[&d(2, "1")]),
            [(Category::Cost, Severity::Low)]
        );
        let hpa = |max: u32| {
            obj(
                "autoscaling/v2",
                "HorizontalPodAutoscaler",
                "orders",
                &format!("spec: {{minReplicas: 2, maxReplicas: {max}}}\n"),
            )
        };
        assert_eq!(
            cats(&[&hpa(4)], &[&hpa(10)]),
            [(Category::Cost, Severity::Low)]
        );
        // Not a risk: up by the factor or less, or down.
        assert!(cats(&[&d(2, "100m")], &[&d(3, "150m")]).is_empty());
        assert!(cats(&[&d(4, "1")], &[&d(2, "100m")]).is_empty());
        assert!(cats(&[&hpa(4)], &[&hpa(6)]).is_empty());
        let wider = RiskOptions {
            cost_factor: 3.0,
            ..RiskOptions::default()
        };
        assert!(classify(&side(&[&d(2, "100m")]), &side(&[&d(4, "100m")]), &wider).is_empty());
    }

    #[test]
    fn with_a_price_table_and_a_threshold_the_factor_rule_skips_workloads() {
        let d = |replicas, cpu| deploy("acme/orders:1", replicas, cpu, SAFE);
        let priced = RiskOptions {
            priced: true,
            ..RiskOptions::default()
        };
        assert_eq!(
            cats(&[&d(2, "100m")], &[&d(8, "1")]),
            [(Category::Cost, Severity::Low)]
        );
        assert!(classify(&side(&[&d(2, "100m")]), &side(&[&d(8, "1")]), &priced).is_empty());
        // A kind the estimate does not price keeps the factor rule.
        let rs = |n: u32| {
            obj(
                "apps/v1",
                "ReplicaSet",
                "orders",
                &format!("spec: {{replicas: {n}}}\n"),
            )
        };
        assert_eq!(
            classify(&side(&[&rs(2)]), &side(&[&rs(8)]), &priced)
                .iter()
                .map(|r| r.category)
                .collect::<Vec<_>>(),
            [Category::Cost]
        );
    }

    #[test]
    fn a_rise_of_the_floor_over_the_threshold_is_a_cost_risk() {
        use crate::cost::{Delta, Range, Review, Threshold};
        use rust_decimal::Decimal;
        let d = |s: &str| s.parse::<Decimal>().unwrap();
        // payments' autoscaler 2–10 → 10–10: the ceiling stays, the floor ×5.
        let review = Review {
            currency: "EUR".into(),
            basis: "requests",
            changes: vec![Delta {
                environment: "production".into(),
                service: "payments".into(),
                old: Some(Range {
                    min: d("6.7525"),
                    max: d("33.7625"),
                }),
                new: Some(Range::fixed(d("33.7625"))),
            }],
        };
        let t = Threshold {
            percent: Some(d("20")),
            monthly: Some(d("500")),
        };
        let got: Vec<String> = over_threshold(&review, &t)
            .into_iter()
            .map(|r| r.message)
            .collect();
        assert_eq!(
            got,
            ["monthly estimate 6.75–33.76 → 33.76 EUR (+27.01, +400.0 % at the minimum), over review.costThreshold (+20 % or +500 EUR)"]
        );
    }

    #[test]
    fn a_rise_over_the_threshold_by_percent_or_amount_is_a_cost_risk() {
        use crate::cost::{Delta, Range, Review, Threshold};
        use rust_decimal::Decimal;
        let d = |s: &str| s.parse::<Decimal>().unwrap();
        let delta = |service: &str, old: Option<Range>, new: Range| Delta {
            environment: "production".into(),
            service: service.into(),
            old,
            new: Some(new),
        };
        let review = Review {
            currency: "EUR".into(),
            basis: "requests",
            changes: vec![
                // 2–10 pods of 3.37625 + 120 → of 32.85: +294.7375 at the maximum, +191.7 %.
                delta(
                    "inventory",
                    Some(Range {
                        min: d("126.7525"),
                        max: d("153.7625"),
                    }),
                    Range {
                        min: d("185.7"),
                        max: d("448.5"),
                    },
                ),
                // 2 → 3 pods of 3.37625 + 20: +3.37625, +12.6 %.
                delta(
                    "order-events",
                    Some(Range::fixed(d("26.7525"))),
                    Range::fixed(d("30.12875")),
                ),
                // New: from nothing, no percentage.
                delta("mailer", None, Range::fixed(d("600"))),
                // Down: never a risk.
                delta(
                    "payments",
                    Some(Range::fixed(d("900"))),
                    Range::fixed(d("10")),
                ),
            ],
        };
        let over = |percent: Option<&str>, monthly: Option<&str>| -> Vec<(String, String)> {
            let t = Threshold {
                percent: percent.map(d),
                monthly: monthly.map(d),
            };
            over_threshold(&review, &t)
                .into_iter()
                .map(|r| {
                    assert_eq!((r.category, r.severity), (Category::Cost, Severity::Medium));
                    (r.resource, r.message)
                })
                .collect()
        };
        let by_percent = over(Some("20"), None);
        assert_eq!(
            by_percent,
            [(
                "inventory".to_string(),
                "monthly estimate 126.75–153.76 → 185.70–448.50 EUR (+294.74, +191.7 % at the maximum), over review.costThreshold (+20 %)".to_string()
            )]
        );
        let names = |v: Vec<(String, String)>| v.into_iter().map(|x| x.0).collect::<Vec<_>>();
        assert_eq!(names(over(Some("12"), None)), ["inventory", "order-events"]);
        assert_eq!(
            names(over(None, Some("3"))),
            ["inventory", "mailer", "order-events"]
        );
        assert_eq!(
            over(None, Some("500")),
            [(
                "mailer".to_string(),
                "monthly estimate none → 600.00 EUR (+600.00), over review.costThreshold (+500 EUR)".to_string()
            )]
        );
        assert_eq!(
            names(over(Some("20"), Some("500"))),
            ["inventory", "mailer"]
        );
        // Below both bounds: nothing.
        assert!(over(Some("200"), Some("1000")).is_empty());
    }

    #[test]
    fn risks_are_ordered_by_severity_category_then_resource() {
        let r = risks(
            &[
                &db(20),
                &app(false),
                &deploy("acme/orders:1", 2, "100m", SAFE),
            ],
            &[&app(true), &deploy("acme/orders:1", 8, "100m", SAFE)],
        );
        let got: Vec<_> = r
            .iter()
            .map(|r| (r.severity.as_str(), r.category.as_str()))
            .collect();
        assert_eq!(
            got,
            [
                ("high", "data-loss"),
                ("high", "promotion"),
                ("low", "cost")
            ]
        );
        assert_eq!(r[0].environment, "production");
        assert_eq!(
            r[0].resource,
            "platform.acme.dev/v1alpha1 PostgreSQLInstance orders/orders-db"
        );
    }

    /// The built-in platform's promotion defaults: production by hand, staging automatic.
    fn platform_opts() -> RiskOptions {
        RiskOptions {
            manual_by_default: [
                ("production".to_string(), true),
                ("staging".to_string(), false),
            ]
            .into_iter()
            .collect(),
            ..RiskOptions::default()
        }
    }

    /// `doc` moved to environment `env`.
    fn in_env(doc: &str, env: &str) -> String {
        doc.replace(
            "paved.dev/environment: production",
            &format!("paved.dev/environment: {env}"),
        )
    }

    fn cats_with(
        opts: &RiskOptions,
        old: &[&str],
        new: &[&str],
    ) -> Vec<(Category, Severity, String)> {
        classify(&side(old), &side(new), opts)
            .into_iter()
            .map(|r| (r.category, r.severity, r.environment))
            .collect()
    }

    #[test]
    fn promotion_auto_sync_is_higher_where_the_platform_promotes_by_hand() {
        let o = platform_opts();
        let (off, on) = (app(false), app(true));
        assert_eq!(
            cats_with(&o, &[&off], &[&on]),
            [(Category::Promotion, Severity::High, "production".into())]
        );
        let (off_s, on_s) = (in_env(&off, "staging"), in_env(&on, "staging"));
        assert_eq!(
            cats_with(&o, &[&off_s], &[&on_s]),
            [(Category::Promotion, Severity::Medium, "staging".into())]
        );
        // An environment the options do not name: as where the default is manual.
        let (off_q, on_q) = (in_env(&off, "qa"), in_env(&on, "qa"));
        assert_eq!(
            cats_with(&o, &[&off_q], &[&on_q]),
            [(Category::Promotion, Severity::High, "qa".into())]
        );
        // Not a risk: auto-sync turned off where the default is auto.
        assert!(cats_with(&o, &[&on_s], &[&off_s]).is_empty());
    }

    #[test]
    fn promotion_an_image_changed_where_the_platform_default_is_manual() {
        let o = platform_opts();
        let (d1, d2) = (
            deploy("acme/orders:1", 2, "100m", SAFE),
            deploy("acme/orders:2", 2, "100m", SAFE),
        );
        // Production promotes by hand by default: a risk even where this
        // service's Application syncs automatically (it ships on merge).
        for a in [app(false), app(true)] {
            assert_eq!(
                cats_with(&o, &[&a, &d1], &[&a, &d2]),
                [(Category::Promotion, Severity::Medium, "production".into())],
                "{a}"
            );
        }
        // Not a risk: the same change where the default is automatic, even
        // for a service that chose manual there.
        let s = |d: &str| in_env(d, "staging");
        assert!(cats_with(&o, &[&s(&app(false)), &s(&d1)], &[&s(&app(false)), &s(&d2)]).is_empty());
        assert!(cats_with(&o, &[&s(&app(true)), &s(&d1)], &[&s(&app(true)), &s(&d2)]).is_empty());
    }

    #[test]
    fn exposure_the_public_class_is_the_platform_s() {
        let ing = |class: &str| {
            obj(
                "networking.k8s.io/v1",
                "Ingress",
                "orders",
                &format!("spec: {{ingressClassName: {class}}}\n"),
            )
        };
        let o = RiskOptions {
            public_ingress_class: "internet".into(),
            ..RiskOptions::default()
        };
        assert_eq!(
            cats_with(&o, &[], &[&ing("internet")]),
            [(Category::Exposure, Severity::High, "production".into())]
        );
        assert_eq!(
            cats_with(&o, &[&ing("nginx-public")], &[&ing("internet")]),
            [(Category::Exposure, Severity::High, "production".into())]
        );
        // Not public on this platform: only the cluster's ingress.
        assert_eq!(
            cats_with(&o, &[], &[&ing("nginx-public")]),
            [(Category::Exposure, Severity::Medium, "production".into())]
        );
        assert!(cats_with(&o, &[&ing("internet")], &[&ing("nginx-public")]).is_empty());
    }

    fn named_db(name: &str, storage: u32) -> String {
        obj(
            "platform.acme.dev/v1alpha1",
            "PostgreSQLInstance",
            name,
            &format!("spec:\n  parameters: {{version: \"16\", storageGB: {storage}}}\n  connectionSecret: {{name: {name}-connection}}\n"),
        )
    }

    #[test]
    fn data_loss_a_stateful_resource_renamed() {
        let r = risks(
            &[&named_db("orders-db", 20)],
            &[&named_db("orders-database", 20)],
        );
        assert_eq!(r.len(), 1, "{r:?}");
        assert_eq!(
            (r[0].category, r[0].severity),
            (Category::DataLoss, Severity::High)
        );
        assert!(
            r[0].message
                .contains("renamed from `orders-db` to `orders-database`"),
            "{}",
            r[0].message
        );
        assert_eq!(
            r[0].resource,
            "platform.acme.dev/v1alpha1 PostgreSQLInstance orders/orders-db"
        );
        // Not a rename: another spec, another namespace or another environment
        // (the old one is removed, the new one unrelated).
        for other in [
            named_db("orders-database", 40),
            named_db("orders-database", 20).replace("namespace: orders", "namespace: billing"),
            in_env(&named_db("orders-database", 20), "staging"),
        ] {
            let r = risks(&[&named_db("orders-db", 20)], &[&other]);
            assert_eq!(r.len(), 1, "{r:?}");
            assert!(r[0].message.contains("is removed"), "{}", r[0].message);
        }
        // Not a risk at all: a stateless resource renamed.
        let svc = |n: &str| obj("v1", "Service", n, "spec: {type: ClusterIP}\n");
        assert!(cats(&[&svc("orders")], &[&svc("orders-api")]).is_empty());
    }

    #[test]
    fn categories_parse_from_their_names() {
        for c in Category::ALL {
            assert_eq!(Category::parse(c.as_str()), Some(*c));
        }
        assert_eq!(Category::parse("nope"), None);
    }
}
