#!/usr/bin/env python3
"""Write `promtool test rules` suites proving the rendered SLO alerts work.

Usage: promtool_tests.py OUTDIR [TREE...]

For every rendered PrometheusRule with an SLO group (`paved.<service>.slo`),
this writes the rule file and a unit-test file for promtool 2.42. The tests
feed synthetic series shaped like the real exposition of an application
instrumented with OpenTelemetry: a request counter with a status label and a
classic duration histogram with the platform's buckets (paved.yaml
`observability.latencyBuckets` of the tree's input, else OpenTelemetry's HTTP
server defaults). Every histogram scenario is written twice, once with `le`
values as an exporter writes them and Prometheus 2 stores them (`le="1"`), and
once as Prometheus 3 normalises them (`le="1.0"`).

What the tests assert, for each objective (availability, latency) and each
burn-rate alert (page and ticket):

  * at 1x the error budget (the sustainable rate) no alert fires;
  * just above each of the alert's burn rates (x 17/16) the alert fires, and
    just below its lowest one (x 15/16) it stays silent;
  * with every request bad, every alert fires.

The error ratio of each scenario is constant over the whole 3-day history, so
both windows of every pair see it. The expected outcome of each alert is
computed here from the burn-rate factors and budget in its own expression,
with exact fractions, using the alert's strict `>`; promtool then checks what
Prometheus computes. The counters are chosen so that every rate is an exact
binary fraction (bad events at p/16 per second, all events at q/16 per second
for a ratio p/q), so "at exactly 1x" means the same number in both places.

Exit status: 0 files written, 3 no SLO rule found (nothing to test yet),
1 a rendered rule could not be understood.
"""

from __future__ import annotations

import re
import sys
from fractions import Fraction
from pathlib import Path

import yaml

from rendered import load_tree

# OpenTelemetry semantic conventions, http.server.request.duration: the
# advisory explicit bucket boundaries, in seconds (also Paved's default).
OTEL_HTTP_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10]

DEFAULT_METRICS = {
    "requests": "http_server_request_duration_seconds_count",
    "duration": "http_server_request_duration_seconds_bucket",
    "statusLabel": "http_response_status_code",
    "serviceLabel": "service_name",
}

STEP = "5m"  # input sample interval: every window (>= 5m) holds >= 2 samples
STEP_SECONDS = 300
HISTORY = 864  # samples after the first: 72h, the longest window (3d)
EVAL = "72h"

# `service:http_errors:ratio_rate1h{a="b", c="d"} > (14.4 * 0.001)`
_PAIR_RE = re.compile(
    r"(?P<record>[\w:]+:ratio_rate)(?P<window>\w+)\{(?P<sel>[^}]*)\}\s*>\s*\(\s*(?P<f>[\d.]+)\s*\*\s*(?P<b>[\d.eE+-]+)\s*\)"
)
_SEL_RE = re.compile(r'(\w+)="((?:[^"\\]|\\.)*)"')
_WITHIN_RE = re.compile(r"within (\d+)ms")


def le_prometheus2(v: float) -> str:
    """An exporter's `le` text (Go's strconv 'g' style, no forced `.0`)."""
    s = repr(float(v))
    return s[:-2] if s.endswith(".0") else s


def le_prometheus3(v: float) -> str:
    """Prometheus 3 normalises classic-histogram `le` to float form."""
    s = le_prometheus2(v)
    return s if any(c in s for c in ".eE") else s + ".0"


def platform_settings(tree: Path) -> tuple[list[float], dict]:
    """(buckets, metric names) from the tree's input paved.yaml, else defaults."""
    cfg = tree.parent / "input" / "paved.yaml"
    obs = {}
    if cfg.is_file():
        doc = yaml.safe_load(cfg.read_text(encoding="utf-8")) or {}
        obs = ((doc.get("spec") or {}).get("observability")) or {}
    buckets = [float(b) for b in obs.get("latencyBuckets") or OTEL_HTTP_BUCKETS]
    metrics = dict(DEFAULT_METRICS, **(obs.get("metrics") or {}))
    return sorted(buckets), metrics


def series(name: str, labels: dict, per_step: Fraction) -> dict:
    inc = float(per_step)
    if Fraction(inc) != per_step:
        raise ValueError(f"increment {per_step} is not exact")
    text = ", ".join(f'{k}="{v}"' for k, v in labels.items())
    return {"series": f"{name}{{{text}}}", "values": f"0+{inc!r}x{HISTORY}"}


def increments(ratio: Fraction) -> tuple[Fraction, Fraction]:
    """Per-step increments (bad, all) with bad/all == ratio, rates p/16, q/16."""
    unit = Fraction(STEP_SECONDS, 16)
    return unit * ratio.numerator, unit * ratio.denominator


class Alert:
    def __init__(self, rule: dict, where: str):
        self.name = rule["alert"]
        self.labels = {str(k): str(v) for k, v in (rule.get("labels") or {}).items()}
        self.annotations = {str(k): str(v) for k, v in (rule.get("annotations") or {}).items()}
        if any("{{" in v for v in self.annotations.values()):
            raise ValueError(f"{where}: alert {self.name} has templated annotations; expected static text")
        self.pairs = []  # [(factor, budget)] per window pair
        self.selector = None
        self.record = None
        matches = list(_PAIR_RE.finditer(rule.get("expr", "")))
        if not matches or len(matches) % 2:
            raise ValueError(f"{where}: cannot read the burn-rate windows of {self.name}")
        for long, short in zip(matches[::2], matches[1::2]):
            if (long["f"], long["b"]) != (short["f"], short["b"]):
                raise ValueError(f"{where}: {self.name}: the two windows of a pair have different thresholds")
            self.pairs.append((Fraction(long["f"]), Fraction(long["b"])))
            self.selector = dict(_SEL_RE.findall(long["sel"]))
            self.record = long["record"]
        budgets = {b for _, b in self.pairs}
        if len(budgets) != 1:
            raise ValueError(f"{where}: {self.name}: more than one budget")
        self.budget = budgets.pop()

    def fires(self, ratio: Fraction) -> bool:
        return any(ratio > f * b for f, b in self.pairs)

    def expected(self) -> dict:
        labels = dict(self.selector)
        labels.update(self.labels)
        return {"exp_labels": labels, "exp_annotations": self.annotations}


def scenarios(alerts: list[Alert]) -> list[tuple[str, Fraction]]:
    budget = alerts[0].budget
    out = [("1x the budget", budget)]
    for a in alerts:
        for f, b in a.pairs:
            out.append((f"{a.labels.get('severity')}: just above {f}x", f * b * Fraction(17, 16)))
        low = min(f for f, _ in a.pairs)
        out.append((f"{a.labels.get('severity')}: just below {low}x", low * budget * Fraction(15, 16)))
    out.append(("every request bad", Fraction(1)))
    seen, unique = set(), []
    for name, r in out:
        if r <= 1 and r not in seen:
            seen.add(r)
            unique.append((name, r))
    return unique


def availability_series(alert: Alert, metrics: dict, ratio: Fraction) -> list[dict]:
    bad, total = increments(ratio)
    base = dict(alert.selector)
    status = metrics["statusLabel"]
    return [
        series(metrics["requests"], dict(base, **{status: "500"}), bad),
        series(metrics["requests"], dict(base, **{status: "200"}), total - bad),
    ]


def latency_series(alert: Alert, metrics: dict, ratio: Fraction, threshold_s: Fraction, buckets, le) -> list[dict]:
    """Good requests fall in the smallest bucket, slow ones just above the threshold."""
    slow, total = increments(ratio)
    good = total - slow
    base = dict(alert.selector, **{metrics["statusLabel"]: "200"})
    out = []
    for b in buckets:
        count = good + (slow if Fraction(b) > threshold_s else 0)
        out.append(series(metrics["duration"], dict(base, le=le(b)), count))
    out.append(series(metrics["duration"], dict(base, le="+Inf"), total))
    return out


def tests_for(rule_doc, metrics, buckets) -> list[dict]:
    groups = (rule_doc.obj.get("spec") or {}).get("groups") or []
    alerts: dict[str, list[Alert]] = {}
    for g in groups:
        if not str(g.get("name", "")).endswith(".slo"):
            continue
        for r in g.get("rules") or []:
            if "alert" in r:
                a = Alert(r, rule_doc.where)
                alerts.setdefault(a.labels.get("slo", a.name), []).append(a)
    tests = []
    for slo, group in alerts.items():
        names = sorted({a.name for a in group})
        if slo == "latency":
            m = _WITHIN_RE.search(group[0].annotations.get("description", ""))
            if not m:
                raise ValueError(f"{rule_doc.where}: no latency threshold in the description of {names[0]}")
            threshold = Fraction(int(m.group(1)), 1000)
            forms = [("Prometheus 2 le", le_prometheus2), ("Prometheus 3 le", le_prometheus3)]
        else:
            forms = [("", None)]
        for scenario, ratio in scenarios(group):
            for form, le in forms:
                if slo == "latency":
                    inputs = latency_series(group[0], metrics, ratio, threshold, buckets, le)
                else:
                    inputs = availability_series(group[0], metrics, ratio)
                checks = []
                for name in names:
                    firing = [a.expected() for a in group if a.name == name and a.fires(ratio)]
                    checks.append({"eval_time": EVAL, "alertname": name, "exp_alerts": firing})
                label = ", ".join(x for x in (f"{rule_doc.where} {slo}", scenario, f"ratio {ratio}", form) if x)
                tests.append({"name": label, "interval": STEP, "input_series": inputs, "alert_rule_test": checks})
    return tests


def main(argv: list[str]) -> int:
    if len(argv) < 1:
        print(__doc__, file=sys.stderr)
        return 2
    out = Path(argv[0])
    out.mkdir(parents=True, exist_ok=True)
    files = cases = errors = 0
    for tree in map(Path, argv[1:]):
        buckets, metrics = platform_settings(tree)
        for d in load_tree(tree):
            if not (d.group_version[0] == "monitoring.coreos.com" and d.kind == "PrometheusRule"):
                continue
            try:
                tests = tests_for(d, metrics, buckets)
            except (ValueError, KeyError, TypeError) as e:
                print(f"FAIL {d.label()}: {e}", file=sys.stderr)
                errors += 1
                continue
            if not tests:
                continue
            stem = f"{tree.resolve().parent.name}--" + str(d.path.relative_to(tree)).replace("/", "__") + f"--{d.index}"
            rules = out / f"{stem}.rules.yaml"
            rules.write_text(yaml.safe_dump({"groups": d.obj["spec"]["groups"]}, sort_keys=False, width=1 << 20))
            suite = {"rule_files": [rules.name], "evaluation_interval": "12h", "tests": tests}
            (out / f"{stem}.test.yaml").write_text(yaml.safe_dump(suite, sort_keys=False, width=1 << 20))
            files += 1
            cases += len(tests)
    print(f"promtool tests: {cases} cases in {files} suites under {out}")
    if errors:
        return 1
    return 0 if files else 3


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
