//! Infrastructure, governance, observability and portal outputs (issue 4):
//! what the Crossplane, Gatekeeper, Grafana, Prometheus and Backstage
//! blueprints mean, checked on freshly rendered output, and the compile-time
//! policy twin checked against the same hand-made bad resources the Rego must
//! reject. The golden tests pin the bytes; these pin the behaviour.

use std::collections::{BTreeMap, BTreeSet};

use crate::support::fixtures::{
    copy_case, documents, paved, render, render_fixture, render_specs, root, Docs,
};
use crate::support::schemas::Schemas;
use serde_json::{json, Value};

fn of_kind<'a>(docs: &'a Docs, kind: &str) -> Vec<&'a (String, Value)> {
    docs.iter().filter(|(_, d)| d["kind"] == kind).collect()
}

fn one<'a>(docs: &'a Docs, path: &str) -> &'a Value {
    docs.iter()
        .find(|(p, _)| p == path)
        .map(|(_, d)| d)
        .unwrap_or_else(|| {
            let paths: Vec<&String> = docs.iter().map(|(p, _)| p).collect();
            panic!("{path} was not rendered; rendered: {paths:#?}")
        })
}

/// The Grafana dashboard model carried by a ConfigMap or a GrafanaDashboard.
fn dashboard_json(doc: &Value) -> Value {
    let text = match doc["kind"].as_str() {
        Some("ConfigMap") => doc["data"]
            .as_object()
            .and_then(|d| d.values().next())
            .and_then(Value::as_str),
        _ => doc["spec"]["json"].as_str(),
    };
    serde_json::from_str(text.expect("dashboard JSON")).expect("valid dashboard JSON")
}

/// The commerce fixture rendered without its price table and budgets (the
/// last lines of its paved.yaml, from the `cost` comment on).
fn commerce_without_prices() -> Docs {
    let dir = copy_case(&root().join("fixtures/commerce/input"));
    let path = dir.path().join("paved.yaml");
    let text = std::fs::read_to_string(&path).unwrap();
    let cut = text
        .find("  # The prices of `paved cost`")
        .expect("the cost block");
    assert!(text[cut..].contains("cost:") && !text[..cut].contains("\n  cost:"));
    std::fs::write(&path, &text[..cut]).unwrap();
    let out = render(dir.path());
    documents(out.path())
}

const SERVICE: &str = "apiVersion: paved.dev/v1
kind: Application
metadata: {name: NAME, owner: team-a, costCenter: cc-1}
spec:
  image: ghcr.io/acme/app:1.0.0
  ports: [{name: http, port: 8080}]
";

// ---------------------------------------------------------------- Crossplane

#[test]
fn every_resource_becomes_a_namespaced_xr_of_its_type_in_each_environment() {
    let docs = render_fixture("commerce");
    for (env, storage) in [("staging", 50), ("production", 200)] {
        let db = one(
            &docs,
            &format!("{env}/checkout/postgresqlinstance-checkout-db.yaml"),
        );
        assert_eq!(db["apiVersion"], "platform.acme.dev/v1alpha1");
        assert_eq!(db["metadata"]["namespace"], "checkout");
        assert_eq!(db["spec"]["parameters"]["version"], "16");
        // The production override of storageGB applies only there.
        assert_eq!(db["spec"]["parameters"]["storageGB"], storage);
        assert_eq!(
            db["spec"]["connectionSecret"]["name"],
            "checkout-db-connection"
        );
    }
    // The class comes from the environment unless the resource sets its own.
    let class = |path: &str| one(&docs, path)["spec"]["parameters"]["class"].clone();
    assert_eq!(
        class("staging/checkout/redisinstance-sessions.yaml"),
        "small"
    );
    assert_eq!(
        class("production/checkout/redisinstance-sessions.yaml"),
        "standard"
    );
    assert_eq!(
        class("staging/inventory/postgresqlinstance-inventory-db.yaml"),
        "large"
    );
    // A bucket carries only its class; nightly-report runs in production only.
    let bucket = one(&docs, "production/nightly-report/bucket-reports.yaml");
    assert_eq!(bucket["spec"]["parameters"], json!({"class": "small"}));
    assert!(!docs
        .iter()
        .any(|(p, _)| p.starts_with("staging/nightly-report/")));
}

#[test]
fn xrds_cover_the_types_in_use_and_accept_exactly_what_paved_renders() {
    let docs = render_fixture("commerce");
    let xrds = of_kind(&docs, "CompositeResourceDefinition");
    let kinds: BTreeSet<&str> = xrds
        .iter()
        .map(|(_, d)| d["spec"]["names"]["kind"].as_str().unwrap())
        .collect();
    assert_eq!(
        kinds,
        BTreeSet::from(["Bucket", "PostgreSQLInstance", "RedisInstance"])
    );
    for (path, xrd) in &xrds {
        assert!(path.starts_with("platform/crossplane/"), "{path}");
        assert_eq!(xrd["apiVersion"], "apiextensions.crossplane.io/v2");
        assert_eq!(xrd["spec"]["scope"], "Namespaced");
        assert!(xrd["spec"].get("claimNames").is_none());
        // The parameters are the ones the spec allows for the type, no more.
        let kind = xrd["spec"]["names"]["kind"].as_str().unwrap();
        let rtype = match kind {
            "PostgreSQLInstance" => "postgresql",
            "RedisInstance" => "redis",
            _ => "bucket",
        };
        let schema = &xrd["spec"]["versions"][0]["schema"]["openAPIV3Schema"];
        let params: BTreeSet<&str> = schema["properties"]["spec"]["properties"]["parameters"]
            ["properties"]
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        let allowed: BTreeSet<&str> =
            paved::testing::validate::semantic::resource_parameters(rtype)
                .iter()
                .copied()
                .collect();
        assert_eq!(params, allowed, "{kind}");
        // The connection-secret contract names the keys the placeholders read.
        let secret_doc = schema["properties"]["spec"]["properties"]["connectionSecret"]
            ["description"]
            .as_str()
            .unwrap();
        let keys = paved::testing::placeholder::connection_keys(rtype).join(", ");
        assert!(secret_doc.contains(&keys), "{kind}: {secret_doc}");
    }

    // Every XR validates against the XRD Paved rendered; one field more does not.
    let mut schemas = Schemas::load();
    for (_, d) in &docs {
        schemas.register_rendered(d);
    }
    let mut xr = one(
        &docs,
        "production/checkout/postgresqlinstance-checkout-db.yaml",
    )
    .clone();
    assert_eq!(schemas.validate(&xr), Ok(()));
    xr["spec"]["parameters"]["iops"] = json!(3000);
    assert!(
        schemas.validate(&xr).is_err(),
        "an unknown parameter must be refused"
    );
    let mut xr = one(&docs, "production/checkout/bucket-receipts.yaml").clone();
    xr["spec"]["parameters"]["storageGB"] = json!(10);
    assert!(
        schemas.validate(&xr).is_err(),
        "a bucket takes no storageGB"
    );
}

// ---------------------------------------------------------------- Gatekeeper

#[test]
fn gatekeeper_constraints_are_the_policy_rules_with_paved_yaml_parameters() {
    let docs = render_fixture("commerce");
    let constraints: BTreeMap<&str, &Value> = docs
        .iter()
        .filter(|(_, d)| d["apiVersion"] == "constraints.gatekeeper.sh/v1beta1")
        .map(|(_, d)| (d["kind"].as_str().unwrap(), d))
        .collect();
    let templates: BTreeSet<&str> = of_kind(&docs, "ConstraintTemplate")
        .iter()
        .map(|(_, d)| d["spec"]["crd"]["spec"]["names"]["kind"].as_str().unwrap())
        .collect();
    let rules: BTreeSet<&str> = paved::testing::policy::RULES
        .iter()
        .map(|r| r.kind)
        .collect();
    assert_eq!(constraints.keys().copied().collect::<BTreeSet<_>>(), rules);
    assert_eq!(templates, rules);
    assert_eq!(
        constraints["PavedAllowedRegistries"]["spec"]["parameters"],
        json!({"registries": ["ghcr.io/acme/"]})
    );
    assert_eq!(
        constraints["PavedRequiredLabels"]["spec"]["parameters"],
        json!({"labels": ["owner", "cost-center"]})
    );
    for c in constraints.values() {
        assert_eq!(c["spec"]["enforcementAction"], "deny");
        let excluded = c["spec"]["match"]["excludedNamespaces"].as_array().unwrap();
        assert!(excluded.contains(&json!("crossplane-system")));
    }
    for (_, t) in of_kind(&docs, "ConstraintTemplate") {
        let source = &t["spec"]["targets"][0]["code"][0]["source"];
        assert_eq!(source["version"], "v1", "Rego v1 only");
        assert!(t["spec"]["targets"][0].get("rego").is_none());
    }
}

#[test]
fn an_empty_registry_list_renders_no_registry_policy_and_dryrun_reaches_constraints() {
    let docs = render_fixture("grafana-operator");
    assert!(!docs
        .iter()
        .any(|(_, d)| d["kind"] == "PavedAllowedRegistries"
            || d["spec"]["crd"]["spec"]["names"]["kind"] == "PavedAllowedRegistries"));
    for (_, d) in docs
        .iter()
        .filter(|(_, d)| d["apiVersion"] == "constraints.gatekeeper.sh/v1beta1")
    {
        assert_eq!(d["spec"]["enforcementAction"], "dryrun");
        assert_eq!(
            d["spec"]["match"]["excludedNamespaces"],
            // The platform components' namespaces (with tracing, the
            // collector's `tracing`), then the config's own list; sorted,
            // each once.
            json!([
                "argocd",
                "cert-manager",
                "crossplane-system",
                "external-secrets",
                "gatekeeper-system",
                "ingress-nginx",
                "kube-*",
                "kube-system",
                "monitoring",
                "tracing"
            ])
        );
    }
}

/// The same hand-made objects the Rego must reject (tests/conformance/gatekeeper-bad)
/// break exactly the compile-time rule whose Constraint kind they name: the twin
/// and the admission policy agree on them.
#[test]
fn the_compile_time_twin_rejects_the_gatekeeper_bad_corpus_by_the_same_rule() {
    let platform = paved::testing::model::Platform::from_json(json!({
        "metadata": {"name": "t"},
        "spec": {
            "environments": {"staging": {"cluster": "in-cluster", "domain": "a.dev"}},
            "allowedRegistries": ["ghcr.io/acme/"],
            "requiredLabels": ["owner", "cost-center"],
        }
    }))
    .unwrap();
    // No blueprint texts: the objects are hand-made.
    let blueprints = BTreeMap::new();
    let dir = root().join("tests/conformance/gatekeeper-bad");
    let mut checked = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_none_or(|e| e != "yaml") {
            continue;
        }
        let text = std::fs::read_to_string(&path).unwrap();
        let expected = text
            .lines()
            .find_map(|l| l.strip_prefix("# expect: "))
            .unwrap_or_else(|| panic!("{}: no `# expect:` line", path.display()))
            .trim();
        let v: Value = serde_yaml::from_str(&text).unwrap();
        let doc = paved::testing::normalize::Doc {
            api_version: v["apiVersion"].as_str().unwrap().into(),
            kind: v["kind"].as_str().unwrap().into(),
            name: v["metadata"]["name"].as_str().unwrap().into(),
            namespace: v["metadata"]["namespace"].as_str().map(String::from),
            blueprint: "hand-made".into(),
            value: v,
        };
        let fired: BTreeSet<&str> =
            paved::testing::policy::check(&platform, std::slice::from_ref(&doc), &blueprints, None)
                .iter()
                .map(|d| {
                    paved::testing::policy::RULES
                        .iter()
                        .find(|r| r.code == d.code)
                        .unwrap()
                        .kind
                })
                .collect();
        assert_eq!(
            fired,
            BTreeSet::from([expected]),
            "{}: the compile-time rules that fire",
            path.display()
        );
        checked += 1;
    }
    assert!(checked >= 10, "only {checked} bad resources");
}

#[test]
fn paved_policy_lists_every_rule_with_its_parameters() {
    let input = root().join("fixtures/commerce/input");
    let out = paved()
        .args(["policy", "--format", "json"])
        .arg(&input)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let rules: Vec<Value> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let ids: Vec<&str> = rules.iter().map(|r| r["id"].as_str().unwrap()).collect();
    let mut want: Vec<&str> = paved::testing::policy::RULES.iter().map(|r| r.id).collect();
    // The budget rule (docs/cost.md) comes last: it is not a Gatekeeper rule.
    want.push("budgets");
    assert_eq!(ids, want);
    let registries = &rules[1];
    assert_eq!(
        registries["parameters"],
        json!({"registries": ["ghcr.io/acme/"]})
    );
    assert_eq!(registries["enabled"], true);

    // Human output names the platform's enforcement and marks rules that are off.
    let out = paved()
        .args(["policy"])
        .arg(root().join("fixtures/grafana-operator/input"))
        .output()
        .unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("enforced by Gatekeeper (dryrun)"), "{text}");
    assert!(text.contains("allowed-registries (off)"), "{text}");
    assert!(text.contains("labels: [owner, cost-center]"), "{text}");

    // A broken platform config is a finding (exit 1), a missing path a fault (exit 2).
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("paved.yaml"),
        "apiVersion: paved.dev/v1\nkind: Platform\nmetadata: {name: a}\nspec:\n  environments: {}\n  policy: {enforcementAction: block}\n",
    )
    .unwrap();
    let out = paved().arg("policy").arg(dir.path()).output().unwrap();
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = paved().args(["policy", "no/such/folder"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn paved_policy_lists_the_budget_rule_with_its_budgets_and_severity() {
    let case = root().join("fixtures/invalid/over-budget-error");
    let out = paved()
        .args(["policy", "--format", "json"])
        .arg(&case)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    let rule: Value = serde_json::from_str(text.lines().last().unwrap()).unwrap();
    assert_eq!(rule["id"], "budgets");
    assert_eq!(rule["code"], "paved::policy::over-budget");
    assert_eq!(rule["enabled"], true);
    assert_eq!(rule["enforcement"], "error");
    assert_eq!(rule["currency"], "EUR");
    assert_eq!(
        rule["budgets"],
        json!([
            {"scope": "team", "name": "team-orders", "environment": "staging", "monthly": "100.00"},
            {"scope": "team", "name": "team-orders", "environment": "production", "monthly": "30.00"}
        ])
    );
    let out = paved()
        .args(["policy"])
        .arg(root().join("fixtures/invalid/over-budget-warn"))
        .output()
        .unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("budgets\n"), "{text}");
    assert!(
        text.contains("code: paved::policy::over-budget  severity: warn"),
        "{text}"
    );
    assert!(
        text.contains("service orders in production: 50.00 EUR"),
        "{text}"
    );
    // Without a price table, the rule is off.
    let out = paved()
        .args(["policy"])
        .arg(root().join("fixtures/grafana-operator/input"))
        .output()
        .unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("budgets (off)"), "{text}");
}

// ---------------------------------------------------------------- Grafana

#[test]
fn dashboards_have_stable_short_uids_and_a_deterministic_layout() {
    // 45 characters: with "-production" past Grafana's 40.
    let long = "a-service-with-a-name-long-enough-to-need-fit";
    let docs = render_specs(None, &[(long, &SERVICE.replace("NAME", long))]);
    let mut uids = BTreeSet::new();
    for (path, d) in of_kind(&docs, "ConfigMap") {
        assert_eq!(d["metadata"]["labels"]["grafana_dashboard"], "1", "{path}");
        let dash = dashboard_json(d);
        let uid = dash["uid"].as_str().unwrap();
        assert!(uid.len() <= 40, "{uid}");
        assert!(uid.starts_with("a-service-with-a-name"), "{uid}");
        assert!(uids.insert(uid.to_string()), "uid {uid} is not unique");
        let data_key = d["data"].as_object().unwrap().keys().next().unwrap();
        assert_eq!(data_key, &format!("{uid}.json"));

        // Ids count from 1 in layout order; panels tile the grid without overlap.
        let panels = dash["panels"].as_array().unwrap();
        let ids: Vec<u64> = panels.iter().map(|p| p["id"].as_u64().unwrap()).collect();
        assert_eq!(ids, (1..=panels.len() as u64).collect::<Vec<_>>());
        let mut cells = BTreeSet::new();
        for p in panels {
            let g = &p["gridPos"];
            let (x, y, w, h) = (
                g["x"].as_u64().unwrap(),
                g["y"].as_u64().unwrap(),
                g["w"].as_u64().unwrap(),
                g["h"].as_u64().unwrap(),
            );
            assert!(x + w <= 24);
            for cx in x..x + w {
                for cy in y..y + h {
                    assert!(
                        cells.insert((cx, cy)),
                        "panels overlap at {cx},{cy} in {path}"
                    );
                }
            }
        }
    }
    assert_eq!(uids.len(), 2, "one dashboard per environment");
    // The same input renders the same uids again.
    let again = render_specs(None, &[(long, &SERVICE.replace("NAME", long))]);
    assert_eq!(docs, again);
}

#[test]
fn dashboards_show_http_panels_only_for_services_and_a_panel_for_dependencies() {
    let docs = render_fixture("commerce");
    let titles = |path: &str| -> Vec<String> {
        dashboard_json(one(&docs, path))["panels"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["title"].as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(
        titles("production/checkout/configmap-checkout-dashboard.yaml"),
        [
            "Request rate",
            "Error rate",
            "Latency",
            "CPU requested vs used",
            "Memory requested vs used",
            "Restarts",
            "Monthly cost: requested vs used",
            "Monthly idle cost",
            "Dependencies: error rate"
        ]
    );
    // A worker serves no requests, but its dependency's errors still matter.
    assert_eq!(
        titles("production/order-events/configmap-order-events-dashboard.yaml"),
        [
            "CPU requested vs used",
            "Memory requested vs used",
            "Restarts",
            "Monthly cost: requested vs used",
            "Monthly idle cost",
            "Dependencies: error rate"
        ]
    );
    // One target per dependency, selecting it by the configured service label.
    let checkout = dashboard_json(one(
        &docs,
        "staging/checkout/configmap-checkout-dashboard.yaml",
    ));
    let deps = &checkout["panels"][8]["targets"];
    let legends: Vec<&str> = deps
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["legendFormat"].as_str().unwrap())
        .collect();
    assert_eq!(legends, ["inventory", "payments"]);
    assert!(deps[0]["expr"]
        .as_str()
        .unwrap()
        .contains(r#"service_name="inventory", namespace="inventory""#));
    let latency: Vec<&str> = checkout["panels"][2]["targets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["expr"].as_str().unwrap())
        .collect();
    assert!(latency[0].starts_with("histogram_quantile(0.5, "));
    assert!(latency[2].starts_with("histogram_quantile(0.99, "));
    // `dashboard: none` renders no dashboard.
    assert!(!docs
        .iter()
        .any(|(p, d)| p.contains("/nightly-report/") && d["kind"] == "ConfigMap"));
}

/// With a price table, each dashboard prices what the pods request and
/// what they use, at paved.yaml's prices written as PromQL literals, and
/// shows the difference: the idle cost, CPU and memory stacked (their sum
/// is the top of the stack). Without one, no cost panel and no price.
#[test]
fn dashboards_price_requested_and_used_resources_with_the_price_table() {
    let docs = render_fixture("commerce");
    let dash = dashboard_json(one(
        &docs,
        "staging/checkout/configmap-checkout-dashboard.yaml",
    ));
    let panels = dash["panels"].as_array().unwrap();
    let panel = |title: &str| -> &Value {
        panels
            .iter()
            .find(|p| p["title"] == title)
            .unwrap_or_else(|| panic!("no panel {title:?} in {panels:#?}"))
    };
    let exprs = |p: &Value| -> Vec<(String, String)> {
        p["targets"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| {
                (
                    t["legendFormat"].as_str().unwrap().to_string(),
                    t["expr"].as_str().unwrap().to_string(),
                )
            })
            .collect()
    };
    let ctr = r#"namespace="checkout", container="checkout""#;
    let req =
        |r: &str| format!(r#"sum(kube_pod_container_resource_requests{{{ctr}, resource="{r}"}})"#);
    let cpu_used =
        format!("sum(rate(container_cpu_usage_seconds_total{{{ctr}}}[$__rate_interval]))");
    let mem_used = format!("sum(container_memory_working_set_bytes{{{ctr}}})");
    // Requested against used, per resource, as kube-state-metrics and
    // cAdvisor report them for the service's container.
    let cpu = exprs(panel("CPU requested vs used"));
    assert_eq!(cpu[0], ("used".to_string(), cpu_used.clone()));
    assert_eq!(cpu[1], ("requested".to_string(), req("cpu")));
    let memory = exprs(panel("Memory requested vs used"));
    assert_eq!(memory[0], ("used".to_string(), mem_used.clone()));
    assert_eq!(memory[1], ("requested".to_string(), req("memory")));
    // paved.yaml: cpuPerCoreHour 0.04, memoryPerGiBHour 0.005, a month of
    // 730 hours; memory in bytes / 2^30 = GiB. The cost panels count only
    // Running pods (as kubernetes-mixin does): a finished job's or an
    // evicted pod's requests cost nothing and are not idle cost.
    let req = |r: &str| {
        format!(
            r#"sum(kube_pod_container_resource_requests{{{ctr}, resource="{r}"}} * on(namespace, pod) group_left() max by (namespace, pod) (kube_pod_status_phase{{namespace="checkout", phase="Running"}} == 1))"#
        )
    };
    let cost = panel("Monthly cost: requested vs used");
    assert_eq!(cost["fieldConfig"]["defaults"]["unit"], "suffix: EUR");
    assert_eq!(
        exprs(cost),
        [
            (
                "requested".to_string(),
                format!(
                    "({} * 0.04 + {} / 1073741824 * 0.005) * 730",
                    req("cpu"),
                    req("memory")
                )
            ),
            (
                "used".to_string(),
                format!("({cpu_used} * 0.04 + {mem_used} / 1073741824 * 0.005) * 730")
            ),
        ]
    );
    let idle = panel("Monthly idle cost");
    assert_eq!(idle["fieldConfig"]["defaults"]["unit"], "suffix: EUR");
    let cpu_idle = format!("clamp_min({} - {cpu_used}, 0) * 0.04 * 730", req("cpu"));
    let mem_idle = format!(
        "clamp_min({} - {mem_used}, 0) / 1073741824 * 0.005 * 730",
        req("memory")
    );
    assert_eq!(
        exprs(idle),
        [
            ("CPU".to_string(), cpu_idle.clone()),
            ("memory".to_string(), mem_idle.clone()),
        ]
    );
    // The total is the top of the stack: Grafana stacks the two series, so
    // no third query repeats them.
    assert_eq!(
        idle["fieldConfig"]["defaults"]["custom"]["stacking"]["mode"], "normal",
        "{idle:#}"
    );
    // Only the idle panel stacks: requested and used are not parts of a whole.
    assert!(
        cost["fieldConfig"]["defaults"].get("custom").is_none(),
        "{cost:#}"
    );
    // A worker's dashboard has them too; a cronjob with `dashboard: none` none.
    let worker = dashboard_json(one(
        &docs,
        "production/order-events/configmap-order-events-dashboard.yaml",
    ));
    let titles: Vec<&str> = worker["panels"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["title"].as_str().unwrap())
        .collect();
    assert!(titles.contains(&"Monthly idle cost"), "{titles:?}");

    // Without a price table: the resource panels, no cost panel, no price.
    let docs = commerce_without_prices();
    let doc = one(&docs, "staging/checkout/configmap-checkout-dashboard.yaml");
    let dash = dashboard_json(doc);
    let titles: Vec<&str> = dash["panels"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["title"].as_str().unwrap())
        .collect();
    assert!(titles.contains(&"CPU requested vs used"), "{titles:?}");
    assert!(!titles.iter().any(|t| t.contains("cost")), "{titles:?}");
    let text = dash.to_string();
    assert!(!text.contains("0.04") && !text.contains("* 730"), "{text}");
}

/// With `cost.basis: limits`, the dashboards price the limits, as `paved
/// cost` does, and say so in the panel's title.
#[test]
fn dashboards_price_the_limits_when_the_basis_is_limits() {
    let paved = "apiVersion: paved.dev/v1\nkind: Platform\nmetadata: {name: acme}\nspec:\n  environments:\n    staging: {cluster: \"https://kubernetes.default.svc\", domain: staging.acme.dev}\n  cost: {currency: USD, cpuPerCoreHour: 0.031, memoryPerGiBHour: 0.0042, basis: limits}\n";
    let docs = render_specs(
        Some(paved),
        &[("orders", &SERVICE.replace("NAME", "orders"))],
    );
    let dash = dashboard_json(one(&docs, "staging/orders/configmap-orders-dashboard.yaml"));
    let panels = dash["panels"].as_array().unwrap();
    let cost = panels
        .iter()
        .find(|p| p["title"] == "Monthly cost: limits vs used")
        .unwrap_or_else(|| panic!("{panels:#?}"));
    assert_eq!(cost["fieldConfig"]["defaults"]["unit"], "suffix: USD");
    assert_eq!(cost["targets"][0]["legendFormat"], "limits");
    let expr = cost["targets"][0]["expr"].as_str().unwrap();
    assert!(
        expr.starts_with(r#"(sum(kube_pod_container_resource_limits{namespace="orders", container="orders", resource="cpu"} * on(namespace, pod) group_left() max by (namespace, pod) (kube_pod_status_phase{namespace="orders", phase="Running"} == 1)) * 0.031 + "#)
            && expr.ends_with(" / 1073741824 * 0.0042) * 730"),
        "{expr}"
    );
}

#[test]
fn the_grafana_operator_choice_renders_a_grafana_dashboard_with_custom_metric_names() {
    let docs = render_fixture("grafana-operator");
    assert!(of_kind(&docs, "ConfigMap").is_empty());
    let d = one(&docs, "prod/search/grafanadashboard-search.yaml");
    assert_eq!(
        d["spec"]["instanceSelector"]["matchLabels"],
        json!({"grafana": "shared"})
    );
    assert_eq!(d["spec"]["uid"], "search-prod");
    let dash = dashboard_json(d);
    assert_eq!(dash["uid"], "search-prod");
    let rate = dash["panels"][0]["targets"][0]["expr"].as_str().unwrap();
    assert_eq!(
        rate,
        r#"sum by (code) (rate(http_requests_total{app="search", namespace="search"}[$__rate_interval]))"#
    );
}

// ---------------------------------------------------------------- Prometheus

fn rules_of(docs: &Docs, path: &str) -> BTreeMap<String, Vec<Value>> {
    let mut out: BTreeMap<String, Vec<Value>> = BTreeMap::new();
    for g in one(docs, path)["spec"]["groups"].as_array().unwrap() {
        for r in g["rules"].as_array().unwrap() {
            let name = r["alert"].as_str().or(r["record"].as_str()).unwrap();
            out.entry(name.to_string()).or_default().push(r.clone());
        }
    }
    out
}

#[test]
fn slo_alerts_are_the_workbook_multiwindow_multi_burn_rate_alerts() {
    let docs = render_fixture("commerce");
    let rules = rules_of(&docs, "production/checkout/prometheusrule-checkout.yaml");
    for w in ["5m", "30m", "1h", "2h", "6h", "1d", "3d"] {
        assert!(
            rules.contains_key(&format!("service:http_errors:ratio_rate{w}")),
            "{w}"
        );
        assert!(
            rules.contains_key(&format!("service:http_slow_requests:ratio_rate{w}")),
            "{w}"
        );
    }
    let burn = &rules["SLOAvailabilityBudgetBurn"];
    let by_severity: BTreeMap<&str, &str> = burn
        .iter()
        .map(|r| {
            (
                r["labels"]["severity"].as_str().unwrap(),
                r["expr"].as_str().unwrap(),
            )
        })
        .collect();
    // 99.9% leaves a budget of 0.001; page on 14.4x (1h & 5m) or 6x (6h & 30m),
    // ticket on 3x (1d & 2h) or 1x (3d & 6h).
    let page = by_severity["page"];
    for part in [
        "ratio_rate1h{service_name=\"checkout\", namespace=\"checkout\"} > (14.4 * 0.001)",
        "ratio_rate5m{service_name=\"checkout\", namespace=\"checkout\"} > (14.4 * 0.001)",
        "ratio_rate6h{service_name=\"checkout\", namespace=\"checkout\"} > (6 * 0.001)",
        "ratio_rate30m{service_name=\"checkout\", namespace=\"checkout\"} > (6 * 0.001)",
    ] {
        assert!(page.contains(part), "page alert lacks {part}:\n{page}");
    }
    let ticket = by_severity["ticket"];
    for part in [
        "ratio_rate1d",
        "ratio_rate2h",
        "(3 * 0.001)",
        "ratio_rate3d",
        "ratio_rate6h",
        "(1 * 0.001)",
    ] {
        assert!(
            ticket.contains(part),
            "ticket alert lacks {part}:\n{ticket}"
        );
    }
    // The latency objective "p99 under 500ms" is "99% of requests in the 0.5 bucket".
    let slow = rules["service:http_slow_requests:ratio_rate5m"][0]["expr"]
        .as_str()
        .unwrap();
    assert!(slow.contains(r#"le="0.5""#), "{slow}");
    assert!(rules["SLOLatencyBudgetBurn"][0]["expr"]
        .as_str()
        .unwrap()
        .contains("(14.4 * 0.01)"));
    // A whole-second threshold matches both `1` and Prometheus 3's `1.0`.
    let payments = rules_of(&docs, "production/payments/prometheusrule-payments.yaml");
    let slow = payments["service:http_slow_requests:ratio_rate1h"][0]["expr"]
        .as_str()
        .unwrap();
    assert!(slow.contains(r"le=~`1(\.0)?`"), "{slow}");
    // 99.95% leaves 0.0005.
    assert!(payments["SLOAvailabilityBudgetBurn"][0]["expr"]
        .as_str()
        .unwrap()
        .contains("(14.4 * 0.0005)"));
}

#[test]
fn standard_alerts_follow_type_thresholds_and_the_alerts_switch() {
    let docs = render_fixture("commerce");
    let checkout = rules_of(&docs, "staging/checkout/prometheusrule-checkout.yaml");
    // The platform's error threshold; the service's own latency SLO over the platform's default.
    assert!(checkout["HighErrorRate"][0]["expr"]
        .as_str()
        .unwrap()
        .ends_with("> 0.02"));
    assert!(checkout["HighLatencyP99"][0]["expr"]
        .as_str()
        .unwrap()
        .ends_with("> 0.5"));
    assert_eq!(
        checkout["HighErrorRate"][0]["annotations"]["runbook_url"],
        "https://wiki.acme.dev/runbooks/checkout"
    );
    let inventory = rules_of(&docs, "staging/inventory/prometheusrule-inventory.yaml");
    assert!(inventory["HighLatencyP99"][0]["expr"]
        .as_str()
        .unwrap()
        .ends_with("> 0.75"));
    assert!(
        !inventory.contains_key("SLOLatencyBudgetBurn"),
        "no latency SLO given"
    );

    // alerts: false drops the standard alerts, not the SLO the team asked for.
    let payments = rules_of(&docs, "staging/payments/prometheusrule-payments.yaml");
    assert!(!payments.contains_key("HighErrorRate") && !payments.contains_key("CrashLooping"));
    assert!(payments.contains_key("SLOAvailabilityBudgetBurn"));

    // No HTTP alerts for a worker or a cronjob; a failed run alerts for a cronjob.
    let worker = rules_of(
        &docs,
        "staging/order-events/prometheusrule-order-events.yaml",
    );
    assert_eq!(worker.keys().collect::<Vec<_>>(), ["CrashLooping"]);
    let cron = rules_of(
        &docs,
        "production/nightly-report/prometheusrule-nightly-report.yaml",
    );
    assert_eq!(
        cron.keys().collect::<Vec<_>>(),
        ["CrashLooping", "JobFailed"]
    );

    // A worker has no request metrics to measure: its alerts are the
    // crash-looping one only (an `slo` on it is refused, see
    // fixtures/invalid/slo-on-worker).
    let worker = "apiVersion: paved.dev/v1
kind: Application
metadata: {name: mailer, owner: team-a, costCenter: cc-1}
spec:
  type: worker
  image: ghcr.io/acme/mailer:1.0.0
";
    let docs = render_specs(None, &[("mailer", worker)]);
    let rules = rules_of(&docs, "staging/mailer/prometheusrule-mailer.yaml");
    assert_eq!(rules.keys().collect::<Vec<_>>(), ["CrashLooping"]);

    // Nothing to alert on: no PrometheusRule at all.
    let quiet = SERVICE.replace("NAME", "quiet") + "  observability: {alerts: false}\n";
    let docs = render_specs(None, &[("quiet", &quiet)]);
    assert!(of_kind(&docs, "PrometheusRule").is_empty());
}

#[test]
fn services_are_scraped_on_their_metrics_port_and_prometheus_may_reach_it() {
    let docs = render_fixture("commerce");
    let sm = one(&docs, "staging/inventory/servicemonitor-inventory.yaml");
    assert_eq!(sm["spec"]["endpoints"][0]["port"], "metrics");
    assert_eq!(
        sm["spec"]["endpoints"][0]["relabelings"][0],
        json!({"action": "replace", "targetLabel": "service_name", "replacement": "inventory"})
    );
    let np = one(
        &docs,
        "staging/inventory/networkpolicy-inventory-allow-metrics-scrape.yaml",
    );
    assert_eq!(
        np["spec"]["ingress"][0]["ports"],
        json!([{"port": 9090, "protocol": "TCP"}])
    );
    assert_eq!(
        np["spec"]["ingress"][0]["from"][0]["namespaceSelector"]["matchLabels"],
        json!({"kubernetes.io/metadata.name": "monitoring"})
    );
    let sm = one(&docs, "staging/checkout/servicemonitor-checkout.yaml");
    assert_eq!(sm["spec"]["endpoints"][0]["port"], "http");
    // Workers and cronjobs have no Service to scrape through.
    assert!(!docs.iter().any(|(p, d)| d["kind"] == "ServiceMonitor"
        && (p.contains("/order-events/") || p.contains("/nightly-report/"))));
}

// ---------------------------------------------------------------- Backstage

#[test]
fn groups_come_from_paved_unless_the_platform_says_they_are_external() {
    let paved = |groups: &str| {
        format!(
            "apiVersion: paved.dev/v1\nkind: Platform\nmetadata: {{name: acme}}\nspec:\n  environments:\n    staging: {{cluster: \"https://kubernetes.default.svc\", domain: staging.acme.dev}}\n{groups}"
        )
    };
    let svc = SERVICE
        .replace("NAME", "orders")
        .replace("costCenter: cc-1}", "costCenter: cc-1, system: shop}");
    let kinds = |docs: &Docs| -> Vec<(String, String)> {
        docs.iter()
            .filter(|(p, _)| p == "catalog/_platform.yaml")
            .map(|(_, d)| {
                (
                    d["kind"].as_str().unwrap_or("").to_string(),
                    d["metadata"]["name"].as_str().unwrap_or("").to_string(),
                )
            })
            .collect()
    };
    let docs = render_specs(Some(&paved("")), &[("orders", &svc)]);
    assert_eq!(
        kinds(&docs),
        [
            ("Group".into(), "team-a".into()),
            ("System".into(), "shop".into()),
            ("Location".into(), "paved-templates".into())
        ]
    );
    let docs = render_specs(
        Some(&paved("  catalog: {groups: external}\n")),
        &[("orders", &svc)],
    );
    assert_eq!(
        kinds(&docs),
        [
            ("System".to_string(), "shop".to_string()),
            ("Location".to_string(), "paved-templates".to_string())
        ]
    );
    let system = docs.iter().find(|(_, d)| d["kind"] == "System").unwrap();
    assert_eq!(system.1["spec"]["owner"], "group:team-a");
}

#[test]
fn the_catalog_entry_relates_the_component_to_its_resources_and_links_its_outputs() {
    let docs = render_fixture("commerce");
    let entities: Vec<&Value> = docs
        .iter()
        .filter(|(p, _)| p == "catalog/checkout.yaml")
        .map(|(_, d)| d)
        .collect();
    let component = entities[0];
    assert_eq!(component["kind"], "Component");
    assert_eq!(component["spec"]["owner"], "group:team-checkout");
    assert_eq!(component["spec"]["lifecycle"], "production");
    assert_eq!(component["spec"]["system"], "commerce");
    assert_eq!(component["spec"]["providesApis"], json!(["checkout-api"]));
    let annotations = &component["metadata"]["annotations"];
    assert_eq!(
        annotations["paved.dev/source-spec"],
        "checkout/platform.yaml"
    );
    assert_eq!(
        annotations["argocd/app-selector"],
        "paved.dev/service=checkout"
    );
    assert_eq!(
        annotations["paved.dev/grafana-dashboard-uids"],
        "checkout-staging,checkout-production"
    );
    // The API it provides, in the same file, reading its definition file
    // beside the spec from the rendered folder at gitops.path.
    let api = entities.iter().find(|e| e["kind"] == "API").unwrap();
    assert_eq!(api["metadata"]["name"], "checkout-api");
    assert_eq!(api["spec"]["owner"], "group:team-checkout");
    assert_eq!(
        api["spec"]["definition"],
        json!({"$text": "../../checkout/api/openapi.yaml"})
    );
    assert_eq!(
        component["spec"]["consumesApis"],
        json!(["inventory-api", "payments-api"])
    );
    // Every resource: ref is defined in the same file, and points back.
    let resources: Vec<&Value> = entities[1..]
        .iter()
        .copied()
        .filter(|e| e["kind"] == "Resource")
        .collect();
    let names: BTreeSet<String> = resources
        .iter()
        .map(|r| format!("resource:{}", r["metadata"]["name"].as_str().unwrap()))
        .collect();
    let deps: BTreeSet<String> = component["spec"]["dependsOn"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d.as_str().unwrap().to_string())
        .filter(|d| d.starts_with("resource:"))
        .collect();
    assert_eq!(deps, names);
    assert_eq!(
        names,
        BTreeSet::from([
            "resource:checkout-db".to_string(), // already prefixed: kept
            "resource:checkout-receipts".to_string(),
            "resource:checkout-sessions".to_string(),
        ])
    );
    for r in resources {
        assert_eq!(r["kind"], "Resource");
        assert_eq!(r["spec"]["dependencyOf"], json!(["component:checkout"]));
        assert_eq!(r["spec"]["owner"], "group:team-checkout");
    }
    // Without a gitops repo there are no Argo CD apps to link.
    let docs = render_fixture("grafana-operator");
    let search = one(&docs, "catalog/search.yaml");
    assert!(search["metadata"]["annotations"]
        .get("argocd/app-selector")
        .is_none());
}

/// With a price table, each Component carries its monthly estimate per
/// environment, from the cost model (`paved cost`'s figures), rounded once;
/// without one, no annotation.
#[test]
fn the_component_carries_its_monthly_estimate_with_a_price_table_only() {
    let docs = render_fixture("commerce");
    let estimate = |service: &str| -> Option<String> {
        let component = docs
            .iter()
            .find(|(p, d)| p == &format!("catalog/{service}.yaml") && d["kind"] == "Component")
            .map(|(_, d)| d)
            .unwrap_or_else(|| panic!("no Component for {service}"));
        component["metadata"]["annotations"]["paved.dev/monthly-cost"]
            .as_str()
            .map(str::to_string)
    };
    // Prices (commerce paved.yaml): 0.04 a core-hour, 0.005 a GiB-hour, 730
    // hours; postgresql 30/60/120 and redis 10/20/40 by class (staging is
    // class small, production standard), a bucket 100 GiB × 0.02 = 2.
    //
    // checkout: 2 to 10 replicas (the default autoscaler).
    //   staging, size medium (250m, 256Mi): (0.25 × 0.04 + 0.25 × 0.005) × 730
    //     = 0.01125 × 730 = 8.2125 a pod; 2 pods 16.425, 10 pods 82.125;
    //     resources: postgresql small 30 + redis small 10 + bucket 2 = 42;
    //     58.425 → 58.43 (half away from zero), 124.125 → 124.13.
    //   production, size large (1, 1Gi): (0.04 + 0.005) × 730 = 32.85 a pod;
    //     65.70 to 328.50; resources: 60 + 20 + 2 = 82; 147.70 to 410.50.
    assert_eq!(
        estimate("checkout").as_deref(),
        Some("staging: 58.43 to 124.13 EUR; production: 147.70 to 410.50 EUR")
    );
    // order-events: a worker, `replicas: 2`, the default compute (100m,
    // 128Mi): (0.1 × 0.04 + 0.125 × 0.005) × 730 = 0.004625 × 730 = 3.37625
    // a pod, 6.7525 for two; its redis: 10 in staging, 20 in production.
    assert_eq!(
        estimate("order-events").as_deref(),
        Some("staging: 16.75 EUR; production: 26.75 EUR")
    );
    // nightly-report: a cronjob in production only, 0 to one pod all month
    // (0 to 3.37625), and its bucket, 2: 2.00 to 5.38.
    assert_eq!(
        estimate("nightly-report").as_deref(),
        Some("production: 2.00 to 5.38 EUR")
    );

    let docs = commerce_without_prices();
    for (path, d) in docs.iter().filter(|(p, _)| p.starts_with("catalog/")) {
        assert!(
            d["metadata"]["annotations"]
                .get("paved.dev/monthly-cost")
                .is_none(),
            "{path}: {d:#}"
        );
    }
}

/// `services` in environment and platform blueprints becomes template values
/// item by item; everything a blueprint can do with a list still works.
#[test]
fn services_list_in_environment_blueprints_behaves_as_a_list() {
    let input = tempfile::tempdir().unwrap();
    let root = input.path();
    std::fs::create_dir_all(root.join("blueprints/environment/inventory")).unwrap();
    std::fs::write(
        root.join("paved.yaml"),
        "apiVersion: paved.dev/v1\nkind: Platform\nmetadata: {name: acme}\nspec:\n  environments:\n    staging: {cluster: in-cluster, domain: staging.acme.dev}\n  blueprints: ./blueprints\n",
    )
    .unwrap();
    std::fs::write(
        root.join("blueprints/environment/inventory/list.yaml"),
        r#"apiVersion: v1
kind: ConfigMap
metadata:
  name: {{ "inventory-" ~ environment.name }}
  namespace: default
data:
  count: {{ services | length | string }}
  first: {{ services[0].name }}
  last: {{ services[-1].name }}
  names: {{ services | map(attribute="name") | join(",") }}
  truthy: {{ "yes" if services else "no" }}
{% for s in services if s.owner == "team-b" %}
  {{ "owner-" ~ s.name }}: {{ s.owner }}
{% endfor %}
  json: {{ services | map(attribute="namespace") | list | tojson }}
"#,
    )
    .unwrap();
    for (name, owner) in [("alpha", "team-a"), ("beta", "team-b"), ("gamma", "team-b")] {
        std::fs::create_dir_all(root.join(name)).unwrap();
        std::fs::write(
            root.join(name).join("platform.yaml"),
            format!("apiVersion: paved.dev/v1\nkind: Application\nmetadata:\n  name: {name}\n  owner: {owner}\n  costCenter: cc-1\nspec:\n  image: ghcr.io/acme/{name}:1.0.0\n  ports:\n    - {{name: http, port: 8080}}\n"),
        )
        .unwrap();
    }
    let out = crate::support::fixtures::render(root);
    let text = std::fs::read_to_string(
        out.path()
            .join("staging/inventory/configmap-inventory-staging.yaml"),
    )
    .unwrap();
    let doc: serde_json::Value = serde_yaml::from_str(&text).unwrap();
    let data = &doc["data"];
    assert_eq!(data["count"], "3", "{text}");
    assert_eq!(data["first"], "alpha");
    assert_eq!(data["last"], "gamma");
    assert_eq!(data["names"], "alpha,beta,gamma");
    assert_eq!(data["truthy"], "yes");
    assert_eq!(data["owner-beta"], "team-b");
    assert_eq!(data["owner-gamma"], "team-b");
    assert!(data.get("owner-alpha").is_none());
    assert_eq!(data["json"], serde_json::json!(["alpha", "beta", "gamma"]));
}
