"""Reading Paved's rendered output trees the way Kubernetes tools read them.

Shared by the conformance scripts. PyYAML is a YAML 1.1 reader, like
sigs.k8s.io/yaml behind kubectl and Argo CD, so an unquoted `no` or `12:30`
reads here exactly as a cluster would read it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import yaml


class _K8sLoader(yaml.SafeLoader):
    """YAML 1.1 like kubectl (sigs.k8s.io/yaml), but timestamps stay strings.

    Kubernetes turns YAML into JSON, so an unquoted 2024-01-01 reaches the
    API server (and Gatekeeper) as a string, not a date object.
    """


_K8sLoader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


@dataclass
class Doc:
    path: Path  # file it came from
    index: int  # 1-based document number in that file
    obj: dict
    namespace: str | None  # metadata.namespace, or the kustomization's default

    @property
    def where(self) -> str:
        return f"{self.path}#{self.index}"

    @property
    def group_version(self) -> tuple[str, str]:
        api = self.obj.get("apiVersion", "")
        return tuple(api.split("/", 1)) if "/" in api else ("", api)

    @property
    def kind(self) -> str:
        return self.obj.get("kind", "")

    @property
    def name(self) -> str:
        return (self.obj.get("metadata") or {}).get("name", "")

    def label(self) -> str:
        return f"{self.kind}/{self.name} ({self.where})"


def load_yaml_docs(path: Path) -> list[tuple[int, object]]:
    with path.open(encoding="utf-8") as fh:
        return [(i, d) for i, d in enumerate(yaml.load_all(fh, Loader=_K8sLoader), 1) if d is not None]


def kustomize_namespace(folder: Path) -> str | None:
    """The `namespace:` a kustomization in `folder` stamps on its resources."""
    for name in ("kustomization.yaml", "kustomization.yml", "Kustomization"):
        k = folder / name
        if k.is_file():
            docs = load_yaml_docs(k)
            if docs and isinstance(docs[0][1], dict):
                return docs[0][1].get("namespace")
    return None


def is_kustomization(obj: dict) -> bool:
    return str(obj.get("apiVersion", "")).startswith("kustomize.config.k8s.io/")


# Kinds that kustomize's namespace transformer leaves alone (cluster-scoped).
CLUSTER_SCOPED = {
    "Namespace",
    "ClusterRole",
    "ClusterRoleBinding",
    "CustomResourceDefinition",
    "StorageClass",
    "PriorityClass",
    "IngressClass",
    "PersistentVolume",
    "ValidatingWebhookConfiguration",
    "MutatingWebhookConfiguration",
    "ConstraintTemplate",
    "CompositeResourceDefinition",
    "Composition",
}


def tree_files(tree: Path) -> list[Path]:
    """The rendered YAML files of `tree` that hold Kubernetes objects.

    catalog/ is left out: it holds Backstage entities, which never reach a cluster.
    """
    return [
        p
        for p in sorted(tree.rglob("*"))
        if p.suffix in (".yaml", ".yml") and p.is_file() and p.relative_to(tree).parts[0] != "catalog"
    ]


def load_tree(tree: Path) -> list[Doc]:
    """Every Kubernetes object rendered in `tree` (kustomizations and catalog/ aside)."""
    docs: list[Doc] = []
    for path in tree_files(tree):
        default_ns = kustomize_namespace(path.parent)
        for index, obj in load_yaml_docs(path):
            if not isinstance(obj, dict) or is_kustomization(obj):
                continue
            meta = obj.get("metadata") or {}
            ns = meta.get("namespace") or (None if obj.get("kind") in CLUSTER_SCOPED else default_ns)
            docs.append(Doc(path, index, obj, ns))
    return docs
