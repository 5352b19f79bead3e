#!/usr/bin/env python3
"""Evaluate Paved's rendered Gatekeeper policies against the cluster they guard.

Usage: gatekeeper_system.py TREE...

gatekeeper_check.py reviews the objects Paved renders. A cluster holds more:
the platform's own controllers, and the objects controllers create from
Paved's workloads. For every rendered TREE (a fixtures/<case>/expected/
folder), this reviews, with the tree's ConstraintTemplates and Constraints
(Gatekeeper's `match` emulated by gatekeeper_check.matches, the Rego run by
regopy):

(a) the platform's controllers, made like their upstream manifests (images
    from quay.io, registry.k8s.io, ghcr.io; no Paved labels; some containers
    without limits; the service account token mounted by default): the Argo
    CD application controller (a StatefulSet and its Pod) and repo server,
    the External Secrets operator, Prometheus and its operator, the ingress
    controller (and its admission Job), Crossplane, cert-manager, Gatekeeper
    and CoreDNS, each with its Namespace, each placed in the namespace the
    tree's own platform config names for it. That config is
    `fixtures/<case>/input/paved.yaml` beside the tree (the built-in
    `src/paved.default.yaml` when there is none), read here field by field
    with the documented defaults, independently of Paved's code. No
    violation may be reported. So that this cannot pass by accident, each
    controller object must be refused when moved to a namespace the
    platform does not exempt; and so that the config is read as Paved reads
    it, the tree must agree with it where it names a namespace itself (the
    namespace of Argo CD objects; the namespaces NetworkPolicies admit).

(b) the objects Kubernetes controllers create from every rendered workload:
    a Deployment's or an Argo Rollouts Rollout's ReplicaSet and its Pod, a StatefulSet's Pod, a CronJob's
    Job and its Pod, a Job's Pod; with the pod template's labels,
    annotations and spec, the workload's namespace and ownerReferences. No
    violation may be reported.

Exit status: 0 all good, 1 any failure, 2 usage error.
"""

from __future__ import annotations

import argparse
import copy
import sys
import uuid
from pathlib import Path

import yaml

from gatekeeper_check import CheckError, Policies, is_gatekeeper_object, load_policies, matches, review
from rendered import Doc

ROOT = Path(__file__).resolve().parents[2]

# The config fields that name a platform component's namespace, with the
# defaults docs/policies.md states.
FIELDS = {
    "argocd": (("gitops", "argocdNamespace"), "argocd"),
    "external-secrets": (("secretStore", "operatorNamespace"), "external-secrets"),
    "prometheus": (("observability", "prometheusNamespace"), "monitoring"),
    "ingress": (("ingress", "controllerNamespace"), "ingress-nginx"),
    "crossplane": (("crossplane", "namespace"), "crossplane-system"),
    "cert-manager": (("ingress", "certManagerNamespace"), "cert-manager"),
    "gatekeeper": (("policy", "gatekeeperNamespace"), "gatekeeper-system"),
    "dns": (("networkPolicy", "dnsNamespace"), "kube-system"),
}

ELSEWHERE = "paved-conformance-elsewhere"


def platform_config(tree: Path) -> tuple[Path, dict]:
    path = tree.parent / "input" / "paved.yaml"
    if not path.is_file():
        path = ROOT / "src" / "paved.default.yaml"
    with path.open(encoding="utf-8") as fh:
        doc = yaml.safe_load(fh) or {}
    return path, doc.get("spec") or {}


def component_namespaces(spec: dict) -> dict[str, str]:
    out = {}
    for component, ((section, key), default) in FIELDS.items():
        value = (spec.get(section) or {}).get(key)
        out[component] = value if isinstance(value, str) and value else default
    # With observability.tracing, the OpenTelemetry collector's namespace too.
    tracing = (spec.get("observability") or {}).get("tracing")
    if tracing:
        out["otel-collector"] = tracing["collector"]["namespace"]
    return out


# --- the platform's controllers, as upstream ships them -------------------


def container(name: str, image: str, limits: bool, **extra) -> dict:
    c = {"name": name, "image": image, "resources": {"requests": {"cpu": "100m", "memory": "128Mi"}}}
    if limits:
        c["resources"]["limits"] = {"cpu": "1", "memory": "512Mi"}
    c.update(extra)
    return c


def pod_spec(service_account: str, *containers: dict) -> dict:
    # automountServiceAccountToken is left out, as upstream charts leave it:
    # the default mounts the token (the controllers call the API server).
    return {"serviceAccountName": service_account, "containers": list(containers)}


def controller(kind: str, name: str, namespace: str, labels: dict, spec: dict) -> dict:
    group = "batch/v1" if kind == "Job" else "apps/v1"
    obj = {
        "apiVersion": group,
        "kind": kind,
        "metadata": {"name": name, "namespace": namespace, "labels": dict(labels)},
        "spec": {
            "template": {"metadata": {"labels": dict(labels)}, "spec": spec},
        },
    }
    if kind != "Job":
        obj["spec"]["selector"] = {"matchLabels": dict(labels)}
    if kind == "StatefulSet":
        obj["spec"]["serviceName"] = name
    return obj


def controllers(ns: dict[str, str]) -> list[dict]:
    """Upstream-like workloads of the platform's components, in `ns`."""

    def app(name: str, part_of: str) -> dict:
        return {"app.kubernetes.io/name": name, "app.kubernetes.io/part-of": part_of}

    # The collector as its Helm chart ships it (no resources set).
    collector = [
        controller(
            "Deployment",
            "opentelemetry-collector",
            ns["otel-collector"],
            app("opentelemetry-collector", "opentelemetry"),
            pod_spec(
                "opentelemetry-collector",
                container("opentelemetry-collector", "otel/opentelemetry-collector-contrib:0.111.0", False),
            ),
        )
    ] if "otel-collector" in ns else []

    return collector + [
        controller(
            "StatefulSet",
            "argocd-application-controller",
            ns["argocd"],
            app("argocd-application-controller", "argocd"),
            pod_spec(
                "argocd-application-controller",
                container("argocd-application-controller", "quay.io/argoproj/argocd:v2.13.3", False),
            ),
        ),
        controller(
            "Deployment",
            "argocd-repo-server",
            ns["argocd"],
            app("argocd-repo-server", "argocd"),
            pod_spec("argocd-repo-server", container("argocd-repo-server", "quay.io/argoproj/argocd:v2.13.3", False)),
        ),
        controller(
            "Deployment",
            "external-secrets",
            ns["external-secrets"],
            app("external-secrets", "external-secrets"),
            pod_spec(
                "external-secrets",
                container("external-secrets", "ghcr.io/external-secrets/external-secrets:v0.17.0", False),
            ),
        ),
        controller(
            "StatefulSet",
            "prometheus-k8s",
            ns["prometheus"],
            app("prometheus", "kube-prometheus"),
            pod_spec(
                "prometheus-k8s",
                container("prometheus", "quay.io/prometheus/prometheus:v2.54.1", False),
                container(
                    "config-reloader", "quay.io/prometheus-operator/prometheus-config-reloader:v0.77.1", True
                ),
            ),
        ),
        controller(
            "Deployment",
            "prometheus-operator",
            ns["prometheus"],
            app("prometheus-operator", "kube-prometheus"),
            pod_spec(
                "prometheus-operator",
                container("prometheus-operator", "quay.io/prometheus-operator/prometheus-operator:v0.77.1", True),
            ),
        ),
        controller(
            "Deployment",
            "ingress-nginx-controller",
            ns["ingress"],
            app("ingress-nginx", "ingress-nginx"),
            pod_spec(
                "ingress-nginx",
                container(
                    "controller",
                    "registry.k8s.io/ingress-nginx/controller:v1.11.3",
                    False,
                    securityContext={"allowPrivilegeEscalation": True, "runAsUser": 101},
                ),
            ),
        ),
        controller(
            "Job",
            "ingress-nginx-admission-create",
            ns["ingress"],
            app("ingress-nginx", "ingress-nginx"),
            dict(
                pod_spec(
                    "ingress-nginx-admission",
                    container("create", "registry.k8s.io/ingress-nginx/kube-webhook-certgen:v1.4.4", False),
                ),
                restartPolicy="OnFailure",
            ),
        ),
        controller(
            "Deployment",
            "crossplane",
            ns["crossplane"],
            app("crossplane", "crossplane"),
            pod_spec("crossplane", container("crossplane", "xpkg.crossplane.io/crossplane/crossplane:v2.0.2", True)),
        ),
        controller(
            "Deployment",
            "cert-manager",
            ns["cert-manager"],
            app("cert-manager", "cert-manager"),
            pod_spec(
                "cert-manager", container("cert-manager-controller", "quay.io/jetstack/cert-manager-controller:v1.16.2", False)
            ),
        ),
        controller(
            "Deployment",
            "cert-manager-webhook",
            ns["cert-manager"],
            app("webhook", "cert-manager"),
            pod_spec(
                "cert-manager-webhook", container("cert-manager-webhook", "quay.io/jetstack/cert-manager-webhook:v1.16.2", False)
            ),
        ),
        controller(
            "Deployment",
            "gatekeeper-controller-manager",
            ns["gatekeeper"],
            app("gatekeeper", "gatekeeper"),
            pod_spec("gatekeeper-admin", container("manager", "openpolicyagent/gatekeeper:v3.19.1", True)),
        ),
        controller(
            "Deployment",
            "coredns",
            ns["dns"],
            app("coredns", "kube-dns"),
            pod_spec("coredns", container("coredns", "registry.k8s.io/coredns/coredns:v1.11.3", True)),
        ),
    ]


# --- what Kubernetes controllers create ------------------------------------


def owner(obj: dict) -> list[dict]:
    meta = obj["metadata"]
    return [
        {
            "apiVersion": obj["apiVersion"],
            "kind": obj["kind"],
            "name": meta["name"],
            "uid": str(uuid.uuid5(uuid.NAMESPACE_DNS, f"{meta.get('namespace')}.{meta['name']}")),
            "controller": True,
            "blockOwnerDeletion": True,
        }
    ]


def from_template(kind: str, api: str, name: str, parent: dict, template: dict, extra_labels: dict) -> dict:
    meta = template.get("metadata") or {}
    out_meta = {
        "name": name,
        "namespace": parent["metadata"].get("namespace"),
        "labels": {**(meta.get("labels") or {}), **extra_labels},
        "ownerReferences": owner(parent),
    }
    if meta.get("annotations"):
        out_meta["annotations"] = copy.deepcopy(meta["annotations"])
    return {"apiVersion": api, "kind": kind, "metadata": out_meta, "spec": copy.deepcopy(template.get("spec") or {})}


def created(obj: dict) -> list[dict]:
    """The objects Kubernetes' controllers create from `obj`, recursively."""
    kind, spec, name = obj.get("kind"), obj.get("spec") or {}, obj["metadata"]["name"]
    out: list[dict] = []
    if kind in ("Deployment", "Rollout"):
        # A Rollout's ReplicaSets (stable, canary, preview) are made the same
        # way; Argo Rollouts names its hash label rollouts-pod-template-hash.
        hash_label = "pod-template-hash" if kind == "Deployment" else "rollouts-pod-template-hash"
        rs = {
            "apiVersion": "apps/v1",
            "kind": "ReplicaSet",
            "metadata": {
                "name": f"{name}-5d8c7f9b6",
                "namespace": obj["metadata"].get("namespace"),
                "labels": {**((spec.get("template") or {}).get("metadata") or {}).get("labels", {}), hash_label: "5d8c7f9b6"},
                "ownerReferences": owner(obj),
            },
            "spec": {
                "replicas": spec.get("replicas", 1),
                "selector": copy.deepcopy(spec.get("selector") or {}),
                "template": copy.deepcopy(spec.get("template") or {}),
            },
        }
        if ((spec.get("template") or {}).get("metadata") or {}).get("annotations"):
            rs["metadata"]["annotations"] = copy.deepcopy(spec["template"]["metadata"]["annotations"])
        out.append(rs)
        out.extend(created(rs))
    elif kind == "ReplicaSet":
        out.append(
            from_template("Pod", "v1", f"{name}-x7k2p", obj, spec.get("template") or {}, {})
        )
    elif kind == "StatefulSet":
        out.append(
            from_template(
                "Pod", "v1", f"{name}-0", obj, spec.get("template") or {},
                {"statefulset.kubernetes.io/pod-name": f"{name}-0"},
            )
        )
    elif kind == "CronJob":
        job_template = spec.get("jobTemplate") or {}
        job = from_template("Job", "batch/v1", f"{name}-28950000", obj, job_template, {})
        out.append(job)
        out.extend(created(job))
    elif kind == "Job":
        out.append(
            from_template(
                "Pod", "v1", f"{name}-q4m9z", obj, spec.get("template") or {},
                {"batch.kubernetes.io/job-name": name, "job-name": name},
            )
        )
    return out


# paved.yaml `ingress.http01SolverImage`'s default (src/model.rs).
SOLVER_IMAGE = "quay.io/jetstack/cert-manager-acmesolver"


def solver_pod(image: str, namespace: str) -> dict:
    """cert-manager's HTTP-01 solver pod (pkg/issuer/acme/http/pod.go): no
    token, limits, no privilege escalation, all capabilities dropped."""
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "name": "cm-acme-http-solver-x",
            "namespace": namespace,
            "labels": {"acme.cert-manager.io/http01-solver": "true"},
        },
        "spec": {
            "automountServiceAccountToken": False,
            "securityContext": {"runAsNonRoot": True, "seccompProfile": {"type": "RuntimeDefault"}},
            "containers": [
                {
                    "name": "acmesolver",
                    "image": f"{image}:v1.16.2",
                    "args": ["--listen-port=8089", "--domain=example.invalid", "--token=t", "--key=k"],
                    "ports": [{"name": "http", "containerPort": 8089}],
                    "resources": {
                        "requests": {"cpu": "10m", "memory": "64Mi"},
                        "limits": {"cpu": "100m", "memory": "64Mi"},
                    },
                    "securityContext": {
                        "allowPrivilegeEscalation": False,
                        "readOnlyRootFilesystem": True,
                        "capabilities": {"drop": ["ALL"]},
                    },
                }
            ],
        },
    }


def namespace(name: str) -> dict:
    return {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name, "labels": {"kubernetes.io/metadata.name": name}}}


# --- evaluation -----------------------------------------------------------


def doc_of(obj: dict, origin: str) -> Doc:
    return Doc(Path(origin), 1, obj, (obj.get("metadata") or {}).get("namespace"))


def violations(p: Policies, d: Doc, errors: list[str]) -> list[str]:
    found = []
    for c in p.constraints:
        t = p.templates.get(c.kind)
        if t is None or not matches(c, d, p.namespaces):
            continue
        try:
            for v in review(t, c, d, p.inventory):
                msg = v.get("msg", v) if isinstance(v, dict) else v
                found.append(f"{c.kind}/{c.name}: {msg}")
        except CheckError as e:
            errors.append(str(e))
    return found


def agree_with_tree(p: Policies, ns: dict[str, str], config: Path, errors: list[str]) -> None:
    """Where the tree names a platform namespace itself, it is the one read from the config."""
    for d in p.docs:
        # Argo CD's kinds; Argo Rollouts shares the group and lives with the services.
        argocd = d.group_version[0] == "argoproj.io" and d.kind in ("Application", "AppProject", "ApplicationSet")
        if argocd and d.namespace and d.namespace != ns["argocd"]:
            errors.append(
                f"{d.label()}: in namespace {d.namespace}, but {config} names Argo CD's namespace {ns['argocd']}"
            )
    services = {d.name for d in p.docs if d.group_version == ("", "v1") and d.kind == "Namespace"}
    known = set(ns.values())
    for d in p.docs:
        if d.kind != "NetworkPolicy":
            continue
        spec = d.obj.get("spec") or {}
        for rule in (spec.get("ingress") or []) + (spec.get("egress") or []):
            for peer in rule.get("from") or rule.get("to") or []:
                selector = (peer.get("namespaceSelector") or {}).get("matchLabels") or {}
                name = selector.get("kubernetes.io/metadata.name")
                if name and name not in services and name not in known:
                    errors.append(
                        f"{d.label()}: admits namespace {name}, which is neither a rendered service namespace "
                        f"nor a platform namespace read from {config} ({', '.join(sorted(known))})"
                    )


def check_tree(p: Policies, errors: list[str]) -> None:
    config, spec = platform_config(p.tree)
    ns = component_namespaces(spec)
    agree_with_tree(p, ns, config, errors)
    if not p.constraints:
        print(f"gatekeeper-system: {p.tree}: no constraints rendered; nothing to check")
        return
    for name in sorted(set(ns.values())) + [ELSEWHERE]:
        p.namespaces.setdefault(name, namespace(name))

    # (a) the platform's controllers in their namespaces, and the Namespaces.
    reviewed = 0
    for name in sorted(set(ns.values())):
        d = doc_of(namespace(name), f"<Namespace {name}>")
        reviewed += 1
        for v in violations(p, d, errors):
            errors.append(f"{p.tree}: the platform's Namespace {name} (from {config}) is refused: {v}")
    for obj in controllers(ns):
        for o in [obj] + created(obj):
            where = f"<{o['kind']} {o['metadata']['namespace']}/{o['metadata']['name']}>"
            reviewed += 1
            for v in violations(p, doc_of(o, where), errors):
                errors.append(
                    f"{p.tree}: the platform's {o['kind']} {o['metadata']['namespace']}/{o['metadata']['name']} "
                    f"(namespace from {config}) is refused: {v}"
                )
        # Not vacuous: the same controller outside the exempt namespaces is refused.
        moved = copy.deepcopy(obj)
        moved["metadata"]["namespace"] = ELSEWHERE
        if not violations(p, doc_of(moved, f"<{obj['kind']} {ELSEWHERE}/{obj['metadata']['name']}>"), errors):
            errors.append(
                f"{p.tree}: {obj['kind']} {obj['metadata']['name']} passes the policies even in {ELSEWHERE}: "
                "the controller fixtures no longer exercise them"
            )

    # (b) what Kubernetes' controllers create from the rendered workloads.
    children = 0
    for d in p.docs:
        if is_gatekeeper_object(d) or d.kind not in ("Deployment", "Rollout", "StatefulSet", "CronJob", "Job", "ReplicaSet"):
            continue
        obj = copy.deepcopy(d.obj)
        obj["metadata"].setdefault("namespace", d.namespace)
        for o in created(obj):
            children += 1
            for v in violations(p, doc_of(o, f"<{o['kind']} created from {d.where}>"), errors):
                errors.append(f"{d.label()}: the {o['kind']} {o['metadata']['name']} it creates is refused: {v}")
    # (c) cert-manager's HTTP-01 solver, which cert-manager starts in the
    # namespace of each Ingress while a certificate is issued; the pod as
    # cert-manager builds it, from the image the config names (none: DNS-01).
    image = (spec.get("ingress") or {}).get("http01SolverImage", SOLVER_IMAGE)
    solvers = 0
    for d in p.docs if image else []:
        if d.kind != "Ingress":
            continue
        pod = solver_pod(image, d.namespace)
        solvers += 1
        for v in violations(p, doc_of(pod, f"<solver pod for {d.where}>"), errors):
            errors.append(f"{d.label()}: cert-manager's HTTP-01 solver pod for it ({image}) is refused: {v}")
    print(
        f"gatekeeper-system: {p.tree}: {reviewed} platform objects in {len(set(ns.values()))} namespaces, "
        f"{children} objects created from rendered workloads, {solvers} HTTP-01 solver pods"
    )


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("trees", nargs="+", type=Path, help="rendered output folders")
    args = ap.parse_args(argv)
    errors: list[str] = []
    for tree in args.trees:
        if not tree.is_dir():
            errors.append(f"{tree}: not a folder")
            continue
        tree_errors: list[str] = []
        p = load_policies(tree, tree_errors)
        # Problems with the policies themselves are gatekeeper_check.py's to report.
        check_tree(p, errors)
    for e in errors:
        print(f"FAIL {e}", file=sys.stderr)
    print(f"gatekeeper-system: {len(errors)} problems")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
