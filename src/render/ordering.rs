//! The order Argo CD applies objects in, and which objects may be synced
//! before their kind exists: one table for every blueprint, built-in or the
//! platform team's, applied to each rendered object after normalisation
//! (docs/resources.md, "Sync order").
//!
//! - `argocd.argoproj.io/sync-wave`: definitions and Namespaces first, then
//!   what workloads need (ServiceAccounts, ConfigMaps, Secrets,
//!   ExternalSecrets, composite resources, NetworkPolicies, Constraints), then
//!   the workloads (no annotation: wave 0), then monitoring objects, so a
//!   missing Prometheus Operator never holds the workloads back.
//! - `argocd.argoproj.io/sync-options: SkipDryRunOnMissingResource=true` on
//!   every object whose API group is not one every Kubernetes API server
//!   serves: its CRD may arrive later (from Crossplane, Gatekeeper, the
//!   External Secrets or Prometheus operators), and without the option Argo
//!   CD's dry run fails the whole sync until it does.
//!
//! An annotation a blueprint sets itself is kept as written.
//!
//! Architecture invariant: pure; knows kinds and API groups, not templates,
//! files or the model.

use serde_json::{Map, Value as Json};

use crate::normalize::Doc;

pub(crate) const WAVE: &str = "argocd.argoproj.io/sync-wave";
pub(crate) const SYNC_OPTIONS: &str = "argocd.argoproj.io/sync-options";
pub(crate) const SKIP_DRY_RUN: &str = "SkipDryRunOnMissingResource=true";

/// API groups every Kubernetes API server serves (1.31): their kinds never
/// wait for a CRD. Every other group is a CRD's.
const BUILT_IN_GROUPS: &[&str] = &[
    "",
    "admissionregistration.k8s.io",
    "apiextensions.k8s.io",
    "apiregistration.k8s.io",
    "apps",
    "authentication.k8s.io",
    "authorization.k8s.io",
    "autoscaling",
    "batch",
    "certificates.k8s.io",
    "coordination.k8s.io",
    "discovery.k8s.io",
    "events.k8s.io",
    "flowcontrol.apiserver.k8s.io",
    "networking.k8s.io",
    "node.k8s.io",
    "policy",
    "rbac.authorization.k8s.io",
    "resource.k8s.io",
    "scheduling.k8s.io",
    "storage.k8s.io",
];

/// Which kinds of a group: one kind, or every kind of the group.
enum Kinds {
    One(&'static str),
    All,
}

/// `(group, kinds, wave)`; the first row that matches wins. Kinds not
/// listed stay in wave 0 with the workloads.
const WAVES: &[(&str, Kinds, i32)] = &[
    // Definitions of kinds, Namespaces and projects: everything else needs them.
    ("", Kinds::One("Namespace"), -2),
    (
        "apiextensions.k8s.io",
        Kinds::One("CustomResourceDefinition"),
        -2,
    ),
    (
        "apiextensions.crossplane.io",
        Kinds::One("CompositeResourceDefinition"),
        -2,
    ),
    (
        "templates.gatekeeper.sh",
        Kinds::One("ConstraintTemplate"),
        -2,
    ),
    ("argoproj.io", Kinds::One("AppProject"), -2),
    // What workloads (and Constraints) need before they start.
    ("", Kinds::One("ServiceAccount"), -1),
    ("", Kinds::One("ConfigMap"), -1),
    ("", Kinds::One("Secret"), -1),
    ("external-secrets.io", Kinds::All, -1),
    ("networking.k8s.io", Kinds::One("NetworkPolicy"), -1),
    ("rbac.authorization.k8s.io", Kinds::All, -1),
    ("apiextensions.crossplane.io", Kinds::All, -1),
    ("pkg.crossplane.io", Kinds::All, -1),
    ("constraints.gatekeeper.sh", Kinds::All, -1),
    // A Rollout's analysis must exist when its first step starts.
    ("argoproj.io", Kinds::One("AnalysisTemplate"), -1),
    // Observability, after what it observes.
    ("monitoring.coreos.com", Kinds::All, 1),
    ("grafana.integreatly.org", Kinds::All, 1),
];

/// The wave of the composite resources, whose group the platform chooses.
const XR_WAVE: i32 = -1;

fn group(api_version: &str) -> &str {
    api_version.rsplit_once('/').map_or("", |(g, _)| g)
}

/// The sync wave of an object of `api_version`/`kind`; `xr_group` is the
/// API group of the platform's composite resources.
pub(crate) fn wave(api_version: &str, kind: &str, xr_group: &str) -> i32 {
    let g = group(api_version);
    if g == xr_group {
        return XR_WAVE;
    }
    WAVES
        .iter()
        .find(|(rg, kinds, _)| {
            *rg == g
                && match kinds {
                    Kinds::One(k) => *k == kind,
                    Kinds::All => true,
                }
        })
        .map_or(0, |(_, _, w)| *w)
}

/// Whether an object of `api_version` may be synced before its CRD exists.
pub(crate) fn from_a_crd(api_version: &str) -> bool {
    !BUILT_IN_GROUPS.contains(&group(api_version))
}

/// Adds the wave and the sync option to one object, keeping what its
/// blueprint set.
pub(crate) fn annotate(doc: &mut Doc, xr_group: &str) {
    let wave = wave(&doc.api_version, &doc.kind, xr_group);
    let skip = from_a_crd(&doc.api_version);
    if wave == 0 && !skip {
        return;
    }
    let Some(meta) = doc.value.get_mut("metadata").and_then(Json::as_object_mut) else {
        return;
    };
    let annotations = meta
        .entry("annotations")
        .or_insert_with(|| Json::Object(Map::new()));
    if annotations.is_null() {
        *annotations = Json::Object(Map::new());
    }
    let Some(annotations) = annotations.as_object_mut() else {
        return;
    };
    if wave != 0 && !annotations.contains_key(WAVE) {
        annotations.insert(WAVE.into(), Json::String(wave.to_string()));
    }
    if skip && !annotations.contains_key(SYNC_OPTIONS) {
        annotations.insert(SYNC_OPTIONS.into(), Json::String(SKIP_DRY_RUN.into()));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc(api_version: &str, kind: &str, meta: Json) -> Doc {
        Doc {
            api_version: api_version.into(),
            kind: kind.into(),
            name: "x".into(),
            namespace: None,
            value: serde_json::json!({"apiVersion": api_version, "kind": kind, "metadata": meta}),
            blueprint: "service/x.yaml".into(),
        }
    }

    #[test]
    fn namespaces_come_before_what_workloads_need_and_monitoring_after() {
        let xr = "platform.acme.dev";
        let ns = wave("v1", "Namespace", xr);
        let needs = [
            wave("v1", "ServiceAccount", xr),
            wave("external-secrets.io/v1", "ExternalSecret", xr),
            wave("platform.acme.dev/v1alpha1", "PostgreSQLInstance", xr),
        ];
        let workload = wave("apps/v1", "Deployment", xr);
        let monitoring = wave("monitoring.coreos.com/v1", "ServiceMonitor", xr);
        assert!(needs.iter().all(|w| ns < *w && *w < workload));
        assert!(workload < monitoring);
        assert!(
            wave("templates.gatekeeper.sh/v1", "ConstraintTemplate", xr)
                < wave(
                    "constraints.gatekeeper.sh/v1beta1",
                    "PavedRequiredLabels",
                    xr
                )
        );
    }

    #[test]
    fn only_kinds_of_crds_skip_the_dry_run() {
        assert!(!from_a_crd("v1"));
        assert!(!from_a_crd("apps/v1"));
        assert!(!from_a_crd("networking.k8s.io/v1"));
        assert!(from_a_crd("external-secrets.io/v1"));
        assert!(from_a_crd("monitoring.coreos.com/v1"));
        assert!(from_a_crd("gateway.networking.k8s.io/v1"));
    }

    #[test]
    fn a_blueprints_own_annotation_wins() {
        let mut d = doc(
            "monitoring.coreos.com/v1",
            "ServiceMonitor",
            serde_json::json!({"name": "x", "annotations": {WAVE: "5", SYNC_OPTIONS: "Validate=false"}}),
        );
        annotate(&mut d, "platform.acme.dev");
        assert_eq!(d.value["metadata"]["annotations"][WAVE], "5");
        assert_eq!(
            d.value["metadata"]["annotations"][SYNC_OPTIONS],
            "Validate=false"
        );

        let mut d = doc(
            "external-secrets.io/v1",
            "ExternalSecret",
            serde_json::json!({"name": "x"}),
        );
        annotate(&mut d, "platform.acme.dev");
        assert_eq!(d.value["metadata"]["annotations"][WAVE], "-1");
        assert_eq!(
            d.value["metadata"]["annotations"][SYNC_OPTIONS],
            SKIP_DRY_RUN
        );

        let mut d = doc("apps/v1", "Deployment", serde_json::json!({"name": "x"}));
        annotate(&mut d, "platform.acme.dev");
        assert!(d.value["metadata"].get("annotations").is_none());
    }
}
