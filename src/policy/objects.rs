//! Where the rules look in a rendered Kubernetes object, as the Rego looks:
//! the kinds each Constraint matches, the pod spec of a Pod or controller,
//! its containers, and Gatekeeper's excluded namespaces.

use serde_json::Value as Json;

use crate::normalize::Doc;

/// One container of a pod spec.
pub(super) struct Container<'a> {
    /// The field that lists it: `containers`, `initContainers` or
    /// `ephemeralContainers`.
    pub field: &'static str,
    pub name: &'a str,
    pub image: &'a str,
    pub value: &'a Json,
    /// Its JSON pointer in the document
    /// (`/spec/template/spec/containers/0`).
    pub pointer: String,
}

impl Container<'_> {
    /// The object part a finding names, e.g. "container `app`".
    pub(super) fn part(&self) -> String {
        format!("container `{}`", self.name)
    }

    /// Blueprint keys to point at, best first. A container the blueprint
    /// names literally (a sidecar) is found by its name; one named by a
    /// template tag, by the field's key.
    pub(super) fn anchors(&self, keys: &[&str]) -> Vec<String> {
        std::iter::once(format!("name: {}", self.name))
            .chain(keys.iter().map(|k| k.to_string()))
            .collect()
    }
}

/// The API group of a document (`apps` of `apps/v1`, `` of `v1`).
fn group(doc: &Doc) -> &str {
    match doc.api_version.split_once('/') {
        Some((g, _)) => g,
        None => "",
    }
}

/// The kinds the `required-labels` Constraint matches.
pub(super) fn labelled_kind(doc: &Doc) -> bool {
    matches!(
        (group(doc), doc.kind.as_str()),
        ("", "Namespace")
            | ("apps", "Deployment" | "StatefulSet" | "DaemonSet")
            | ("argoproj.io", "Rollout")
            | ("batch", "Job" | "CronJob")
    )
}

/// The pod spec of a Pod or of a controller's pod template, as the Rego's
/// `pod_spec` finds it, with its JSON pointer in the document.
pub(super) fn pod_spec(doc: &Doc) -> Option<(&'static str, &Json)> {
    let at = match (group(doc), doc.kind.as_str()) {
        ("", "Pod") => "/spec",
        ("apps", "Deployment" | "StatefulSet" | "DaemonSet" | "ReplicaSet")
        | ("batch", "Job")
        | ("argoproj.io", "Rollout") => "/spec/template/spec",
        ("batch", "CronJob") => "/spec/jobTemplate/spec/template/spec",
        _ => return None,
    };
    doc.value.pointer(at).map(|spec| (at, spec))
}

/// Every container of a pod spec: init containers, containers, ephemeral
/// containers. `at`: the pod spec's JSON pointer.
pub(super) fn containers<'a>(at: &'a str, spec: &'a Json) -> impl Iterator<Item = Container<'a>> {
    ["initContainers", "containers", "ephemeralContainers"]
        .into_iter()
        .flat_map(move |field| {
            spec.get(field)
                .and_then(Json::as_array)
                .into_iter()
                .flatten()
                .enumerate()
                .map(move |(n, c)| Container {
                    field,
                    name: c.get("name").and_then(Json::as_str).unwrap_or("?"),
                    image: c.get("image").and_then(Json::as_str).unwrap_or(""),
                    value: c,
                    pointer: format!("{at}/{field}/{n}"),
                })
        })
}

/// Gatekeeper's `excludedNamespaces` (`exempt`, the platform's
/// `Platform::exempt_namespaces`): a Namespace is matched on its own name.
pub(super) fn excluded<'a>(mut exempt: impl Iterator<Item = &'a String>, doc: &Doc) -> bool {
    let ns = if (group(doc), doc.kind.as_str()) == ("", "Namespace") {
        Some(doc.name.as_str())
    } else {
        doc.namespace.as_deref()
    };
    let Some(ns) = ns else { return false };
    exempt.any(|p| glob(p, ns))
}

/// A Gatekeeper namespace pattern: a name, with an optional `*` at either end.
pub(crate) fn glob(pattern: &str, value: &str) -> bool {
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
