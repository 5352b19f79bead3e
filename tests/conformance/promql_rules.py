#!/usr/bin/env python3
"""Turn every PromQL expression in rendered trees into Prometheus rule files.

Usage: promql_rules.py OUTDIR [TREE...]

promtool (2.42, from Debian bookworm) has no "parse this expression" command,
but `promtool check rules` parses every `expr` of a rules file. So this writes:

  * one rules file per PrometheusRule document, holding its spec.groups as is;
  * one rules file per Grafana dashboard (a ConfigMap's `*.json` data key, or a
    GrafanaDashboard's spec.json), with each panel target's `expr` wrapped as a
    recording rule `paved:check:expr`, one group per expression so promtool's
    error message names the dashboard, panel and refId;
  * one rules file per Argo Rollouts AnalysisTemplate, each Prometheus
    metric's `query` wrapped the same way, its `{{args.NAME}}` placeholders
    replaced by a value first (Argo Rollouts substitutes them before the
    query reaches Prometheus).

Files are named after their source, so promtool's errors point back to it.
Exit status: 0 files written, 3 no PromQL found (nothing to check yet),
1 a source could not be read (bad JSON, no groups).
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import yaml

from rendered import Doc, load_tree

RECORD = "paved:check:expr"

# Grafana replaces these before the query reaches Prometheus. Durations become
# 5m and the *_s / *_ms variants (plain numbers) 300, values that parse
# wherever Grafana allows the variable.
_VAR_RE = re.compile(r"\$\{(\w+)(?::[^}]*)?\}|\$(\w+)|\[\[(\w+)(?::[^\]]*)?\]\]")


def substitute_grafana_variables(expr: str) -> str:
    """Replace dashboard variables with values of the type their position needs."""

    def repl(m: re.Match) -> str:
        name = m.group(1) or m.group(2) or m.group(3)
        if name.startswith("__"):
            return "300" if name.endswith(("_s", "_ms")) else "5m"
        # A user variable inside a range selector, subquery or after `offset`
        # stands for a duration; anywhere else (label values, metric names)
        # an identifier parses.
        before = expr[: m.start()].rstrip()
        if before.endswith(("[", ":")) or re.search(r"\boffset$", before):
            return "5m"
        return "paved_var"

    return _VAR_RE.sub(repl, expr)


def _panels(container: dict):
    """All panels, including those nested in rows (new and legacy layouts)."""
    for panel in container.get("panels") or []:
        if isinstance(panel, dict):
            yield panel
            yield from _panels(panel)  # collapsed rows keep their panels inside
    for row in container.get("rows") or []:
        if isinstance(row, dict):
            yield from _panels(row)


def _datasource_type(ds) -> str | None:
    return ds.get("type") if isinstance(ds, dict) else None


def dashboard_groups(dashboard: dict, source: str) -> list[dict]:
    groups = []
    title = dashboard.get("title") or source
    for panel in _panels(dashboard):
        panel_type = _datasource_type(panel.get("datasource"))
        for target in panel.get("targets") or []:
            expr = target.get("expr") if isinstance(target, dict) else None
            if not isinstance(expr, str) or not expr.strip():
                continue
            # Loki and other sources also call their query `expr`; only
            # Prometheus queries are PromQL. An unknown type counts as Prometheus.
            ds_type = _datasource_type(target.get("datasource")) or panel_type
            if ds_type not in (None, "prometheus"):
                continue
            name = f'{title} / panel "{panel.get("title", panel.get("id", "?"))}" / {target.get("refId", "?")}'
            groups.append(
                {
                    "name": f"{name} #{len(groups) + 1}",
                    # The label keeps promtool's duplicate-rule lint quiet:
                    # every wrapper records the same metric name.
                    "rules": [
                        {
                            "record": RECORD,
                            "expr": substitute_grafana_variables(expr),
                            "labels": {"paved_check": str(len(groups) + 1)},
                        }
                    ],
                }
            )
    return groups


_ARG_RE = re.compile(r"\{\{\s*args\.([-\w]+)\s*\}\}")


def analysis_groups(d: Doc) -> list[dict]:
    """One group per Prometheus metric of an AnalysisTemplate, args substituted."""
    groups = []
    for metric in (d.obj.get("spec") or {}).get("metrics") or []:
        query = ((metric.get("provider") or {}).get("prometheus") or {}).get("query")
        if not isinstance(query, str):
            continue
        groups.append(
            {
                "name": f"{d.label()} / metric {metric.get('name', '?')} #{len(groups) + 1}",
                "rules": [
                    {
                        "record": RECORD,
                        # A pod-template hash and most arguments are short
                        # alphanumeric strings: one stands for any.
                        "expr": _ARG_RE.sub("5d8c7f9b6", query),
                        "labels": {"paved_check": str(len(groups) + 1)},
                    }
                ],
            }
        )
    return groups


def dashboards_in(d: Doc) -> list[tuple[str, str]]:
    """(label, JSON text) of each Grafana dashboard carried by this object."""
    if d.group_version == ("", "v1") and d.kind == "ConfigMap":
        data = d.obj.get("data") or {}
        return [(f"{d.where} data.{k}", v) for k, v in data.items() if k.endswith(".json")]
    if d.group_version[0] == "grafana.integreatly.org" and d.kind == "GrafanaDashboard":
        text = (d.obj.get("spec") or {}).get("json")
        return [(f"{d.where} spec.json", text)] if text else []
    return []


def _file_name(d: Doc, tree: Path, suffix: str) -> str:
    # fixtures/<case>/expected/a/b.yaml, document 2 -> <case>--a__b.yaml--2.rules.yaml
    rel = str(d.path.relative_to(tree)).replace("/", "__")
    return f"{tree.resolve().parent.name}--{rel}--{d.index}{suffix}.rules.yaml"


def main(argv: list[str]) -> int:
    if len(argv) < 1:
        print(__doc__, file=sys.stderr)
        return 2
    out = Path(argv[0])
    out.mkdir(parents=True, exist_ok=True)
    errors = rule_files = exprs = 0

    def write(name: str, groups: list[dict]) -> None:
        nonlocal rule_files
        (out / name).write_text(yaml.safe_dump({"groups": groups}, sort_keys=False, width=1 << 20))
        rule_files += 1

    for tree in map(Path, argv[1:]):
        for d in load_tree(tree):
            if d.group_version[0] == "monitoring.coreos.com" and d.kind == "PrometheusRule":
                groups = (d.obj.get("spec") or {}).get("groups")
                if not groups:
                    print(f"FAIL {d.label()}: PrometheusRule without spec.groups", file=sys.stderr)
                    errors += 1
                    continue
                exprs += sum(len(g.get("rules") or []) for g in groups)
                write(_file_name(d, tree, ""), groups)
            if d.group_version[0] == "argoproj.io" and d.kind == "AnalysisTemplate":
                groups = analysis_groups(d)
                if not groups:
                    print(f"FAIL {d.label()}: AnalysisTemplate without a Prometheus query", file=sys.stderr)
                    errors += 1
                    continue
                exprs += len(groups)
                write(_file_name(d, tree, "-analysis"), groups)
            for i, (label, text) in enumerate(dashboards_in(d)):
                try:
                    dashboard = json.loads(text)
                except (TypeError, json.JSONDecodeError) as e:
                    print(f"FAIL {label}: not valid dashboard JSON: {e}", file=sys.stderr)
                    errors += 1
                    continue
                groups = dashboard_groups(dashboard, label)
                if groups:
                    exprs += len(groups)
                    write(_file_name(d, tree, f"-dashboard{i}"), groups)

    print(f"promql: {exprs} expressions in {rule_files} rule files under {out}")
    if errors:
        return 1
    return 0 if rule_files else 3


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
