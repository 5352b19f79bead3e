//! Tracing and logs (docs/observability.md, "Tracing and logs"): with
//! paved.yaml `observability.tracing`, every workload container gets the
//! OpenTelemetry environment and may reach the collector; the dashboard links
//! the service's traces and, with `observability.logs`, its logs. Without
//! them, nothing of it renders.

use crate::support::fixtures::{render_fixture, render_specs, Docs};
use serde_json::{json, Value};

const PLATFORM: &str = "apiVersion: paved.dev/v1\nkind: Platform\nmetadata: {name: acme}\nspec:\n  environments:\n    staging: {cluster: \"https://kubernetes.default.svc\", domain: staging.acme.dev, namespacePrefix: stg-}\n";

const TRACING: &str = "  observability:\n    tracing:\n      endpoint: http://otel-collector.telemetry.svc\n      protocol: http/protobuf\n      sampler: {type: parentbased_traceidratio, ratio: 0.25}\n      collector: {namespace: telemetry, podLabels: {app.kubernetes.io/name: otel-collector}}\n      datasource: {type: tempo, uid: tempo-main}\n    logs:\n      datasource: {type: loki, uid: loki-main}\n";

fn app(name: &str, spec: &str) -> String {
    format!(
        "apiVersion: paved.dev/v1\nkind: Application\nmetadata:\n  name: {name}\n  owner: team-a\n  costCenter: cc-1\nspec:\n{spec}"
    )
}

fn specs() -> Vec<(&'static str, String)> {
    vec![
        (
            "orders",
            app(
                "orders",
                "  image: ghcr.io/acme/orders:1.4.2\n  ports:\n    - {name: http, port: 8080}\n  env:\n    OTEL_TRACES_SAMPLER: always_on\n    LOG_LEVEL: info\n",
            ),
        ),
        (
            "nightly",
            app(
                "nightly",
                "  type: cronjob\n  schedule: \"0 3 * * *\"\n  image: ghcr.io/acme/nightly@sha256:0000000000000000000000000000000000000000000000000000000000000000\n",
            ),
        ),
    ]
}

fn render(extra: &str) -> Docs {
    let specs = specs();
    let refs: Vec<(&str, &str)> = specs.iter().map(|(n, s)| (*n, s.as_str())).collect();
    render_specs(Some(&format!("{PLATFORM}{extra}")), &refs)
}

/// The env list of the one container of the workload in `dir` (a
/// Deployment, the Argo Rollouts `Rollout` in its place, or a CronJob).
fn container_env(docs: &Docs, dir: &str) -> Vec<(String, Value)> {
    let d = docs
        .iter()
        .find(|(p, d)| {
            p.starts_with(&format!("{dir}/"))
                && (d["kind"] == "Deployment" || d["kind"] == "Rollout" || d["kind"] == "CronJob")
        })
        .unwrap_or_else(|| panic!("no workload in {dir}"))
        .1
        .clone();
    let pod = if d["kind"] == "CronJob" {
        &d["spec"]["jobTemplate"]["spec"]["template"]["spec"]
    } else {
        &d["spec"]["template"]["spec"]
    };
    pod["containers"][0]["env"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .into_iter()
        .map(|e| {
            let value = e.get("value").cloned().unwrap_or(Value::Null);
            (e["name"].as_str().unwrap().to_string(), value)
        })
        .collect()
}

fn get<'a>(env: &'a [(String, Value)], name: &str) -> Option<&'a Value> {
    let found: Vec<&Value> = env
        .iter()
        .filter(|(n, _)| n == name)
        .map(|(_, v)| v)
        .collect();
    assert!(found.len() <= 1, "{name} set {} times", found.len());
    found.first().copied()
}

#[test]
fn every_workload_gets_the_opentelemetry_environment_and_its_own_env_wins() {
    let docs = render(TRACING);
    let env = container_env(&docs, "staging/orders");
    assert_eq!(get(&env, "OTEL_SERVICE_NAME"), Some(&json!("orders")));
    assert_eq!(
        get(&env, "OTEL_RESOURCE_ATTRIBUTES"),
        Some(&json!(
            "service.name=orders,service.version=1.4.2,deployment.environment.name=staging,deployment.environment=staging,k8s.namespace.name=stg-orders,team=team-a"
        ))
    );
    // The port the protocol implies is written out, so the NetworkPolicy and the SDK agree.
    assert_eq!(
        get(&env, "OTEL_EXPORTER_OTLP_ENDPOINT"),
        Some(&json!("http://otel-collector.telemetry.svc:4318"))
    );
    assert_eq!(
        get(&env, "OTEL_EXPORTER_OTLP_PROTOCOL"),
        Some(&json!("http/protobuf"))
    );
    // The spec's own value wins, key by key; the platform's other keys stay.
    assert_eq!(get(&env, "OTEL_TRACES_SAMPLER"), Some(&json!("always_on")));
    assert_eq!(get(&env, "OTEL_TRACES_SAMPLER_ARG"), Some(&json!("0.25")));
    assert_eq!(get(&env, "LOG_LEVEL"), Some(&json!("info")));

    // A cronjob too; a digest-only image has no version to report.
    let env = container_env(&docs, "staging/nightly");
    assert_eq!(get(&env, "OTEL_SERVICE_NAME"), Some(&json!("nightly")));
    assert_eq!(
        get(&env, "OTEL_RESOURCE_ATTRIBUTES"),
        Some(&json!(
            "service.name=nightly,deployment.environment.name=staging,deployment.environment=staging,k8s.namespace.name=stg-nightly,team=team-a"
        ))
    );
    assert_eq!(
        get(&env, "OTEL_TRACES_SAMPLER"),
        Some(&json!("parentbased_traceidratio"))
    );

    // Without tracing, no OTEL_ variable but the spec's own.
    let docs = render("");
    for dir in ["staging/orders", "staging/nightly"] {
        let names: Vec<String> = container_env(&docs, dir)
            .into_iter()
            .map(|(n, _)| n)
            .filter(|n| n.starts_with("OTEL_"))
            .collect();
        let want: Vec<String> = if dir == "staging/orders" {
            vec!["OTEL_TRACES_SAMPLER".into()]
        } else {
            vec![]
        };
        assert_eq!(names, want, "{dir}");
    }
}

/// The egress rules of the workload's `<name>-allow-egress` policy that
/// reach into `namespace`.
fn egress_to(docs: &Docs, dir: &str, name: &str, namespace: &str) -> Vec<Value> {
    let np = docs
        .iter()
        .find(|(p, d)| {
            p.starts_with(&format!("{dir}/"))
                && d["kind"] == "NetworkPolicy"
                && d["metadata"]["name"] == format!("{name}-allow-egress").as_str()
        })
        .unwrap_or_else(|| panic!("no egress policy in {dir}"))
        .1
        .clone();
    np["spec"]["egress"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|rule| {
            rule["to"].as_array().is_some_and(|to| {
                to.iter().any(|peer| {
                    peer["namespaceSelector"]["matchLabels"]["kubernetes.io/metadata.name"]
                        == namespace
                })
            })
        })
        .cloned()
        .collect()
}

#[test]
fn workloads_may_reach_the_collector_pods_on_the_otlp_port_only_with_tracing() {
    let docs = render(TRACING);
    for (dir, name) in [("staging/orders", "orders"), ("staging/nightly", "nightly")] {
        assert_eq!(
            egress_to(&docs, dir, name, "telemetry"),
            vec![json!({
                "to": [{
                    "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "telemetry"}},
                    "podSelector": {"matchLabels": {"app.kubernetes.io/name": "otel-collector"}}
                }],
                "ports": [{"port": 4318, "protocol": "TCP"}]
            })],
            "{dir}"
        );
    }
    // gRPC's default port, and an explicit port wins over the default.
    let grpc = TRACING
        .replace("protocol: http/protobuf", "protocol: grpc")
        .replace("http/protobuf", "grpc");
    let docs = render(&grpc);
    assert_eq!(
        egress_to(&docs, "staging/orders", "orders", "telemetry")[0]["ports"],
        json!([{"port": 4317, "protocol": "TCP"}])
    );
    let explicit = grpc.replace("telemetry.svc\n", "telemetry.svc:14317\n");
    let docs = render(&explicit);
    assert_eq!(
        egress_to(&docs, "staging/orders", "orders", "telemetry")[0]["ports"],
        json!([{"port": 14317, "protocol": "TCP"}])
    );
    assert_eq!(
        get(
            &container_env(&docs, "staging/orders"),
            "OTEL_EXPORTER_OTLP_ENDPOINT"
        ),
        Some(&json!("http://otel-collector.telemetry.svc:14317"))
    );
    let docs = render("");
    assert!(egress_to(&docs, "staging/orders", "orders", "telemetry").is_empty());
}

/// The panels of the service's dashboard (ConfigMap form).
fn panels(docs: &Docs, dir: &str) -> Vec<Value> {
    let cm = docs
        .iter()
        .find(|(p, d)| p.starts_with(&format!("{dir}/")) && d["kind"] == "ConfigMap")
        .unwrap_or_else(|| panic!("no dashboard in {dir}"))
        .1
        .clone();
    let text = cm["data"].as_object().unwrap().values().next().unwrap();
    let dash: Value = serde_json::from_str(text.as_str().unwrap()).unwrap();
    dash["panels"].as_array().unwrap().clone()
}

fn by_datasource(panels: &[Value], ty: &str) -> Vec<Value> {
    panels
        .iter()
        .filter(|p| p["datasource"]["type"] == ty)
        .cloned()
        .collect()
}

#[test]
fn the_dashboard_links_traces_and_logs_from_the_configured_datasources() {
    let docs = render(TRACING);
    let p = panels(&docs, "staging/orders");
    let traces = by_datasource(&p, "tempo");
    assert_eq!(traces.len(), 1, "one traces panel");
    assert_eq!(traces[0]["datasource"]["uid"], "tempo-main");
    assert_eq!(traces[0]["targets"][0]["datasource"]["uid"], "tempo-main");
    assert_eq!(traces[0]["targets"][0]["queryType"], "traceql");
    assert_eq!(
        traces[0]["targets"][0]["query"],
        "{resource.service.name=\"orders\" && resource.deployment.environment.name=\"staging\"}"
    );
    let logs = by_datasource(&p, "loki");
    assert_eq!(logs.len(), 2, "a logs panel and an error-log rate panel");
    assert!(logs.iter().all(|l| l["datasource"]["uid"] == "loki-main"
        && l["targets"][0]["datasource"]["uid"] == "loki-main"));
    assert_eq!(logs[0]["type"], "logs");
    assert_eq!(
        logs[0]["targets"][0]["expr"],
        "{namespace=\"stg-orders\", container=\"orders\"}"
    );
    assert_eq!(logs[1]["type"], "timeseries");
    assert_eq!(
        logs[1]["targets"][0]["expr"],
        "sum(rate({namespace=\"stg-orders\", container=\"orders\"} |~ `(?i)error` [5m]))"
    );
    // Panel ids stay unique and in layout order.
    let ids: Vec<u64> = p.iter().map(|x| x["id"].as_u64().unwrap()).collect();
    assert_eq!(ids, (1..=ids.len() as u64).collect::<Vec<_>>());

    // Jaeger: a search by service, and configurable log labels.
    let jaeger = TRACING
        .replace("type: tempo, uid: tempo-main", "type: jaeger, uid: jaeger-main")
        .replace(
            "      datasource: {type: loki, uid: loki-main}\n",
            "      datasource: {type: loki, uid: loki-main}\n      namespaceLabel: k8s_namespace_name\n      containerLabel: k8s_container_name\n      errorPattern: \"level=(error|fatal)\"\n",
        );
    let docs = render(&jaeger);
    let p = panels(&docs, "staging/orders");
    let traces = by_datasource(&p, "jaeger");
    assert_eq!(traces.len(), 1);
    assert_eq!(traces[0]["targets"][0]["datasource"]["uid"], "jaeger-main");
    assert_eq!(traces[0]["targets"][0]["queryType"], "search");
    assert_eq!(traces[0]["targets"][0]["service"], "orders");
    let logs = by_datasource(&p, "loki");
    assert_eq!(
        logs[1]["targets"][0]["expr"],
        "sum(rate({k8s_namespace_name=\"stg-orders\", k8s_container_name=\"orders\"} |~ `level=(error|fatal)` [5m]))"
    );

    // Nothing of it without the configuration.
    let docs = render("");
    let p = panels(&docs, "staging/orders");
    assert!(p.iter().all(|x| x["datasource"]["type"] == "prometheus"));
}

#[test]
fn the_storefront_fixture_traces_and_the_commerce_fixture_does_not() {
    let docs = render_fixture("storefront");
    let env = container_env(&docs, "production/web");
    assert!(get(&env, "OTEL_SERVICE_NAME").is_some());
    let docs = render_fixture("commerce");
    for (p, d) in &docs {
        let text = d.to_string();
        assert!(!text.contains("OTEL_"), "{p}");
        assert!(!text.contains("\"loki\""), "{p}");
    }
}

#[test]
fn the_collectors_namespace_is_a_platform_namespace_the_policies_exempt() {
    let excluded = |docs: &Docs| -> Vec<Vec<Value>> {
        docs.iter()
            .filter(|(_, d)| {
                d["apiVersion"]
                    .as_str()
                    .is_some_and(|a| a.starts_with("constraints.gatekeeper.sh/"))
            })
            .map(|(_, d)| {
                d["spec"]["match"]["excludedNamespaces"]
                    .as_array()
                    .cloned()
                    .unwrap_or_default()
            })
            .collect()
    };
    let with = excluded(&render(TRACING));
    assert!(!with.is_empty(), "no Constraint rendered");
    for list in &with {
        assert!(list.contains(&json!("telemetry")), "{list:?}");
    }
    for list in excluded(&render("")) {
        assert!(!list.contains(&json!("telemetry")), "{list:?}");
    }
}
