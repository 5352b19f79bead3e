"""The rendered NetworkPolicies, as a system: does the cluster's connectivity
map equal the dependency graph?

For every golden tree (fixtures/<case>/expected) and every environment in it,
this builds the cluster a platform team would have: the rendered Namespaces
and NetworkPolicies, one Pod per rendered workload (its namespace and
pod-template labels), and the platform's own pods in the namespaces the
config names (cluster DNS and a bystander next to it, the ingress
controller, Prometheus, and a pod in an unrelated namespace), plus a
cert-manager HTTP-01 solver pod next to each Ingress. The
network-config-analyzer (`nca --connectivity`) computes which pod may reach
which pod or address on which port; that map is compared with what the
inputs declare (fixtures/<case>/input):

- DNS: every workload to the DNS pods on 53/UDP and 53/TCP;
- `dependsOn`: to each port of each service it depends on;
- ingress: the ingress controller to the first port of a service with `ingress`;
- scraping: Prometheus to the metrics port (or first port) of a `service`;
- tracing: with paved.yaml `observability.tracing`, every workload to the
  collector's pods (`collector.namespace` and `podLabels`; a bystander pod
  stands next to them) on the OTLP port: the endpoint's, else 4317 for gRPC
  and 4318 for HTTP;
- `spec.egress`: to each declared CIDR, on its ports and protocol;
- resources: to the networks paved.yaml `networkPolicy.resources` gives their type;
- cert-manager: the ingress controller to the HTTP-01 solver pod (port 8089)
  cert-manager starts in the namespace of each Ingress (none when paved.yaml
  sets `ingress.http01SolverImage: ""`: the issuer uses DNS-01);
- in-cluster backends: with paved.yaml `crossplane.compositions: reference`,
  each XR's backend runs as pods in the service's namespace; the check adds a
  pod with the labels the tree's reference Composition gives them, and that
  Composition's own NetworkPolicy (both read from its Go template), and
  expects the service to reach its backends on the backend's port.

Every expected edge must be allowed and nothing else that starts or ends at a
service's pod. Traffic among the platform's own pods is not Paved's to judge.

Runs in the nca venv (tests/conformance/nca/requirements.txt); usage:
    python connectivity.py NCA_BINARY TREE...
"""

from __future__ import annotations

import ipaddress
import json
import re
import subprocess
import sys
import tempfile
from pathlib import Path

import yaml

# The built-in platform config's values for what this check reads
# (src/paved.default.yaml and the defaults in src/model.rs).
DEFAULT_DNS = {"namespace": "kube-system", "podLabels": {"k8s-app": "kube-dns"}}
DEFAULT_CONTROLLER_NS = "ingress-nginx"
DEFAULT_PROMETHEUS_NS = "monitoring"
DEFAULT_RESOURCE_PORTS = {"postgresql": 5432, "redis": 6379, "bucket": 443}
DEFAULT_COLLECTOR_LABELS = {"app.kubernetes.io/name": "opentelemetry-collector"}
OTLP_PORTS = {"grpc": 4317, "http/protobuf": 4318}

ALL = "all"


def collapse(nets: list) -> list:
    """Networks merged, IPv4 then IPv6 (collapse_addresses takes one family)."""
    out = []
    for version in (4, 6):
        out.extend(ipaddress.collapse_addresses([n for n in nets if n.version == version]))
    return out


def load_all(path: Path) -> list[dict]:
    with path.open(encoding="utf-8") as fh:
        return [d for d in yaml.safe_load_all(fh) if isinstance(d, dict)]


def platform_config(case: Path) -> dict:
    p = case / "input" / "paved.yaml"
    return (load_all(p)[0].get("spec") or {}) if p.exists() else {}


def dns_config(spec: dict) -> dict:
    np = spec.get("networkPolicy") or {}
    dns = dict(DEFAULT_DNS)
    if "dnsNamespace" in np:
        dns["namespace"] = np["dnsNamespace"]
    dns.update(np.get("dns") or {})
    return dns


def resource_networks(spec: dict, rtype: str) -> tuple[list[str], list[int]]:
    np = spec.get("networkPolicy") or {}
    allow = (np.get("resources") or {}).get(rtype)
    if allow is None:
        # Built-in defaults: a bucket has no network until the platform names one.
        cidrs = [] if rtype == "bucket" else ["10.0.0.0/8"]
        return cidrs, [DEFAULT_RESOURCE_PORTS[rtype]]
    return list(allow.get("cidrs") or []), list(allow.get("ports") or [])


def tracing_collector(spec: dict) -> tuple[str, dict, int] | None:
    """The collector's namespace, pod labels and OTLP port, with tracing."""
    tracing = (spec.get("observability") or {}).get("tracing")
    if not tracing:
        return None
    collector = tracing["collector"]
    host = tracing["endpoint"].split("://", 1)[1].rstrip("/")
    if ":" in host:
        port = int(host.rsplit(":", 1)[1])
    else:
        port = OTLP_PORTS[tracing.get("protocol", "grpc")]
    return collector["namespace"], collector.get("podLabels", DEFAULT_COLLECTOR_LABELS), port


ACTION_LINE = re.compile(r"^\s*\{\{-?.*\}\}\s*$")
ACTION = re.compile(r"\{\{.*?\}\}")
SELECTOR = re.compile(r"\$selector := dict (.*?)\s*\}\}")
TOKEN = re.compile(r'"([^"]*)"|(\$xr\.metadata\.name)')


class Backend:
    """A reference Composition's backend: its pods' labels and its
    NetworkPolicy, read from the Go template (no Go engine here)."""

    def __init__(self, comp: dict):
        self.kind = comp["spec"]["compositeTypeRef"]["kind"]
        steps = comp["spec"]["pipeline"]
        self.template = "\n".join(s["input"]["inline"]["template"] for s in steps)
        m = SELECTOR.search(self.template)
        if not m:
            raise SystemExit(f"Composition for {self.kind}: no `$selector := dict ...` for its backend pods")
        self.selector_tokens = [t[0] or None for t in TOKEN.findall(m.group(1))]
        if len(self.selector_tokens) % 2 or not self.selector_tokens:
            raise SystemExit(f"Composition for {self.kind}: unreadable backend selector {m.group(1)!r}")

    def selector(self, xr: str) -> dict:
        t = [xr if v is None else v for v in self.selector_tokens]
        return dict(zip(t[0::2], t[1::2]))

    def policy(self, xr: str, ns: str) -> dict:
        """The composed NetworkPolicy that selects the backend's pods."""
        for text in re.split(r"^---\s*$", self.template, flags=re.M):
            if "kind: NetworkPolicy" not in text or "toJson $selector" not in text:
                continue
            lines = [l for l in text.splitlines() if not ACTION_LINE.match(l)]
            body = "\n".join(lines)
            body = body.replace("{{ toJson $selector }}", json.dumps(self.selector(xr)))
            body = body.replace("{{ $ns | quote }}", json.dumps(ns))
            body = ACTION.sub('"x"', body)
            doc = yaml.safe_load(body)
            doc["metadata"]["name"] = f"{xr}-backend"
            doc["metadata"].pop("annotations", None)
            doc["metadata"]["labels"] = {}
            return doc
        raise SystemExit(f"Composition for {self.kind}: no NetworkPolicy selecting the backend's pods")

    def ports(self, xr: str, ns: str) -> list[tuple[str, int]]:
        out = []
        for rule in self.policy(xr, ns)["spec"].get("ingress") or []:
            out.extend((p.get("protocol", "TCP"), int(p["port"])) for p in rule.get("ports") or [])
        if not out:
            raise SystemExit(f"Composition for {self.kind}: its backend policy opens no port")
        return out


def reference_backends(tree: Path) -> dict[str, Backend]:
    """XR kind -> Backend, for the reference Compositions a tree renders."""
    out = {}
    for f in sorted((tree / "platform" / "crossplane").glob("composition-*.yaml")):
        for d in load_all(f):
            if d.get("kind") == "Composition":
                b = Backend(d)
                out[b.kind] = b
    return out


def input_specs(case: Path) -> dict[str, dict]:
    out = {}
    for p in sorted((case / "input").rglob("platform.yaml")):
        doc = load_all(p)[0]
        out[doc["metadata"]["name"]] = doc
    return out


def pod(name: str, namespace: str, labels: dict) -> dict:
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "namespace": namespace, "labels": dict(labels)},
        "spec": {"containers": [{"name": "c", "image": "example.invalid/c:1"}]},
    }


def namespace(name: str) -> dict:
    # Kubernetes labels every namespace with its own name.
    labels = {"kubernetes.io/metadata.name": name}
    return {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name, "labels": labels}}


def ports_of(spec: dict) -> list[tuple[str, int]]:
    return [(p.get("protocol", "TCP"), int(p["port"])) for p in spec["spec"].get("ports") or []]


def scrape_port(spec: dict) -> tuple[str, int]:
    ports = spec["spec"]["ports"]
    chosen = next((p for p in ports if p["name"] == "metrics"), ports[0])
    return chosen.get("protocol", "TCP"), int(chosen["port"])


class Env:
    """One environment of one golden tree: its objects and expectations."""

    def __init__(self, case: Path, env_dir: Path):
        self.case, self.env = case, env_dir.name
        self.platform = platform_config(case)
        self.specs = input_specs(case)
        self.docs: list[dict] = []
        self.workloads: dict[str, str] = {}  # service -> "ns/pod"
        self.paved_namespaces: set[str] = set()
        self.solvers: list[str] = []  # cert-manager HTTP-01 solver pods, "ns/pod"
        # service -> [(backend pod "ns/pod", [(proto, port)])], with reference Compositions
        self.backends: dict[str, list] = {}
        backends = reference_backends(env_dir.parent)
        self.reference = bool(backends)
        for f in sorted(env_dir.glob("*/*.yaml")):
            if f.parent.name == "argocd" or f.name == "kustomization.yaml":
                continue
            for d in load_all(f):
                kind = d.get("kind")
                meta = d.get("metadata") or {}
                if kind == "NetworkPolicy":
                    self.docs.append(d)
                elif kind == "Namespace":
                    self.paved_namespaces.add(meta["name"])
                    self.docs.append(namespace(meta["name"]))
                elif kind == "Ingress" and (self.platform.get("ingress") or {}).get("http01SolverImage", "x"):
                    # cert-manager starts its HTTP-01 solver next to the Ingress.
                    ns = meta["namespace"]
                    self.docs.append(pod("acme-solver", ns, {"acme.cert-manager.io/http01-solver": "true"}))
                    self.solvers.append(f"{ns}/acme-solver")
                elif "connectionSecret" in (d.get("spec") or {}) and d.get("kind") in backends:
                    # An XR whose backend a reference Composition runs here.
                    b, ns, xr = backends[d["kind"]], meta["namespace"], meta["name"]
                    self.docs.append(pod(f"{xr}-backend", ns, b.selector(xr)))
                    self.docs.append(b.policy(xr, ns))
                    service = f.parent.name
                    self.backends.setdefault(service, []).append((f"{ns}/{xr}-backend", b.ports(xr, ns)))
                elif kind in ("Deployment", "CronJob"):
                    tmpl = d["spec"]["template"] if kind == "Deployment" else d["spec"]["jobTemplate"]["spec"]["template"]
                    labels = tmpl["metadata"]["labels"]
                    service = labels["app.kubernetes.io/name"]
                    self.docs.append(pod(service, meta["namespace"], labels))
                    self.workloads[service] = f"{meta['namespace']}/{service}"
        dns = dns_config(self.platform)
        self.dns = f"{dns['namespace']}/dns"
        self.controller_ns = (self.platform.get("ingress") or {}).get("controllerNamespace", DEFAULT_CONTROLLER_NS)
        self.prometheus_ns = (self.platform.get("observability") or {}).get("prometheusNamespace", DEFAULT_PROMETHEUS_NS)
        extra = {
            self.dns: dns["podLabels"],
            f"{dns['namespace']}/bystander": {"app": "bystander"},
            f"{self.controller_ns}/controller": {"app.kubernetes.io/name": "ingress-nginx"},
            f"{self.prometheus_ns}/prometheus": {"app.kubernetes.io/name": "prometheus"},
            "outsider/outsider": {"app.kubernetes.io/name": "outsider"},
        }
        self.collector = None
        tracing = tracing_collector(self.platform)
        if tracing:
            ns, labels, self.otlp_port = tracing
            self.collector = f"{ns}/otel-collector"
            extra[self.collector] = labels
            extra[f"{ns}/collector-bystander"] = {"app": "bystander"}
        for ns in sorted({k.split("/")[0] for k in extra} - self.paved_namespaces):
            self.docs.append(namespace(ns))
        for key, labels in extra.items():
            ns, name = key.split("/")
            self.docs.append(pod(name, ns, labels))

    def expected(self) -> tuple[set, dict]:
        """Pod edges {(src, dst, proto, port)} and address edges
        {(src, proto, port): [networks]} the inputs call for."""
        pods: set = set()
        nets: dict = {}
        for service, src in self.workloads.items():
            spec = self.specs[service]
            for proto in ("UDP", "TCP"):
                pods.add((src, self.dns, proto, 53))
            if self.collector:
                pods.add((src, self.collector, "TCP", self.otlp_port))
            for dep in spec["spec"].get("dependsOn") or []:
                other = dep.removeprefix("component:")
                if other in self.workloads:
                    for proto, port in ports_of(self.specs[other]):
                        pods.add((src, self.workloads[other], proto, port))
            kind = spec["spec"].get("type", "service")
            if spec["spec"].get("ingress"):
                proto, port = ports_of(spec)[0]
                pods.add((f"{self.controller_ns}/controller", src, proto, port))
            if kind == "service":
                proto, port = scrape_port(spec)
                pods.add((f"{self.prometheus_ns}/prometheus", src, proto, port))
            for e in spec["spec"].get("egress") or []:
                proto = e.get("protocol", "TCP")
                for port in e.get("ports") or [ALL]:
                    nets.setdefault((src, proto, port), []).append(ipaddress.ip_network(e["cidr"]))
            # With reference Compositions, resources are the in-cluster
            # backends below, reached by label; no network is opened.
            for r in [] if self.reference else (spec["spec"].get("resources") or {}).values():
                cidrs, ports = resource_networks(self.platform, r["type"])
                for port in ports if cidrs else []:
                    for c in cidrs:
                        nets.setdefault((src, "TCP", port), []).append(ipaddress.ip_network(c))
            for backend, ports in self.backends.get(service, []):
                for proto, port in ports:
                    pods.add((src, backend, proto, port))
        for solver in self.solvers:
            pods.add((f"{self.controller_ns}/controller", solver, "TCP", 8089))
        return pods, {k: collapse(v) for k, v in nets.items()}


CONN = re.compile(r"\{protocols:(?P<protos>[A-Z, ]+?)(?:,dst_ports:(?P<ports>[0-9,\-]+))?\}")


def parse_connection(text: str) -> list[tuple[str, object]]:
    """`{protocols:TCP, UDP,dst_ports:53}` (possibly several, `;`-separated) or
    `All connections` as (protocol, port) pairs; a port of ALL means every port."""
    text = text.strip()
    if text == "All connections":
        return [(ALL, ALL)]
    out = []
    for part in text.split(";"):
        m = CONN.fullmatch(part.strip())
        if not m:
            raise SystemExit(f"unrecognised nca connection: {text!r}")
        protos = [p.strip() for p in m["protos"].split(",")]
        ports: list = []
        if m["ports"] is None:
            ports = [ALL]
        else:
            for item in m["ports"].split(","):
                lo, _, hi = item.partition("-")
                ports.extend(range(int(lo), int(hi or lo) + 1))
        out.extend((p, port) for p in protos for port in ports)
    return out


def parse_addresses(text: str) -> list | None:
    """`10.40.0.0-10.40.255.255[,…]` as networks, or None for a pod (`ns/name`;
    nca prints addresses as ranges, never with a `/`)."""
    if "/" in text:
        return None
    nets = []
    for item in text.split(","):
        lo, _, hi = item.strip().partition("-")
        nets.extend(ipaddress.summarize_address_range(ipaddress.ip_address(lo), ipaddress.ip_address(hi or lo)))
    return nets


def analyse(nca: str, docs: list[dict]) -> list[tuple[str, str, str]]:
    with tempfile.TemporaryDirectory() as tmp:
        f = Path(tmp) / "cluster.yaml"
        # Namespaces first, then pods, then policies: nca resolves in that order.
        order = {"Namespace": 0, "Pod": 1}
        docs = sorted(docs, key=lambda d: order.get(d["kind"], 2))
        f.write_text(yaml.safe_dump_all(docs, sort_keys=False), encoding="utf-8")
        out = subprocess.run(
            [nca, "--connectivity", str(f), "--resource_list", str(f), "-o", "txt_no_fw_rules", "--print_ipv6"],
            capture_output=True, text=True, check=False,
        )
    if out.returncode not in (0,) or "=>" not in out.stdout:
        raise SystemExit(f"nca failed ({out.returncode}):\n{out.stdout}\n{out.stderr}")
    edges = []
    for line in out.stdout.splitlines():
        if " => " not in line:
            continue
        left, _, conn = line.partition(" : ")
        src, _, dst = left.partition(" => ")
        # Pods are printed as `ns/name[Pod]`.
        edges.append((re.sub(r"\[\w+\]$", "", src.strip()), re.sub(r"\[\w+\]$", "", dst.strip()), conn))
    return edges


def check(nca: str, case: Path, env_dir: Path) -> list[str]:
    e = Env(case, env_dir)
    if not e.workloads:
        return []
    want_pods, want_nets = e.expected()
    paved_pods = set(e.workloads.values()) | set(e.solvers)
    paved_pods |= {b for bs in e.backends.values() for b, _ in bs}
    got_pods: set = set()
    got_nets: dict = {}
    problems = []
    for src, dst, conn in analyse(nca, e.docs):
        dst_nets = parse_addresses(dst)
        src_nets = parse_addresses(src)
        if src not in paved_pods and dst not in paved_pods:
            continue
        if src_nets is not None:
            problems.append(f"{dst} is reachable from addresses {src}: {conn}")
            continue
        for proto, port in parse_connection(conn):
            if dst_nets is not None:
                got_nets.setdefault((src, proto, port), []).extend(dst_nets)
            else:
                got_pods.add((src, dst, proto, port))
    got_nets = {k: collapse(v) for k, v in got_nets.items()}
    for edge in sorted(want_pods - got_pods, key=str):
        problems.append("denied but expected: {} -> {} {}/{}".format(*edge))
    for edge in sorted(got_pods - want_pods, key=str):
        problems.append("allowed but not in the graph: {} -> {} {}/{}".format(*edge))
    for key in sorted(set(want_nets) | set(got_nets), key=str):
        want, got = want_nets.get(key, []), got_nets.get(key, [])
        if want != got:
            src, proto, port = key
            problems.append(
                f"{src} -> addresses on {proto}/{port}: allowed {[str(n) for n in got] or 'none'}, "
                f"expected {[str(n) for n in want] or 'none'}"
            )
    return [f"{env_dir}: {p}" for p in problems]


def main(argv: list[str]) -> int:
    nca, trees = argv[1], [Path(t) for t in argv[2:]]
    problems, envs = [], 0
    for tree in trees:
        case = tree.parent
        for env_dir in sorted(p for p in tree.iterdir() if p.is_dir() and p.name not in ("platform", "catalog")):
            envs += 1
            problems.extend(check(nca, case, env_dir))
    for p in problems:
        print(f"FAIL: {p}")
    print(f"connectivity: {envs} environment(s) analysed, {len(problems)} problem(s)")
    return 1 if problems or envs == 0 else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
