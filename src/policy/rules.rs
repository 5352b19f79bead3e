//! The rule table: each Gatekeeper rule defined once, with its code, its
//! Constraint kind and parameters, and both of its checks.
//!
//! A rule decides on a rendered object, as its Rego does (the `object`
//! check), and, where the spec alone settles the question, on the spec too
//! (the `spec` check), so that a fault in `platform.yaml` is reported at its
//! line before anything is rendered. The two checks of a rule share one
//! predicate (`image_pinned`, `image_allowed`, `missing_labels`), so they
//! cannot decide differently on the same image or labels; the tests feed both
//! the same cases.

use serde_json::Value as Json;

use super::objects::{labelled_kind, Container};
use crate::codes::{self, Code};
use crate::model::{Platform, Service};
use crate::normalize::Doc;

/// One policy: its id (the diagnostic code's last part), the Gatekeeper
/// Constraint kind that enforces it in the cluster, what it asks, and how it
/// is checked on a spec and on a rendered object.
#[derive(Debug)]
pub struct Rule {
    pub id: &'static str,
    pub code: &'static Code,
    pub kind: &'static str,
    pub description: &'static str,
    /// How to fix a finding, for every finding of the rule's object check and
    /// those of its spec check that say nothing more precise.
    pub help: &'static str,
    /// The platform list the rule takes as its Constraint's parameter.
    pub(crate) parameter: Option<Parameter>,
    /// The rule on a spec, located at the spec line; `None` where only the
    /// blueprints decide (the spec does not write a pod's limits, token or
    /// security context).
    pub(super) spec: Option<fn(&Platform, &Service) -> Vec<SpecFinding>>,
    /// The rule on a rendered object, as the Rego decides it.
    pub(super) object: Object,
}

/// A Constraint parameter that paved.yaml sets: `registries` from
/// `allowedRegistries`. An empty list asks nothing, so the rule is off (and
/// its blueprint renders no Constraint).
#[derive(Debug)]
pub(crate) struct Parameter {
    /// The name under the Constraint's `spec.parameters`.
    pub name: &'static str,
    pub values: fn(&Platform) -> &[String],
}

/// What a rule's rendered-object check looks at.
#[derive(Debug)]
pub(super) enum Object {
    /// The `metadata.labels` of Namespaces and workload controllers.
    Labels(fn(&Platform, &Doc, Option<&Json>) -> Option<Violation>),
    /// A pod spec as a whole (of a Pod or of a controller's pod template).
    Pod(fn(&Json) -> Option<Violation>),
    /// Each container of a pod spec, init and ephemeral ones included.
    Container(fn(&Platform, &Container<'_>) -> Vec<Violation>),
}

/// Every rule, in the order `paved policy` lists them.
pub const RULES: &[Rule] = &[
    Rule {
        id: "required-labels",
        code: codes::POLICY_REQUIRED_LABELS,
        kind: "PavedRequiredLabels",
        description: "Namespaces and workloads carry every label in `requiredLabels`, each with a value",
        help: "add the label where the blueprint writes `labels:` (Paved fills `owner` and `cost-center` from the spec), or drop it from `requiredLabels` in paved.yaml",
        parameter: Some(Parameter {
            name: "labels",
            values: |p| &p.required_labels,
        }),
        spec: Some(spec_labels),
        object: Object::Labels(object_labels),
    },
    Rule {
        id: "allowed-registries",
        code: codes::POLICY_ALLOWED_REGISTRIES,
        kind: "PavedAllowedRegistries",
        description: "Container images come from a registry in `allowedRegistries` (off when the list is empty)",
        help: "use an image from an allowed registry, or add its registry to `allowedRegistries` in paved.yaml",
        parameter: Some(Parameter {
            name: "registries",
            values: |p| &p.allowed_registries,
        }),
        spec: Some(spec_registries),
        object: Object::Container(object_registries),
    },
    Rule {
        id: "container-limits",
        code: codes::POLICY_CONTAINER_LIMITS,
        kind: "PavedContainerLimits",
        description: "Every container and init container sets CPU and memory limits",
        help: "set `resources.limits.cpu` and `resources.limits.memory` on every container; the built-in pod template writes them from `service.compute.limits`",
        parameter: None,
        spec: None,
        object: Object::Container(object_limits),
    },
    Rule {
        id: "no-latest-tag",
        code: codes::POLICY_NO_LATEST_TAG,
        kind: "PavedNoLatestTag",
        description: "Every image is pinned to a tag other than `latest`, or to a digest",
        help: "pin a version (`:1.4.2`) or a digest (`@sha256:...`)",
        parameter: None,
        spec: Some(spec_latest),
        object: Object::Container(object_latest),
    },
    Rule {
        id: "no-automount-token",
        code: codes::POLICY_NO_AUTOMOUNT_TOKEN,
        kind: "PavedNoAutomountToken",
        description: "Pods set `automountServiceAccountToken: false`",
        help: "set `automountServiceAccountToken: false` in the pod spec; a pod that calls the Kubernetes API mounts a projected token volume explicitly",
        parameter: None,
        spec: None,
        object: Object::Pod(object_automount),
    },
    Rule {
        id: "no-privilege-escalation",
        code: codes::POLICY_NO_PRIVILEGE_ESCALATION,
        kind: "PavedNoPrivilegeEscalation",
        description: "Every container sets `allowPrivilegeEscalation: false` and none runs privileged",
        help: "set `securityContext.allowPrivilegeEscalation: false` (and no `privileged: true`) on every container",
        parameter: None,
        spec: None,
        object: Object::Container(object_privilege),
    },
];

impl Rule {
    /// The Constraint's parameter with the values paved.yaml sets.
    pub(crate) fn parameter_values<'p>(
        &self,
        platform: &'p Platform,
    ) -> Option<(&'static str, &'p [String])> {
        self.parameter
            .as_ref()
            .map(|p| (p.name, (p.values)(platform)))
    }

    /// A rule whose list is empty asks nothing, and is not rendered either.
    pub(crate) fn enabled(&self, platform: &Platform) -> bool {
        self.parameter_values(platform)
            .is_none_or(|(_, values)| !values.is_empty())
    }
}

#[cfg(test)]
pub(crate) fn rule(id: &str) -> Option<&'static Rule> {
    RULES.iter().find(|r| r.id == id)
}

// ------------------------------------------------------------ the predicates

/// Why an image is not pinned to one build.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Unpinned {
    /// Tagged `latest` (with or without a digest: the tag says it moves).
    Latest,
    /// Neither a tag nor a digest, which a registry serves as `latest`.
    Untagged,
}

/// `no-latest-tag`: the image names one build, by a tag other than `latest`
/// or by a digest. The tag follows the colon of the last path segment,
/// before any digest (`registry:5000/app:1.2@sha256:...` has the tag `1.2`),
/// as the Rego's `image_tag` reads it; the two differ only on a segment with
/// two colons, which no valid reference has.
pub(super) fn image_pinned(image: &str) -> Result<(), Unpinned> {
    match crate::model::image_tag(image) {
        Some("latest") => Err(Unpinned::Latest),
        None if !has_digest(image) => Err(Unpinned::Untagged),
        _ => Ok(()),
    }
}

pub(super) fn has_digest(image: &str) -> bool {
    image.contains("@sha256:") || image.contains("@sha512:")
}

/// `allowed-registries`: the image starts with one of the prefixes. An empty
/// list allows every image (the rule is off).
pub(crate) fn image_allowed(image: &str, registries: &[String]) -> bool {
    registries.is_empty() || registries.iter().any(|r| image.starts_with(r.as_str()))
}

/// `required-labels`: the labels of `required` that `value` does not give a
/// non-empty value, in `required`'s order.
pub(super) fn missing_labels<'r, 'v>(
    required: &'r [String],
    value: impl Fn(&str) -> Option<&'v str>,
) -> Vec<&'r str> {
    required
        .iter()
        .map(String::as_str)
        .filter(|l| value(l).is_none_or(str::is_empty))
        .collect()
}

// ------------------------------------------------------------ on the spec

/// A rule's finding on a spec, before it is located and worded as a
/// diagnostic by `policy::check_spec`.
#[derive(Debug)]
pub(super) struct SpecFinding {
    /// The mapping keys leading to the value at fault (`spec`, `image`).
    pub path: Vec<String>,
    /// Point at the last key rather than at its value.
    pub at_key: bool,
    pub message: String,
    pub label: String,
    /// `None`: the rule's own help.
    pub help: Option<String>,
}

/// A label Paved writes on every object of a service from a spec field.
pub(super) struct SpecLabel {
    pub label: &'static str,
    /// The `metadata` field it comes from.
    pub field: &'static str,
    /// An example value, for the help.
    pub example: &'static str,
    pub value: fn(&Service) -> Option<&str>,
}

/// The labels a spec fills (the model writes them; a test holds the two
/// together).
pub(super) const SPEC_LABELS: &[SpecLabel] = &[
    SpecLabel {
        label: "owner",
        field: "owner",
        example: "team-orders",
        value: |s| Some(&s.meta.owner),
    },
    SpecLabel {
        label: "cost-center",
        field: "costCenter",
        example: "cc-1234",
        value: |s| s.meta.cost_center.as_deref(),
    },
];

fn spec_label(label: &str) -> Option<&'static SpecLabel> {
    SPEC_LABELS.iter().find(|l| l.label == label)
}

/// A required label the spec fills must have its field set. Labels no spec
/// field fills are the blueprints' to write: only the object check sees them.
fn spec_labels(platform: &Platform, s: &Service) -> Vec<SpecFinding> {
    let required: Vec<String> = platform
        .required_labels
        .iter()
        .filter(|l| spec_label(l).is_some())
        .cloned()
        .collect();
    missing_labels(&required, |l| spec_label(l).and_then(|sl| (sl.value)(s)))
        .into_iter()
        .filter_map(spec_label)
        .map(|SpecLabel { label, field, example, .. }| SpecFinding {
            path: vec!["metadata".into()],
            at_key: true,
            message: format!("`metadata.{field}` is required by this platform"),
            label: format!("add `{field}` here"),
            help: Some(format!("the platform's `requiredLabels` includes `{label}`, which Paved fills from `metadata.{field}`, e.g. `{field}: {example}`")),
        })
        .collect()
}

/// Every image a spec names with the keys leading to it: `spec.image`, then
/// each environment's override, in the spec's order.
fn spec_images(s: &Service) -> Vec<(Vec<String>, &str)> {
    let mut out = vec![(vec!["spec".into(), "image".into()], s.spec.image.as_str())];
    for (env, o) in s.spec.environments.iter().flatten() {
        if let Some(image) = &o.image {
            let path = ["spec", "environments", env, "image"].map(String::from);
            out.push((path.into(), image.as_str()));
        }
    }
    out
}

fn spec_latest(_: &Platform, s: &Service) -> Vec<SpecFinding> {
    let finding = |path: Vec<String>, image: &str, why| {
        let (message, label, help) = match why {
            Unpinned::Latest => (
                "the image tag `latest` is not allowed",
                "`latest` moves; a deployment must name one build",
                None,
            ),
            Unpinned::Untagged => (
                "the image has no tag or digest",
                "without a tag, the registry serves `latest`",
                Some(format!(
                    "pin a version, e.g. `{image}:1.0.0`, or a digest (`@sha256:...`)"
                )),
            ),
        };
        SpecFinding {
            path,
            at_key: false,
            message: message.into(),
            label: label.into(),
            help,
        }
    };
    spec_images(s)
        .into_iter()
        .filter_map(|(path, image)| {
            image_pinned(image)
                .err()
                .map(|why| finding(path, image, why))
        })
        .collect()
}

fn spec_registries(platform: &Platform, s: &Service) -> Vec<SpecFinding> {
    let allowed = &platform.allowed_registries;
    spec_images(s)
        .into_iter()
        .filter(|(_, image)| !image_allowed(image, allowed))
        .map(|(path, _)| SpecFinding {
            path,
            at_key: false,
            message: "the image comes from a registry this platform does not allow".into(),
            label: "registry not allowed".into(),
            help: Some(format!(
                "images must start with {}",
                allowed
                    .iter()
                    .map(|r| format!("`{r}`"))
                    .collect::<Vec<_>>()
                    .join(" or ")
            )),
        })
        .collect()
}

// ------------------------------------------------------------ on rendered objects

/// One broken rule in one rendered object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Violation {
    /// What is wrong, without naming the object (see the module docs).
    pub problem: String,
    /// The object part at fault, e.g. "container `app`".
    pub part: String,
    /// Keys to look for in the blueprint, best first (`limits:`), when the
    /// caller cannot trace `pointer` to its blueprint line.
    pub anchors: Vec<String>,
    /// The JSON pointer of the field at fault, relative to what the rule
    /// looks at (the object, the pod spec, the container): `/image`,
    /// `/securityContext/privileged`. A missing field is named as it
    /// would be written; `policy` points at its closest existing parent.
    pub pointer: String,
}

fn object_labels(platform: &Platform, doc: &Doc, labels: Option<&Json>) -> Option<Violation> {
    if !labelled_kind(doc) {
        return None;
    }
    let missing = missing_labels(&platform.required_labels, |l| {
        labels.and_then(|m| m.get(l)).and_then(Json::as_str)
    });
    if missing.is_empty() {
        return None;
    }
    Some(Violation {
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
        pointer: "/metadata/labels".into(),
    })
}

fn object_automount(spec: &Json) -> Option<Violation> {
    (spec.get("automountServiceAccountToken") != Some(&Json::Bool(false))).then(|| Violation {
        problem: "renders a pod that does not set `automountServiceAccountToken: false`".into(),
        part: "its pod spec".into(),
        anchors: vec![
            "automountServiceAccountToken:".into(),
            "serviceAccountName:".into(),
            "containers:".into(),
        ],
        pointer: "/automountServiceAccountToken".into(),
    })
}

fn image_anchors(image: &str) -> Vec<String> {
    vec![image.to_string(), "image:".into(), "containers:".into()]
}

fn object_registries(platform: &Platform, c: &Container<'_>) -> Vec<Violation> {
    if image_allowed(c.image, &platform.allowed_registries) {
        return vec![];
    }
    vec![Violation {
        problem: format!(
            "renders the image `{}`, which is not from an allowed registry",
            c.image
        ),
        part: c.part(),
        anchors: image_anchors(c.image),
        pointer: "/image".into(),
    }]
}

fn object_latest(_: &Platform, c: &Container<'_>) -> Vec<Violation> {
    let image = c.image;
    let problem = match image_pinned(image) {
        Ok(()) => return vec![],
        Err(Unpinned::Latest) => format!("renders the image `{image}`, tagged `latest`"),
        Err(Unpinned::Untagged) => {
            format!("renders the image `{image}`, which has no tag or digest and so means `latest`")
        }
    };
    vec![Violation {
        problem,
        part: c.part(),
        anchors: image_anchors(image),
        pointer: "/image".into(),
    }]
}

fn object_limits(_: &Platform, c: &Container<'_>) -> Vec<Violation> {
    // Ephemeral containers cannot set resources.
    if c.field == "ephemeralContainers" {
        return vec![];
    }
    let limits = c.value.pointer("/resources/limits");
    ["cpu", "memory"]
        .into_iter()
        .filter(|resource| {
            limits
                .and_then(|l| l.get(resource))
                .is_none_or(Json::is_null)
        })
        .map(|resource| Violation {
            problem: format!("renders a container without a {resource} limit"),
            part: c.part(),
            anchors: c.anchors(&["limits:", "resources:", "containers:"]),
            pointer: format!("/resources/limits/{resource}"),
        })
        .collect()
}

fn object_privilege(_: &Platform, c: &Container<'_>) -> Vec<Violation> {
    let mut out = Vec::new();
    let sc = c.value.get("securityContext");
    if sc.and_then(|s| s.get("allowPrivilegeEscalation")) != Some(&Json::Bool(false)) {
        out.push(Violation {
            problem: "renders a container that does not set `allowPrivilegeEscalation: false`"
                .into(),
            part: c.part(),
            anchors: c.anchors(&[
                "allowPrivilegeEscalation:",
                "securityContext:",
                "containers:",
            ]),
            pointer: "/securityContext/allowPrivilegeEscalation".into(),
        });
    }
    if sc.and_then(|s| s.get("privileged")) == Some(&Json::Bool(true)) {
        out.push(Violation {
            problem: "renders a privileged container".into(),
            part: c.part(),
            anchors: c.anchors(&["privileged:", "securityContext:"]),
            pointer: "/securityContext/privileged".into(),
        });
    }
    out
}
