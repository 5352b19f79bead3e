#!/usr/bin/env python3
"""Evaluate Paved's rendered Gatekeeper policies against Paved's rendered resources.

Usage: gatekeeper_check.py [--bad DIR] TREE...

For every rendered TREE (a fixtures/<case>/expected/ folder) this loads the
ConstraintTemplates and Constraints found anywhere in it, and reviews every
other rendered Kubernetes object the way Gatekeeper's admission webhook would:
`input.review.object` is the object, `input.parameters` the constraint's
`spec.parameters`, and the query is `data.<package>.violation`. The platform's
own output must pass its own policies, so any violation fails. Also failures:
a constraint whose kind no template defines (Gatekeeper would have no CRD for
it), parameters that break the template's openAPIV3Schema, Rego that does not
compile. Gatekeeper's own objects are not reviewed; `data.inventory` holds the
tree's objects, as a synced cluster cache would.

With --bad DIR, each DIR/*.yaml is a hand-made resource that must be rejected.
It names the constraint kind that must fire in a comment line
`# expect: <ConstraintKind>`; the check fails unless, in at least one tree
holding a constraint of that kind, that constraint matches the resource and
reports a violation. This proves the policies are not vacuous.

Rego is evaluated with regopy (rego-cpp), which implements Rego v1 only. A v0
module can parse there with a different meaning (v0's `violation[{"msg": m}] {`
reads as a v1 object rule), so v0 code is rejected up front unless it opts in
to v1 with `import rego.v1`, which OPA and Gatekeeper honour in v0 modules too.

Exit status: 0 all good, 1 any failure, 2 usage error.
"""

from __future__ import annotations

import argparse
import fnmatch
import json
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path

import jsonschema
import regopy
import yaml

from rendered import Doc, load_tree, load_yaml_docs


# --- templates and constraints -------------------------------------------


class CheckError(Exception):
    """A problem with the rendered policies themselves (not a violation)."""


@dataclass
class Template:
    doc: Doc
    constraint_kind: str
    package: str
    modules: list[tuple[str, str]]  # (module name, source): libs first, then the main module
    schema: dict | None  # openAPIV3Schema of spec.parameters
    interpreter: regopy.Interpreter | None = field(default=None, repr=False)


PACKAGE_RE = re.compile(r"^\s*package\s+([A-Za-z_][\w.]*)", re.MULTILINE)
REGO_V1_IMPORT_RE = re.compile(r"^\s*import\s+rego\.v1\b", re.MULTILINE)


def parse_template(doc: Doc) -> Template:
    spec = doc.obj.get("spec") or {}
    kind = (((spec.get("crd") or {}).get("spec") or {}).get("names") or {}).get("kind")
    if not kind:
        raise CheckError(f"{doc.label()}: no spec.crd.spec.names.kind")
    targets = spec.get("targets") or []
    if len(targets) != 1:
        # Gatekeeper accepts exactly one target (admission.k8s.gatekeeper.sh).
        raise CheckError(f"{doc.label()}: expected exactly one spec.targets entry, found {len(targets)}")
    target = targets[0]

    rego_code = [c for c in target.get("code") or [] if c.get("engine") == "Rego"]
    if rego_code:
        source = rego_code[0].get("source") or {}
        rego, libs, version = source.get("rego"), source.get("libs") or [], source.get("version", "v0")
        origin = "spec.targets[0].code[engine=Rego].source"
    elif target.get("rego"):
        # The legacy field is always parsed as v0 by Gatekeeper.
        rego, libs, version = target["rego"], target.get("libs") or [], "v0"
        origin = "spec.targets[0]"
    else:
        raise CheckError(f"{doc.label()}: no Rego code (only CEL templates? this check needs Rego)")

    if not isinstance(rego, str) or not rego.strip():
        raise CheckError(f"{doc.label()}: {origin}.rego is empty")
    for name, src in [("rego", rego)] + [(f"libs[{i}]", lib) for i, lib in enumerate(libs)]:
        if version != "v1" and not REGO_V1_IMPORT_RE.search(src):
            raise CheckError(
                f"{doc.label()}: {origin}.{name} is Rego v0 (version: {version!r}, no `import rego.v1`); "
                "regopy evaluates v1 only and may silently misread v0. "
                "Write it in v1 under code[].source with version: v1."
            )

    match = PACKAGE_RE.search(rego)
    if not match:
        raise CheckError(f"{doc.label()}: no `package` line in {origin}.rego")
    modules = [(f"{doc.name}.lib{i}", lib) for i, lib in enumerate(libs)] + [(doc.name, rego)]

    validation = ((spec.get("crd") or {}).get("spec") or {}).get("validation") or {}
    return Template(doc, kind, match.group(1), modules, validation.get("openAPIV3Schema"))


def interpreter_for(template: Template, inventory: dict) -> regopy.Interpreter:
    if template.interpreter is None:
        rego = regopy.Interpreter()
        # Referential policies read Gatekeeper's synced cache; give them
        # everything rendered alongside, as a synced cluster would have it.
        rego.add_data({"inventory": inventory})
        for name, source in template.modules:
            try:
                rego.add_module(name, source)
            except regopy.RegoError as e:
                raise CheckError(f"{template.doc.label()}: Rego does not compile:\n{e}") from None
        template.interpreter = rego
    return template.interpreter


def build_inventory(docs: list[Doc]) -> dict:
    """Gatekeeper's data.inventory layout: cluster[gv][kind][name], namespace[ns][gv][kind][name]."""
    inv: dict = {"cluster": {}, "namespace": {}}
    for d in docs:
        api, kind, name = d.obj.get("apiVersion", ""), d.kind, d.name
        if d.namespace:
            inv["namespace"].setdefault(d.namespace, {}).setdefault(api, {}).setdefault(kind, {})[name] = d.obj
        else:
            inv["cluster"].setdefault(api, {}).setdefault(kind, {})[name] = d.obj
    return inv


# --- Gatekeeper's match semantics ----------------------------------------


def _glob(pattern: str, value: str) -> bool:
    # Gatekeeper allows a single leading or trailing `*` in namespace/name matchers.
    return fnmatch.fnmatchcase(value, pattern) if "*" in pattern else value == pattern


def _selector_matches(selector: dict, labels: dict) -> bool:
    for k, v in (selector.get("matchLabels") or {}).items():
        if labels.get(k) != v:
            return False
    for expr in selector.get("matchExpressions") or []:
        key, op, values = expr.get("key"), expr.get("operator"), expr.get("values") or []
        if op == "In" and labels.get(key) not in values:
            return False
        if op == "NotIn" and key in labels and labels[key] in values:
            return False
        if op == "Exists" and key not in labels:
            return False
        if op == "DoesNotExist" and key in labels:
            return False
    return True


def matches(constraint: Doc, d: Doc, namespaces: dict[str, dict]) -> bool:
    """Does the constraint's spec.match select this object?"""
    match = (constraint.obj.get("spec") or {}).get("match") or {}
    group, _ = d.group_version
    meta = d.obj.get("metadata") or {}

    kinds = match.get("kinds")
    if kinds:
        if not any(
            (group in (k.get("apiGroups") or []) or "*" in (k.get("apiGroups") or []))
            and (d.kind in (k.get("kinds") or []) or "*" in (k.get("kinds") or []))
            for k in kinds
        ):
            return False

    scope = match.get("scope", "*")
    if scope == "Cluster" and d.namespace or scope == "Namespaced" and not d.namespace:
        return False

    # For a Namespace object, Gatekeeper matches namespace rules on its own name.
    ns = d.name if (group, d.kind) == ("", "Namespace") else d.namespace
    if match.get("namespaces") and not (ns and any(_glob(p, ns) for p in match["namespaces"])):
        return False
    if ns and any(_glob(p, ns) for p in match.get("excludedNamespaces") or []):
        return False
    if match.get("name") and not _glob(match["name"], d.name):
        return False
    if match.get("labelSelector") and not _selector_matches(match["labelSelector"], meta.get("labels") or {}):
        return False
    if match.get("namespaceSelector") and ns:
        ns_obj = namespaces.get(ns)
        # A namespace not rendered here is assumed to match: reviewing too
        # much is safer than silently reviewing nothing.
        if ns_obj is not None:
            labels = (ns_obj.get("metadata") or {}).get("labels") or {}
            if not _selector_matches(match["namespaceSelector"], labels):
                return False
    return True


# --- evaluation -----------------------------------------------------------


def review(template: Template, constraint: Doc, d: Doc, inventory: dict) -> list:
    """The violations `constraint` reports for object `d` (after matching)."""
    rego = interpreter_for(template, inventory)
    group, version = d.group_version
    rego.set_input(
        {
            "review": {
                "kind": {"group": group, "version": version, "kind": d.kind},
                "name": d.name,
                "namespace": d.namespace or "",
                "operation": "CREATE",
                "userInfo": {"username": "paved-conformance"},
                "object": d.obj,
            },
            "parameters": (constraint.obj.get("spec") or {}).get("parameters") or {},
        }
    )
    out = rego.query(f"data.{template.package}.violation")
    if not out.ok():
        raise CheckError(f"{template.doc.label()}: evaluation error on {d.label()}:\n{out}")
    if str(out) == "undefined" or not out.results or not out.results[0].expressions:
        raise CheckError(f"{template.doc.label()}: data.{template.package}.violation is not defined")
    result = out.results[0].expressions[0]
    if not isinstance(result, list):
        # A set comes back as a JSON array; anything else means `violation`
        # was not written as `violation contains ... if { ... }`.
        raise CheckError(
            f"{template.doc.label()}: data.{template.package}.violation is not a set "
            f"(got {type(result).__name__}); is this v0 syntax?"
        )
    return result


@dataclass
class Policies:
    tree: Path
    docs: list[Doc]
    templates: dict[str, Template]  # by constraint kind
    constraints: list[Doc]
    inventory: dict
    namespaces: dict[str, dict]


def is_gatekeeper_object(d: Doc) -> bool:
    return d.group_version[0].endswith("gatekeeper.sh")


def load_policies(tree: Path, errors: list[str]) -> Policies:
    docs = load_tree(tree)
    templates: dict[str, Template] = {}
    for d in docs:
        if d.kind == "ConstraintTemplate" and d.group_version[0] == "templates.gatekeeper.sh":
            try:
                t = parse_template(d)
            except CheckError as e:
                errors.append(str(e))
                continue
            if t.constraint_kind in templates:
                errors.append(f"{d.label()}: a second template for kind {t.constraint_kind}")
            templates[t.constraint_kind] = t

    constraints = [d for d in docs if d.group_version[0] == "constraints.gatekeeper.sh"]
    for c in constraints:
        t = templates.get(c.kind)
        if t is None:
            # Gatekeeper would have no CRD for it: the constraint cannot be applied.
            errors.append(f"{c.label()}: no ConstraintTemplate defines kind {c.kind}")
            continue
        params = (c.obj.get("spec") or {}).get("parameters")
        if t.schema and params is not None:
            for err in jsonschema.Draft4Validator(t.schema).iter_errors(params):
                path = "/".join(str(p) for p in err.absolute_path) or "<root>"
                errors.append(f"{c.label()}: spec.parameters/{path}: {err.message}")
    for kind, t in sorted(templates.items()):
        if not any(c.kind == kind for c in constraints):
            print(f"note: {t.doc.label()}: no constraint of kind {kind}; its policy is not exercised")

    namespaces = {d.name: d.obj for d in docs if d.group_version == ("", "v1") and d.kind == "Namespace"}
    return Policies(tree, docs, templates, constraints, build_inventory(docs), namespaces)


def check_tree(p: Policies, errors: list[str]) -> None:
    reviewed = violations = 0
    for c in p.constraints:
        t = p.templates.get(c.kind)
        if t is None:
            continue
        for d in p.docs:
            # Policies target workloads, not Gatekeeper's own configuration.
            if is_gatekeeper_object(d) or not matches(c, d, p.namespaces):
                continue
            reviewed += 1
            try:
                found = review(t, c, d, p.inventory)
            except CheckError as e:
                errors.append(str(e))
                break  # the same template error would repeat for every object
            for v in found:
                violations += 1
                msg = v.get("msg", v) if isinstance(v, dict) else v
                errors.append(f"{d.label()}: violates {c.kind}/{c.name}: {msg}")
    print(
        f"gatekeeper: {p.tree}: {len(p.templates)} templates, {len(p.constraints)} constraints, "
        f"{reviewed} reviews, {violations} violations"
    )


EXPECT_RE = re.compile(r"^#\s*expect:\s*(.+?)\s*$", re.MULTILINE)


def check_bad(bad_dir: Path, trees: list[Policies], errors: list[str]) -> None:
    files = sorted(bad_dir.glob("*.yaml"))
    for path in files:
        expected = [k.strip() for m in EXPECT_RE.findall(path.read_text(encoding="utf-8")) for k in m.split(",")]
        if not expected:
            errors.append(f"{path}: no `# expect: <ConstraintKind>` line")
            continue
        objs = [Doc(path, i, o, (o.get("metadata") or {}).get("namespace")) for i, o in load_yaml_docs(path)]
        if not objs:
            errors.append(f"{path}: no YAML document")
            continue
        for kind in expected:
            for d in objs:
                fired_in, present_in = [], []
                for p in trees:
                    constraints = [c for c in p.constraints if c.kind == kind and kind in p.templates]
                    if constraints:
                        present_in.append(str(p.tree))
                    for c in constraints:
                        if not matches(c, d, p.namespaces):
                            continue
                        try:
                            if review(p.templates[kind], c, d, p.inventory):
                                fired_in.append(f"{p.tree} ({c.name})")
                        except CheckError as e:
                            errors.append(str(e))
                if not present_in:
                    errors.append(f"{d.label()}: expects {kind}, but no rendered tree has a constraint of that kind")
                elif not fired_in:
                    errors.append(
                        f"{d.label()}: expected {kind} to reject it, but no constraint of that kind "
                        f"matched and reported a violation (trees with {kind}: {', '.join(present_in)})"
                    )
                else:
                    print(f"ok: {d.label()} rejected by {kind} in {', '.join(fired_in)}")
    print(f"gatekeeper: {len(files)} hand-made bad resources checked from {bad_dir}")


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--bad", type=Path, help="folder of resources that must be rejected")
    ap.add_argument("trees", nargs="+", type=Path, help="rendered output folders")
    args = ap.parse_args(argv)

    errors: list[str] = []
    policies = []
    for tree in args.trees:
        if not tree.is_dir():
            errors.append(f"{tree}: not a folder")
            continue
        p = load_policies(tree, errors)
        check_tree(p, errors)
        policies.append(p)
    if args.bad is not None:
        if args.bad.is_dir():
            check_bad(args.bad, policies, errors)
        else:
            print(f"note: {args.bad} does not exist; no negative cases checked")

    for e in errors:
        print(f"FAIL {e}", file=sys.stderr)
    print(f"gatekeeper: {len(errors)} problems")
    return 1 if errors else 0


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv[1:]))
    except (yaml.YAMLError, json.JSONDecodeError) as e:
        print(f"FAIL cannot parse input: {e}", file=sys.stderr)
        sys.exit(1)
