//! Progressive delivery (docs/resources.md, "Rollout"): `spec.rollout`
//! renders an Argo Rollouts `Rollout` in place of the Deployment, retargets
//! the HPA, and an `AnalysisTemplate` built from the service's own SLO
//! queries aborts a release that burns its error budget.

use std::collections::BTreeSet;

use crate::support::fixtures::{render_fixture, render_specs, Docs};
use crate::support::schemas::Schemas;
use serde_json::Value;

const PAVED: &str = "apiVersion: paved.dev/v1
kind: Platform
metadata: {name: t}
spec:
  environments:
    staging: {cluster: in-cluster, domain: a.dev}
";

fn spec(rollout: &str) -> String {
    format!(
        "apiVersion: paved.dev/v1
kind: Application
metadata: {{name: web, owner: team-a, costCenter: cc-1}}
spec:
  image: ghcr.io/acme/web:1.0.0
  ports: [{{name: http, port: 8080}}]
  autoscaling: {{min: 2, max: 5}}
  observability: {{slo: {{availability: 99.9, latencyP99Ms: 250}}}}
{rollout}"
    )
}

fn kind<'a>(docs: &'a Docs, kind: &str) -> Vec<&'a Value> {
    docs.iter()
        .filter(|(_, d)| d["kind"] == kind)
        .map(|(_, d)| d)
        .collect()
}

fn only<'a>(docs: &'a Docs, k: &str) -> &'a Value {
    let all = kind(docs, k);
    assert_eq!(all.len(), 1, "one {k} expected, found {}", all.len());
    all[0]
}

#[test]
fn a_canary_rollout_replaces_the_deployment_and_keeps_its_pod() {
    let plain = render_specs(Some(PAVED), &[("web", &spec(""))]);
    let docs = render_specs(
        Some(PAVED),
        &[(
            "web",
            &spec("  rollout: {strategy: canary, steps: [20, 50, 100], pause: 5m}\n"),
        )],
    );
    assert!(
        kind(&docs, "Deployment").is_empty(),
        "no Deployment for a rollout"
    );
    let deployment = only(&plain, "Deployment");
    let rollout = only(&docs, "Rollout");
    assert_eq!(rollout["apiVersion"], "argoproj.io/v1alpha1");
    // The same hardened pod, labels and selector as the Deployment.
    assert_eq!(rollout["spec"]["template"], deployment["spec"]["template"]);
    assert_eq!(rollout["spec"]["selector"], deployment["spec"]["selector"]);
    assert_eq!(
        rollout["metadata"]["labels"],
        deployment["metadata"]["labels"]
    );
    assert!(
        rollout["spec"].get("replicas").is_none(),
        "the HPA owns the count"
    );
    // The HPA scales the Rollout; the PDB still covers its pods.
    let hpa = only(&docs, "HorizontalPodAutoscaler");
    assert_eq!(hpa["spec"]["scaleTargetRef"]["kind"], "Rollout");
    assert_eq!(
        hpa["spec"]["scaleTargetRef"]["apiVersion"],
        "argoproj.io/v1alpha1"
    );
    assert_eq!(
        hpa["spec"]["scaleTargetRef"]["name"],
        rollout["metadata"]["name"]
    );
    let pdb = only(&docs, "PodDisruptionBudget");
    assert_eq!(pdb["spec"]["selector"], rollout["spec"]["selector"]);
    // setWeight then pause for each step; nothing to wait for after 100%.
    let canary = &rollout["spec"]["strategy"]["canary"];
    let steps: Vec<String> = canary["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| match (s.get("setWeight"), s.get("pause")) {
            (Some(w), None) => format!("w{w}"),
            (None, Some(p)) => format!("p{}", p["duration"].as_str().unwrap()),
            _ => panic!("unexpected step {s}"),
        })
        .collect();
    assert_eq!(steps, ["w20", "p5m", "w50", "p5m", "w100"]);
    // Background analysis from the first step, with the new pods' hash.
    let template = only(&docs, "AnalysisTemplate");
    assert_eq!(
        canary["analysis"]["templates"][0]["templateName"],
        template["metadata"]["name"]
    );
    let args = &canary["analysis"]["args"];
    assert_eq!(args[0]["valueFrom"]["podTemplateHashValue"], "Latest");
    let declared: BTreeSet<&str> = template["spec"]["args"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        declared,
        BTreeSet::from([args[0]["name"].as_str().unwrap()])
    );
    let schemas = Schemas::load();
    for d in [rollout, template, hpa] {
        schemas
            .validate(d)
            .unwrap_or_else(|e| panic!("{} does not validate: {e:#?}", d["kind"]));
    }
}

#[test]
fn the_analysis_holds_the_canary_to_the_slo() {
    let docs = render_specs(
        Some(PAVED),
        &[("web", &spec("  rollout: {strategy: canary}\n"))],
    );
    let template = only(&docs, "AnalysisTemplate");
    let metrics = template["spec"]["metrics"].as_array().unwrap();
    let by_name = |n: &str| {
        metrics
            .iter()
            .find(|m| m["name"] == n)
            .unwrap_or_else(|| panic!("no metric {n} in {metrics:#?}"))
    };
    let errors = by_name("error-ratio");
    // 99.9% availability: a 0.1% budget, failing at the fast-burn page rate (14.4x).
    assert_eq!(
        errors["successCondition"],
        "isNaN(result[0]) || result[0] <= 0.0144"
    );
    let query = errors["provider"]["prometheus"]["query"].as_str().unwrap();
    assert!(
        query.contains("pod=~\"web-{{args.pod-template-hash}}-.*\""),
        "only the new pods: {query}"
    );
    assert!(query.contains("service_name=\"web\""), "{query}");
    let latency = by_name("latency-p99");
    assert_eq!(
        latency["successCondition"],
        "isNaN(result[0]) || result[0] <= 0.25"
    );
    for m in metrics {
        assert_eq!(
            m["provider"]["prometheus"]["address"],
            "http://prometheus-operated.monitoring.svc:9090"
        );
        assert!(
            m["failureLimit"].is_u64() && m["interval"].is_string(),
            "{m}"
        );
    }
}

#[test]
fn blue_green_renders_a_preview_service_and_analyses_after_the_switch() {
    let docs = render_specs(
        Some(PAVED),
        &[(
            "web",
            &spec("  rollout: {strategy: blueGreen, pause: 10m}\n"),
        )],
    );
    assert!(kind(&docs, "Deployment").is_empty());
    let rollout = only(&docs, "Rollout");
    let bg = &rollout["spec"]["strategy"]["blueGreen"];
    assert_eq!(bg["activeService"], "web");
    assert_eq!(bg["previewService"], "web-preview");
    let services: BTreeSet<&str> = kind(&docs, "Service")
        .iter()
        .map(|s| s["metadata"]["name"].as_str().unwrap())
        .collect();
    assert_eq!(services, BTreeSet::from(["web", "web-preview"]));
    let template = only(&docs, "AnalysisTemplate");
    assert_eq!(
        bg["postPromotionAnalysis"]["templates"][0]["templateName"],
        template["metadata"]["name"]
    );
    // Ten minutes of one-minute measurements, then the old pods go.
    for m in template["spec"]["metrics"].as_array().unwrap() {
        assert_eq!(m["count"], 10, "{m}");
    }
    let schemas = Schemas::load();
    for d in [rollout, template] {
        schemas
            .validate(d)
            .unwrap_or_else(|e| panic!("{} does not validate: {e:#?}", d["kind"]));
    }
}

/// Metric names of a PromQL expression: identifiers right before `{`.
fn metric_names(expr: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let bytes = expr.as_bytes();
    for (i, _) in expr.match_indices('{') {
        let mut j = i;
        while j > 0
            && (bytes[j - 1].is_ascii_alphanumeric()
                || bytes[j - 1] == b'_'
                || bytes[j - 1] == b':')
        {
            j -= 1;
        }
        if j < i && !expr[..j].ends_with('{') {
            out.insert(expr[j..i].to_string());
        }
    }
    out
}

/// Every AnalysisTemplate of the fixtures queries only metrics the service's
/// own dashboard shows: a release is judged on what people look at.
#[test]
fn every_analysis_queries_the_metrics_of_its_dashboard() {
    let mut checked = 0;
    for case in ["storefront"] {
        let docs = render_fixture(case);
        for (path, t) in docs.iter().filter(|(_, d)| d["kind"] == "AnalysisTemplate") {
            let folder = path.rsplit_once('/').unwrap().0;
            let dashboard = docs
                .iter()
                .find(|(p, d)| {
                    p.starts_with(folder) && d["kind"] == "ConfigMap" && p.contains("dashboard")
                })
                .unwrap_or_else(|| panic!("{path}: no dashboard beside it"));
            let text = serde_json::to_string(&dashboard.1["data"]).unwrap();
            for m in t["spec"]["metrics"].as_array().unwrap() {
                let q = m["provider"]["prometheus"]["query"].as_str().unwrap();
                let names = metric_names(q);
                assert!(!names.is_empty(), "{path}: no metric in {q}");
                for n in names {
                    assert!(text.contains(&n), "{path}: `{n}` is not on the dashboard");
                }
            }
            checked += 1;
        }
    }
    assert!(
        checked >= 3,
        "only {checked} AnalysisTemplates in the fixtures"
    );
}
